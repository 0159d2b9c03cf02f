//! The `gateway` middleware, composed in front of every public trigger:
//! request ids, body limits and security headers. Rate limits and the
//! access-token check join it with the session work.
//!
//! The downstream response body is handed through as a stream, never copied
//! into the gateway: only its head is rebuilt with the added headers.

use http::{HeaderMap, HeaderName, HeaderValue};
use spin_sdk::http::{Error, IntoResponse, Request};
use spin_sdk::http_service;
use spin_sdk::wasip3::http::types::{ErrorCode, Fields, Response};
use spin_sdk::wasip3::random::random::get_random_u64;
use spin_sdk::wasip3::wit_future;
use vottery_component_kit as kit;
use vottery_gateway_policy::{self as policy, REQUEST_ID, SECURITY_HEADERS};

#[http_service]
async fn handle(mut request: Request) -> Result<Response, Error> {
    let random = (u128::from(get_random_u64()) << 64) | u128::from(get_random_u64());
    let offered = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok());
    let id = HeaderValue::try_from(policy::request_id(offered, random)).map_err(internal)?;
    request.headers_mut().insert(REQUEST_ID, id.clone());

    let declared = request.headers().get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    if let Err(problem) = policy::check_body_size(declared) {
        let mut early = kit::problem(&problem);
        decorate(early.headers_mut(), id);
        return Ok(early.into_response()?);
    }

    let mut downstream = spin_sdk::http::next(request).await?;
    let status = downstream.status().as_u16();
    decorate(downstream.headers_mut(), id);
    let fields = Fields::try_from(std::mem::take(downstream.headers_mut())).map_err(internal)?;
    let inner = downstream.body_mut().take_unstarted().ok_or_else(|| internal("downstream body already read"))?;
    let (result_tx, result_rx) = wit_future::new(|| Ok(()));
    drop(result_tx);
    let (body, trailers) = Response::consume_body(inner, result_rx);
    let (response, _sent) = Response::new(fields, Some(body), trailers);
    response.set_status_code(status).map_err(|()| internal("invalid status"))?;
    Ok(response)
}

fn decorate(headers: &mut HeaderMap, id: HeaderValue) {
    for (name, value) in SECURITY_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    headers.insert(REQUEST_ID, id);
}

fn internal(detail: impl std::fmt::Display) -> ErrorCode {
    ErrorCode::InternalError(Some(detail.to_string()))
}
