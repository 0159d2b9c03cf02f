//! Sessions and their refresh tokens in `devices.sessions` and
//! `devices.refresh_tokens` (see `vottery-sessions-core` for the rotation
//! rules). The clear tokens never reach this service: `auth` makes them
//! and sends their SHA-256. Opening a session and a rotation are each one
//! statement, so they are atomic (a rotation that lost a race with a
//! concurrent one is decided again); the audit rows of a rotation, a reuse
//! revocation and a member's revocations are separate statements.

use serde_json::{Value, json};
use vottery_component_kit::contracts::devices::{
    OpenSession, OpenedSession, RefreshSession, RefreshedSession, RevokeSession, RevokedSession,
};
use vottery_component_kit::{self as kit};
use vottery_devices_core::DeviceError;
use vottery_sessions_core::{Amr, Decision, DeviceId, Policy, SessionError, SessionState, decide};
use vottery_validate::{SessionId, UserId, ValidationError, decode_base64url};

use crate::cache::{Cache, publish};
use crate::member::Member;
use crate::registry::{Observed, observe};
use crate::store::{self, Db, FoundToken, NewSession, Revoking, Rotation};

const RACES: usize = 3;

async fn policy() -> Result<Policy, SessionError> {
    Policy::parse(&kit::variable("session_policy").await.unwrap_or_default()).map_err(SessionError::Storage)
}

fn hash(field: &'static str, raw: &str) -> Result<Vec<u8>, SessionError> {
    let bytes = decode_base64url(field, raw, 32)?;
    if bytes.len() != 32 {
        return Err(ValidationError::InvalidField(format!("`{field}` is a SHA-256")).into());
    }
    Ok(bytes)
}

/// An audit row written on `auth`'s behalf (it asked for the change).
async fn audit(db: &Db, action: &str, subject: &str, outcome: &str, detail: &Value) -> Result<(), SessionError> {
    Ok(store::audit(db, &kit::Actor::Service("auth".into()), action, subject, outcome, detail).await?)
}

/// The member a session is opened for, if the methods it was opened with
/// are known ones.
fn opener(body: &OpenSession) -> Result<UserId, SessionError> {
    let amr_ok = !body.amr.is_empty() && body.amr.iter().all(|a| Amr::parse(a).is_some());
    match UserId::parse(&body.user_id) {
        Some(user) if amr_ok => Ok(user),
        _ => Err(ValidationError::InvalidField("`user_id` or `amr`".into()).into()),
    }
}

/// The device a session is opened on as the request shows it.
async fn sighting(seen: Option<&kit::contracts::devices::Sighting>) -> Result<Option<Observed>, SessionError> {
    let Some(seen) = seen else { return Ok(None) };
    observe(seen).await.map(Some).map_err(|e| match e {
        DeviceError::Invalid(e) => SessionError::Invalid(e),
        other => SessionError::Storage(other.to_string()),
    })
}

/// `POST /internal/sessions`: a new session with its first refresh token,
/// and with `seen`, the device's sighting; one statement, so all or nothing.
pub async fn open_session(body: OpenSession) -> Result<kit::Response, SessionError> {
    let device = DeviceId::parse(&body.device_id)?;
    let token_hash = hash("token_hash", &body.token_hash)?;
    let user = opener(&body)?;
    let observed = sighting(body.seen.as_ref()).await?;
    let seen = observed.as_ref().map(Observed::seen);
    let new =
        NewSession { user: &user, device: &device, amr: &body.amr, token_hash: &token_hash, now: kit::now(), seen };
    let db = store::open().await?;
    let session_id = store::open_session(&db, &new).await?.ok_or(SessionError::DeviceNotRegistered)?;
    publish("session.opened", json!({ "session_id": session_id.as_str(), "device_id": device.as_str() })).await;
    Ok(kit::json(201, &OpenedSession { session_id: session_id.to_string() }))
}

