//! One verification flow (steps 1-2) and the codes of its two channels.
//! See the crate documentation for the state machine.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use vottery_validate::ValidationError;

use crate::code::{Channel, CodeHasher, OtpCode, code_message};
use crate::error::AuthError;
use crate::policy::Policy;

/// A flow's id: 128 random bits, unpadded base64url.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FlowId(String);

impl FlowId {
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.len() == 22 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::InvalidField("`flow_id` is not a flow id".into()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where the verification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Waiting for the email and SMS codes.
    Codes,
    /// Both codes verified: the WebAuthn step comes next.
    Biometric,
    Expired,
}

/// The code of one channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelState {
    /// Keyed hash of the current code (base64url); empty before the first.
    pub code_hash: String,
    pub issued_at: i64,
    /// Wrong tries of the current code.
    pub attempts: u32,
    /// Codes the provider accepted.
    pub sends: u32,
    pub last_sent_at: Option<i64>,
    pub delivered: bool,
    pub verified_at: Option<i64>,
    /// The provider made and checks the code (Twilio Verify); nothing of it
    /// is stored here.
    #[serde(default)]
    pub external: bool,
}

/// One visitor's way through steps 1-2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub id: FlowId,
    pub created_at: i64,
    pub expires_at: i64,
    /// The Sngine account the contacts matched; `None` for a decoy.
    pub subject: Option<String>,
    /// Keyed hash of the email and phone pair the flow was opened for: the
    /// lockout counts wrong codes per pair, so a decoy never spends a
    /// member's tries.
    pub contact: String,
    pub language: String,
    /// The email and phone, sealed by the service (a resend needs them);
    /// opaque here.
    pub contacts: String,
    pub email: ChannelState,
    pub sms: ChannelState,
}

impl Flow {
    pub fn open(id: FlowId, subject: Option<String>, contact: String, language: String, now: i64, p: &Policy) -> Self {
        Self {
            id,
            created_at: now,
            expires_at: now + p.flow_ttl,
            subject,
            contact,
            language,
            contacts: String::new(),
            email: ChannelState::default(),
            sms: ChannelState::default(),
        }
    }

    pub fn channel(&self, channel: Channel) -> &ChannelState {
        match channel {
            Channel::Email => &self.email,
            Channel::Sms => &self.sms,
        }
    }

    fn channel_mut(&mut self, channel: Channel) -> &mut ChannelState {
        match channel {
            Channel::Email => &mut self.email,
            Channel::Sms => &mut self.sms,
        }
    }

    pub fn step(&self, now: i64) -> Step {
        if now >= self.expires_at {
            Step::Expired
        } else if self.email.verified_at.is_some() && self.sms.verified_at.is_some() {
            Step::Biometric
        } else {
            Step::Codes
        }
    }

    fn live(&self, now: i64) -> Result<(), AuthError> {
        match self.step(now) {
            Step::Expired => Err(AuthError::FlowExpired),
            Step::Biometric => Err(AuthError::FlowComplete),
            Step::Codes => Ok(()),
        }
    }

    /// Sets a new code on `channel`, if the flow, the cooldown and the send
    /// count allow one. It counts as sent only once [`Flow::delivered`].
    pub fn issue(
        &mut self,
        channel: Channel,
        code: &OtpCode,
        hasher: &dyn CodeHasher,
        now: i64,
        p: &Policy,
    ) -> Result<(), AuthError> {
        self.check_send(channel, now, p)?;
        let id = self.id.as_str().to_owned();
        let state = self.channel_mut(channel);
        state.code_hash = URL_SAFE_NO_PAD.encode(hasher.mac(&code_message(&id, channel, code)));
        state.issued_at = now;
        state.attempts = 0;
        state.delivered = false;
        state.external = false;
        Ok(())
    }

    /// Like [`Flow::issue`] for a code the provider makes and checks.
    pub fn issue_external(&mut self, channel: Channel, now: i64, p: &Policy) -> Result<(), AuthError> {
        self.check_send(channel, now, p)?;
        let state = self.channel_mut(channel);
        state.code_hash.clear();
        state.issued_at = now;
        state.attempts = 0;
        state.delivered = false;
        state.external = true;
        Ok(())
    }

