//! The `crypto` component: `vottery:crypto` over `vottery-crypto-core`,
//! with randomness from the platform CSPRNG and no capability at all. It
//! is plugged into the services as a component dependency that inherits
//! no configuration.

use exports::vottery::crypto::aead::{self, Envelope};
use exports::vottery::crypto::elgamal::{self, ElectionKeys, Trustees};
use exports::vottery::crypto::rsa::{self, RsaKeyPair};
use exports::vottery::crypto::signatures::{self, Algorithm, KeyPair};
use exports::vottery::crypto::tokens::{self, Expectations, TokenError, VerifyingKey};
use exports::vottery::crypto::types::CryptoError;
use exports::vottery::crypto::{digest, random};
use vottery_crypto_core as core;

wit_bindgen::generate!({
    path: "../../wit",
    world: "vottery:crypto/provider",
});

struct Crypto;

fn error(e: core::CryptoError) -> CryptoError {
    match e {
        core::CryptoError::InvalidKey(why) => CryptoError::InvalidKey(why.to_owned()),
        core::CryptoError::Tampered => CryptoError::Tampered,
        core::CryptoError::BadSignature => CryptoError::BadSignature,
        core::CryptoError::InvalidInput(why) => CryptoError::InvalidInput(why.to_owned()),
    }
}

fn fill<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).map_err(|_| CryptoError::InvalidInput("the platform CSPRNG failed".into()))?;
    Ok(bytes)
}

impl digest::Guest for Crypto {
    fn sha256(data: Vec<u8>) -> Vec<u8> {
        core::digest::sha256(&data).to_vec()
    }

    fn sha512(data: Vec<u8>) -> Vec<u8> {
        core::digest::sha512(&data).to_vec()
    }

    fn hmac_sha256(key: Vec<u8>, data: Vec<u8>) -> Vec<u8> {
        core::digest::hmac_sha256(&key, &data).to_vec()
    }

    fn verify_hmac_sha256(key: Vec<u8>, data: Vec<u8>, tag: Vec<u8>) -> bool {
        core::digest::verify_hmac_sha256(&key, &data, &tag)
    }

    fn blind_index(pepper: Vec<u8>, domain: String, value: String) -> Vec<u8> {
        core::digest::blind_index(&pepper, &domain, &value).to_vec()
    }
}

fn to_core(e: Envelope) -> core::aead::Envelope {
    core::aead::Envelope { kek_id: e.kek_id, wrapped_key: e.wrapped_key, ciphertext: e.ciphertext }
}

fn from_core(e: core::aead::Envelope) -> Envelope {
    Envelope { kek_id: e.kek_id, wrapped_key: e.wrapped_key, ciphertext: e.ciphertext }
}

impl aead::Guest for Crypto {
    fn seal(key: Vec<u8>, aad: Vec<u8>, plaintext: Vec<u8>) -> Result<Vec<u8>, CryptoError> {
        core::aead::seal(&key, fill()?, &aad, &plaintext).map_err(error)
    }

    fn open(key: Vec<u8>, sealed: Vec<u8>, aad: Vec<u8>) -> Result<Vec<u8>, CryptoError> {
        core::aead::open(&key, &sealed, &aad).map(|p| p.to_vec()).map_err(error)
    }

    fn seal_envelope(kek: Vec<u8>, kek_id: String, aad: Vec<u8>, plaintext: Vec<u8>) -> Result<Envelope, CryptoError> {
        let random = core::aead::EnvelopeRandom { data_key: fill()?, wrap_nonce: fill()?, data_nonce: fill()? };
        core::aead::seal_envelope(&kek, &kek_id, random, &aad, &plaintext).map(from_core).map_err(error)
    }

    fn open_envelope(kek: Vec<u8>, envelope: Envelope, aad: Vec<u8>) -> Result<Vec<u8>, CryptoError> {
        core::aead::open_envelope(&kek, &to_core(envelope), &aad).map(|p| p.to_vec()).map_err(error)
    }

    fn rewrap(
        old_kek: Vec<u8>,
        new_kek: Vec<u8>,
        new_kek_id: String,
        envelope: Envelope,
    ) -> Result<Envelope, CryptoError> {
        core::aead::rewrap(&old_kek, &new_kek, &new_kek_id, fill()?, &to_core(envelope)).map(from_core).map_err(error)
    }
}

