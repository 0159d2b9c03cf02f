//! The `devices` service: Devices, their registration and the sessions opened on them.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Problem, Route, Router};

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Health,
    Register,
    List,
    Update,
    Remove,
    Sessions,
    RevokeSession,
}

static ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/devices/health", Endpoint::Health),
    Route::new(Post, "/api/devices/register", Endpoint::Register),
    Route::new(Get, "/api/devices/list", Endpoint::List),
    Route::new(Put, "/api/devices/update", Endpoint::Update),
    Route::new(Delete, "/api/devices/:id", Endpoint::Remove),
    Route::new(Get, "/api/sessions", Endpoint::Sessions),
    Route::new(Delete, "/api/sessions/:id", Endpoint::RevokeSession),
];

#[http_service]
async fn handle(request: Request) -> kit::Response {
    let (endpoint, _params) = match kit::route(&Router::new(ROUTES), &request) {
        Ok(found) => found,
        Err(response) => return response,
    };
    match endpoint {
        Endpoint::Health => kit::health("devices").await,
        Endpoint::Register => kit::problem(&Problem::not_implemented("device registration")),
        Endpoint::List => kit::problem(&Problem::not_implemented("device listing")),
        Endpoint::Update => kit::problem(&Problem::not_implemented("device updates")),
        Endpoint::Remove => kit::problem(&Problem::not_implemented("device removal")),
        Endpoint::Sessions => kit::problem(&Problem::not_implemented("session management")),
        Endpoint::RevokeSession => kit::problem(&Problem::not_implemented("session management")),
    }
}
