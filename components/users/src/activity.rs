//! `POST /api/users/activity`: an event the frontend reports, recorded for
//! the member with the device their access token is bound to. The gateway
//! limits it per member and address (the `activity` route class).

use serde::Serialize;
use spin_sdk::http::Request;
use vottery_component_kit::{self as kit};
use vottery_users_core::UsersError;
use vottery_users_core::activity::{Activity, ActivityBody, ActivityTypes};

use crate::profile::{json_object, member};
use crate::store;

/// The body limit of a report: the details' 1 KiB and the rest.
const MAX_ACTIVITY_BODY: usize = 2 * 1024;

#[derive(Serialize)]
struct Recorded {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    at: String,
}

/// `POST /api/users/activity`: 202 with the recorded event's id.
pub async fn record(request: Request) -> Result<kit::Response, UsersError> {
    let user = member(&request)?;
    let device = request.headers().get("vottery-device").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body: ActivityBody = json_object(request, MAX_ACTIVITY_BODY).await?;
    let activity = Activity::parse(body, &allowlist().await?, kit::now())?;
    let db = store::open().await?;
    let id = store::record_activity(&db, user.as_str(), device.as_deref(), &activity).await?;
    let id = id.ok_or(UsersError::UserNotFound)?;
    let at = jiff::Timestamp::from_second(activity.at).map_err(|e| UsersError::Internal(e.to_string()))?;
    let recorded = Recorded { id: id.to_string(), kind: activity.kind.as_str().to_owned(), at: at.to_string() };
    Ok(kit::json(202, &recorded))
}

async fn allowlist() -> Result<ActivityTypes, UsersError> {
    let setting = kit::variable("activity_types").await.unwrap_or_default();
    ActivityTypes::parse(&setting).map_err(UsersError::Misconfigured)
}
