//! What `devices` holds of one member, for the member's data rights (asked
//! by `users`): `POST /internal/members/export` answers their devices and
//! sessions; `POST /internal/members/erase` revokes every session and
//! deletes every device in one statement, then writes the revocation cache.

use vottery_component_kit::contracts::devices::{EraseMember, ErasedMember, ExportMember, ExportedMember};
use vottery_component_kit::{self as kit};
use vottery_devices_core::DeviceError;
use vottery_sessions_core::Policy;

use crate::cache::Cache;
use crate::member::named_user;
use crate::store;

/// `POST /internal/members/export`: two queries, the devices and the
/// sessions (refresh tokens are hashes and are not exported).
pub async fn export(body: ExportMember) -> Result<kit::Response, DeviceError> {
    let user = named_user(&body.user_id)?;
    let db = store::open().await?;
    let (devices, sessions) =
        futures::future::join(store::held_devices(&db, &user), store::held_sessions(&db, &user)).await;
    Ok(kit::json(200, &ExportedMember { devices: devices?, sessions: sessions? }))
}

/// `POST /internal/members/erase`: one statement, then one revocation
/// cache entry per session revoked now or recently (so a retry after a
/// Redis failure completes the cache).
pub async fn erase(body: EraseMember) -> Result<kit::Response, DeviceError> {
    let user = named_user(&body.user_id)?;
    let policy =
        Policy::parse(&kit::variable("session_policy").await.unwrap_or_default()).map_err(DeviceError::Storage)?;
    let now = kit::now();
    let erased = store::erase_member(&store::open().await?, &user, now, policy.access_ttl).await?;
    let cache = Cache::open().await.map_err(DeviceError::Storage)?;
    for id in &erased.revoked_now {
        cache.revoke(id, "member_erased", policy.access_ttl).await.map_err(DeviceError::Storage)?;
    }
    for id in &erased.revoked_recently {
        cache.rewrite(id, "member_erased", policy.access_ttl).await.map_err(DeviceError::Storage)?;
    }
    let answer = ErasedMember { sessions_revoked: erased.revoked_now.len(), devices_removed: erased.devices_removed };
    Ok(kit::json(200, &answer))
}
