//! Step 3 over HTTP: the passkey ceremonies of `vottery-passkeys-core`.
//!
//! Enrolment, after both codes:
//! 1. `POST /api/auth/capture-biometric/options` `{enrolment_token, device_id, device?}`:
//!    the token is checked by `security`; the ceremony is kept in Redis
//!    under its challenge for 5 minutes.
//! 2. `POST /api/auth/capture-biometric` `{credential, device?}`: the ceremony
//!    is taken (single use), the credential verified, the enrolment token
//!    claimed (single use), the device registered (`devices`), the passkey
//!    stored with its audit row (one statement), a session opened
//!    (`devices`) and the tokens issued. A failure after the claim releases
//!    it, so the same enrolment token can try again; a session whose tokens
//!    were never handed out cannot be used.
//!
//! A returning member on a known device: `POST /api/auth/assert-biometric/options`
//! `{device_id}` then `POST /api/auth/assert-biometric` `{device_id, credential, device?}`.
//! The stored credential state is replaced only if unchanged since it was
//! read (a replay loses the race); a signature counter that goes back
//! flags the passkey as cloned and refuses it from then on. The device's
//! sighting and the session are then one call and one statement in
//! `devices`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use spin_sdk::http::Request;
use spin_sdk::pg::{Connection as Pg, DbValue, ParameterValue};
use spin_sdk::redis::{RedisParameter, RedisResult};
use vottery_auth_core::AuthError;
use vottery_component_kit::contracts::auth::{
    ErasePasskeys, ExportPasskeys, ExportedPasskeys, HeldPasskey, RemovePasskeys, RemovedPasskeys,
};
use vottery_component_kit::contracts::devices::{self, ClientHints, OpenSession, RegisterDevice, Sighting};
use vottery_component_kit::contracts::security::{ENROLMENT_AUDIENCE, EnrolmentClaims, TokenType, VerifyToken};
use vottery_component_kit::redis::Namespaced;
use vottery_component_kit::{self as kit, pg::column};
use vottery_passkeys_core::apps::{android_origins, parse_android_apps};
use vottery_passkeys_core::{
    AssertionResponse, Known, PasskeyError, RegistrationResponse, RelyingParty, StoredPasskey, USER_LEN,
    finish_authentication, finish_registration, start_authentication, start_registration,
};
use vottery_sessions_core::{Amr, DeviceId};
use vottery_validate::encode_base64url;

use crate::session::{self, Fault, Opened};
use crate::store;

const CEREMONY_TTL: i64 = 300;
/// Attestations with certificate chains run to a few kilobytes.
const MAX_CEREMONY_BODY: usize = 60 * 1024;

