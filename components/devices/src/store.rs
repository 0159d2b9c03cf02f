//! Everything `devices` keeps in PostgreSQL, as the `vottery_devices` role:
//! `devices.devices`, `devices.sessions`, `devices.refresh_tokens` and the
//! audit log. Every statement and every column read is here; the handlers
//! pass typed values and get typed rows back.

use serde_json::Value;
use spin_sdk::pg::{Connection, DbValue, Decode, ParameterValue};
use vottery_component_kit::contracts::devices::{HeldDevice, HeldSession, Place, Software};
use vottery_component_kit::{self as kit, Actor};
use vottery_devices_core::DeviceError;
use vottery_sessions_core::{DeviceId, SessionError, SessionState, TokenState};
use vottery_validate::{SessionId, UserId};

/// A connection to the component's database.
pub struct Db(Connection);

/// Why the store failed, in words (never shown to a client: both services'
/// errors make it `storage_unavailable`).
#[derive(Debug)]
pub struct StoreError(String);

impl From<StoreError> for SessionError {
    fn from(e: StoreError) -> Self {
        SessionError::Storage(e.0)
    }
}

impl From<StoreError> for DeviceError {
    fn from(e: StoreError) -> Self {
        DeviceError::Storage(e.0)
    }
}

/// Opens the database (`pg_url`).
pub async fn open() -> Result<Db, StoreError> {
    kit::pg::open().await.map(Db).map_err(StoreError)
}

/// The one mapping of a PostgreSQL failure.
fn failed(e: spin_sdk::pg::Error) -> StoreError {
    StoreError(format!("{e:?}"))
}

async fn rows(db: &Db, sql: &str, params: Vec<ParameterValue>) -> Result<Vec<Vec<DbValue>>, StoreError> {
    kit::pg::rows(&db.0, sql, params).await.map_err(failed)
}

fn column<T: Decode>(row: &[DbValue], i: usize) -> Result<T, StoreError> {
    kit::pg::column(row, i).map_err(StoreError)
}

fn user_id(row: &[DbValue], i: usize) -> Result<UserId, StoreError> {
    UserId::parse(&column::<String>(row, i)?).ok_or_else(|| StoreError(format!("column {i} is not a user id")))
}

fn session_id(row: &[DbValue], i: usize) -> Result<SessionId, StoreError> {
    SessionId::parse(&column::<String>(row, i)?).ok_or_else(|| StoreError(format!("column {i} is not a session id")))
}

fn text(value: Option<&str>) -> ParameterValue {
    value.map_or(ParameterValue::DbNull, |s| ParameterValue::Str(s.to_owned()))
}

fn string(value: &str) -> ParameterValue {
    ParameterValue::Str(value.to_owned())
}

/// Appends one event to the hash-chained audit log.
pub async fn audit(
    db: &Db,
    actor: &Actor,
    action: &str,
    subject: &str,
    outcome: &str,
    detail: &Value,
) -> Result<(), StoreError> {
    kit::pg::audit(&db.0, actor, action, subject, outcome, detail).await.map_err(failed)
}

// ---------------------------------------------------------------- devices

/// What a sighting of a device writes: its classification, fingerprint,
/// address and place.
pub struct Seen<'a> {
    pub kind: Option<&'a str>,
    pub os: Option<&'a str>,
    pub os_version: Option<&'a str>,
    pub browser: Option<&'a str>,
    pub browser_version: Option<&'a str>,
    pub model: Option<&'a str>,
    pub fingerprint: &'a [u8],
    pub ip: std::net::IpAddr,
    pub country: Option<&'a str>,
    pub region: Option<&'a str>,
    pub city: Option<&'a str>,
}

/// A device registered, or seen again, as the table now holds it.
pub struct Registered {
    /// Whether the row is new (not an update of the member's device).
    pub created: bool,
    pub first_seen_at: i64,
    pub trusted: bool,
    pub name: Option<String>,
}

