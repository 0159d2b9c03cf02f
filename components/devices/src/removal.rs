//! `DELETE /api/devices/:id`: a device's removal, which crosses the
//! registry (the device row), `auth` (its passkeys) and the sessions (those
//! opened on it). Kept apart so neither the registry nor the sessions
//! depend on the other for it.

use serde_json::json;
use vottery_component_kit::contracts::auth::RemovePasskeys;
use vottery_component_kit::{self as kit};
use vottery_devices_core::DeviceError;
use vottery_sessions_core::DeviceId;

use crate::member::Member;
use crate::sessions::{revoke_device, texts};
use crate::store;

/// `DELETE /api/devices/:id`: removes a device of the member's and ends its
/// sessions; its passkeys are removed first.
pub async fn remove(member: &Member, raw_id: &str) -> Result<kit::Response, DeviceError> {
    let device_id = DeviceId::parse(raw_id).map_err(|_| DeviceError::NotFound)?;
    // The device's passkeys go first (auth owns them): a device is never
    // removed with a credential left that still opens sessions on it.
    let request = RemovePasskeys { user_id: member.user_id.to_string(), device_id: device_id.as_str().to_owned() };
    let passkeys = kit::call("devices", &request).await.map_err(|e| DeviceError::Storage(format!("auth {e}")))?;
    let db = store::open().await?;
    if !store::delete_device(&db, &device_id, &member.user_id).await? {
        return Err(DeviceError::NotFound);
    }
    let sessions = revoke_device(member, &device_id).await.map_err(|e| DeviceError::Storage(e.to_string()))?;
    let sessions = texts(&sessions);
    let actor = kit::Actor::Member(member.user_id.to_string());
    store::audit(&db, &actor, "device.removed", device_id.as_str(), "ok", &json!({ "sessions": sessions })).await?;
    crate::cache::publish("device.removed", json!({ "device_id": device_id.as_str() })).await;
    let reply = json!({
        "device_id": device_id.as_str(), "removed": true, "revoked_sessions": sessions,
        "removed_passkeys": passkeys.removed,
    });
    Ok(kit::json(200, &reply))
}
