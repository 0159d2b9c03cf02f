//! Passkeys: WebAuthn with user verification, the biometric of step 3.
//!
//! A ceremony's two requests may reach different instances (or replicas),
//! so it lives in two halves joined by Redis:
//!
//! ```text
//! registration:    start_registration ──options──▶ navigator.credentials.create()
//!                        │ state (bytes, keyed by the challenge, single use, 5 min)
//!                        ▼
//!                  finish_registration(state taken back, response) ──▶ NewPasskey (stored)
//!
//! authentication:  start_authentication(the member's credentials) ──options──▶ navigator.credentials.get()
//!                        │ state
//!                        ▼
//!                  finish_authentication(state, response, stored credential) ──▶ Assertion
//! ```
//!
//! Both ceremonies require user presence and user verification, the origin
//! in the allowlist (web origins and `android:apk-key-hash:` origins; iOS
//! apps use the web origin of their associated domain), the SHA-256 of the
//! RP ID, the `webauthn.create`/`webauthn.get` type and the challenge taken
//! back. Attestation: `none` and `packed` self attestation; credential keys
//! ES256, ES384, EdDSA (Ed25519) and RS256. A signature counter that does not
//! grow is [`PasskeyError::Cloned`]: the assertion is refused and the caller
//! flags the credential.
//!
//! Verification is `webauthn_rp`'s; this crate chooses the policy, keeps the
//! state as bytes and names the errors.

#![forbid(unsafe_code)]

pub mod apps;
mod error;
#[cfg(feature = "software-authenticator")]
pub mod soft;
pub mod step3;

pub use error::PasskeyError;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use webauthn_rp::bin::{Decode as _, Encode as _};
use webauthn_rp::request::auth::{
    AllowedCredential, AllowedCredentials, AuthenticationVerificationOptions, NonDiscoverableCredentialRequestOptions,
    SignatureCounterEnforcement,
};
use webauthn_rp::request::register::{
    CredProtect, PublicKeyCredentialCreationOptions, PublicKeyCredentialUserEntity, RegistrationVerificationOptions,
    UserHandle,
};
use webauthn_rp::request::{
    AsciiDomain, Credentials as _, ExtensionInfo, PublicKeyCredentialDescriptor, RpId, UserVerificationRequirement,
};
use webauthn_rp::response::register::{Attestation, CompressedPubKey, DynamicState, StaticState, UncompressedPubKey};
use webauthn_rp::response::{AuthTransports, AuthenticatorTransport, Backup, CredentialId};
use webauthn_rp::{
    AuthenticatedCredential, NonDiscoverableAuthentication, NonDiscoverableAuthenticationServerState, Registration,
    RegistrationServerState,
};

/// User handles are Vottery user ids (16 bytes).
pub const USER_LEN: usize = 16;

/// The relying party: its RP ID and the origins allowed to speak for it.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    rp_id: RpId,
    origins: Vec<String>,
}

impl RelyingParty {
    /// `rp_id` is a registrable domain (`vottery.example`); `origins` are
    /// exact origins (`https://vottery.example`,
    /// `android:apk-key-hash:…`). With no origins, `https://<rp_id>`.
    pub fn new(rp_id: &str, origins: &[String]) -> Result<Self, PasskeyError> {
        let domain = AsciiDomain::try_from(rp_id.to_owned()).map_err(|_| PasskeyError::Settings("rp_id"))?;
        let origins = if origins.is_empty() {
            vec![format!("https://{rp_id}")]
        } else {
            let allowed = |o: &String| {
                o.starts_with("https://")
                    || o.starts_with("android:apk-key-hash:")
                    || o == "http://localhost"
                    || o.starts_with("http://localhost:")
            };
            if !origins.iter().all(allowed) {
                return Err(PasskeyError::Settings("passkey_origins"));
            }
            origins.to_vec()
        };
        Ok(Self { rp_id: RpId::Domain(domain), origins })
    }

    pub fn rp_id(&self) -> &str {
        self.rp_id.as_ref()
    }

    fn registration_options(&self) -> RegistrationVerificationOptions<'_, '_, String, String> {
        RegistrationVerificationOptions { allowed_origins: &self.origins, ..RegistrationVerificationOptions::default() }
    }

    fn authentication_options(&self) -> AuthenticationVerificationOptions<'_, '_, String, String> {
        AuthenticationVerificationOptions {
            allowed_origins: &self.origins,
            sig_counter_enforcement: SignatureCounterEnforcement::Fail,
            update_uv: true,
            ..AuthenticationVerificationOptions::default()
        }
    }
}

/// The first half of a ceremony: what the client is sent, and what Redis
/// keeps under `challenge` until the second half.
#[derive(Debug, Clone)]
pub struct Started {
    pub options: serde_json::Value,
    pub challenge: String,
    pub state: Vec<u8>,
}

/// A credential already registered, as the registration options exclude it.
#[derive(Debug, Clone)]
pub struct Known {
    pub id: Vec<u8>,
    pub transports: Vec<String>,
}

