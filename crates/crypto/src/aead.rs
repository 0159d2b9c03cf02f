//! AES-256-GCM with associated data, and envelopes: data sealed under a
//! fresh data key, the data key sealed (wrapped) under a key-encryption key
//! whose id is bound into the wrapping as associated data.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use zeroize::Zeroizing;

use crate::CryptoError;

pub const KEY_LEN: usize = 32;
pub const NONCE_LEN: usize = 12;
pub const TAG_LEN: usize = 16;

fn cipher(key: &[u8]) -> Result<Aes256Gcm, CryptoError> {
    let key = Key::<Aes256Gcm>::try_from(key).map_err(|_| CryptoError::InvalidKey("AES-256-GCM keys are 32 bytes"))?;
    Ok(Aes256Gcm::new(&key))
}

/// Seals `plaintext`; the output is `nonce || ciphertext || tag`. The nonce
/// must never repeat under one key: draw it from a CSPRNG.
pub fn seal(key: &[u8], nonce: [u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let sealed = cipher(key)?
        .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad })
        .map_err(|_| CryptoError::InvalidInput("plaintext too long"))?;
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens what [`seal`] produced, with the same key and associated data.
pub fn open(key: &[u8], sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let cipher = cipher(key)?;
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError::InvalidInput("sealed data is shorter than a nonce and a tag"));
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::InvalidInput("bad nonce"))?;
    cipher.decrypt(&nonce, Payload { msg: body, aad }).map(Zeroizing::new).map_err(|_| CryptoError::Tampered)
}

/// Data sealed under a data key that is itself wrapped by a key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub kek_id: String,
    pub wrapped_key: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// Fresh randomness for one envelope.
pub struct EnvelopeRandom {
    pub data_key: [u8; KEY_LEN],
    pub wrap_nonce: [u8; NONCE_LEN],
    pub data_nonce: [u8; NONCE_LEN],
}

pub fn seal_envelope(
    kek: &[u8],
    kek_id: &str,
    random: EnvelopeRandom,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Envelope, CryptoError> {
    let data_key = Zeroizing::new(random.data_key);
    let wrapped_key = seal(kek, random.wrap_nonce, kek_id.as_bytes(), data_key.as_slice())?;
    let ciphertext = seal(data_key.as_slice(), random.data_nonce, aad, plaintext)?;
    Ok(Envelope { kek_id: kek_id.to_owned(), wrapped_key, ciphertext })
}

pub fn open_envelope(kek: &[u8], envelope: &Envelope, aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let data_key = open(kek, &envelope.wrapped_key, envelope.kek_id.as_bytes())?;
    open(&data_key, &envelope.ciphertext, aad)
}

/// Re-wraps an envelope's data key under a new key-encryption key (master
/// key rotation) without touching the data.
pub fn rewrap(
    old_kek: &[u8],
    new_kek: &[u8],
    new_kek_id: &str,
    nonce: [u8; NONCE_LEN],
    envelope: &Envelope,
) -> Result<Envelope, CryptoError> {
    let data_key = open(old_kek, &envelope.wrapped_key, envelope.kek_id.as_bytes())?;
    Ok(Envelope {
        kek_id: new_kek_id.to_owned(),
        wrapped_key: seal(new_kek, nonce, new_kek_id.as_bytes(), &data_key)?,
        ciphertext: envelope.ciphertext.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn nist_gcm_test_case_13_known_answer() {
        // AES-256, zero key and nonce, empty plaintext: the tag alone.
        let sealed = seal(&[0; 32], [0; 12], b"", b"").unwrap();
        let tag: String = sealed[12..].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(tag, "530f8afbc74536b9a963b4f1c4cb738b");
    }

    #[test]
    fn round_trip_and_tamper_detection() {
        let sealed = seal(&KEY, [1; 12], b"user:42", b"ada@example.com").unwrap();
        assert_eq!(open(&KEY, &sealed, b"user:42").unwrap().as_slice(), b"ada@example.com");
        assert_eq!(open(&KEY, &sealed, b"user:43"), Err(CryptoError::Tampered));
        assert_eq!(open(&[8; 32], &sealed, b"user:42"), Err(CryptoError::Tampered));
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert_eq!(open(&KEY, &bad, b"user:42"), Err(CryptoError::Tampered), "byte {i}");
        }
        assert_eq!(open(&KEY, &sealed[..20], b"user:42").unwrap_err().code(), "invalid_input");
        assert_eq!(seal(&[0; 16], [0; 12], b"", b"x").unwrap_err().code(), "invalid_key");
    }

    fn random(n: u8) -> EnvelopeRandom {
        EnvelopeRandom { data_key: [n; 32], wrap_nonce: [n + 1; 12], data_nonce: [n + 2; 12] }
    }

    #[test]
    fn envelopes_bind_the_kek_id_and_survive_rewrap() {
        let envelope = seal_envelope(&KEY, "kek-1", random(3), b"aad", b"secret").unwrap();
        assert_eq!(open_envelope(&KEY, &envelope, b"aad").unwrap().as_slice(), b"secret");
        let relabelled = Envelope { kek_id: "kek-2".into(), ..envelope.clone() };
        assert_eq!(open_envelope(&KEY, &relabelled, b"aad"), Err(CryptoError::Tampered));
        let rotated = rewrap(&KEY, &[9; 32], "kek-2", [4; 12], &envelope).unwrap();
        assert_eq!(rotated.ciphertext, envelope.ciphertext);
        assert_eq!(open_envelope(&[9; 32], &rotated, b"aad").unwrap().as_slice(), b"secret");
        assert_eq!(open_envelope(&KEY, &rotated, b"aad"), Err(CryptoError::Tampered));
    }
}
