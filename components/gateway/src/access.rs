//! The access-token check for routes whose component asks for it
//! (`gateway_auth = "required"`): an EdDSA `at+jwt` of this issuer for
//! this audience, its key from the security service's JWKS (cached in Redis
//! for a minute, fetched again for an unknown `kid` at most every
//! `MISS_INTERVAL` seconds), and its session not in the revocation cache
//! (rebuilt from PostgreSQL when Redis has lost it: `revocations`).
//! The middleware runs with the configuration of the component it is in
//! front of (`inherit_configuration`).
//!
//! An instance that serves many requests (Spin reuses instances) keeps the
//! key set and the tokens it has verified in memory until the key set's
//! TTL and the tokens' expiry: a repeat request then costs one Redis round
//! trip (the revocation check) and no signature verification. Nothing of a
//! request but a verified token's claims outlives it, and a fresh instance
//! starts with empty memory.
//!
//! A verified token also leaves an entry in Redis, keyed by the SHA-256 of
//! the issuer, audience and whole token, until the token expires
//! (`vottery_gateway_policy::verified`). A fresh instance, or another
//! replica, that finds it takes the claims from the token's payload
//! without checking the signature, in the same round trip as the charge
//! and the revocation check: with a fresh instance per request, a repeat
//! token costs what it costs a reused instance. The entry is as trusted as
//! the revocation entries beside it: whoever can write Redis can already
//! un-revoke a session.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::BodyExt;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use std::sync::Mutex;

use serde::Deserialize;
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};

use vottery_component_kit::Problem;
use vottery_gateway_policy::limits::{self, Verdict};
use vottery_gateway_policy::{VerifiedTokens, token_problem, verified};

use crate::limiter::{Charge, Revocation, Verified};

const JWKS_URL: &str = "http://security.spin.internal/.well-known/jwks.json";
const JWKS_TTL: i64 = 60;
const LEEWAY: u64 = vottery_sessions_core::revocation::TOKEN_LEEWAY.unsigned_abs();
/// The least time between two fetches of the key set for unknown `kid`s.
const MISS_INTERVAL: i64 = 10;
const REMEMBERED_TOKENS: usize = 4096;

#[derive(Deserialize, Clone)]
struct Claims {
    sub: String,
    sid: String,
    did: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    amr: Vec<String>,
    /// Tokens issued before `auth_time` was added have none: 0.
    #[serde(default)]
    auth_time: i64,
    exp: i64,
}

/// What this instance remembers between the requests it serves.
struct Memory {
    keys: Option<(JwkSet, i64)>,
    tokens: VerifiedTokens<Claims>,
}

static MEMORY: Mutex<Option<Memory>> = Mutex::new(None);

fn remember<R>(f: impl FnOnce(&mut Memory) -> R) -> R {
    let mut guard = MEMORY.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let memory = guard.get_or_insert_with(|| Memory { keys: None, tokens: VerifiedTokens::new(REMEMBERED_TOKENS) });
    f(memory)
}

/// The verified identity, as the headers passed downstream.
pub type Identity = Vec<(&'static str, String)>;

fn unavailable(what: &str) -> Problem {
    Problem::new(503, "gateway_unavailable", "Service unavailable")
        .with_detail(format!("cannot check access tokens: {what}"))
}

/// A token's claims read before its signature is checked: its session, to
/// fetch the revocation entry in the same round trip as the charge, and its
/// subject, whose bucket is charged only if the token has a verified entry
/// (then the claims are the ones verified).
fn peek_claims(token: &str) -> Option<Claims> {
    let payload = URL_SAFE_NO_PAD.decode(token.split('.').nth(1)?).ok()?;
    serde_json::from_slice(&payload).ok()
}

async fn fetch_jwks(redis: &Connection, key: &str) -> Result<JwkSet, Problem> {
    let response = spin_sdk::http::get(JWKS_URL).await.map_err(|_| unavailable("the key set"))?;
    let body = response.into_body().collect().await.map_err(|_| unavailable("the key set"))?.to_bytes();
    let set: JwkSet = serde_json::from_slice(&body).map_err(|_| unavailable("the key set"))?;
    let args = vec![
        RedisParameter::Binary(key.as_bytes().to_vec()),
        RedisParameter::Binary(body.to_vec()),
        RedisParameter::Binary(b"EX".to_vec()),
        RedisParameter::Int64(JWKS_TTL),
    ];
    let _ = redis.execute("SET", args).await;
    Ok(set)
}

/// A verify request's rate limit: its charge and client address, and the
/// last verdict (for the answer's `RateLimit` field).
pub struct Limit<'a> {
    pub charge: &'a Charge<'a>,
    pub address: String,
    pub verdict: Option<Verdict>,
    pub config: &'a crate::Config,
}

/// What a charge said of the token: whether its session is revoked, and
/// whether it has a verified entry.
struct Spent {
    revoked: bool,
    verified: bool,
}

