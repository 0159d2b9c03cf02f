//! Step 3 and the first session: the enrolment token, the ceremony kept
//! between its two requests, and the token's single use.
//!
//! ```text
//!  verify-otp (both codes) ──▶ enrolment token (typ enrolment, its own audience, a jti, short-lived)
//!        │
//!        ▼
//!  capture-biometric/options ── Enrolment::check (security verified the signature, typ and audience;
//!        │                       here the expiry with no leeway and the subject) ── token not yet claimed?
//!        ▼
//!  Ceremony { Register } kept under its challenge (CEREMONY_TTL)
//!        │
//!        ▼
//!  capture-biometric ── Ceremony::take (once, and of the right kind) ── credential verified
//!        │
//!        ▼
//!  Claim taken (SET NX, once per token) ─┬─ device registered ─▶ passkey stored ─▶ session opened ─▶ tokens (first session)
//!                                        └─ any failure after the claim: Claim::after ─▶ Released, the token can try again
//!
//!  a returning member on a registered device:
//!  assert-biometric/options ─▶ Ceremony { Assert } ─▶ assert-biometric ── Ceremony::take, same device,
//!        credential read, assertion verified (a counter that goes back: cloned), state swapped if unchanged
//!        ─▶ session opened (the device's sighting in the same statement) ─▶ tokens
//! ```
//!
//! The clock is passed in; storing the ceremony and the claim is the
//! component's.

use serde::{Deserialize, Serialize};
use vottery_sessions_core::{Amr, DeviceId};
use vottery_validate::{UserId, decode_base64url, encode_base64url};

use crate::{PasskeyError, USER_LEN};

/// How long a ceremony waits for its second request, in seconds.
pub const CEREMONY_TTL: i64 = 300;
/// How long a claimed enrolment token is remembered, in seconds: longer
/// than any enrolment token lives.
pub const CLAIM_TTL: i64 = 3600;
/// The largest ceremony state kept (bytes).
const MAX_STATE: usize = 4096;

/// Which ceremony a challenge was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CeremonyKind {
    Register,
    Assert,
}

/// The WebAuthn user handle of a member: their user id's sixteen bytes.
pub fn user_handle(user: &UserId) -> [u8; USER_LEN] {
    user.bytes()
}

/// An enrolment token whose signature, type and audience `security` has
/// verified, checked here for what remains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub user: UserId,
    pub claim: Claim,
    /// What the member proved in steps 1 and 2.
    pub amr: Vec<Amr>,
}

impl Enrolment {
    /// The token is short-lived and single-use: it is expired at `exp`,
    /// with no leeway.
    pub fn check(sub: &str, jti: &str, amr: &[String], exp: i64, now: i64) -> Result<Self, PasskeyError> {
        if exp <= now {
            return Err(PasskeyError::EnrolmentExpired);
        }
        let user = UserId::parse(sub).ok_or(PasskeyError::EnrolmentInvalid)?;
        let claim = Claim::of(jti).ok_or(PasskeyError::EnrolmentInvalid)?;
        let amr = amr.iter().map(|a| Amr::parse(a).ok_or(PasskeyError::EnrolmentInvalid)).collect::<Result<_, _>>()?;
        Ok(Self { user, claim, amr })
    }
}

/// The single use of an enrolment token, by its `jti`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim(String);

/// What becomes of a claim once the enrolment ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimFate {
    /// The enrolment completed: the token is spent.
    Kept,
    /// The enrolment failed after the claim: the token may try again.
    Released,
}

impl Claim {
    fn of(jti: &str) -> Option<Self> {
        let ok =
            (1..=64).contains(&jti.len()) && jti.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(jti.to_owned()))
    }

    /// The claim's key, under the service's namespace.
    pub fn key(&self) -> String {
        format!("enrolled:{}", self.0)
    }

    pub fn after<T, E>(&self, outcome: &Result<T, E>) -> ClaimFate {
        if outcome.is_ok() { ClaimFate::Kept } else { ClaimFate::Released }
    }
}

