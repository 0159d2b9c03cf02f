//! The passkeys (`auth.passkeys`), each change with its audit row in the
//! same statement.

use serde_json::Value;
use spin_sdk::pg::{Connection as Pg, DbValue, Decode, ParameterValue};
use vottery_auth_core::AuthError;
use vottery_component_kit::contracts::auth::HeldPasskey;
use vottery_component_kit::pg as kit_pg;
use vottery_passkeys_core::{Assertion, Known, NewPasskey};
use vottery_sessions_core::DeviceId;
use vottery_validate::{UserId, encode_base64url};

fn storage(e: impl std::fmt::Debug) -> AuthError {
    AuthError::Storage(format!("postgres: {e:?}"))
}

fn col<T: Decode>(row: &[DbValue], i: usize) -> Result<T, AuthError> {
    kit_pg::column(row, i).map_err(storage)
}

fn text(value: &str) -> ParameterValue {
    ParameterValue::Str(value.to_owned())
}

fn json(detail: &Value) -> ParameterValue {
    ParameterValue::Jsonb(detail.to_string().into_bytes())
}

const OF_MEMBER: &str =
    "SELECT credential_id, array_to_string(transports, ',') FROM auth.passkeys WHERE user_id = $1::text::uuid";

const ON_DEVICE: &str = "SELECT credential_id, array_to_string(transports, ','), user_id::text FROM auth.passkeys \
     WHERE device_id = $1 AND clone_suspected_at IS NULL";

const ENROL: &str = "WITH p AS (INSERT INTO auth.passkeys (credential_id, user_id, device_id, public_key, state, \
         algorithm, attestation, aaguid, transports, sign_count, backup_eligible, backed_up, created_at, last_used_at) \
         VALUES ($1, $2::text::uuid, $3, $4, $5, $6, $7, $8, string_to_array($9, ','), $10, $11, $12, \
         to_timestamp($13::bigint), to_timestamp($13::bigint)) \
         ON CONFLICT (credential_id) DO UPDATE SET device_id = EXCLUDED.device_id, public_key = EXCLUDED.public_key, \
         state = EXCLUDED.state, sign_count = EXCLUDED.sign_count, last_used_at = EXCLUDED.last_used_at, \
         clone_suspected_at = NULL WHERE auth.passkeys.user_id = EXCLUDED.user_id RETURNING user_id) \
     SELECT audit.append('member:' || user_id::text, 'passkey.enrolled', $14, 'ok', $15) FROM p";

const HELD: &str = "SELECT user_id::text, public_key, state, clone_suspected_at IS NOT NULL FROM auth.passkeys \
     WHERE credential_id = $1 AND device_id = $2";

const ASSERTED: &str = "WITH u AS (UPDATE auth.passkeys SET state = $3, sign_count = $4, backed_up = $5, \
         last_used_at = to_timestamp($6::bigint) WHERE credential_id = $1 AND state = $2 RETURNING user_id) \
     SELECT audit.append('member:' || user_id::text, 'passkey.asserted', $7, 'ok', $8) FROM u";

const CLONE_SUSPECTED: &str = "WITH u AS (UPDATE auth.passkeys SET clone_suspected_at = to_timestamp($2::bigint) \
         WHERE credential_id = $1 AND clone_suspected_at IS NULL RETURNING user_id) \
     SELECT audit.append('member:' || user_id::text, 'passkey.clone_suspected', $3, 'refused', $4) FROM u";

const REMOVE_ON_DEVICE: &str = "WITH d AS (DELETE FROM auth.passkeys WHERE device_id = $1 AND user_id = $2::text::uuid \
         RETURNING credential_id) \
     SELECT audit.append('member:' || $2, 'passkey.removed', encode(credential_id, 'base64'), 'ok', \
         jsonb_build_object('device_id', $1::text)) FROM d";

const ERASE_MEMBER: &str = "WITH d AS (DELETE FROM auth.passkeys WHERE user_id = $1::text::uuid \
         RETURNING credential_id, device_id) \
     SELECT audit.append('member:' || $1, 'passkey.removed', encode(credential_id, 'base64'), 'ok', \
         jsonb_build_object('device_id', device_id, 'reason', 'member_erased')) FROM d";

