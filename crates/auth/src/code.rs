use std::fmt;

use serde::{Deserialize, Serialize};
use vottery_validate::ValidationError;

/// Where a code travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub const BOTH: [Channel; 2] = [Channel::Email, Channel::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Sms => "sms",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "email" => Ok(Self::Email),
            "sms" => Ok(Self::Sms),
            _ => Err(ValidationError::InvalidField("`channel` is `email` or `sms`".into())),
        }
    }
}

/// A one-time code as typed by the visitor: exactly `digits` ASCII digits
/// (spaces and dashes a visitor may type in between are dropped).
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

impl OtpCode {
    pub fn parse(raw: &str, digits: u8) -> Result<Self, ValidationError> {
        if raw.len() > 32 {
            return Err(ValidationError::InvalidField("a code is too long".into()));
        }
        let code: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if code.len() != usize::from(digits) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValidationError::InvalidField(format!("a code is {digits} digits")));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpCode(******)")
    }
}

/// The keyed hash codes are stored as (HMAC-SHA-256 under the service's
/// secret): implemented by the component over the crypto dependency, and
/// natively in tests.
pub trait CodeHasher {
    fn mac(&self, message: &[u8]) -> Vec<u8>;
}

/// What is hashed: the flow, the channel and the code, so a code never
/// matches another flow's or channel's hash.
pub(crate) fn code_message(flow: &str, channel: Channel, code: &OtpCode) -> Vec<u8> {
    format!("vottery-otp\0{flow}\0{}\0{}", channel.as_str(), code.as_str()).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_exactly_their_digits() {
        assert_eq!(OtpCode::parse("123456", 6).unwrap().as_str(), "123456");
        assert_eq!(OtpCode::parse(" 123-456 ", 6).unwrap().as_str(), "123456");
        for bad in ["12345", "1234567", "12345a", "", "١٢٣٤٥٦", &"1".repeat(40)] {
            assert_eq!(OtpCode::parse(bad, 6).unwrap_err().code(), "invalid_field", "{bad}");
        }
        assert!(!format!("{:?}", OtpCode::parse("123456", 6).unwrap()).contains("123"));
    }

    #[test]
    fn the_hashed_message_binds_flow_and_channel() {
        let code = OtpCode::parse("123456", 6).unwrap();
        assert_ne!(code_message("f", Channel::Email, &code), code_message("f", Channel::Sms, &code));
        assert_ne!(code_message("f", Channel::Email, &code), code_message("g", Channel::Email, &code));
    }
}