/// Registers `device` to `user`, or updates it if it is already theirs;
/// `None` when it is another member's.
pub async fn register_device(
    db: &Db,
    device: &DeviceId,
    user: &UserId,
    seen: &Seen<'_>,
    now: i64,
) -> Result<Option<Registered>, StoreError> {
    const SQL: &str = "INSERT INTO devices.devices (device_id, user_id, kind, os, os_version, browser, browser_version, model, \
             fingerprint, last_ip, country, region, city, first_seen_at, last_seen_at) \
             VALUES ($1, $2::text::uuid, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, to_timestamp($14::bigint), \
             to_timestamp($14::bigint)) \
             ON CONFLICT (device_id) DO UPDATE SET kind = EXCLUDED.kind, os = EXCLUDED.os, \
             os_version = EXCLUDED.os_version, browser = EXCLUDED.browser, \
             browser_version = EXCLUDED.browser_version, model = EXCLUDED.model, \
             fingerprint = EXCLUDED.fingerprint, last_ip = EXCLUDED.last_ip, country = EXCLUDED.country, \
             region = EXCLUDED.region, city = EXCLUDED.city, last_seen_at = EXCLUDED.last_seen_at \
             WHERE devices.devices.user_id = EXCLUDED.user_id \
             RETURNING (xmax = 0), extract(epoch FROM first_seen_at)::bigint, trusted, name";
    let mut params = vec![string(device.as_str()), string(user.as_str())];
    params.extend(seen_values(seen));
    params.push(ParameterValue::Int64(now));
    let found = rows(db, SQL, params).await?;
    let Some(row) = found.first() else { return Ok(None) };
    Ok(Some(Registered {
        created: column(row, 0)?,
        first_seen_at: column(row, 1)?,
        trusted: column(row, 2)?,
        name: column(row, 3)?,
    }))
}

/// A device of the member's, as `GET /api/devices/list` shows it.
pub struct ListedDevice {
    pub device_id: String,
    pub kind: String,
    pub os: Option<String>,
    pub os_version: Option<String>,
    pub browser: Option<String>,
    pub browser_version: Option<String>,
    pub model: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub name: Option<String>,
    pub trusted: bool,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
}

/// The member's devices, last seen first.
pub async fn devices_of(db: &Db, user: &UserId) -> Result<Vec<ListedDevice>, StoreError> {
    const SQL: &str = "SELECT device_id, kind, os, os_version, browser, browser_version, model, country, region, city, name, \
         trusted, extract(epoch FROM first_seen_at)::bigint, extract(epoch FROM last_seen_at)::bigint \
         FROM devices.devices WHERE user_id = $1::text::uuid ORDER BY last_seen_at DESC";
    let found = rows(db, SQL, vec![string(user.as_str())]).await?;
    found
        .iter()
        .map(|r| {
            Ok(ListedDevice {
                device_id: column(r, 0)?,
                kind: column(r, 1)?,
                os: column(r, 2)?,
                os_version: column(r, 3)?,
                browser: column(r, 4)?,
                browser_version: column(r, 5)?,
                model: column(r, 6)?,
                country: column(r, 7)?,
                region: column(r, 8)?,
                city: column(r, 9)?,
                name: column(r, 10)?,
                trusted: column(r, 11)?,
                first_seen_at: column(r, 12)?,
                last_seen_at: column(r, 13)?,
            })
        })
        .collect()
}

/// A device's name and trust after an update.
pub struct Labelled {
    pub name: Option<String>,
    pub trusted: bool,
}

/// Sets the name and/or the trust (`None` keeps it) of a device of the
/// member's; `None` when the member has no such device.
pub async fn label_device(
    db: &Db,
    device: &DeviceId,
    user: &UserId,
    name: Option<&str>,
    trusted: Option<bool>,
) -> Result<Option<Labelled>, StoreError> {
    const SQL: &str = "UPDATE devices.devices SET name = coalesce($3, name), trusted = coalesce($4, trusted) \
         WHERE device_id = $1 AND user_id = $2::text::uuid RETURNING name, trusted";
    let params = vec![
        string(device.as_str()),
        string(user.as_str()),
        text(name),
        trusted.map_or(ParameterValue::DbNull, ParameterValue::Boolean),
    ];
    let found = rows(db, SQL, params).await?;
    let Some(row) = found.first() else { return Ok(None) };
    Ok(Some(Labelled { name: column(row, 0)?, trusted: column(row, 1)? }))
}

