//! `GET /api/users` and `GET /api/users/:id` (`users:read`): members as the
//! administrators see them (ids, Sngine account, dates, live roles), never
//! a contact in clear. A lookup by email or phone goes through the
//! contact's blind index, computed by `security`.

use serde::Serialize;
use spin_sdk::http::Request;
use vottery_component_kit::contracts::security::{BlindIndex, ContactDomain};
use vottery_component_kit::{self as kit};
use vottery_policy::Permission;
use vottery_users_core::directory::{self, Lookup};
use vottery_users_core::{UserId, UsersError};
use vottery_validate::decode_base64url;

use crate::roles::caller_with;
use crate::store::{self, Grant, MemberRow};

#[derive(Serialize)]
struct Page {
    members: Vec<MemberRow>,
    next_cursor: Option<String>,
}

#[derive(Serialize)]
struct Member {
    #[serde(flatten)]
    member: MemberRow,
    roles: Vec<Grant>,
}

/// `GET /api/users[?email=|?phone=|?cursor=&limit=]`.
pub async fn list(request: Request) -> Result<kit::Response, UsersError> {
    let query = request.uri().query().unwrap_or_default().to_owned();
    let pairs: Vec<_> = form_urlencoded::parse(query.as_bytes()).collect();
    let lookup = directory::parse_query(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))?;
    let (db, _) = caller_with(&request, Permission::UsersRead).await?;
    let page = match lookup {
        Lookup::Email(email) => Page { members: found(&db, ContactDomain::Email, &email).await?, next_cursor: None },
        Lookup::Phone(phone) => Page { members: found(&db, ContactDomain::Phone, &phone).await?, next_cursor: None },
        Lookup::Page { after, limit } => {
            let mut members = store::members_after(&db, after.as_ref().map(UserId::as_str), limit + 1).await?;
            let more = members.len() > usize::try_from(limit).unwrap_or_default();
            members.truncate(usize::try_from(limit).unwrap_or_default());
            let last = members.last().and_then(|m| UserId::parse(&m.user_id));
            let next_cursor = if more { last.as_ref().map(directory::encode_cursor) } else { None };
            Page { members, next_cursor }
        }
    };
    Ok(kit::json(200, &page))
}

/// `GET /api/users/:id`: the member and their live roles.
pub async fn get(request: Request, id: &str) -> Result<kit::Response, UsersError> {
    let user = UserId::parse(id).ok_or(UsersError::UserNotFound)?;
    let (db, _) = caller_with(&request, Permission::UsersRead).await?;
    let member = store::member(&db, user.as_str()).await?.ok_or(UsersError::UserNotFound)?;
    let roles = store::grants(&db, user.as_str()).await?.unwrap_or_default();
    Ok(kit::json(200, &Member { member, roles }))
}

/// The member (none or one) whose contact has this blind index.
async fn found(
    db: &spin_sdk::pg::Connection,
    domain: ContactDomain,
    value: &str,
) -> Result<Vec<MemberRow>, UsersError> {
    let indexed =
        kit::call("users", &BlindIndex { domain, value: value.to_owned() }).await.map_err(|e| match e.refusal() {
            Some((400, _)) => UsersError::Invalid(vottery_validate::ValidationError::InvalidField(format!(
                "`{}` is not valid",
                domain.as_str()
            ))),
            _ => UsersError::Dependency(format!("security {e}")),
        })?;
    let index =
        decode_base64url("index", &indexed.index, 64).map_err(|e| UsersError::Dependency(format!("security {e}")))?;
    Ok(store::member_by_index(db, domain, index).await?.into_iter().collect())
}
