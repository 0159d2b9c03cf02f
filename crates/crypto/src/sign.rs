//! Signatures: Ed25519 (RFC 8032) and ECDSA P-256 with SHA-256
//! (deterministic nonces, RFC 6979; low-S only: a signature whose S is
//! above n/2 is refused, so no signature has a second valid form).
//! Private keys are 32-byte seeds or scalars; public keys are raw (Ed25519)
//! or SEC1 uncompressed (P-256).

use ed25519_dalek::{Signer as _, Verifier as _};
use zeroize::Zeroizing;

use crate::CryptoError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Ed25519,
    EcdsaP256,
}

/// A key pair from 32 random bytes.
pub struct KeyPair {
    pub private: Zeroizing<Vec<u8>>,
    pub public: Vec<u8>,
}

pub fn key_pair(algorithm: Algorithm, seed: [u8; 32]) -> Result<KeyPair, CryptoError> {
    let seed = Zeroizing::new(seed);
    match algorithm {
        Algorithm::Ed25519 => {
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            Ok(KeyPair { private: Zeroizing::new(seed.to_vec()), public: key.verifying_key().to_bytes().to_vec() })
        }
        Algorithm::EcdsaP256 => {
            let key = p256_signing_key(seed.as_slice())?;
            let public = key.verifying_key().to_sec1_point(false).as_bytes().to_vec();
            Ok(KeyPair { private: Zeroizing::new(seed.to_vec()), public })
        }
    }
}

fn p256_signing_key(private: &[u8]) -> Result<p256::ecdsa::SigningKey, CryptoError> {
    p256::ecdsa::SigningKey::from_slice(private).map_err(|_| CryptoError::InvalidKey("not a P-256 private scalar"))
}

fn ed25519_signing_key(private: &[u8]) -> Result<ed25519_dalek::SigningKey, CryptoError> {
    let seed: [u8; 32] =
        private.try_into().map_err(|_| CryptoError::InvalidKey("Ed25519 private keys are 32 bytes"))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

pub fn sign(algorithm: Algorithm, private: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
    match algorithm {
        Algorithm::Ed25519 => Ok(ed25519_signing_key(private)?.sign(message).to_bytes().to_vec()),
        Algorithm::EcdsaP256 => {
            let signature: p256::ecdsa::Signature = p256_signing_key(private)?.sign(message);
            // P-256 does not normalise on its own: (r, s) and (r, n - s) are
            // both valid, so the low-S one is the only one given and taken.
            Ok(signature.normalize_s().to_bytes().to_vec())
        }
    }
}

pub fn verify(algorithm: Algorithm, public: &[u8], message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
    match algorithm {
        Algorithm::Ed25519 => {
            let public: [u8; 32] =
                public.try_into().map_err(|_| CryptoError::InvalidKey("Ed25519 public keys are 32 bytes"))?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(&public)
                .map_err(|_| CryptoError::InvalidKey("not an Ed25519 public key"))?;
            let signature = ed25519_dalek::Signature::from_slice(signature).map_err(|_| CryptoError::BadSignature)?;
            key.verify_strict(message, &signature).map_err(|_| CryptoError::BadSignature)
        }
        Algorithm::EcdsaP256 => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public)
                .map_err(|_| CryptoError::InvalidKey("not a P-256 public key"))?;
            let signature = p256::ecdsa::Signature::from_slice(signature).map_err(|_| CryptoError::BadSignature)?;
            if signature.normalize_s() != signature {
                // The high-S twin of a valid signature: never one `sign` gave.
                return Err(CryptoError::BadSignature);
            }
            key.verify(message, &signature).map_err(|_| CryptoError::BadSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn ed25519_rfc8032_test_1() {
        let seed: [u8; 32] =
            unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").try_into().unwrap();
        let pair = key_pair(Algorithm::Ed25519, seed).unwrap();
        assert_eq!(pair.public, unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
        let signature = sign(Algorithm::Ed25519, &pair.private, b"").unwrap();
        assert_eq!(
            signature,
            unhex(
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
            )
        );
        assert_eq!(verify(Algorithm::Ed25519, &pair.public, b"", &signature), Ok(()));
    }

    #[test]
    fn both_algorithms_reject_tampering() {
        for algorithm in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
            let pair = key_pair(algorithm, [5; 32]).unwrap();
            let signature = sign(algorithm, &pair.private, b"ballot").unwrap();
            assert_eq!(verify(algorithm, &pair.public, b"ballot", &signature), Ok(()));
            assert_eq!(verify(algorithm, &pair.public, b"ballot!", &signature), Err(CryptoError::BadSignature));
            let mut bad = signature.clone();
            bad[3] ^= 1;
            assert_eq!(verify(algorithm, &pair.public, b"ballot", &bad), Err(CryptoError::BadSignature));
            let other = key_pair(algorithm, [6; 32]).unwrap();
            assert_eq!(verify(algorithm, &other.public, b"ballot", &signature), Err(CryptoError::BadSignature));
            assert_eq!(verify(algorithm, &pair.public[..10], b"ballot", &signature).unwrap_err().code(), "invalid_key");
        }
    }

    #[test]
    fn ecdsa_verification_refuses_the_high_s_twin_and_signing_gives_low_s() {
        use p256::ecdsa::Signature;
        let pair = key_pair(Algorithm::EcdsaP256, [5; 32]).unwrap();
        for i in 0..32_u8 {
            let message = [b'm', i];
            let signed = sign(Algorithm::EcdsaP256, &pair.private, &message).unwrap();
            // Both (r, s) and (r, -s) are valid ECDSA; the low-S one is kept.
            let (r, s) = Signature::from_slice(&signed).unwrap().split_scalars();
            let (one, other) = (Signature::from_scalars(r, s).unwrap(), Signature::from_scalars(r, -s).unwrap());
            let (low, high) = if one.normalize_s() == one { (one, other) } else { (other, one) };
            assert_eq!(high.normalize_s(), low, "{i}");
            let verifies =
                |signature: &Signature| verify(Algorithm::EcdsaP256, &pair.public, &message, &signature.to_bytes());
            assert_eq!(verifies(&low), Ok(()), "{i}");
            assert_eq!(verifies(&high), Err(CryptoError::BadSignature), "the high-S twin ({i})");
            assert_eq!(signed, low.to_bytes().to_vec(), "sign gives the low-S form ({i})");
        }
    }

    #[test]
    fn ecdsa_is_deterministic_and_rejects_invalid_scalars() {
        let pair = key_pair(Algorithm::EcdsaP256, [5; 32]).unwrap();
        assert_eq!(pair.public.len(), 65);
        assert_eq!(
            sign(Algorithm::EcdsaP256, &pair.private, b"m").unwrap(),
            sign(Algorithm::EcdsaP256, &pair.private, b"m").unwrap()
        );
        assert_eq!(
            key_pair(Algorithm::EcdsaP256, [0; 32]).err(),
            Some(CryptoError::InvalidKey("not a P-256 private scalar"))
        );
        assert_eq!(
            key_pair(Algorithm::EcdsaP256, [0xff; 32]).err(),
            Some(CryptoError::InvalidKey("not a P-256 private scalar"))
        );
    }
}
