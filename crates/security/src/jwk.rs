//! Public keys as JSON Web Keys (RFC 7517, RFC 8037 for Ed25519).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::{KeyAlgorithm, KeyRecord, KeyState, Policy, Purpose};

/// The JWK of a signature key's public half; `None` for other keys.
pub fn public_jwk(record: &KeyRecord) -> Option<Value> {
    let public = record.public_key.as_deref()?;
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    match record.algorithm {
        KeyAlgorithm::Ed25519 => Some(json!({
            "kty": "OKP", "crv": "Ed25519", "x": b64(public),
            "kid": record.kid, "alg": "EdDSA", "use": "sig",
        })),
        // SEC1 uncompressed: 0x04 || x || y.
        KeyAlgorithm::EcdsaP256 if public.len() == 65 && public[0] == 4 => Some(json!({
            "kty": "EC", "crv": "P-256", "x": b64(&public[1..33]), "y": b64(&public[33..]),
            "kid": record.kid, "alg": "ES256", "use": "sig",
        })),
        _ => None,
    }
}

/// The token-signing keys that verify at `now` (active and retiring).
pub fn jwks(keys: &[KeyRecord], now: i64, policy: &Policy) -> Value {
    let published: Vec<Value> = keys
        .iter()
        .filter(|k| k.purpose == Purpose::TokenSigning)
        .filter(|k| matches!(k.state_at(now, policy), KeyState::Active | KeyState::Retiring))
        .filter_map(public_jwk)
        .collect();
    json!({ "keys": published })
}