    fn check_send(&self, channel: Channel, now: i64, p: &Policy) -> Result<(), AuthError> {
        self.live(now)?;
        let state = self.channel(channel);
        if state.verified_at.is_some() {
            return Err(AuthError::CodeUsed { channel });
        }
        if state.sends >= p.max_sends {
            return Err(AuthError::SendLimitReached { channel });
        }
        if let Some(last) = state.last_sent_at
            && now < last + p.resend_cooldown
        {
            return Err(AuthError::ResendTooSoon { channel, retry_after: last + p.resend_cooldown - now });
        }
        Ok(())
    }

    /// The provider accepted the code issued on `channel`.
    pub fn delivered(&mut self, channel: Channel, now: i64) {
        let state = self.channel_mut(channel);
        state.delivered = true;
        state.sends += 1;
        state.last_sent_at = Some(now);
    }

    /// Checks `code` on `channel`. A wrong code costs one attempt (the flow
    /// changed: store it even though this returns an error).
    pub fn verify(
        &mut self,
        channel: Channel,
        code: &OtpCode,
        hasher: &dyn CodeHasher,
        now: i64,
        p: &Policy,
    ) -> Result<(), AuthError> {
        self.checkable(channel, now, p)?;
        let expected = hasher.mac(&code_message(self.id.as_str(), channel, code));
        let state = self.channel(channel);
        let stored = URL_SAFE_NO_PAD.decode(&state.code_hash).unwrap_or_default();
        let same = bool::from(stored.as_slice().ct_eq(expected.as_slice())) && !stored.is_empty() && !state.external;
        self.settle(channel, same, now, p)
    }

    /// Whether a code may be checked on `channel` now: the flow lives, the
    /// code was delivered, is unused, in time and has tries left. For a
    /// provider-checked code, ask the provider only after this.
    pub fn checkable(&self, channel: Channel, now: i64, p: &Policy) -> Result<(), AuthError> {
        if now >= self.expires_at {
            return Err(AuthError::FlowExpired);
        }
        let state = self.channel(channel);
        if state.verified_at.is_some() {
            return Err(AuthError::CodeUsed { channel });
        }
        if (state.code_hash.is_empty() && !state.external) || !state.delivered {
            return Err(AuthError::CodeNotDelivered { channel });
        }
        if state.attempts >= p.max_attempts {
            return Err(AuthError::CodeAttemptsExhausted { channel });
        }
        if now >= state.issued_at + p.code_ttl {
            return Err(AuthError::CodeExpired { channel });
        }
        Ok(())
    }

    /// Records the check of a code on `channel`: verified when `same`, else
    /// one try spent.
    pub fn settle(&mut self, channel: Channel, same: bool, now: i64, p: &Policy) -> Result<(), AuthError> {
        let state = self.channel_mut(channel);
        if !same {
            state.attempts += 1;
            return Err(AuthError::CodeInvalid { channel, remaining: p.max_attempts - state.attempts });
        }
        state.verified_at = Some(now);
        Ok(())
    }

    /// What `status` and `verify-otp` show of the flow (the same for a decoy).
    pub fn progress(&self, now: i64, p: &Policy) -> serde_json::Value {
        let channel = |c: &ChannelState| {
            let resend_at = c.last_sent_at.map(|t| t + p.resend_cooldown).filter(|t| *t > now);
            serde_json::json!({
                "verified": c.verified_at.is_some(),
                "sends_left": p.max_sends.saturating_sub(c.sends),
                "resend_available_at": resend_at,
            })
        };
        serde_json::json!({
            "flow_id": self.id.as_str(),
            "step": self.step(now),
            "expires_at": self.expires_at,
            "channels": { "email": channel(&self.email), "sms": channel(&self.sms) },
        })
    }
}

#[cfg(test)]
mod tests {
    use hmac::{KeyInit, Mac};

