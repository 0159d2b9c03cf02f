//! The `devices` service: devices, their registration and the sessions
//! opened on them.
//!
//! Routes under `/internal/` are reachable only through service chaining
//! (no public trigger routes them), from `auth` and `users`.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Problem, Route, Router};
use vottery_devices_core::DeviceError;
use vottery_sessions_core::SessionError;

mod cache;
mod member;
mod members;
mod registry;
mod removal;
mod sessions;
mod store;

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
    PlaceOf,
    CurrentSession,
    RevokeOthers,
    ExportMember,
    EraseMember,
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
    Route::new(Post, "/internal/devices/place", Endpoint::PlaceOf),
    Route::new(Post, "/internal/members/export", Endpoint::ExportMember),
    Route::new(Post, "/internal/members/erase", Endpoint::EraseMember),
];

#[http_service]
async fn handle(request: Request) -> kit::Response {
    let (endpoint, id) = match kit::route(&Router::new(ROUTES), &request) {
        Ok((endpoint, params)) => (endpoint, params.get("id").map(str::to_owned).unwrap_or_default()),
        Err(response) => return response,
    };
    use Endpoint::*;
    let request_id = kit::request_id(&request);
    let respond = |result: Result<kit::Response, DeviceError>| kit::respond("devices", &request_id, result);
    let session = |result: Result<kit::Response, SessionError>| kit::respond("devices", &request_id, result);
    match endpoint {
        Health => kit::health("devices").await,
        OpenSession => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => session(sessions::open_session(body).await),
            Err(e) => session(Err(e.into())),
        },
        RefreshSession => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => session(sessions::refresh(body).await),
            Err(e) => session(Err(e.into())),
        },
        RevokeSessionByToken => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => session(sessions::revoke(body).await),
            Err(e) => session(Err(e.into())),
        },
        RegisterDevice => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => respond(registry::register(body).await),
            Err(e) => respond(Err(e.into())),
        },
        PlaceOf => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => respond(registry::place(body).await),
            Err(e) => respond(Err(e.into())),
        },
        ExportMember => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => respond(members::export(body).await),
            Err(e) => respond(Err(e.into())),
        },
        EraseMember => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => respond(members::erase(body).await),
            Err(e) => respond(Err(e.into())),
        },
        Register | List | Update | Remove | Sessions | CurrentSession | RevokeSession | RevokeOthers => {
            // The gateway verified the access token and set these headers.
            let Some(member) = member::Member::from_headers(&request) else {
                return kit::problem(&Problem::new(401, "token_missing", "Unauthorized"));
            };
            match endpoint {
                CurrentSession => sessions::current(&member),
                Register => respond(registry::register_current(&member, request).await),
                Sessions => session(sessions::list(&member).await),
                RevokeSession => session(sessions::revoke_one(&member, &id).await),
                RevokeOthers => session(sessions::revoke_others(&member).await),
                List => respond(registry::list(&member).await),
                Remove => respond(removal::remove(&member, &id).await),
                _ => match kit::json_body(request, kit::MAX_JSON_BODY).await {
                    Ok(body) => respond(registry::update(&member, body).await),
                    Err(e) => respond(Err(e.into())),
                },
            }
        }
    }
}
