//! Keys by purpose and version, their states, and the wrapping of their
//! private halves under the master key. See the crate docs for the
//! lifecycle.

use zeroize::Zeroizing;

use crate::SecurityError;

/// What a key is for. Each purpose has one algorithm and its own versions;
/// a key is never used outside its purpose (a data-signing key cannot mint
/// tokens, a token key cannot sign documents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Access tokens (EdDSA), published as JWKS.
    TokenSigning,
    /// Signatures over caller data (ES256), `POST /api/security/sign`.
    DataSigning,
    /// Key-encryption keys that wrap the data keys sealing PII.
    PiiWrapping,
    /// RSA-OAEP, `POST /api/security/encrypt` and `decrypt`.
    RsaEncryption,
    /// ElGamal election keys (Ristretto255).
    Election,
    /// The audit log's checkpoints (Ed25519), see [`crate::audit`].
    LogSigning,
}

impl Purpose {
    pub const ALL: [Purpose; 6] = [
        Self::TokenSigning,
        Self::DataSigning,
        Self::PiiWrapping,
        Self::RsaEncryption,
        Self::Election,
        Self::LogSigning,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TokenSigning => "token-signing",
            Self::DataSigning => "data-signing",
            Self::PiiWrapping => "pii-wrapping",
            Self::RsaEncryption => "rsa-encryption",
            Self::Election => "election",
            Self::LogSigning => "log-signing",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, SecurityError> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw).ok_or_else(|| SecurityError::UnknownPurpose(raw.into()))
    }

    pub fn algorithm(self) -> KeyAlgorithm {
        match self {
            Self::TokenSigning => KeyAlgorithm::Ed25519,
            Self::DataSigning => KeyAlgorithm::EcdsaP256,
            Self::PiiWrapping => KeyAlgorithm::Aes256Gcm,
            Self::RsaEncryption => KeyAlgorithm::RsaOaep3072,
            Self::Election => KeyAlgorithm::ElGamalRistretto255,
            Self::LogSigning => KeyAlgorithm::Ed25519,
        }
    }

    fn kid_prefix(self) -> &'static str {
        match self {
            Self::TokenSigning => "tok",
            Self::DataSigning => "sig",
            Self::PiiWrapping => "pii",
            Self::RsaEncryption => "rsa",
            Self::Election => "elg",
            Self::LogSigning => "log",
        }
    }
}

/// The algorithm of a key, named as JOSE names it where JOSE has a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    Ed25519,
    EcdsaP256,
    Aes256Gcm,
    RsaOaep3072,
    ElGamalRistretto255,
}

impl KeyAlgorithm {
    const ALL: [KeyAlgorithm; 5] =
        [Self::Ed25519, Self::EcdsaP256, Self::Aes256Gcm, Self::RsaOaep3072, Self::ElGamalRistretto255];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ed25519 => "EdDSA",
            Self::EcdsaP256 => "ES256",
            Self::Aes256Gcm => "A256GCM",
            Self::RsaOaep3072 => "RSA-OAEP-256",
            Self::ElGamalRistretto255 => "ElGamal-Ristretto255",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, SecurityError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == raw)
            .ok_or_else(|| SecurityError::Corrupt(format!("algorithm {raw}")))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Active,
    Retiring,
    Retired,
    Destroyed,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Retiring => "retiring",
            Self::Retired => "retired",
            Self::Destroyed => "destroyed",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, SecurityError> {
        [Self::Active, Self::Retiring, Self::Retired, Self::Destroyed]
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| SecurityError::Corrupt(format!("state {raw}")))
    }
}

/// What a caller wants to do with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// Sign, encrypt or wrap: only the active key.
    Create,
    /// Verify a signature: active or retiring.
    Verify,
    /// Decrypt or unwrap: anything not destroyed.
    Open,
}

impl KeyUse {
    fn as_str(self) -> &'static str {
        match self {
            Self::Create => "signing or encryption",
            Self::Verify => "verification",
            Self::Open => "decryption",
        }
    }
}

