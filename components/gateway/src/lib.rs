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
use vottery_gateway_policy::limits::{self, Rate, RateLimits, RouteClass, Verdict};
use vottery_gateway_policy::{self as policy, Cors, DEFAULT_HEADERS, IDENTITY_HEADERS, REQUEST_ID, SECURITY_HEADERS};

use crate::limiter::Charge;

mod access;
mod limiter;
mod revocations;

#[http_service]
async fn handle(request: spin_sdk::http::Request) -> Result<Response, ErrorCode> {
    let (mut parts, mut body) = request.into_parts();
    let offered = parts.headers.get(REQUEST_ID).and_then(|v| v.to_str().ok());
    let random = (u128::from(get_random_u64()) << 64) | u128::from(get_random_u64());
    let mut edge = Edge { id: policy::request_id(offered, random), origin: None, rate: None, verdict: None };

    let config = match Config::get().await {
        Ok(config) => config,
        Err(problem) => return early(&problem, &edge),
    };
    let cors = &config.cors;
    edge.origin = cors.allowed(parts.headers.get_all(http::header::ORIGIN).iter().filter_map(|v| v.to_str().ok()));
    if let Some(requested) = preflight_method(&parts) {
        return preflight(cors, &parts, requested, &edge);
    }
    let declared = parts.headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    if let Err(problem) = policy::check_body_size(declared) {
        return early(&problem, &edge);
    }
    if policy::is_private_path(parts.uri.path()) {
        return early(&Problem::not_found(parts.uri.path()), &edge);
    }
    for name in IDENTITY_HEADERS {
        parts.headers.remove(name);
    }
    policy::sanitize_head(&mut parts.headers, true);
    let address = client_address(&parts.headers, &config.trusted_proxies);
    let class = RouteClass::of(parts.method.as_str(), parts.uri.path());
    let redis = match &config.redis_url {
        Some(url) => spin_sdk::redis::Connection::open(url.clone()).await.ok(),
        None => None,
    };
    let charge = Charge {
        namespace: &config.namespace,
        class,
        rate: config.rates.of(class),
        checkpoint_every: config.checkpoint_every,
        checkpoint_due: std::cell::Cell::new(false),
    };
    edge.rate = Some((class, charge.rate));
    let needs_token = policy::needs_token(config.gateway_auth.as_deref(), parts.uri.path());
    let admitted = if needs_token {
        let authorization = parts.headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        verify_token(policy::bearer(authorization), redis.as_ref(), &charge, &address, &config, &mut edge).await
    } else {
        limit_address(redis.as_ref(), &charge, &address, &mut edge).await.map(|()| Vec::new())
    };
    let checkpoint_due = charge.checkpoint_due.get();
    match admitted {
        Ok(identity) => {
            for (name, value) in identity {
                parts.headers.insert(name, HeaderValue::try_from(value).map_err(internal)?);
            }
        }
        Err(problem) => {
            if checkpoint_due {
                checkpoint(&edge.id).await;
            }
            return early(&problem, &edge);
        }
    }

    parts.headers.insert(REQUEST_ID, HeaderValue::try_from(edge.id.as_str()).map_err(internal)?);
    let inner = body.take_unstarted().ok_or_else(|| internal("request body already read"))?;
    let forward = rebuild(inner, Fields::try_from(parts.headers).map_err(internal)?)?;

    let mut downstream = if checkpoint_due {
        futures::future::join(spin_sdk::http::next(forward), checkpoint(&edge.id)).await.0?
    } else {
        spin_sdk::http::next(forward).await?
    };
    let status = downstream.status().as_u16();
    policy::sanitize_head(downstream.headers_mut(), false);
    decorate(downstream.headers_mut(), &edge)?;
    let fields = Fields::try_from(std::mem::take(downstream.headers_mut())).map_err(internal)?;
    let inner = downstream.body_mut().take_unstarted().ok_or_else(|| internal("downstream body already read"))?;
    let (_, result) = wit_future::new(|| Ok(()));
    let (body, trailers) = Response::consume_body(inner, result);
    let (response, _sent) = Response::new(fields, Some(body), trailers);
    response.set_status_code(status).map_err(|()| internal("invalid status"))?;
    Ok(response)
}