/// What the frontend reports of the device (all optional).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DeviceReport {
    #[serde(default)]
    form_factor: Option<String>,
    #[serde(default)]
    max_touch_points: Option<u32>,
    #[serde(default)]
    native_app: Option<bool>,
    /// `PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable()`.
    #[serde(default)]
    platform_authenticator: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolOptionsBody {
    #[serde(default)]
    enrolment_token: Option<String>,
    device_id: String,
    #[serde(default)]
    device: DeviceReport,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolBody {
    credential: Value,
    #[serde(default)]
    device: DeviceReport,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertOptionsBody {
    device_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertBody {
    device_id: String,
    credential: Value,
    #[serde(default)]
    device: DeviceReport,
}

/// A ceremony between its two halves.
#[derive(Serialize, Deserialize)]
struct Ceremony {
    kind: String,
    user_id: String,
    device_id: String,
    #[serde(default)]
    jti: Option<String>,
    #[serde(default)]
    amr: Vec<String>,
    state: String,
}

fn storage(what: &str, e: impl std::fmt::Debug) -> Fault {
    AuthError::Storage(format!("{what}: {e:?}")).into()
}

fn internal(e: impl std::fmt::Display) -> Fault {
    AuthError::Internal(e.to_string()).into()
}

struct Context {
    redis: Namespaced,
    rp: RelyingParty,
}

impl Context {
    async fn open() -> Result<Self, Fault> {
        let redis = Namespaced::open().await.map_err(AuthError::Storage)?;
        Ok(Self { redis, rp: relying_party().await? })
    }

    fn key(&self, rest: &str) -> String {
        self.redis.key(&format!("auth:{rest}"))
    }

    async fn keep(&self, challenge: &str, ceremony: &Ceremony) -> Result<(), Fault> {
        let value = serde_json::to_vec(ceremony).map_err(internal)?;
        let args = vec![
            RedisParameter::Binary(self.key(&format!("webauthn:{challenge}")).into_bytes()),
            RedisParameter::Binary(value),
            RedisParameter::Binary(b"EX".to_vec()),
            RedisParameter::Int64(CEREMONY_TTL),
        ];
        self.redis.conn.execute("SET", args).await.map(|_| ()).map_err(|e| storage("redis", e))
    }

    /// The ceremony of `challenge`, taken so nobody else can finish it.
    async fn take(&self, challenge: &str, kind: &str) -> Result<Ceremony, Fault> {
        let key = RedisParameter::Binary(self.key(&format!("webauthn:{challenge}")).into_bytes());
        let found = self.redis.conn.execute("GETDEL", vec![key]).await.map_err(|e| storage("redis", e))?;
        let Some(RedisResult::Binary(raw)) = found.into_iter().next() else {
            return Err(PasskeyError::CeremonyUnknown.into());
        };
        let ceremony: Ceremony = serde_json::from_slice(&raw).map_err(internal)?;
        if ceremony.kind != kind {
            return Err(PasskeyError::CeremonyUnknown.into());
        }
        Ok(ceremony)
    }

    async fn publish(&self, kind: &str, detail: Value) {
        self.redis.publish("auth", kind, detail).await;
    }
}

/// The RP from the settings: `passkey_rp_id`, the web origins in
/// `passkey_origins` (default `https://<rp id>`) and the origins of the
/// Android apps in `android_apps`.
async fn relying_party() -> Result<RelyingParty, Fault> {
    let rp_id = kit::variable("passkey_rp_id").await.filter(|v| !v.is_empty()).unwrap_or_else(|| "localhost".into());
    let mut origins: Vec<String> = kit::variable("passkey_origins")
        .await
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect();
    if origins.is_empty() {
        origins.push(format!("https://{rp_id}"));
    }
    origins.extend(android_origins(&parse_android_apps(&kit::variable("android_apps").await.unwrap_or_default())?));
    Ok(RelyingParty::new(&rp_id, &origins)?)
}

fn user_bytes(user_id: &str) -> Result<[u8; USER_LEN], Fault> {
    let hex: Vec<u8> = user_id.bytes().filter(|b| *b != b'-').collect();
    let mut out = [0u8; USER_LEN];
    if hex.len() != 2 * USER_LEN {
        return Err(internal("a user id is not a UUID"));
    }
    for (i, pair) in hex.chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).map_err(internal)?;
        out[i] = u8::from_str_radix(text, 16).map_err(internal)?;
    }
    Ok(out)
}

fn header(request: &Request, name: &str) -> Option<String> {
    request.headers().get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim_matches('"').to_owned())
}

/// What `devices` is told of the device: its address, user agent, client
/// hints and the frontend's report.
struct Seen {
    ip: String,
    user_agent: String,
    hints: ClientHints,
}

async fn seen(request: &Request) -> Result<Seen, Fault> {
    let ip = crate::ops::visitor_ip(request).await?;
    Ok(Seen {
        ip,
        user_agent: header(request, "user-agent").unwrap_or_default(),
        hints: ClientHints {
            platform: header(request, "sec-ch-ua-platform"),
            platform_version: header(request, "sec-ch-ua-platform-version"),
            mobile: header(request, "sec-ch-ua-mobile"),
            model: header(request, "sec-ch-ua-model"),
            full_version_list: request
                .headers()
                .get("sec-ch-ua-full-version-list")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        },
    })
}

/// The device as `devices` is told of it.
fn sighting(seen: &Seen, report: &DeviceReport) -> Sighting {
    Sighting {
        ip: seen.ip.clone(),
        user_agent: seen.user_agent.clone(),
        client_hints: seen.hints.clone(),
        report: devices::DeviceReport {
            form_factor: report.form_factor.clone(),
            max_touch_points: report.max_touch_points,
            native_app: report.native_app,
        },
    }
}

