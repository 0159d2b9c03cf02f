//! Sessions and their refresh tokens in `devices.sessions` and
//! `devices.refresh_tokens` (see `vottery-sessions-core` for the rotation
//! rules). The clear tokens never reach this service: `auth` makes them
//! and sends their SHA-256. Opening a session and a rotation are each one
//! statement, so they are atomic (a rotation that lost a race with a
//! concurrent one is decided again); the audit rows of a rotation, a reuse
//! revocation and a member's revocations are separate statements.

use serde_json::{Value, json};
use spin_sdk::pg::{Connection, DbValue, Decode, ParameterValue};
use vottery_component_kit::contracts::devices::{
    OpenSession, OpenedSession, RefreshSession, RefreshedSession, RevokeSession, RevokedSession,
};
use vottery_component_kit::{self as kit};
use vottery_sessions_core::{Decision, DeviceId, Policy, SessionError, SessionState, TokenState, decide};
use vottery_validate::decode_base64url;

use crate::cache::{Cache, publish};
use crate::member::Member;
use vottery_devices_core::DeviceError;

const RACES: usize = 3;

fn storage(e: impl std::fmt::Debug) -> SessionError {
    SessionError::Storage(format!("{e:?}"))
}

fn column<T: Decode>(row: &[DbValue], i: usize) -> Result<T, SessionError> {
    vottery_component_kit::pg::column(row, i).map_err(SessionError::Storage)
}

async fn rows(db: &Connection, sql: &str, params: Vec<ParameterValue>) -> Result<Vec<Vec<DbValue>>, SessionError> {
    kit::pg::rows(db, sql, params).await.map_err(storage)
}

async fn open() -> Result<Connection, SessionError> {
    kit::pg::open().await.map_err(SessionError::Storage)
}

async fn policy() -> Result<Policy, SessionError> {
    Policy::parse(&kit::variable("session_policy").await.unwrap_or_default()).map_err(SessionError::Storage)
}

fn hash(field: &'static str, raw: &str) -> Result<Vec<u8>, SessionError> {
    let bytes = decode_base64url(field, raw, 32)?;
    if bytes.len() != 32 {
        return Err(vottery_validate::ValidationError::InvalidField(format!("`{field}` is a SHA-256")).into());
    }
    Ok(bytes)
}

async fn audit(
    db: &Connection,
    action: &str,
    subject: &str,
    outcome: &str,
    detail: &Value,
) -> Result<(), SessionError> {
    kit::pg::audit(db, &kit::Actor::Service("auth".into()), action, subject, outcome, detail).await.map_err(storage)
}

/// The device seen again (only if registered to the member), then the
/// session, its first refresh token and its audit row on it.
const OPEN_SIGHTED: &str = "WITH d AS (UPDATE devices.devices SET kind = $6, os = $7, os_version = $8, \
         browser = $9, browser_version = $10, model = $11, fingerprint = $12, last_ip = $13, country = $14, \
         region = $15, city = $16, last_seen_at = to_timestamp($5::bigint) \
         WHERE device_id = $2 AND user_id = $1::text::uuid RETURNING device_id), \
     s AS (INSERT INTO devices.sessions (user_id, device_id, amr, created_at, last_used_at) \
         SELECT $1::text::uuid, device_id, string_to_array($3, ','), to_timestamp($5::bigint), \
         to_timestamp($5::bigint) FROM d RETURNING id, device_id), \
     t AS (INSERT INTO devices.refresh_tokens (hash, session_id, issued_at) \
         SELECT $4, id, to_timestamp($5::bigint) FROM s RETURNING session_id) \
 SELECT t.session_id::text, audit.append('service:auth', 'session.opened', t.session_id::text, 'ok', \
     jsonb_build_object('device_id', s.device_id)) FROM t JOIN s ON s.id = t.session_id";

/// The session alone, on device `$2`, with its first refresh token and its
/// audit row.
const OPEN: &str = "WITH s AS (INSERT INTO devices.sessions (user_id, device_id, amr, created_at, last_used_at) \
         VALUES ($1::text::uuid, $2, string_to_array($3, ','), to_timestamp($5::bigint), \
         to_timestamp($5::bigint)) RETURNING id, device_id), \
     t AS (INSERT INTO devices.refresh_tokens (hash, session_id, issued_at) \
         SELECT $4, id, to_timestamp($5::bigint) FROM s RETURNING session_id) \
 SELECT t.session_id::text, audit.append('service:auth', 'session.opened', t.session_id::text, 'ok', \
     jsonb_build_object('device_id', s.device_id)) FROM t JOIN s ON s.id = t.session_id";