const EXPORT_MEMBER: &str = "SELECT credential_id, device_id, algorithm, attestation, \
     aaguid, array_to_string(transports, ','), sign_count, backup_eligible, backed_up, \
     to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
     to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
     to_char(clone_suspected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
     FROM auth.passkeys WHERE user_id = $1::text::uuid ORDER BY created_at, credential_id";

/// A stored credential as an assertion needs it.
pub struct Held {
    pub user: UserId,
    pub public_key: Vec<u8>,
    pub state: Vec<u8>,
    pub clone_suspected: bool,
}

/// The passkeys of a device that has some: its member and their credentials.
pub struct OnDevice {
    pub user: UserId,
    pub known: Vec<Known>,
}

pub struct Passkeys {
    db: Pg,
}

impl Passkeys {
    pub async fn open() -> Result<Self, AuthError> {
        Ok(Self { db: super::audit_log().await? })
    }

    async fn rows(&self, sql: &str, params: Vec<ParameterValue>) -> Result<Vec<Vec<DbValue>>, AuthError> {
        kit_pg::rows(&self.db, sql, params).await.map_err(storage)
    }

    fn known(row: &[DbValue]) -> Result<Known, AuthError> {
        let transports: String = col(row, 1)?;
        Ok(Known { id: col(row, 0)?, transports: transports.split(',').map(str::to_owned).collect() })
    }

    /// The member's credentials, which a new registration excludes.
    pub async fn of_member(&self, user: &UserId) -> Result<Vec<Known>, AuthError> {
        let rows = self.rows(OF_MEMBER, vec![text(user.as_str())]).await?;
        rows.iter().map(|row| Self::known(row)).collect()
    }

    /// The usable credentials on `device`, if it has any.
    pub async fn on_device(&self, device: &DeviceId) -> Result<Option<OnDevice>, AuthError> {
        let rows = self.rows(ON_DEVICE, vec![text(device.as_str())]).await?;
        let Some(first) = rows.first() else { return Ok(None) };
        let user = UserId::parse(&col::<String>(first, 2)?).ok_or_else(|| storage("a passkey's user id"))?;
        let known = rows.iter().map(|row| Self::known(row)).collect::<Result<_, _>>()?;
        Ok(Some(OnDevice { user, known }))
    }

    /// Stores a verified credential with its audit row; false when the
    /// credential is already another member's.
    pub async fn enrol(
        &self,
        user: &UserId,
        device: &DeviceId,
        passkey: &NewPasskey,
        now: i64,
        detail: &Value,
    ) -> Result<bool, AuthError> {
        let stored = self
            .rows(
                ENROL,
                vec![
                    ParameterValue::Binary(passkey.id.clone()),
                    text(user.as_str()),
                    text(device.as_str()),
                    ParameterValue::Binary(passkey.public_key.clone()),
                    ParameterValue::Binary(passkey.state.clone()),
                    text(passkey.algorithm),
                    text(passkey.attestation),
                    text(&passkey.aaguid),
                    text(&passkey.transports.join(",")),
                    ParameterValue::Int64(i64::from(passkey.sign_count)),
                    ParameterValue::Boolean(passkey.backup_eligible),
                    ParameterValue::Boolean(passkey.backed_up),
                    ParameterValue::Int64(now),
                    text(&encode_base64url(&passkey.id)),
                    json(detail),
                ],
            )
            .await?;
        Ok(!stored.is_empty())
    }

    /// The credential `id` on `device`.
    pub async fn held(&self, id: &[u8], device: &DeviceId) -> Result<Option<Held>, AuthError> {
        let rows = self.rows(HELD, vec![ParameterValue::Binary(id.to_vec()), text(device.as_str())]).await?;
        let Some(row) = rows.first() else { return Ok(None) };
        Ok(Some(Held {
            user: UserId::parse(&col::<String>(row, 0)?).ok_or_else(|| storage("a passkey's user id"))?,
            public_key: col(row, 1)?,
            state: col(row, 2)?,
            clone_suspected: col(row, 3)?,
        }))
    }

    /// Replaces the credential's state with the assertion's, only if it is
    /// still `read` (a replay loses the race), with its audit row; false
    /// when it was not.
    pub async fn asserted(
        &self,
        id: &[u8],
        read: &[u8],
        assertion: &Assertion,
        now: i64,
        detail: &Value,
    ) -> Result<bool, AuthError> {
        let updated = self
            .rows(
                ASSERTED,
                vec![
                    ParameterValue::Binary(id.to_vec()),
                    ParameterValue::Binary(read.to_vec()),
                    ParameterValue::Binary(assertion.state.clone()),
                    ParameterValue::Int64(i64::from(assertion.sign_count)),
                    ParameterValue::Boolean(assertion.backed_up),
                    ParameterValue::Int64(now),
                    text(&encode_base64url(id)),
                    json(detail),
                ],
            )
            .await?;
        Ok(!updated.is_empty())
    }

    /// Flags the credential as cloned (refused from now on), with its audit row.
    pub async fn suspect_clone(&self, id: &[u8], now: i64, detail: &Value) -> Result<(), AuthError> {
        let params = vec![
            ParameterValue::Binary(id.to_vec()),
            ParameterValue::Int64(now),
            text(&encode_base64url(id)),
            json(detail),
        ];
        self.rows(CLONE_SUSPECTED, params).await.map(|_| ())
    }

    /// Removes the member's passkeys on `device`, each with its audit row.
    pub async fn remove_on_device(&self, device: &DeviceId, user: &UserId) -> Result<usize, AuthError> {
        Ok(self.rows(REMOVE_ON_DEVICE, vec![text(device.as_str()), text(user.as_str())]).await?.len())
    }

    /// Removes every passkey of the member, each with its audit row.
    pub async fn erase_member(&self, user: &UserId) -> Result<usize, AuthError> {
        Ok(self.rows(ERASE_MEMBER, vec![text(user.as_str())]).await?.len())
    }

    /// The member's passkeys' metadata, never the public key or its state.
    pub async fn export_member(&self, user: &UserId) -> Result<Vec<HeldPasskey>, AuthError> {
        let rows = self.rows(EXPORT_MEMBER, vec![text(user.as_str())]).await?;
        rows.iter().map(|row| held_passkey(row)).collect()
    }
}

fn held_passkey(row: &[DbValue]) -> Result<HeldPasskey, AuthError> {
    Ok(HeldPasskey {
        credential_id: encode_base64url(&col::<Vec<u8>>(row, 0)?),
        device_id: col(row, 1)?,
        algorithm: col(row, 2)?,
        attestation: col(row, 3)?,
        aaguid: col(row, 4)?,
        transports: col::<String>(row, 5)?.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
        sign_count: col(row, 6)?,
        backup_eligible: col(row, 7)?,
        backed_up: col(row, 8)?,
        created_at: col(row, 9)?,
        last_used_at: col(row, 10)?,
        clone_suspected_at: col(row, 11)?,
    })
}