/// What the rotation rules make of the presented token (unknown when not
/// found).
fn decide_on(
    found: Option<&FoundToken>,
    device: &DeviceId,
    now: i64,
    policy: &Policy,
) -> Result<Decision, SessionError> {
    let unknown = SessionState { created_at: 0, revoked_at: None, device_id: String::new() };
    let session = found.map_or(&unknown, |f| &f.session);
    decide(session, found.map(|f| &f.token), device.as_str(), now, policy)
}

/// `POST /internal/sessions/refresh`: rotates the token whose hash is
/// `token_hash` into `new_token_hash`, or refuses (and revokes the session
/// on reuse).
pub async fn refresh(body: RefreshSession) -> Result<kit::Response, SessionError> {
    let (old, new) = (hash("token_hash", &body.token_hash)?, hash("new_token_hash", &body.new_token_hash)?);
    let device = DeviceId::parse(&body.device_id)?;
    let (db, policy) = (store::open().await?, policy().await?);
    let now = kit::now();
    let rotation = Rotation { old: &old, new: &new, now };
    for _ in 0..RACES {
        let found = store::find_refresh_token(&db, &old).await?;
        let decision = decide_on(found.as_ref(), &device, now, &policy)?;
        let Some(found) = found else { return Err(SessionError::RefreshUnknown) };
        let applied = match decision {
            Decision::Rotate => store::rotate_refresh_token(&db, &rotation).await?,
            Decision::Sibling => store::add_sibling_token(&db, &rotation).await?,
            Decision::RevokeFamily => {
                revoke_reused(&db, &found, &device, now, &policy).await?;
                return Err(SessionError::RefreshReused);
            }
        };
        if applied {
            return refreshed(&db, found, &device, decision, &policy).await;
        }
    }
    Err(SessionError::Storage("the token kept changing under concurrent refreshes".into()))
}

/// A reused refresh token: its session revoked, audited, and (best
/// effort: the refusal stands even if the cache cannot be written) put in
/// the revocation cache.
async fn revoke_reused(
    db: &Db,
    found: &FoundToken,
    device: &DeviceId,
    now: i64,
    policy: &Policy,
) -> Result<(), SessionError> {
    let session = found.session_id.as_str();
    store::revoke_reused_session(db, &found.session_id, now).await?;
    audit(db, "session.revoked", session, "refresh_reuse", &json!({ "device_id": device.as_str() })).await?;
    if let Ok(cache) = Cache::open().await {
        cache.publish("refresh.reused", json!({ "session_id": session, "device_id": device.as_str() })).await;
        let _ = cache.revoke(session, "refresh_reuse", policy.access_ttl).await;
    }
    Ok(())
}

/// A rotation made (`Rotate` or `Sibling`): audited, announced, answered.
async fn refreshed(
    db: &Db,
    found: FoundToken,
    device: &DeviceId,
    decision: Decision,
    policy: &Policy,
) -> Result<kit::Response, SessionError> {
    let kind = if decision == Decision::Rotate { "rotated" } else { "sibling" };
    let session = found.session_id.as_str();
    audit(db, "session.refreshed", session, kind, &json!({ "device_id": device.as_str() })).await?;
    publish("session.refreshed", json!({ "session_id": session, "rotation": kind })).await;
    let refreshed = RefreshedSession {
        session_id: found.session_id.to_string(),
        user_id: found.user_id.to_string(),
        device_id: found.session.device_id,
        amr: found.amr,
        access_ttl: policy.access_ttl,
        refresh_ttl: policy.refresh_idle,
        auth_time: found.session.created_at,
    };
    Ok(kit::json(200, &refreshed))
}

