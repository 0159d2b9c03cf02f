//! The auth service's errors, each with a stable code, and their one
//! mapping to HTTP.

use vottery_http::Problem;
use vottery_validate::ValidationError;

use crate::code::Channel;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("the email and phone do not belong to one active Sngine account")]
    NotMatched,
    #[error("SMS cannot be sent to this country")]
    CountryNotAllowed,
    #[error("no such verification flow")]
    FlowNotFound,
    #[error("the verification flow has expired; start again")]
    FlowExpired,
    #[error("the codes of this flow are already verified")]
    FlowComplete,
    #[error("the {} code is wrong", .channel.as_str())]
    CodeInvalid { channel: Channel, remaining: u32 },
    #[error("the {} code has expired; ask for a new one", .channel.as_str())]
    CodeExpired { channel: Channel },
    #[error("too many wrong {} codes; ask for a new one", .channel.as_str())]
    CodeAttemptsExhausted { channel: Channel },
    #[error("the {} code was already used", .channel.as_str())]
    CodeUsed { channel: Channel },
    #[error("no {} code has been delivered for this flow; resend it", .channel.as_str())]
    CodeNotDelivered { channel: Channel },
    #[error("a new {} code can be sent in {retry_after} s", .channel.as_str())]
    ResendTooSoon { channel: Channel, retry_after: i64 },
    #[error("no more {} codes can be sent for this flow; start again", .channel.as_str())]
    SendLimitReached { channel: Channel },
    #[error("too many codes were sent to this {scope}; try again later")]
    RateLimited { scope: &'static str, retry_after: i64 },
    #[error("too many wrong codes; this contact is locked for a while")]
    LockedOut { retry_after: i64 },
    #[error("the {} provider refused the message (HTTP {status})", .channel.as_str())]
    ProviderRejected { channel: Channel, status: u16, flow_id: String },
    #[error("the {} provider is unavailable", .channel.as_str())]
    ProviderUnavailable { channel: Channel, flow_id: String },
    #[error("storage is unavailable: {0}")]
    Storage(String),
    #[error("a service this one depends on is unavailable: {0}")]
    Dependency(String),
    #[error("the service is not configured correctly: {0}")]
    Misconfigured(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl vottery_http::ApiError for AuthError {
    fn problem(&self) -> vottery_http::Problem {
        AuthError::problem(self)
    }
}

impl AuthError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(e) => e.code(),
            Self::NotMatched => "contact_not_matched",
            Self::CountryNotAllowed => "phone_country_not_allowed",
            Self::FlowNotFound => "flow_not_found",
            Self::FlowExpired => "flow_expired",
            Self::FlowComplete => "flow_complete",
            Self::CodeInvalid { .. } => "code_invalid",
            Self::CodeExpired { .. } => "code_expired",
            Self::CodeAttemptsExhausted { .. } => "code_attempts_exhausted",
            Self::CodeUsed { .. } => "code_used",
            Self::CodeNotDelivered { .. } => "code_not_delivered",
            Self::ResendTooSoon { .. } => "resend_too_soon",
            Self::SendLimitReached { .. } => "send_limit_reached",
            Self::RateLimited { .. } => "rate_limited",
            Self::LockedOut { .. } => "locked_out",
            Self::ProviderRejected { .. } => "provider_rejected",
            Self::ProviderUnavailable { .. } => "provider_unavailable",
            Self::Storage(_) => "storage_unavailable",
            Self::Dependency(_) => "dependency_unavailable",
            Self::Misconfigured(_) => "misconfigured",
            Self::Internal(_) => "internal_error",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid(e) => e.problem().status(),
            Self::NotMatched | Self::FlowNotFound => 404,
            Self::CountryNotAllowed | Self::CodeInvalid { .. } => 422,
            Self::FlowExpired | Self::CodeExpired { .. } => 410,
            Self::FlowComplete | Self::CodeUsed { .. } | Self::CodeNotDelivered { .. } => 409,
            Self::CodeAttemptsExhausted { .. }
            | Self::ResendTooSoon { .. }
            | Self::SendLimitReached { .. }
            | Self::RateLimited { .. }
            | Self::LockedOut { .. } => 429,
            Self::ProviderRejected { .. } => 502,
            Self::ProviderUnavailable { .. } | Self::Storage(_) | Self::Dependency(_) | Self::Misconfigured(_) => 503,
            Self::Internal(_) => 500,
        }
    }

    fn title(&self) -> &'static str {
        match self.status() {
            404 => "Not found",
            409 => "Conflict",
            410 => "Gone",
            422 => "Unprocessable",
            429 => "Too many requests",
            502 => "Provider error",
            503 => "Service unavailable",
            _ => "Internal error",
        }
    }

    /// The problem+json answer. Faults of storage, dependencies and
    /// configuration keep their cause out of the answer (it is logged).
    pub fn problem(&self) -> Problem {
        if let Self::Invalid(e) = self {
            return e.problem();
        }
        let detail = match self {
            Self::Storage(_) => "storage is unavailable; nothing was changed".to_owned(),
            Self::Dependency(_) => "a service this one depends on is unavailable; nothing was changed".to_owned(),
            Self::Misconfigured(_) => "the service is not configured correctly".to_owned(),
            Self::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        let mut problem = Problem::new(self.status(), self.code(), self.title()).with_detail(detail);
        match self {
            Self::CodeInvalid { channel, remaining } => {
                problem = problem.with("channel", channel.as_str()).with("remaining_attempts", *remaining);
            }
            Self::CodeExpired { channel }
            | Self::CodeAttemptsExhausted { channel }
            | Self::CodeUsed { channel }
            | Self::CodeNotDelivered { channel }
            | Self::SendLimitReached { channel } => problem = problem.with("channel", channel.as_str()),
            Self::ResendTooSoon { channel, retry_after } => {
                problem = problem.with("channel", channel.as_str()).with("retry_after", (*retry_after).max(1));
            }
            Self::RateLimited { retry_after, .. } | Self::LockedOut { retry_after } => {
                problem = problem.with("retry_after", (*retry_after).max(1));
            }
            Self::ProviderRejected { channel, flow_id, .. } | Self::ProviderUnavailable { channel, flow_id } => {
                problem = problem.with("channel", channel.as_str()).with("flow_id", flow_id.as_str());
            }
            _ => {}
        }
        problem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_status_and_code() {
        let c = Channel::Sms;
        let cases: Vec<(AuthError, u16, &str)> = vec![
            (ValidationError::InvalidEmail("x").into(), 400, "invalid_email"),
            (ValidationError::TooLarge { size: 9, limit: 8 }.into(), 413, "payload_too_large"),
            (AuthError::NotMatched, 404, "contact_not_matched"),
            (AuthError::CountryNotAllowed, 422, "phone_country_not_allowed"),
            (AuthError::FlowNotFound, 404, "flow_not_found"),
            (AuthError::FlowExpired, 410, "flow_expired"),
            (AuthError::FlowComplete, 409, "flow_complete"),
            (AuthError::CodeInvalid { channel: c, remaining: 2 }, 422, "code_invalid"),
            (AuthError::CodeExpired { channel: c }, 410, "code_expired"),
            (AuthError::CodeAttemptsExhausted { channel: c }, 429, "code_attempts_exhausted"),
            (AuthError::CodeUsed { channel: c }, 409, "code_used"),
            (AuthError::CodeNotDelivered { channel: c }, 409, "code_not_delivered"),
            (AuthError::ResendTooSoon { channel: c, retry_after: 5 }, 429, "resend_too_soon"),
            (AuthError::SendLimitReached { channel: c }, 429, "send_limit_reached"),
            (AuthError::RateLimited { scope: "phone", retry_after: 5 }, 429, "rate_limited"),
            (AuthError::LockedOut { retry_after: 5 }, 429, "locked_out"),
            (AuthError::ProviderRejected { channel: c, status: 400, flow_id: "f".into() }, 502, "provider_rejected"),
            (AuthError::ProviderUnavailable { channel: c, flow_id: "f".into() }, 503, "provider_unavailable"),
            (AuthError::Storage("redis down".into()), 503, "storage_unavailable"),
            (AuthError::Dependency("users".into()), 503, "dependency_unavailable"),
            (AuthError::Misconfigured("x".into()), 503, "misconfigured"),
            (AuthError::Internal("x".into()), 500, "internal_error"),
        ];
        for (error, status, code) in cases {
            let problem = error.problem();
            assert_eq!((problem.status(), problem.code()), (status, code), "{error:?}");
        }
    }

    #[test]
    fn answers_carry_what_the_client_needs_and_no_cause() {
        let body: serde_json::Value = serde_json::from_str(
            &AuthError::ResendTooSoon { channel: Channel::Email, retry_after: 42 }.problem().to_json(),
        )
        .unwrap();
        assert_eq!((body["retry_after"].as_i64(), body["channel"].as_str()), (Some(42), Some("email")));
        let body = AuthError::Storage("redis://secret@host".into()).problem().to_json();
        assert!(!body.contains("secret"), "{body}");
        let flow = AuthError::ProviderUnavailable { channel: Channel::Sms, flow_id: "abc".into() }.problem();
        assert!(flow.to_json().contains("\"flow_id\":\"abc\""));
    }
}
