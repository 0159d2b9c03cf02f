//! Rate limits at the edge: every public request belongs to a route class,
//! each class has a token bucket (GCRA: `limit` requests per `window`
//! seconds, at most `limit` at once) per client address and, on the routes
//! that need an access token, per member as well. The buckets live in Redis
//! (one script, one round trip); this decides the classes, the settings and
//! the answer.

use vottery_http::Problem;

/// The route classes, each with its own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteClass {
    /// Codes sent: `send-otp`, `resend-otp`.
    OtpSend,
    /// Codes checked: `verify-otp`.
    OtpVerify,
    /// Passkey ceremonies.
    Passkey,
    /// The refresh cookie or token: `refresh-token`, `logout`.
    Refresh,
    /// Administrators' routes.
    Admin,
    /// What the frontend reports: `POST /api/users/activity`.
    Activity,
    /// Every other GET.
    Read,
    /// Every other change.
    Write,
}

impl RouteClass {
    pub const ALL: [RouteClass; 8] = [
        RouteClass::OtpSend,
        RouteClass::OtpVerify,
        RouteClass::Passkey,
        RouteClass::Refresh,
        RouteClass::Admin,
        RouteClass::Activity,
        RouteClass::Read,
        RouteClass::Write,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::OtpSend => "otp-send",
            Self::OtpVerify => "otp-verify",
            Self::Passkey => "passkey",
            Self::Refresh => "refresh",
            Self::Admin => "admin",
            Self::Activity => "activity",
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    /// The class of a request.
    pub fn of(method: &str, path: &str) -> Self {
        let path = path.trim_end_matches('/');
        match path {
            "/api/auth/send-otp" | "/api/auth/resend-otp" => return Self::OtpSend,
            "/api/auth/verify-otp" => return Self::OtpVerify,
            "/api/auth/refresh-token" | "/api/auth/logout" => return Self::Refresh,
            "/api/users/activity" if method == "POST" => return Self::Activity,
            _ => {}
        }
        if path.starts_with("/api/auth/capture-biometric") || path.starts_with("/api/auth/assert-biometric") {
            return Self::Passkey;
        }
        let admin = ["/api/security/keys", "/api/security/decrypt", "/api/security/sign"];
        if admin.iter().any(|a| path == *a || path.starts_with(&format!("{a}/"))) {
            return Self::Admin;
        }
        if matches!(method, "GET" | "HEAD" | "OPTIONS") { Self::Read } else { Self::Write }
    }

    /// When Redis cannot be reached: the classes that guard codes,
    /// passkeys, sessions and keys refuse (503, as the token check does);
    /// plain reads are served.
    pub fn fails_closed(self) -> bool {
        !matches!(self, Self::Read)
    }
}

/// `limit` requests per `window` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub limit: u32,
    pub window: u32,
}

impl Rate {
    /// Microseconds between two requests at the steady rate.
    pub fn interval_us(self) -> u64 {
        (u64::from(self.window) * 1_000_000).div_ceil(u64::from(self.limit))
    }

    /// The `RateLimit-Policy` item of a class.
    pub fn policy_header(self, class: RouteClass) -> String {
        format!("\"{}\";q={};w={}", class.name(), self.limit, self.window)
    }
}

/// The limits of every class, from the `rate_limits` variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    rates: [Rate; 8],
}

impl Default for RateLimits {
    fn default() -> Self {
        let r = |limit, window| Rate { limit, window };
        Self { rates: [r(10, 60), r(30, 60), r(30, 60), r(60, 60), r(60, 60), r(60, 60), r(600, 60), r(120, 60)] }
    }
}

impl RateLimits {
    /// The defaults overridden by `class=limit/seconds` entries separated
    /// by commas (`otp-send=5/60, read=1000/60`); anything else is an error
    /// naming the variable.
    pub fn parse(settings: &str) -> Result<Self, String> {
        let mut limits = Self::default();
        for entry in settings.split([',', ' ', '\n']).filter(|e| !e.is_empty()) {
            let bad = || format!("rate_limits: `{entry}` is not class=limit/seconds with a known class");
            let (name, rate) = entry.split_once('=').ok_or_else(bad)?;
            let index = RouteClass::ALL.iter().position(|c| c.name() == name).ok_or_else(bad)?;
            let (limit, window) = rate.split_once('/').ok_or_else(bad)?;
            let limit: u32 = limit.parse().ok().filter(|l| (1..=1_000_000).contains(l)).ok_or_else(bad)?;
            let window: u32 = window.parse().ok().filter(|w| (1..=86_400).contains(w)).ok_or_else(bad)?;
            limits.rates[index] = Rate { limit, window };
        }
        Ok(limits)
    }

