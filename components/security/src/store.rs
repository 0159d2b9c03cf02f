//! `security.keys` and the audit log over `spin:postgres`, as the
//! `vottery_security` role.

use serde_json::Value;
use spin_sdk::pg::{Connection, DbValue, Decode, Error, ParameterValue, PgError, QueryError};
use vottery_security_core::audit::Heads;
use vottery_security_core::{KeyAlgorithm, KeyRecord, KeyState, Purpose, Rotation, SecurityError};

/// The keys of a purpose, oldest first; every key; one key. Each reads the
/// columns `record` decodes, in its order.
const KEYS_OF_PURPOSE: &str = "SELECT kid, purpose, version, algorithm, state, public_key, wrapped_private, \
     master_key_id, extract(epoch FROM created_at)::bigint, extract(epoch FROM retiring_at)::bigint, \
     extract(epoch FROM retired_at)::bigint, extract(epoch FROM destroyed_at)::bigint \
     FROM security.keys WHERE purpose = $1 ORDER BY version";
const ALL_KEYS: &str = "SELECT kid, purpose, version, algorithm, state, public_key, wrapped_private, \
     master_key_id, extract(epoch FROM created_at)::bigint, extract(epoch FROM retiring_at)::bigint, \
     extract(epoch FROM retired_at)::bigint, extract(epoch FROM destroyed_at)::bigint \
     FROM security.keys ORDER BY purpose, version";
const KEY: &str = "SELECT kid, purpose, version, algorithm, state, public_key, wrapped_private, \
     master_key_id, extract(epoch FROM created_at)::bigint, extract(epoch FROM retiring_at)::bigint, \
     extract(epoch FROM retired_at)::bigint, extract(epoch FROM destroyed_at)::bigint \
     FROM security.keys WHERE kid = $1";

pub struct Store(Connection);

fn storage(e: Error) -> SecurityError {
    SecurityError::Storage(match e {
        Error::PgError(PgError::ConnectionFailed(_)) => "postgres unreachable".into(),
        Error::PgError(PgError::QueryFailed(QueryError::DbError(db))) => {
            format!("postgres {}: {}", db.code, db.message)
        }
        Error::PgError(PgError::QueryFailed(QueryError::Text(text))) => format!("postgres: {text}"),
        Error::PgError(PgError::BadParameter(text) | PgError::ValueConversionFailed(text) | PgError::Other(text)) => {
            format!("postgres: {text}")
        }
        Error::Decode(text) => format!("postgres value: {text}"),
    })
}

fn is_unique_violation(e: &Error) -> bool {
    matches!(e, Error::PgError(PgError::QueryFailed(QueryError::DbError(db))) if db.code == "23505")
}

fn opt_bytes(v: &Option<Vec<u8>>) -> ParameterValue {
    v.clone().map_or(ParameterValue::DbNull, ParameterValue::Binary)
}

fn opt_time(v: Option<i64>) -> ParameterValue {
    v.map_or(ParameterValue::DbNull, ParameterValue::Int64)
}

fn decode<T: Decode>(row: &[DbValue], i: usize) -> Result<T, SecurityError> {
    vottery_component_kit::pg::column(row, i).map_err(SecurityError::Corrupt)
}

fn record(row: &[DbValue]) -> Result<KeyRecord, SecurityError> {
    Ok(KeyRecord {
        kid: decode(row, 0)?,
        purpose: Purpose::parse(&decode::<String>(row, 1)?)?,
        version: u32::try_from(decode::<i32>(row, 2)?).map_err(|e| SecurityError::Corrupt(e.to_string()))?,
        algorithm: KeyAlgorithm::parse(&decode::<String>(row, 3)?)?,
        state: KeyState::parse(&decode::<String>(row, 4)?)?,
        public_key: decode(row, 5)?,
        wrapped_private: decode(row, 6)?,
        master_key_id: decode(row, 7)?,
        created_at: decode(row, 8)?,
        retiring_at: decode(row, 9)?,
        retired_at: decode(row, 10)?,
        destroyed_at: decode(row, 11)?,
    })
}

impl Store {
    pub async fn open() -> Result<Self, SecurityError> {
        vottery_component_kit::pg::open().await.map(Self).map_err(SecurityError::Storage)
    }

    async fn rows(&self, sql: &str, params: Vec<ParameterValue>) -> Result<Vec<KeyRecord>, SecurityError> {
        let mut result = self.0.query(sql, params).await.map_err(storage)?;
        let mut out = Vec::new();
        while let Some(row) = result.rows().next().await {
            out.push(record(&row)?);
        }
        result.result().await.map_err(storage)?;
        Ok(out)
    }

    /// Every key of `purpose` (all keys when `None`), oldest first.
    pub async fn keys(&self, purpose: Option<Purpose>) -> Result<Vec<KeyRecord>, SecurityError> {
        match purpose {
            Some(p) => self.rows(KEYS_OF_PURPOSE, vec![ParameterValue::Str(p.as_str().into())]).await,
            None => self.rows(ALL_KEYS, vec![]).await,
        }
    }

    pub async fn key(&self, kid: &str) -> Result<KeyRecord, SecurityError> {
        let mut found = self.rows(KEY, vec![ParameterValue::Str(kid.into())]).await?;
        found.pop().ok_or_else(|| SecurityError::KeyNotFound(kid.into()))
    }

