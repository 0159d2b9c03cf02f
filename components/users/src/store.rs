//! The SQL of members' profiles. Sealed columns stay opaque here; the
//! service opens them with the member's data key.

use spin_sdk::pg::{Connection, DbValue, Decode, ParameterValue};
use vottery_component_kit as kit;
use vottery_component_kit::contracts::security::ContactDomain;
use vottery_users_core::UsersError;
use vottery_users_core::activity::Activity;
use vottery_users_core::demographics::Cell;
use vottery_users_core::history::{Entry, Position, Source};
use vottery_users_core::rights::AccountErasure;

use crate::demographics::Record;
use vottery_users_core::profile::{SngineNames, Times};

fn storage(e: impl std::fmt::Debug) -> UsersError {
    UsersError::Storage(format!("{e:?}"))
}

fn column<T: Decode>(row: &[DbValue], i: usize) -> Result<T, UsersError> {
    kit::pg::column(row, i).map_err(UsersError::Internal)
}

pub async fn open() -> Result<Connection, UsersError> {
    kit::pg::open().await.map_err(UsersError::Storage)
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
    /// Sngine's, `YYYY-MM-DD`: read for the age band, never kept.
    pub birth_date: Option<String>,
    /// As Sngine records it.
    pub gender: Option<String>,
}

