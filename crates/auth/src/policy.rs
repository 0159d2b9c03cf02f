use std::collections::BTreeSet;

/// Every number of the code policy, each a setting with this default
/// (`Policy::parse` reads overrides from the `otp_policy` variable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Digits in a code.
    pub code_digits: u8,
    /// Seconds a code stays valid after it was sent.
    pub code_ttl: i64,
    /// Wrong tries a code survives; the next try finds it burnt.
    pub max_attempts: u32,
    /// Seconds between two sends on one channel of a flow.
    pub resend_cooldown: i64,
    /// Sends (the first included) per channel of a flow.
    pub max_sends: u32,
    /// Seconds a flow lives.
    pub flow_ttl: i64,
    /// Seconds the enrolment token of a verified flow is valid.
    pub enrolment_ttl: i64,
    /// The window of the send limits below, in seconds.
    pub send_window: i64,
    /// Sends per window from one client address.
    pub ip_sends: u32,
    /// Sends per window to one email address.
    pub email_sends: u32,
    /// Sends per window to one phone number.
    pub phone_sends: u32,
    /// Sends per window to one phone prefix (calling code and the first
    /// national digits), against SMS pumping.
    pub prefix_sends: u32,
    /// Wrong codes per pair of contacts before it is locked out.
    pub lockout_failures: u32,
    /// Seconds the first lockout lasts (and the window failures are counted
    /// in); each further lockout within `failure_memory` lasts twice the one
    /// before.
    pub lockout_seconds: i64,
    /// The longest a lockout lasts.
    pub lockout_max_seconds: i64,
    /// Consecutive wrong codes per pair, across lockouts, after which codes
    /// are refused until `failure_memory` passes (NIST SP 800-63B: at most
    /// 100); a completed verification resets the count.
    pub failure_cap: u32,
    /// Seconds without a wrong code after which the consecutive count and
    /// the lockout escalation are forgotten.
    pub failure_memory: i64,
    /// Milliseconds a provider may take to answer one attempt.
    pub provider_timeout_ms: u64,
    /// Attempts after the first when a provider fails transiently.
    pub provider_retries: u32,
    /// Milliseconds before the first retry; doubled for each next one.
    pub retry_backoff_ms: u64,
    /// Calling codes SMS may go to; `None` allows every country.
    pub sms_calling_codes: Option<BTreeSet<u16>>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            code_digits: 6,
            code_ttl: 600,
            max_attempts: 5,
            resend_cooldown: 60,
            max_sends: 5,
            flow_ttl: 1800,
            enrolment_ttl: 300,
            send_window: 3600,
            ip_sends: 20,
            email_sends: 10,
            phone_sends: 10,
            prefix_sends: 100,
            lockout_failures: 10,
            lockout_seconds: 900,
            lockout_max_seconds: 86_400,
            failure_cap: 100,
            failure_memory: 7 * 86_400,
            provider_timeout_ms: 5000,
            provider_retries: 2,
            retry_backoff_ms: 200,
            sms_calling_codes: None,
        }
    }
}

fn number<T: std::str::FromStr + PartialOrd>(name: &str, value: &str, min: T, max: T) -> Result<T, String> {
    match value.parse::<T>() {
        Ok(v) if v >= min && v <= max => Ok(v),
        _ => Err(format!("otp_policy: `{name}` must be a whole number in range")),
    }
}

