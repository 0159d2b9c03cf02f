//! Send limits (fixed windows of `send_window` seconds) and the lockout
//! after repeated wrong codes. The counters live in the store; this decides.
//!
//! The lockout belongs to a pair of contacts (the email and phone a flow was
//! opened for), so wrong guesses on a decoy flow, whose pair matched no
//! account, never touch a member's budget. Every code a verify request
//! carries spends one try, reserved atomically with the check before any
//! code is compared and given back afterwards unless it was a wrong guess:
//!
//! ```text
//!  open ──wrong guess──▶ open (tries in window +1, consecutive +1)
//!   │  ▲                   │ tries in window reach lockout_failures
//!   │  └──lock expires──── locked (lockout_seconds, doubled for each lockout
//!   │                        in failure_memory, at most lockout_max_seconds)
//!   └─ consecutive reach failure_cap ──▶ capped (until failure_memory passes
//!                                        without a failure)
//!  both codes proved ──▶ consecutive count reset
//! ```

use vottery_validate::PhoneE164;

use crate::error::AuthError;
use crate::policy::Policy;

/// What a send limit counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendScope {
    Ip,
    Email,
    Phone,
    /// Calling code and the first national digits: SMS pumping spreads over
    /// many numbers of one expensive range.
    Prefix,
}

impl SendScope {
    pub const ALL: [SendScope; 4] = [SendScope::Ip, SendScope::Email, SendScope::Phone, SendScope::Prefix];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ip => "ip",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Prefix => "phone_prefix",
        }
    }

    fn limit(self, p: &Policy) -> u32 {
        match self {
            Self::Ip => p.ip_sends,
            Self::Email => p.email_sends,
            Self::Phone => p.phone_sends,
            Self::Prefix => p.prefix_sends,
        }
    }
}

/// The counters of one send attempt, each already incremented for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendCounts {
    pub counts: Vec<(SendScope, u64)>,
}

impl SendCounts {
    /// The window `now` falls in: its number and the second it ends.
    pub fn window(now: i64, p: &Policy) -> (i64, i64) {
        let index = now.div_euclid(p.send_window);
        (index, (index + 1) * p.send_window)
    }

    /// Refuses when any counter went past its limit.
    pub fn check(&self, now: i64, p: &Policy) -> Result<(), AuthError> {
        let (_, end) = Self::window(now, p);
        match self.counts.iter().find(|(scope, count)| *count > u64::from(scope.limit(p))) {
            Some((scope, _)) => Err(AuthError::RateLimited { scope: scope.as_str(), retry_after: end - now }),
            None => Ok(()),
        }
    }
}

/// The lockout of a pair of contacts as the store read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockState {
    /// Seconds left of a running lockout (zero or negative: none).
    pub lock_ttl: i64,
    /// Consecutive wrong codes since the last completed verification.
    pub consecutive: u64,
    /// Seconds before the consecutive count is forgotten.
    pub consecutive_ttl: i64,
}

/// Refuses a pair that is locked, or that has reached the cap of
/// consecutive failures.
pub fn check_lockout(state: &LockState, p: &Policy) -> Result<(), AuthError> {
    if state.lock_ttl > 0 {
        return Err(AuthError::LockedOut { retry_after: state.lock_ttl });
    }
    if state.consecutive >= u64::from(p.failure_cap) {
        return Err(AuthError::LockedOut { retry_after: state.consecutive_ttl.max(1) });
    }
    Ok(())
}

/// The length of the first, second, ... lockout within `failure_memory`:
/// `lockout_seconds` doubled each time up to `lockout_max_seconds`; the
/// last entry repeats.
pub fn lock_schedule(p: &Policy) -> Vec<i64> {
    let mut schedule = vec![p.lockout_seconds.min(p.lockout_max_seconds)];
    while let Some(&last) = schedule.last()
        && last < p.lockout_max_seconds
    {
        schedule.push(last.saturating_mul(2).min(p.lockout_max_seconds));
    }
    schedule
}

/// `+<calling code><first three national digits>`.
pub fn phone_prefix(phone: &PhoneE164) -> String {
    let national = phone.national();
    let end = national.char_indices().nth(3).map_or(national.len(), |(i, _)| i);
    format!("+{}{}", phone.country_code(), &national[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_allows_exactly_its_number() {
        let p = Policy::default();
        let t = 1_800_000_000;
        let at = |scope, count| SendCounts { counts: vec![(SendScope::Ip, 1), (scope, count)] };
        assert!(at(SendScope::Email, 10).check(t, &p).is_ok());
        let refused = at(SendScope::Email, 11).check(t, &p).unwrap_err();
        let (_, end) = SendCounts::window(t, &p);
        assert_eq!(refused, AuthError::RateLimited { scope: "email", retry_after: end - t });
        assert!(at(SendScope::Ip, 20).check(t, &p).is_ok());
        assert!(at(SendScope::Ip, 21).check(t, &p).is_err());
        assert!(at(SendScope::Prefix, 100).check(t, &p).is_ok());
        assert!(at(SendScope::Prefix, 101).check(t, &p).is_err());
    }

    #[test]
    fn a_running_lock_or_the_consecutive_cap_refuses_with_the_time_left() {
        let p = Policy::default();
        let open = LockState { lock_ttl: -2, consecutive: 99, consecutive_ttl: 500 };
        assert!(check_lockout(&open, &p).is_ok());
        let locked = LockState { lock_ttl: 100, ..open };
        assert_eq!(check_lockout(&locked, &p), Err(AuthError::LockedOut { retry_after: 100 }));
        let capped = LockState { consecutive: 100, ..open };
        assert_eq!(check_lockout(&capped, &p), Err(AuthError::LockedOut { retry_after: 500 }));
    }

    #[test]
    fn lock_periods_double_up_to_their_maximum() {
        let p = Policy::default();
        assert_eq!(lock_schedule(&p), [900, 1800, 3600, 7200, 14_400, 28_800, 57_600, 86_400]);
        let flat = Policy { lockout_seconds: 60, lockout_max_seconds: 60, ..Policy::default() };
        assert_eq!(lock_schedule(&flat), [60]);
        let odd = Policy { lockout_seconds: 60, lockout_max_seconds: 200, ..Policy::default() };
        assert_eq!(lock_schedule(&odd), [60, 120, 200]);
    }

    #[test]
    fn prefixes_keep_the_calling_code_and_three_digits() {
        assert_eq!(phone_prefix(&PhoneE164::parse("+44 7912 345678", None).unwrap()), "+44791");
        assert_eq!(phone_prefix(&PhoneE164::parse("+1 650 253 0000", None).unwrap()), "+1650");
    }
}
