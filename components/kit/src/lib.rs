//! Glue shared by the service components: turns [`Problem`]s and JSON
//! values into spin-sdk responses, and resolves a request against a static
//! route table.
#![forbid(unsafe_code)]

use http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};
use http_body_util::{BodyExt, Limited};
use serde::Serialize;
use serde::de::DeserializeOwned;
use spin_sdk::http::Request;
pub use vottery_contracts::{self as contracts, Actor, Call, Refusal};
pub use vottery_http::{ApiError, Match, Method, Params, Problem, Route, Router};
pub use vottery_validate::{MAX_JSON_BODY, ValidationError};

/// The response type every handler returns.
pub type Response = http::Response<String>;

/// A problem+json response (with `Allow` for 405, `Retry-After` when the
/// problem says when to retry).
pub fn problem(problem: &Problem) -> Response {
    let mut builder =
        http::Response::builder().status(problem.status()).header(CONTENT_TYPE, vottery_http::PROBLEM_JSON);
    if !problem.allow().is_empty() {
        builder = builder.header(ALLOW, problem.allow().join(", "));
    }
    if let Some(seconds) = problem.retry_after() {
        builder = builder.header(RETRY_AFTER, seconds);
    }
    if let Some(challenge) = problem.step_up_challenge() {
        builder = builder.header(http::header::WWW_AUTHENTICATE, challenge);
    }
    builder.body(problem.to_json()).unwrap_or_else(|_| fallback())
}

/// The id the gateway gave the request (`x-request-id`), or `-` on a
/// chained call that carries none.
pub fn request_id(request: &Request) -> String {
    request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned()
}

/// A handler's outcome as the answer: its response, or its error's
/// problem. Every 5xx is logged here, as one JSON line on stderr with its
/// cause and the request id; the answer never carries the cause.
pub fn respond<E: ApiError>(service: &str, request_id: &str, result: Result<Response, E>) -> Response {
    result.unwrap_or_else(|error| {
        let (answer, line) = vottery_http::answer(service, request_id, &error);
        if let Some(line) = line {
            eprintln!("{line}");
        }
        problem(&answer)
    })
}

/// A JSON response.
pub fn json(status: u16, value: &impl Serialize) -> Response {
    match serde_json::to_string(value) {
        Ok(body) => http::Response::builder()
            .status(status)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .unwrap_or_else(|_| fallback()),
        Err(_) => fallback(),
    }
}

fn fallback() -> Response {
    let mut response = http::Response::new(String::from(
        r#"{"type":"urn:vottery:problem:internal_error","title":"Internal error","status":500,"code":"internal_error"}"#,
    ));
    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    response
}

/// Resolves `request` against `router`: the handler and its path captures, or
/// the 404/405 problem response to send back.
pub fn route<'r, H: Copy>(router: &Router<H>, request: &'r Request) -> Result<(H, Params<'r>), Response> {
    let path = request.uri().path();
    match router.resolve(request.method().as_str(), path) {
        Match::Found(handler, params) => Ok((handler, params)),
        Match::MethodNotAllowed(allow) => Err(problem(&Problem::method_not_allowed(request.method().as_str(), allow))),
        Match::NotFound => Err(problem(&Problem::not_found(path))),
    }
}

/// Reads the body (at most `limit` bytes, however it is framed) and parses
/// it strictly into `T`: another media type than JSON (before anything is
/// read: no cross-site "simple request" gets further), unknown fields, wrong
/// types and oversized bodies are problems with stable codes.
pub async fn json_body<T: DeserializeOwned>(request: Request, limit: usize) -> Result<T, ValidationError> {
    let media_type = request.headers().get(CONTENT_TYPE).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    vottery_validate::check_json_media_type(media_type)?;
    let body = Limited::new(request.into_body(), limit).collect().await.map(|b| b.to_bytes()).map_err(|e| {
        if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
            ValidationError::TooLarge { size: limit + 1, limit }
        } else {
            ValidationError::MalformedJson("the body could not be read".into())
        }
    })?;
    vottery_validate::parse_json(&body, limit)
}

/// Seconds since the Unix epoch, read once per request and passed into the
/// logic.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[derive(Serialize)]
struct Health {
    service: &'static str,
    status: &'static str,
    version: &'static str,
    crypto: &'static str,
    postgres: &'static str,
}

