//! The `auth` service: Step 1-3 flow: contact match, one-time codes, WebAuthn, tokens.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Problem, Route, Router};

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Health,
    SendOtp,
    VerifyOtp,
    ResendOtp,
    CaptureBiometric,
    RefreshToken,
    Status,
}

static ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/auth/health", Endpoint::Health),
    Route::new(Post, "/api/auth/send-otp", Endpoint::SendOtp),
    Route::new(Post, "/api/auth/verify-otp", Endpoint::VerifyOtp),
    Route::new(Post, "/api/auth/resend-otp", Endpoint::ResendOtp),
    Route::new(Post, "/api/auth/capture-biometric", Endpoint::CaptureBiometric),
    Route::new(Post, "/api/auth/refresh-token", Endpoint::RefreshToken),
    Route::new(Get, "/api/auth/status", Endpoint::Status),
];

#[http_service]
async fn handle(request: Request) -> kit::Response {
    let (endpoint, _params) = match kit::route(&Router::new(ROUTES), &request) {
        Ok(found) => found,
        Err(response) => return response,
    };
    match endpoint {
        Endpoint::Health => kit::health("auth").await,
        Endpoint::SendOtp => kit::problem(&Problem::not_implemented("email and SMS one-time codes")),
        Endpoint::VerifyOtp => kit::problem(&Problem::not_implemented("email and SMS one-time codes")),
        Endpoint::ResendOtp => kit::problem(&Problem::not_implemented("email and SMS one-time codes")),
        Endpoint::CaptureBiometric => kit::problem(&Problem::not_implemented("WebAuthn biometric enrolment")),
        Endpoint::RefreshToken => kit::problem(&Problem::not_implemented("session tokens")),
        Endpoint::Status => kit::problem(&Problem::not_implemented("verification flow status")),
    }
}
