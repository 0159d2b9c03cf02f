use serde::Serialize;
use serde_json::{Value, json};

/// How the member authenticated (RFC 8176 style values, named for what
/// this platform checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Amr {
    /// A one-time code sent by email.
    EmailOtp,
    /// A one-time code sent by SMS.
    SmsOtp,
    /// A WebAuthn passkey with user verification (biometric or PIN).
    PasskeyUv,
}

impl Amr {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmailOtp => "email-otp",
            Self::SmsOtp => "sms-otp",
            Self::PasskeyUv => "passkey-uv",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::EmailOtp, Self::SmsOtp, Self::PasskeyUv].into_iter().find(|a| a.as_str() == raw)
    }
}

/// The claims of an access token (`typ` `at+jwt`, RFC 9068); the security
/// service adds `iss` when it signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub user_id: String,
    pub session_id: String,
    pub device_id: String,
    pub amr: Vec<Amr>,
    pub roles: Vec<String>,
    /// When the member last proved themselves with the passkey (seconds
    /// since the epoch): the session's creation, kept across refreshes.
    pub auth_time: i64,
}

impl AccessClaims {
    /// The JSON claims for a token issued at `now`, valid `ttl` seconds,
    /// for `audience`, with `jti` as its id.
    pub fn to_json(&self, audience: &str, jti: &str, now: i64, ttl: i64) -> Value {
        json!({
            "sub": self.user_id, "aud": audience, "client_id": audience, "sid": self.session_id,
            "did": self.device_id, "amr": self.amr, "roles": self.roles, "auth_time": self.auth_time,
            "iat": now, "nbf": now, "exp": now + ttl, "jti": jti,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_name_the_session_device_and_methods() {
        let claims = AccessClaims {
            user_id: "u1".into(),
            session_id: "s1".into(),
            device_id: "d1".into(),
            amr: vec![Amr::EmailOtp, Amr::SmsOtp, Amr::PasskeyUv],
            roles: vec!["member".into()],
            auth_time: 900,
        };
        let v = claims.to_json("vottery-dashboard", "j1", 1000, 600);
        assert_eq!(v["amr"], json!(["email-otp", "sms-otp", "passkey-uv"]));
        assert_eq!((v["sub"].as_str(), v["sid"].as_str(), v["did"].as_str()), (Some("u1"), Some("s1"), Some("d1")));
        assert_eq!((v["iat"].as_i64(), v["exp"].as_i64()), (Some(1000), Some(1600)));
        assert_eq!(v["auth_time"].as_i64(), Some(900));
        assert!(v.get("iss").is_none());
        assert_eq!(Amr::parse("passkey-uv"), Some(Amr::PasskeyUv));
        assert_eq!(Amr::parse("password"), None);
    }
}