async fn register_device(user_id: &str, device_id: &str, seen: &Seen, report: &DeviceReport) -> Result<(), Fault> {
    let request = RegisterDevice::new(user_id, device_id, sighting(seen, report));
    match kit::call("auth", &request).await {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.refusal(), Some((409, _))) => Err(PasskeyError::DeviceTaken.into()),
        Err(e) => Err(AuthError::Dependency(format!("devices {e}")).into()),
    }
}

/// Opens a session in `devices` and hands it to the client. With `seen`,
/// `devices` records the device's sighting in the same statement (a
/// returning member's device, registered at enrolment).
async fn open_session(
    user_id: &str,
    device_id: &str,
    amr: Vec<Amr>,
    report: &DeviceReport,
    seen: Option<&Seen>,
    extra: Value,
) -> Result<kit::Response, Fault> {
    let (refresh, hash) = session::new_refresh_token()?;
    let request = OpenSession {
        user_id: user_id.to_owned(),
        device_id: device_id.to_owned(),
        amr: amr.iter().map(|a| a.as_str().to_owned()).collect(),
        token_hash: hash,
        seen: seen.map(|seen| sighting(seen, report)),
    };
    let opened = match kit::call("auth", &request).await {
        Ok(opened) => opened,
        Err(e) if matches!(e.refusal(), Some((409, _))) => return Err(PasskeyError::UnknownCredential.into()),
        Err(e) => return Err(session::chained("devices", e)),
    };
    let opened = Opened {
        user_id: user_id.to_owned(),
        session_id: opened.session_id,
        device_id: device_id.to_owned(),
        amr,
        auth_time: kit::now(),
    };
    let in_cookie = report.native_app != Some(true);
    session::issue(&opened, &refresh, in_cookie, 201, extra).await
}

struct Enrolment {
    user_id: String,
    jti: String,
    amr: Vec<String>,
}

/// The enrolment token verify-otp issued, checked by `security`.
async fn enrolment(token: Option<&str>) -> Result<Enrolment, Fault> {
    let token = token.filter(|t| !t.is_empty()).ok_or(PasskeyError::EnrolmentMissing)?;
    let request = VerifyToken::<EnrolmentClaims>::new(token, TokenType::Enrolment, ENROLMENT_AUDIENCE);
    let claims = match kit::call("auth", &request).await {
        Ok(verified) => verified.claims,
        Err(e) => {
            return Err(match e.refusal() {
                Some((status, "token_expired")) if status < 500 => PasskeyError::EnrolmentExpired.into(),
                Some((status, _)) if status < 500 => PasskeyError::EnrolmentInvalid.into(),
                _ => session::chained("security", e),
            });
        }
    };
    // The token is short-lived and single-use: no clock leeway.
    if claims.exp <= kit::now() {
        return Err(PasskeyError::EnrolmentExpired.into());
    }
    Ok(Enrolment { user_id: claims.sub, jti: claims.jti, amr: claims.amr })
}

async fn database() -> Result<Pg, Fault> {
    store::audit_log().await.map_err(Fault::from)
}

async fn query(db: &Pg, sql: &str, params: Vec<ParameterValue>) -> Result<Vec<Vec<DbValue>>, Fault> {
    kit::pg::rows(db, sql, params).await.map_err(|e| storage("postgres", e))
}

fn col<T: spin_sdk::pg::Decode>(row: &[DbValue], i: usize) -> Result<T, Fault> {
    column(row, i).map_err(|e| storage("postgres", e))
}

fn known(rows: &[Vec<DbValue>]) -> Result<Vec<Known>, Fault> {
    rows.iter()
        .map(|row| {
            let transports: String = col(row, 1)?;
            Ok(Known { id: col(row, 0)?, transports: transports.split(',').map(str::to_owned).collect() })
        })
        .collect()
}