/// The country and region of the member's most recently seen located
/// device; `None` when none is located.
pub async fn place_of(db: &Db, user: &UserId) -> Result<Option<Place>, StoreError> {
    const SQL: &str = "SELECT country, region FROM devices.devices WHERE user_id = $1::text::uuid AND country IS NOT NULL \
         ORDER BY last_seen_at DESC LIMIT 1";
    let found = rows(db, SQL, vec![string(user.as_str())]).await?;
    let Some(row) = found.first() else { return Ok(None) };
    Ok(Some(Place { country: column(row, 0)?, region: column(row, 1)? }))
}

/// Deletes a device of the member's; whether there was one.
pub async fn delete_device(db: &Db, device: &DeviceId, user: &UserId) -> Result<bool, StoreError> {
    const SQL: &str = "DELETE FROM devices.devices WHERE device_id = $1 AND user_id = $2::text::uuid RETURNING 1";
    Ok(!rows(db, SQL, vec![string(device.as_str()), string(user.as_str())]).await?.is_empty())
}

// --------------------------------------------------------------- sessions

/// A session to open, with its first refresh token.
pub struct NewSession<'a> {
    pub user: &'a UserId,
    pub device: &'a DeviceId,
    pub amr: &'a [String],
    /// The SHA-256 of the first refresh token.
    pub token_hash: &'a [u8],
    pub now: i64,
    /// The device's sighting: with it, the device is written too and the
    /// session opens only if the device is registered to `user`.
    pub seen: Option<Seen<'a>>,
}

/// Opens the session, its first refresh token and its audit row in one
/// statement (with `seen`, the device's sighting too); `None` when `seen`
/// names a device not registered to the member.
pub async fn open_session(db: &Db, new: &NewSession<'_>) -> Result<Option<SessionId>, StoreError> {
    let found = match &new.seen {
        Some(seen) => rows(db, OPEN_SIGHTED, sighted_session(new, seen)).await?,
        None => rows(db, OPEN, bare_session(new)).await?,
    };
    found.first().map(|row| session_id(row, 0)).transpose()
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

fn sighted_session(new: &NewSession<'_>, seen: &Seen<'_>) -> Vec<ParameterValue> {
    let mut params = bare_session(new);
    params.extend(seen_values(seen));
    params
}

/// What a device sighting writes, in the order both statements take it.
fn seen_values(seen: &Seen<'_>) -> [ParameterValue; 11] {
    [
        text(seen.kind),
        text(seen.os),
        text(seen.os_version),
        text(seen.browser),
        text(seen.browser_version),
        text(seen.model),
        ParameterValue::Binary(seen.fingerprint.to_vec()),
        ParameterValue::Str(seen.ip.to_string()),
        text(seen.country),
        text(seen.region),
        text(seen.city),
    ]
}

/// The session alone, on device `$2`, with its first refresh token and its
/// audit row.
const OPEN: &str = "WITH s AS (INSERT INTO devices.sessions (user_id, device_id, amr, created_at, last_used_at) \
         VALUES ($1::text::uuid, $2, string_to_array($3, ','), to_timestamp($5::bigint), \
         to_timestamp($5::bigint)) RETURNING id, device_id), \
     t AS (INSERT INTO devices.refresh_tokens (hash, session_id, issued_at) \
         SELECT $4, id, to_timestamp($5::bigint) FROM s RETURNING session_id) \
 SELECT t.session_id::text, audit.append('service:auth', 'session.opened', t.session_id::text, 'ok', \
     jsonb_build_object('device_id', s.device_id)) FROM t JOIN s ON s.id = t.session_id";

fn bare_session(new: &NewSession<'_>) -> Vec<ParameterValue> {
    vec![
        string(new.user.as_str()),
        string(new.device.as_str()),
        ParameterValue::Str(new.amr.join(",")),
        ParameterValue::Binary(new.token_hash.to_vec()),
        ParameterValue::Int64(new.now),
    ]
}

/// A refresh token and its session, as the rotation rules read them.
pub struct FoundToken {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub amr: Vec<String>,
    pub session: SessionState,
    pub token: TokenState,
}

/// The refresh token whose SHA-256 is `token_hash`, with its session.
pub async fn find_refresh_token(db: &Db, token_hash: &[u8]) -> Result<Option<FoundToken>, StoreError> {
    const SQL: &str = "SELECT t.session_id::text, extract(epoch FROM t.issued_at)::bigint, extract(epoch FROM t.rotated_at)::bigint, \
         s.user_id::text, s.device_id, extract(epoch FROM s.created_at)::bigint, \
         extract(epoch FROM s.revoked_at)::bigint, array_to_string(s.amr, ','), \
         EXISTS (SELECT 1 FROM devices.refresh_tokens c WHERE c.parent_hash = t.hash AND c.rotated_at IS NULL) \
         FROM devices.refresh_tokens t JOIN devices.sessions s ON s.id = t.session_id WHERE t.hash = $1";
    let found = rows(db, SQL, vec![ParameterValue::Binary(token_hash.to_vec())]).await?;
    let Some(row) = found.first() else { return Ok(None) };
    Ok(Some(FoundToken {
        session_id: session_id(row, 0)?,
        token: TokenState { issued_at: column(row, 1)?, rotated_at: column(row, 2)?, child_active: column(row, 8)? },
        user_id: user_id(row, 3)?,
        session: SessionState { device_id: column(row, 4)?, created_at: column(row, 5)?, revoked_at: column(row, 6)? },
        amr: column::<String>(row, 7)?.split(',').map(str::to_owned).collect(),
    }))
}

/// A refresh token replaced by a new one (SHA-256 both) at `now`.
pub struct Rotation<'a> {
    pub old: &'a [u8],
    pub new: &'a [u8],
    pub now: i64,
}

