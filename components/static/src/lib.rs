//! Public files, behind the gateway like every route: the API's OpenAPI
//! description (`GET /api/openapi.json`), embedded at build time from
//! `openapi/openapi.json` with a strong ETag, so a client revalidates with
//! `If-None-Match` and gets `304` until the description changes.
#![forbid(unsafe_code)]

use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Problem, Route, Router};
use vottery_http::etag;

include!(concat!(env!("OUT_DIR"), "/etag.rs"));

const OPENAPI: &str = include_str!("../../../openapi/openapi.json");

/// Shared caches may keep it for five minutes, then revalidate.
const CACHE: &str = "public, max-age=300, must-revalidate";

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    OpenApi,
}

static ROUTES: &[Route<Endpoint>] = &[Route::new(Get, "/api/openapi.json", Endpoint::OpenApi)];

#[http_service]
async fn handle(request: Request) -> kit::Response {
    match kit::route(&Router::new(ROUTES), &request) {
        Ok((Endpoint::OpenApi, _)) => description(&request),
        Err(response) => response,
    }
}

/// The description, or `304` when the client's copy is current.
fn description(request: &Request) -> kit::Response {
    let current = request.headers().get_all(IF_NONE_MATCH).iter().any(|v| etag::none_match(v.as_bytes(), OPENAPI_ETAG));
    let builder = http::Response::builder().header(ETAG, OPENAPI_ETAG).header(CACHE_CONTROL, CACHE);
    let built = if current {
        builder.status(304).body(String::new())
    } else {
        builder.status(200).header(CONTENT_TYPE, "application/json").body(OPENAPI.to_owned())
    };
    built.unwrap_or_else(|_| kit::problem(&Problem::new(500, "internal_error", "Internal error")))
}
