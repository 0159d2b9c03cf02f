//! Session errors, each with a stable code, and their one mapping to HTTP.

use vottery_http::Problem;
use vottery_validate::ValidationError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("no refresh token came, in the cookie or the body: nobody is signed in here")]
    RefreshMissing,
    #[error("the refresh token is not known")]
    RefreshUnknown,
    #[error("the refresh token has expired")]
    RefreshExpired,
    #[error("the refresh token was already used; the session has been revoked")]
    RefreshReused,
    #[error("the session has been revoked")]
    SessionRevoked,
    #[error("the session has expired; sign in again")]
    SessionExpired,
    #[error("the token belongs to another device")]
    DeviceMismatch,
    #[error("no such session of yours")]
    SessionNotFound,
    #[error("the device is not registered to this member")]
    DeviceNotRegistered,
    #[error("a request carrying the refresh cookie must come from an allowed origin")]
    CsrfOriginRefused,
    #[error("storage is unavailable: {0}")]
    Storage(String),
}

impl vottery_http::ApiError for SessionError {
    fn problem(&self) -> vottery_http::Problem {
        SessionError::problem(self)
    }
}

impl SessionError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(e) => e.code(),
            Self::RefreshMissing => "refresh_token_missing",
            Self::RefreshUnknown => "refresh_token_unknown",
            Self::RefreshExpired => "refresh_token_expired",
            Self::RefreshReused => "refresh_token_reused",
            Self::SessionRevoked => "session_revoked",
            Self::SessionExpired => "session_expired",
            Self::DeviceMismatch => "device_mismatch",
            Self::SessionNotFound => "session_not_found",
            Self::DeviceNotRegistered => "device_not_registered",
            Self::CsrfOriginRefused => "csrf_origin_refused",
            Self::Storage(_) => "storage_unavailable",
        }
    }

    /// The refusal a service answered with this code (for passing a chained
    /// service's refusal on); `None` for any other code.
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::RefreshMissing,
            Self::RefreshUnknown,
            Self::RefreshExpired,
            Self::RefreshReused,
            Self::SessionRevoked,
            Self::SessionExpired,
            Self::DeviceMismatch,
        ]
        .into_iter()
        .find(|e| e.code() == code)
    }

    /// 401 for every refusal of a token (the client signs in again), 503
    /// for storage; the cause of a fault stays out of the answer.
    pub fn problem(&self) -> Problem {
        match self {
            Self::Invalid(e) => e.problem(),
            Self::Storage(_) => {
                Problem::new(503, self.code(), "Service unavailable").with_detail("storage is unavailable")
            }
            Self::SessionNotFound => Problem::new(404, self.code(), "Not found").with_detail(self.to_string()),
            Self::DeviceNotRegistered => Problem::new(409, self.code(), "Conflict").with_detail(self.to_string()),
            Self::CsrfOriginRefused => Problem::new(403, self.code(), "Forbidden").with_detail(self.to_string()),
            _ => Problem::new(401, self.code(), "Unauthorized").with_detail(self.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes() {
        let cases = [
            (SessionError::from(ValidationError::InvalidField("x".into())), 400, "invalid_field"),
            (SessionError::RefreshMissing, 401, "refresh_token_missing"),
            (SessionError::RefreshUnknown, 401, "refresh_token_unknown"),
            (SessionError::RefreshExpired, 401, "refresh_token_expired"),
            (SessionError::RefreshReused, 401, "refresh_token_reused"),
            (SessionError::SessionRevoked, 401, "session_revoked"),
            (SessionError::SessionExpired, 401, "session_expired"),
            (SessionError::DeviceMismatch, 401, "device_mismatch"),
            (SessionError::SessionNotFound, 404, "session_not_found"),
            (SessionError::DeviceNotRegistered, 409, "device_not_registered"),
            (SessionError::CsrfOriginRefused, 403, "csrf_origin_refused"),
            (SessionError::Storage("redis at 10.0.0.9".into()), 503, "storage_unavailable"),
        ];
        for (error, status, code) in cases {
            let p = error.problem();
            assert_eq!((p.status(), p.code()), (status, code));
            assert!(!p.to_json().contains("10.0.0.9"));
            if status == 401 {
                assert_eq!(SessionError::from_code(code).map(|e| e.code()), Some(code));
            }
        }
        assert_eq!(SessionError::from_code("internal_error"), None);
    }
}
