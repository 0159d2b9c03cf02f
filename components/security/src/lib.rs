//! The `security` service: Key management and the public face of the crypto service.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Problem, Route, Router};

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Health,
    Encrypt,
    Decrypt,
    Sign,
    Verify,
    Keys,
    Jwks,
}

static ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/security/health", Endpoint::Health),
    Route::new(Post, "/api/security/encrypt", Endpoint::Encrypt),
    Route::new(Post, "/api/security/decrypt", Endpoint::Decrypt),
    Route::new(Post, "/api/security/sign", Endpoint::Sign),
    Route::new(Post, "/api/security/verify", Endpoint::Verify),
    Route::new(Get, "/api/security/keys", Endpoint::Keys),
    Route::new(Get, "/.well-known/jwks.json", Endpoint::Jwks),
];

#[http_service]
async fn handle(request: Request) -> kit::Response {
    let (endpoint, _params) = match kit::route(&Router::new(ROUTES), &request) {
        Ok(found) => found,
        Err(response) => return response,
    };
    match endpoint {
        Endpoint::Health => kit::health("security").await,
        Endpoint::Encrypt => kit::problem(&Problem::not_implemented("encryption")),
        Endpoint::Decrypt => kit::problem(&Problem::not_implemented("decryption")),
        Endpoint::Sign => kit::problem(&Problem::not_implemented("signatures")),
        Endpoint::Verify => kit::problem(&Problem::not_implemented("signature verification")),
        Endpoint::Keys => kit::problem(&Problem::not_implemented("key management")),
        Endpoint::Jwks => kit::problem(&Problem::not_implemented("token signing keys (JWKS)")),
    }
}
