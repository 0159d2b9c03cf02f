//! The operations behind each route: load keys, check the caller and the
//! key's state (in `vottery-security-core`), call the composed crypto,
//! record what must be audited, answer JSON.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use spin_sdk::http::Request;
use vottery_component_kit::contracts::security::{
    BlindIndex, Checkpointed, ContactDomain, DataKey, Decrypt, Decrypted, Indexed, Sign, SignToken, Signed,
    SignedToken, UnwrapDataKey, UnwrappedDataKey, VerifiedToken, VerifyToken,
};
use vottery_component_kit::crypto::{aead, digest, random, rsa, signatures, tokens};
use vottery_component_kit::{self as kit, CALLER_HEADER};
use vottery_security_core::audit;
use vottery_security_core::{
    Caller, KeyAlgorithm, KeyCrypto as _, KeyRecord, KeyState, KeyUse, MasterKeys, Policy, Purpose, SecurityError,
    jwks, plan_rotation, public_jwk,
};
use vottery_validate::{Email, PhoneE164, decode_base64url as b64, encode_base64url as enc};

use crate::crypto::{Composed, error as crypto_error};
use crate::store::Store;

const LEEWAY: i64 = 60;
/// The longest lifetime a service may ask a token to have.
const MAX_TOKEN_LIFETIME: i64 = 24 * 60 * 60;
const MAX_BINARY: usize = 8 * 1024;
type Reply = Result<kit::Response, SecurityError>;

/// The calling service, when the request came through service chaining.
pub fn chained_caller(request: &Request) -> Option<String> {
    if !request.uri().path().starts_with("/internal/") {
        return None;
    }
    let named = request.headers().get(CALLER_HEADER).and_then(|v| v.to_str().ok());
    let valid = |n: &&str| !n.is_empty() && n.len() <= 32 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    Some(named.filter(valid).unwrap_or("unknown").to_owned())
}

async fn variable(name: &str) -> Result<String, SecurityError> {
    spin_sdk::variables::get(name)
        .await
        .map_err(|_| SecurityError::Misconfigured(format!("variable {name} is not set")))
}

/// The `typ` of a token's header, read before anything is checked.
fn header_typ(token: &str) -> Option<String> {
    let header: Value = serde_json::from_slice(&b64("token", token.split('.').next()?, 1024).ok()?).ok()?;
    header["typ"].as_str().map(str::to_owned)
}

fn token_error(e: tokens::TokenError) -> SecurityError {
    use tokens::TokenError as T;
    let code = match &e {
        T::Malformed => "token_malformed",
        T::UnsupportedAlgorithm => "token_algorithm_unsupported",
        T::UnknownKey => "token_key_unknown",
        T::AlgorithmMismatch => "token_algorithm_mismatch",
        T::BadSignature => "token_signature_invalid",
        T::Expired => "token_expired",
        T::NotYetValid => "token_not_yet_valid",
        T::WrongIssuer => "token_issuer_invalid",
        T::WrongAudience => "token_audience_invalid",
        T::MissingClaim(_) => "token_claim_missing",
        T::InvalidKey => "token_key_invalid",
    };
    SecurityError::Token { code, detail: format!("{e:?}") }
}

fn signature_algorithm(key: &KeyRecord) -> Result<signatures::Algorithm, SecurityError> {
    match key.algorithm {
        KeyAlgorithm::Ed25519 => Ok(signatures::Algorithm::Ed25519),
        KeyAlgorithm::EcdsaP256 => Ok(signatures::Algorithm::EcdsaP256),
        _ => Err(SecurityError::Corrupt(format!("{} is not a signature key", key.kid))),
    }
}

fn public_half(key: &KeyRecord) -> Result<&[u8], SecurityError> {
    key.public_key.as_deref().ok_or_else(|| SecurityError::Corrupt(format!("{} has no public key", key.kid)))
}

fn data_key_aad(kid: &str) -> Vec<u8> {
    format!("vottery-data-key\0{kid}").into_bytes()
}

