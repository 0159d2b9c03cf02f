//! Input validation shared by every service. Parse, don't validate: a
//! request body becomes typed values ([`Email`], [`PhoneE164`], [`UserId`],
//! [`SessionId`]) or a [`ValidationError`] with a stable code, and core
//! logic never sees a raw string.
#![forbid(unsafe_code)]

mod base64url;
mod contact;
mod ids;
mod json;
mod plans;

pub use base64url::{decode_base64url, encode_base64url};
pub use contact::{Email, PhoneE164};
pub use ids::{SessionId, UserId};
pub use json::{MAX_JSON_BODY, check_json_media_type, parse_json};
pub use plans::{code_of_international as calling_code_of_international, code_of_region as calling_code_of_region};

use vottery_http::Problem;

/// Why an input was refused; `code()` is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("the body is {size} bytes; at most {limit} are accepted")]
    TooLarge { size: usize, limit: usize },
    #[error("the body must be application/json, not {0}")]
    UnsupportedMediaType(String),
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("unknown field `{0}`")]
    UnknownField(String),
    #[error("missing field `{0}`")]
    MissingField(String),
    #[error("invalid field: {0}")]
    InvalidField(String),
    #[error("invalid email address: {0}")]
    InvalidEmail(&'static str),
    #[error("invalid phone number: {0}")]
    InvalidPhone(&'static str),
    #[error("`{field}` is not unpadded base64url{reason}")]
    InvalidBase64 { field: &'static str, reason: &'static str },
}

impl vottery_http::ApiError for ValidationError {
    fn problem(&self) -> vottery_http::Problem {
        ValidationError::problem(self)
    }
}

impl ValidationError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::MalformedJson(_) => "malformed_json",
            Self::UnknownField(_) => "unknown_field",
            Self::MissingField(_) => "missing_field",
            Self::InvalidField(_) => "invalid_field",
            Self::InvalidEmail(_) => "invalid_email",
            Self::InvalidPhone(_) => "invalid_phone",
            Self::InvalidBase64 { .. } => "invalid_base64",
        }
    }

    /// The problem+json answer: 413 for size, 415 for the media type, 400
    /// for the rest.
    pub fn problem(&self) -> Problem {
        let status = match self {
            Self::TooLarge { .. } => 413,
            Self::UnsupportedMediaType(_) => 415,
            _ => 400,
        };
        let title = match self {
            Self::TooLarge { .. } => "Request body too large",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::InvalidEmail(_) | Self::InvalidPhone(_) => "Invalid contact",
            _ => "Invalid request body",
        };
        Problem::new(status, self.code(), title).with_detail(self.to_string())
    }
}
