//! Rebuilding the revocation cache when Redis has lost it (the state
//! machine is in `vottery_sessions_core::revocation`). PostgreSQL is read
//! through the fronted component's `pg_url`, with `devices.recent_revocations`,
//! which every role behind a token check may run.

use spin_sdk::pg::{DbValue, ParameterValue};
use spin_sdk::redis::{Connection, RedisParameter};
use spin_sdk::wasip3::random::random::get_random_u64;
use vottery_component_kit::{self as kit, Problem};
use vottery_sessions_core::revocation::{self, MARKER_TTL, REBUILD_CLAIM_TTL, REVOCATION_WINDOW};

pub use revocation::{entry_key as entry, marker_key as marker};

/// KEYS: the claim, the marker, then an entry per revoked session. ARGV:
/// the claim's nonce, then each entry's time to live. Writes the entries
/// (keeping one already there), and the marker (for `MARKER_TTL`) only if
/// the claim is still this rebuild's: a Redis emptied since the claim, or a
/// rebuild that lost the claim to another, leaves the marker unwritten.
const WRITE: &str = "for i = 3, #KEYS do \
      redis.call('SET', KEYS[i], 'rebuilt', 'EX', ARGV[i - 1], 'NX') \
    end \
    if redis.call('GET', KEYS[1]) == ARGV[1] then \
      redis.call('SET', KEYS[2], '1', 'EX', ARGV[#ARGV]) \
      redis.call('DEL', KEYS[1]) \
      return 1 \
    end \
    return 0";

fn unavailable(what: &str) -> Problem {
    Problem::new(503, "gateway_unavailable", "Service unavailable")
        .with_detail(format!("cannot check revocations: {what}"))
        .with("retry_after", 1)
}

/// Rebuilds the cache from PostgreSQL and says whether `session` is
/// revoked. Three round trips (claim, read, write), paid by the requests
/// that find the cache cold, until one rebuild has written the marker.
pub async fn rebuild(redis: &Connection, namespace: &str, session: &str) -> Result<bool, Problem> {
    let nonce = format!("{:016x}{:016x}", get_random_u64(), get_random_u64());
    claim(redis, namespace, &nonce).await?;
    let revoked = recent().await?;
    let found = revoked.iter().any(|(id, _)| id == session);
    let mut params = vec![
        RedisParameter::Binary(WRITE.as_bytes().to_vec()),
        RedisParameter::Int64(i64::try_from(revoked.len() + 2).unwrap_or(i64::MAX)),
        RedisParameter::Binary(revocation::claim_key(namespace).into_bytes()),
        RedisParameter::Binary(marker(namespace).into_bytes()),
    ];
    params.extend(revoked.iter().map(|(id, _)| RedisParameter::Binary(entry(namespace, id).into_bytes())));
    params.push(RedisParameter::Binary(nonce.into_bytes()));
    params.extend(revoked.iter().map(|(_, ttl)| RedisParameter::Int64(*ttl)));
    params.push(RedisParameter::Int64(MARKER_TTL));
    redis.execute("EVAL", params).await.map_err(|_| unavailable("redis"))?;
    Ok(found)
}

/// Claims the rebuild for `nonce` unless another holds it (then this
/// request still reads PostgreSQL for its own answer, but only the
/// claim's holder writes the marker).
async fn claim(redis: &Connection, namespace: &str, nonce: &str) -> Result<(), Problem> {
    let args = vec![
        RedisParameter::Binary(revocation::claim_key(namespace).into_bytes()),
        RedisParameter::Binary(nonce.as_bytes().to_vec()),
        RedisParameter::Binary(b"NX".to_vec()),
        RedisParameter::Binary(b"EX".to_vec()),
        RedisParameter::Int64(REBUILD_CLAIM_TTL),
    ];
    redis.execute("SET", args).await.map(|_| ()).map_err(|_| unavailable("redis"))
}

/// Every session revoked within the window, with its entry's time to live.
async fn recent() -> Result<Vec<(String, i64)>, Problem> {
    let db = kit::pg::open().await.map_err(|e| unavailable(&format!("postgres: {e}")))?;
    let sql = "SELECT session_id::text, age_seconds FROM devices.recent_revocations($1)";
    let rows = kit::pg::rows(&db, sql, vec![ParameterValue::Int64(REVOCATION_WINDOW)])
        .await
        .map_err(|_| unavailable("postgres: query failed"))?;
    let mut revoked = Vec::with_capacity(rows.len());
    for row in &rows {
        let [DbValue::Str(id), DbValue::Int64(age)] = row.as_slice() else {
            return Err(unavailable("postgres: unexpected columns"));
        };
        revoked.extend(revocation::entry_ttl(*age).map(|ttl| (id.clone(), ttl)));
    }
    Ok(revoked)
}
