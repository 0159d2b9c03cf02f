//! `KeyCrypto` over `vottery-crypto-core` with the OS CSPRNG, for tests.

use vottery_crypto_core as core;
use zeroize::Zeroizing;

use crate::{GeneratedKey, KeyAlgorithm, KeyCrypto, SecurityError};

pub struct NativeCrypto;

fn seed() -> [u8; 32] {
    let mut seed = [0; 32];
    getrandom::fill(&mut seed).unwrap();
    seed
}

impl KeyCrypto for NativeCrypto {
    fn generate(&self, algorithm: KeyAlgorithm) -> Result<GeneratedKey, SecurityError> {
        let pair = |alg| {
            let pair = core::sign::key_pair(alg, seed()).unwrap();
            GeneratedKey { private: pair.private, public: Some(pair.public) }
        };
        Ok(match algorithm {
            KeyAlgorithm::Ed25519 => pair(core::sign::Algorithm::Ed25519),
            KeyAlgorithm::EcdsaP256 => pair(core::sign::Algorithm::EcdsaP256),
            KeyAlgorithm::Aes256Gcm => GeneratedKey { private: Zeroizing::new(seed().to_vec()), public: None },
            KeyAlgorithm::RsaOaep3072 => {
                // 2048 bits keep the tests quick; the size is the component's choice.
                let pair = core::rsa::generate(&mut getrandom::SysRng, 2048).unwrap();
                GeneratedKey { private: pair.private_pkcs8, public: Some(pair.public_spki) }
            }
            KeyAlgorithm::ElGamalRistretto255 => {
                let keys = core::elgamal::generate(&mut rand_core::UnwrapErr(getrandom::SysRng));
                GeneratedKey { private: keys.secret, public: Some(keys.public) }
            }
        })
    }

    fn seal(&self, key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SecurityError> {
        let mut nonce = [0; 12];
        getrandom::fill(&mut nonce).unwrap();
        core::aead::seal(key, nonce, aad, plaintext).map_err(|e| SecurityError::Internal(e.to_string()))
    }

    fn open(&self, key: &[u8], sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, SecurityError> {
        core::aead::open(key, sealed, aad).map_err(|_| SecurityError::Tampered)
    }

    fn sha256(&self, data: &[u8]) -> [u8; 32] {
        core::digest::sha256(data)
    }

    fn random(&self, len: usize) -> Result<Vec<u8>, SecurityError> {
        let mut bytes = vec![0; len];
        getrandom::fill(&mut bytes).unwrap();
        Ok(bytes)
    }
}