    use super::*;

    struct Hmac;
    impl CodeHasher for Hmac {
        fn mac(&self, message: &[u8]) -> Vec<u8> {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"test key").unwrap();
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
    }

    const T0: i64 = 1_800_000_000;

    fn code(s: &str) -> OtpCode {
        OtpCode::parse(s, 6).unwrap()
    }

    fn sent(p: &Policy) -> Flow {
        let mut flow = Flow::open(FlowId::from_random([7; 16]), Some("u1".into()), "c".into(), "en".into(), T0, p);
        for channel in Channel::BOTH {
            flow.issue(channel, &code("123456"), &Hmac, T0, p).unwrap();
            flow.delivered(channel, T0);
        }
        flow
    }

    #[test]
    fn both_codes_take_the_flow_to_the_biometric_step_and_are_single_use() {
        let p = Policy::default();
        let mut flow = sent(&p);
        assert_eq!(flow.step(T0), Step::Codes);
        flow.verify(Channel::Email, &code("123456"), &Hmac, T0 + 1, &p).unwrap();
        assert_eq!(flow.step(T0 + 1), Step::Codes);
        flow.verify(Channel::Sms, &code("123456"), &Hmac, T0 + 2, &p).unwrap();
        assert_eq!(flow.step(T0 + 2), Step::Biometric);
        let again = flow.verify(Channel::Sms, &code("123456"), &Hmac, T0 + 3, &p);
        assert_eq!(again, Err(AuthError::CodeUsed { channel: Channel::Sms }));
        assert!(!serde_json::to_string(&flow).unwrap().contains("123456"));
    }

    #[test]
    fn the_code_lives_code_ttl_seconds_to_the_second() {
        let p = Policy::default();
        let mut flow = sent(&p);
        flow.verify(Channel::Email, &code("123456"), &Hmac, T0 + 599, &p).unwrap();
        let late = flow.verify(Channel::Sms, &code("123456"), &Hmac, T0 + 600, &p);
        assert_eq!(late, Err(AuthError::CodeExpired { channel: Channel::Sms }));
        assert_eq!(
            sent(&p).verify(Channel::Sms, &code("123456"), &Hmac, T0 + 601, &p),
            Err(AuthError::CodeExpired { channel: Channel::Sms })
        );
    }

    #[test]
    fn five_wrong_tries_then_the_code_is_burnt() {
        let p = Policy::default();
        let mut flow = sent(&p);
        for remaining in (0..5).rev() {
            let wrong = flow.verify(Channel::Sms, &code("000000"), &Hmac, T0 + 1, &p);
            assert_eq!(wrong, Err(AuthError::CodeInvalid { channel: Channel::Sms, remaining }));
        }
        let sixth = flow.verify(Channel::Sms, &code("123456"), &Hmac, T0 + 2, &p);
        assert_eq!(sixth, Err(AuthError::CodeAttemptsExhausted { channel: Channel::Sms }));
        // A fresh code after the cooldown resets the tries.
        flow.issue(Channel::Sms, &code("654321"), &Hmac, T0 + 60, &p).unwrap();
        flow.delivered(Channel::Sms, T0 + 60);
        flow.verify(Channel::Sms, &code("654321"), &Hmac, T0 + 61, &p).unwrap();
    }

    #[test]
    fn a_code_of_another_flow_or_channel_never_matches() {
        let p = Policy::default();
        let mut a = sent(&p);
        let mut b = Flow::open(FlowId::from_random([8; 16]), None, "c".into(), "en".into(), T0, &p);
        b.issue(Channel::Email, &code("111111"), &Hmac, T0, &p).unwrap();
        b.delivered(Channel::Email, T0);
        a.email.code_hash = b.email.code_hash.clone();
        assert!(matches!(a.verify(Channel::Email, &code("111111"), &Hmac, T0, &p), Err(AuthError::CodeInvalid { .. })));
        let mut c = sent(&p);
        c.sms.code_hash = c.email.code_hash.clone();
        assert!(matches!(c.verify(Channel::Sms, &code("123456"), &Hmac, T0, &p), Err(AuthError::CodeInvalid { .. })));
    }