    /// Writes a rotation in one transaction; a concurrent rotation of the
    /// same purpose makes it a [`SecurityError::Conflict`] and writes nothing.
    pub async fn rotate(&self, rotation: &Rotation) -> Result<(), SecurityError> {
        self.0.execute("BEGIN", vec![]).await.map_err(storage)?;
        let outcome = self.rotate_in_transaction(rotation).await;
        let end = if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.0.execute(end, vec![]).await.map_err(storage)?;
        outcome
    }

    async fn rotate_in_transaction(&self, rotation: &Rotation) -> Result<(), SecurityError> {
        if let Some(old) = &rotation.demoted {
            let sql = "UPDATE security.keys SET state = 'retiring', retiring_at = to_timestamp($2::bigint) \
                       WHERE kid = $1 AND state = 'active'";
            let params = vec![ParameterValue::Str(old.kid.clone()), opt_time(old.retiring_at)];
            if self.0.execute(sql, params).await.map_err(storage)? != 1 {
                return Err(SecurityError::Conflict);
            }
        }
        let new = &rotation.new;
        let sql = "INSERT INTO security.keys (kid, purpose, version, algorithm, state, public_key, wrapped_private, \
                   master_key_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9::bigint))";
        let params = vec![
            ParameterValue::Str(new.kid.clone()),
            ParameterValue::Str(new.purpose.as_str().into()),
            ParameterValue::Int32(i32::try_from(new.version).map_err(|_| SecurityError::Conflict)?),
            ParameterValue::Str(new.algorithm.as_str().into()),
            ParameterValue::Str(new.state.as_str().into()),
            opt_bytes(&new.public_key),
            opt_bytes(&new.wrapped_private),
            new.master_key_id.clone().map_or(ParameterValue::DbNull, ParameterValue::Str),
            ParameterValue::Int64(new.created_at),
        ];
        match self.0.execute(sql, params).await {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(SecurityError::Conflict),
            Err(e) => Err(storage(e)),
        }
    }

    /// Saves a state change made by `retire` or `destroy`, if the stored
    /// state is still `from`.
    pub async fn transition(&self, key: &KeyRecord, from: KeyState) -> Result<(), SecurityError> {
        let sql = "UPDATE security.keys SET state = $2, wrapped_private = $3, master_key_id = $4, \
                   retired_at = to_timestamp($5::bigint), destroyed_at = to_timestamp($6::bigint) WHERE kid = $1 AND state = $7";
        let params = vec![
            ParameterValue::Str(key.kid.clone()),
            ParameterValue::Str(key.state.as_str().into()),
            opt_bytes(&key.wrapped_private),
            key.master_key_id.clone().map_or(ParameterValue::DbNull, ParameterValue::Str),
            opt_time(key.retired_at),
            opt_time(key.destroyed_at),
            ParameterValue::Str(from.as_str().into()),
        ];
        match self.0.execute(sql, params).await.map_err(storage)? {
            1 => Ok(()),
            _ => Err(SecurityError::Conflict),
        }
    }

    /// Replaces a key's wrapping, if it is still wrapped by `old_master`.
    pub async fn rewrap(
        &self,
        kid: &str,
        old_master: &str,
        wrapped: Vec<u8>,
        new_master: &str,
    ) -> Result<bool, SecurityError> {
        let sql =
            "UPDATE security.keys SET wrapped_private = $3, master_key_id = $4 WHERE kid = $1 AND master_key_id = $2";
        let params = vec![
            ParameterValue::Str(kid.into()),
            ParameterValue::Str(old_master.into()),
            ParameterValue::Binary(wrapped),
            ParameterValue::Str(new_master.into()),
        ];
        Ok(self.0.execute(sql, params).await.map_err(storage)? == 1)
    }

    /// The last row of every chain of the audit log (`audit.heads()`).
    pub async fn audit_heads(&self) -> Result<Heads, SecurityError> {
        let rows =
            vottery_component_kit::pg::rows(&self.0, "SELECT audit.heads()::text", vec![]).await.map_err(storage)?;
        let text: String = rows.first().map(|row| decode(row, 0)).transpose()?.unwrap_or_default();
        serde_json::from_str(&text).map_err(|e| SecurityError::Corrupt(format!("audit heads: {e}")))
    }

    /// Stores a signed checkpoint; its id.
    pub async fn add_checkpoint(
        &self,
        at: i64,
        heads: &Heads,
        root: &[u8; 32],
        kid: &str,
        signature: Vec<u8>,
    ) -> Result<i64, SecurityError> {
        let sql = "SELECT audit.add_checkpoint(to_timestamp($1::bigint), $2::text::jsonb, $3, $4, $5)";
        let heads = serde_json::to_string(heads).map_err(|e| SecurityError::Internal(e.to_string()))?;
        let params = vec![
            ParameterValue::Int64(at),
            ParameterValue::Str(heads),
            ParameterValue::Binary(root.to_vec()),
            ParameterValue::Str(kid.into()),
            ParameterValue::Binary(signature),
        ];
        let rows = vottery_component_kit::pg::rows(&self.0, sql, params).await.map_err(storage)?;
        rows.first().map(|row| decode(row, 0)).ok_or_else(|| SecurityError::Corrupt("no checkpoint id".into()))?
    }

    /// Appends to the hash-chained audit log.
    pub async fn audit(
        &self,
        actor: &vottery_component_kit::Actor,
        action: &str,
        subject: &str,
        outcome: &str,
        detail: &Value,
    ) -> Result<(), SecurityError> {
        vottery_component_kit::pg::audit(&self.0, actor, action, subject, outcome, detail).await.map_err(storage)
    }
}
