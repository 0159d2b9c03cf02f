//! `DELETE /api/devices/:id`: a device's removal, which crosses the
//! registry (the device row), `auth` (its passkeys) and the sessions (those
//! opened on it). Kept apart so neither the registry nor the sessions
//! depend on the other for it.

use serde_json::json;
use spin_sdk::pg::ParameterValue;
use vottery_component_kit::contracts::auth::RemovePasskeys;
use vottery_component_kit::{self as kit};
use vottery_devices_core::DeviceError;
use vottery_sessions_core::DeviceId;

use crate::member::Member;

fn storage(e: impl std::fmt::Debug) -> DeviceError {
    DeviceError::Storage(format!("{e:?}"))
}

/// `DELETE /api/devices/:id`: removes a device of the member's and ends its
/// sessions; its passkeys are removed first.
pub async fn remove(member: &Member, raw_id: &str) -> Result<kit::Response, DeviceError> {
    let device_id = DeviceId::parse(raw_id).map_err(|_| DeviceError::NotFound)?;
    // The device's passkeys go first (auth owns them): a device is never
    // removed with a credential left that still opens sessions on it.
    let request = RemovePasskeys { user_id: member.user_id.clone(), device_id: device_id.as_str().to_owned() };
    let passkeys = kit::call("devices", &request).await.map_err(|e| DeviceError::Storage(format!("auth {e}")))?;
    let db = kit::pg::open().await.map_err(DeviceError::Storage)?;
    let removed = kit::pg::rows(
        &db,
        "DELETE FROM devices.devices WHERE device_id = $1 AND user_id = $2::text::uuid RETURNING 1",
        vec![ParameterValue::Str(device_id.as_str().to_owned()), ParameterValue::Str(member.user_id.clone())],
    )
    .await
    .map_err(storage)?;
    if removed.is_empty() {
        return Err(DeviceError::NotFound);
    }
    let sessions = crate::sessions::revoke_device(member, device_id.as_str())
        .await
        .map_err(|e| DeviceError::Storage(e.to_string()))?;
    kit::pg::audit(
        &db,
        &kit::Actor::Member(member.user_id.clone()),
        "device.removed",
        device_id.as_str(),
        "ok",
        &json!({ "sessions": sessions }),
    )
    .await
    .map_err(storage)?;
    crate::cache::publish("device.removed", json!({ "device_id": device_id.as_str() })).await;
    let reply = json!({
        "device_id": device_id.as_str(), "removed": true, "revoked_sessions": sessions,
        "removed_passkeys": passkeys.removed,
    });
    Ok(kit::json(200, &reply))
}
