//! The `users` service: User profiles, RBAC, demographics and activity, linked to Sngine accounts.

use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Problem, Route, Router};

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Health,
    GetProfile,
    PutProfile,
    Demographics,
    Activity,
}

static ROUTES: &[Route<Endpoint>] = &[
    Route::new(Get, "/api/users/health", Endpoint::Health),
    Route::new(Get, "/api/users/profile", Endpoint::GetProfile),
    Route::new(Put, "/api/users/profile", Endpoint::PutProfile),
    Route::new(Get, "/api/users/demographics", Endpoint::Demographics),
    Route::new(Post, "/api/users/activity", Endpoint::Activity),
];

#[http_service]
async fn handle(request: Request) -> kit::Response {
    let (endpoint, _params) = match kit::route(&Router::new(ROUTES), &request) {
        Ok(found) => found,
        Err(response) => return response,
    };
    match endpoint {
        Endpoint::Health => kit::health("users").await,
        Endpoint::GetProfile => kit::problem(&Problem::not_implemented("user profiles")),
        Endpoint::PutProfile => kit::problem(&Problem::not_implemented("user profiles")),
        Endpoint::Demographics => kit::problem(&Problem::not_implemented("demographics")),
        Endpoint::Activity => kit::problem(&Problem::not_implemented("activity logging")),
    }
}