/// `POST /api/auth/capture-biometric/options`.
pub async fn enrol_options(request: Request) -> Result<kit::Response, Fault> {
    let body: EnrolOptionsBody = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    let device = DeviceId::parse(&body.device_id)?;
    if body.device.platform_authenticator == Some(false) {
        return Err(PasskeyError::NoPlatformAuthenticator.into());
    }
    let enrolment = enrolment(body.enrolment_token.as_deref()).await?;
    let context = Context::open().await?;
    let used = RedisParameter::Binary(context.key(&format!("enrolled:{}", enrolment.jti)).into_bytes());
    let found = context.redis.conn.execute("EXISTS", vec![used]).await.map_err(|e| storage("redis", e))?;
    if matches!(found.first(), Some(RedisResult::Int64(n)) if *n > 0) {
        return Err(PasskeyError::EnrolmentUsed.into());
    }
    let db = database().await?;
    let existing = query(
        &db,
        "SELECT credential_id, array_to_string(transports, ',') FROM auth.passkeys WHERE user_id = $1::text::uuid",
        vec![ParameterValue::Str(enrolment.user_id.clone())],
    )
    .await?;
    let user = user_bytes(&enrolment.user_id)?;
    let name = format!("vottery-{}", &enrolment.user_id[..8]);
    let started = start_registration(&context.rp, user, &name, "Vottery member", &known(&existing)?)?;
    let ceremony = Ceremony {
        kind: "register".into(),
        user_id: enrolment.user_id,
        device_id: device.as_str().to_owned(),
        jti: Some(enrolment.jti),
        amr: enrolment.amr,
        state: encode_base64url(&started.state),
    };
    context.keep(&started.challenge, &ceremony).await?;
    Ok(kit::json(200, &json!({ "publicKey": started.options, "expires_in": CEREMONY_TTL })))
}

fn state_of(ceremony: &Ceremony) -> Result<Vec<u8>, Fault> {
    vottery_validate::decode_base64url("state", &ceremony.state, 4096).map_err(internal)
}

/// `POST /api/auth/capture-biometric`.
pub async fn enrol(request: Request) -> Result<kit::Response, Fault> {
    let seen = seen(&request).await?;
    let body: EnrolBody = kit::json_body(request, MAX_CEREMONY_BODY).await?;
    let response = RegistrationResponse::parse(body.credential.to_string().as_bytes())?;
    let context = Context::open().await?;
    let ceremony = context.take(&response.challenge()?, "register").await?;
    let passkey = finish_registration(&context.rp, &state_of(&ceremony)?, &response)?;
    let jti = ceremony.jti.clone().ok_or_else(|| internal("an enrolment ceremony without its token"))?;
    let claim = context.key(&format!("enrolled:{jti}"));
    let args = vec![
        RedisParameter::Binary(claim.clone().into_bytes()),
        RedisParameter::Binary(b"1".to_vec()),
        RedisParameter::Binary(b"NX".to_vec()),
        RedisParameter::Binary(b"EX".to_vec()),
        RedisParameter::Int64(3600),
    ];
    let claimed = context.redis.conn.execute("SET", args).await.map_err(|e| storage("redis", e))?;
    if matches!(claimed.first(), None | Some(RedisResult::Nil)) {
        return Err(PasskeyError::EnrolmentUsed.into());
    }
    let outcome = complete_enrolment(&context, &ceremony, &passkey, &seen, &body.device).await;
    if outcome.is_err() {
        let _ = context.redis.conn.execute("DEL", vec![RedisParameter::Binary(claim.into_bytes())]).await;
    }
    outcome
}

