//! What the gateway middleware decides for every public request, as plain
//! functions: which request id to carry, whether the declared body is too
//! large, and which headers every response gets.
#![forbid(unsafe_code)]

mod cors;
pub mod limits;

pub use cors::{Cors, canonical_origin};
use http::{HeaderMap, HeaderName, HeaderValue};
use vottery_http::Problem;

/// Largest request body any public route accepts, in bytes.
pub const MAX_BODY_BYTES: u64 = 64 * 1024;

/// Header carrying the request id, in and out.
pub const REQUEST_ID: &str = "x-request-id";

/// Headers every public response carries.
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("strict-transport-security", "max-age=63072000; includeSubDomains"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// Headers a response gets unless the service chose its own: the JWKS and
/// the web client's files are cacheable, and the web client's pages carry
/// a policy that lets them run their own scripts; nothing else does.
pub const DEFAULT_HEADERS: &[(&str, &str)] = &[
    ("cache-control", "no-store"),
    ("referrer-policy", "no-referrer"),
    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
];

/// The verified identity the gateway passes downstream; stripped from every
/// incoming request, so a service can trust them.
pub const IDENTITY_HEADERS: [&str; 6] =
    ["vottery-user", "vottery-session", "vottery-device", "vottery-roles", "vottery-amr", "vottery-auth-time"];

/// Whether a request needs an access token: the component behind the
/// gateway set `gateway_auth` to `required`, and the route is not its
/// health check.
pub fn needs_token(mode: Option<&str>, path: &str) -> bool {
    mode == Some("required") && !path.ends_with("/health")
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(authorization: Option<&str>) -> Option<&str> {
    let (scheme, token) = authorization?.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' ')).then_some(token)
}

/// Why a request's access token was refused (401, with the stable code).
pub fn token_problem(code: &'static str) -> Problem {
    let detail = match code {
        "token_missing" => "this route needs an access token (Authorization: Bearer)",
        "session_revoked" => "the session of this access token has been revoked",
        "token_expired" => "the access token has expired; refresh it",
        _ => "the access token is not valid",
    };
    Problem::new(401, code, "Unauthorized").with_detail(detail)
}

/// Keeps a caller's request id when it is short and plain (so it is safe to
/// log and echo); otherwise mints one from 128 random bits.
pub fn request_id(offered: Option<&str>, random: u128) -> String {
    match offered {
        Some(id) if is_plain_id(id) => id.to_owned(),
        _ => format!("{random:032x}"),
    }
}

fn is_plain_id(id: &str) -> bool {
    (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Checks a request's declared body size. A body without `Content-Length`
/// (chunked) is bounded by the service that reads it.
pub fn check_body_size(content_length: Option<&str>) -> Result<(), Problem> {
    let Some(raw) = content_length else {
        return Ok(());
    };
    match raw.trim().parse::<u64>() {
        Ok(n) if n <= MAX_BODY_BYTES => Ok(()),
        Ok(n) => Err(Problem::new(413, "payload_too_large", "Request body too large")
            .with_detail(format!("the body is {n} bytes; at most {MAX_BODY_BYTES} are accepted"))),
        Err(_) => Err(Problem::new(400, "bad_content_length", "Invalid Content-Length")
            .with_detail("Content-Length must be a non-negative integer")),
    }
}

/// Fields that describe one connection, not the message (RFC 9110 section
/// 7.6.1), and those WASI HTTP forbids in fields a guest makes.
pub const HOP_BY_HOP: [&str; 10] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "http2-settings",
];

/// Removes hop-by-hop fields: the fixed list and every field the
/// `Connection` field names. The host does this to every request before a
/// guest sees it (as WASI HTTP requires), the gateway again for Spin, which
/// removes only `Connection`.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|token| HeaderName::try_from(token.trim()).ok())
        .collect();
    for name in named.iter().map(HeaderName::as_str).chain(HOP_BY_HOP) {
        headers.remove(name);
    }
}

/// The `spin-*` fields the platform sets on every request it routes.
const PLATFORM_FIELDS: [&str; 7] = [
    "spin-path-info",
    "spin-full-url",
    "spin-matched-route",
    "spin-base-path",
    "spin-raw-component-route",
    "spin-component-route",
    "spin-client-addr",
];