fn algorithm(a: Algorithm) -> core::sign::Algorithm {
    match a {
        Algorithm::Ed25519 => core::sign::Algorithm::Ed25519,
        Algorithm::EcdsaP256 => core::sign::Algorithm::EcdsaP256,
    }
}

impl signatures::Guest for Crypto {
    fn generate(a: Algorithm) -> Result<KeyPair, CryptoError> {
        // A P-256 scalar outside the group order is astronomically rare; draw again.
        for _ in 0..8 {
            match core::sign::key_pair(algorithm(a), fill()?) {
                Ok(pair) => return Ok(KeyPair { private_key: pair.private.to_vec(), public_key: pair.public }),
                Err(core::CryptoError::InvalidKey(_)) => continue,
                Err(e) => return Err(error(e)),
            }
        }
        Err(CryptoError::InvalidInput("no valid key drawn".into()))
    }

    fn sign(a: Algorithm, private_key: Vec<u8>, message: Vec<u8>) -> Result<Vec<u8>, CryptoError> {
        core::sign::sign(algorithm(a), &private_key, &message).map_err(error)
    }

    fn verify(a: Algorithm, public_key: Vec<u8>, message: Vec<u8>, signature: Vec<u8>) -> Result<(), CryptoError> {
        core::sign::verify(algorithm(a), &public_key, &message, &signature).map_err(error)
    }
}

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

impl elgamal::Guest for Crypto {
    fn generate() -> ElectionKeys {
        let keys = core::elgamal::generate(&mut rng());
        ElectionKeys { secret_key: keys.secret.to_vec(), public_key: keys.public }
    }

    fn encrypt_ballot(public_key: Vec<u8>, options: u32, choice: u32) -> Result<String, CryptoError> {
        core::elgamal::encrypt_ballot(&mut rng(), &public_key, options, choice).map_err(error)
    }

    fn verify_ballot(public_key: Vec<u8>, options: u32, ballot: String) -> Result<String, CryptoError> {
        core::elgamal::verify_ballot(&public_key, options, &ballot).map_err(error)
    }

    fn tally(verified: Vec<String>) -> Result<String, CryptoError> {
        core::elgamal::tally(&verified).map_err(error)
    }

    fn decrypt_tally(secret_key: Vec<u8>, totals: String, max_count: u64) -> Result<String, CryptoError> {
        let counts = core::elgamal::decrypt_tally(&mut rng(), &secret_key, &totals, max_count).map_err(error)?;
        serde_json::to_string(&counts).map_err(|_| CryptoError::InvalidInput("cannot encode".into()))
    }

    fn verify_counts(public_key: Vec<u8>, totals: String, counts: String, max_count: u64) -> Result<(), CryptoError> {
        let counts: Vec<core::elgamal::ProvenCount> =
            serde_json::from_str(&counts).map_err(|_| CryptoError::InvalidInput("not proven counts".into()))?;
        core::elgamal::verify_counts(&public_key, &totals, &counts, max_count).map_err(error)
    }

    fn deal_trustees(count: u32, threshold: u32) -> Result<Trustees, CryptoError> {
        let dealt = core::elgamal::deal_trustees(&mut rng(), count, threshold).map_err(error)?;
        Ok(Trustees { key_set: dealt.key_set, shares: dealt.shares.iter().map(|s| s.to_vec()).collect() })
    }

    fn shared_public_key(key_set: String) -> Result<Vec<u8>, CryptoError> {
        core::elgamal::shared_public_key(&key_set).map_err(error)
    }

    fn decryption_share(
        key_set: String,
        index: u32,
        secret_share: Vec<u8>,
        totals: String,
    ) -> Result<String, CryptoError> {
        let share =
            core::elgamal::decryption_share(&mut rng(), &key_set, index, &secret_share, &totals).map_err(error)?;
        serde_json::to_string(&share).map_err(|_| CryptoError::InvalidInput("cannot encode".into()))
    }

    fn combine_shares(
        key_set: String,
        totals: String,
        shares: Vec<String>,
        max_count: u64,
    ) -> Result<Vec<u64>, CryptoError> {
        let shares = shares
            .iter()
            .map(|s| serde_json::from_str(s))
            .collect::<Result<Vec<core::elgamal::DecryptionShare>, _>>()
            .map_err(|_| CryptoError::InvalidInput("not a decryption share".into()))?;
        core::elgamal::combine_shares(&key_set, &totals, &shares, max_count).map_err(error)
    }
}

