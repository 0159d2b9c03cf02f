//! Binary fields travel as unpadded base64url (RFC 4648 §5), as in JOSE.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::ValidationError;

/// Decodes `value` of `field`, refusing padding, other alphabets and
/// anything over `max` decoded bytes.
pub fn decode_base64url(field: &'static str, value: &str, max: usize) -> Result<Vec<u8>, ValidationError> {
    if value.len() > max.div_ceil(3) * 4 {
        return Err(ValidationError::InvalidBase64 { field, reason: " of an accepted length" });
    }
    URL_SAFE_NO_PAD.decode(value).map_err(|_| ValidationError::InvalidBase64 { field, reason: "" }).and_then(|bytes| {
        if bytes.len() > max {
            Err(ValidationError::InvalidBase64 { field, reason: " of an accepted length" })
        } else {
            Ok(bytes)
        }
    })
}

pub fn encode_base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_base64url() {
        assert_eq!(decode_base64url("m", "aGk", 10).unwrap(), b"hi");
        assert_eq!(encode_base64url(b"hi"), "aGk");
        for bad in ["aGk=", "a+/k", "a", "aGk!", " aGk"] {
            assert_eq!(decode_base64url("m", bad, 10).unwrap_err().code(), "invalid_base64", "{bad}");
        }
        assert_eq!(decode_base64url("m", &encode_base64url(&[0; 11]), 10).unwrap_err().code(), "invalid_base64");
        assert!(decode_base64url("m", &encode_base64url(&[0; 10]), 10).is_ok());
    }
}
