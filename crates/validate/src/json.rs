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
