//! The HTTP front: accepts connections (with `TCP_NODELAY`), routes each
//! request with Spin's rules, adds the headers Spin sets, and hands it to
//! the component. Answers the host itself gives (no route, a failed
//! component) are problem+json.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::HeaderValue;
use http::uri::Authority;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use vottery_gateway_policy::{DEFAULT_HEADERS, SECURITY_HEADERS};
use wasmtime_wasi_http::handler;

use crate::app::{App, OutgoingBody};
use crate::headers::{self, HeadError};
use crate::metrics::{self, ComponentLabels, RequestLabels};

/// What the host bounds for each client, before any guest runs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request head not complete within this time drops the connection;
    /// it also bounds how long an idle keep-alive connection is kept.
    pub header_read_timeout: std::time::Duration,
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Fields in a request head (431 with a problem beyond; the parser
    /// itself holds [`PARSER_FIELDS_PER_LIMIT`] times as many, and past that
    /// answers a bare 431 and closes).
    pub max_header_count: usize,
    /// Bytes of a request target (414 beyond).
    pub max_uri_bytes: usize,
}

/// How many times `max_header_count` fields the HTTP parser holds, so that
/// a head over the limit is answered with a problem rather than by the parser.
pub const PARSER_FIELDS_PER_LIMIT: usize = 4;

/// Serves `app` on `listener` until the process ends.
pub async fn serve(app: Arc<App>, listener: TcpListener, limits: Limits) -> anyhow::Result<()> {
    let local = listener.local_addr()?;
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, say: wait a little rather than spin.
                tracing::warn!("accept failed: {error}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics::metrics().connections_refused.inc();
            tokio::spawn(refuse(stream));
            continue;
        };
        metrics::metrics().connections_open.inc();
        let app = app.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let app = app.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(&app, request, peer, local, limits).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .max_headers(limits.max_header_count.saturating_mul(PARSER_FIELDS_PER_LIMIT))
                .max_buf_size(2 * headers::MAX_HEAD_BYTES)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!("connection from {peer} ended: {error}");
            }
            metrics::metrics().connections_open.dec();
            drop(slot);
        });
    }
}

/// The answer to a connection over the limit: at once, then closed.
async fn refuse(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let body =
        problem_body(503, "too_many_connections", "Service unavailable", "the server is at its connection limit");
    let mut head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in SECURITY_HEADERS {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let write = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), write).await;
}

/// Which trigger and component answered (`None`: the host itself).
type Served = Option<(String, String)>;

async fn handle(
    app: &App,
    request: http::Request<Incoming>,
    peer: SocketAddr,
    local: SocketAddr,
    limits: Limits,
) -> http::Response<OutgoingBody> {
    let started = Instant::now();
    let method = metrics::method_label(request.method());
    let (response, served) = answer(app, request, peer, local, limits).await;
    let (trigger, component) = served.unwrap_or_else(|| ("none".into(), "host".into()));
    let metrics = metrics::metrics();
    let status = response.status().as_u16();
    metrics
        .request_duration
        .get_or_create(&ComponentLabels { component: component.clone() })
        .observe(started.elapsed().as_secs_f64());
    metrics.requests.get_or_create(&RequestLabels { trigger, component, method, status }).inc();
    response
}

