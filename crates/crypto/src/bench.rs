//! The primitive workload timed by `benches/primitives.rs` natively and by
//! the `crypto-bench` fixture inside a component, so the two are the same
//! code and their ratio is the cost of WebAssembly.

use std::hint::black_box;
use std::time::Instant;

use serde_json::json;

use crate::sign::{Algorithm, key_pair};
use crate::{aead, codes, digest, sign, tokens};

/// Nanoseconds per operation for each primitive, `iterations` runs each.
pub fn run(iterations: u32) -> Vec<(&'static str, f64)> {
    let data = vec![0x5a_u8; 1024];
    let key = [7u8; 32];
    let sealed = aead::seal(&key, [1; 12], b"aad", &data).unwrap_or_default();
    let ed = key_pair(Algorithm::Ed25519, [3; 32]).ok();
    let es = key_pair(Algorithm::EcdsaP256, [3; 32]).ok();
    let (Some(ed), Some(es)) = (ed, es) else {
        return Vec::new();
    };
    let ed_sig = sign::sign(Algorithm::Ed25519, &ed.private, b"message").unwrap_or_default();
    let es_sig = sign::sign(Algorithm::EcdsaP256, &es.private, b"message").unwrap_or_default();
    let claims = json!({ "iss": "i", "aud": "a", "sub": "s", "exp": 2_000_000_000i64 });
    let signing = tokens::SigningKey { kid: "k", algorithm: Algorithm::Ed25519, private: &ed.private };
    let token = tokens::sign(&signing, "at+jwt", &claims).unwrap_or_default();
    let keys = [tokens::VerifyingKey { kid: "k".into(), algorithm: Algorithm::Ed25519, public: ed.public.clone() }];
    let expect = tokens::Expectations { issuer: "i", audience: "a", now: 1_900_000_000, leeway: 0 };

    let mut results = Vec::new();
    let mut time = |name: &'static str, f: &mut dyn FnMut()| {
        f();
        let started = Instant::now();
        for _ in 0..iterations {
            f();
        }
        results.push((name, started.elapsed().as_nanos() as f64 / f64::from(iterations)));
    };
    time("sha256 1 KiB", &mut || {
        black_box(digest::sha256(black_box(&data)));
    });
    time("hmac-sha256 1 KiB", &mut || {
        black_box(digest::hmac_sha256(&key, black_box(&data)));
    });
    time("blind index", &mut || {
        black_box(digest::blind_index(&key, "email", black_box("ada@example.com")));
    });
    time("aes-256-gcm seal 1 KiB", &mut || {
        black_box(aead::seal(&key, [2; 12], b"aad", black_box(&data)).ok());
    });
    time("aes-256-gcm open 1 KiB", &mut || {
        black_box(aead::open(&key, black_box(&sealed), b"aad").ok());
    });
    time("ed25519 sign", &mut || {
        black_box(sign::sign(Algorithm::Ed25519, &ed.private, black_box(b"message")).ok());
    });
    time("ed25519 verify", &mut || {
        black_box(sign::verify(Algorithm::Ed25519, &ed.public, b"message", black_box(&ed_sig)).ok());
    });
    time("es256 sign", &mut || {
        black_box(sign::sign(Algorithm::EcdsaP256, &es.private, black_box(b"message")).ok());
    });
    time("es256 verify", &mut || {
        black_box(sign::verify(Algorithm::EcdsaP256, &es.public, b"message", black_box(&es_sig)).ok());
    });
    time("jwt sign (EdDSA)", &mut || {
        black_box(tokens::sign(&signing, "at+jwt", black_box(&claims)).ok());
    });
    time("jwt verify (EdDSA)", &mut || {
        black_box(tokens::verify(black_box(&token), &keys, &expect).ok());
    });
    let mut rng = getrandom::SysRng;
    if let Ok(pair) = crate::rsa::generate(&mut rng, 2048) {
        let ciphertext = crate::rsa::oaep_encrypt(&mut rng, &pair.public_spki, b"key").unwrap_or_default();
        let signature = crate::rsa::pss_sign(&mut rng, &pair.private_pkcs8, b"message").unwrap_or_default();
        time("rsa-2048 oaep encrypt", &mut || {
            black_box(crate::rsa::oaep_encrypt(&mut getrandom::SysRng, &pair.public_spki, black_box(b"key")).ok());
        });
        time("rsa-2048 oaep decrypt", &mut || {
            black_box(
                crate::rsa::oaep_decrypt(&mut getrandom::SysRng, &pair.private_pkcs8, black_box(&ciphertext)).ok(),
            );
        });
        time("rsa-2048 pss sign", &mut || {
            black_box(crate::rsa::pss_sign(&mut getrandom::SysRng, &pair.private_pkcs8, black_box(b"message")).ok());
        });
        time("rsa-2048 pss verify", &mut || {
            black_box(crate::rsa::pss_verify(&pair.public_spki, b"message", black_box(&signature)).ok());
        });
    }
    time("numeric code", &mut || {
        black_box(codes::numeric_code(6, [black_box(123_456_789u64)]).ok());
    });
    results
}