impl Policy {
    /// The defaults overridden by `name=value` entries separated by commas,
    /// semicolons or spaces; `sms_countries` takes ISO 3166 codes joined by
    /// `+` or `|` (`sms_countries=GB|US|NL`). An unknown name or a value out
    /// of range is an error (a misconfiguration, never silently ignored).
    pub fn parse(settings: &str) -> Result<Self, String> {
        let mut p = Self::default();
        for entry in settings.split([',', ';', ' ', '\n', '\t']).filter(|e| !e.is_empty()) {
            let (name, value) =
                entry.split_once('=').ok_or_else(|| format!("otp_policy: `{entry}` is not name=value"))?;
            const DAY: i64 = 86_400;
            const MANY: u32 = 1_000_000;
            match name {
                "code_digits" => p.code_digits = number(name, value, 6, 10)?,
                "code_ttl" => p.code_ttl = number(name, value, 30, DAY)?,
                "max_attempts" => p.max_attempts = number(name, value, 1, 100)?,
                "resend_cooldown" => p.resend_cooldown = number(name, value, 0, DAY)?,
                "max_sends" => p.max_sends = number(name, value, 1, 100)?,
                "flow_ttl" => p.flow_ttl = number(name, value, 60, DAY)?,
                "enrolment_ttl" => p.enrolment_ttl = number(name, value, 30, DAY)?,
                "send_window" => p.send_window = number(name, value, 1, DAY)?,
                "ip_sends" => p.ip_sends = number(name, value, 1, MANY)?,
                "email_sends" => p.email_sends = number(name, value, 1, MANY)?,
                "phone_sends" => p.phone_sends = number(name, value, 1, MANY)?,
                "prefix_sends" => p.prefix_sends = number(name, value, 1, MANY)?,
                "lockout_failures" => p.lockout_failures = number(name, value, 1, MANY)?,
                "lockout_seconds" => p.lockout_seconds = number(name, value, 1, 30 * DAY)?,
                "lockout_max_seconds" => p.lockout_max_seconds = number(name, value, 1, 30 * DAY)?,
                "failure_cap" => p.failure_cap = number(name, value, 1, 100)?,
                "failure_memory" => p.failure_memory = number(name, value, 60, 365 * DAY)?,
                "provider_timeout_ms" => p.provider_timeout_ms = number(name, value, 10, 60_000)?,
                "provider_retries" => p.provider_retries = number(name, value, 0, 5)?,
                "retry_backoff_ms" => p.retry_backoff_ms = number(name, value, 0, 10_000)?,
                "sms_countries" => p.sms_calling_codes = Some(calling_codes(value)?),
                _ => return Err(format!("otp_policy: unknown setting `{name}`")),
            }
        }
        if p.failure_cap < p.lockout_failures {
            return Err("otp_policy: `failure_cap` cannot be below `lockout_failures`".into());
        }
        if p.code_ttl > p.flow_ttl {
            return Err("otp_policy: `code_ttl` cannot exceed `flow_ttl`".into());
        }
        Ok(p)
    }

    /// Whether SMS may go to a number with this calling code.
    pub fn sms_allowed(&self, calling_code: u16) -> bool {
        self.sms_calling_codes.as_ref().is_none_or(|codes| codes.contains(&calling_code))
    }
}

fn calling_codes(value: &str) -> Result<BTreeSet<u16>, String> {
    value
        .split(['+', '|'])
        .filter(|c| !c.is_empty())
        .map(|region| {
            vottery_validate::calling_code_of_region(&region.to_ascii_uppercase())
                .ok_or_else(|| format!("otp_policy: `{region}` is not an ISO 3166 country code"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_numbers() {
        let p = Policy::parse("").unwrap();
        assert_eq!((p.code_digits, p.code_ttl, p.max_attempts, p.resend_cooldown, p.max_sends), (6, 600, 5, 60, 5));
        assert!(p.sms_allowed(44));
    }

    #[test]
    fn overrides_and_refusals() {
        let p = Policy::parse("code_ttl=120, max_attempts=3;sms_countries=GB|us").unwrap();
        assert_eq!((p.code_ttl, p.max_attempts), (120, 3));
        assert!(p.sms_allowed(44) && p.sms_allowed(1) && !p.sms_allowed(31));
        let escalating = Policy::parse("lockout_max_seconds=3600,failure_cap=50,failure_memory=86400").unwrap();
        assert_eq!(
            (escalating.lockout_max_seconds, escalating.failure_cap, escalating.failure_memory),
            (3600, 50, 86_400)
        );
        for bad in [
            "code_ttl",
            "nope=1",
            "code_digits=4",
            "max_attempts=-1",
            "sms_countries=XX",
            "code_ttl=99999",
            "failure_cap=101",
            "failure_cap=5",
        ] {
            assert!(Policy::parse(bad).is_err(), "{bad}");
        }
    }
}
