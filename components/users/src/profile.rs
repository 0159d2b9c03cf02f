//! `GET` and `PUT /api/users/profile`: the member's profile, read with one
//! query and one call to `security` (the member's data key), opened here.
//! A `PUT` adds one conditional write that carries its audit row.

use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH};
use spin_sdk::http::Request;
use vottery_component_kit::contracts::security::UnwrapDataKey;
use vottery_component_kit::crypto::aead;
use vottery_component_kit::{self as kit};
use vottery_http::etag;
use vottery_users_core::profile::{self, OwnFields, Precondition, ProfileBody, ProfileView};
use vottery_users_core::{UserId, UsersError};
use vottery_validate::{Email, PhoneE164, decode_base64url, encode_base64url};

use crate::store::{self, ProfileRow, WrappedKey};

/// The body limit of a profile edit.
const MAX_PROFILE_BODY: usize = 4 * 1024;

/// The member the gateway verified (`vottery-user`, from the token's `sub`).
pub fn member(request: &Request) -> Result<UserId, UsersError> {
    let header = request.headers().get("vottery-user").and_then(|v| v.to_str().ok());
    header.and_then(UserId::parse).ok_or(UsersError::TokenMissing)
}

/// `GET /api/users/profile`: 200 with a strong ETag, or 304 when the
/// client's copy (`If-None-Match`) is current.
pub async fn get(request: Request) -> Result<kit::Response, UsersError> {
    let user = member(&request)?;
    let (row, key) = load(&user).await?;
    let own = own_fields(&user, &row, &key)?;
    let body = representation(&user, &row, &key, &own)?;
    let tag = profile::etag(body.as_bytes());
    let current = request.headers().get_all(IF_NONE_MATCH).iter().any(|v| etag::none_match(v.as_bytes(), &tag));
    Ok(answer(if current { 304 } else { 200 }, &tag, if current { String::new() } else { body }))
}

/// `PUT /api/users/profile`: replaces the member's own fields when
/// `If-Match` names the current representation.
pub async fn put(request: Request) -> Result<kit::Response, UsersError> {
    let user = member(&request)?;
    let conditions: Vec<Vec<u8>> = request.headers().get_all(IF_MATCH).iter().map(|v| v.as_bytes().to_vec()).collect();
    if conditions.is_empty() {
        return Err(UsersError::PreconditionRequired);
    }
    let edit = OwnFields::parse(json_object::<ProfileBody>(request, MAX_PROFILE_BODY).await?)?;
    let (mut row, key) = load(&user).await?;
    let before = own_fields(&user, &row, &key)?;
    let current = profile::etag(representation(&user, &row, &key, &before)?.as_bytes());
    let fields: Vec<&[u8]> = conditions.iter().map(Vec::as_slice).collect();
    profile::check_if_match(&fields, &current).map_err(|p| match p {
        Precondition::Missing => UsersError::PreconditionRequired,
        Precondition::Failed => UsersError::PreconditionFailed,
    })?;
    let sealed = seal_own(&user, &key, &edit)?;
    let db = store::open().await?;
    let written = store::replace_profile(&db, user.as_str(), sealed, row.version, &edit.changed_from(&before)).await?;
    row.times.updated_at = written.ok_or(UsersError::PreconditionFailed)?;
    let body = representation(&user, &row, &key, &edit)?;
    Ok(answer(200, &profile::etag(body.as_bytes()), body))
}

/// The body as a JSON object (serde would take an array for a struct, field
/// by position), then strictly as `T`.
pub async fn json_object<T: serde::de::DeserializeOwned>(request: Request, limit: usize) -> Result<T, UsersError> {
    let object = kit::json_body::<serde_json::Map<String, serde_json::Value>>(request, limit).await?;
    let bytes = serde_json::to_vec(&object).map_err(|e| UsersError::Internal(e.to_string()))?;
    Ok(vottery_validate::parse_json::<T>(&bytes, limit)?)
}

/// The member's row and their own fields, opened.
pub async fn profile_with_key(user: &UserId) -> Result<(ProfileRow, OwnFields), UsersError> {
    let (row, key) = load(user).await?;
    let own = own_fields(user, &row, &key)?;
    Ok((row, own))
}

/// The member's row and their data key, opened.
async fn load(user: &UserId) -> Result<(ProfileRow, DataKey), UsersError> {
    let db = store::open().await?;
    let row = store::profile(&db, user.as_str()).await?.ok_or(UsersError::UserNotFound)?;
    let key = match cached_key(&row.key) {
        Some(key) => key,
        None => {
            let key = unwrap_key(&row.key).await?;
            keep_key(&row.key, &key);
            key
        }
    };
    Ok((row, key))
}

fn answer(status: u16, tag: &str, body: String) -> kit::Response {
    let mut builder =
        http::Response::builder().status(status).header(ETAG, tag).header(CACHE_CONTROL, "private, no-cache");
    if status == 200 {
        builder = builder.header(CONTENT_TYPE, "application/json");
    }
    builder.body(body).unwrap_or_else(|e| kit::problem(&UsersError::Internal(e.to_string()).problem()))
}