/// What `GET /api/security/keys` shows of a key: never private material.
fn describe(key: &KeyRecord, now: i64, policy: &Policy) -> Value {
    let mut out = json!({
        "kid": key.kid, "purpose": key.purpose.as_str(), "version": key.version,
        "algorithm": key.algorithm.as_str(), "state": key.state_at(now, policy).as_str(),
        "created_at": key.created_at, "retiring_at": key.retiring_at, "retired_at": key.retired_at,
        "destroyed_at": key.destroyed_at,
    });
    if let Some(jwk) = public_jwk(key) {
        out["jwk"] = jwk;
    } else if let Some(public) = &key.public_key {
        out["public_key"] = Value::from(enc(public));
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptBody {
    plaintext: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    token: Option<String>,
    kid: Option<String>,
    message: Option<String>,
    signature: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    purpose: String,
}

/// `POST /internal/blind-index`: the keyed index of a normalised contact.
pub async fn blind_index(body: BlindIndex) -> Reply {
    let normalised = match body.domain {
        ContactDomain::Email => Email::parse(&body.value)?.as_str().to_owned(),
        ContactDomain::Phone => PhoneE164::parse(&body.value, None)?.as_str().to_owned(),
        ContactDomain::Unknown => return Err(SecurityError::InvalidInput("`domain` is `email` or `phone`".into())),
    };
    let pepper = variable("contact_pepper").await?;
    if pepper.len() < 32 {
        return Err(SecurityError::Misconfigured("contact_pepper must be at least 32 bytes".into()));
    }
    let index = digest::blind_index(pepper.as_bytes(), body.domain.as_str(), &normalised);
    Ok(kit::json(200, &Indexed { domain: body.domain, normalised, index: enc(&index) }))
}

/// One request's view of the service: its database connection and clock.
pub struct Service {
    store: Store,
    policy: Policy,
    now: i64,
}

impl Service {
    pub async fn open() -> Result<Self, SecurityError> {
        Ok(Self { store: Store::open().await?, policy: Policy::default(), now: kit::now() })
    }

    async fn masters(&self) -> Result<MasterKeys, SecurityError> {
        MasterKeys::parse(&variable("master_key").await?, &variable("master_key_previous").await?, &Composed)
    }

    /// Who is asking: a chained service, an administrator or member with a
    /// verified access token, or the public.
    pub async fn caller(&self, request: &Request) -> Result<Caller, SecurityError> {
        if let Some(name) = chained_caller(request) {
            return Ok(Caller::Service(name));
        }
        let Some(header) = request.headers().get(http::header::AUTHORIZATION) else {
            return Ok(Caller::Public);
        };
        let token =
            header.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).ok_or_else(|| {
                SecurityError::Unauthenticated("the Authorization header is not a Bearer token".into())
            })?;
        let claims = self.verify_token(token).await.map_err(|e| SecurityError::Unauthenticated(e.code().into()))?;
        let subject = claims["sub"].as_str().unwrap_or_default().to_owned();
        if subject.is_empty() {
            return Err(SecurityError::Unauthenticated("the token has no subject".into()));
        }
        let names = claims["roles"].as_array().into_iter().flatten().filter_map(Value::as_str);
        let admin = vottery_policy::authorize(&vottery_policy::roles_of(names), vottery_policy::Permission::KeysManage);
        Ok(if admin { Caller::Admin { subject } } else { Caller::Member { subject } })
    }

    async fn verify_token(&self, token: &str) -> Result<Value, SecurityError> {
        self.verify_token_for(token, &variable("token_audience").await?).await
    }

    /// `POST /internal/tokens/verify`: a token of this issuer, of the given
    /// `typ` and audience (step 3's enrolment token, say); its claims.
    pub async fn verify_typed_token(&self, body: VerifyToken<Map<String, Value>>) -> Reply {
        if header_typ(&body.token).as_deref() != Some(body.typ.as_str()) {
            return Err(SecurityError::Token {
                code: "token_type_invalid",
                detail: format!("not a {}", body.typ.as_str()),
            });
        }
        let claims = match self.verify_token_for(&body.token, &body.audience).await? {
            Value::Object(claims) => claims,
            _ => return Err(SecurityError::Internal("the claims are not an object".into())),
        };
        Ok(kit::json(200, &VerifiedToken { claims }))
    }

    async fn verify_token_for(&self, token: &str, audience: &str) -> Result<Value, SecurityError> {
        let keys = self.store.keys(Some(Purpose::TokenSigning)).await?;
        let verifying = keys
            .iter()
            .filter(|k| k.check_use(Purpose::TokenSigning, KeyUse::Verify, self.now, &self.policy).is_ok())
            .map(|k| {
                Ok(tokens::VerifyingKey {
                    kid: k.kid.clone(),
                    algorithm: signature_algorithm(k)?,
                    public_key: public_half(k)?.to_vec(),
                })
            })
            .collect::<Result<Vec<_>, SecurityError>>()?;
        let expect = tokens::Expectations {
            issuer: variable("token_issuer").await?,
            audience: audience.to_owned(),
            now: self.now,
            leeway: LEEWAY,
        };
        let claims = tokens::verify(token, &verifying, &expect).map_err(token_error)?;
        serde_json::from_str(&claims).map_err(|e| SecurityError::Internal(e.to_string()))
    }

    /// The active key of `purpose`; the first one is created on first use.
    async fn active(&self, purpose: Purpose) -> Result<KeyRecord, SecurityError> {
        let keys = self.store.keys(Some(purpose)).await?;
        if let Some(key) = keys.iter().find(|k| k.state == KeyState::Active) {
            return Ok(key.clone());
        }
        let rotation = plan_rotation(&keys, purpose, self.now, &self.masters().await?, &Composed)?;
        match self.store.rotate(&rotation).await {
            Ok(()) => {
                let detail = json!({ "purpose": purpose.as_str(), "version": rotation.new.version });
                self.store.audit(&kit::Actor::System, "key.created", &rotation.new.kid, "ok", &detail).await?;
                Ok(rotation.new)
            }
            Err(SecurityError::Conflict) => self
                .store
                .keys(Some(purpose))
                .await?
                .into_iter()
                .find(|k| k.state == KeyState::Active)
                .ok_or(SecurityError::NoActiveKey(purpose.as_str())),
            Err(e) => Err(e),
        }
    }

    async fn usable(&self, kid: &str, purpose: Purpose, use_: KeyUse) -> Result<KeyRecord, SecurityError> {
        let key = self.store.key(kid).await?;
        key.check_use(purpose, use_, self.now, &self.policy)?;
        Ok(key)
    }

    async fn private(&self, key: &KeyRecord) -> Result<zeroize::Zeroizing<Vec<u8>>, SecurityError> {
        key.unwrap_private(&self.masters().await?, &Composed)
    }

    /// Records an audited operation's outcome; when the record cannot be
    /// written, the operation fails (nothing unaudited is returned).
    async fn audited<T>(
        &self,
        caller: &Caller,
        action: &str,
        subject: &str,
        outcome: Result<T, SecurityError>,
    ) -> Result<T, SecurityError> {
        let (result, detail) = match &outcome {
            Ok(_) => ("ok", json!({})),
            Err(e) => ("refused", json!({ "code": e.code() })),
        };
        self.store.audit(&caller.actor(), action, subject, result, &detail).await?;
        outcome
    }

    pub async fn encrypt(&self, body: EncryptBody) -> Reply {
        let plaintext = b64("plaintext", &body.plaintext, MAX_BINARY)?;
        let key = self.active(Purpose::RsaEncryption).await?;
        let ciphertext = rsa::oaep_encrypt(public_half(&key)?, &plaintext).map_err(crypto_error)?;
        Ok(kit::json(200, &json!({ "kid": key.kid, "alg": key.algorithm.as_str(), "ciphertext": enc(&ciphertext) })))
    }

    pub async fn decrypt(&self, caller: &Caller, body: Decrypt) -> Reply {
        let ciphertext = b64("ciphertext", &body.ciphertext, MAX_BINARY)?;
        let outcome = async {
            let key = self.usable(&body.kid, Purpose::RsaEncryption, KeyUse::Open).await?;
            rsa::oaep_decrypt(&self.private(&key).await?, &ciphertext).map_err(crypto_error)
        };
        let plaintext = self.audited(caller, "decrypt", &body.kid, outcome.await).await?;
        Ok(kit::json(200, &Decrypted { kid: body.kid, plaintext: enc(&plaintext) }))
    }

    pub async fn sign(&self, caller: &Caller, body: Sign) -> Reply {
        let message = b64("message", &body.message, MAX_BINARY)?;
        let key = self.active(Purpose::DataSigning).await?;
        let outcome = async {
            signatures::sign(signature_algorithm(&key)?, &self.private(&key).await?, &message).map_err(crypto_error)
        };
        let signature = self.audited(caller, "sign", &key.kid, outcome.await).await?;
        let reply = Signed { kid: key.kid, alg: key.algorithm.as_str().to_owned(), signature: enc(&signature) };
        Ok(kit::json(200, &reply))
    }

    /// `POST /internal/audit/checkpoint`: every stream's head, their
    /// Merkle root, signed with the log-signing key, stored. The
    /// checkpoint row is its own record: no audit row (it would move the
    /// heads it has just signed).
    pub async fn checkpoint(&self) -> Reply {
        let key = self.active(Purpose::LogSigning).await?;
        let heads = self.store.audit_heads().await?;
        let root = audit::merkle_root(&heads.leaves(), &|data: &[u8]| Composed.sha256(data));
        let statement = audit::statement(self.now, &root);
        let signature = signatures::sign(signature_algorithm(&key)?, &self.private(&key).await?, &statement)
            .map_err(crypto_error)?;
        let id = self.store.add_checkpoint(self.now, &heads, &root, &key.kid, signature).await?;
        let root = root.iter().map(|b| format!("{b:02x}")).collect();
        Ok(kit::json(201, &Checkpointed { checkpoint_id: id, kid: key.kid, root, streams: heads.streams.len() }))
    }

    pub async fn verify(&self, body: VerifyBody) -> Reply {
        match body {
            VerifyBody { token: Some(token), kid: None, message: None, signature: None } => {
                let claims = self.verify_token(&token).await?;
                Ok(kit::json(200, &json!({ "valid": true, "claims": claims })))
            }
            VerifyBody { token: None, kid: Some(kid), message: Some(message), signature: Some(signature) } => {
                let (message, signature) = (b64("message", &message, MAX_BINARY)?, b64("signature", &signature, 512)?);
                let key = self.usable(&kid, Purpose::DataSigning, KeyUse::Verify).await?;
                signatures::verify(signature_algorithm(&key)?, public_half(&key)?, &message, &signature)
                    .map_err(crypto_error)?;
                Ok(kit::json(200, &json!({ "valid": true, "kid": kid })))
            }
            _ => Err(SecurityError::InvalidInput("give either `token`, or `kid`, `message` and `signature`".into())),
        }
    }

    pub async fn list(&self) -> Reply {
        let keys = self.store.keys(None).await?;
        let listed: Vec<Value> = keys.iter().map(|k| describe(k, self.now, &self.policy)).collect();
        Ok(kit::json(200, &json!({ "keys": listed })))
    }

    pub async fn jwks(&self) -> Reply {
        self.active(Purpose::TokenSigning).await?;
        let keys = self.store.keys(Some(Purpose::TokenSigning)).await?;
        let mut response = kit::json(200, &jwks(&keys, self.now, &self.policy));
        response
            .headers_mut()
            .insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("public, max-age=60"));
        Ok(response)
    }

    pub async fn rotate(&self, caller: &Caller, body: RotateBody) -> Reply {
        let purpose = Purpose::parse(&body.purpose)?;
        let keys = self.store.keys(Some(purpose)).await?;
        let rotation = plan_rotation(&keys, purpose, self.now, &self.masters().await?, &Composed)?;
        let outcome = self.store.rotate(&rotation).await;
        self.audited(caller, "key.rotated", &rotation.new.kid, outcome).await?;
        Ok(kit::json(201, &describe(&rotation.new, self.now, &self.policy)))
    }

    pub async fn retire(&self, caller: &Caller, kid: &str) -> Reply {
        let key = self.store.key(kid).await?;
        let retired = key.retire(self.now, &self.policy)?;
        self.audited(caller, "key.retired", kid, self.store.transition(&retired, key.state).await).await?;
        Ok(kit::json(200, &describe(&retired, self.now, &self.policy)))
    }

    pub async fn destroy(&self, caller: &Caller, kid: &str) -> Reply {
        let key = self.store.key(kid).await?;
        let destroyed = key.destroy(self.now, &self.policy)?;
        self.audited(caller, "key.destroyed", kid, self.store.transition(&destroyed, key.state).await).await?;
        Ok(kit::json(200, &describe(&destroyed, self.now, &self.policy)))
    }

    /// Moves every key to the current master key.
    pub async fn rewrap(&self, caller: &Caller) -> Reply {
        let masters = self.masters().await?;
        let current = masters.current.id().to_owned();
        let (mut moved, mut failed) = (0_u32, Vec::new());
        for key in self.store.keys(None).await? {
            let old = key.master_key_id.clone().unwrap_or_default();
            match key.rewrapped(&masters, &Composed) {
                Ok(Some(wrapped)) => moved += u32::from(self.store.rewrap(&key.kid, &old, wrapped, &current).await?),
                Ok(None) => {}
                Err(e) => failed.push(json!({ "kid": key.kid, "code": e.code() })),
            }
        }
        let detail = json!({ "master_key_id": current, "rewrapped": moved, "failed": failed });
        let outcome = if failed.is_empty() { "ok" } else { "partial" };
        self.store.audit(&caller.actor(), "master-key.rewrap", &current, outcome, &detail).await?;
        Ok(kit::json(200, &detail))
    }

    pub async fn sign_token(&self, body: SignToken<Map<String, Value>>) -> Reply {
        let mut claims = body.claims;
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| SecurityError::InvalidInput("`claims.exp` (seconds since the epoch) is required".into()))?;
        if exp <= self.now || exp - self.now > MAX_TOKEN_LIFETIME {
            return Err(SecurityError::InvalidInput("`claims.exp` must be in the next 24 hours".into()));
        }
        claims.insert("iss".into(), Value::from(variable("token_issuer").await?));
        let key = self.active(Purpose::TokenSigning).await?;
        let private = self.private(&key).await?;
        let claims = Value::Object(claims).to_string();
        let token = tokens::sign(&key.kid, signature_algorithm(&key)?, &private, body.typ.as_str(), &claims)
            .map_err(token_error)?;
        Ok(kit::json(200, &SignedToken { token, kid: key.kid }))
    }

    pub async fn new_data_key(&self) -> Reply {
        let key = self.active(Purpose::PiiWrapping).await?;
        let data_key = zeroize::Zeroizing::new(random::bytes(32).map_err(crypto_error)?);
        let wrapped =
            aead::seal(&self.private(&key).await?, &data_key_aad(&key.kid), &data_key).map_err(crypto_error)?;
        Ok(kit::json(200, &DataKey { kid: key.kid, data_key: enc(&data_key), wrapped_key: enc(&wrapped) }))
    }

    pub async fn unwrap_data_key(&self, body: UnwrapDataKey) -> Reply {
        let wrapped = b64("wrapped_key", &body.wrapped_key, 128)?;
        let key = self.usable(&body.kid, Purpose::PiiWrapping, KeyUse::Open).await?;
        let kek = self.private(&key).await?;
        let data_key =
            zeroize::Zeroizing::new(aead::open(&kek, &wrapped, &data_key_aad(&key.kid)).map_err(crypto_error)?);
        Ok(kit::json(200, &UnwrappedDataKey { kid: key.kid, data_key: enc(&data_key) }))
    }
}