/// `POST /internal/sessions`: a new session with its first refresh token,
/// and with `seen`, the device's sighting; one statement, so all or nothing.
pub async fn open_session(body: OpenSession) -> Result<kit::Response, SessionError> {
    let device = DeviceId::parse(&body.device_id)?;
    let token_hash = hash("token_hash", &body.token_hash)?;
    let amr_ok = !body.amr.is_empty() && body.amr.iter().all(|a| vottery_sessions_core::Amr::parse(a).is_some());
    if !crate::member::valid_user(&body.user_id) || !amr_ok {
        return Err(vottery_validate::ValidationError::InvalidField("`user_id` or `amr`".into()).into());
    }
    let observed = match &body.seen {
        Some(seen) => Some(crate::registry::observe(seen).await.map_err(|e| match e {
            DeviceError::Invalid(e) => SessionError::Invalid(e),
            other => SessionError::Storage(other.to_string()),
        })?),
        None => None,
    };
    let mut params = vec![
        ParameterValue::Str(body.user_id.clone()),
        ParameterValue::Str(device.as_str().to_owned()),
        ParameterValue::Str(body.amr.join(",")),
        ParameterValue::Binary(token_hash),
        ParameterValue::Int64(kit::now()),
    ];
    let sql = match &observed {
        Some(observed) => {
            params.extend(observed.columns());
            OPEN_SIGHTED
        }
        None => OPEN,
    };
    let db = open().await?;
    let created = rows(&db, sql, params).await?;
    let Some(row) = created.first() else { return Err(SessionError::DeviceNotRegistered) };
    let session_id: String = column(row, 0)?;
    publish("session.opened", json!({ "session_id": session_id, "device_id": device.as_str() })).await;
    Ok(kit::json(201, &OpenedSession { session_id }))
}

struct Found {
    session_id: String,
    user_id: String,
    amr: String,
    session: SessionState,
    token: TokenState,
}

async fn find(db: &Connection, token_hash: &[u8]) -> Result<Option<Found>, SessionError> {
    let found = rows(
        db,
        "SELECT t.session_id::text, extract(epoch FROM t.issued_at)::bigint, extract(epoch FROM t.rotated_at)::bigint, \
         s.user_id::text, s.device_id, extract(epoch FROM s.created_at)::bigint, \
         extract(epoch FROM s.revoked_at)::bigint, array_to_string(s.amr, ','), \
         EXISTS (SELECT 1 FROM devices.refresh_tokens c WHERE c.parent_hash = t.hash AND c.rotated_at IS NULL) \
         FROM devices.refresh_tokens t JOIN devices.sessions s ON s.id = t.session_id WHERE t.hash = $1",
        vec![ParameterValue::Binary(token_hash.to_vec())],
    )
    .await?;
    let Some(row) = found.first() else { return Ok(None) };
    Ok(Some(Found {
        session_id: column(row, 0)?,
        token: TokenState { issued_at: column(row, 1)?, rotated_at: column(row, 2)?, child_active: column(row, 8)? },
        user_id: column(row, 3)?,
        session: SessionState { device_id: column(row, 4)?, created_at: column(row, 5)?, revoked_at: column(row, 6)? },
        amr: column(row, 7)?,
    }))
}