async fn complete_enrolment(
    context: &Context,
    ceremony: &Ceremony,
    passkey: &vottery_passkeys_core::NewPasskey,
    seen: &Seen,
    report: &DeviceReport,
) -> Result<kit::Response, Fault> {
    register_device(&ceremony.user_id, &ceremony.device_id, seen, report).await?;
    let db = database().await?;
    let now = kit::now();
    let credential_id = encode_base64url(&passkey.id);
    let detail = json!({
        "device_id": ceremony.device_id, "algorithm": passkey.algorithm, "attestation": passkey.attestation,
        "aaguid": passkey.aaguid, "backup_eligible": passkey.backup_eligible, "ip": seen.ip,
    });
    let stored = query(
        &db,
        "WITH p AS (INSERT INTO auth.passkeys (credential_id, user_id, device_id, public_key, state, algorithm, \
             attestation, aaguid, transports, sign_count, backup_eligible, backed_up, created_at, last_used_at) \
             VALUES ($1, $2::text::uuid, $3, $4, $5, $6, $7, $8, string_to_array($9, ','), $10, $11, $12, \
             to_timestamp($13::bigint), to_timestamp($13::bigint)) \
             ON CONFLICT (credential_id) DO UPDATE SET device_id = EXCLUDED.device_id, public_key = EXCLUDED.public_key, \
             state = EXCLUDED.state, sign_count = EXCLUDED.sign_count, last_used_at = EXCLUDED.last_used_at, \
             clone_suspected_at = NULL WHERE auth.passkeys.user_id = EXCLUDED.user_id RETURNING user_id) \
         SELECT audit.append('member:' || user_id::text, 'passkey.enrolled', $14, 'ok', $15) FROM p",
        vec![
            ParameterValue::Binary(passkey.id.clone()),
            ParameterValue::Str(ceremony.user_id.clone()),
            ParameterValue::Str(ceremony.device_id.clone()),
            ParameterValue::Binary(passkey.public_key.clone()),
            ParameterValue::Binary(passkey.state.clone()),
            ParameterValue::Str(passkey.algorithm.to_owned()),
            ParameterValue::Str(passkey.attestation.to_owned()),
            ParameterValue::Str(passkey.aaguid.clone()),
            ParameterValue::Str(passkey.transports.join(",")),
            ParameterValue::Int64(i64::from(passkey.sign_count)),
            ParameterValue::Boolean(passkey.backup_eligible),
            ParameterValue::Boolean(passkey.backed_up),
            ParameterValue::Int64(now),
            ParameterValue::Str(credential_id.clone()),
            ParameterValue::Jsonb(detail.to_string().into_bytes()),
        ],
    )
    .await?;
    if stored.is_empty() {
        return Err(PasskeyError::AlreadyRegistered.into());
    }
    let mut amr: Vec<Amr> = ceremony.amr.iter().filter_map(|a| Amr::parse(a)).collect();
    amr.push(Amr::PasskeyUv);
    let extra = json!({
        "user_id": ceremony.user_id, "device_id": ceremony.device_id,
        "passkey": {
            "credential_id": credential_id, "algorithm": passkey.algorithm, "attestation": passkey.attestation,
            "backup_eligible": passkey.backup_eligible, "backed_up": passkey.backed_up,
        },
    });
    let answer = open_session(&ceremony.user_id, &ceremony.device_id, amr, report, None, extra).await?;
    context
        .publish(
            "passkey.enrolled",
            json!({ "user_id": ceremony.user_id, "device_id": ceremony.device_id, "credential_id": credential_id }),
        )
        .await;
    Ok(answer)
}

/// `POST /api/auth/assert-biometric/options`.
pub async fn assert_options(request: Request) -> Result<kit::Response, Fault> {
    let body: AssertOptionsBody = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    let device = DeviceId::parse(&body.device_id)?;
    let db = database().await?;
    let rows = query(
        &db,
        "SELECT credential_id, array_to_string(transports, ','), user_id::text FROM auth.passkeys \
         WHERE device_id = $1 AND clone_suspected_at IS NULL",
        vec![ParameterValue::Str(device.as_str().to_owned())],
    )
    .await?;
    let Some(first) = rows.first() else { return Err(PasskeyError::NoCredential.into()) };
    let user_id: String = col(first, 2)?;
    let context = Context::open().await?;
    let started = start_authentication(&context.rp, &known(&rows)?)?;
    let ceremony = Ceremony {
        kind: "assert".into(),
        user_id,
        device_id: device.as_str().to_owned(),
        jti: None,
        amr: vec![],
        state: encode_base64url(&started.state),
    };
    context.keep(&started.challenge, &ceremony).await?;
    Ok(kit::json(200, &json!({ "publicKey": started.options, "expires_in": CEREMONY_TTL })))
}