/// Marks `old` rotated (if it still is the active one), touches its
/// session and adds `new` as its child; whether it was still active.
pub async fn rotate_refresh_token(db: &Db, rotation: &Rotation<'_>) -> Result<bool, StoreError> {
    const SQL: &str = "WITH r AS (UPDATE devices.refresh_tokens SET rotated_at = to_timestamp($3::bigint) \
                 WHERE hash = $1 AND rotated_at IS NULL RETURNING session_id), \
                 u AS (UPDATE devices.sessions SET last_used_at = to_timestamp($3::bigint) WHERE id IN (SELECT session_id FROM r)) \
                 INSERT INTO devices.refresh_tokens (hash, session_id, parent_hash, issued_at) \
                 SELECT $2, session_id, $1, to_timestamp($3::bigint) FROM r RETURNING 1";
    Ok(!rows(db, SQL, rotation_params(rotation)).await?.is_empty())
}

/// Adds `new` as another child of the already rotated `old` (the grace
/// window); whether `old` still exists.
pub async fn add_sibling_token(db: &Db, rotation: &Rotation<'_>) -> Result<bool, StoreError> {
    const SQL: &str = "INSERT INTO devices.refresh_tokens (hash, session_id, parent_hash, issued_at) \
                 SELECT $2, session_id, $1, to_timestamp($3::bigint) FROM devices.refresh_tokens WHERE hash = $1 RETURNING 1";
    Ok(!rows(db, SQL, rotation_params(rotation)).await?.is_empty())
}

fn rotation_params(rotation: &Rotation<'_>) -> Vec<ParameterValue> {
    vec![
        ParameterValue::Binary(rotation.old.to_vec()),
        ParameterValue::Binary(rotation.new.to_vec()),
        ParameterValue::Int64(rotation.now),
    ]
}

/// Revokes a session whose refresh token was used again
/// (`refresh_reuse`), if it is still live.
pub async fn revoke_reused_session(db: &Db, session: &SessionId, now: i64) -> Result<(), StoreError> {
    const SQL: &str = "UPDATE devices.sessions SET revoked_at = to_timestamp($2::bigint), revoke_reason = 'refresh_reuse' \
                     WHERE id = $1::text::uuid AND revoked_at IS NULL";
    rows(db, SQL, vec![string(session.as_str()), ParameterValue::Int64(now)]).await.map(|_| ())
}