impl Limit<'_> {
    /// Charges `buckets` (and reads whether `sid` is revoked, from
    /// PostgreSQL when the cache is cold); a refusal is the 429 problem.
    async fn spend(
        &mut self,
        redis: &Connection,
        buckets: &[String],
        sid: Option<&str>,
        verified: Verified<'_>,
    ) -> Result<Spent, Problem> {
        let charged = self.charge.run(redis, buckets, sid, verified).await?.ok_or_else(crate::limiter::unavailable)?;
        self.verdict = Some(charged.verdict);
        if !charged.verdict.admitted {
            return Err(limits::refused(self.charge.class, &charged.verdict));
        }
        let revoked = match (charged.revocation, sid) {
            (Revocation::Revoked, _) => true,
            (Revocation::Unknown, Some(sid)) => crate::revocations::rebuild(redis, self.charge.namespace, sid).await?,
            _ => false,
        };
        Ok(Spent { revoked, verified: charged.verified })
    }
}

/// Checks the access token of a request and charges its rate limit. One
/// Redis round trip (the address's and the member's buckets and the
/// revocation together) for a token this instance remembers, or that any
/// instance has verified (its entry in Redis); for a token nobody has
/// verified, the address's bucket and the revocation, the signature, then
/// the member's bucket with the token's entry.
pub async fn verify(token: Option<&str>, redis: &Connection, limit: &mut Limit<'_>) -> Result<Identity, Problem> {
    let address_bucket = limit.charge.address_key(&limit.address);
    let Some(token) = token else {
        limit.spend(redis, &[address_bucket], None, Verified::Untouched).await?;
        return Err(token_problem("token_missing"));
    };
    let now = vottery_component_kit::now();
    let (Some(issuer), Some(audience)) = (limit.config.token_issuer.clone(), limit.config.token_audience.clone())
    else {
        return Err(unavailable("not configured"));
    };
    if let Some(claims) = remember(|m| m.tokens.get(token, now - LEEWAY as i64).cloned()) {
        return admit_remembered(redis, limit, address_bucket, claims).await;
    }
    let entry = verified::entry_key(limit.charge.namespace, &issuer, &audience, token);
    let peeked = peek_claims(token);
    let sid = peeked.as_ref().map(|claims| claims.sid.clone());
    let spent = charge_checking_entry(redis, limit, address_bucket, peeked.as_ref(), &entry).await?;
    let from_entry = peeked.filter(|claims| spent.verified && now <= claims.exp + LEEWAY as i64);
    let claims = match from_entry.clone() {
        Some(claims) => claims,
        None => check_signature(redis, limit.charge.namespace, token, sid, issuer, audience, now).await?,
    };
    remember(|m| m.tokens.insert(token.to_owned(), claims.clone(), claims.exp, now));
    if spent.revoked {
        return Err(token_problem("session_revoked"));
    }
    if from_entry.is_none() {
        charge_member_leaving_entry(redis, limit, &claims, &entry, now).await?;
    }
    Ok(identity(claims))
}

/// A token this instance remembers: its address's and member's buckets and
/// its revocation, in one round trip.
async fn admit_remembered(
    redis: &Connection,
    limit: &mut Limit<'_>,
    address_bucket: String,
    claims: Claims,
) -> Result<Identity, Problem> {
    let buckets = [address_bucket, limit.charge.member_key(&claims.sub)];
    if limit.spend(redis, &buckets, Some(&claims.sid), Verified::Untouched).await?.revoked {
        return Err(token_problem("session_revoked"));
    }
    Ok(identity(claims))
}

/// A token this instance does not remember: the address's bucket and the
/// revocation of the session its payload names, and whether it has a
/// verified entry (then its member's bucket is charged too).
async fn charge_checking_entry(
    redis: &Connection,
    limit: &mut Limit<'_>,
    address_bucket: String,
    peeked: Option<&Claims>,
    entry: &str,
) -> Result<Spent, Problem> {
    let member_bucket = peeked.map(|claims| limit.charge.member_key(&claims.sub));
    let check = match &member_bucket {
        Some(member_bucket) => Verified::Check { entry, member_bucket },
        None => Verified::Untouched,
    };
    let sid = peeked.map(|claims| claims.sid.as_str());
    limit.spend(redis, &[address_bucket], sid, check).await
}

/// The claims of a token nobody has verified: its key from the key set,
/// its signature, issuer, audience and expiry, and its session the one its
/// payload named when the revocation was read.
async fn check_signature(
    redis: &Connection,
    namespace: &str,
    token: &str,
    sid: Option<String>,
    issuer: String,
    audience: String,
    now: i64,
) -> Result<Claims, Problem> {
    let kid = access_token_kid(token)?;
    let sid = sid.ok_or_else(|| token_problem("token_invalid"))?;
    let set = key_set(redis, namespace, &kid, now).await?;
    let claims = verified_claims(token, &set, &kid, issuer, audience)?;
    if claims.sid != sid {
        return Err(token_problem("session_revoked"));
    }
    Ok(claims)
}

