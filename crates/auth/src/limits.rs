//! Send limits (fixed windows of `send_window` seconds) and the lockout
//! after repeated wrong codes. The counters live in the store; this decides.

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

/// Refuses a contact with `failures` wrong codes in its lockout window
/// (`ttl` seconds left of it).
pub fn check_lockout(failures: u64, ttl: i64, p: &Policy) -> Result<(), AuthError> {
    if failures >= u64::from(p.lockout_failures) {
        return Err(AuthError::LockedOut { retry_after: ttl.max(1) });
    }
    Ok(())
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
    fn lockout_after_the_tenth_failure() {
        let p = Policy::default();
        assert!(check_lockout(9, 100, &p).is_ok());
        assert_eq!(check_lockout(10, 100, &p), Err(AuthError::LockedOut { retry_after: 100 }));
    }

    #[test]
    fn prefixes_keep_the_calling_code_and_three_digits() {
        assert_eq!(phone_prefix(&PhoneE164::parse("+44 7912 345678", None).unwrap()), "+44791");
        assert_eq!(phone_prefix(&PhoneE164::parse("+1 650 253 0000", None).unwrap()), "+1650");
    }
}
