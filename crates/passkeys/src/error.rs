//! Passkey errors, each with a stable code, and their one mapping to HTTP.

use vottery_http::Problem;
use webauthn_rp::response::auth::error::AuthCeremonyErr;
use webauthn_rp::response::register::error::RegCeremonyErr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyError {
    #[error("the credential is malformed: {0}")]
    Malformed(String),
    #[error("no ceremony is waiting for this challenge (expired, already used or never issued)")]
    CeremonyUnknown,
    #[error("the response answers another challenge")]
    ChallengeMismatch,
    #[error("the origin is not one of this service's")]
    OriginNotAllowed,
    #[error("the authenticator data is for another relying party")]
    RpIdMismatch,
    #[error("the client data is not of the expected type")]
    WrongType,
    #[error("the user was not present")]
    UserNotPresent,
    #[error("the user was not verified (a biometric or PIN is required)")]
    UserNotVerified,
    #[error("the credential's algorithm is not supported (ES256, ES384, EdDSA, RS256)")]
    UnsupportedAlgorithm,
    #[error("the attestation format is not supported (none, packed)")]
    UnsupportedAttestation,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the signature counter went back: the authenticator may be cloned")]
    Cloned,
    #[error("the credential is not registered to this member on this device")]
    UnknownCredential,
    #[error("this device has no passkey; register one first")]
    NoCredential,
    #[error("the credential is already registered")]
    AlreadyRegistered,
    #[error("step 3 needs the enrolment token that verify-otp issued")]
    EnrolmentMissing,
    #[error("the enrolment token is not valid")]
    EnrolmentInvalid,
    #[error("the enrolment token has expired; verify the codes again")]
    EnrolmentExpired,
    #[error("the enrolment token was already used")]
    EnrolmentUsed,
    #[error("this device is registered to another member")]
    DeviceTaken,
    #[error("this assertion was already used")]
    Replayed,
    #[error(
        "this device reports no platform authenticator (Touch ID, Face ID, Windows Hello, Android biometrics); \
         enrol from a device that has one, or use a phone through the browser's cross-device option"
    )]
    NoPlatformAuthenticator,
    #[error("the authenticator's answer contradicts the request: {0}")]
    Rejected(String),
    #[error("passkey setting `{0}` is invalid")]
    Settings(&'static str),
    #[error("internal passkey error: {0}")]
    Internal(String),
}

impl vottery_http::ApiError for PasskeyError {
    fn problem(&self) -> vottery_http::Problem {
        PasskeyError::problem(self)
    }
}

impl PasskeyError {
    /// A response that does not parse: an algorithm we do not take is named
    /// as such, anything else is malformed.
    pub(crate) fn unreadable(message: String) -> Self {
        if message.contains("expected -8, -7, -35, or -257") {
            Self::UnsupportedAlgorithm
        } else {
            Self::Malformed(message)
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed_credential",
            Self::CeremonyUnknown => "challenge_unknown",
            Self::ChallengeMismatch => "challenge_mismatch",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::RpIdMismatch => "rp_id_mismatch",
            Self::WrongType => "client_data_type",
            Self::UserNotPresent => "user_not_present",
            Self::UserNotVerified => "user_not_verified",
            Self::UnsupportedAlgorithm => "algorithm_not_supported",
            Self::UnsupportedAttestation => "attestation_not_supported",
            Self::BadSignature => "signature_invalid",
            Self::Cloned => "authenticator_cloned",
            Self::UnknownCredential => "credential_unknown",
            Self::NoCredential => "no_passkey",
            Self::AlreadyRegistered => "credential_exists",
            Self::Rejected(_) => "credential_rejected",
            Self::EnrolmentMissing => "enrolment_token_missing",
            Self::EnrolmentInvalid => "enrolment_token_invalid",
            Self::EnrolmentExpired => "enrolment_token_expired",
            Self::EnrolmentUsed => "enrolment_token_used",
            Self::DeviceTaken => "device_of_another_member",
            Self::Replayed => "assertion_replayed",
            Self::NoPlatformAuthenticator => "platform_authenticator_unavailable",
            Self::Settings(_) | Self::Internal(_) => "internal_error",
        }
    }

    /// 400 for what the client sent, 401 for a ceremony that does not prove
    /// the member, 409 for a credential in the way, 500 for our own faults.
    pub fn problem(&self) -> Problem {
        let (status, title) = match self {
            Self::Malformed(_) | Self::WrongType | Self::UnsupportedAlgorithm | Self::UnsupportedAttestation => {
                (400, "Bad request")
            }
            Self::NoCredential => (404, "Not found"),
            Self::AlreadyRegistered | Self::DeviceTaken => (409, "Conflict"),
            Self::NoPlatformAuthenticator => (422, "Unprocessable content"),
            Self::Settings(_) | Self::Internal(_) => {
                return Problem::new(500, self.code(), "Internal server error")
                    .with_detail("the passkey service failed");
            }
            _ => (401, "Unauthorized"),
        };
        Problem::new(status, self.code(), title).with_detail(self.to_string())
    }
}

