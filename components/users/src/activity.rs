//! `POST /api/users/activity`: an event the frontend reports, recorded for
//! the member with the device their access token is bound to (the gateway
//! limits it per member and address: the `activity` route class).
//! `GET /api/users/activity`: the member's history, their reports merged
//! with their security events, newest first.

use serde::Serialize;
use spin_sdk::http::Request;
use vottery_component_kit::{self as kit};
use vottery_users_core::UsersError;
use vottery_users_core::activity::{Activity, ActivityBody, ActivityTypes};
use vottery_users_core::history::{self, Entry, PageQuery, Source};

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
    let (id, at) = id.ok_or(UsersError::UserNotFound)?;
    let recorded = Recorded { id: id.to_string(), kind: activity.kind.as_str().to_owned(), at };
    Ok(kit::json(202, &recorded))
}

async fn allowlist() -> Result<ActivityTypes, UsersError> {
    let setting = kit::variable("activity_types").await.unwrap_or_default();
    ActivityTypes::parse(&setting).map_err(UsersError::Misconfigured)
}

#[derive(Serialize)]
struct History {
    entries: Vec<Entry>,
    next_cursor: Option<String>,
}

/// `GET /api/users/activity[?cursor=&limit=]`: two queries (the member's
/// reports, their audit rows), each of at most `limit + 1` entries after
/// the cursor, merged.
pub async fn list(request: Request) -> Result<kit::Response, UsersError> {
    let user = member(&request)?;
    let query = request.uri().query().unwrap_or_default().to_owned();
    let pairs: Vec<_> = form_urlencoded::parse(query.as_bytes()).collect();
    let page = PageQuery::parse(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))?;
    let db = store::open().await?;
    let bound = |source| page.after.map(|after| after.bound_for(source));
    let (reported, security) = futures::future::join(
        store::reported(&db, user.as_str(), bound(Source::Frontend), page.limit + 1),
        store::security_events(&db, user.as_str(), bound(Source::Security), page.limit + 1),
    )
    .await;
    let (entries, next_cursor) = history::merge(reported?, security?, page.limit);
    Ok(kit::json(200, &History { entries, next_cursor }))
}
