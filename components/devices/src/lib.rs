//! The `devices` service: devices, their registration and the sessions
//! opened on them.
//!
//! Routes under `/internal/` are reachable only through service chaining
//! (no public trigger routes them), from `auth`.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Problem, Route, Router};

mod registry;
mod sessions;

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Health,
    Register,
    List,
    Update,
    Remove,
    Sessions,
    RevokeSession,
    OpenSession,
    RefreshSession,
    RevokeSessionByToken,
    RegisterDevice,
    CurrentSession,
}

static ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/devices/health", Endpoint::Health),
    Route::new(Post, "/api/devices/register", Endpoint::Register),
    Route::new(Get, "/api/devices/list", Endpoint::List),
    Route::new(Put, "/api/devices/update", Endpoint::Update),
    Route::new(Delete, "/api/devices/:id", Endpoint::Remove),
    Route::new(Get, "/api/sessions", Endpoint::Sessions),
    Route::new(Get, "/api/sessions/current", Endpoint::CurrentSession),
    Route::new(Delete, "/api/sessions/:id", Endpoint::RevokeSession),
    Route::new(Post, "/internal/sessions", Endpoint::OpenSession),
    Route::new(Post, "/internal/sessions/refresh", Endpoint::RefreshSession),
    Route::new(Post, "/internal/sessions/revoke", Endpoint::RevokeSessionByToken),
    Route::new(Post, "/internal/devices", Endpoint::RegisterDevice),
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
        Endpoint::Sessions | Endpoint::CurrentSession => {
            let Some(member) = sessions::Member::from_headers(&request) else {
                return kit::problem(&Problem::new(401, "token_missing", "Unauthorized"));
            };
            match endpoint {
                Endpoint::CurrentSession => sessions::current(&member),
                _ => sessions::list(&member).await.unwrap_or_else(|e| kit::problem(&e.problem())),
            }
        }
        Endpoint::RevokeSession => kit::problem(&Problem::not_implemented("session management")),
        Endpoint::OpenSession => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => sessions::open_session(body).await.unwrap_or_else(|e| kit::problem(&e.problem())),
            Err(e) => kit::problem(&e.problem()),
        },
        Endpoint::RefreshSession => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => sessions::refresh(body).await.unwrap_or_else(|e| kit::problem(&e.problem())),
            Err(e) => kit::problem(&e.problem()),
        },
        Endpoint::RegisterDevice => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => registry::register(body).await.unwrap_or_else(|e| kit::problem(&e.problem())),
            Err(e) => kit::problem(&e.problem()),
        },
        Endpoint::RevokeSessionByToken => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => sessions::revoke(body).await.unwrap_or_else(|e| kit::problem(&e.problem())),
            Err(e) => kit::problem(&e.problem()),
        },
    }
}
