//! The `auth` service: steps 1-2 (contact match, email and SMS one-time
//! codes) of the verification flow described in `vottery-auth-core`; step 3
//! (WebAuthn) and sessions follow.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Problem, Route, Router};

mod delivery;
mod ops;
mod session;
mod settings;
mod store;

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Health,
    SendOtp,
    VerifyOtp,
    ResendOtp,
    CaptureBiometric,
    RefreshToken,
    Logout,
    Status,
}

static ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/auth/health", Endpoint::Health),
    Route::new(Post, "/api/auth/send-otp", Endpoint::SendOtp),
    Route::new(Post, "/api/auth/verify-otp", Endpoint::VerifyOtp),
    Route::new(Post, "/api/auth/resend-otp", Endpoint::ResendOtp),
    Route::new(Post, "/api/auth/capture-biometric", Endpoint::CaptureBiometric),
    Route::new(Post, "/api/auth/refresh-token", Endpoint::RefreshToken),
    Route::new(Post, "/api/auth/logout", Endpoint::Logout),
    Route::new(Get, "/api/auth/status", Endpoint::Status),
];

#[http_service]
async fn handle(request: Request) -> kit::Response {
    let (endpoint, _params) = match kit::route(&Router::new(ROUTES), &request) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let result = match endpoint {
        Endpoint::Health => return kit::health("auth").await,
        Endpoint::SendOtp => ops::send_otp(request).await,
        Endpoint::VerifyOtp => ops::verify_otp(request).await,
        Endpoint::ResendOtp => ops::resend_otp(request).await,
        Endpoint::Status => ops::status(request).await,
        Endpoint::CaptureBiometric => return kit::problem(&Problem::not_implemented("WebAuthn biometric enrolment")),
        Endpoint::RefreshToken => {
            return session::refresh(request).await.unwrap_or_else(|fault| kit::problem(&fault.problem()));
        }
        Endpoint::Logout => {
            return session::logout(request).await.unwrap_or_else(|fault| kit::problem(&fault.problem()));
        }
    };
    result.unwrap_or_else(|error| {
        if error.status() >= 500 {
            eprintln!("auth: {} {error}", error.code());
        }
        kit::problem(&error.problem())
    })
}
