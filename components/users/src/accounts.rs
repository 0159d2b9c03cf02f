//! The contact match against Sngine's accounts (through the
//! `users.sngine_accounts` view) and Vottery's own user row.

use spin_sdk::pg::{Connection, DbValue, Decode, ParameterValue};
use vottery_component_kit::contracts::security::{BlindIndex, ContactDomain, NewDataKey};
use vottery_component_kit::contracts::users::{Link, Linked, Match, Matched};
use vottery_component_kit::crypto::aead;
use vottery_component_kit::{self as kit, ChainError};
use vottery_users_core::{Candidate, MatchOutcome, UsersError, match_account};
use vottery_validate::{Email, PhoneE164, decode_base64url};

fn storage(e: impl std::fmt::Debug) -> UsersError {
    UsersError::Storage(format!("{e:?}"))
}

fn dependency(e: ChainError) -> UsersError {
    UsersError::Dependency(format!("security {e}"))
}

fn column<T: Decode>(row: &[DbValue], i: usize) -> Result<T, UsersError> {
    vottery_component_kit::pg::column(row, i).map_err(UsersError::Internal)
}

async fn rows(db: &Connection, sql: &str, params: Vec<ParameterValue>) -> Result<Vec<Vec<DbValue>>, UsersError> {
    kit::pg::rows(db, sql, params).await.map_err(storage)
}

/// The outcome of matching the pair against Sngine's accounts.
async fn find(db: &Connection, email: &Email, phone: &PhoneE164) -> Result<MatchOutcome, UsersError> {
    let found = rows(
        db,
        "SELECT sngine_user_id, phone, coalesce(activated, false), coalesce(banned, true) \
         FROM users.sngine_accounts WHERE lower(email) = $1",
        vec![ParameterValue::Str(email.as_str().to_owned())],
    )
    .await?;
    let candidates = found
        .iter()
        .map(|row| {
            Ok(Candidate {
                sngine_user_id: column(row, 0)?,
                phone: column(row, 1)?,
                activated: column(row, 2)?,
                banned: column(row, 3)?,
            })
        })
        .collect::<Result<Vec<_>, UsersError>>()?;
    Ok(match_account(phone, &candidates))
}

async fn open() -> Result<Connection, UsersError> {
    crate::store::open().await
}

/// `POST /internal/match`: whether the pair belongs to one active Sngine
/// account (one indexed query; nothing is written).
pub async fn match_contacts(body: Match) -> Result<kit::Response, UsersError> {
    // `auth` checked the number against its country's plan already.
    let (email, phone) = (Email::parse(&body.email)?, PhoneE164::from_checked_e164(&body.phone)?);
    let outcome = find(&open().await?, &email, &phone).await?;
    let sngine_user_id = match outcome {
        MatchOutcome::Matched(id) => Some(id),
        _ => None,
    };
    let reply = Matched { matched: sngine_user_id.is_some(), reason: outcome.reason().to_owned(), sngine_user_id };
    Ok(kit::json(200, &reply))
}

/// `POST /internal/link`: once the visitor has proved both contacts,
/// Vottery's user for their Sngine account (matched again, so a pair that
/// stopped matching is refused), created or refreshed.
pub async fn link_contacts(body: Link) -> Result<kit::Response, UsersError> {
    let (email, phone) = (Email::parse(&body.email)?, PhoneE164::parse(&body.phone, None)?);
    let db = open().await?;
    let outcome = find(&db, &email, &phone).await?;
    let MatchOutcome::Matched(sngine_user_id) = outcome else {
        return Err(UsersError::NotMatched(outcome.reason()));
    };
    let user_id = link(&db, sngine_user_id, &email, &phone).await?;
    Ok(kit::json(200, &Linked { user_id, sngine_user_id }))
}

async fn blind_index(domain: ContactDomain, value: &str) -> Result<Vec<u8>, UsersError> {
    let request = BlindIndex { domain, value: value.to_owned() };
    let indexed = kit::call("users", &request).await.map_err(dependency)?;
    decode_base64url("index", &indexed.index, 64).map_err(|e| UsersError::Dependency(format!("security {e}")))
}

/// Vottery's user for a Sngine account: found by the Sngine id, its
/// indexes and sealed contacts rewritten when the contacts changed.
async fn link(db: &Connection, sngine_user_id: i64, email: &Email, phone: &PhoneE164) -> Result<String, UsersError> {
    let (email_index, phone_index) = futures::future::join(
        blind_index(ContactDomain::Email, email.as_str()),
        blind_index(ContactDomain::Phone, phone.as_str()),
    )
    .await;
    let (email_index, phone_index) = (email_index?, phone_index?);
    let existing = rows(
        db,
        "SELECT id::text, email_index, phone_index FROM users.accounts WHERE sngine_user_id = $1",
        vec![ParameterValue::Int64(sngine_user_id)],
    )
    .await?;
    if let Some(row) = existing.first()
        && column::<Vec<u8>>(row, 1)? == email_index
        && column::<Vec<u8>>(row, 2)? == phone_index
    {
        return column(row, 0);
    }
    let key = kit::call("users", &NewDataKey {}).await.map_err(dependency)?;
    let malformed = |e: vottery_validate::ValidationError| UsersError::Dependency(format!("security {e}"));
    let data_key = zeroize::Zeroizing::new(decode_base64url("data_key", &key.data_key, 64).map_err(malformed)?);
    let wrapped = decode_base64url("wrapped_key", &key.wrapped_key, 256).map_err(malformed)?;
    let kid = key.kid;
    let seal = |field: &str, value: &str| {
        aead::seal(&data_key, format!("users.accounts\0{sngine_user_id}\0{field}").as_bytes(), value.as_bytes())
            .map_err(|e| UsersError::Internal(format!("{e:?}")))
    };
    let (email_sealed, phone_sealed) = (seal("email", email.as_str())?, seal("phone", phone.as_str())?);
    let inserted = rows(
        db,
        "INSERT INTO users.accounts (sngine_user_id, email_index, phone_index, email_sealed, phone_sealed, \
         data_key_kid, data_key_wrapped) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (sngine_user_id) DO UPDATE SET email_index = $2, phone_index = $3, email_sealed = $4, \
         phone_sealed = $5, data_key_kid = $6, data_key_wrapped = $7, updated_at = now() RETURNING id::text",
        vec![
            ParameterValue::Int64(sngine_user_id),
            ParameterValue::Binary(email_index),
            ParameterValue::Binary(phone_index),
            ParameterValue::Binary(email_sealed),
            ParameterValue::Binary(phone_sealed),
            ParameterValue::Str(kid),
            ParameterValue::Binary(wrapped),
        ],
    )
    .await?;
    let row = inserted.first().ok_or_else(|| UsersError::Internal("the upsert returned no row".into()))?;
    column(row, 0)
}