/// Registration options for `user` (its 16-byte id), excluding the member's
/// existing credentials.
pub fn start_registration(
    rp: &RelyingParty,
    user: [u8; USER_LEN],
    name: &str,
    display_name: &str,
    existing: &[Known],
) -> Result<Started, PasskeyError> {
    let handle = user_handle(user)?;
    let exclude = existing.iter().map(descriptor).collect::<Result<Vec<_>, _>>()?;
    let entity = PublicKeyCredentialUserEntity {
        name: name.try_into().map_err(|_| PasskeyError::Settings("user name"))?,
        id: &handle,
        display_name: Some(display_name.try_into().map_err(|_| PasskeyError::Settings("display name"))?),
    };
    let mut options = PublicKeyCredentialCreationOptions::passkey(&rp.rp_id, entity, exclude);
    // credProtect is asked for, not enforced: enforcing makes browsers refuse
    // every authenticator without the extension. User verification stays
    // required by the selection criteria and checked in every response.
    options.extensions.cred_protect = CredProtect::UserVerificationRequired(ExtensionInfo::AllowDontEnforceValue);
    let (server, client) = options.start_ceremony().map_err(|e| PasskeyError::Internal(e.to_string()))?;
    let options = serde_json::to_value(&client).map_err(|e| PasskeyError::Internal(e.to_string()))?;
    let state = server.encode().map_err(|e| PasskeyError::Internal(e.to_string()))?;
    Ok(Started { challenge: challenge_of(&options)?, options, state })
}

/// A registration response, parsed; its challenge names the state to take.
pub struct RegistrationResponse(Registration);

impl RegistrationResponse {
    pub fn parse(json: &[u8]) -> Result<Self, PasskeyError> {
        Registration::from_json_relaxed(json).map(Self).map_err(|e| PasskeyError::unreadable(e.to_string()))
    }

    pub fn challenge(&self) -> Result<String, PasskeyError> {
        let sent = self.0.challenge_relaxed().map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        Ok(B64.encode(sent.0.to_le_bytes()))
    }
}

/// A verified new credential, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPasskey {
    pub id: Vec<u8>,
    pub user: [u8; USER_LEN],
    /// The credential public key and its static extensions (`webauthn_rp`'s encoding).
    pub public_key: Vec<u8>,
    /// Counter, UV, backup and attachment (`webauthn_rp`'s 7-byte encoding).
    pub state: Vec<u8>,
    pub algorithm: &'static str,
    pub attestation: &'static str,
    pub aaguid: String,
    pub transports: Vec<String>,
    pub sign_count: u32,
    pub backup_eligible: bool,
    pub backed_up: bool,
}

pub fn finish_registration(
    rp: &RelyingParty,
    state: &[u8],
    response: &RegistrationResponse,
) -> Result<NewPasskey, PasskeyError> {
    let server = RegistrationServerState::<USER_LEN>::decode(state).map_err(|_| PasskeyError::CeremonyUnknown)?;
    let credential = server.verify(&rp.rp_id, &response.0, &rp.registration_options())?;
    let stat = credential.static_state();
    let dynamic = credential.dynamic_state();
    let metadata = credential.metadata();
    let algorithm = match stat.credential_public_key {
        UncompressedPubKey::Ed25519(_) => "EdDSA",
        UncompressedPubKey::P256(_) => "ES256",
        UncompressedPubKey::P384(_) => "ES384",
        UncompressedPubKey::Rsa(_) => "RS256",
    };
    let mut user = [0u8; USER_LEN];
    user.copy_from_slice(credential.user_id().as_ref());
    Ok(NewPasskey {
        id: credential.id().as_ref().to_vec(),
        user,
        public_key: stat.encode().map_err(|e| PasskeyError::Internal(e.to_string()))?,
        state: dynamic.encode().map_err(|e| PasskeyError::Internal(e.to_string()))?.to_vec(),
        algorithm,
        attestation: match metadata.attestation {
            Attestation::None => "none",
            Attestation::Surrogate => "packed-self",
        },
        aaguid: hex(metadata.aaguid.data()),
        transports: transport_names(credential.transports()),
        sign_count: dynamic.sign_count,
        backup_eligible: !matches!(dynamic.backup, Backup::NotEligible),
        backed_up: matches!(dynamic.backup, Backup::Exists),
    })
}

/// Authentication options for the member's credentials on this device.
pub fn start_authentication(rp: &RelyingParty, credentials: &[Known]) -> Result<Started, PasskeyError> {
    let mut allowed = AllowedCredentials::with_capacity(credentials.len());
    for known in credentials {
        allowed.push(AllowedCredential::from(descriptor(known)?));
    }
    let mut request = NonDiscoverableCredentialRequestOptions::second_factor(&rp.rp_id, allowed)
        .map_err(|_| PasskeyError::NoCredential)?;
    request.options().user_verification = UserVerificationRequirement::Required;
    let (server, client) = request.start_ceremony().map_err(|e| PasskeyError::Internal(e.to_string()))?;
    let options = serde_json::to_value(&client).map_err(|e| PasskeyError::Internal(e.to_string()))?;
    let state = server.encode().map_err(|e| PasskeyError::Internal(e.to_string()))?;
    Ok(Started { challenge: challenge_of(&options)?, options, state })
}

