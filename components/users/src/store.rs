//! The SQL of members' profiles. Sealed columns stay opaque here; the
//! service opens them with the member's data key.

use spin_sdk::pg::{Connection, DbValue, Decode, ParameterValue};
use vottery_component_kit as kit;
use vottery_users_core::UsersError;
use vottery_users_core::profile::{SngineNames, Times};

fn storage(e: impl std::fmt::Debug) -> UsersError {
    UsersError::Storage(format!("{e:?}"))
}

fn column<T: Decode>(row: &[DbValue], i: usize) -> Result<T, UsersError> {
    kit::pg::column(row, i).map_err(UsersError::Internal)
}

pub async fn open() -> Result<Connection, UsersError> {
    let address = kit::variable("pg_url").await.ok_or_else(|| UsersError::Storage("pg_url is not set".into()))?;
    Connection::open(address).await.map_err(storage)
}

/// The member's data key as `users.accounts` keeps it: wrapped by the
/// security service's key `kid`.
pub struct WrappedKey {
    pub kid: String,
    pub wrapped: Vec<u8>,
}

/// Everything a profile's representation is made of, sealed parts sealed.
pub struct ProfileRow {
    pub sngine_user_id: i64,
    pub email_sealed: Vec<u8>,
    pub phone_sealed: Vec<u8>,
    pub key: WrappedKey,
    pub sngine: SngineNames,
    /// The member's own fields, sealed; `None` before their first edit.
    pub own_sealed: Option<Vec<u8>>,
    /// 0 before the first edit.
    pub version: i64,
    pub times: Times,
}

/// One query: the account, its Sngine names (through the view) and the
/// profile row if there is one.
pub async fn profile(db: &Connection, user_id: &str) -> Result<Option<ProfileRow>, UsersError> {
    const SQL: &str = "SELECT a.sngine_user_id, a.email_sealed, a.phone_sealed, a.data_key_kid, \
         a.data_key_wrapped, s.username, s.first_name, s.last_name, p.sealed, coalesce(p.version, 0), \
         to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
         to_char(greatest(a.updated_at, p.updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
         FROM users.accounts a \
         LEFT JOIN users.sngine_accounts s ON s.sngine_user_id = a.sngine_user_id \
         LEFT JOIN users.profiles p ON p.user_id = a.id \
         WHERE a.id = $1::text::uuid";
    let found = kit::pg::rows(db, SQL, vec![ParameterValue::Str(user_id.to_owned())]).await.map_err(storage)?;
    let Some(row) = found.first() else {
        return Ok(None);
    };
    Ok(Some(ProfileRow {
        sngine_user_id: column(row, 0)?,
        email_sealed: column(row, 1)?,
        phone_sealed: column(row, 2)?,
        key: WrappedKey { kid: column(row, 3)?, wrapped: column(row, 4)? },
        sngine: SngineNames { username: column(row, 5)?, first_name: column(row, 6)?, last_name: column(row, 7)? },
        own_sealed: column(row, 8)?,
        version: column(row, 9)?,
        times: Times { created_at: column(row, 10)?, updated_at: column(row, 11)? },
    }))
}

/// The member's new own fields, written only if the profile is still at
/// `version` (0: no row yet), with the `profile.updated` audit row in the
/// same statement. The new update time, or `None` when another write came
/// first.
pub async fn replace_profile(
    db: &Connection,
    user_id: &str,
    sealed: Vec<u8>,
    version: i64,
    changed: &[&str],
) -> Result<Option<String>, UsersError> {
    const SQL: &str = "WITH p AS (INSERT INTO users.profiles (user_id, sealed, version) VALUES ($1::text::uuid, $2, 1) \
         ON CONFLICT (user_id) DO UPDATE SET sealed = EXCLUDED.sealed, version = users.profiles.version + 1, \
         updated_at = now() WHERE users.profiles.version = $3 RETURNING updated_at) \
         SELECT to_char(greatest(p.updated_at, a.updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
         audit.append('member:' || $1::text, 'profile.updated', $1::text, 'ok', $4)::text \
         FROM p, users.accounts a WHERE a.id = $1::text::uuid";
    let detail = serde_json::json!({ "fields": changed }).to_string();
    let params = vec![
        ParameterValue::Str(user_id.to_owned()),
        ParameterValue::Binary(sealed),
        ParameterValue::Int64(version),
        ParameterValue::Jsonb(detail.into_bytes()),
    ];
    let written = kit::pg::rows(db, SQL, params).await.map_err(storage)?;
    written.first().map(|row| column(row, 0)).transpose()
}