/// After a signature check: the member's bucket, and the token's verified
/// entry for every other instance and replica, in one round trip.
async fn charge_member_leaving_entry(
    redis: &Connection,
    limit: &mut Limit<'_>,
    claims: &Claims,
    entry: &str,
    now: i64,
) -> Result<(), Problem> {
    let member_bucket = limit.charge.member_key(&claims.sub);
    let mark = match verified::entry_ttl(claims.exp, LEEWAY as i64, now) {
        Some(ttl) => Verified::Remember { entry, ttl },
        None => Verified::Untouched,
    };
    limit.spend(redis, &[member_bucket], None, mark).await?;
    Ok(())
}

/// The `kid` of an EdDSA access token (`typ` `at+jwt`), from its header.
fn access_token_kid(token: &str) -> Result<String, Problem> {
    let header = decode_header(token).map_err(|_| token_problem("token_invalid"))?;
    if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some("at+jwt") {
        return Err(token_problem("token_invalid"));
    }
    header.kid.ok_or_else(|| token_problem("token_invalid"))
}

/// The token's claims once its signature verifies with `kid` of `set`,
/// issued by `issuer` for `audience`, unexpired (with `LEEWAY`).
fn verified_claims(token: &str, set: &JwkSet, kid: &str, issuer: String, audience: String) -> Result<Claims, Problem> {
    let jwk = set.find(kid).ok_or_else(|| token_problem("token_invalid"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| token_problem("token_invalid"))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.leeway = LEEWAY;
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let decoded = decode::<Claims>(token, &key, &validation).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::ExpiredSignature => token_problem("token_expired"),
        _ => token_problem("token_invalid"),
    })?;
    Ok(decoded.claims)
}

/// The key set holding `kid`: from this instance's memory, else from
/// Redis, else fetched from `security` (when Redis has none, or, for a
/// `kid` the cached set lacks, at most once per `MISS_INTERVAL`).
async fn key_set(redis: &Connection, namespace: &str, kid: &str, now: i64) -> Result<JwkSet, Problem> {
    let remembered = remember(|m| m.keys.clone().filter(|(set, at)| now - at < JWKS_TTL && set.find(kid).is_some()));
    if let Some((set, _)) = remembered {
        return Ok(set);
    }
    let jwks_key = format!("{namespace}:gateway:jwks");
    let found = redis
        .execute("GET", vec![RedisParameter::Binary(jwks_key.as_bytes().to_vec())])
        .await
        .map_err(|_| unavailable("redis"))?;
    let cached = match found.first() {
        Some(RedisResult::Binary(bytes)) => serde_json::from_slice::<JwkSet>(bytes).ok(),
        _ => None,
    };
    let set = match cached {
        Some(set) if set.find(kid).is_some() => set,
        // The cached set lacks this `kid`: a rotation, or a made-up `kid`.
        Some(_) => {
            if !may_fetch_on_miss(redis, namespace).await? {
                return Err(token_problem("token_invalid"));
            }
            fetch_jwks(redis, &jwks_key).await?
        }
        // Nothing cached (its minute is over): every instance may fetch, so
        // no valid token is refused while one of them refreshes it.
        None => fetch_jwks(redis, &jwks_key).await?,
    };
    remember(|m| m.keys = Some((set.clone(), now)));
    Ok(set)
}

/// Whether this request may fetch the key set for a `kid` it does not
/// hold: one fetch per `MISS_INTERVAL` across every instance and replica,
/// so a flood of made-up `kid`s costs one chained call, not one each.
async fn may_fetch_on_miss(redis: &Connection, namespace: &str) -> Result<bool, Problem> {
    let args = vec![
        RedisParameter::Binary(format!("{namespace}:gateway:jwks-miss").into_bytes()),
        RedisParameter::Binary(b"1".to_vec()),
        RedisParameter::Binary(b"NX".to_vec()),
        RedisParameter::Binary(b"EX".to_vec()),
        RedisParameter::Int64(MISS_INTERVAL),
    ];
    let answer = redis.execute("SET", args).await.map_err(|_| unavailable("redis"))?;
    Ok(matches!(answer.first(), Some(RedisResult::Status(_) | RedisResult::Binary(_))))
}

fn identity(claims: Claims) -> Identity {
    vec![
        ("vottery-user", claims.sub),
        ("vottery-session", claims.sid),
        ("vottery-device", claims.did),
        ("vottery-roles", claims.roles.join(",")),
        ("vottery-amr", claims.amr.join(",")),
        ("vottery-auth-time", claims.auth_time.to_string()),
    ]
}