/// Asks `security` for an audit checkpoint, the turn of this request (one
/// per interval across every replica), while the request is served. A
/// failure is logged and waits for the next turn.
async fn checkpoint(request_id: &str) {
    if let Err(e) = kit::call("gateway", &kit::contracts::security::Checkpoint {}).await {
        let line = serde_json::json!({
            "level": "warn", "service": "gateway", "request_id": request_id,
            "event": "audit_checkpoint_failed", "cause": e.to_string(),
        });
        eprintln!("{line}");
    }
}

/// What every answer of this request carries: its id, the CORS headers
/// when it came from an allowed origin, and its rate limit.
struct Edge {
    id: String,
    origin: Option<String>,
    rate: Option<(RouteClass, Rate)>,
    verdict: Option<Verdict>,
}

/// The gateway's settings: the variables of the component it is in front
/// of, read at an instance's first request and kept for its life (they do
/// not change while the app runs); a setting that does not parse is
/// answered, not kept.
pub struct Config {
    cors: Cors,
    rates: RateLimits,
    redis_url: Option<String>,
    namespace: String,
    trusted_proxies: String,
    gateway_auth: Option<String>,
    pub token_issuer: Option<String>,
    pub token_audience: Option<String>,
    /// Seconds between audit checkpoints (`audit_checkpoint_interval`; 0
    /// or unset where the fronted component cannot reach `security`).
    checkpoint_every: u32,
}

static CONFIG: std::sync::Mutex<Option<std::sync::Arc<Config>>> = std::sync::Mutex::new(None);

impl Config {
    async fn get() -> Result<std::sync::Arc<Config>, Problem> {
        let kept = CONFIG.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        if let Some(config) = kept {
            return Ok(config);
        }
        let config = std::sync::Arc::new(Self::load().await?);
        *CONFIG.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(config.clone());
        Ok(config)
    }

    async fn load() -> Result<Self, Problem> {
        let set = |v: Option<String>| v.filter(|v| !v.is_empty());
        let misconfigured = |e: String| {
            Problem::new(500, "gateway_misconfigured", "Internal error").with_detail(format!("gateway settings: {e}"))
        };
        let origins = kit::variable("cors_origins").await.unwrap_or_default();
        let any = kit::variable("cors_unsafe_any_origin").await.unwrap_or_default();
        let rates = kit::variable("rate_limits").await.unwrap_or_default();
        Ok(Self {
            cors: Cors::parse(&origins, &any).map_err(misconfigured)?,
            rates: RateLimits::parse(&rates).map_err(misconfigured)?,
            redis_url: set(kit::variable("redis_url").await),
            namespace: kit::redis_namespace().await,
            trusted_proxies: kit::variable("trusted_proxies").await.unwrap_or_default(),
            gateway_auth: set(kit::variable("gateway_auth").await),
            token_issuer: set(kit::variable("token_issuer").await),
            token_audience: set(kit::variable("token_audience").await),
            checkpoint_every: match set(kit::variable("audit_checkpoint_interval").await) {
                None => 0,
                Some(raw) => raw.parse().map_err(|_| misconfigured(format!("audit_checkpoint_interval: `{raw}`")))?,
            },
        })
    }
}

/// The client's address: the connection's, or behind the proxies of
/// `trusted_proxies` the address they forwarded.
fn client_address(headers: &HeaderMap, proxies: &str) -> String {
    let peer = headers.get("spin-client-addr").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let peer = peer.parse::<std::net::SocketAddr>().map_or_else(|_| peer.to_owned(), |s| s.ip().to_string());
    let forwarded: Vec<&str> = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
    let forwarded = (!forwarded.is_empty()).then(|| forwarded.join(", "));
    vottery_devices_core::visitor_ip(&peer, forwarded.as_deref(), proxies).unwrap_or(peer)
}

/// Checks a request's access token and charges its buckets; the identity
/// to pass downstream.
async fn verify_token(
    token: Option<&str>,
    redis: Option<&spin_sdk::redis::Connection>,
    charge: &Charge<'_>,
    address: &str,
    config: &Config,
    edge: &mut Edge,
) -> Result<access::Identity, Problem> {
    let redis = redis.ok_or_else(limiter::unavailable)?;
    let mut limit = access::Limit { charge, address: address.to_owned(), verdict: None, config };
    let verified = access::verify(token, redis, &mut limit).await;
    edge.verdict = limit.verdict;
    verified
}

