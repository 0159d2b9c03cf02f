//! The `auth` service: steps 1-2 (contact match, email and SMS one-time
//! codes) of the verification flow described in `vottery-auth-core`, step 3
//! (passkeys, `biometric`), and the session endpoints (`session`).

use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Route, Router};

mod biometric;
mod delivery;
mod ops;
mod session;
mod settings;
mod store;
mod wellknown;

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Health,
    SendOtp,
    VerifyOtp,
    ResendOtp,
    EnrolOptions,
    Enrol,
    AssertOptions,
    Assert,
    RemovePasskeys,
    ErasePasskeys,
    ExportPasskeys,
    AssetLinks,
    AppleAssociation,
    RefreshToken,
    Logout,
    Status,
}

static ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/auth/health", Endpoint::Health),
    Route::new(Post, "/api/auth/send-otp", Endpoint::SendOtp),
    Route::new(Post, "/api/auth/verify-otp", Endpoint::VerifyOtp),
    Route::new(Post, "/api/auth/resend-otp", Endpoint::ResendOtp),
    Route::new(Post, "/api/auth/capture-biometric/options", Endpoint::EnrolOptions),
    Route::new(Post, "/api/auth/capture-biometric", Endpoint::Enrol),
    Route::new(Post, "/api/auth/assert-biometric/options", Endpoint::AssertOptions),
    Route::new(Post, "/api/auth/assert-biometric", Endpoint::Assert),
    Route::new(Post, "/internal/passkeys/remove", Endpoint::RemovePasskeys),
    Route::new(Post, "/internal/passkeys/erase", Endpoint::ErasePasskeys),
    Route::new(Post, "/internal/passkeys/export", Endpoint::ExportPasskeys),
    Route::new(Get, "/.well-known/assetlinks.json", Endpoint::AssetLinks),
    Route::new(Get, "/.well-known/apple-app-site-association", Endpoint::AppleAssociation),
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
    let id = kit::request_id(&request);
    let result = match endpoint {
        Endpoint::Health => return kit::health("auth").await,
        Endpoint::SendOtp => ops::send_otp(request).await,
        Endpoint::VerifyOtp => ops::verify_otp(request).await,
        Endpoint::ResendOtp => ops::resend_otp(request).await,
        Endpoint::Status => ops::status(request).await,
        Endpoint::EnrolOptions => return kit::respond("auth", &id, biometric::enrol_options(request).await),
        Endpoint::Enrol => {
            return kit::respond("auth", &id, biometric::published("register", biometric::enrol(request).await).await);
        }
        Endpoint::AssertOptions => return kit::respond("auth", &id, biometric::assert_options(request).await),
        Endpoint::Assert => {
            return kit::respond("auth", &id, biometric::published("assert", biometric::assert(request).await).await);
        }
        Endpoint::RemovePasskeys => return kit::respond("auth", &id, biometric::remove(request).await),
        Endpoint::ErasePasskeys => return kit::respond("auth", &id, biometric::erase(request).await),
        Endpoint::ExportPasskeys => return kit::respond("auth", &id, biometric::export(request).await),
        Endpoint::AssetLinks => return kit::respond("auth", &id, wellknown::asset_links().await),
        Endpoint::AppleAssociation => return kit::respond("auth", &id, wellknown::apple_association().await),
        Endpoint::RefreshToken => return kit::respond("auth", &id, session::refresh(request).await),
        Endpoint::Logout => return kit::respond("auth", &id, session::logout(request).await),
    };
    kit::respond("auth", &id, result)
}
