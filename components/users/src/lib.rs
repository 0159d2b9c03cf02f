//! The `users` service: Vottery's users linked to Sngine accounts, user
//! profiles, RBAC, demographics and activity.
//!
//! `/internal/match` and `/internal/link` are reachable only through service
//! chaining (no public trigger routes them), from `auth`.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Problem, Route, Router};

mod accounts;
mod profile;
mod store;

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Health,
    GetProfile,
    PutProfile,
    Demographics,
    Activity,
    Match,
    Link,
}

static ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/users/health", Endpoint::Health),
    Route::new(Get, "/api/users/profile", Endpoint::GetProfile),
    Route::new(Put, "/api/users/profile", Endpoint::PutProfile),
    Route::new(Get, "/api/users/demographics", Endpoint::Demographics),
    Route::new(Post, "/api/users/activity", Endpoint::Activity),
    Route::new(Post, "/internal/match", Endpoint::Match),
    Route::new(Post, "/internal/link", Endpoint::Link),
];

#[http_service]
async fn handle(request: Request) -> kit::Response {
    let (endpoint, _params) = match kit::route(&Router::new(ROUTES), &request) {
        Ok(found) => found,
        Err(response) => return response,
    };
    match endpoint {
        Endpoint::Health => kit::health("users").await,
        Endpoint::Match => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => accounts::match_contacts(body).await.unwrap_or_else(|e| kit::problem(&e.problem())),
            Err(e) => kit::problem(&e.problem()),
        },
        Endpoint::Link => match kit::json_body(request, kit::MAX_JSON_BODY).await {
            Ok(body) => accounts::link_contacts(body).await.unwrap_or_else(|e| kit::problem(&e.problem())),
            Err(e) => kit::problem(&e.problem()),
        },
        Endpoint::GetProfile => profile::get(request).await.unwrap_or_else(|e| kit::problem(&e.problem())),
        Endpoint::PutProfile => profile::put(request).await.unwrap_or_else(|e| kit::problem(&e.problem())),
        Endpoint::Demographics => kit::problem(&Problem::not_implemented("demographics")),
        Endpoint::Activity => kit::problem(&Problem::not_implemented("activity logging")),
    }
}
