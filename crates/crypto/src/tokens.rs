//! Compact JWTs signed with EdDSA (Ed25519) or ES256, on `jsonwebtoken`.
//!
//! Verification pins everything an attacker could choose: the header must
//! name a key id the caller knows, the algorithm must be the one that key is
//! registered for (so `none`, HMAC with a public key, or a swapped curve
//! are refused before any signature check), and `iss`, `aud`, `exp` and
//! `nbf` are checked against the caller's clock with a leeway.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;

use crate::sign::Algorithm;

/// Why a token was refused; each has a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed compact JWT")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    UnsupportedAlgorithm,
    #[error("the token names no known key")]
    UnknownKey,
    #[error("the token's algorithm is not the one its key is registered for")]
    AlgorithmMismatch,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    #[error("the token's audience is not accepted")]
    WrongAudience,
    #[error("the token lacks a required claim: {0}")]
    MissingClaim(&'static str),
    #[error("the signing key is invalid")]
    InvalidKey,
}

impl TokenError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "token_malformed",
            Self::UnsupportedAlgorithm => "token_algorithm_unsupported",
            Self::UnknownKey => "token_key_unknown",
            Self::AlgorithmMismatch => "token_algorithm_mismatch",
            Self::BadSignature => "token_signature_invalid",
            Self::Expired => "token_expired",
            Self::NotYetValid => "token_not_yet_valid",
            Self::WrongIssuer => "token_issuer_invalid",
            Self::WrongAudience => "token_audience_invalid",
            Self::MissingClaim(_) => "token_claim_missing",
            Self::InvalidKey => "token_key_invalid",
        }
    }
}

fn jwt_algorithm(algorithm: Algorithm) -> JwtAlgorithm {
    match algorithm {
        Algorithm::Ed25519 => JwtAlgorithm::EdDSA,
        Algorithm::EcdsaP256 => JwtAlgorithm::ES256,
    }
}

/// A key that may sign, with the id published for it.
pub struct SigningKey<'a> {
    pub kid: &'a str,
    pub algorithm: Algorithm,
    /// 32-byte Ed25519 seed or P-256 scalar.
    pub private: &'a [u8],
}

/// A key tokens may be verified with.
#[derive(Debug, Clone)]
pub struct VerifyingKey {
    pub kid: String,
    pub algorithm: Algorithm,
    /// Raw Ed25519 or SEC1 uncompressed P-256.
    pub public: Vec<u8>,
}

/// What a token must say.
pub struct Expectations<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    /// Seconds since the Unix epoch.
    pub now: i64,
    pub leeway: i64,
}

fn pkcs8(algorithm: Algorithm, private: &[u8]) -> Result<Vec<u8>, TokenError> {
    match algorithm {
        Algorithm::Ed25519 => {
            let seed: [u8; 32] = private.try_into().map_err(|_| TokenError::InvalidKey)?;
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            key.to_pkcs8_der().map(|d| d.as_bytes().to_vec()).map_err(|_| TokenError::InvalidKey)
        }
        Algorithm::EcdsaP256 => {
            use p256::pkcs8::EncodePrivateKey as _;
            let key = p256::SecretKey::from_slice(private).map_err(|_| TokenError::InvalidKey)?;
            key.to_pkcs8_der().map(|d| d.as_bytes().to_vec()).map_err(|_| TokenError::InvalidKey)
        }
    }
}

/// Signs `claims` (a JSON object) with a `kid` and `typ` in the header.
pub fn sign(key: &SigningKey<'_>, typ: &str, claims: &Value) -> Result<String, TokenError> {
    if !claims.is_object() {
        return Err(TokenError::Malformed);
    }
    let der = pkcs8(key.algorithm, key.private)?;
    let encoding = match key.algorithm {
        Algorithm::Ed25519 => EncodingKey::from_ed_der(&der),
        Algorithm::EcdsaP256 => EncodingKey::from_ec_der(&der),
    };
    let mut header = Header::new(jwt_algorithm(key.algorithm));
    header.kid = Some(key.kid.to_owned());
    header.typ = Some(typ.to_owned());
    jsonwebtoken::encode(&header, claims, &encoding).map_err(|_| TokenError::InvalidKey)
}

