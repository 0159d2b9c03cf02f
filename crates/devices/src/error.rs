//! The devices service's errors, each with a stable code, and their one
//! mapping to HTTP.

use vottery_http::Problem;
use vottery_validate::ValidationError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("this device id is registered to another member")]
    OtherMember,
    #[error("no such device of yours")]
    NotFound,
    #[error("the service is not configured correctly: {0}")]
    Misconfigured(String),
    #[error("storage is unavailable: {0}")]
    Storage(String),
}

impl vottery_http::ApiError for DeviceError {
    fn problem(&self) -> vottery_http::Problem {
        DeviceError::problem(self)
    }
}

impl DeviceError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(e) => e.code(),
            Self::OtherMember => "device_of_another_member",
            Self::NotFound => "device_not_found",
            Self::Misconfigured(_) => "misconfigured",
            Self::Storage(_) => "storage_unavailable",
        }
    }

    /// The problem+json answer; causes of faults stay out of it.
    pub fn problem(&self) -> Problem {
        match self {
            Self::Invalid(e) => e.problem(),
            Self::OtherMember => Problem::new(409, self.code(), "Conflict").with_detail(self.to_string()),
            Self::NotFound => Problem::new(404, self.code(), "Not found").with_detail(self.to_string()),
            Self::Misconfigured(_) => Problem::new(503, self.code(), "Service unavailable")
                .with_detail("the service is not configured correctly"),
            Self::Storage(_) => {
                Problem::new(503, self.code(), "Service unavailable").with_detail("storage is unavailable")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes() {
        let cases = [
            (DeviceError::from(ValidationError::InvalidField("x".into())), 400, "invalid_field"),
            (DeviceError::OtherMember, 409, "device_of_another_member"),
            (DeviceError::NotFound, 404, "device_not_found"),
            (DeviceError::Misconfigured("fingerprint_key".into()), 503, "misconfigured"),
            (DeviceError::Storage("pg at 10.0.0.7".into()), 503, "storage_unavailable"),
        ];
        for (error, status, code) in cases {
            let p = error.problem();
            assert_eq!((p.status(), p.code()), (status, code));
            assert!(!p.to_json().contains("10.0.0.7") && !p.to_json().contains("fingerprint_key"));
        }
    }
}
