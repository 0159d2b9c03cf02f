//! The service's Redis: the revocation cache the gateway reads and the
//! event channel. One connection per request, opened where first needed.

use serde_json::{Value, json};
use spin_sdk::redis::RedisParameter;
use vottery_component_kit::redis::Namespaced;
use vottery_sessions_core::revocation;

pub struct Cache {
    redis: Namespaced,
}

impl Cache {
    pub async fn open() -> Result<Self, String> {
        Ok(Self { redis: Namespaced::open().await? })
    }

    /// Publishes an event on `<redis_namespace>:events` (best effort: the
    /// audit row is the record that must exist).
    pub async fn publish(&self, kind: &str, detail: Value) {
        self.redis.publish("devices", kind, detail).await;
    }

    /// Marks `session` revoked (`<namespace>:revoked:<id>`) for as long as
    /// an access token of it can be accepted (its lifetime and the
    /// gateway's leeway), so the gateway refuses its tokens from the next
    /// request on, not at their expiry; then says so on the event channel.
    pub async fn revoke(&self, session: &str, reason: &str, access_ttl: i64) -> Result<(), String> {
        self.rewrite(session, reason, access_ttl).await?;
        self.publish("session.revoked", json!({ "session_id": session, "reason": reason })).await;
        Ok(())
    }

    /// Writes the revocation entry only.
    pub async fn rewrite(&self, session: &str, reason: &str, access_ttl: i64) -> Result<(), String> {
        let args = vec![
            RedisParameter::Binary(revocation::entry_key(self.redis.namespace(), session).into_bytes()),
            RedisParameter::Binary(reason.as_bytes().to_vec()),
            RedisParameter::Binary(b"EX".to_vec()),
            RedisParameter::Int64(access_ttl.max(1) + revocation::TOKEN_LEEWAY),
        ];
        self.redis.conn.execute("SET", args).await.map_err(|e| format!("redis: {e:?}"))?;
        Ok(())
    }
}

/// Publishes one event on a connection of its own, when nothing else in
/// the request needs Redis.
pub async fn publish(kind: &str, detail: Value) {
    if let Ok(cache) = Cache::open().await {
        cache.publish(kind, detail).await;
    }
}