/// A ceremony between its two requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    pub kind: CeremonyKind,
    pub user: UserId,
    pub device: DeviceId,
    /// The enrolment token being spent (registration only).
    pub claim: Option<Claim>,
    pub amr: Vec<Amr>,
    /// `webauthn_rp`'s server state.
    pub state: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Kept {
    kind: CeremonyKind,
    user_id: String,
    device_id: String,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    amr: Vec<String>,
    state: String,
}

impl Ceremony {
    pub fn registration(enrolment: Enrolment, device: DeviceId, state: Vec<u8>) -> Self {
        let Enrolment { user, claim, amr } = enrolment;
        Self { kind: CeremonyKind::Register, user, device, claim: Some(claim), amr, state }
    }

    pub fn assertion(user: UserId, device: DeviceId, state: Vec<u8>) -> Self {
        Self { kind: CeremonyKind::Assert, user, device, claim: None, amr: Vec::new(), state }
    }

    /// The bytes kept under the challenge.
    pub fn to_bytes(&self) -> Result<Vec<u8>, PasskeyError> {
        let kept = Kept {
            kind: self.kind,
            user_id: self.user.as_str().to_owned(),
            device_id: self.device.as_str().to_owned(),
            jti: self.claim.as_ref().map(|c| c.0.clone()),
            amr: self.amr.iter().map(|a| a.as_str().to_owned()).collect(),
            state: encode_base64url(&self.state),
        };
        serde_json::to_vec(&kept).map_err(|e| PasskeyError::Internal(e.to_string()))
    }

    /// The ceremony taken back, refused unless it is of the `expected` kind
    /// (a registration's challenge never finishes an assertion).
    pub fn take(raw: &[u8], expected: CeremonyKind) -> Result<Self, PasskeyError> {
        let broken = |what: &str| PasskeyError::Internal(format!("a kept ceremony's {what} does not parse"));
        let kept: Kept = serde_json::from_slice(raw).map_err(|_| broken("record"))?;
        if kept.kind != expected {
            return Err(PasskeyError::CeremonyUnknown);
        }
        let claim = match kept.jti {
            Some(jti) => Some(Claim::of(&jti).ok_or_else(|| broken("claim"))?),
            None => None,
        };
        if expected == CeremonyKind::Register && claim.is_none() {
            return Err(broken("claim"));
        }
        Ok(Self {
            kind: kept.kind,
            user: UserId::parse(&kept.user_id).ok_or_else(|| broken("user"))?,
            device: DeviceId::parse(&kept.device_id).map_err(|_| broken("device"))?,
            claim,
            amr: kept.amr.iter().map(|a| Amr::parse(a).ok_or_else(|| broken("amr"))).collect::<Result<_, _>>()?,
            state: decode_base64url("state", &kept.state, MAX_STATE).map_err(|_| broken("state"))?,
        })
    }

