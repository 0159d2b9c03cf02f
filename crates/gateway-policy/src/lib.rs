//! What the gateway middleware decides for every public request, as plain
//! functions: which request id to carry, whether the declared body is too
//! large, and which headers every response gets.
#![forbid(unsafe_code)]

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
    ("referrer-policy", "no-referrer"),
    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
    ("cross-origin-resource-policy", "same-origin"),
];

/// Headers a response gets unless the service chose its own (the JWKS is
/// cacheable; nothing else is).
pub const DEFAULT_HEADERS: &[(&str, &str)] = &[("cache-control", "no-store")];

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

#[cfg(test)]
mod tests {
    use super::*;

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