/// `POST /internal/sessions/revoke` (logout): revokes the session of the
/// presented refresh token. Idempotent: a session already revoked answers
/// the same.
pub async fn revoke(body: RevokeSession) -> Result<kit::Response, SessionError> {
    let token = hash("token_hash", &body.token_hash)?;
    let device = DeviceId::parse(&body.device_id)?;
    let (db, policy) = (store::open().await?, policy().await?);
    let found = store::find_refresh_token(&db, &token).await?.ok_or(SessionError::RefreshUnknown)?;
    if found.session.device_id != device.as_str() {
        return Err(SessionError::DeviceMismatch);
    }
    let session = found.session_id.as_str();
    let changed = store::log_out_session(&db, &found.session_id, kit::now()).await?;
    if changed {
        audit(&db, "session.revoked", session, "logout", &json!({ "device_id": device.as_str() })).await?;
    }
    let cache = Cache::open().await.map_err(SessionError::Storage)?;
    if changed {
        cache.revoke(session, "logout", policy.access_ttl).await.map_err(SessionError::Storage)?;
    } else {
        // Already revoked: write the entry again (idempotent), say nothing new.
        cache.rewrite(session, "logout", policy.access_ttl).await.map_err(SessionError::Storage)?;
    }
    Ok(kit::json(200, &RevokedSession { session_id: found.session_id.to_string(), revoked: true }))
}

/// `GET /api/sessions/current`: who the access token says the caller is.
pub fn current(member: &Member) -> kit::Response {
    kit::json(
        200,
        &json!({
            "user_id": member.user_id.as_str(), "session_id": member.session_id.as_str(),
            "device_id": member.device_id,
        }),
    )
}

/// `GET /api/sessions`: the member's sessions, newest first.
pub async fn list(member: &Member) -> Result<kit::Response, SessionError> {
    let db = store::open().await?;
    let sessions: Vec<Value> = store::sessions_of(&db, &member.user_id)
        .await?
        .into_iter()
        .map(|s| {
            json!({
                "session_id": s.session_id.as_str(), "current": s.session_id == member.session_id,
                "device_id": s.device_id, "amr": s.amr, "created_at": s.created_at,
                "last_used_at": s.last_used_at, "revoked_at": s.revoked_at, "revoke_reason": s.revoke_reason,
            })
        })
        .collect();
    Ok(kit::json(200, &json!({ "sessions": sessions })))
}

/// Revokes the member's live sessions `which` selects; each goes to the
/// revocation cache, the audit log and the event channel. Returns their ids.
async fn revoke_where(member: &Member, which: Revoking<'_>, reason: &str) -> Result<Vec<SessionId>, SessionError> {
    let (db, policy) = (store::open().await?, policy().await?);
    let revoked = store::revoke_sessions(&db, &member.user_id, which, reason, kit::now()).await?;
    let cache = if revoked.is_empty() { None } else { Some(Cache::open().await.map_err(SessionError::Storage)?) };
    for id in &revoked {
        audit(&db, "session.revoked", id.as_str(), reason, &json!({ "by_session": member.session_id.as_str() }))
            .await?;
        if let Some(cache) = &cache {
            cache.revoke(id.as_str(), reason, policy.access_ttl).await.map_err(SessionError::Storage)?;
        }
    }
    Ok(revoked)
}

/// The ids as text, for an answer.
pub fn texts(ids: &[SessionId]) -> Vec<&str> {
    ids.iter().map(SessionId::as_str).collect()
}

/// `DELETE /api/sessions/:id`: ends one of the member's sessions.
pub async fn revoke_one(member: &Member, session_id: &str) -> Result<kit::Response, SessionError> {
    let session = SessionId::parse(session_id).ok_or(SessionError::SessionNotFound)?;
    let ids = revoke_where(member, Revoking::One(&session), "revoked_by_member").await?;
    if ids.is_empty() {
        return Err(SessionError::SessionNotFound);
    }
    Ok(kit::json(200, &json!({ "revoked": texts(&ids) })))
}

/// `POST /api/sessions/revoke-others`: ends every other session of the member.
pub async fn revoke_others(member: &Member) -> Result<kit::Response, SessionError> {
    let ids = revoke_where(member, Revoking::AllBut(&member.session_id), "revoked_by_member").await?;
    Ok(kit::json(200, &json!({ "revoked": texts(&ids) })))
}

/// Revokes the member's sessions on `device` (its removal).
pub async fn revoke_device(member: &Member, device: &DeviceId) -> Result<Vec<SessionId>, SessionError> {
    revoke_where(member, Revoking::OnDevice(device), "device_removed").await
}