fn representation(user: &UserId, row: &ProfileRow, key: &DataKey, own: &OwnFields) -> Result<String, UsersError> {
    let (email, phone) = contacts(row, key)?;
    let view = ProfileView::assemble(user.as_str(), own, &row.sngine, (&email, &phone), row.times.clone());
    serde_json::to_string(&view).map_err(|e| UsersError::Internal(e.to_string()))
}

fn contacts(row: &ProfileRow, key: &DataKey) -> Result<(Email, PhoneE164), UsersError> {
    let email = Email::parse(&open_text(key, &contact_aad(row, "email"), &row.email_sealed)?)?;
    let phone = PhoneE164::from_checked_e164(&open_text(key, &contact_aad(row, "phone"), &row.phone_sealed)?)?;
    Ok((email, phone))
}

/// The profile as the member sees it, with their contacts in clear and
/// the Sngine account it is linked to: their export's part of it.
#[derive(serde::Serialize)]
pub struct HeldProfile {
    pub sngine_user_id: i64,
    pub profile: ProfileView,
    pub email: String,
    pub phone: String,
}

pub async fn held(user: &UserId) -> Result<HeldProfile, UsersError> {
    let (row, key) = load(user).await?;
    let own = own_fields(user, &row, &key)?;
    let (email, phone) = contacts(&row, &key)?;
    let profile = ProfileView::assemble(user.as_str(), &own, &row.sngine, (&email, &phone), row.times.clone());
    let (email, phone) = (email.as_str().to_owned(), phone.as_str().to_owned());
    Ok(HeldProfile { sngine_user_id: row.sngine_user_id, profile, email, phone })
}

/// The associated data the contacts were sealed with (see `accounts`).
fn contact_aad(row: &ProfileRow, field: &str) -> Vec<u8> {
    format!("users.accounts\0{}\0{field}", row.sngine_user_id).into_bytes()
}

fn own_aad(user: &UserId) -> Vec<u8> {
    format!("users.profiles\0{}", user.as_str()).into_bytes()
}

fn own_fields(user: &UserId, row: &ProfileRow, key: &DataKey) -> Result<OwnFields, UsersError> {
    match &row.own_sealed {
        None => Ok(OwnFields::default()),
        Some(sealed) => serde_json::from_slice(&open(key, &own_aad(user), sealed)?)
            .map_err(|e| UsersError::Internal(format!("the sealed profile does not parse: {e}"))),
    }
}

fn seal_own(user: &UserId, key: &DataKey, own: &OwnFields) -> Result<Vec<u8>, UsersError> {
    let clear = zeroize::Zeroizing::new(serde_json::to_vec(own).map_err(|e| UsersError::Internal(e.to_string()))?);
    aead::seal(key, &own_aad(user), &clear).map_err(|e| UsersError::Internal(format!("sealing: {e:?}")))
}

fn open(key: &DataKey, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, UsersError> {
    aead::open(key, sealed, aad).map_err(|e| UsersError::Internal(format!("opening a sealed field: {e:?}")))
}

fn open_text(key: &DataKey, aad: &[u8], sealed: &[u8]) -> Result<String, UsersError> {
    String::from_utf8(open(key, aad, sealed)?).map_err(|_| UsersError::Internal("a sealed field is not UTF-8".into()))
}

/// A member's data key in clear, zeroed when dropped.
type DataKey = zeroize::Zeroizing<Vec<u8>>;

/// How long an instance keeps a member's unwrapped data key, in seconds,
/// and for how many members at most. A reused instance then reads a
/// profile without the call to `security`; a key is never kept longer than
/// this after its wrapped form stops being read (a member's erasure, which
/// destroys the wrapped key, is complete for every instance within it).
const KEY_CACHE_SECONDS: i64 = 60;
const KEY_CACHE_ENTRIES: usize = 1024;

struct CachedKey {
    wrapped: Vec<u8>,
    key: DataKey,
    until: i64,
}

thread_local! {
    static KEYS: std::cell::RefCell<Vec<CachedKey>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn cached_key(wrapped: &WrappedKey) -> Option<DataKey> {
    let now = kit::now();
    KEYS.with_borrow_mut(|keys| {
        keys.retain(|k| k.until > now);
        keys.iter().find(|k| k.wrapped == wrapped.wrapped).map(|k| k.key.clone())
    })
}

fn keep_key(wrapped: &WrappedKey, key: &DataKey) {
    KEYS.with_borrow_mut(|keys| {
        if keys.len() >= KEY_CACHE_ENTRIES {
            keys.remove(0);
        }
        keys.push(CachedKey {
            wrapped: wrapped.wrapped.clone(),
            key: key.clone(),
            until: kit::now() + KEY_CACHE_SECONDS,
        });
    })
}

/// `security` unwraps the member's data key (its key-encryption key never
/// leaves that service). A malformed answer is an error, never a default.
async fn unwrap_key(key: &WrappedKey) -> Result<DataKey, UsersError> {
    let request = UnwrapDataKey { kid: key.kid.clone(), wrapped_key: encode_base64url(&key.wrapped) };
    let answer = kit::call("users", &request).await.map_err(|e| UsersError::Dependency(format!("security {e}")))?;
    let bytes = decode_base64url("data_key", &answer.data_key, 64)
        .map_err(|e| UsersError::Dependency(format!("security answered a malformed data key: {e}")))?;
    Ok(zeroize::Zeroizing::new(bytes))
}
