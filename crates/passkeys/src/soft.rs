//! A software authenticator for tests and benchmarks: real attestation and
//! assertion objects (authenticator data, COSE keys, CBOR, `none` or
//! `packed` self attestation, ES256 or EdDSA signatures) in the JSON a
//! browser sends. Its fields let a test send what a broken or hostile
//! client would.

#![allow(clippy::expect_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ciborium::Value;
use serde_json::{Value as Json, json};
use sha2::{Digest as _, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Es256,
    EdDsa,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    None,
    Packed,
}

enum Key {
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

pub struct SoftAuthenticator {
    key: Key,
    pub credential_id: Vec<u8>,
    pub aaguid: [u8; 16],
    pub counter: u32,
    /// The origin the "browser" reports.
    pub origin: String,
    /// The RP ID whose hash goes into the authenticator data.
    pub rp_id: String,
    pub user_present: bool,
    pub user_verified: bool,
    pub backup_eligible: bool,
    /// The `type` of the client data, when a test wants a wrong one.
    pub client_type: Option<String>,
    /// The COSE algorithm the key claims, when a test wants a wrong one.
    pub claimed_alg: Option<i64>,
}

impl SoftAuthenticator {
    /// A credential whose key and id derive from `seed`.
    pub fn new(algorithm: Algorithm, seed: [u8; 32], rp_id: &str, origin: &str) -> Self {
        let key = match algorithm {
            Algorithm::Es256 => {
                let scalar = Sha256::digest([seed.as_slice(), b"p256"].concat());
                Key::P256(p256::ecdsa::SigningKey::from_slice(scalar.as_slice()).expect("a P-256 scalar"))
            }
            Algorithm::EdDsa => Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)),
        };
        Self {
            key,
            credential_id: Sha256::digest([seed.as_slice(), b"credential id"].concat()).to_vec(),
            aaguid: *b"vottery-soft-aut",
            counter: 0,
            origin: origin.to_owned(),
            rp_id: rp_id.to_owned(),
            user_present: true,
            user_verified: true,
            backup_eligible: false,
            client_type: None,
            claimed_alg: None,
        }
    }

    pub fn credential_id_b64(&self) -> String {
        B64.encode(&self.credential_id)
    }

    /// The answer of `navigator.credentials.create(options)`; `options` is
    /// the JSON the server sent (`challenge`, `user.id`).
    pub fn register(&mut self, options: &Json, format: Format) -> Json {
        let challenge = options["challenge"].as_str().expect("options.challenge");
        let client_data = self.client_data("webauthn.create", challenge);
        self.counter += 1;
        let mut auth_data = self.auth_data_head(0x40);
        auth_data.extend_from_slice(&self.aaguid);
        auth_data.extend_from_slice(&u16::try_from(self.credential_id.len()).expect("short id").to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&cbor(&self.cose_key()));
        let statement = match format {
            Format::None => Value::Map(vec![]),
            Format::Packed => Value::Map(vec![
                (text("alg"), int(self.alg())),
                (text("sig"), Value::Bytes(self.sign(&auth_data, &client_data))),
            ]),
        };
        let fmt = match format {
            Format::None => "none",
            Format::Packed => "packed",
        };
        let object = Value::Map(vec![
            (text("fmt"), text(fmt)),
            (text("attStmt"), statement),
            (text("authData"), Value::Bytes(auth_data.clone())),
        ]);
        json!({
            "id": self.credential_id_b64(),
            "rawId": self.credential_id_b64(),
            "type": "public-key",
            "response": {
                "clientDataJSON": B64.encode(&client_data),
                "attestationObject": B64.encode(cbor(&object)),
                "authenticatorData": B64.encode(&auth_data),
                "publicKey": B64.encode(self.spki()),
                "publicKeyAlgorithm": self.alg(),
                "transports": ["internal", "hybrid"],
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        })
    }

    /// The answer of `navigator.credentials.get(options)`, for `user` (the
    /// 16-byte user handle).
    pub fn assert(&mut self, options: &Json, user: &[u8]) -> Json {
        let challenge = options["challenge"].as_str().expect("options.challenge");
        let client_data = self.client_data("webauthn.get", challenge);
        self.counter += 1;
        let auth_data = self.auth_data_head(0);
        let signature = self.sign(&auth_data, &client_data);
        json!({
            "id": self.credential_id_b64(),
            "rawId": self.credential_id_b64(),
            "type": "public-key",
            "response": {
                "clientDataJSON": B64.encode(&client_data),
                "authenticatorData": B64.encode(&auth_data),
                "signature": B64.encode(signature),
                "userHandle": B64.encode(user),
            },
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        })
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        let kind = self.client_type.as_deref().unwrap_or(kind);
        serde_json::to_vec(&json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        }))
        .expect("client data")
    }

    fn auth_data_head(&self, extra_flags: u8) -> Vec<u8> {
        let mut flags = extra_flags;
        if self.user_present {
            flags |= 0x01;
        }
        if self.user_verified {
            flags |= 0x04;
        }
        if self.backup_eligible {
            flags |= 0x08;
        }
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend_from_slice(&self.counter.to_be_bytes());
        data
    }

    fn alg(&self) -> i64 {
        self.claimed_alg.unwrap_or(match self.key {
            Key::P256(_) => -7,
            Key::Ed25519(_) => -8,
        })
    }

    fn cose_key(&self) -> Value {
        match &self.key {
            Key::P256(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                let bytes = point.as_bytes();
                Value::Map(vec![
                    (int(1), int(2)),
                    (int(3), int(self.alg())),
                    (int(-1), int(1)),
                    (int(-2), Value::Bytes(bytes[1..33].to_vec())),
                    (int(-3), Value::Bytes(bytes[33..65].to_vec())),
                ])
            }
            Key::Ed25519(key) => Value::Map(vec![
                (int(1), int(1)),
                (int(3), int(self.alg())),
                (int(-1), int(6)),
                (int(-2), Value::Bytes(key.verifying_key().to_bytes().to_vec())),
            ]),
        }
    }

    fn spki(&self) -> Vec<u8> {
        match &self.key {
            Key::P256(key) => {
                use p256::pkcs8::EncodePublicKey as _;
                key.verifying_key().to_public_key_der().expect("spki").as_bytes().to_vec()
            }
            Key::Ed25519(key) => {
                use ed25519_dalek::pkcs8::EncodePublicKey as _;
                key.verifying_key().to_public_key_der().expect("spki").as_bytes().to_vec()
            }
        }
    }

    fn sign(&self, auth_data: &[u8], client_data: &[u8]) -> Vec<u8> {
        let mut message = auth_data.to_vec();
        message.extend_from_slice(&Sha256::digest(client_data));
        match &self.key {
            Key::P256(key) => {
                use p256::ecdsa::signature::Signer as _;
                let signature: p256::ecdsa::Signature = key.sign(&message);
                signature.to_der().as_bytes().to_vec()
            }
            Key::Ed25519(key) => {
                use ed25519_dalek::Signer as _;
                key.sign(&message).to_bytes().to_vec()
            }
        }
    }
}

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("CBOR");
    out
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn int(i: i64) -> Value {
    Value::Integer(i.into())
}