/// `GET /api/<service>/health`: a known-answer test of the crypto
/// dependency and a round trip to the service's database (its `pg_url`
/// variable). 200 when both pass, 503 problem+json naming what failed.
pub async fn health(service: &'static str) -> Response {
    if !crypto::self_test() {
        return problem(&Problem::unavailable("the crypto dependency failed its known-answer test"));
    }
    if let Err(cause) = database_round_trip().await {
        return problem(&Problem::unavailable(format!("postgres: {cause}")));
    }
    let health = Health { service, status: "ok", version: env!("CARGO_PKG_VERSION"), crypto: "ok", postgres: "ok" };
    json(200, &health)
}

async fn database_round_trip() -> Result<(), String> {
    let connection = pg::open().await?;
    connection.execute("SELECT 1", Vec::<spin_sdk::pg::ParameterValue>::new()).await.map_err(pg_cause)?;
    Ok(())
}

/// The error without connection details (the address holds a password).
fn pg_cause(e: spin_sdk::pg::Error) -> String {
    match e {
        spin_sdk::pg::Error::PgError(spin_sdk::pg::PgError::ConnectionFailed(_)) => "unreachable".to_owned(),
        spin_sdk::pg::Error::PgError(spin_sdk::pg::PgError::QueryFailed(_)) => "query failed".to_owned(),
        _ => "error".to_owned(),
    }
}

/// Bindings for the `vottery:crypto` dependency. A component that never
/// calls them does not import them.
pub mod crypto {
    spin_sdk::wit_bindgen::generate!({
        path: "../../wit",
        world: "vottery:crypto/consumer",
        runtime_path: "::spin_sdk::wit_bindgen::rt",
        generate_all,
    });

    pub use vottery::crypto::{aead, digest, elgamal, random, rsa, signatures, tokens, types};

    /// Known-answer test of the crypto dependency (FIPS 180-2, "abc").
    pub fn self_test() -> bool {
        const ABC: [u8; 32] = [
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03,
            0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
        ];
        digest::sha256(b"abc") == ABC
    }
}

/// Header naming the calling component on chained requests.
pub const CALLER_HEADER: &str = "vottery-caller";

/// Why a chained call failed.
#[derive(Debug)]
pub enum ChainError {
    /// The service could not be reached or did not answer.
    Unreachable(String),
    /// It refused, with this problem.
    Refused(Refusal),
    /// It answered 2xx with a body that is not the route's answer type.
    Malformed(String),
}

impl ChainError {
    /// The refusal's status and code, when the service refused.
    pub fn refusal(&self) -> Option<(u16, &str)> {
        match self {
            Self::Refused(refusal) => Some((refusal.status, refusal.code.as_str())),
            _ => None,
        }
    }
}

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreachable(cause) => write!(f, "unreachable: {cause}"),
            Self::Refused(refusal) => write!(f, "answered {}: {}", refusal.status, refusal.code),
            Self::Malformed(cause) => write!(f, "answered malformed: {cause}"),
        }
    }
}

/// Sends `request` to its private route by service chaining
/// (`http://<service>.spin.internal<path>`), naming `caller`; the typed
/// answer of a 2xx, or why there was none. An answer that does not parse
/// as the route's answer type is [`ChainError::Malformed`], never a default.
pub async fn call<C: Call>(caller: &str, request: &C) -> Result<C::Answer, ChainError> {
    let (status, bytes) = post(C::SERVICE, C::PATH, caller, request).await?;
    if (200..300).contains(&status) {
        serde_json::from_slice(&bytes).map_err(|e| ChainError::Malformed(format!("{} {}: {e}", C::SERVICE, C::PATH)))
    } else {
        Err(ChainError::Refused(refusal(status, &bytes)))
    }
}

/// The problem a refusal carried; `upstream_error` when its body is none.
fn refusal(status: u16, bytes: &[u8]) -> Refusal {
    serde_json::from_slice::<Refusal>(bytes).map(|r| Refusal { status, ..r }).unwrap_or(Refusal {
        status,
        code: "upstream_error".into(),
        detail: None,
    })
}

async fn post(
    service: &str,
    path: &str,
    caller: &str,
    body: &impl Serialize,
) -> Result<(u16, bytes::Bytes), ChainError> {
    let body = serde_json::to_vec(body).map_err(|e| ChainError::Unreachable(e.to_string()))?;
    let request = http::Request::post(format!("http://{service}.spin.internal{path}"))
        .header(CONTENT_TYPE, "application/json")
        .header(CALLER_HEADER, caller)
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .map_err(|e| ChainError::Unreachable(e.to_string()))?;
    let response = spin_sdk::http::send(request).await.map_err(|e| ChainError::Unreachable(format!("{e:?}")))?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|e| ChainError::Unreachable(format!("{e:?}")))?;
    Ok((status, bytes))
}