/// Revokes a session at logout; whether it was still live.
pub async fn log_out_session(db: &Db, session: &SessionId, now: i64) -> Result<bool, StoreError> {
    const SQL: &str = "UPDATE devices.sessions SET revoked_at = to_timestamp($2::bigint), revoke_reason = 'logout' \
         WHERE id = $1::text::uuid AND revoked_at IS NULL RETURNING 1";
    Ok(!rows(db, SQL, vec![string(session.as_str()), ParameterValue::Int64(now)]).await?.is_empty())
}

/// A session of the member's, as `GET /api/sessions` shows it.
pub struct ListedSession {
    pub session_id: SessionId,
    pub device_id: String,
    pub amr: Vec<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    pub revoked_at: Option<i64>,
    pub revoke_reason: Option<String>,
}

/// The member's sessions, newest first (at most 100).
pub async fn sessions_of(db: &Db, user: &UserId) -> Result<Vec<ListedSession>, StoreError> {
    const SQL: &str = "SELECT id::text, device_id, array_to_string(amr, ','), extract(epoch FROM created_at)::bigint, \
         extract(epoch FROM last_used_at)::bigint, extract(epoch FROM revoked_at)::bigint, revoke_reason \
         FROM devices.sessions WHERE user_id = $1::text::uuid ORDER BY created_at DESC LIMIT 100";
    let found = rows(db, SQL, vec![string(user.as_str())]).await?;
    found
        .iter()
        .map(|row| {
            Ok(ListedSession {
                session_id: session_id(row, 0)?,
                device_id: column(row, 1)?,
                amr: column::<String>(row, 2)?.split(',').map(str::to_owned).collect(),
                created_at: column(row, 3)?,
                last_used_at: column(row, 4)?,
                revoked_at: column(row, 5)?,
                revoke_reason: column(row, 6)?,
            })
        })
        .collect()
}

