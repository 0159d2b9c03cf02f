//! The member's data rights (see `vottery_users_core::rights`):
//! `GET /api/users/profile/export`, everything held about them as one JSON
//! document, and `DELETE /api/users/profile`, their erasure. Both need a
//! passkey ceremony within the last five minutes.

use http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use serde::Serialize;
use spin_sdk::http::Request;
use vottery_component_kit::contracts::auth::{ErasePasskeys, ExportPasskeys, HeldPasskey};
use vottery_component_kit::contracts::devices::{EraseMember, ExportMember, HeldDevice, HeldSession};
use vottery_component_kit::{self as kit};
use vottery_users_core::history::{Entry, Source};
use vottery_users_core::rights::require_recent_passkey;
use vottery_users_core::{UserId, UsersError};

use crate::profile::{HeldProfile, held, member};
use crate::store;

/// Entries of each history source read per query, and at most in all.
const EXPORT_PAGE: i64 = 1000;
const EXPORT_MAX: usize = 100_000;

#[derive(Serialize)]
struct Export {
    exported_at: String,
    user_id: String,
    #[serde(flatten)]
    account: HeldProfile,
    roles: serde_json::Value,
    demographics: serde_json::Value,
    devices: Vec<HeldDevice>,
    sessions: Vec<HeldSession>,
    passkeys: Vec<HeldPasskey>,
    /// The reports of the frontend, newest first.
    activity: Vec<Entry>,
    /// The member's security events from the audit log, newest first.
    security_events: Vec<Entry>,
    /// `false` when a history held more than the export carries.
    complete: bool,
}

#[derive(Serialize)]
struct Erased {
    erased: bool,
    passkeys_removed: usize,
    sessions_revoked: usize,
    devices_removed: usize,
}

/// Whether the session's passkey ceremony is recent enough.
fn recent(request: &Request) -> Result<(), UsersError> {
    let auth_time = request.headers().get("vottery-auth-time").and_then(|v| v.to_str().ok());
    require_recent_passkey(auth_time, kit::now())
}

/// The member the gateway verified, if their passkey ceremony is recent.
fn recent_member(request: &Request) -> Result<UserId, UsersError> {
    let user = member(request)?;
    recent(request)?;
    Ok(user)
}

/// `GET /api/users/profile/export`: the profile with the contacts in
/// clear, grants and demographics (one query), both histories (a query per
/// page, the two concurrent), and what `devices` and `auth` hold (two
/// calls, concurrent).
pub async fn export(request: Request) -> Result<kit::Response, UsersError> {
    let user = recent_member(&request)?;
    let account = held(&user).await?;
    let db = store::open().await?;
    let (roles, demographics) = store::held_records(&db, user.as_str()).await?;
    let (reports, events) =
        futures::future::join(history(&db, &user, Source::Frontend), history(&db, &user, Source::Security)).await;
    let ((activity, reports_complete), (security_events, events_complete)) = (reports?, events?);
    let (devices, passkeys) = futures::future::join(
        kit::call("users", &ExportMember { user_id: user.as_str().to_owned() }),
        kit::call("users", &ExportPasskeys { user_id: user.as_str().to_owned() }),
    )
    .await;
    let devices = devices.map_err(|e| UsersError::Dependency(format!("devices {e}")))?;
    let passkeys = passkeys.map_err(|e| UsersError::Dependency(format!("auth {e}")))?;
    let export = Export {
        exported_at: rfc3339(kit::now()),
        user_id: user.as_str().to_owned(),
        account,
        roles,
        demographics,
        devices: devices.devices,
        sessions: devices.sessions,
        passkeys: passkeys.passkeys,
        activity,
        security_events,
        complete: reports_complete && events_complete,
    };
    Ok(attachment(&export))
}

/// `DELETE /api/users/profile`: the account (crypto-shredding), then the
/// passkeys, then the sessions and devices; each step idempotent, so a
/// failed erasure is completed by sending it again.
pub async fn erase(request: Request) -> Result<kit::Response, UsersError> {
    let user = member(&request)?;
    let db = store::open().await?;
    match recent(&request) {
        Ok(()) => store::erase_account(&db, user.as_str()).await?.proceed()?,
        // An erasure a recent passkey began (the account is gone) is finished
        // with the session alone: the passkeys may already be gone.
        Err(stale) if store::has_account(&db, user.as_str()).await? => return Err(stale),
        Err(_) => {}
    }
    let passkeys = kit::call("users", &ErasePasskeys { user_id: user.as_str().to_owned() })
        .await
        .map_err(|e| UsersError::Dependency(format!("auth {e}")))?;
    let devices = kit::call("users", &EraseMember { user_id: user.as_str().to_owned() })
        .await
        .map_err(|e| UsersError::Dependency(format!("devices {e}")))?;
    let erased = Erased {
        erased: true,
        passkeys_removed: passkeys.removed,
        sessions_revoked: devices.sessions_revoked,
        devices_removed: devices.devices_removed,
    };
    let mut answer = kit::json(200, &erased);
    answer.headers_mut().insert("clear-site-data", http::HeaderValue::from_static("\"cookies\", \"storage\""));
    Ok(answer)
}

/// One source of the member's history, newest first, a page per query.
async fn history(
    db: &spin_sdk::pg::Connection,
    user: &UserId,
    source: Source,
) -> Result<(Vec<Entry>, bool), UsersError> {
    let mut entries: Vec<Entry> = Vec::new();
    loop {
        let bound = entries.last().map(|e| (e.position.at, e.position.id));
        let page = match source {
            Source::Frontend => store::reported(db, user.as_str(), bound, EXPORT_PAGE).await?,
            Source::Security => store::security_events(db, user.as_str(), bound, EXPORT_PAGE).await?,
        };
        let full = page.len() == EXPORT_PAGE as usize;
        entries.extend(page);
        if !full {
            return Ok((entries, true));
        }
        if entries.len() >= EXPORT_MAX {
            return Ok((entries, false));
        }
    }
}

fn rfc3339(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

fn attachment(export: &Export) -> kit::Response {
    let body = match serde_json::to_string(export) {
        Ok(body) => body,
        Err(e) => return kit::problem(&UsersError::Internal(e.to_string()).problem()),
    };
    http::Response::builder()
        .status(200)
        .header(CONTENT_TYPE, "application/json")
        .header(CONTENT_DISPOSITION, "attachment; filename=\"vottery-export.json\"")
        .header(CACHE_CONTROL, "no-store")
        .body(body)
        .unwrap_or_else(|e| kit::problem(&UsersError::Internal(e.to_string()).problem()))
}