/// One query: the account, its Sngine names (through the view) and the
/// profile row if there is one.
pub async fn profile(db: &Connection, user_id: &str) -> Result<Option<ProfileRow>, UsersError> {
    const SQL: &str = "SELECT a.sngine_user_id, a.email_sealed, a.phone_sealed, a.data_key_kid, \
         a.data_key_wrapped, s.username, s.first_name, s.last_name, p.sealed, coalesce(p.version, 0), \
         to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
         to_char(greatest(a.updated_at, p.updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
         s.birth_date::text, s.gender \
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
        birth_date: column(row, 12)?,
        gender: column(row, 13)?,
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

/// Records a report for the member (one INSERT); its id and time, or
/// `None` when the member has no account.
pub async fn record_activity(
    db: &Connection,
    user_id: &str,
    device_id: Option<&str>,
    activity: &Activity,
) -> Result<Option<(i64, String)>, UsersError> {
    const SQL: &str = "INSERT INTO users.activity (user_id, kind, occurred_at, device_id, details) \
         SELECT a.id, $2, coalesce(to_timestamp($3::bigint), now()), $4, $5 FROM users.accounts a \
         WHERE a.id = $1::text::uuid \
         RETURNING id, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";
    let params = vec![
        ParameterValue::Str(user_id.to_owned()),
        ParameterValue::Str(activity.kind.as_str().to_owned()),
        activity.at.map_or(ParameterValue::DbNull, ParameterValue::Int64),
        device_id.map_or(ParameterValue::DbNull, |d| ParameterValue::Str(d.to_owned())),
        ParameterValue::Jsonb(activity.details.clone().into_bytes()),
    ];
    let recorded = kit::pg::rows(db, SQL, params).await.map_err(storage)?;
    recorded.first().map(|row| Ok((column(row, 0)?, column(row, 1)?))).transpose()
}

/// The live grants' roles of a member (unrevoked, unexpired).
pub async fn live_roles(db: &Connection, user_id: &str) -> Result<Vec<String>, UsersError> {
    const SQL: &str = "SELECT role FROM users.role_grants WHERE user_id = $1::text::uuid AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > now()) ORDER BY role";
    let rows = kit::pg::rows(db, SQL, vec![ParameterValue::Str(user_id.to_owned())]).await.map_err(storage)?;
    rows.iter().map(|row| column(row, 0)).collect()
}

/// A live grant as the admin API shows it.
#[derive(serde::Serialize)]
pub struct Grant {
    pub role: String,
    pub granted_at: String,
    /// `None`: the operator's `vottery-admin`.
    pub granted_by: Option<String>,
    pub expires_at: Option<String>,
}

/// A member's live grants, or `None` when there is no such member.
pub async fn grants(db: &Connection, user_id: &str) -> Result<Option<Vec<Grant>>, UsersError> {
    const SQL: &str = "SELECT g.role, \
         to_char(g.granted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), g.granted_by::text, \
         to_char(g.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
         FROM users.accounts a LEFT JOIN users.role_grants g ON g.user_id = a.id AND g.revoked_at IS NULL \
         AND (g.expires_at IS NULL OR g.expires_at > now()) WHERE a.id = $1::text::uuid ORDER BY g.role";
    let rows = kit::pg::rows(db, SQL, vec![ParameterValue::Str(user_id.to_owned())]).await.map_err(storage)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for row in &rows {
        if let Some(role) = column::<Option<String>>(row, 0)? {
            out.push(Grant {
                role,
                granted_at: column(row, 1)?,
                granted_by: column(row, 2)?,
                expires_at: column(row, 3)?,
            });
        }
    }
    Ok(Some(out))
}

/// Grants `role` to `user_id` (renewing an unrevoked grant), with its
/// `role.granted` audit row in the same statement; `false` when there is no
/// such member.
pub async fn grant(
    db: &Connection,
    by: &str,
    user_id: &str,
    role: &str,
    expires_at: Option<i64>,
) -> Result<bool, UsersError> {
    const SQL: &str = "WITH a AS (SELECT id FROM users.accounts WHERE id = $2::text::uuid), \
         g AS (INSERT INTO users.role_grants (user_id, role, granted_by, expires_at) \
             SELECT id, $3, $1::text::uuid, to_timestamp($4::bigint) FROM a \
             ON CONFLICT (user_id, role) WHERE revoked_at IS NULL DO UPDATE SET granted_by = EXCLUDED.granted_by, \
             granted_at = now(), expires_at = EXCLUDED.expires_at RETURNING user_id) \
         SELECT audit.append('member:' || $1::text, 'role.granted', g.user_id::text, 'ok', \
             jsonb_build_object('role', $3::text, 'expires_at', $4::bigint))::text FROM g";
    let params = vec![
        ParameterValue::Str(by.to_owned()),
        ParameterValue::Str(user_id.to_owned()),
        ParameterValue::Str(role.to_owned()),
        expires_at.map_or(ParameterValue::DbNull, ParameterValue::Int64),
    ];
    Ok(!kit::pg::rows(db, SQL, params).await.map_err(storage)?.is_empty())
}

/// How many members hold `role` now.
pub async fn holders(db: &Connection, role: &str) -> Result<i64, UsersError> {
    const SQL: &str = "SELECT count(*) FROM users.role_grants WHERE role = $1 AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > now())";
    let rows = kit::pg::rows(db, SQL, vec![ParameterValue::Str(role.to_owned())]).await.map_err(storage)?;
    rows.first().map(|row| column(row, 0)).transpose().map(Option::unwrap_or_default)
}

/// Revokes `role` from `user_id` with its `role.revoked` audit row, in one
/// statement that also keeps the last live `user_admin`: the role's live
/// grants are locked first, so of two revocations racing for the last two
/// holders the second sees one left and revokes nothing. `false` when
/// nothing was revoked.
pub async fn revoke(db: &Connection, by: &str, user_id: &str, role: &str) -> Result<bool, UsersError> {
    const SQL: &str = "WITH live AS (SELECT id FROM users.role_grants WHERE role = $3 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > now()) FOR UPDATE), \
         holders AS (SELECT count(*) AS n FROM live), \
         r AS (UPDATE users.role_grants SET revoked_at = now(), revoked_by = $1::text::uuid \
             WHERE user_id = $2::text::uuid AND role = $3 AND revoked_at IS NULL \
             AND ($3 <> 'user_admin' OR (SELECT n FROM holders) > 1) RETURNING user_id) \
         SELECT audit.append('member:' || $1::text, 'role.revoked', r.user_id::text, 'ok', \
             jsonb_build_object('role', $3::text))::text FROM r";
    let params = vec![
        ParameterValue::Str(by.to_owned()),
        ParameterValue::Str(user_id.to_owned()),
        ParameterValue::Str(role.to_owned()),
    ];
    Ok(!kit::pg::rows(db, SQL, params).await.map_err(storage)?.is_empty())
}

fn record_params(user_id: &str, record: &Record) -> Vec<ParameterValue> {
    let text = |v: Option<&str>| v.map_or(ParameterValue::DbNull, |t| ParameterValue::Str(t.to_owned()));
    vec![
        ParameterValue::Str(user_id.to_owned()),
        text(record.age_band),
        text(record.gender.as_deref()),
        text(record.country.as_deref()),
        text(record.region.as_deref()),
        text(record.language.as_deref()),
    ]
}

/// A consenting member's kept record brought up to date; when they
/// consented, or `None` when they have not (nothing is written).
pub async fn refresh_demographics(
    db: &Connection,
    user_id: &str,
    record: &Record,
) -> Result<Option<String>, UsersError> {
    const SQL: &str = "UPDATE users.demographic_records SET age_band = $2, gender = $3, country = $4, region = $5, \
         language = $6, updated_at = now() WHERE user_id = $1::text::uuid \
         RETURNING to_char(consented_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";
    let rows = kit::pg::rows(db, SQL, record_params(user_id, record)).await.map_err(storage)?;
    rows.first().map(|row| column(row, 0)).transpose()
}

/// Consent given (or renewed): the record kept, with its
/// `demographics.consented` audit row in the same statement; when.
pub async fn consent_demographics(db: &Connection, user_id: &str, record: &Record) -> Result<String, UsersError> {
    const SQL: &str = "WITH r AS (INSERT INTO users.demographic_records \
             (user_id, age_band, gender, country, region, language) VALUES ($1::text::uuid, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id) DO UPDATE SET age_band = EXCLUDED.age_band, gender = EXCLUDED.gender, \
             country = EXCLUDED.country, region = EXCLUDED.region, language = EXCLUDED.language, updated_at = now() \
             RETURNING consented_at) \
         SELECT to_char(r.consented_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
             audit.append('member:' || $1::text, 'demographics.consented', $1::text, 'ok', '{}'::jsonb)::text FROM r";
    let rows = kit::pg::rows(db, SQL, record_params(user_id, record)).await.map_err(storage)?;
    let row = rows.first().ok_or(UsersError::UserNotFound)?;
    column(row, 0)
}

/// Consent withdrawn: the record deleted, with its `demographics.withdrawn`
/// audit row (written whether or not there was a record).
pub async fn withdraw_demographics(db: &Connection, user_id: &str) -> Result<(), UsersError> {
    const SQL: &str = "WITH d AS (DELETE FROM users.demographic_records WHERE user_id = $1::text::uuid RETURNING 1) \
         SELECT audit.append('member:' || $1::text, 'demographics.withdrawn', $1::text, 'ok', \
             jsonb_build_object('had_record', (SELECT count(*) FROM d) > 0))::text";
    kit::pg::rows(db, SQL, vec![ParameterValue::Str(user_id.to_owned())]).await.map_err(storage)?;
    Ok(())
}

/// Consenting members counted by age band, gender and country.
pub async fn demographic_cells(db: &Connection) -> Result<Vec<Cell>, UsersError> {
    const SQL: &str = "SELECT age_band, gender, country, count(*) FROM users.demographic_records \
         GROUP BY age_band, gender, country ORDER BY age_band, gender, country";
    let rows = kit::pg::rows(db, SQL, Vec::new()).await.map_err(storage)?;
    rows.iter()
        .map(|row| {
            let members: i64 = column(row, 3)?;
            Ok(Cell {
                age_band: column(row, 0)?,
                gender: column(row, 1)?,
                country: column(row, 2)?,
                members: u64::try_from(members).unwrap_or_default(),
            })
        })
        .collect()
}

/// A member as the directory shows them.
#[derive(serde::Serialize)]
pub struct MemberRow {
    pub user_id: String,
    pub sngine_user_id: i64,
    pub username: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

fn member_row(row: &[DbValue]) -> Result<MemberRow, UsersError> {
    Ok(MemberRow {
        user_id: column(row, 0)?,
        sngine_user_id: column(row, 1)?,
        username: column(row, 2)?,
        created_at: column(row, 3)?,
        updated_at: column(row, 4)?,
    })
}

/// Up to `limit` members after `after`, in id order.
pub async fn members_after(db: &Connection, after: Option<&str>, limit: i64) -> Result<Vec<MemberRow>, UsersError> {
    const SQL: &str = "SELECT user_id, sngine_user_id, username, created_at, updated_at FROM users.directory \
         WHERE $1::text IS NULL OR id > $1::text::uuid ORDER BY id LIMIT $2";
    let after = after.map_or(ParameterValue::DbNull, |a| ParameterValue::Str(a.to_owned()));
    let rows = kit::pg::rows(db, SQL, vec![after, ParameterValue::Int64(limit)]).await.map_err(storage)?;
    rows.iter().map(|row| member_row(row)).collect()
}

/// One member by id.
pub async fn member(db: &Connection, user_id: &str) -> Result<Option<MemberRow>, UsersError> {
    const SQL: &str = "SELECT user_id, sngine_user_id, username, created_at, updated_at FROM users.directory \
         WHERE id = $1::text::uuid";
    let rows = kit::pg::rows(db, SQL, vec![ParameterValue::Str(user_id.to_owned())]).await.map_err(storage)?;
    rows.first().map(|row| member_row(row)).transpose()
}

/// The member whose email (or phone) has this blind index.
pub async fn member_by_index(
    db: &Connection,
    domain: ContactDomain,
    index: Vec<u8>,
) -> Result<Option<MemberRow>, UsersError> {
    const BY_EMAIL: &str = "SELECT user_id, sngine_user_id, username, created_at, updated_at FROM users.directory \
         WHERE email_index = $1";
    const BY_PHONE: &str = "SELECT user_id, sngine_user_id, username, created_at, updated_at FROM users.directory \
         WHERE phone_index = $1";
    let sql = if domain == ContactDomain::Phone { BY_PHONE } else { BY_EMAIL };
    let rows = kit::pg::rows(db, sql, vec![ParameterValue::Binary(index)]).await.map_err(storage)?;
    rows.first().map(|row| member_row(row)).transpose()
}

/// Up to `limit` of the member's reports after `bound` (microseconds, id),
/// newest first.
pub async fn reported(
    db: &Connection,
    user_id: &str,
    bound: Option<(i64, i64)>,
    limit: i64,
) -> Result<Vec<Entry>, UsersError> {
    const SQL: &str = "SELECT id, (extract(epoch FROM occurred_at) * 1000000)::bigint, kind, \
         to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), device_id, details::text \
         FROM users.activity WHERE user_id = $1::text::uuid AND ($2::bigint IS NULL \
         OR (extract(epoch FROM occurred_at) * 1000000)::bigint < $2::bigint \
         OR ((extract(epoch FROM occurred_at) * 1000000)::bigint = $2::bigint AND id < $3)) \
         ORDER BY occurred_at DESC, id DESC LIMIT $4";
    let rows = kit::pg::rows(db, SQL, history_params(user_id, bound, limit)).await.map_err(storage)?;
    rows.iter().map(|row| entry(row, Source::Frontend, column(row, 4)?)).collect()
}

/// Up to `limit` of the member's security events after `bound`, newest
/// first (`audit.member_events`).
pub async fn security_events(
    db: &Connection,
    user_id: &str,
    bound: Option<(i64, i64)>,
    limit: i64,
) -> Result<Vec<Entry>, UsersError> {
    const SQL: &str = "SELECT id, at_us, action, at_text, detail->>'device_id', \
         (jsonb_build_object('outcome', outcome) || detail)::text \
         FROM audit.member_events($1::text::uuid, $2::bigint, $3::bigint, $4::bigint::integer)";
    let rows = kit::pg::rows(db, SQL, history_params(user_id, bound, limit)).await.map_err(storage)?;
    rows.iter().map(|row| entry(row, Source::Security, column(row, 4)?)).collect()
}

fn history_params(user_id: &str, bound: Option<(i64, i64)>, limit: i64) -> Vec<ParameterValue> {
    let (at, id) = bound.map_or((ParameterValue::DbNull, ParameterValue::DbNull), |(at, id)| {
        (ParameterValue::Int64(at), ParameterValue::Int64(id))
    });
    vec![ParameterValue::Str(user_id.to_owned()), at, id, ParameterValue::Int64(limit)]
}

fn entry(row: &[DbValue], source: Source, device_id: Option<String>) -> Result<Entry, UsersError> {
    let details: String = column(row, 5)?;
    Ok(Entry {
        position: Position { at: column(row, 1)?, source, id: column(row, 0)? },
        source,
        kind: column(row, 2)?,
        at: column(row, 3)?,
        device_id,
        details: serde_json::from_str(&details).map_err(|e| UsersError::Internal(e.to_string()))?,
    })
}

/// The member's grants, live and past, and their kept demographic record
/// (`null` without consent), each as JSON, in one query.
pub async fn held_records(
    db: &Connection,
    user_id: &str,
) -> Result<(serde_json::Value, serde_json::Value), UsersError> {
    const SQL: &str = "SELECT (SELECT coalesce(jsonb_agg(jsonb_build_object('role', role, \
             'granted_at', to_char(granted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
             'granted_by', granted_by, \
             'expires_at', to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
             'revoked_at', to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
             'revoked_by', revoked_by) ORDER BY granted_at, role), '[]'::jsonb) \
             FROM users.role_grants WHERE user_id = $1::text::uuid)::text, \
         (SELECT jsonb_build_object('age_band', age_band, 'gender', gender, 'country', country, \
             'region', region, 'language', language, \
             'consented_at', to_char(consented_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
             'updated_at', to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) \
             FROM users.demographic_records WHERE user_id = $1::text::uuid)::text";
    let rows = kit::pg::rows(db, SQL, vec![ParameterValue::Str(user_id.to_owned())]).await.map_err(storage)?;
    let row = rows.first().ok_or_else(|| UsersError::Storage("the export query answered no row".into()))?;
    let json = |text: Option<String>| match text {
        Some(text) => serde_json::from_str(&text).map_err(|e| UsersError::Internal(e.to_string())),
        None => Ok(serde_json::Value::Null),
    };
    Ok((json(column(row, 0)?)?, json(column(row, 1)?)?))
}

/// Whether the member still has an account (an erasure has not begun).
pub async fn has_account(db: &Connection, user_id: &str) -> Result<bool, UsersError> {
    const SQL: &str = "SELECT 1 FROM users.accounts WHERE id = $1::text::uuid";
    let rows = kit::pg::rows(db, SQL, vec![ParameterValue::Str(user_id.to_owned())]).await.map_err(storage)?;
    Ok(!rows.is_empty())
}

/// The member's account deleted, and with it (cascade) their sealed
/// contacts, wrapped data key, profile, grants, demographic record and
/// reports, with the `member.erased` audit row, in one statement; refused
/// for the last live `user_admin` (whose grants are locked as a revocation
/// locks them).
pub async fn erase_account(db: &Connection, user_id: &str) -> Result<AccountErasure, UsersError> {
    const SQL: &str = "WITH target AS (SELECT id FROM users.accounts WHERE id = $1::text::uuid FOR UPDATE), \
         admins AS (SELECT user_id FROM users.role_grants WHERE role = 'user_admin' AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > now()) FOR UPDATE), \
         blocked AS (SELECT 1 WHERE EXISTS (SELECT 1 FROM admins WHERE user_id = $1::text::uuid) \
             AND (SELECT count(DISTINCT user_id) FROM admins) <= 1), \
         gone AS (DELETE FROM users.accounts WHERE id IN (SELECT id FROM target) \
             AND NOT EXISTS (SELECT 1 FROM blocked) RETURNING id), \
         logged AS (SELECT audit.append('member:' || $1::text, 'member.erased', $1::text, 'ok', '{}'::jsonb) FROM gone) \
         SELECT (SELECT count(*) FROM target), (SELECT count(*) FROM blocked), (SELECT count(*) FROM logged)";
    let rows = kit::pg::rows(db, SQL, vec![ParameterValue::Str(user_id.to_owned())]).await.map_err(storage)?;
    let row = rows.first().ok_or_else(|| UsersError::Storage("the erasure answered no row".into()))?;
    Ok(AccountErasure::from_counts(column(row, 0)?, column(row, 1)?, column(row, 2)?))
}