    #[test]
    fn resend_cooldown_and_send_count() {
        let p = Policy::default();
        let mut flow = sent(&p);
        let early = flow.issue(Channel::Email, &code("222222"), &Hmac, T0 + 59, &p);
        assert_eq!(early, Err(AuthError::ResendTooSoon { channel: Channel::Email, retry_after: 1 }));
        let mut t = T0;
        for _ in 1..5 {
            t += 60;
            flow.issue(Channel::Email, &code("222222"), &Hmac, t, &p).unwrap();
            flow.delivered(Channel::Email, t);
        }
        let sixth = flow.issue(Channel::Email, &code("333333"), &Hmac, t + 60, &p);
        assert_eq!(sixth, Err(AuthError::SendLimitReached { channel: Channel::Email }));
    }

    #[test]
    fn an_undelivered_code_neither_counts_nor_starts_the_cooldown_nor_verifies() {
        let p = Policy::default();
        let mut flow = Flow::open(FlowId::from_random([9; 16]), Some("u".into()), "c".into(), "en".into(), T0, &p);
        flow.issue(Channel::Sms, &code("123456"), &Hmac, T0, &p).unwrap();
        let check = flow.verify(Channel::Sms, &code("123456"), &Hmac, T0, &p);
        assert_eq!(check, Err(AuthError::CodeNotDelivered { channel: Channel::Sms }));
        flow.issue(Channel::Sms, &code("123457"), &Hmac, T0 + 1, &p).unwrap();
        assert_eq!((flow.sms.sends, flow.sms.last_sent_at), (0, None));
    }

    #[test]
    fn the_flow_expires_after_flow_ttl() {
        let p = Policy::default();
        let mut flow = sent(&p);
        assert_eq!(flow.step(T0 + 1799), Step::Codes);
        assert_eq!(flow.step(T0 + 1800), Step::Expired);
        assert_eq!(flow.verify(Channel::Email, &code("123456"), &Hmac, T0 + 1800, &p), Err(AuthError::FlowExpired));
        assert_eq!(flow.issue(Channel::Email, &code("123456"), &Hmac, T0 + 1800, &p), Err(AuthError::FlowExpired));
    }

    #[test]
    fn provider_checked_codes_follow_the_same_rules() {
        let p = Policy::default();
        let mut flow = sent(&p);
        flow.issue_external(Channel::Sms, T0 + 60, &p).unwrap();
        assert_eq!(
            flow.checkable(Channel::Sms, T0 + 60, &p),
            Err(AuthError::CodeNotDelivered { channel: Channel::Sms })
        );
        flow.delivered(Channel::Sms, T0 + 60);
        // The local hash of an old code never verifies a provider-checked one.
        assert!(flow.verify(Channel::Sms, &code("123456"), &Hmac, T0 + 61, &p).is_err());
        assert_eq!(flow.sms.attempts, 1);
        flow.checkable(Channel::Sms, T0 + 61, &p).unwrap();
        flow.settle(Channel::Sms, true, T0 + 62, &p).unwrap();
        assert_eq!(flow.checkable(Channel::Sms, T0 + 63, &p), Err(AuthError::CodeUsed { channel: Channel::Sms }));
        let mut late = sent(&p);
        late.issue_external(Channel::Sms, T0 + 60, &p).unwrap();
        late.delivered(Channel::Sms, T0 + 60);
        assert_eq!(late.checkable(Channel::Sms, T0 + 660, &p), Err(AuthError::CodeExpired { channel: Channel::Sms }));
    }

    #[test]
    fn flow_ids_are_checked() {
        assert!(FlowId::parse(FlowId::from_random([1; 16]).as_str()).is_ok());
        for bad in ["", "short", "AAAAAAAAAAAAAAAAAAAAA=", "../../../../../../etc/x"] {
            assert!(FlowId::parse(bad).is_err(), "{bad}");
        }
    }
}