    pub fn of(&self, class: RouteClass) -> Rate {
        self.rates[RouteClass::ALL.iter().position(|c| *c == class).unwrap_or(0)]
    }
}

/// What a bucket said: admitted with `remaining` requests left, or
/// refused; `reset` seconds until it is full again (refused: until the next
/// request is admitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub admitted: bool,
    pub remaining: u64,
    pub reset: u64,
}

impl Verdict {
    /// The `RateLimit` field for this class.
    pub fn header(&self, class: RouteClass) -> String {
        format!("\"{}\";r={};t={}", class.name(), self.remaining, self.reset)
    }
}

/// The 429 answer of a refused request (`Retry-After` from the problem).
pub fn refused(class: RouteClass, verdict: &Verdict) -> Problem {
    Problem::new(429, "rate_limited", "Too many requests")
        .with_detail(format!("too many `{}` requests; try again in {} s", class.name(), verdict.reset.max(1)))
        .with("retry_after", verdict.reset.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_fall_into_their_route_class() {
        let cases = [
            ("POST", "/api/auth/send-otp", RouteClass::OtpSend),
            ("POST", "/api/auth/resend-otp", RouteClass::OtpSend),
            ("POST", "/api/auth/verify-otp", RouteClass::OtpVerify),
            ("POST", "/api/auth/capture-biometric/options", RouteClass::Passkey),
            ("POST", "/api/auth/assert-biometric", RouteClass::Passkey),
            ("POST", "/api/auth/refresh-token", RouteClass::Refresh),
            ("POST", "/api/auth/logout", RouteClass::Refresh),
            ("POST", "/api/security/keys/rotate", RouteClass::Admin),
            ("GET", "/api/security/keys", RouteClass::Admin),
            ("POST", "/api/security/decrypt", RouteClass::Admin),
            ("GET", "/api/auth/status", RouteClass::Read),
            ("GET", "/api/sessions/current", RouteClass::Read),
            ("POST", "/api/security/verify", RouteClass::Write),
            ("DELETE", "/api/devices/abc", RouteClass::Write),
            ("GET", "/api/security/keysmith", RouteClass::Read),
            ("POST", "/api/users/activity", RouteClass::Activity),
            ("GET", "/api/users/activity", RouteClass::Read),
        ];
        for (method, path, class) in cases {
            assert_eq!(RouteClass::of(method, path), class, "{method} {path}");
        }
        assert!(RouteClass::OtpSend.fails_closed() && !RouteClass::Read.fails_closed());
    }

    #[test]
    fn limits_parse_with_defaults_and_refuse_what_they_cannot_read() {
        let limits = RateLimits::parse("otp-send=5/60, read=1000/10").unwrap();
        assert_eq!(limits.of(RouteClass::OtpSend), Rate { limit: 5, window: 60 });
        assert_eq!(limits.of(RouteClass::Read), Rate { limit: 1000, window: 10 });
        assert_eq!(limits.of(RouteClass::OtpVerify), Rate { limit: 30, window: 60 });
        for bad in ["otp=5/60", "otp-send=5", "otp-send=0/60", "otp-send=5/0", "read=x/1", "read"] {
            let error = RateLimits::parse(bad).unwrap_err();
            assert!(error.starts_with("rate_limits:"), "{bad}: {error}");
        }
        assert_eq!(Rate { limit: 3, window: 1 }.interval_us(), 333_334);
        assert_eq!(Rate { limit: 1_000_000, window: 1 }.interval_us(), 1);
    }

    #[test]
    fn answers_carry_the_ietf_fields_and_a_retry_after() {
        let rate = Rate { limit: 10, window: 60 };
        assert_eq!(rate.policy_header(RouteClass::OtpSend), "\"otp-send\";q=10;w=60");
        let verdict = Verdict { admitted: false, remaining: 0, reset: 7 };
        assert_eq!(verdict.header(RouteClass::OtpSend), "\"otp-send\";r=0;t=7");
        let problem = refused(RouteClass::OtpSend, &verdict);
        assert_eq!((problem.status(), problem.code(), problem.retry_after()), (429, "rate_limited", Some(7)));
    }
}