impl rsa::Guest for Crypto {
    fn generate(bits: u32) -> Result<RsaKeyPair, CryptoError> {
        let pair = core::rsa::generate(&mut getrandom::SysRng, bits as usize).map_err(error)?;
        Ok(RsaKeyPair { private_key: pair.private_pkcs8.to_vec(), public_key: pair.public_spki })
    }

    fn oaep_encrypt(public_key: Vec<u8>, plaintext: Vec<u8>) -> Result<Vec<u8>, CryptoError> {
        core::rsa::oaep_encrypt(&mut getrandom::SysRng, &public_key, &plaintext).map_err(error)
    }

    fn oaep_decrypt(private_key: Vec<u8>, ciphertext: Vec<u8>) -> Result<Vec<u8>, CryptoError> {
        core::rsa::oaep_decrypt(&mut getrandom::SysRng, &private_key, &ciphertext).map(|p| p.to_vec()).map_err(error)
    }

    fn pss_sign(private_key: Vec<u8>, message: Vec<u8>) -> Result<Vec<u8>, CryptoError> {
        core::rsa::pss_sign(&mut getrandom::SysRng, &private_key, &message).map_err(error)
    }

    fn pss_verify(public_key: Vec<u8>, message: Vec<u8>, signature: Vec<u8>) -> Result<(), CryptoError> {
        core::rsa::pss_verify(&public_key, &message, &signature).map_err(error)
    }
}

fn token_error(e: core::tokens::TokenError) -> TokenError {
    use core::tokens::TokenError as E;
    match e {
        E::Malformed => TokenError::Malformed,
        E::UnsupportedAlgorithm => TokenError::UnsupportedAlgorithm,
        E::UnknownKey => TokenError::UnknownKey,
        E::AlgorithmMismatch => TokenError::AlgorithmMismatch,
        E::BadSignature => TokenError::BadSignature,
        E::Expired => TokenError::Expired,
        E::NotYetValid => TokenError::NotYetValid,
        E::WrongIssuer => TokenError::WrongIssuer,
        E::WrongAudience => TokenError::WrongAudience,
        E::MissingClaim(claim) => TokenError::MissingClaim(claim.to_owned()),
        E::InvalidKey => TokenError::InvalidKey,
    }
}

impl tokens::Guest for Crypto {
    fn sign(
        kid: String,
        a: Algorithm,
        private_key: Vec<u8>,
        typ: String,
        claims_json: String,
    ) -> Result<String, TokenError> {
        let claims = serde_json::from_str(&claims_json).map_err(|_| TokenError::Malformed)?;
        let key = core::tokens::SigningKey { kid: &kid, algorithm: algorithm(a), private: &private_key };
        core::tokens::sign(&key, &typ, &claims).map_err(token_error)
    }

    fn verify(token: String, keys: Vec<VerifyingKey>, expect: Expectations) -> Result<String, TokenError> {
        let keys: Vec<core::tokens::VerifyingKey> = keys
            .into_iter()
            .map(|k| core::tokens::VerifyingKey { kid: k.kid, algorithm: algorithm(k.algorithm), public: k.public_key })
            .collect();
        let expect = core::tokens::Expectations {
            issuer: &expect.issuer,
            audience: &expect.audience,
            now: expect.now,
            leeway: expect.leeway,
        };
        core::tokens::verify(&token, &keys, &expect).map(|claims| claims.to_string()).map_err(token_error)
    }
}

impl random::Guest for Crypto {
    fn bytes(len: u32) -> Result<Vec<u8>, CryptoError> {
        if len > 1024 {
            return Err(CryptoError::InvalidInput("at most 1024 bytes at a time".into()));
        }
        let mut bytes = vec![0; len as usize];
        getrandom::fill(&mut bytes).map_err(|_| CryptoError::InvalidInput("the platform CSPRNG failed".into()))?;
        Ok(bytes)
    }

    fn numeric_code(digits: u8) -> Result<String, CryptoError> {
        let candidates: [u64; 4] = [
            u64::from_le_bytes(fill()?),
            u64::from_le_bytes(fill()?),
            u64::from_le_bytes(fill()?),
            u64::from_le_bytes(fill()?),
        ];
        core::codes::numeric_code(u32::from(digits), candidates).map_err(error)
    }
}

export!(Crypto);