/// Charges the client address's bucket of a request without a token.
async fn limit_address(
    redis: Option<&spin_sdk::redis::Connection>,
    charge: &Charge<'_>,
    address: &str,
    edge: &mut Edge,
) -> Result<(), Problem> {
    let Some(redis) = redis else {
        return if charge.class.fails_closed() { Err(limiter::unavailable()) } else { Ok(()) };
    };
    match charge.run(redis, &[charge.address_key(address)], None, limiter::Verified::Untouched).await {
        Ok(Some(charged)) if !charged.verdict.admitted => {
            edge.verdict = Some(charged.verdict);
            Err(limits::refused(charge.class, &charged.verdict))
        }
        Ok(found) => {
            edge.verdict = found.map(|charged| charged.verdict);
            Ok(())
        }
        Err(problem) => Err(problem),
    }
}

/// The method a CORS preflight asks about (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`), if this is one.
fn preflight_method(parts: &http::request::Parts) -> Option<String> {
    if parts.method != http::Method::OPTIONS || !parts.headers.contains_key(http::header::ORIGIN) {
        return None;
    }
    let method = parts.headers.get(http::header::ACCESS_CONTROL_REQUEST_METHOD)?;
    Some(method.to_str().unwrap_or_default().to_owned())
}

/// The gateway's own answer to a preflight: 204 with the CORS headers for
/// an allowed origin asking for what the API uses, 403 otherwise.
fn preflight(cors: &Cors, parts: &http::request::Parts, method: String, edge: &Edge) -> Result<Response, ErrorCode> {
    let Some(origin) = edge.origin.as_deref() else {
        let refused = Problem::new(403, "cors_origin_refused", "Forbidden")
            .with_detail("this origin may not call the API from a browser");
        return early(&refused, edge);
    };
    let requested = parts
        .headers
        .get_all(http::header::ACCESS_CONTROL_REQUEST_HEADERS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    match cors.preflight(origin, &method, &requested) {
        Ok(headers) => {
            let mut answer = http::Response::new(String::new());
            *answer.status_mut() = http::StatusCode::NO_CONTENT;
            for (name, value) in headers {
                answer.headers_mut().insert(name, HeaderValue::try_from(value).map_err(internal)?);
            }
            decorate(answer.headers_mut(), &Edge { id: edge.id.clone(), origin: None, rate: None, verdict: None })?;
            answer.into_response()
        }
        Err(problem) => early(&problem, edge),
    }
}

/// A problem the gateway answers itself, decorated like every answer.
fn early(problem: &Problem, edge: &Edge) -> Result<Response, ErrorCode> {
    let mut answer = kit::problem(problem);
    if problem.status() == 401 {
        answer.headers_mut().insert(http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    decorate(answer.headers_mut(), edge)?;
    answer.into_response()
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

fn decorate(headers: &mut HeaderMap, edge: &Edge) -> Result<(), ErrorCode> {
    for (name, value) in SECURITY_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    for (name, value) in DEFAULT_HEADERS {
        if !headers.contains_key(*name) {
            headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
    }
    headers.insert(REQUEST_ID, HeaderValue::try_from(edge.id.as_str()).map_err(internal)?);
    headers.append(http::header::VARY, HeaderValue::from_static("Origin"));
    if let (Some((class, rate)), Some(verdict)) = (edge.rate, edge.verdict) {
        headers.insert("ratelimit-policy", HeaderValue::try_from(rate.policy_header(class)).map_err(internal)?);
        headers.insert("ratelimit", HeaderValue::try_from(verdict.header(class)).map_err(internal)?);
    }
    if let Some(origin) = &edge.origin {
        for (name, value) in Cors::response_headers(origin) {
            headers.insert(name, HeaderValue::try_from(value).map_err(internal)?);
        }
    }
    Ok(())
}

fn internal(detail: impl std::fmt::Debug) -> ErrorCode {
    ErrorCode::InternalError(Some(format!("{detail:?}")))
}
