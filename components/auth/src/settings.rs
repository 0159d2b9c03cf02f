//! The component's variables, read per request and checked: a missing or
//! malformed one is a 503 `misconfigured`, never a silent default.

use vottery_auth_core::{AuthError, CodeHasher, MailProvider, Messages, Policy, SmsProvider, SmsSettings};
use vottery_component_kit::{self as kit, crypto::digest};

async fn var(name: &str) -> Result<String, AuthError> {
    kit::variable(name).await.ok_or_else(|| AuthError::Misconfigured(format!("variable {name} is not set")))
}

/// HMAC-SHA-256 under `otp_key`, through the crypto dependency.
pub struct Keyed(Vec<u8>);

impl CodeHasher for Keyed {
    fn mac(&self, message: &[u8]) -> Vec<u8> {
        digest::hmac_sha256(&self.0, message)
    }
}

impl Keyed {
    /// A keyed hash of `value` in `domain`, for counters and lockouts (no
    /// clear contact in Redis).
    pub fn tag(&self, domain: &str, value: &str) -> String {
        let mac = self.mac(format!("vottery-auth\0{domain}\0{value}").as_bytes());
        vottery_validate::encode_base64url(&mac[..16])
    }

    /// A key derived for `purpose` (32 bytes).
    pub fn derive(&self, purpose: &str) -> Vec<u8> {
        self.mac(format!("vottery-auth-key\0{purpose}").as_bytes())
    }
}

/// What every route needs.
pub struct Core {
    pub policy: Policy,
    pub keyed: Keyed,
}

impl Core {
    pub async fn load() -> Result<Self, AuthError> {
        let policy = Policy::parse(&var("otp_policy").await?).map_err(AuthError::Misconfigured)?;
        let key = var("otp_key").await?;
        if key.len() < 32 {
            return Err(AuthError::Misconfigured("otp_key must be at least 32 bytes".into()));
        }
        Ok(Self { policy, keyed: Keyed(key.into_bytes()) })
    }
}

/// What sending needs: providers, sender and texts.
pub struct Sending {
    pub sms: SmsProvider,
    pub mail: MailProvider,
    pub mail_from: String,
    pub messages: Messages,
    pub reveal_unmatched: bool,
}

impl Sending {
    pub async fn load() -> Result<Self, AuthError> {
        let (provider, api_base, verify_base) =
            (var("sms_provider").await?, var("twilio_api_base").await?, var("twilio_verify_base").await?);
        let (account_sid, auth_token) = (var("twilio_account_sid").await?, var("twilio_auth_token").await?);
        let (messaging_service_sid, from) = (var("twilio_messaging_service_sid").await?, var("twilio_from").await?);
        let verify_service_sid = var("twilio_verify_service_sid").await?;
        let sms = SmsProvider::configure(&SmsSettings {
            provider: &provider,
            api_base: &api_base,
            verify_base: &verify_base,
            account_sid: &account_sid,
            auth_token: &auth_token,
            messaging_service_sid: &messaging_service_sid,
            from: &from,
            verify_service_sid: &verify_service_sid,
        })
        .map_err(AuthError::Misconfigured)?;
        let mail = MailProvider::configure(
            &var("mail_provider").await?,
            &var("mail_api_base").await?,
            &var("mail_api_key").await?,
            &var("mail_domain").await?,
        )
        .map_err(AuthError::Misconfigured)?;
        let messages = Messages::load(&var("otp_messages").await?).map_err(AuthError::Misconfigured)?;
        let reveal = match var("otp_reveal_unmatched").await?.as_str() {
            "" | "false" => false,
            "true" => true,
            other => return Err(AuthError::Misconfigured(format!("otp_reveal_unmatched `{other}` is not true/false"))),
        };
        Ok(Self { sms, mail, mail_from: var("mail_from").await?, messages, reveal_unmatched: reveal })
    }
}
