//! RSA on `rsa` 0.10 (constant-time arithmetic; 0.9 and earlier leak
//! timing on private-key operations, RUSTSEC-2023-0071): OAEP encryption
//! and PSS signatures, both with SHA-256. Private keys are PKCS#8 DER,
//! public keys SubjectPublicKeyInfo DER. The random source is passed in.

use rand_core::TryCryptoRng;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::sha2::Sha256;
use rsa::{PrivateKey, PublicKey};
use zeroize::Zeroizing;

use crate::CryptoError;

/// Key sizes accepted for new keys.
pub const KEY_BITS: [usize; 3] = [2048, 3072, 4096];

pub struct RsaKeyPair {
    pub private_pkcs8: Zeroizing<Vec<u8>>,
    pub public_spki: Vec<u8>,
}

pub fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R, bits: usize) -> Result<RsaKeyPair, CryptoError> {
    if !KEY_BITS.contains(&bits) {
        return Err(CryptoError::InvalidInput("RSA keys are 2048, 3072 or 4096 bits"));
    }
    let key = PrivateKey::new(rng, bits).map_err(|_| CryptoError::InvalidInput("RSA key generation failed"))?;
    let private = key.to_pkcs8_der().map_err(|_| CryptoError::InvalidKey("cannot encode the RSA key"))?;
    let public =
        key.to_public_key().to_public_key_der().map_err(|_| CryptoError::InvalidKey("cannot encode the RSA key"))?;
    Ok(RsaKeyPair {
        private_pkcs8: Zeroizing::new(private.as_bytes().to_vec()),
        public_spki: public.as_bytes().to_vec(),
    })
}

fn private_key(der: &[u8]) -> Result<PrivateKey, CryptoError> {
    PrivateKey::from_pkcs8_der(der).map_err(|_| CryptoError::InvalidKey("not a PKCS#8 RSA private key"))
}

fn public_key(der: &[u8]) -> Result<PublicKey, CryptoError> {
    PublicKey::from_public_key_der(der).map_err(|_| CryptoError::InvalidKey("not an RSA SubjectPublicKeyInfo"))
}

pub fn oaep_encrypt<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    public_spki: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    public_key(public_spki)?
        .oaep_encrypt_with_rng::<Sha256, _>(rng, plaintext)
        .map_err(|_| CryptoError::InvalidInput("the plaintext is too long for this key"))
}

pub fn oaep_decrypt<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    private_pkcs8: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    private_key(private_pkcs8)?
        .oaep_decrypt_with_rng::<Sha256, _>(rng, ciphertext)
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Tampered)
}

pub fn pss_sign<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    private_pkcs8: &[u8],
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    private_key(private_pkcs8)?
        .pss_sign_with_rng::<Sha256, _>(rng, message)
        .map_err(|_| CryptoError::InvalidKey("cannot sign with this key"))
}

pub fn pss_verify(public_spki: &[u8], message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
    public_key(public_spki)?.pss_verify::<Sha256>(message, signature).map_err(|_| CryptoError::BadSignature)
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use getrandom::SysRng;

    use super::*;

    fn pair() -> &'static RsaKeyPair {
        static PAIR: OnceLock<RsaKeyPair> = OnceLock::new();
        PAIR.get_or_init(|| generate(&mut SysRng, 2048).unwrap())
    }

    #[test]
    fn oaep_round_trip_and_tampering() {
        let pair = pair();
        let ciphertext = oaep_encrypt(&mut SysRng, &pair.public_spki, b"ballot key").unwrap();
        assert_eq!(ciphertext.len(), 256);
        assert_ne!(ciphertext, oaep_encrypt(&mut SysRng, &pair.public_spki, b"ballot key").unwrap());
        assert_eq!(oaep_decrypt(&mut SysRng, &pair.private_pkcs8, &ciphertext).unwrap().as_slice(), b"ballot key");
        let mut bad = ciphertext.clone();
        bad[100] ^= 1;
        assert_eq!(oaep_decrypt(&mut SysRng, &pair.private_pkcs8, &bad), Err(CryptoError::Tampered));
        assert_eq!(oaep_encrypt(&mut SysRng, &pair.public_spki, &[0; 200]).unwrap_err().code(), "invalid_input");
    }

    #[test]
    fn pss_sign_verify_and_tampering() {
        let pair = pair();
        let signature = pss_sign(&mut SysRng, &pair.private_pkcs8, b"tally").unwrap();
        assert_eq!(pss_verify(&pair.public_spki, b"tally", &signature), Ok(()));
        assert_eq!(pss_verify(&pair.public_spki, b"tally!", &signature), Err(CryptoError::BadSignature));
        let mut bad = signature.clone();
        bad[0] ^= 1;
        assert_eq!(pss_verify(&pair.public_spki, b"tally", &bad), Err(CryptoError::BadSignature));
    }

    #[test]
    fn bad_keys_and_sizes_are_refused() {
        assert_eq!(generate(&mut SysRng, 1024).err().map(|e| e.code()), Some("invalid_input"));
        assert_eq!(pss_verify(b"junk", b"m", b"s").unwrap_err().code(), "invalid_key");
        assert_eq!(oaep_decrypt(&mut SysRng, b"junk", b"c").unwrap_err().code(), "invalid_key");
    }
}