/// Makes a head safe to copy into new WASI fields: removes hop-by-hop
/// fields (and those `Connection` names) and `Host`. For a request, `spin_fields`
/// also keeps only the platform's own value of each `spin-*` field: Spin
/// appends its values after any a client sent under the same names, so the
/// last one is the platform's; `spin-*` names the platform never sets are
/// dropped.
pub fn sanitize_head(headers: &mut HeaderMap, spin_fields: bool) {
    strip_hop_by_hop(headers);
    // The authority travels in the request itself; WASI forbids a `Host` field.
    headers.remove(http::header::HOST);
    if !spin_fields {
        return;
    }
    let spin: Vec<HeaderName> = headers.keys().filter(|n| n.as_str().starts_with("spin-")).cloned().collect();
    for name in spin {
        let platform = PLATFORM_FIELDS.contains(&name.as_str()) || name.as_str().starts_with("spin-path-match-");
        let last: Option<HeaderValue> = headers.get_all(&name).iter().next_back().cloned();
        headers.remove(&name);
        if let (true, Some(value)) = (platform, last) {
            headers.insert(name, value);
        }
    }
}

/// Whether a path is one of the private routes services call each other
/// on; the platform never routes them from outside, and the gateway
/// answers 404 should one arrive on a public trigger all the same.
pub fn is_private_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower == "/internal" || lower.starts_with("/internal/")
}

/// Access tokens this instance has already verified (signature, issuer,
/// audience), kept until they expire so a repeat request costs no
/// signature check; the revocation check still runs on every request.
/// Bounded: when full, expired entries go first, then everything.
#[derive(Debug)]
pub struct VerifiedTokens<T> {
    entries: std::collections::HashMap<String, (T, i64)>,
    capacity: usize,
}

impl<T> VerifiedTokens<T> {
    pub fn new(capacity: usize) -> Self {
        Self { entries: std::collections::HashMap::new(), capacity }
    }

    /// What `token` verified to, if it is still valid at `now`.
    pub fn get(&self, token: &str, now: i64) -> Option<&T> {
        self.entries.get(token).filter(|(_, until)| now <= *until).map(|(value, _)| value)
    }

