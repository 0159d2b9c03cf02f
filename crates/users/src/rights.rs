//! The member's data rights: their export and their erasure. Both need a
//! passkey ceremony within the last [`RECENT_PASSKEY_SECONDS`] (the access
//! token's `auth_time`, which the gateway passes as `vottery-auth-time`);
//! an older session is answered as RFC 9470 step-up asks
//! (`401 insufficient_user_authentication` with `max_age`), and the client
//! signs in with the passkey again.
//!
//! Erasure crosses three services and cannot be one transaction, so it is
//! ordered for retries: each step is idempotent, the member's access
//! token stays valid until the last one, and success is answered only
//! after all three. Only the first step needs the recent passkey: once the
//! account is gone, the same session finishes the erasure (the passkeys
//! may be gone by then).
//!
//! ```text
//!  DELETE /api/users/profile (auth_time within 300 s)
//!       |
//!       v
//!  [users] account row deleted: sealed contacts, wrapped data key,
//!          profile, grants, demographics and reports with it (cascade),
//!          one `member.erased` audit row; 409 if the member is the last
//!          user_admin (nothing written). Already gone: a retry, go on.
//!       |
//!       v
//!  [auth] every passkey deleted (no new session can be opened)
//!       |
//!       v
//!  [devices] every session revoked, devices deleted, revocation cache
//!            written (this ends the member's access token)
//!       |
//!       v
//!  200 erased.   A failure at any arrow: 503, and the same request again
//!                (with the same session, however old) completes the rest.
//! ```
//!
//! What stays is keyed by the member's random user id, which nothing maps
//! back to a person once the account row is gone: the audit rows (security
//! records; those of sign-ins and code checks hold the client address) and
//! the revoked session rows (device id, methods, times). An erased member
//! who comes back from Sngine matches their Sngine account again and starts
//! at step 1 with a new user id.

use crate::UsersError;

/// How recent the passkey ceremony behind the session must be.
pub const RECENT_PASSKEY_SECONDS: i64 = 300;

/// How far in the future an `auth_time` may lie (clocks of replicas drift).
const CLOCK_SKEW_SECONDS: i64 = 60;

/// Whether the session's passkey ceremony (`auth_time`, seconds since the
/// epoch, as the gateway passes it) was recent enough at `now`.
pub fn require_recent_passkey(auth_time: Option<&str>, now: i64) -> Result<(), UsersError> {
    let at = auth_time.and_then(|t| t.parse::<i64>().ok());
    match at {
        Some(at) if at <= now + CLOCK_SKEW_SECONDS && now - at <= RECENT_PASSKEY_SECONDS => Ok(()),
        _ => Err(UsersError::RecentPasskeyRequired(RECENT_PASSKEY_SECONDS)),
    }
}

/// What the users service's own step of an erasure found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountErasure {
    /// The account and everything sealed under its data key are gone.
    Erased,
    /// No account: an earlier attempt erased it; the other steps go on.
    AlreadyGone,
    /// The member is the last `user_admin`: nothing was written.
    LastUserAdmin,
}

impl AccountErasure {
    /// From the statement's counts: accounts found, refusals, deletions.
    pub fn from_counts(found: i64, blocked: i64, deleted: i64) -> Self {
        match (found, blocked, deleted) {
            (0, _, _) => Self::AlreadyGone,
            (_, b, _) if b > 0 => Self::LastUserAdmin,
            (_, _, d) if d > 0 => Self::Erased,
            _ => Self::AlreadyGone,
        }
    }

    /// Whether the remaining steps run.
    pub fn proceed(self) -> Result<(), UsersError> {
        match self {
            Self::LastUserAdmin => Err(UsersError::LastUserAdmin),
            Self::Erased | Self::AlreadyGone => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_passkey_ceremony_within_five_minutes_is_recent() {
        for age in [0, 1, 299, 300] {
            assert_eq!(require_recent_passkey(Some(&(NOW - age).to_string()), NOW), Ok(()), "{age}");
        }
    }

    #[test]
    fn an_older_ceremony_a_missing_or_unreadable_time_or_one_far_ahead_asks_for_a_new_one() {
        let refused = Err(UsersError::RecentPasskeyRequired(300));
        for raw in [Some((NOW - 301).to_string()), None, Some("soon".into()), Some((NOW + 61).to_string())] {
            assert_eq!(require_recent_passkey(raw.as_deref(), NOW), refused, "{raw:?}");
        }
        assert_eq!(require_recent_passkey(Some(&(NOW + 60).to_string()), NOW), Ok(()));
    }

    #[test]
    fn an_erasure_goes_on_after_a_retry_and_stops_for_the_last_administrator() {
        assert_eq!(AccountErasure::from_counts(1, 0, 1), AccountErasure::Erased);
        assert_eq!(AccountErasure::from_counts(0, 0, 0), AccountErasure::AlreadyGone);
        assert_eq!(AccountErasure::from_counts(1, 1, 0), AccountErasure::LastUserAdmin);
        assert_eq!(AccountErasure::LastUserAdmin.proceed(), Err(UsersError::LastUserAdmin));
        assert_eq!(AccountErasure::AlreadyGone.proceed(), Ok(()));
    }
}