/// `POST /api/auth/assert-biometric`.
pub async fn assert(request: Request) -> Result<kit::Response, Fault> {
    let seen = seen(&request).await?;
    let body: AssertBody = kit::json_body(request, MAX_CEREMONY_BODY).await?;
    let device = DeviceId::parse(&body.device_id)?;
    let response = AssertionResponse::parse(body.credential.to_string().as_bytes())?;
    let context = Context::open().await?;
    let ceremony = context.take(&response.challenge()?, "assert").await?;
    if ceremony.device_id != device.as_str() {
        return Err(PasskeyError::CeremonyUnknown.into());
    }
    let db = database().await?;
    let credential_id = response.credential_id();
    let rows = query(
        &db,
        "SELECT user_id::text, public_key, state, clone_suspected_at IS NOT NULL FROM auth.passkeys \
         WHERE credential_id = $1 AND device_id = $2",
        vec![ParameterValue::Binary(credential_id.clone()), ParameterValue::Str(ceremony.device_id.clone())],
    )
    .await?;
    let row = rows.first().ok_or(PasskeyError::UnknownCredential)?;
    let user_id: String = col(row, 0)?;
    if col::<bool>(row, 3)? {
        return Err(PasskeyError::Cloned.into());
    }
    let stored = StoredPasskey {
        id: credential_id.clone(),
        user: user_bytes(&user_id)?,
        public_key: col(row, 1)?,
        state: col(row, 2)?,
    };
    let id_text = encode_base64url(&credential_id);
    let assertion = match finish_authentication(&context.rp, &state_of(&ceremony)?, &response, &stored) {
        Ok(assertion) => assertion,
        Err(PasskeyError::Cloned) => {
            flag_clone(&context, &db, &credential_id, &id_text, &ceremony.device_id, &seen.ip).await?;
            return Err(PasskeyError::Cloned.into());
        }
        Err(e) => return Err(e.into()),
    };
    let detail = json!({ "device_id": ceremony.device_id, "sign_count": assertion.sign_count, "ip": seen.ip });
    let updated = query(
        &db,
        "WITH u AS (UPDATE auth.passkeys SET state = $3, sign_count = $4, backed_up = $5, \
             last_used_at = to_timestamp($6::bigint) WHERE credential_id = $1 AND state = $2 RETURNING user_id) \
         SELECT audit.append('member:' || user_id::text, 'passkey.asserted', $7, 'ok', $8) FROM u",
        vec![
            ParameterValue::Binary(credential_id),
            ParameterValue::Binary(stored.state.clone()),
            ParameterValue::Binary(assertion.state.clone()),
            ParameterValue::Int64(i64::from(assertion.sign_count)),
            ParameterValue::Boolean(assertion.backed_up),
            ParameterValue::Int64(kit::now()),
            ParameterValue::Str(id_text.clone()),
            ParameterValue::Jsonb(detail.to_string().into_bytes()),
        ],
    )
    .await?;
    if updated.is_empty() {
        return Err(PasskeyError::Replayed.into());
    }
    let extra = json!({ "user_id": user_id, "device_id": ceremony.device_id });
    let answer =
        open_session(&user_id, &ceremony.device_id, vec![Amr::PasskeyUv], &body.device, Some(&seen), extra).await?;
    context
        .publish(
            "passkey.asserted",
            json!({ "user_id": user_id, "device_id": ceremony.device_id, "credential_id": id_text }),
        )
        .await;
    Ok(answer)
}

async fn flag_clone(
    context: &Context,
    db: &Pg,
    id: &[u8],
    id_text: &str,
    device_id: &str,
    ip: &str,
) -> Result<(), Fault> {
    let detail = json!({ "device_id": device_id, "ip": ip });
    query(
        db,
        "WITH u AS (UPDATE auth.passkeys SET clone_suspected_at = to_timestamp($2::bigint) \
             WHERE credential_id = $1 AND clone_suspected_at IS NULL RETURNING user_id) \
         SELECT audit.append('member:' || user_id::text, 'passkey.clone_suspected', $3, 'refused', $4) FROM u",
        vec![
            ParameterValue::Binary(id.to_vec()),
            ParameterValue::Int64(kit::now()),
            ParameterValue::Str(id_text.to_owned()),
            ParameterValue::Jsonb(detail.to_string().into_bytes()),
        ],
    )
    .await?;
    context.publish("passkey.clone_suspected", json!({ "device_id": device_id, "credential_id": id_text })).await;
    Ok(())
}