/// `POST /internal/sessions/refresh`: rotates the token whose hash is
/// `token_hash` into `new_token_hash`, or refuses (and revokes the session
/// on reuse).
pub async fn refresh(body: RefreshSession) -> Result<kit::Response, SessionError> {
    let (old, new) = (hash("token_hash", &body.token_hash)?, hash("new_token_hash", &body.new_token_hash)?);
    let device = DeviceId::parse(&body.device_id)?;
    let (db, policy) = (open().await?, policy().await?);
    let now = kit::now();
    for _ in 0..RACES {
        let found = find(&db, &old).await?;
        let decision = decide(
            found
                .as_ref()
                .map_or(&SessionState { created_at: 0, revoked_at: None, device_id: String::new() }, |f| &f.session),
            found.as_ref().map(|f| &f.token),
            device.as_str(),
            now,
            &policy,
        )?;
        let Some(found) = found else { return Err(SessionError::RefreshUnknown) };
        let params = |extra: Vec<ParameterValue>| {
            let mut p = vec![ParameterValue::Binary(old.clone()), ParameterValue::Binary(new.clone())];
            p.extend(extra);
            p
        };
        let applied = match decision {
            Decision::Rotate => rows(
                &db,
                "WITH r AS (UPDATE devices.refresh_tokens SET rotated_at = to_timestamp($3::bigint) \
                 WHERE hash = $1 AND rotated_at IS NULL RETURNING session_id), \
                 u AS (UPDATE devices.sessions SET last_used_at = to_timestamp($3::bigint) WHERE id IN (SELECT session_id FROM r)) \
                 INSERT INTO devices.refresh_tokens (hash, session_id, parent_hash, issued_at) \
                 SELECT $2, session_id, $1, to_timestamp($3::bigint) FROM r RETURNING 1",
                params(vec![ParameterValue::Int64(now)]),
            )
            .await?
            .len(),
            Decision::Sibling => rows(
                &db,
                "INSERT INTO devices.refresh_tokens (hash, session_id, parent_hash, issued_at) \
                 SELECT $2, session_id, $1, to_timestamp($3::bigint) FROM devices.refresh_tokens WHERE hash = $1 RETURNING 1",
                params(vec![ParameterValue::Int64(now)]),
            )
            .await?
            .len(),
            Decision::RevokeFamily => {
                rows(
                    &db,
                    "UPDATE devices.sessions SET revoked_at = to_timestamp($2::bigint), revoke_reason = 'refresh_reuse' \
                     WHERE id = $1::text::uuid AND revoked_at IS NULL",
                    vec![ParameterValue::Str(found.session_id.clone()), ParameterValue::Int64(now)],
                )
                .await?;
                audit(&db, "session.revoked", &found.session_id, "refresh_reuse", &json!({ "device_id": device.as_str() }))
                    .await?;
                // The refusal stands even if the cache cannot be written.
                if let Ok(cache) = Cache::open().await {
                    let detail = json!({ "session_id": found.session_id, "device_id": device.as_str() });
                    cache.publish("refresh.reused", detail).await;
                    let _ = cache.revoke(&found.session_id, "refresh_reuse", policy.access_ttl).await;
                }
                return Err(SessionError::RefreshReused);
            }
        };
        if applied == 0 {
            continue;
        }
        let kind = if decision == Decision::Rotate { "rotated" } else { "sibling" };
        audit(&db, "session.refreshed", &found.session_id, kind, &json!({ "device_id": device.as_str() })).await?;
        publish("session.refreshed", json!({ "session_id": found.session_id, "rotation": kind })).await;
        let refreshed = RefreshedSession {
            amr: found.amr.split(',').map(str::to_owned).collect(),
            session_id: found.session_id,
            user_id: found.user_id,
            device_id: found.session.device_id,
            access_ttl: policy.access_ttl,
            refresh_ttl: policy.refresh_idle,
            auth_time: found.session.created_at,
        };
        return Ok(kit::json(200, &refreshed));
    }
    Err(SessionError::Storage("the token kept changing under concurrent refreshes".into()))
}

/// `POST /internal/sessions/revoke` (logout): revokes the session of the
/// presented refresh token. Idempotent: a session already revoked answers
/// the same.
pub async fn revoke(body: RevokeSession) -> Result<kit::Response, SessionError> {
    let token = hash("token_hash", &body.token_hash)?;
    let device = DeviceId::parse(&body.device_id)?;
    let (db, policy) = (open().await?, policy().await?);
    let found = find(&db, &token).await?.ok_or(SessionError::RefreshUnknown)?;
    if found.session.device_id != device.as_str() {
        return Err(SessionError::DeviceMismatch);
    }
    let now = kit::now();
    let changed = rows(
        &db,
        "UPDATE devices.sessions SET revoked_at = to_timestamp($2::bigint), revoke_reason = 'logout' \
         WHERE id = $1::text::uuid AND revoked_at IS NULL RETURNING 1",
        vec![ParameterValue::Str(found.session_id.clone()), ParameterValue::Int64(now)],
    )
    .await?;
    if !changed.is_empty() {
        audit(&db, "session.revoked", &found.session_id, "logout", &json!({ "device_id": device.as_str() })).await?;
    }
    let cache = Cache::open().await.map_err(SessionError::Storage)?;
    if changed.is_empty() {
        // Already revoked: write the entry again (idempotent), say nothing new.
        cache.rewrite(&found.session_id, "logout", policy.access_ttl).await.map_err(SessionError::Storage)?;
    } else {
        cache.revoke(&found.session_id, "logout", policy.access_ttl).await.map_err(SessionError::Storage)?;
    }
    Ok(kit::json(200, &RevokedSession { session_id: found.session_id, revoked: true }))
}

/// `GET /api/sessions/current`: who the access token says the caller is.
pub fn current(member: &Member) -> kit::Response {
    kit::json(
        200,
        &json!({ "user_id": member.user_id, "session_id": member.session_id, "device_id": member.device_id }),
    )
}

