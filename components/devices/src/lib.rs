//! The `devices` service: devices, their registration and the sessions
//! opened on them.
//!
//! Routes under `/internal/` are reachable only through service chaining
//! (no public trigger routes them), from `auth`.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Problem, Route, Router};

mod cache;
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
    RevokeOthers,
}

static ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/devices/health", Endpoint::Health),
    Route::new(Post, "/api/devices/register", Endpoint::Register),
    Route::new(Get, "/api/devices/list", Endpoint::List),
    Route::new(Put, "/api/devices/update", Endpoint::Update),
    Route::new(Delete, "/api/devices/:id", Endpoint::Remove),
    Route::new(Get, "/api/sessions", Endpoint::Sessions),
    Route::new(Get, "/api/sessions/current", Endpoint::CurrentSession),
    Route::new(Post, "/api/sessions/revoke-others", Endpoint::RevokeOthers),
    Route::new(Delete, "/api/sessions/:id", Endpoint::RevokeSession),
    Route::new(Post, "/internal/sessions", Endpoint::OpenSession),
    Route::new(Post, "/internal/sessions/refresh", Endpoint::RefreshSession),
    Route::new(Post, "/internal/sessions/revoke", Endpoint::RevokeSessionByToken),
    Route::new(Post, "/internal/devices", Endpoint::RegisterDevice),
];

#[http_service]
async fn handle(request: Request) -> kit::Response {
    let (endpoint, id) = match kit::route(&Router::new(ROUTES), &request) {
        Ok((endpoint, params)) => (endpoint, params.get("id").map(str::to_owned).unwrap_or_default()),
        Err(response) => return response,
    };
    use Endpoint::*;
    let problem = |p: Problem| kit::problem(&p);
    match endpoint {
        Health => kit::health("devices").await,
        OpenSession => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => sessions::open_session(body).await.unwrap_or_else(|e| problem(e.problem())),
            Err(e) => problem(e.problem()),
        },
        RefreshSession => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => sessions::refresh(body).await.unwrap_or_else(|e| problem(e.problem())),
            Err(e) => problem(e.problem()),
        },
        RevokeSessionByToken => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => sessions::revoke(body).await.unwrap_or_else(|e| problem(e.problem())),
            Err(e) => problem(e.problem()),
        },
        RegisterDevice => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => registry::register(body).await.unwrap_or_else(|e| problem(e.problem())),
            Err(e) => problem(e.problem()),
        },
        Register | List | Update | Remove | Sessions | CurrentSession | RevokeSession | RevokeOthers => {
            // The gateway verified the access token and set these headers.
            let Some(member) = sessions::Member::from_headers(&request) else {
                return problem(Problem::new(401, "token_missing", "Unauthorized"));
            };
            match endpoint {
                CurrentSession => sessions::current(&member),
                Register => registry::register_current(&member, request).await.unwrap_or_else(|e| problem(e.problem())),
                Sessions => sessions::list(&member).await.unwrap_or_else(|e| problem(e.problem())),
                RevokeSession => sessions::revoke_one(&member, &id).await.unwrap_or_else(|e| problem(e.problem())),
                RevokeOthers => sessions::revoke_others(&member).await.unwrap_or_else(|e| problem(e.problem())),
                List => registry::list(&member).await.unwrap_or_else(|e| problem(e.problem())),
                Remove => registry::remove(&member, &id).await.unwrap_or_else(|e| problem(e.problem())),
                _ => match kit::json_body(request, kit::MAX_JSON_BODY).await {
                    Ok(body) => registry::update(&member, body).await.unwrap_or_else(|e| problem(e.problem())),
                    Err(e) => problem(e.problem()),
                },
            }
        }
    }
}
