//! The service's Redis: the revocation cache the gateway reads and the
//! event channel. One connection per request, opened where first needed.

use serde_json::{Value, json};
use spin_sdk::redis::{Connection, RedisParameter};
use vottery_component_kit as kit;

pub struct Cache {
    redis: Connection,
    namespace: String,
}

impl Cache {
    pub async fn open() -> Result<Self, String> {
        let url = kit::variable("redis_url").await.ok_or("redis_url is not set")?;
        let namespace = kit::variable("redis_namespace").await.unwrap_or_else(|| "vottery".into());
        let redis = Connection::open(url).await.map_err(|e| format!("redis: {e:?}"))?;
        Ok(Self { redis, namespace })
    }

    /// Publishes an event on `<redis_namespace>:events` (best effort: the
    /// audit row is the record that must exist).
    pub async fn publish(&self, kind: &str, detail: Value) {
        let mut event = json!({ "type": kind, "service": "devices", "at": kit::now() });
        if let (Some(map), Value::Object(more)) = (event.as_object_mut(), detail) {
            map.extend(more);
        }
        let _ = self.redis.publish(format!("{}:events", self.namespace), event.to_string().as_bytes()).await;
    }

    /// Marks `session` revoked (`<namespace>:revoked:<id>`) for as long as
    /// an access token of it can live, so the gateway refuses its tokens
    /// from the next request on, not at their expiry; then says so on the
    /// event channel.
    pub async fn revoke(&self, session: &str, reason: &str, access_ttl: i64) -> Result<(), String> {
        self.rewrite(session, reason, access_ttl).await?;
        self.publish("session.revoked", json!({ "session_id": session, "reason": reason })).await;
        Ok(())
    }

    /// Writes the revocation entry only.
    pub async fn rewrite(&self, session: &str, reason: &str, access_ttl: i64) -> Result<(), String> {
        let args = vec![
            RedisParameter::Binary(format!("{}:revoked:{session}", self.namespace).into_bytes()),
            RedisParameter::Binary(reason.as_bytes().to_vec()),
            RedisParameter::Binary(b"EX".to_vec()),
            RedisParameter::Int64(access_ttl.max(1)),
        ];
        self.redis.execute("SET", args).await.map_err(|e| format!("redis: {e:?}"))?;
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