/// How long a retiring key keeps verifying, per purpose (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Access tokens live at most an hour (`session_policy`'s bound); 61
    /// minutes cover them and the clock leeway.
    pub token_signing: i64,
    pub data_signing: i64,
    pub pii_wrapping: i64,
    pub rsa_encryption: i64,
    pub election: i64,
    pub log_signing: i64,
}

impl Default for Policy {
    fn default() -> Self {
        const DAY: i64 = 24 * 60 * 60;
        Self {
            token_signing: 61 * 60,
            data_signing: 365 * DAY,
            pii_wrapping: 30 * DAY,
            rsa_encryption: 30 * DAY,
            election: 365 * DAY,
            log_signing: 365 * DAY,
        }
    }
}

impl Policy {
    pub fn retire_after(&self, purpose: Purpose) -> i64 {
        match purpose {
            Purpose::TokenSigning => self.token_signing,
            Purpose::DataSigning => self.data_signing,
            Purpose::PiiWrapping => self.pii_wrapping,
            Purpose::RsaEncryption => self.rsa_encryption,
            Purpose::Election => self.election,
            Purpose::LogSigning => self.log_signing,
        }
    }
}

/// A stored key. Times are seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub kid: String,
    pub purpose: Purpose,
    pub version: u32,
    pub algorithm: KeyAlgorithm,
    /// The stored state; [`KeyRecord::state_at`] gives the effective one.
    pub state: KeyState,
    /// `None` for symmetric keys.
    pub public_key: Option<Vec<u8>>,
    /// The private key sealed under the master key; `None` once destroyed.
    pub wrapped_private: Option<Vec<u8>>,
    pub master_key_id: Option<String>,
    pub created_at: i64,
    pub retiring_at: Option<i64>,
    pub retired_at: Option<i64>,
    pub destroyed_at: Option<i64>,
}

impl KeyRecord {
    /// The state at `now`: a retiring key retires by itself once its
    /// purpose's `retire_after` has passed.
    pub fn state_at(&self, now: i64, policy: &Policy) -> KeyState {
        match (self.state, self.retiring_at) {
            (KeyState::Retiring, Some(since)) if now >= since.saturating_add(policy.retire_after(self.purpose)) => {
                KeyState::Retired
            }
            (state, _) => state,
        }
    }

    /// Whether this key may serve `use_` for `purpose` at `now`.
    pub fn check_use(&self, purpose: Purpose, use_: KeyUse, now: i64, policy: &Policy) -> Result<(), SecurityError> {
        if self.purpose != purpose {
            return Err(SecurityError::WrongPurpose { kid: self.kid.clone(), expected: purpose.as_str() });
        }
        let state = self.state_at(now, policy);
        let allowed = match use_ {
            KeyUse::Create => state == KeyState::Active,
            KeyUse::Verify => matches!(state, KeyState::Active | KeyState::Retiring),
            KeyUse::Open => state != KeyState::Destroyed,
        };
        match (allowed, state) {
            (true, _) => Ok(()),
            (false, KeyState::Destroyed) => Err(SecurityError::KeyDestroyed(self.kid.clone())),
            (false, state) => Err(SecurityError::KeyNotUsable {
                kid: self.kid.clone(),
                state: state.as_str(),
                operation: use_.as_str(),
            }),
        }
    }

    /// The private key, unsealed with whichever master key wrapped it.
    pub fn unwrap_private(
        &self,
        masters: &MasterKeys,
        crypto: &impl KeyCrypto,
    ) -> Result<Zeroizing<Vec<u8>>, SecurityError> {
        let (Some(wrapped), Some(master_id)) = (&self.wrapped_private, &self.master_key_id) else {
            return Err(SecurityError::KeyDestroyed(self.kid.clone()));
        };
        let master = masters.find(master_id).ok_or_else(|| SecurityError::MasterKeyUnavailable(master_id.clone()))?;
        crypto
            .open(&master.key, wrapped, &self.wrap_aad(master_id))
            .map_err(|_| SecurityError::KeyIntegrity(self.kid.clone()))
    }

