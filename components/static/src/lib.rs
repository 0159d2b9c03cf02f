//! Public files, behind the gateway like every route: the API's OpenAPI
//! description (`GET /api/openapi.json`) and the web client (`GET /` and
//! its `/assets/...`), embedded at build time with strong ETags, so a
//! client revalidates with `If-None-Match` and gets `304` until they change.
//! Pages carry their own `Content-Security-Policy` (scripts and styles of
//! the app's origin only, no inline script); the gateway keeps it.
#![forbid(unsafe_code)]

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, REFERRER_POLICY};
use http_body_util::Full;
use spin_sdk::http::Request;
use spin_sdk::http_service;
use vottery_component_kit::{self as kit, Method::*, Problem, Route, Router};
use vottery_http::etag;

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

const OPENAPI: &str = include_str!("../../../openapi/openapi.json");

/// Shared caches may keep the description for five minutes, then revalidate.
const DESCRIPTION_CACHE: &str = "public, max-age=300, must-revalidate";
/// Files under `/assets/` are named by their content: kept for a year.
const ASSET_CACHE: &str = "public, max-age=31536000, immutable";
/// Pages are revalidated on every load.
const PAGE_CACHE: &str = "no-cache";
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";
/// Same-origin requests keep their `Origin` (the refresh cookie's CSRF check reads it).
const PAGE_REFERRER: &str = "strict-origin-when-cross-origin";

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    OpenApi,
}

static ROUTES: &[Route<Endpoint>] = &[Route::new(Get, "/api/openapi.json", Endpoint::OpenApi)];

type Answer = http::Response<Full<Bytes>>;

#[http_service]
async fn handle(request: Request) -> Answer {
    let path = request.uri().path();
    if !path.starts_with("/api/")
        && let Some(file) = web_file(path)
    {
        if request.method() != http::Method::GET {
            return bytes(kit::problem(&Problem::method_not_allowed(request.method().as_str(), vec!["GET"])));
        }
        return served(&request, file);
    }
    bytes(match kit::route(&Router::new(ROUTES), &request) {
        Ok((Endpoint::OpenApi, _)) => description(&request),
        Err(response) => response,
    })
}

fn bytes(response: kit::Response) -> Answer {
    response.map(|body| Full::new(Bytes::from(body)))
}

type File = (&'static str, &'static str, &'static str, &'static [u8]);

/// The web client's file for a path (`/` is its page).
fn web_file(path: &str) -> Option<&'static File> {
    let path = if path == "/" { "/index.html" } else { path };
    WEB_FILES.iter().find(|(url, ..)| *url == path)
}

fn current(request: &Request, tag: &str) -> bool {
    request.headers().get_all(IF_NONE_MATCH).iter().any(|v| etag::none_match(v.as_bytes(), tag))
}

fn served(request: &Request, (url, content_type, tag, body): &'static File) -> Answer {
    let page = content_type.starts_with("text/html");
    let mut builder = http::Response::builder()
        .header(ETAG, *tag)
        .header(CACHE_CONTROL, if url.starts_with("/assets/") { ASSET_CACHE } else { PAGE_CACHE });
    if page {
        builder = builder.header(CONTENT_SECURITY_POLICY, PAGE_POLICY).header(REFERRER_POLICY, PAGE_REFERRER);
    }
    let built = if current(request, tag) {
        builder.status(304).body(Full::new(Bytes::new()))
    } else {
        builder.status(200).header(CONTENT_TYPE, *content_type).body(Full::new(Bytes::from_static(body)))
    };
    built.unwrap_or_else(|_| bytes(kit::problem(&Problem::new(500, "internal_error", "Internal error"))))
}

/// The description, or `304` when the client's copy is current.
fn description(request: &Request) -> kit::Response {
    let builder = http::Response::builder().header(ETAG, OPENAPI_ETAG).header(CACHE_CONTROL, DESCRIPTION_CACHE);
    let built = if current(request, OPENAPI_ETAG) {
        builder.status(304).body(String::new())
    } else {
        builder.status(200).header(CONTENT_TYPE, "application/json").body(OPENAPI.to_owned())
    };
    built.unwrap_or_else(|_| kit::problem(&Problem::new(500, "internal_error", "Internal error")))
}