/// The token's header `kid` and `alg` as written, before any check.
fn header_of(token: &str) -> Result<(Option<String>, String), TokenError> {
    let head = token.split('.').next().ok_or(TokenError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD.decode(head).map_err(|_| TokenError::Malformed)?;
    let header: Value = serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
    let alg = header.get("alg").and_then(Value::as_str).ok_or(TokenError::Malformed)?.to_owned();
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
    Ok((kid, alg))
}

/// Verifies a token against the known keys and the expectations; returns
/// its claims.
pub fn verify(token: &str, keys: &[VerifyingKey], expect: &Expectations<'_>) -> Result<Value, TokenError> {
    if token.split('.').count() != 3 {
        return Err(TokenError::Malformed);
    }
    let (kid, alg) = header_of(token)?;
    if alg != "EdDSA" && alg != "ES256" {
        return Err(TokenError::UnsupportedAlgorithm);
    }
    let kid = kid.ok_or(TokenError::UnknownKey)?;
    let key = keys.iter().find(|k| k.kid == kid).ok_or(TokenError::UnknownKey)?;
    let pinned = jwt_algorithm(key.algorithm);
    if format!("{pinned:?}") != alg {
        return Err(TokenError::AlgorithmMismatch);
    }
    let decoding = match key.algorithm {
        Algorithm::Ed25519 => DecodingKey::from_ed_der(&key.public),
        Algorithm::EcdsaP256 => DecodingKey::from_ec_der(&key.public),
    };
    let mut validation = Validation::new(pinned);
    // Time is checked below against the caller's clock, not the system's.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims.clear();
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Value>(token, &decoding, &validation).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenError::BadSignature,
        jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => TokenError::AlgorithmMismatch,
        jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey | jsonwebtoken::errors::ErrorKind::InvalidEddsaKey => {
            TokenError::InvalidKey
        }
        _ => TokenError::Malformed,
    })?;
    check_claims(&data.claims, expect)?;
    Ok(data.claims)
}

