//! Roles: the live roles an access token carries (`/internal/roles`, asked
//! by `auth` whenever it issues one) and the administrators' API
//! (`GET /api/users/:id/roles`, `PUT` and `DELETE /api/users/:id/roles/:role`).
//! The caller's own roles are read from the database on every admin route,
//! not taken from the token's claim, so a revoked administrator is refused
//! at once.

use serde::{Deserialize, Serialize};
use spin_sdk::http::Request;
use spin_sdk::pg::Connection;
use vottery_component_kit::contracts::users::{Roles, RolesOf};
use vottery_component_kit::{self as kit};
use vottery_policy::{GrantRefusal, Permission, Role, authorize, may_grant, may_revoke, roles_of};
use vottery_users_core::{UserId, UsersError};
use vottery_validate::ValidationError;

use crate::profile::{json_object, member};
use crate::store::{self, Grant};

/// `POST /internal/roles`: `member`, then the member's live grants.
pub async fn live(body: RolesOf) -> Result<kit::Response, UsersError> {
    let user = user_id(&body.user_id)?;
    let granted = store::live_roles(&store::open().await?, user.as_str()).await?;
    let roles = std::iter::once(Role::Member.as_str().to_owned()).chain(granted).collect();
    Ok(kit::json(200, &Roles { roles }))
}

#[derive(Serialize)]
struct Listing {
    user_id: String,
    roles: Vec<Grant>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct GrantBody {
    /// RFC 3339, in the future; none: until revoked.
    #[serde(default)]
    expires_at: Option<String>,
}

/// `GET /api/users/:id/roles` (`roles:read`).
pub async fn list(request: Request, id: &str) -> Result<kit::Response, UsersError> {
    let (db, _) = caller_with(&request, Permission::RolesRead).await?;
    listing(&db, &user_id(id)?).await
}

/// `PUT /api/users/:id/roles/:role` (`roles:grant`, and the role held).
pub async fn put(request: Request, id: &str, role: &str) -> Result<kit::Response, UsersError> {
    let (db, (caller, roles)) = caller_with(&request, Permission::RolesGrant).await?;
    let (target, role) = (user_id(id)?, role_named(role)?);
    may_grant(&roles, role).map_err(refusal)?;
    // A body is read whenever one is declared, however it is framed.
    let body: GrantBody = if request.headers().contains_key(http::header::CONTENT_TYPE) {
        json_object(request, 1024).await?
    } else {
        GrantBody::default()
    };
    let expires_at = expiry(body.expires_at.as_deref(), kit::now())?;
    if role == Role::UserAdmin && expires_at.is_some() {
        // An expiring grant would replace a live one: the last user_admin
        // could lapse, and then nobody could grant roles again.
        return Err(ValidationError::InvalidField("`user_admin` is granted without `expires_at`".into()).into());
    }
    if !store::grant(&db, caller.as_str(), target.as_str(), role.as_str(), expires_at).await? {
        return Err(UsersError::UserNotFound);
    }
    listing(&db, &target).await
}

/// `DELETE /api/users/:id/roles/:role` (`roles:grant`, the role held, never
/// the last `user_admin`).
pub async fn delete(request: Request, id: &str, role: &str) -> Result<kit::Response, UsersError> {
    let (db, (caller, roles)) = caller_with(&request, Permission::RolesGrant).await?;
    let (target, role) = (user_id(id)?, role_named(role)?);
    may_grant(&roles, role).map_err(refusal)?;
    let held = store::grants(&db, target.as_str()).await?.ok_or(UsersError::UserNotFound)?;
    if !held.iter().any(|g| g.role == role.as_str()) {
        return Err(UsersError::GrantNotFound);
    }
    let holders = u64::try_from(store::holders(&db, role.as_str()).await?).unwrap_or_default();
    may_revoke(&roles, role, holders).map_err(refusal)?;
    // The statement keeps the last user_admin itself (a revocation racing
    // this one may have left this grant the last).
    if !store::revoke(&db, caller.as_str(), target.as_str(), role.as_str()).await? {
        return Err(UsersError::LastUserAdmin);
    }
    listing(&db, &target).await
}

/// The caller (from the gateway) and their live roles, read from the
/// database; refused unless they hold `permission`.
pub async fn caller_with(
    request: &Request,
    permission: Permission,
) -> Result<(Connection, (UserId, Vec<Role>)), UsersError> {
    let caller = member(request)?;
    let db = store::open().await?;
    let live = store::live_roles(&db, caller.as_str()).await?;
    let roles = roles_of(live.iter().map(String::as_str));
    if !authorize(&roles, permission) {
        return Err(UsersError::PermissionDenied(permission.as_str()));
    }
    Ok((db, (caller, roles)))
}

async fn listing(db: &Connection, user: &UserId) -> Result<kit::Response, UsersError> {
    let grants = store::grants(db, user.as_str()).await?.ok_or(UsersError::UserNotFound)?;
    Ok(kit::json(200, &Listing { user_id: user.as_str().to_owned(), roles: grants }))
}

fn user_id(raw: &str) -> Result<UserId, UsersError> {
    UserId::parse(raw).ok_or(UsersError::UserNotFound)
}

fn role_named(name: &str) -> Result<Role, UsersError> {
    Role::parse(name).ok_or_else(|| UsersError::RoleUnknown(name.chars().take(32).collect()))
}

fn refusal(refused: GrantRefusal) -> UsersError {
    match refused {
        GrantRefusal::NotPermitted => UsersError::PermissionDenied(Permission::RolesGrant.as_str()),
        GrantRefusal::RoleNotHeld => UsersError::RoleNotHeld,
        GrantRefusal::NotGrantable => UsersError::RoleNotGrantable,
        GrantRefusal::LastHolder => UsersError::LastUserAdmin,
    }
}

/// An expiry in the future (seconds since the epoch), or none.
fn expiry(text: Option<&str>, now: i64) -> Result<Option<i64>, UsersError> {
    let Some(text) = text else { return Ok(None) };
    let at = text
        .parse::<jiff::Timestamp>()
        .map_err(|_| ValidationError::InvalidField("`expires_at` is not an RFC 3339 time".into()))?
        .as_second();
    if at < now + 60 {
        return Err(ValidationError::InvalidField("`expires_at` is less than a minute ahead".into()).into());
    }
    Ok(Some(at))
}
