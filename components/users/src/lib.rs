//! The `users` service: Vottery's users linked to Sngine accounts, user
//! profiles, RBAC, demographics and activity.
//!
//! `/internal/match`, `/internal/link` and `/internal/roles` are reachable
//! only through service chaining (no public trigger routes them), from `auth`.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Route, Router};

mod accounts;
mod activity;
mod demographics;
mod directory;
mod profile;
mod rights;
mod roles;
mod store;

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Health,
    GetProfile,
    PutProfile,
    Export,
    Erase,
    Demographics,
    Consent,
    Directory,
    Member,
    DemographicsSummary,
    Activity,
    History,
    Match,
    Link,
    LiveRoles,
    Roles,
    Grant,
    Revoke,
}

static ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/users/health", Endpoint::Health),
    Route::new(Get, "/api/users/profile", Endpoint::GetProfile),
    Route::new(Put, "/api/users/profile", Endpoint::PutProfile),
    Route::new(Delete, "/api/users/profile", Endpoint::Erase),
    Route::new(Get, "/api/users/profile/export", Endpoint::Export),
    Route::new(Get, "/api/users/demographics", Endpoint::Demographics),
    Route::new(Put, "/api/users/demographics/consent", Endpoint::Consent),
    Route::new(Get, "/api/users/demographics/summary", Endpoint::DemographicsSummary),
    Route::new(Post, "/api/users/activity", Endpoint::Activity),
    Route::new(Get, "/api/users/activity", Endpoint::History),
    Route::new(Post, "/internal/match", Endpoint::Match),
    Route::new(Get, "/api/users", Endpoint::Directory),
    Route::new(Get, "/api/users/:id", Endpoint::Member),
    Route::new(Get, "/api/users/:id/roles", Endpoint::Roles),
    Route::new(Put, "/api/users/:id/roles/:role", Endpoint::Grant),
    Route::new(Delete, "/api/users/:id/roles/:role", Endpoint::Revoke),
    Route::new(Post, "/internal/link", Endpoint::Link),
    Route::new(Post, "/internal/roles", Endpoint::LiveRoles),
];

#[http_service]
async fn handle(request: Request) -> kit::Response {
    let (endpoint, id, role) = match kit::route(&Router::new(ROUTES), &request) {
        Ok((endpoint, params)) => {
            let text = |name: &str| params.get(name).unwrap_or_default().to_owned();
            (endpoint, text("id"), text("role"))
        }
        Err(response) => return response,
    };
    let request_id = kit::request_id(&request);
    let result = match endpoint {
        Endpoint::Health => return kit::health("users").await,
        Endpoint::Match => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => accounts::match_contacts(body).await,
            Err(e) => Err(e.into()),
        },
        Endpoint::Link => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => accounts::link_contacts(body).await,
            Err(e) => Err(e.into()),
        },
        Endpoint::LiveRoles => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => roles::live(body).await,
            Err(e) => Err(e.into()),
        },
        Endpoint::Directory => directory::list(request).await,
        Endpoint::Member => directory::get(request, &id).await,
        Endpoint::Roles => roles::list(request, &id).await,
        Endpoint::Grant => roles::put(request, &id, &role).await,
        Endpoint::Revoke => roles::delete(request, &id, &role).await,
        Endpoint::GetProfile => profile::get(request).await,
        Endpoint::PutProfile => profile::put(request).await,
        Endpoint::Export => rights::export(request).await,
        Endpoint::Erase => rights::erase(request).await,
        Endpoint::Demographics => demographics::get(request).await,
        Endpoint::Consent => demographics::consent(request).await,
        Endpoint::DemographicsSummary => demographics::summary(request).await,
        Endpoint::Activity => activity::record(request).await,
        Endpoint::History => activity::list(request).await,
    };
    kit::respond("users", &request_id, result)
}