fn check_claims(claims: &Value, expect: &Expectations<'_>) -> Result<(), TokenError> {
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or(TokenError::MissingClaim("exp"))?;
    if expect.now >= exp.saturating_add(expect.leeway) {
        return Err(TokenError::Expired);
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf.as_i64().ok_or(TokenError::Malformed)?;
        if expect.now < nbf.saturating_sub(expect.leeway) {
            return Err(TokenError::NotYetValid);
        }
    }
    if claims.get("iss").and_then(Value::as_str) != Some(expect.issuer) {
        return Err(TokenError::WrongIssuer);
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expect.audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expect.audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(TokenError::WrongAudience);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::sign::key_pair;

    const NOW: i64 = 1_800_000_000;

    fn expect() -> Expectations<'static> {
        Expectations { issuer: "https://id.vottery.test", audience: "vottery-dashboard", now: NOW, leeway: 30 }
    }

    fn claims() -> Value {
        json!({ "iss": "https://id.vottery.test", "aud": "vottery-dashboard", "sub": "user-1", "exp": NOW + 600, "nbf": NOW - 5 })
    }

    fn setup(algorithm: Algorithm, kid: &str, seed: u8) -> (Vec<u8>, VerifyingKey) {
        let pair = key_pair(algorithm, [seed; 32]).unwrap();
        (pair.private.to_vec(), VerifyingKey { kid: kid.into(), algorithm, public: pair.public })
    }

    #[test]
    fn round_trips_for_both_algorithms() {
        for algorithm in [Algorithm::Ed25519, Algorithm::EcdsaP256] {
            let (private, public) = setup(algorithm, "k1", 3);
            let token = sign(&SigningKey { kid: "k1", algorithm, private: &private }, "at+jwt", &claims()).unwrap();
            let verified = verify(&token, &[public], &expect()).unwrap();
            assert_eq!(verified["sub"], "user-1");
            let (_, alg) = header_of(&token).unwrap();
            assert_eq!(alg, if algorithm == Algorithm::Ed25519 { "EdDSA" } else { "ES256" });
        }
    }

    fn token_with(algorithm: Algorithm, claims: &Value) -> (String, VerifyingKey) {
        let (private, public) = setup(algorithm, "k1", 3);
        (sign(&SigningKey { kid: "k1", algorithm, private: &private }, "at+jwt", claims).unwrap(), public)
    }

    #[test]
    fn time_is_checked_against_the_given_clock_with_leeway() {
        let (token, key) = token_with(Algorithm::Ed25519, &claims());
        let at = |now| verify(&token, std::slice::from_ref(&key), &Expectations { now, ..expect() });
        assert!(at(NOW + 600 + 29).is_ok());
        assert_eq!(at(NOW + 600 + 30), Err(TokenError::Expired));
        assert!(at(NOW - 5 - 30).is_ok());
        assert_eq!(at(NOW - 5 - 31), Err(TokenError::NotYetValid));
    }

    #[test]
    fn issuer_audience_and_exp_are_required() {
        for (claim, error) in [
            ("iss", TokenError::WrongIssuer),
            ("aud", TokenError::WrongAudience),
            ("exp", TokenError::MissingClaim("exp")),
        ] {
            let mut c = claims();
            c.as_object_mut().unwrap().remove(claim);
            let (token, key) = token_with(Algorithm::Ed25519, &c);
            assert_eq!(verify(&token, &[key], &expect()), Err(error));
        }
        let mut c = claims();
        c["aud"] = json!(["other", "vottery-dashboard"]);
        let (token, key) = token_with(Algorithm::Ed25519, &c);
        assert!(verify(&token, &[key], &expect()).is_ok());
    }

    #[test]
    fn attacker_chosen_headers_are_refused() {
        let (token, key) = token_with(Algorithm::Ed25519, &claims());
        let parts: Vec<&str> = token.split('.').collect();
        let forge =
            |header: Value, sig: &str| format!("{}.{}.{sig}", URL_SAFE_NO_PAD.encode(header.to_string()), parts[1]);
        let keys = [key.clone()];
        assert_eq!(
            verify(&forge(json!({"alg": "none", "kid": "k1"}), ""), &keys, &expect()),
            Err(TokenError::UnsupportedAlgorithm)
        );
        assert_eq!(
            verify(&forge(json!({"alg": "HS256", "kid": "k1"}), parts[2]), &keys, &expect()),
            Err(TokenError::UnsupportedAlgorithm)
        );
        assert_eq!(
            verify(&forge(json!({"alg": "ES256", "kid": "k1"}), parts[2]), &keys, &expect()),
            Err(TokenError::AlgorithmMismatch)
        );
        assert_eq!(
            verify(&forge(json!({"alg": "EdDSA", "kid": "k2"}), parts[2]), &keys, &expect()),
            Err(TokenError::UnknownKey)
        );
        assert_eq!(verify(&forge(json!({"alg": "EdDSA"}), parts[2]), &keys, &expect()), Err(TokenError::UnknownKey));
        assert_eq!(verify("a.b", &keys, &expect()), Err(TokenError::Malformed));
        assert_eq!(verify("!!.b.c", &keys, &expect()), Err(TokenError::Malformed));
    }

    #[test]
    fn tampering_and_other_keys_fail_the_signature() {
        let (token, key) = token_with(Algorithm::EcdsaP256, &claims());
        let mut c = claims();
        c["sub"] = json!("admin");
        let parts: Vec<&str> = token.split('.').collect();
        let swapped = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(c.to_string()), parts[2]);
        assert_eq!(verify(&swapped, std::slice::from_ref(&key), &expect()), Err(TokenError::BadSignature));
        let (_, other) = setup(Algorithm::EcdsaP256, "k1", 4);
        assert_eq!(verify(&token, &[other], &expect()), Err(TokenError::BadSignature));
    }

    #[test]
    fn rotation_keeps_old_tokens_verifying_while_their_key_is_listed() {
        let (old_private, old_public) = setup(Algorithm::Ed25519, "2026-01", 1);
        let (_, new_public) = setup(Algorithm::Ed25519, "2026-02", 2);
        let old = sign(
            &SigningKey { kid: "2026-01", algorithm: Algorithm::Ed25519, private: &old_private },
            "at+jwt",
            &claims(),
        )
        .unwrap();
        assert!(verify(&old, &[new_public.clone(), old_public], &expect()).is_ok());
        assert_eq!(verify(&old, &[new_public], &expect()), Err(TokenError::UnknownKey));
    }
}
