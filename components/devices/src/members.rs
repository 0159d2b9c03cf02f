//! What `devices` holds of one member, for the member's data rights (asked
//! by `users`): `POST /internal/members/export` answers their devices and
//! sessions; `POST /internal/members/erase` revokes every session and
//! deletes every device in one statement, then writes the revocation cache.

use spin_sdk::pg::{Connection, DbValue, Decode, ParameterValue};
use vottery_component_kit::contracts::devices::{
    EraseMember, ErasedMember, ExportMember, ExportedMember, HeldDevice, HeldSession, Software,
};
use vottery_component_kit::{self as kit};
use vottery_devices_core::DeviceError;
use vottery_sessions_core::Policy;
use vottery_validate::ValidationError;

use crate::cache::Cache;

fn storage(e: impl std::fmt::Debug) -> DeviceError {
    DeviceError::Storage(format!("{e:?}"))
}

fn column<T: Decode>(row: &[DbValue], i: usize) -> Result<T, DeviceError> {
    kit::pg::column(row, i).map_err(DeviceError::Storage)
}

async fn open() -> Result<Connection, DeviceError> {
    kit::pg::open().await.map_err(DeviceError::Storage)
}

fn checked_user(user_id: &str) -> Result<ParameterValue, DeviceError> {
    if !crate::member::valid_user(user_id) {
        return Err(ValidationError::InvalidField("`user_id` is not a user id".into()).into());
    }
    Ok(ParameterValue::Str(user_id.to_owned()))
}

const DEVICES: &str = "SELECT device_id, kind, os, os_version, browser, browser_version, model, last_ip, \
     country, region, city, name, trusted, \
     to_char(first_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
     to_char(last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
     FROM devices.devices WHERE user_id = $1::text::uuid ORDER BY first_seen_at, device_id";

const SESSIONS: &str = "SELECT id::text, device_id, array_to_string(amr, ','), \
     to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
     to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
     to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), revoke_reason \
     FROM devices.sessions WHERE user_id = $1::text::uuid ORDER BY created_at, id";

/// Every live session revoked and every device deleted, with one audit row
/// when anything changed (`$2` now, `$3` the access-token lifetime): the
/// devices deleted, the sessions revoked now, and those revoked within an
/// access token's lifetime before (a retry writes their cache entries
/// again).
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

/// `POST /internal/members/export`: two queries, the devices and the
/// sessions (refresh tokens are hashes and are not exported).
pub async fn export(body: ExportMember) -> Result<kit::Response, DeviceError> {
    let user = checked_user(&body.user_id)?;
    let db = open().await?;
    let (devices, sessions) = futures::future::join(
        kit::pg::rows(&db, DEVICES, vec![user.clone()]),
        kit::pg::rows(&db, SESSIONS, vec![user]),
    )
    .await;
    let devices = devices.map_err(storage)?.iter().map(|r| held_device(r)).collect::<Result<_, _>>()?;
    let sessions = sessions.map_err(storage)?.iter().map(|r| held_session(r)).collect::<Result<_, _>>()?;
    Ok(kit::json(200, &ExportedMember { devices, sessions }))
}

/// `POST /internal/members/erase`: one statement, then one revocation
/// cache entry per session revoked now or recently (so a retry after a
/// Redis failure completes the cache).
pub async fn erase(body: EraseMember) -> Result<kit::Response, DeviceError> {
    let user = checked_user(&body.user_id)?;
    let policy =
        Policy::parse(&kit::variable("session_policy").await.unwrap_or_default()).map_err(DeviceError::Storage)?;
    let params = vec![user, ParameterValue::Int64(kit::now()), ParameterValue::Int64(policy.access_ttl)];
    let rows = kit::pg::rows(&open().await?, ERASE, params).await.map_err(storage)?;
    let row = rows.first().ok_or_else(|| DeviceError::Storage("the erasure answered no row".into()))?;
    let devices_removed: i64 = column(row, 0)?;
    let (revoked_now, recent): (String, String) = (column(row, 2)?, column(row, 3)?);
    let cache = Cache::open().await.map_err(DeviceError::Storage)?;
    for id in ids(&revoked_now) {
        cache.revoke(id, "member_erased", policy.access_ttl).await.map_err(DeviceError::Storage)?;
    }
    for id in ids(&recent) {
        cache.rewrite(id, "member_erased", policy.access_ttl).await.map_err(DeviceError::Storage)?;
    }
    let erased = ErasedMember {
        sessions_revoked: ids(&revoked_now).count(),
        devices_removed: usize::try_from(devices_removed).unwrap_or_default(),
    };
    Ok(kit::json(200, &erased))
}

fn ids(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').filter(|id| !id.is_empty())
}

fn software(row: &[DbValue], name: usize) -> Result<Option<Software>, DeviceError> {
    let (name, version): (Option<String>, Option<String>) = (column(row, name)?, column(row, name + 1)?);
    Ok(name.map(|name| Software { name, version }))
}

fn held_device(row: &[DbValue]) -> Result<HeldDevice, DeviceError> {
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
}

fn held_session(row: &[DbValue]) -> Result<HeldSession, DeviceError> {
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
}