async fn answer(
    app: &App,
    request: http::Request<Incoming>,
    peer: SocketAddr,
    local: SocketAddr,
    limits: Limits,
) -> (http::Response<OutgoingBody>, Served) {
    let started = Instant::now();
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let target = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target + request.uri().authority().map_or(0, |a| a.as_str().len()) > limits.max_uri_bytes {
        let detail = format!("the request target is longer than {} bytes", limits.max_uri_bytes);
        return (problem_response(414, "uri_too_long", "URI too long", &detail), None);
    }
    if request.headers().len() > limits.max_header_count {
        let detail = format!("the request has more than {} header fields", limits.max_header_count);
        return (
            problem_response(431, "request_header_fields_too_large", "Request header fields too large", &detail),
            None,
        );
    }
    if let Some(response) = well_known(app, &path) {
        return (response, None);
    }
    let Some(matched) = app.router.find(&path) else {
        tracing::debug!(%method, %path, status = 404, "no route");
        return (problem_response(404, "route_not_found", "No such route", &format!("no route for {path}")), None);
    };
    let runtime = app.runtime(matched.route.component);
    let (mut parts, body) = request.into_parts();
    let authority = match checked_head(&parts, local) {
        Ok(authority) => authority,
        Err(refused) => {
            tracing::debug!(%method, %path, status = refused.status(), "request head refused: {refused:?}");
            let response = problem_response(refused.status(), refused.code(), refused.title(), &refused.detail());
            return (response, None);
        }
    };
    headers::strip_hop_by_hop(&mut parts.headers);
    parts.uri = headers::guest_uri(authority, &parts.uri);
    let full_url = parts.uri.to_string();
    headers::SpinHeaders {
        full_url: &full_url,
        matched_route: &matched.route.based,
        raw_route: &matched.route.raw,
        component_route: matched.route.component_route(),
        path_info: &matched.path_info,
        client_addr: &peer.to_string(),
        params: &matched.params,
    }
    .append_to(&mut parts.headers);
    let request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
    let body = body.map_err(|e| handler::ErrorCode::from(hyper_error(e))).boxed_unsync();
    let index = matched.route.component;
    let response = match app.handle(index, http::Request::from_parts(parts, body)).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(component = %runtime.id, %method, %path, "request failed: {error:?}");
            if error.downcast_ref::<handler::InstantiationError<()>>().is_some() {
                problem_response(503, "service_unavailable", "Service unavailable", "no instance could be started")
            } else {
                problem_response(500, "internal_error", "Internal error", "the component failed")
            }
        }
    };
    tracing::debug!(
        component = %runtime.id,
        request_id = %response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or(&request_id),
        %method,
        %path,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    (response, Some((matched.route.raw.clone(), runtime.component.clone())))
}

/// The checks on a request's head before any guest runs: its size, then
/// its authority.
fn checked_head(parts: &http::request::Parts, local: SocketAddr) -> Result<Authority, HeadError> {
    if headers::head_size(&parts.headers) > headers::MAX_HEAD_BYTES {
        return Err(HeadError::TooLarge);
    }
    headers::authority(&parts.uri, &parts.headers, parts.version, local)
}

fn hyper_error(error: hyper::Error) -> wasmtime_wasi_http::p3::bindings::http::types::ErrorCode {
    use wasmtime_wasi_http::p3::bindings::http::types::ErrorCode;
    ErrorCode::InternalError(Some(error.to_string()))
}

fn well_known(app: &App, path: &str) -> Option<http::Response<OutgoingBody>> {
    let rest = path.strip_prefix("/.well-known/spin/")?;
    Some(match rest {
        "health" => text_response(200, "text/plain", Bytes::from_static(b"OK")),
        "info" => {
            text_response(200, "application/json", Bytes::from(serde_json::json!({ "name": app.name }).to_string()))
        }
        _ => problem_response(404, "route_not_found", "No such route", &format!("no route for {path}")),
    })
}

/// An answer the host gives itself, with the security headers the
/// gateway puts on the app's answers.
fn text_response(status: u16, content_type: &'static str, body: Bytes) -> http::Response<OutgoingBody> {
    let mut response = http::Response::new(Full::new(body).map_err(|never| match never {}).boxed_unsync());
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (name, value) in SECURITY_HEADERS.iter().chain(DEFAULT_HEADERS) {
        headers.insert(*name, HeaderValue::from_static(value));
    }
    response
}

fn problem_body(status: u16, code: &str, title: &str, detail: &str) -> String {
    serde_json::json!({
        "type": format!("urn:vottery:problem:{code}"),
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
    })
    .to_string()
}

/// A problem+json answer given by the host itself.
pub fn problem_response(status: u16, code: &str, title: &str, detail: &str) -> http::Response<OutgoingBody> {
    text_response(status, "application/problem+json", Bytes::from(problem_body(status, code, title, detail)))
}
