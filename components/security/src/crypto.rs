//! Key management's cryptography, done by the composed `crypto` component.

use vottery_component_kit::crypto::{aead, digest, elgamal, random, rsa, signatures, types::CryptoError};
use vottery_security_core::{GeneratedKey, KeyAlgorithm, KeyCrypto, SecurityError};
use zeroize::Zeroizing;

/// RSA encryption keys; 3072 bits (128-bit security, NIST SP 800-57).
const RSA_BITS: u32 = 3072;

pub struct Composed;

/// A crypto error as the service's error.
pub fn error(e: CryptoError) -> SecurityError {
    match e {
        CryptoError::InvalidKey(why) => SecurityError::InvalidKey(why),
        CryptoError::Tampered => SecurityError::Tampered,
        CryptoError::BadSignature => SecurityError::BadSignature,
        CryptoError::InvalidInput(why) => SecurityError::InvalidInput(why),
    }
}

impl KeyCrypto for Composed {
    fn generate(&self, algorithm: KeyAlgorithm) -> Result<GeneratedKey, SecurityError> {
        let pair = |alg| {
            signatures::generate(alg)
                .map(|p| GeneratedKey { private: Zeroizing::new(p.private_key), public: Some(p.public_key) })
                .map_err(error)
        };
        match algorithm {
            KeyAlgorithm::Ed25519 => pair(signatures::Algorithm::Ed25519),
            KeyAlgorithm::EcdsaP256 => pair(signatures::Algorithm::EcdsaP256),
            KeyAlgorithm::Aes256Gcm => {
                Ok(GeneratedKey { private: Zeroizing::new(random::bytes(32).map_err(error)?), public: None })
            }
            KeyAlgorithm::RsaOaep3072 => rsa::generate(RSA_BITS)
                .map(|p| GeneratedKey { private: Zeroizing::new(p.private_key), public: Some(p.public_key) })
                .map_err(error),
            KeyAlgorithm::ElGamalRistretto255 => {
                let keys = elgamal::generate();
                Ok(GeneratedKey { private: Zeroizing::new(keys.secret_key), public: Some(keys.public_key) })
            }
        }
    }

    fn seal(&self, key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SecurityError> {
        aead::seal(key, aad, plaintext).map_err(error)
    }

    fn open(&self, key: &[u8], sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, SecurityError> {
        aead::open(key, sealed, aad).map(Zeroizing::new).map_err(error)
    }

    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        digest::sha256(data).try_into().unwrap_or([0; 32])
    }

    fn random(&self, len: usize) -> Result<Vec<u8>, SecurityError> {
        random::bytes(u32::try_from(len).unwrap_or(u32::MAX)).map_err(error)
    }
}