impl From<RegCeremonyErr> for PasskeyError {
    fn from(e: RegCeremonyErr) -> Self {
        use RegCeremonyErr as E;
        match e {
            E::Timeout => Self::CeremonyUnknown,
            E::CollectedClientData(_) | E::CollectedClientDataRelaxed(_) => client_data(e.to_string()),
            E::AttestationObject(inner) => attestation_object(&inner.to_string(), e.to_string()),
            E::PubKey(_) => Self::UnsupportedAlgorithm,
            E::PublicKeyAlgorithmMismatch => Self::UnsupportedAlgorithm,
            E::AttestationSignature => Self::BadSignature,
            E::OriginMismatch | E::CrossOrigin | E::TopOriginMismatch => Self::OriginNotAllowed,
            E::ChallengeMismatch => Self::ChallengeMismatch,
            E::RpIdHashMismatch => Self::RpIdMismatch,
            E::UserNotPresent => Self::UserNotPresent,
            E::UserNotVerified => Self::UserNotVerified,
            other => Self::Rejected(other.to_string()),
        }
    }
}

impl From<AuthCeremonyErr> for PasskeyError {
    fn from(e: AuthCeremonyErr) -> Self {
        use AuthCeremonyErr as E;
        match e {
            E::Timeout => Self::CeremonyUnknown,
            E::CollectedClientData(_) | E::CollectedClientDataRelaxed(_) => client_data(e.to_string()),
            E::AuthenticatorData(_) => Self::Malformed(e.to_string()),
            E::PubKey(_) => Self::UnsupportedAlgorithm,
            E::AssertionSignature => Self::BadSignature,
            E::OriginMismatch | E::CrossOrigin | E::TopOriginMismatch => Self::OriginNotAllowed,
            E::ChallengeMismatch => Self::ChallengeMismatch,
            E::RpIdHashMismatch => Self::RpIdMismatch,
            E::UserNotVerified => Self::UserNotVerified,
            E::SignatureCounter => Self::Cloned,
            E::UserHandleMismatch | E::CredentialIdMismatch | E::NoMatchingAllowedCredential => Self::UnknownCredential,
            other => Self::Rejected(other.to_string()),
        }
    }
}

/// Client data of the other ceremony's type is named as such; anything else
/// unreadable is malformed.
fn client_data(message: String) -> PasskeyError {
    if message.contains("expected webauthn.create") || message.contains("expected webauthn.get") {
        PasskeyError::WrongType
    } else {
        PasskeyError::Malformed(message)
    }
}

/// The attestation object's own errors: an unknown format or algorithm is
/// named as such, anything else is malformed.
fn attestation_object(inner: &str, whole: String) -> PasskeyError {
    let lower = inner.to_ascii_lowercase();
    if lower.contains("format") && lower.contains("support") {
        PasskeyError::UnsupportedAttestation
    } else if lower.contains("algorithm") || lower.contains("alg ") {
        PasskeyError::UnsupportedAlgorithm
    } else {
        PasskeyError::Malformed(whole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_codes() {
        let cases = [
            (PasskeyError::Malformed("cbor".into()), 400, "malformed_credential"),
            (PasskeyError::CeremonyUnknown, 401, "challenge_unknown"),
            (PasskeyError::ChallengeMismatch, 401, "challenge_mismatch"),
            (PasskeyError::OriginNotAllowed, 401, "origin_not_allowed"),
            (PasskeyError::RpIdMismatch, 401, "rp_id_mismatch"),
            (PasskeyError::WrongType, 400, "client_data_type"),
            (PasskeyError::UserNotPresent, 401, "user_not_present"),
            (PasskeyError::UserNotVerified, 401, "user_not_verified"),
            (PasskeyError::UnsupportedAlgorithm, 400, "algorithm_not_supported"),
            (PasskeyError::UnsupportedAttestation, 400, "attestation_not_supported"),
            (PasskeyError::BadSignature, 401, "signature_invalid"),
            (PasskeyError::Cloned, 401, "authenticator_cloned"),
            (PasskeyError::UnknownCredential, 401, "credential_unknown"),
            (PasskeyError::NoCredential, 404, "no_passkey"),
            (PasskeyError::AlreadyRegistered, 409, "credential_exists"),
            (PasskeyError::EnrolmentMissing, 401, "enrolment_token_missing"),
            (PasskeyError::EnrolmentInvalid, 401, "enrolment_token_invalid"),
            (PasskeyError::EnrolmentExpired, 401, "enrolment_token_expired"),
            (PasskeyError::EnrolmentUsed, 401, "enrolment_token_used"),
            (PasskeyError::DeviceTaken, 409, "device_of_another_member"),
            (PasskeyError::Replayed, 401, "assertion_replayed"),
            (PasskeyError::NoPlatformAuthenticator, 422, "platform_authenticator_unavailable"),
            (PasskeyError::Internal("key at 10.0.0.9".into()), 500, "internal_error"),
        ];
        for (error, status, code) in cases {
            let p = error.problem();
            assert_eq!((p.status(), p.code()), (status, code), "{error:?}");
            assert!(!p.to_json().contains("10.0.0.9"));
        }
    }
}