    /// The private key re-sealed under the current master key, or `None`
    /// when it already is (or is destroyed).
    pub fn rewrapped(&self, masters: &MasterKeys, crypto: &impl KeyCrypto) -> Result<Option<Vec<u8>>, SecurityError> {
        if self.wrapped_private.is_none() || self.master_key_id.as_deref() == Some(masters.current.id()) {
            return Ok(None);
        }
        let private = self.unwrap_private(masters, crypto)?;
        let current = &masters.current;
        crypto.seal(&current.key, &self.wrap_aad(current.id()), &private).map(Some)
    }

    /// Retires a retiring key now (before `retire_after` would).
    pub fn retire(&self, now: i64, policy: &Policy) -> Result<KeyRecord, SecurityError> {
        match self.state_at(now, policy) {
            KeyState::Retiring => Ok(KeyRecord { state: KeyState::Retired, retired_at: Some(now), ..self.clone() }),
            from => Err(SecurityError::InvalidTransition { kid: self.kid.clone(), from: from.as_str(), to: "retired" }),
        }
    }

    /// Destroys a retired key: its wrapped private half is erased.
    pub fn destroy(&self, now: i64, policy: &Policy) -> Result<KeyRecord, SecurityError> {
        match self.state_at(now, policy) {
            KeyState::Retired => Ok(KeyRecord {
                state: KeyState::Destroyed,
                wrapped_private: None,
                master_key_id: None,
                retired_at: self.retired_at.or(Some(now)),
                destroyed_at: Some(now),
                ..self.clone()
            }),
            from => {
                Err(SecurityError::InvalidTransition { kid: self.kid.clone(), from: from.as_str(), to: "destroyed" })
            }
        }
    }

    fn wrap_aad(&self, master_id: &str) -> Vec<u8> {
        format!("vottery-key\0{}\0{}\0{master_id}", self.kid, self.purpose.as_str()).into_bytes()
    }
}

/// A freshly generated key: the private half (or the symmetric key) and,
/// for asymmetric keys, the public half.
pub struct GeneratedKey {
    pub private: Zeroizing<Vec<u8>>,
    pub public: Option<Vec<u8>>,
}