/// An assertion response, parsed.
pub struct AssertionResponse(NonDiscoverableAuthentication<USER_LEN>);

impl AssertionResponse {
    pub fn parse(json: &[u8]) -> Result<Self, PasskeyError> {
        NonDiscoverableAuthentication::<USER_LEN>::from_json_relaxed(json)
            .map(Self)
            .map_err(|e| PasskeyError::unreadable(e.to_string()))
    }

    pub fn challenge(&self) -> Result<String, PasskeyError> {
        let sent = self.0.challenge_relaxed().map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        Ok(B64.encode(sent.0.to_le_bytes()))
    }

    pub fn credential_id(&self) -> Vec<u8> {
        self.0.raw_id().as_ref().to_vec()
    }
}

/// A stored credential, as `finish_registration` gave it.
#[derive(Debug, Clone)]
pub struct StoredPasskey {
    pub id: Vec<u8>,
    pub user: [u8; USER_LEN],
    pub public_key: Vec<u8>,
    pub state: Vec<u8>,
}

/// A verified assertion: the new state to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub state: Vec<u8>,
    pub sign_count: u32,
    pub backed_up: bool,
}

pub fn finish_authentication(
    rp: &RelyingParty,
    state: &[u8],
    response: &AssertionResponse,
    stored: &StoredPasskey,
) -> Result<Assertion, PasskeyError> {
    let server = NonDiscoverableAuthenticationServerState::decode(state).map_err(|_| PasskeyError::CeremonyUnknown)?;
    let static_state =
        StaticState::<CompressedPubKey<[u8; 32], [u8; 32], [u8; 48], Vec<u8>>>::decode(stored.public_key.as_slice())
            .map_err(|e| PasskeyError::Internal(format!("stored public key: {e}")))?;
    let bytes: [u8; 7] =
        stored.state.as_slice().try_into().map_err(|_| PasskeyError::Internal("stored state is not 7 bytes".into()))?;
    let dynamic = DynamicState::decode(bytes).map_err(|e| PasskeyError::Internal(format!("stored state: {e}")))?;
    let handle = user_handle(stored.user)?;
    let mut credential = AuthenticatedCredential::new(
        CredentialId::<&[u8]>::decode(stored.id.as_slice()).map_err(|_| PasskeyError::NoCredential)?,
        &handle,
        static_state,
        dynamic,
    )
    .map_err(|e| PasskeyError::Internal(format!("stored credential: {e}")))?;
    server.verify(&rp.rp_id, &response.0, &mut credential, &rp.authentication_options())?;
    let dynamic = credential.dynamic_state();
    Ok(Assertion {
        state: dynamic.encode().map_err(|e| PasskeyError::Internal(e.to_string()))?.to_vec(),
        sign_count: dynamic.sign_count,
        backed_up: matches!(dynamic.backup, Backup::Exists),
    })
}

fn user_handle(user: [u8; USER_LEN]) -> Result<UserHandle<USER_LEN>, PasskeyError> {
    UserHandle::<USER_LEN>::decode(user).map_err(|e| match e {})
}

fn descriptor(known: &Known) -> Result<PublicKeyCredentialDescriptor<Vec<u8>>, PasskeyError> {
    let id = CredentialId::<Vec<u8>>::decode(known.id.clone())
        .map_err(|_| PasskeyError::Internal("stored credential id".into()))?;
    let names: Vec<&str> = known.transports.iter().map(String::as_str).filter(|n| transport(n).is_some()).collect();
    let transports = serde_json::from_value::<AuthTransports>(serde_json::json!(names))
        .map_err(|e| PasskeyError::Internal(format!("stored transports: {e}")))?;
    Ok(PublicKeyCredentialDescriptor { id, transports })
}

const TRANSPORTS: [(&str, AuthenticatorTransport); 6] = [
    ("ble", AuthenticatorTransport::Ble),
    ("hybrid", AuthenticatorTransport::Hybrid),
    ("internal", AuthenticatorTransport::Internal),
    ("nfc", AuthenticatorTransport::Nfc),
    ("smart-card", AuthenticatorTransport::SmartCard),
    ("usb", AuthenticatorTransport::Usb),
];

fn transport(name: &str) -> Option<AuthenticatorTransport> {
    TRANSPORTS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

fn transport_names(transports: AuthTransports) -> Vec<String> {
    TRANSPORTS.iter().filter(|(_, t)| transports.contains(*t)).map(|(n, _)| (*n).to_owned()).collect()
}

fn challenge_of(options: &serde_json::Value) -> Result<String, PasskeyError> {
    options
        .get("challenge")
        .and_then(|c| c.as_str())
        .map(str::to_owned)
        .ok_or_else(|| PasskeyError::Internal("options without a challenge".into()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