/// `GET /api/sessions`: the member's sessions, newest first.
pub async fn list(member: &Member) -> Result<kit::Response, SessionError> {
    let db = open().await?;
    let found = rows(
        &db,
        "SELECT id::text, device_id, array_to_string(amr, ','), extract(epoch FROM created_at)::bigint, \
         extract(epoch FROM last_used_at)::bigint, extract(epoch FROM revoked_at)::bigint, revoke_reason \
         FROM devices.sessions WHERE user_id = $1::text::uuid ORDER BY created_at DESC LIMIT 100",
        vec![ParameterValue::Str(member.user_id.clone())],
    )
    .await?;
    let sessions = found
        .iter()
        .map(|row| {
            let id: String = column(row, 0)?;
            Ok(json!({
                "session_id": id, "current": id == member.session_id, "device_id": column::<String>(row, 1)?,
                "amr": column::<String>(row, 2)?.split(',').collect::<Vec<_>>(),
                "created_at": column::<i64>(row, 3)?, "last_used_at": column::<i64>(row, 4)?,
                "revoked_at": column::<Option<i64>>(row, 5)?, "revoke_reason": column::<Option<String>>(row, 6)?,
            }))
        })
        .collect::<Result<Vec<_>, SessionError>>()?;
    Ok(kit::json(200, &json!({ "sessions": sessions })))
}

/// Which of the member's live sessions a revocation ends (`$4` names it).
#[derive(Clone, Copy)]
enum Which {
    /// Session `$4`.
    One,
    /// Every session but `$4` (the caller's).
    Others,
    /// The sessions on device `$4`.
    Device,
}

impl Which {
    fn statement(self) -> &'static str {
        match self {
            Self::One => {
                "UPDATE devices.sessions SET revoked_at = to_timestamp($2::bigint), revoke_reason = $3 \
                 WHERE user_id = $1::text::uuid AND revoked_at IS NULL AND id = $4::text::uuid RETURNING id::text"
            }
            Self::Others => {
                "UPDATE devices.sessions SET revoked_at = to_timestamp($2::bigint), revoke_reason = $3 \
                 WHERE user_id = $1::text::uuid AND revoked_at IS NULL AND id <> $4::text::uuid RETURNING id::text"
            }
            Self::Device => {
                "UPDATE devices.sessions SET revoked_at = to_timestamp($2::bigint), revoke_reason = $3 \
                 WHERE user_id = $1::text::uuid AND revoked_at IS NULL AND device_id = $4 RETURNING id::text"
            }
        }
    }
}

/// Revokes the member's live sessions `which` selects (`$1` the member,
/// `$2` the time, `$3` the reason, `$4` its parameter); each goes to the
/// revocation cache, the audit log and the event channel. Returns their ids.
async fn revoke_where(member: &Member, which: Which, reason: &str, param: &str) -> Result<Vec<String>, SessionError> {
    let (db, policy) = (open().await?, policy().await?);
    let revoked = rows(
        &db,
        which.statement(),
        vec![
            ParameterValue::Str(member.user_id.clone()),
            ParameterValue::Int64(kit::now()),
            ParameterValue::Str(reason.to_owned()),
            ParameterValue::Str(param.to_owned()),
        ],
    )
    .await?;
    let cache = if revoked.is_empty() { None } else { Some(Cache::open().await.map_err(SessionError::Storage)?) };
    let mut ids = Vec::new();
    for row in &revoked {
        let id: String = column(row, 0)?;
        audit(&db, "session.revoked", &id, reason, &json!({ "by_session": member.session_id })).await?;
        if let Some(cache) = &cache {
            cache.revoke(&id, reason, policy.access_ttl).await.map_err(SessionError::Storage)?;
        }
        ids.push(id);
    }
    Ok(ids)
}

/// `DELETE /api/sessions/:id`: ends one of the member's sessions.
pub async fn revoke_one(member: &Member, session_id: &str) -> Result<kit::Response, SessionError> {
    let valid = session_id.len() == 36 && session_id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    if !valid {
        return Err(SessionError::SessionNotFound);
    }
    let ids = revoke_where(member, Which::One, "revoked_by_member", session_id).await?;
    if ids.is_empty() {
        return Err(SessionError::SessionNotFound);
    }
    Ok(kit::json(200, &json!({ "revoked": ids })))
}

/// `POST /api/sessions/revoke-others`: ends every other session of the member.
pub async fn revoke_others(member: &Member) -> Result<kit::Response, SessionError> {
    let ids = revoke_where(member, Which::Others, "revoked_by_member", &member.session_id).await?;
    Ok(kit::json(200, &json!({ "revoked": ids })))
}

/// Revokes the member's sessions on `device_id` (its removal).
pub async fn revoke_device(member: &Member, device_id: &str) -> Result<Vec<String>, SessionError> {
    revoke_where(member, Which::Device, "device_removed", device_id).await
}
