//! The users service's errors, each with a stable code, and their one
//! mapping to HTTP.

use vottery_http::Problem;
use vottery_validate::ValidationError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsersError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("the contacts no longer match one active Sngine account ({0})")]
    NotMatched(&'static str),
    #[error("the access token names no Vottery user")]
    UserNotFound,
    #[error("the request carries no verified member identity")]
    TokenMissing,
    #[error("`If-Match` is required: send the ETag of the profile as last read")]
    PreconditionRequired,
    #[error("the profile has changed since it was read: read it again and reapply the change")]
    PreconditionFailed,
    #[error("`{0}` is not an activity type this service records")]
    ActivityTypeUnknown(String),
    #[error("`at` must lie between 24 hours ago and 5 minutes from now")]
    ActivityTimeOutOfRange,
    #[error("`details` is {0} bytes as JSON; at most 1024 are kept")]
    ActivityDetailsTooLarge(usize),
    #[error("this needs the `{0}` permission")]
    PermissionDenied(&'static str),
    #[error("`{0}` is not a role")]
    RoleUnknown(String),
    #[error("only a role one holds can be granted or revoked")]
    RoleNotHeld,
    #[error("`member` is every member's: it is neither granted nor revoked")]
    RoleNotGrantable,
    #[error("the member holds no such role")]
    GrantNotFound,
    #[error("the last user_admin keeps the role: grant it to another member first")]
    LastUserAdmin,
    #[error("the cursor is not one this service gave out")]
    CursorInvalid,
    #[error("every cell of the summary holds fewer than {0} consenting members: nothing can be shown")]
    SummarySuppressed(u32),
    #[error("this needs a passkey sign-in within the last {0} seconds: sign in with the passkey again")]
    RecentPasskeyRequired(i64),
    #[error("the service is misconfigured: {0}")]
    Misconfigured(String),
    #[error("storage is unavailable: {0}")]
    Storage(String),
    #[error("a service this one depends on is unavailable: {0}")]
    Dependency(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl vottery_http::ApiError for UsersError {
    fn problem(&self) -> vottery_http::Problem {
        UsersError::problem(self)
    }
}

impl UsersError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(e) => e.code(),
            Self::NotMatched(_) => "contact_not_matched",
            Self::UserNotFound => "user_not_found",
            Self::TokenMissing => "token_missing",
            Self::PreconditionRequired => "precondition_required",
            Self::PreconditionFailed => "precondition_failed",
            Self::ActivityTypeUnknown(_) => "activity_type_unknown",
            Self::ActivityTimeOutOfRange => "activity_time_out_of_range",
            Self::ActivityDetailsTooLarge(_) => "activity_details_too_large",
            Self::PermissionDenied(_) => "forbidden",
            Self::RoleUnknown(_) => "role_unknown",
            Self::RoleNotHeld => "role_not_held",
            Self::RoleNotGrantable => "role_not_grantable",
            Self::GrantNotFound => "grant_not_found",
            Self::LastUserAdmin => "last_user_admin",
            Self::CursorInvalid => "cursor_invalid",
            Self::SummarySuppressed(_) => "demographics_too_few",
            Self::RecentPasskeyRequired(_) => "insufficient_user_authentication",
            Self::Misconfigured(_) => "misconfigured",
            Self::Storage(_) => "storage_unavailable",
            Self::Dependency(_) => "dependency_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    /// The problem+json answer; causes of faults stay out of it.
    pub fn problem(&self) -> Problem {
        match self {
            Self::Invalid(e) => e.problem(),
            Self::NotMatched(_) => Problem::new(409, self.code(), "Conflict").with_detail(self.to_string()),
            Self::UserNotFound => Problem::new(404, self.code(), "Not found").with_detail(self.to_string()),
            Self::TokenMissing => Problem::new(401, self.code(), "Unauthorized").with_detail(self.to_string()),
            Self::PreconditionRequired => {
                Problem::new(428, self.code(), "Precondition required").with_detail(self.to_string())
            }
            Self::PreconditionFailed => {
                Problem::new(412, self.code(), "Precondition failed").with_detail(self.to_string())
            }
            Self::ActivityTypeUnknown(_) | Self::ActivityTimeOutOfRange | Self::ActivityDetailsTooLarge(_) => {
                Problem::new(400, self.code(), "Invalid request body").with_detail(self.to_string())
            }
            Self::PermissionDenied(_) | Self::RoleNotHeld => {
                Problem::new(403, self.code(), "Forbidden").with_detail(self.to_string())
            }
            Self::RoleUnknown(_) | Self::GrantNotFound => {
                Problem::new(404, self.code(), "Not found").with_detail(self.to_string())
            }
            Self::CursorInvalid => Problem::new(400, self.code(), "Bad request").with_detail(self.to_string()),
            Self::RoleNotGrantable => Problem::new(400, self.code(), "Bad request").with_detail(self.to_string()),
            Self::LastUserAdmin => Problem::new(409, self.code(), "Conflict").with_detail(self.to_string()),
            Self::SummarySuppressed(_) => {
                Problem::new(422, self.code(), "Unprocessable content").with_detail(self.to_string())
            }
            Self::RecentPasskeyRequired(max_age) => {
                Problem::new(401, self.code(), "Unauthorized").with_detail(self.to_string()).with("max_age", *max_age)
            }
            Self::Misconfigured(_) => {
                Problem::new(503, self.code(), "Service unavailable").with_detail("the service is misconfigured")
            }
            Self::Storage(_) => {
                Problem::new(503, self.code(), "Service unavailable").with_detail("storage is unavailable")
            }
            Self::Dependency(_) => Problem::new(503, self.code(), "Service unavailable")
                .with_detail("a service this one depends on is unavailable"),
            Self::Internal(_) => Problem::new(500, self.code(), "Internal error"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes() {
        let cases = [
            (UsersError::from(ValidationError::InvalidPhone("x")), 400, "invalid_phone"),
            (UsersError::NotMatched("banned"), 409, "contact_not_matched"),
            (UsersError::UserNotFound, 404, "user_not_found"),
            (UsersError::TokenMissing, 401, "token_missing"),
            (UsersError::PreconditionRequired, 428, "precondition_required"),
            (UsersError::PreconditionFailed, 412, "precondition_failed"),
            (UsersError::ActivityTypeUnknown("x.y".into()), 400, "activity_type_unknown"),
            (UsersError::ActivityTimeOutOfRange, 400, "activity_time_out_of_range"),
            (UsersError::ActivityDetailsTooLarge(2000), 400, "activity_details_too_large"),
            (UsersError::PermissionDenied("roles:grant"), 403, "forbidden"),
            (UsersError::RoleUnknown("root".into()), 404, "role_unknown"),
            (UsersError::RoleNotHeld, 403, "role_not_held"),
            (UsersError::RoleNotGrantable, 400, "role_not_grantable"),
            (UsersError::GrantNotFound, 404, "grant_not_found"),
            (UsersError::LastUserAdmin, 409, "last_user_admin"),
            (UsersError::SummarySuppressed(10), 422, "demographics_too_few"),
            (UsersError::CursorInvalid, 400, "cursor_invalid"),
            (UsersError::RecentPasskeyRequired(300), 401, "insufficient_user_authentication"),
            (UsersError::Misconfigured("activity_types at 10.0.0.1".into()), 503, "misconfigured"),
            (UsersError::Storage("pg at 10.0.0.1".into()), 503, "storage_unavailable"),
            (UsersError::Dependency("security".into()), 503, "dependency_unavailable"),
            (UsersError::Internal("x".into()), 500, "internal_error"),
        ];
        for (error, status, code) in cases {
            let p = error.problem();
            assert_eq!((p.status(), p.code()), (status, code));
            assert!(!p.to_json().contains("10.0.0.1"));
        }
    }
}