/// `POST /internal/passkeys/remove` (from `devices`, removing a device):
/// the member's passkeys on that device, each removal audited.
pub async fn remove(request: Request) -> Result<kit::Response, Fault> {
    let body: RemovePasskeys = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    let device = DeviceId::parse(&body.device_id)?;
    user_bytes(&body.user_id)?;
    let db = database().await?;
    let removed = query(
        &db,
        "WITH d AS (DELETE FROM auth.passkeys WHERE device_id = $1 AND user_id = $2::text::uuid RETURNING credential_id) \
         SELECT audit.append('member:' || $2, 'passkey.removed', encode(credential_id, 'base64'), 'ok', \
             jsonb_build_object('device_id', $1::text)) FROM d",
        vec![ParameterValue::Str(device.as_str().to_owned()), ParameterValue::Str(body.user_id.clone())],
    )
    .await?;
    if !removed.is_empty()
        && let Ok(context) = Context::open().await
    {
        context.publish("passkey.removed", json!({ "device_id": device.as_str(), "count": removed.len() })).await;
    }
    Ok(kit::json(200, &RemovedPasskeys { removed: removed.len() }))
}

/// `POST /internal/passkeys/erase` (from `users`, erasing a member): every
/// passkey of the member goes, each with its audit row, in one statement.
/// Idempotent: a retry finds none left and answers `removed: 0`.
pub async fn erase(request: Request) -> Result<kit::Response, Fault> {
    let body: ErasePasskeys = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    user_bytes(&body.user_id)?;
    let removed = query(
        &database().await?,
        "WITH d AS (DELETE FROM auth.passkeys WHERE user_id = $1::text::uuid RETURNING credential_id, device_id) \
         SELECT audit.append('member:' || $1, 'passkey.removed', encode(credential_id, 'base64'), 'ok', \
             jsonb_build_object('device_id', device_id, 'reason', 'member_erased')) FROM d",
        vec![ParameterValue::Str(body.user_id)],
    )
    .await?;
    if !removed.is_empty()
        && let Ok(context) = Context::open().await
    {
        context.publish("passkey.removed", json!({ "count": removed.len(), "reason": "member_erased" })).await;
    }
    Ok(kit::json(200, &RemovedPasskeys { removed: removed.len() }))
}

/// `POST /internal/passkeys/export` (from `users`, the member's export):
/// their passkeys' metadata, never the public key or its state.
pub async fn export(request: Request) -> Result<kit::Response, Fault> {
    let body: ExportPasskeys = kit::json_body(request, kit::MAX_JSON_BODY).await?;
    user_bytes(&body.user_id)?;
    let rows = query(
        &database().await?,
        "SELECT credential_id, device_id, algorithm, attestation, \
         aaguid, array_to_string(transports, ','), sign_count, backup_eligible, backed_up, \
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
         to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
         to_char(clone_suspected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
         FROM auth.passkeys WHERE user_id = $1::text::uuid ORDER BY created_at, credential_id",
        vec![ParameterValue::Str(body.user_id)],
    )
    .await?;
    let passkeys = rows.iter().map(|row| held_passkey(row)).collect::<Result<Vec<_>, Fault>>()?;
    Ok(kit::json(200, &ExportedPasskeys { passkeys }))
}

fn held_passkey(row: &[DbValue]) -> Result<HeldPasskey, Fault> {
    Ok(HeldPasskey {
        credential_id: encode_base64url(&col::<Vec<u8>>(row, 0)?),
        device_id: col(row, 1)?,
        algorithm: col(row, 2)?,
        attestation: col(row, 3)?,
        aaguid: col(row, 4)?,
        transports: col::<String>(row, 5)?.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
        sign_count: col(row, 6)?,
        backup_eligible: col(row, 7)?,
        backed_up: col(row, 8)?,
        created_at: col(row, 9)?,
        last_used_at: col(row, 10)?,
        clone_suspected_at: col(row, 11)?,
    })
}

/// A ceremony's outcome, with `passkey.refused` published (its stable
/// code) when the passkey itself was refused.
pub async fn published(ceremony: &str, outcome: Result<kit::Response, Fault>) -> Result<kit::Response, Fault> {
    if let Err(Fault::Passkey(e)) = &outcome
        && let Ok(context) = Context::open().await
    {
        context.publish("passkey.refused", json!({ "ceremony": ceremony, "code": e.code() })).await;
    }
    outcome
}