/// Which of the member's live sessions a revocation ends.
#[derive(Clone, Copy)]
pub enum Revoking<'a> {
    /// This one.
    One(&'a SessionId),
    /// Every one but this (the caller's).
    AllBut(&'a SessionId),
    /// Those on this device.
    OnDevice(&'a DeviceId),
}

/// Revokes the member's live sessions `which` selects, for `reason`; their
/// ids.
pub async fn revoke_sessions(
    db: &Db,
    user: &UserId,
    which: Revoking<'_>,
    reason: &str,
    now: i64,
) -> Result<Vec<SessionId>, StoreError> {
    let (sql, param) = match which {
        Revoking::One(session) => (
            "UPDATE devices.sessions SET revoked_at = to_timestamp($2::bigint), revoke_reason = $3 \
                 WHERE user_id = $1::text::uuid AND revoked_at IS NULL AND id = $4::text::uuid RETURNING id::text",
            session.as_str(),
        ),
        Revoking::AllBut(session) => (
            "UPDATE devices.sessions SET revoked_at = to_timestamp($2::bigint), revoke_reason = $3 \
                 WHERE user_id = $1::text::uuid AND revoked_at IS NULL AND id <> $4::text::uuid RETURNING id::text",
            session.as_str(),
        ),
        Revoking::OnDevice(device) => (
            "UPDATE devices.sessions SET revoked_at = to_timestamp($2::bigint), revoke_reason = $3 \
                 WHERE user_id = $1::text::uuid AND revoked_at IS NULL AND device_id = $4 RETURNING id::text",
            device.as_str(),
        ),
    };
    let params = vec![string(user.as_str()), ParameterValue::Int64(now), string(reason), string(param)];
    rows(db, sql, params).await?.iter().map(|row| session_id(row, 0)).collect()
}

// ---------------------------------------------------------------- members

/// The member's devices as kept, oldest first (times in RFC 3339).
pub async fn held_devices(db: &Db, user: &UserId) -> Result<Vec<HeldDevice>, StoreError> {
    const SQL: &str = "SELECT device_id, kind, os, os_version, browser, browser_version, model, last_ip, \
     country, region, city, name, trusted, \
     to_char(first_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
     to_char(last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
     FROM devices.devices WHERE user_id = $1::text::uuid ORDER BY first_seen_at, device_id";
    let found = rows(db, SQL, vec![string(user.as_str())]).await?;
    found
        .iter()
        .map(|row| {
            Ok(HeldDevice {
                device_id: column(row, 0)?,
                kind: column(row, 1)?,
                os: software(row, 2)?,
                browser: software(row, 4)?,
                model: column(row, 6)?,
                last_ip: column(row, 7)?,
                country: column(row, 8)?,
                region: column(row, 9)?,
                city: column(row, 10)?,
                name: column(row, 11)?,
                trusted: column(row, 12)?,
                first_seen_at: column(row, 13)?,
                last_seen_at: column(row, 14)?,
            })
        })
        .collect()
}

/// Columns `name` and `name + 1`: a piece of software and its version.
fn software(row: &[DbValue], name: usize) -> Result<Option<Software>, StoreError> {
    let (name, version): (Option<String>, Option<String>) = (column(row, name)?, column(row, name + 1)?);
    Ok(name.map(|name| Software { name, version }))
}

/// The member's sessions as kept, oldest first (times in RFC 3339; refresh
/// tokens are hashes and are not read).
pub async fn held_sessions(db: &Db, user: &UserId) -> Result<Vec<HeldSession>, StoreError> {
    const SQL: &str = "SELECT id::text, device_id, array_to_string(amr, ','), \
     to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
     to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
     to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), revoke_reason \
     FROM devices.sessions WHERE user_id = $1::text::uuid ORDER BY created_at, id";
    let found = rows(db, SQL, vec![string(user.as_str())]).await?;
    found
        .iter()
        .map(|row| {
            let amr: String = column(row, 2)?;
            Ok(HeldSession {
                session_id: column(row, 0)?,
                device_id: column(row, 1)?,
                amr: amr.split(',').filter(|a| !a.is_empty()).map(str::to_owned).collect(),
                created_at: column(row, 3)?,
                last_used_at: column(row, 4)?,
                revoked_at: column(row, 5)?,
                revoke_reason: column(row, 6)?,
            })
        })
        .collect()
}

/// What a member's erasure did.
pub struct Erased {
    pub devices_removed: usize,
    /// The sessions it revoked.
    pub revoked_now: Vec<String>,
    /// The sessions revoked within an access token's lifetime before it (a
    /// retry writes their cache entries again).
    pub revoked_recently: Vec<String>,
}

/// Every live session revoked and every device deleted, with one audit row
/// when anything changed (`$2` now, `$3` the access-token lifetime): the
/// devices deleted, the sessions revoked now, and those revoked within an
/// access token's lifetime before.
const ERASE: &str = "WITH r AS (UPDATE devices.sessions SET revoked_at = to_timestamp($2::bigint), \
         revoke_reason = 'member_erased' WHERE user_id = $1::text::uuid AND revoked_at IS NULL RETURNING id), \
     d AS (DELETE FROM devices.devices WHERE user_id = $1::text::uuid RETURNING device_id), \
     a AS (SELECT audit.append('member:' || $1::text, 'member.erased', $1::text, 'ok', \
             jsonb_build_object('sessions', (SELECT count(*) FROM r), 'devices', (SELECT count(*) FROM d))) \
         WHERE EXISTS (SELECT 1 FROM r) OR EXISTS (SELECT 1 FROM d)) \
 SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM a), \
     array_to_string(ARRAY(SELECT id::text FROM r), ','), \
     array_to_string(ARRAY(SELECT id::text FROM devices.sessions WHERE user_id = $1::text::uuid \
         AND revoked_at > to_timestamp($2::bigint - $3::bigint)), ',')";

/// Erases the member in one statement ([`ERASE`]).
pub async fn erase_member(db: &Db, user: &UserId, now: i64, access_ttl: i64) -> Result<Erased, StoreError> {
    let params = vec![string(user.as_str()), ParameterValue::Int64(now), ParameterValue::Int64(access_ttl)];
    let found = rows(db, ERASE, params).await?;
    let row = found.first().ok_or_else(|| StoreError("the erasure answered no row".into()))?;
    let ids = |list: String| list.split(',').filter(|id| !id.is_empty()).map(str::to_owned).collect();
    Ok(Erased {
        devices_removed: usize::try_from(column::<i64>(row, 0)?).unwrap_or_default(),
        revoked_now: ids(column(row, 2)?),
        revoked_recently: ids(column(row, 3)?),
    })
}
