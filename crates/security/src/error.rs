//! The security service's errors, each with a stable code, and their one
//! mapping to HTTP.

use vottery_http::Problem;
use vottery_validate::ValidationError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecurityError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("unknown key purpose `{0}`")]
    UnknownPurpose(String),
    #[error("no key `{0}`")]
    KeyNotFound(String),
    #[error("key `{kid}` is not a {expected} key")]
    WrongPurpose { kid: String, expected: &'static str },
    #[error("key `{kid}` is {state} and cannot be used for {operation}")]
    KeyNotUsable { kid: String, state: &'static str, operation: &'static str },
    #[error("key `{0}` has been destroyed")]
    KeyDestroyed(String),
    #[error("key `{kid}` cannot go from {from} to {to}")]
    InvalidTransition { kid: String, from: &'static str, to: &'static str },
    #[error("no active key for {0}")]
    NoActiveKey(&'static str),
    #[error("another rotation of this purpose happened at the same time; retry")]
    Conflict,
    #[error("this operation needs an administrator's access token")]
    Unauthenticated(String),
    #[error("{0} is not allowed for this caller")]
    Forbidden(&'static str),
    #[error("the ciphertext or its associated data has been altered, or the key is wrong")]
    Tampered,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("{code}: {detail}")]
    Token { code: &'static str, detail: String },
    #[error("invalid key material: {0}")]
    InvalidKey(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("the master key is not configured correctly: {0}")]
    MasterKeyInvalid(String),
    #[error("key material is wrapped by master key {0}, which is not configured")]
    MasterKeyUnavailable(String),
    #[error("the stored key `{0}` does not unwrap: it was altered or moved")]
    KeyIntegrity(String),
    #[error("a stored key record is corrupt: {0}")]
    Corrupt(String),
    #[error("the service is not configured correctly: {0}")]
    Misconfigured(String),
    #[error("storage is unavailable: {0}")]
    Storage(String),
    #[error("the crypto dependency failed: {0}")]
    Internal(String),
}

impl vottery_http::ApiError for SecurityError {
    fn problem(&self) -> vottery_http::Problem {
        SecurityError::problem(self)
    }
}

impl SecurityError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(e) => e.code(),
            Self::UnknownPurpose(_) => "unknown_purpose",
            Self::KeyNotFound(_) => "key_not_found",
            Self::WrongPurpose { .. } => "key_purpose_mismatch",
            Self::KeyNotUsable { .. } => "key_state_conflict",
            Self::KeyDestroyed(_) => "key_destroyed",
            Self::InvalidTransition { .. } => "key_transition_invalid",
            Self::NoActiveKey(_) => "no_active_key",
            Self::Conflict => "rotation_conflict",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::Tampered => "ciphertext_tampered",
            Self::BadSignature => "signature_invalid",
            Self::Token { code, .. } => code,
            Self::InvalidKey(_) => "invalid_key",
            Self::InvalidInput(_) => "invalid_input",
            Self::MasterKeyInvalid(_) => "master_key_invalid",
            Self::MasterKeyUnavailable(_) => "master_key_unavailable",
            Self::KeyIntegrity(_) => "key_integrity",
            Self::Corrupt(_) => "key_record_corrupt",
            Self::Misconfigured(_) => "misconfigured",
            Self::Storage(_) => "storage_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid(e) => e.problem().status(),
            Self::UnknownPurpose(_) | Self::InvalidInput(_) | Self::InvalidKey(_) => 400,
            Self::Unauthenticated(_) => 401,
            Self::Forbidden(_) => 403,
            Self::KeyNotFound(_) => 404,
            Self::KeyNotUsable { .. } | Self::InvalidTransition { .. } | Self::Conflict => 409,
            Self::KeyDestroyed(_) => 410,
            Self::WrongPurpose { .. } | Self::Tampered | Self::BadSignature | Self::Token { .. } => 422,
            Self::MasterKeyInvalid(_)
            | Self::MasterKeyUnavailable(_)
            | Self::NoActiveKey(_)
            | Self::Misconfigured(_)
            | Self::Storage(_) => 503,
            Self::KeyIntegrity(_) | Self::Corrupt(_) | Self::Internal(_) => 500,
        }
    }

    fn title(&self) -> &'static str {
        match self.status() {
            400 => "Invalid request",
            401 => "Authentication required",
            403 => "Forbidden",
            404 => "Not found",
            409 => "Conflict with the key's state",
            410 => "Key destroyed",
            422 => "Verification failed",
            503 => "Service unavailable",
            _ => "Internal error",
        }
    }

    /// The problem+json answer. Server-side faults say what failed without
    /// echoing secrets (no key material or master key ever appears).
    pub fn problem(&self) -> Problem {
        match self {
            Self::Invalid(e) => e.problem(),
            other => Problem::new(other.status(), other.code(), other.title()).with_detail(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_maps_to_one_status_and_code() {
        let cases = [
            (SecurityError::Invalid(ValidationError::UnknownField("x".into())), 400, "unknown_field"),
            (SecurityError::Invalid(ValidationError::TooLarge { size: 2, limit: 1 }), 413, "payload_too_large"),
            (SecurityError::UnknownPurpose("x".into()), 400, "unknown_purpose"),
            (SecurityError::InvalidInput("x".into()), 400, "invalid_input"),
            (SecurityError::InvalidKey("x".into()), 400, "invalid_key"),
            (SecurityError::Unauthenticated("x".into()), 401, "unauthenticated"),
            (SecurityError::Forbidden("sign"), 403, "forbidden"),
            (SecurityError::KeyNotFound("k".into()), 404, "key_not_found"),
            (
                SecurityError::KeyNotUsable { kid: "k".into(), state: "retired", operation: "x" },
                409,
                "key_state_conflict",
            ),
            (SecurityError::InvalidTransition { kid: "k".into(), from: "a", to: "b" }, 409, "key_transition_invalid"),
            (SecurityError::Conflict, 409, "rotation_conflict"),
            (SecurityError::KeyDestroyed("k".into()), 410, "key_destroyed"),
            (SecurityError::WrongPurpose { kid: "k".into(), expected: "x" }, 422, "key_purpose_mismatch"),
            (SecurityError::Tampered, 422, "ciphertext_tampered"),
            (SecurityError::BadSignature, 422, "signature_invalid"),
            (SecurityError::Token { code: "token_expired", detail: "x".into() }, 422, "token_expired"),
            (SecurityError::NoActiveKey("x"), 503, "no_active_key"),
            (SecurityError::MasterKeyInvalid("x".into()), 503, "master_key_invalid"),
            (SecurityError::MasterKeyUnavailable("mk".into()), 503, "master_key_unavailable"),
            (SecurityError::Storage("x".into()), 503, "storage_unavailable"),
            (SecurityError::Misconfigured("x".into()), 503, "misconfigured"),
            (SecurityError::KeyIntegrity("k".into()), 500, "key_integrity"),
            (SecurityError::Corrupt("x".into()), 500, "key_record_corrupt"),
            (SecurityError::Internal("x".into()), 500, "internal_error"),
        ];
        for (error, status, code) in cases {
            let problem = error.problem();
            assert_eq!((problem.status(), problem.code()), (status, code), "{error:?}");
            let json: serde_json::Value = serde_json::from_str(&problem.to_json()).unwrap();
            assert_eq!(json["type"], format!("urn:vottery:problem:{code}"));
        }
    }
}
