//! The `gateway` middleware, composed in front of every public trigger:
//! request ids, body limits, security headers, and the access-token check
//! for the components that ask for it (see `access`); the verified identity
//! travels downstream in `vottery-*` headers that no client can set.
//!
//! It works on the WASI HTTP types directly: request and response bodies
//! are handed through as streams, never copied into the gateway, and only
//! the heads are rebuilt with the added headers.

use http::{HeaderMap, HeaderName, HeaderValue};
use spin_sdk::http::IntoResponse;
use spin_sdk::http_service;
use spin_sdk::wasip3::http::types::{ErrorCode, Fields, Request, Response};
use spin_sdk::wasip3::random::random::get_random_u64;
use spin_sdk::wasip3::wit_future;
use vottery_component_kit::{self as kit, Problem};
use vottery_gateway_policy::{self as policy, DEFAULT_HEADERS, IDENTITY_HEADERS, REQUEST_ID, SECURITY_HEADERS};

mod access;

#[http_service]
async fn handle(request: spin_sdk::http::Request) -> Result<Response, ErrorCode> {
    let (mut parts, mut body) = request.into_parts();
    let offered = parts.headers.get(REQUEST_ID).and_then(|v| v.to_str().ok());
    let random = (u128::from(get_random_u64()) << 64) | u128::from(get_random_u64());
    let id = policy::request_id(offered, random);

    let declared = parts.headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    if let Err(problem) = policy::check_body_size(declared) {
        let mut early = kit::problem(&problem);
        decorate(early.headers_mut(), &id)?;
        return early.into_response();
    }

    if policy::is_private_path(parts.uri.path()) {
        let mut early = kit::problem(&Problem::not_found(parts.uri.path()));
        decorate(early.headers_mut(), &id)?;
        return early.into_response();
    }
    for name in IDENTITY_HEADERS {
        parts.headers.remove(name);
    }
    policy::sanitize_head(&mut parts.headers, true);
    let mode = spin_sdk::variables::get("gateway_auth").await.ok();
    if policy::needs_token(mode.as_deref(), parts.uri.path()) {
        let authorization = parts.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        match access::verify(policy::bearer(authorization)).await {
            Ok(identity) => {
                for (name, value) in identity {
                    parts.headers.insert(name, HeaderValue::try_from(value).map_err(internal)?);
                }
            }
            Err(problem) => {
                let mut early = kit::problem(&problem);
                if problem.status() == 401 {
                    early.headers_mut().insert(http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                }
                decorate(early.headers_mut(), &id)?;
                return early.into_response();
            }
        }
    }

    parts.headers.insert(REQUEST_ID, HeaderValue::try_from(id.as_str()).map_err(internal)?);
    let inner = body.take_unstarted().ok_or_else(|| internal("request body already read"))?;
    let forward = rebuild(inner, Fields::try_from(parts.headers).map_err(internal)?)?;

    let mut downstream = spin_sdk::http::next(forward).await?;
    let status = downstream.status().as_u16();
    policy::sanitize_head(downstream.headers_mut(), false);
    decorate(downstream.headers_mut(), &id)?;
    let fields = Fields::try_from(std::mem::take(downstream.headers_mut())).map_err(internal)?;
    let inner = downstream.body_mut().take_unstarted().ok_or_else(|| internal("downstream body already read"))?;
    let (_, result) = wit_future::new(|| Ok(()));
    let (body, trailers) = Response::consume_body(inner, result);
    let (response, _sent) = Response::new(fields, Some(body), trailers);
    response.set_status_code(status).map_err(|()| internal("invalid status"))?;
    Ok(response)
}

/// The same request with new headers; the body stream moves across.
fn rebuild(request: Request, headers: Fields) -> Result<Request, ErrorCode> {
    let method = request.get_method();
    let path = request.get_path_with_query();
    let scheme = request.get_scheme();
    let authority = request.get_authority();
    let options = request.get_options();
    let (_, result) = wit_future::new(|| Ok(()));
    let (body, trailers) = Request::consume_body(request, result);
    let (forward, _sent) = Request::new(headers, Some(body), trailers, options);
    forward.set_method(&method).map_err(|()| internal("invalid method"))?;
    forward.set_path_with_query(path.as_deref()).map_err(|()| internal("invalid path"))?;
    forward.set_scheme(scheme.as_ref()).map_err(|()| internal("invalid scheme"))?;
    forward.set_authority(authority.as_deref()).map_err(|()| internal("invalid authority"))?;
    Ok(forward)
}

fn decorate(headers: &mut HeaderMap, id: &str) -> Result<(), ErrorCode> {
    for (name, value) in SECURITY_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    for (name, value) in DEFAULT_HEADERS {
        if !headers.contains_key(*name) {
            headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
    }
    headers.insert(REQUEST_ID, HeaderValue::try_from(id).map_err(internal)?);
    Ok(())
}

fn internal(detail: impl std::fmt::Debug) -> ErrorCode {
    ErrorCode::InternalError(Some(format!("{detail:?}")))
}
