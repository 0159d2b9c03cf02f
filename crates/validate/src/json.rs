//! Strict JSON bodies: size-limited, and (with `deny_unknown_fields` on the
//! target type) no field the type does not name.

use serde::de::DeserializeOwned;

use crate::ValidationError;

/// Default limit for a JSON request body.
pub const MAX_JSON_BODY: usize = 16 * 1024;

/// Parses `body` into `T`, refusing bodies over `limit` bytes.
pub fn parse_json<T: DeserializeOwned>(body: &[u8], limit: usize) -> Result<T, ValidationError> {
    if body.len() > limit {
        return Err(ValidationError::TooLarge { size: body.len(), limit });
    }
    serde_json::from_slice(body).map_err(classify)
}

/// Accepts `application/json` (any case, with parameters such as
/// `charset=utf-8`) and nothing else: a missing type, `text/plain` and the
/// form types are what a cross-site page can send without a CORS preflight.
pub fn check_json_media_type(content_type: Option<&str>) -> Result<(), ValidationError> {
    let Some(value) = content_type else {
        return Err(ValidationError::UnsupportedMediaType("a body without a Content-Type".into()));
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        let shown: String = essence.chars().filter(|c| c.is_ascii_graphic()).take(64).collect();
        Err(ValidationError::UnsupportedMediaType(format!("`{shown}`")))
    }
}

fn classify(e: serde_json::Error) -> ValidationError {
    let text = e.to_string();
    let quoted = |prefix: &str| {
        text.strip_prefix(prefix).and_then(|rest| rest.split('`').next()).map(str::to_owned).unwrap_or_default()
    };
    if e.is_syntax() || e.is_eof() {
        ValidationError::MalformedJson(text)
    } else if text.starts_with("unknown field `") {
        ValidationError::UnknownField(quoted("unknown field `"))
    } else if text.starts_with("missing field `") {
        ValidationError::MissingField(quoted("missing field `"))
    } else {
        ValidationError::InvalidField(text)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[test]
    fn only_json_is_accepted_as_a_body_media_type() {
        for good in ["application/json", "Application/JSON", "application/json; charset=utf-8"] {
            assert_eq!(check_json_media_type(Some(good)), Ok(()), "{good}");
        }
        for bad in [
            None,
            Some("text/plain"),
            Some("text/plain; charset=utf-8"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonp"),
            Some(""),
        ] {
            let refused = check_json_media_type(bad).unwrap_err();
            assert_eq!((refused.code(), refused.problem().status()), ("unsupported_media_type", 415), "{bad:?}");
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SendOtp {
        email: String,
        #[allow(dead_code)]
        phone: String,
    }

    #[test]
    fn strict_bodies() {
        let ok: SendOtp = parse_json(br#"{"email":"a@b.c","phone":"+1"}"#, 100).unwrap();
        assert_eq!(ok.email, "a@b.c");
        let err = |body: &[u8]| parse_json::<SendOtp>(body, 100).unwrap_err();
        assert_eq!(
            err(br#"{"email":"a@b.c","phone":"+1","admin":true}"#),
            ValidationError::UnknownField("admin".into())
        );
        assert_eq!(err(br#"{"email":"a@b.c"}"#), ValidationError::MissingField("phone".into()));
        assert_eq!(err(br#"{"email":1,"phone":"+1"}"#).code(), "invalid_field");
        assert_eq!(err(br#"{"email":"#).code(), "malformed_json");
        assert_eq!(err(b"not json").code(), "malformed_json");
        assert_eq!(parse_json::<SendOtp>(&[b' '; 101], 100).unwrap_err().problem().status(), 413);
    }
}