/// The cryptography key management needs, provided by the `crypto`
/// component in the service and by `vottery-crypto-core` in tests.
pub trait KeyCrypto {
    fn generate(&self, algorithm: KeyAlgorithm) -> Result<GeneratedKey, SecurityError>;
    /// AES-256-GCM with a fresh random nonce.
    fn seal(&self, key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SecurityError>;
    fn open(&self, key: &[u8], sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, SecurityError>;
    fn sha256(&self, data: &[u8]) -> [u8; 32];
    fn random(&self, len: usize) -> Result<Vec<u8>, SecurityError>;
}

/// A master key (32 bytes, given as 64 hex digits) and its public id, a
/// digest of the key.
pub struct MasterKey {
    id: String,
    key: Zeroizing<Vec<u8>>,
}

impl MasterKey {
    pub fn parse(hex: &str, crypto: &impl KeyCrypto) -> Result<Self, SecurityError> {
        let key = Zeroizing::new(decode_hex(hex.trim()).filter(|k| k.len() == 32).ok_or_else(|| {
            SecurityError::MasterKeyInvalid("a master key is 32 bytes written as 64 hexadecimal digits".into())
        })?);
        let mut label = b"vottery master key id\0".to_vec();
        label.extend_from_slice(&key);
        let id = format!("mk-{}", encode_hex(&crypto.sha256(&label)[..8]));
        Ok(Self { id, key })
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The current master key and, while a master-key rotation is under way,
/// the previous one.
pub struct MasterKeys {
    pub current: MasterKey,
    pub previous: Option<MasterKey>,
}

impl MasterKeys {
    /// `previous` may be empty (no rotation under way).
    pub fn parse(current: &str, previous: &str, crypto: &impl KeyCrypto) -> Result<Self, SecurityError> {
        let current = MasterKey::parse(current, crypto)?;
        let previous = match previous.trim() {
            "" => None,
            hex => Some(MasterKey::parse(hex, crypto)?),
        };
        Ok(Self { current, previous })
    }

    fn find(&self, id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current).chain(self.previous.as_ref()).find(|m| m.id == id)
    }
}

/// A new key of `purpose` at `version`, active, its private half wrapped
/// under the current master key.
pub fn new_key(
    purpose: Purpose,
    version: u32,
    now: i64,
    masters: &MasterKeys,
    crypto: &impl KeyCrypto,
) -> Result<KeyRecord, SecurityError> {
    let suffix = encode_hex(&crypto.random(4)?);
    let generated = crypto.generate(purpose.algorithm())?;
    let mut record = KeyRecord {
        kid: format!("{}-{version}-{suffix}", purpose.kid_prefix()),
        purpose,
        version,
        algorithm: purpose.algorithm(),
        state: KeyState::Active,
        public_key: generated.public,
        wrapped_private: None,
        master_key_id: Some(masters.current.id().to_owned()),
        created_at: now,
        retiring_at: None,
        retired_at: None,
        destroyed_at: None,
    };
    let aad = record.wrap_aad(masters.current.id());
    record.wrapped_private = Some(crypto.seal(&masters.current.key, &aad, &generated.private)?);
    Ok(record)
}

/// What a rotation writes, in one transaction: the new active key and the
/// previous active key turned retiring.
#[derive(Debug)]
pub struct Rotation {
    pub new: KeyRecord,
    pub demoted: Option<KeyRecord>,
}

/// Plans the rotation of `purpose` given every stored key of it.
pub fn plan_rotation(
    existing: &[KeyRecord],
    purpose: Purpose,
    now: i64,
    masters: &MasterKeys,
    crypto: &impl KeyCrypto,
) -> Result<Rotation, SecurityError> {
    let ours = existing.iter().filter(|k| k.purpose == purpose);
    let version = ours.clone().map(|k| k.version).max().unwrap_or(0).checked_add(1).ok_or(SecurityError::Conflict)?;
    let demoted = ours
        .filter(|k| k.state == KeyState::Active)
        .map(|k| KeyRecord { state: KeyState::Retiring, retiring_at: Some(now), ..k.clone() })
        .next();
    Ok(Rotation { new: new_key(purpose, version, now, masters, crypto)?, demoted })
}

pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::NativeCrypto;
    use crate::{jwks, public_jwk};

    const MK1: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const MK2: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const T0: i64 = 1_800_000_000;

    fn masters(current: &str, previous: &str) -> MasterKeys {
        MasterKeys::parse(current, previous, &NativeCrypto).unwrap()
    }

    #[test]
    fn master_keys_are_32_bytes_of_hex_with_a_stable_id() {
        let m = masters(MK1, "");
        assert_eq!(m.current.id(), masters(MK1, "").current.id());
        assert!(m.current.id().starts_with("mk-") && m.current.id().len() == 19);
        assert_ne!(m.current.id(), masters(MK2, "").current.id());
        for bad in ["", "test-master", &MK1[..62], &format!("{MK1}00"), &MK1.replace('0', "g")] {
            let err = MasterKeys::parse(bad, "", &NativeCrypto).err().unwrap();
            assert_eq!(err.code(), "master_key_invalid", "{bad}");
            assert!(!err.to_string().contains(bad) || bad.is_empty());
        }
    }

    #[test]
    fn a_new_key_is_active_and_its_private_half_only_wrapped() {
        let m = masters(MK1, "");
        for purpose in Purpose::ALL {
            let key = new_key(purpose, 1, T0, &m, &NativeCrypto).unwrap();
            assert_eq!((key.state, key.version, key.algorithm), (KeyState::Active, 1, purpose.algorithm()));
            assert!(key.kid.starts_with(&format!("{}-1-", purpose.kid_prefix())), "{}", key.kid);
            let private = key.unwrap_private(&m, &NativeCrypto).unwrap();
            let wrapped = key.wrapped_private.as_ref().unwrap();
            assert!(!wrapped.windows(private.len()).any(|w| w == private.as_slice()), "{purpose:?} stored in clear");
            assert_eq!(key.public_key.is_some(), purpose != Purpose::PiiWrapping);
        }
    }

    #[test]
    fn a_wrapped_key_cannot_move_to_another_row_or_be_altered() {
        let m = masters(MK1, "");
        let a = new_key(Purpose::TokenSigning, 1, T0, &m, &NativeCrypto).unwrap();
        let b = new_key(Purpose::TokenSigning, 2, T0, &m, &NativeCrypto).unwrap();
        let moved = KeyRecord { wrapped_private: a.wrapped_private.clone(), ..b.clone() };
        assert_eq!(moved.unwrap_private(&m, &NativeCrypto).unwrap_err().code(), "key_integrity");
        let mut altered = a.clone();
        altered.wrapped_private.as_mut().unwrap()[20] ^= 1;
        assert_eq!(altered.unwrap_private(&m, &NativeCrypto).unwrap_err().code(), "key_integrity");
        let other_purpose = KeyRecord { purpose: Purpose::DataSigning, ..a.clone() };
        assert_eq!(other_purpose.unwrap_private(&m, &NativeCrypto).unwrap_err().code(), "key_integrity");
    }

    #[test]
    fn rotation_demotes_the_active_key_and_old_tokens_verify_until_it_retires() {
        let m = masters(MK1, "");
        let policy = Policy::default();
        let v1 = new_key(Purpose::TokenSigning, 1, T0, &m, &NativeCrypto).unwrap();
        let other = new_key(Purpose::DataSigning, 7, T0, &m, &NativeCrypto).unwrap();
        let rotation = plan_rotation(&[v1.clone(), other], Purpose::TokenSigning, T0 + 100, &m, &NativeCrypto).unwrap();
        let v1 = rotation.demoted.unwrap();
        let v2 = rotation.new;
        assert_eq!((v2.version, v2.state), (2, KeyState::Active));
        assert_eq!((v1.state, v1.retiring_at), (KeyState::Retiring, Some(T0 + 100)));
        let keys = [v1.clone(), v2.clone()];

        // Retiring: verifies, never signs; both keys in the JWKS.
        let just_before = T0 + 100 + policy.token_signing - 1;
        assert!(v1.check_use(Purpose::TokenSigning, KeyUse::Verify, just_before, &policy).is_ok());
        assert_eq!(
            v1.check_use(Purpose::TokenSigning, KeyUse::Create, T0 + 101, &policy).unwrap_err().code(),
            "key_state_conflict"
        );
        assert_eq!(jwks(&keys, just_before, &policy)["keys"].as_array().unwrap().len(), 2);

        // At retire_after it retires by itself: out of the JWKS, no verification, still opens.
        let at = T0 + 100 + policy.token_signing;
        assert_eq!(v1.state_at(at, &policy), KeyState::Retired);
        assert_eq!(
            v1.check_use(Purpose::TokenSigning, KeyUse::Verify, at, &policy).unwrap_err().code(),
            "key_state_conflict"
        );
        assert!(v1.check_use(Purpose::TokenSigning, KeyUse::Open, at, &policy).is_ok());
        let published = jwks(&keys, at, &policy);
        assert_eq!(published["keys"].as_array().unwrap().len(), 1);
        assert_eq!(published["keys"][0]["kid"], v2.kid);
    }

    #[test]
    fn states_only_move_forward() {
        let m = masters(MK1, "");
        let policy = Policy::default();
        let active = new_key(Purpose::RsaEncryption, 1, T0, &m, &NativeCrypto).unwrap();
        assert_eq!(active.retire(T0, &policy).unwrap_err().code(), "key_transition_invalid");
        assert_eq!(active.destroy(T0, &policy).unwrap_err().code(), "key_transition_invalid");
        let retiring = KeyRecord { state: KeyState::Retiring, retiring_at: Some(T0), ..active };
        assert_eq!(retiring.destroy(T0 + 1, &policy).unwrap_err().code(), "key_transition_invalid");
        let retired = retiring.retire(T0 + 1, &policy).unwrap();
        assert_eq!((retired.state, retired.retired_at), (KeyState::Retired, Some(T0 + 1)));
        assert_eq!(retired.retire(T0 + 2, &policy).unwrap_err().code(), "key_transition_invalid");
        let destroyed = retired.destroy(T0 + 2, &policy).unwrap();
        assert_eq!((destroyed.wrapped_private.as_ref(), destroyed.state), (None, KeyState::Destroyed));
        assert_eq!(destroyed.unwrap_private(&m, &NativeCrypto).unwrap_err().code(), "key_destroyed");
        assert_eq!(
            destroyed.check_use(Purpose::RsaEncryption, KeyUse::Open, T0 + 3, &policy).unwrap_err().code(),
            "key_destroyed"
        );
        assert_eq!(destroyed.destroy(T0 + 3, &policy).unwrap_err().code(), "key_transition_invalid");
        assert_eq!(
            destroyed.check_use(Purpose::DataSigning, KeyUse::Verify, T0, &policy).unwrap_err().code(),
            "key_purpose_mismatch"
        );
    }

    #[test]
    fn master_key_rotation_rewraps_without_losing_a_key() {
        let old = masters(MK1, "");
        let key = new_key(Purpose::PiiWrapping, 1, T0, &old, &NativeCrypto).unwrap();
        let secret = key.unwrap_private(&old, &NativeCrypto).unwrap();

        // New master configured, old kept as previous: the key still unwraps.
        let both = masters(MK2, MK1);
        assert_eq!(key.unwrap_private(&both, &NativeCrypto).unwrap(), secret);
        let rewrapped = key.rewrapped(&both, &NativeCrypto).unwrap().unwrap();
        let moved = KeyRecord {
            wrapped_private: Some(rewrapped),
            master_key_id: Some(both.current.id().to_owned()),
            ..key.clone()
        };
        assert_eq!(moved.rewrapped(&both, &NativeCrypto).unwrap(), None);

        // Once the previous master is dropped, only rewrapped keys unwrap.
        let new_only = masters(MK2, "");
        assert_eq!(moved.unwrap_private(&new_only, &NativeCrypto).unwrap(), secret);
        assert_eq!(key.unwrap_private(&new_only, &NativeCrypto).unwrap_err().code(), "master_key_unavailable");
    }

    #[test]
    fn signature_keys_publish_as_jwk() {
        let m = masters(MK1, "");
        let ed = new_key(Purpose::TokenSigning, 1, T0, &m, &NativeCrypto).unwrap();
        let jwk = public_jwk(&ed).unwrap();
        assert_eq!(
            (jwk["kty"].as_str(), jwk["crv"].as_str(), jwk["alg"].as_str()),
            (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
        );
        assert_eq!(jwk["x"].as_str().unwrap().len(), 43);
        let ec = new_key(Purpose::DataSigning, 1, T0, &m, &NativeCrypto).unwrap();
        let jwk = public_jwk(&ec).unwrap();
        assert_eq!((jwk["kty"].as_str(), jwk["crv"].as_str()), (Some("EC"), Some("P-256")));
        assert_eq!((jwk["x"].as_str().unwrap().len(), jwk["y"].as_str().unwrap().len()), (43, 43));
        assert!(public_jwk(&new_key(Purpose::PiiWrapping, 1, T0, &m, &NativeCrypto).unwrap()).is_none());
        // Only token keys are in the JWKS.
        assert_eq!(jwks(&[ec], T0, &Policy::default())["keys"].as_array().unwrap().len(), 0);
        assert_eq!(Purpose::parse("nope").unwrap_err().code(), "unknown_purpose");
        assert_eq!(Purpose::parse("election").unwrap(), Purpose::Election);
    }
}