    /// The methods of the session this enrolment opens: steps 1-2's and
    /// the passkey's.
    pub fn session_amr(&self) -> Vec<Amr> {
        let mut amr = self.amr.clone();
        amr.push(Amr::PasskeyUv);
        amr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADA: &str = "6f1c1f0e-9d43-4a8e-8f62-2b8e7f0c5a11";
    const NOW: i64 = 1_800_000_000;

    fn otp() -> Vec<String> {
        vec!["email-otp".into(), "sms-otp".into()]
    }

    fn enrolment() -> Result<Enrolment, PasskeyError> {
        Enrolment::check(ADA, "b1e8_jti-x", &otp(), NOW + 300, NOW)
    }

    fn device() -> Result<DeviceId, PasskeyError> {
        DeviceId::parse("device-0001").map_err(|e| PasskeyError::Internal(e.to_string()))
    }

    #[test]
    fn an_enrolment_token_is_good_until_the_second_of_its_expiry() -> Result<(), PasskeyError> {
        assert_eq!(enrolment()?.amr, vec![Amr::EmailOtp, Amr::SmsOtp]);
        assert!(Enrolment::check(ADA, "jti", &otp(), NOW + 1, NOW).is_ok());
        assert_eq!(Enrolment::check(ADA, "jti", &otp(), NOW, NOW), Err(PasskeyError::EnrolmentExpired));
        assert_eq!(Enrolment::check(ADA, "jti", &otp(), NOW - 1, NOW), Err(PasskeyError::EnrolmentExpired));
        Ok(())
    }

    #[test]
    fn an_enrolment_token_with_a_bad_subject_jti_or_method_is_invalid() {
        for (sub, jti, amr) in [
            ("not-a-user", "jti", otp()),
            (ADA, "", otp()),
            (ADA, "jti with spaces", otp()),
            (ADA, "jti", vec!["password".to_owned()]),
        ] {
            assert_eq!(Enrolment::check(sub, jti, &amr, NOW + 60, NOW), Err(PasskeyError::EnrolmentInvalid));
        }
    }

    #[test]
    fn a_registration_ceremony_comes_back_whole_and_only_as_a_registration() -> Result<(), PasskeyError> {
        let ceremony = Ceremony::registration(enrolment()?, device()?, vec![1, 2, 3]);
        let kept = ceremony.to_bytes()?;
        assert_eq!(Ceremony::take(&kept, CeremonyKind::Register)?, ceremony);
        assert_eq!(Ceremony::take(&kept, CeremonyKind::Assert), Err(PasskeyError::CeremonyUnknown));
        Ok(())
    }

    #[test]
    fn an_assertion_ceremony_carries_no_claim() -> Result<(), PasskeyError> {
        let user = UserId::parse(ADA).ok_or(PasskeyError::EnrolmentInvalid)?;
        let ceremony = Ceremony::assertion(user, device()?, vec![9]);
        let back = Ceremony::take(&ceremony.to_bytes()?, CeremonyKind::Assert)?;
        assert_eq!(back.claim, None);
        assert_eq!(Ceremony::take(&ceremony.to_bytes()?, CeremonyKind::Register), Err(PasskeyError::CeremonyUnknown));
        Ok(())
    }

    #[test]
    fn a_damaged_kept_ceremony_is_an_internal_fault_not_a_default() {
        for raw in [
            &b"{"[..],
            br#"{"kind":"register","user_id":"","device_id":"device-0001","jti":"j","state":""}"#,
            br#"{"kind":"register","user_id":"6f1c1f0e-9d43-4a8e-8f62-2b8e7f0c5a11","device_id":"device-0001","state":""}"#,
            br#"{"kind":"assert","user_id":"6f1c1f0e-9d43-4a8e-8f62-2b8e7f0c5a11","device_id":"d","state":""}"#,
        ] {
            let kind = if raw.starts_with(br#"{"kind":"assert""#) { CeremonyKind::Assert } else { CeremonyKind::Register };
            assert!(matches!(Ceremony::take(raw, kind), Err(PasskeyError::Internal(_))), "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn the_first_session_carries_both_codes_and_the_passkey() -> Result<(), PasskeyError> {
        let ceremony = Ceremony::registration(enrolment()?, device()?, vec![]);
        assert_eq!(ceremony.session_amr(), vec![Amr::EmailOtp, Amr::SmsOtp, Amr::PasskeyUv]);
        Ok(())
    }

    #[test]
    fn a_claim_is_kept_when_the_enrolment_completes_and_released_when_it_fails() -> Result<(), PasskeyError> {
        let claim = enrolment()?.claim;
        assert_eq!(claim.key(), "enrolled:b1e8_jti-x");
        assert_eq!(claim.after(&Ok::<(), ()>(())), ClaimFate::Kept);
        assert_eq!(claim.after(&Err::<(), _>(PasskeyError::DeviceTaken)), ClaimFate::Released);
        Ok(())
    }

    #[test]
    fn a_user_handle_is_the_user_ids_bytes() -> Result<(), PasskeyError> {
        let user = UserId::parse(ADA).ok_or(PasskeyError::EnrolmentInvalid)?;
        assert_eq!(user_handle(&user)[..4], [0x6f, 0x1c, 0x1f, 0x0e]);
        Ok(())
    }
}