/// The client's address as the host saw the connection (`spin-client-addr`),
/// without the port. Spin appends its value after any a client sent under
/// that name, so only the last one is the platform's.
pub fn client_ip(request: &Request) -> String {
    let addr = request
        .headers()
        .get_all("spin-client-addr")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match addr.parse::<std::net::SocketAddr>() {
        Ok(socket) => socket.ip().to_string(),
        Err(_) => addr.to_owned(),
    }
}

/// Every `X-Forwarded-For` field of the request as one list, in order (a
/// proxy may append a field of its own rather than extend the last one).
pub fn forwarded_for(request: &Request) -> Option<String> {
    let values: Vec<&str> =
        request.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// A variable of the component, `None` when it is not set.
pub async fn variable(name: &str) -> Option<String> {
    spin_sdk::variables::get(name).await.ok()
}

/// The prefix of every Redis key and channel of the app: `redis_namespace`,
/// `vottery` when it is unset or empty (one rule for every component).
pub async fn redis_namespace() -> String {
    variable("redis_namespace").await.filter(|v| !v.is_empty()).unwrap_or_else(|| String::from("vottery"))
}

/// The component's Redis (`redis_url`) with the app's namespace.
pub mod redis {
    use serde_json::{Value, json};
    use spin_sdk::redis::Connection;

    pub struct Namespaced {
        pub conn: Connection,
        namespace: String,
    }

    impl Namespaced {
        /// Opens `redis_url`; why not, in words (the address is not repeated).
        pub async fn open() -> Result<Self, String> {
            let url = super::variable("redis_url").await.filter(|v| !v.is_empty()).ok_or("redis_url is not set")?;
            let conn = Connection::open(url).await.map_err(|e| format!("redis: {e:?}"))?;
            Ok(Self { conn, namespace: super::redis_namespace().await })
        }

        pub fn namespace(&self) -> &str {
            &self.namespace
        }

        /// `<namespace>:<rest>`.
        pub fn key(&self, rest: &str) -> String {
            format!("{}:{rest}", self.namespace)
        }

        /// Publishes `{type, service, at, ...detail}` on `<namespace>:events`
        /// (best effort: the audit row is the record that must exist).
        pub async fn publish(&self, service: &str, kind: &str, detail: Value) {
            let mut event = json!({ "type": kind, "service": service, "at": super::now() });
            if let (Some(map), Value::Object(more)) = (event.as_object_mut(), detail) {
                map.extend(more);
            }
            let _ = self.conn.publish(&self.key("events"), event.to_string().as_bytes()).await;
        }
    }
}

/// Small helpers over `spin:postgres`.
pub mod pg {
    use spin_sdk::pg::{Connection, DbValue, Decode, Error, ParameterValue};

    /// Opens the component's database (`pg_url`); why not, in words, without
    /// the address (it holds a password).
    pub async fn open() -> Result<Connection, String> {
        let address = crate::variable("pg_url").await.ok_or("pg_url is not set")?;
        Connection::open(address).await.map_err(crate::pg_cause)
    }

    /// Column `i` of a row, decoded; why not, in words.
    pub fn column<T: Decode>(row: &[DbValue], i: usize) -> Result<T, String> {
        let value = row.get(i).ok_or_else(|| format!("column {i} missing"))?;
        T::decode(value).map_err(|e| e.to_string())
    }

    /// Every row `sql` returns.
    pub async fn rows(db: &Connection, sql: &str, params: Vec<ParameterValue>) -> Result<Vec<Vec<DbValue>>, Error> {
        let mut result = db.query(sql, params).await?;
        let mut out = Vec::new();
        while let Some(row) = result.rows().next().await {
            out.push(row);
        }
        result.result().await?;
        Ok(out)
    }

    /// Appends one event to the hash-chained audit log (`audit.append`; the
    /// service is taken from the connection's role).
    pub async fn audit(
        db: &Connection,
        actor: &crate::Actor,
        action: &str,
        subject: &str,
        outcome: &str,
        detail: &serde_json::Value,
    ) -> Result<(), Error> {
        let params = vec![
            ParameterValue::Str(actor.to_string()),
            ParameterValue::Str(action.to_owned()),
            ParameterValue::Str(subject.to_owned()),
            ParameterValue::Str(outcome.to_owned()),
            ParameterValue::Jsonb(detail.to_string().into_bytes()),
        ];
        rows(db, "SELECT audit.append($1, $2, $3, $4, $5)", params).await.map(|_| ())
    }
}