    /// Remembers `token` as valid until `until` (Unix seconds).
    pub fn insert(&mut self, token: String, value: T, until: i64, now: i64) {
        if self.entries.len() >= self.capacity {
            self.entries.retain(|_, (_, valid)| now <= *valid);
            if self.entries.len() >= self.capacity {
                self.entries.clear();
            }
        }
        self.entries.insert(token, (value, until));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A token verified once, shared by every instance and replica through
/// Redis: its entry's key, the SHA-256 of the issuer, audience and token it
/// was verified for (so a token checked for one audience is never taken as
/// checked for another), and how long the entry lives (until the token
/// expires, with the leeway the check allows). An instance that finds the
/// entry has the token's claims from its payload without checking the
/// signature again; the revocation check still runs on every request.
pub mod verified {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use sha2::{Digest, Sha256};

    pub fn entry_key(namespace: &str, issuer: &str, audience: &str, token: &str) -> String {
        let mut digest = Sha256::new();
        for part in [issuer, audience, token] {
            digest.update((part.len() as u64).to_be_bytes());
            digest.update(part.as_bytes());
        }
        format!("{namespace}:gateway:verified:{}", URL_SAFE_NO_PAD.encode(digest.finalize()))
    }

    /// Seconds the entry of a token expiring at `exp` lives from `now`;
    /// `None` once it is past (nothing to remember).
    pub fn entry_ttl(exp: i64, leeway: i64, now: i64) -> Option<i64> {
        let ttl = exp.saturating_add(leeway).saturating_sub(now);
        (ttl > 0).then_some(ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verified_entry_is_keyed_by_issuer_audience_and_the_whole_token() {
        let key = verified::entry_key("ns", "https://id", "dash", "a.b.c");
        assert!(key.starts_with("ns:gateway:verified:"));
        assert_eq!(key, verified::entry_key("ns", "https://id", "dash", "a.b.c"));
        assert_ne!(key, verified::entry_key("ns", "https://id", "dash", "a.b.d"), "another signature");
        assert_ne!(key, verified::entry_key("ns", "https://id", "other", "a.b.c"), "another audience");
        assert_ne!(key, verified::entry_key("ns", "https://idd", "ash", "a.b.c"), "the parts are delimited");
        assert_ne!(key, verified::entry_key("other", "https://id", "dash", "a.b.c"));
    }

    #[test]
    fn a_verified_entry_lives_until_the_token_expires_with_its_leeway() {
        assert_eq!(verified::entry_ttl(1_000, 60, 900), Some(160));
        assert_eq!(verified::entry_ttl(1_000, 60, 1_059), Some(1));
        assert_eq!(verified::entry_ttl(1_000, 60, 1_060), None);
        assert_eq!(verified::entry_ttl(i64::MAX, 60, 0), Some(i64::MAX));
    }

    #[test]
    fn verified_tokens_are_remembered_until_they_expire_and_the_memory_is_bounded() {
        let mut tokens = VerifiedTokens::new(2);
        tokens.insert("a".into(), 1, 100, 10);
        assert_eq!(tokens.get("a", 100), Some(&1));
        assert_eq!(tokens.get("a", 101), None, "expired");
        assert_eq!(tokens.get("b", 10), None);
        tokens.insert("b".into(), 2, 50, 10);
        // Full at 60: "b" has expired and makes room.
        tokens.insert("c".into(), 3, 200, 60);
        assert_eq!((tokens.len(), tokens.get("a", 60), tokens.get("c", 60)), (2, Some(&1), Some(&3)));
        // Full with live entries: everything goes.
        tokens.insert("d".into(), 4, 200, 60);
        assert_eq!((tokens.len(), tokens.get("a", 60), tokens.get("d", 60)), (1, None, Some(&4)));
    }

    #[test]
    fn forwarded_heads_lose_hop_by_hop_fields_and_client_copies_of_spin_fields() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("host", "localhost:3000"),
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("proxy-connection", "keep-alive"),
            ("upgrade", "h2c"),
            ("transfer-encoding", "chunked"),
            ("te", "trailers"),
            ("spin-client-addr", "198.51.100.9:4444"),
            ("spin-client-addr", "127.0.0.1:5000"),
            ("spin-made-up", "x"),
            ("accept", "*/*"),
        ] {
            headers.append(name, HeaderValue::from_static(value));
        }
        sanitize_head(&mut headers, true);
        let mut names: Vec<_> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["accept", "spin-client-addr"]);
        assert_eq!(headers.get_all("spin-client-addr").iter().count(), 1);
        assert_eq!(headers["spin-client-addr"], "127.0.0.1:5000");
    }

    #[test]
    fn private_paths_are_recognised_in_any_case() {
        for private in ["/internal/tokens", "/internal", "/INTERNAL/sign"] {
            assert!(is_private_path(private), "{private}");
        }
        for public in ["/api/auth/send-otp", "/internals", "/api/internal/x"] {
            assert!(!is_private_path(public), "{public}");
        }
    }

    #[test]
    fn tokens_are_needed_where_the_service_asks_but_not_for_health() {
        assert!(needs_token(Some("required"), "/api/sessions"));
        assert!(!needs_token(Some("required"), "/api/devices/health"));
        assert!(!needs_token(None, "/api/sessions") && !needs_token(Some("off"), "/api/sessions"));
        assert_eq!(bearer(Some("Bearer abc.def.ghi")), Some("abc.def.ghi"));
        assert_eq!(bearer(Some("bearer  abc")), Some("abc"));
        for bad in [None, Some("Basic abc"), Some("Bearer"), Some("Bearer a b")] {
            assert_eq!(bearer(bad), None, "{bad:?}");
        }
        let p = token_problem("session_revoked");
        assert_eq!((p.status(), p.code()), (401, "session_revoked"));
    }

    #[test]
    fn keeps_plain_request_ids_and_replaces_others() {
        assert_eq!(request_id(Some("abc-123_XYZ.9"), 1), "abc-123_XYZ.9");
        assert_eq!(request_id(Some("short"), 0xff), format!("{:032x}", 0xff));
        assert_eq!(request_id(Some("bad id with spaces"), 1).len(), 32);
        assert_eq!(request_id(Some(&"a".repeat(65)), 1).len(), 32);
        assert_eq!(request_id(None, u128::MAX), "f".repeat(32));
    }

    #[test]
    fn body_limit_is_inclusive() {
        assert!(check_body_size(None).is_ok());
        assert!(check_body_size(Some("65536")).is_ok());
        assert_eq!(check_body_size(Some("65537")).unwrap_err().code(), "payload_too_large");
        assert_eq!(check_body_size(Some("-1")).unwrap_err().code(), "bad_content_length");
        assert_eq!(check_body_size(Some("ten")).unwrap_err().status(), 400);
    }
}
