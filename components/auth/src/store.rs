//! Flows, counters and the event channel in Redis (keys under
//! `<namespace>:auth:`), and the audit log in PostgreSQL. Every change to a
//! flow is one atomic script: created only if absent, replaced only if
//! unchanged since it was read (concurrent checks cannot both win).

use serde_json::Value;
use spin_sdk::pg::Connection as Pg;
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use vottery_auth_core::{AuthError, Flow, FlowId};

const ADMIT: &str = "local out = {} \
    out[1] = tonumber(redis.call('GET', KEYS[1]) or '0') \
    out[2] = redis.call('TTL', KEYS[1]) \
    out[3] = tonumber(redis.call('GET', KEYS[2]) or '0') \
    out[4] = tonumber(redis.call('GET', KEYS[3]) or '0') \
    for i = 4, #KEYS do \
      local v = redis.call('INCR', KEYS[i]) \
      if v == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end \
      out[i + 1] = v \
    end \
    return out";

/// KEYS: flow, mean send time, mean timer overshoot, event channel.
/// ARGV: flow, expiry, send-time sample (-1: none), overshoot sample
/// (`none`), events...
const CREATE: &str = "if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EXAT', ARGV[2]) then return 0 end \
    local function mean(key, sample) \
      local cur = tonumber(redis.call('GET', key)) \
      local nxt = sample \
      if cur then nxt = math.floor(cur * 0.8 + sample * 0.2) end \
      redis.call('SET', key, nxt, 'EX', 86400) \
    end \
    local s = tonumber(ARGV[3]) \
    if s >= 0 then mean(KEYS[2], s) end \
    local o = tonumber(ARGV[4]) \
    if o then mean(KEYS[3], o) end \
    for i = 5, #ARGV do redis.call('PUBLISH', KEYS[4], ARGV[i]) end \
    return 1";

const REPLACE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
      redis.call('SET', KEYS[1], ARGV[2], 'EXAT', ARGV[3]) return 1 end \
    return 0";

const FAIL: &str = "local v = redis.call('INCR', KEYS[1]) \
    if v == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end \
    return v";

const LOCK: &str = "return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('TTL', KEYS[1])}";

/// How long a flow's record outlives the flow, so a late request is told
/// `flow_expired` rather than `flow_not_found`.
const TOMBSTONE: i64 = 3600;

fn storage(e: impl std::fmt::Debug) -> AuthError {
    AuthError::Storage(format!("redis: {e:?}"))
}

fn int(result: Option<&RedisResult>) -> i64 {
    match result {
        Some(RedisResult::Int64(v)) => *v,
        Some(RedisResult::Binary(b)) => std::str::from_utf8(b).ok().and_then(|s| s.parse().ok()).unwrap_or(0),
        _ => 0,
    }
}

/// What a new flow tells about timing.
pub enum Timing {
    /// A real send took this long (µs).
    Sent(u64),
    /// A decoy's timer overshot its wait by this much (µs).
    Decoy(i64),
    None,
}

/// A flow as read, with the bytes it was read as (for the atomic replace).
pub struct Loaded {
    pub flow: Flow,
    raw: Vec<u8>,
}

/// What admitting a send found: the lockout counter and its time left, the
/// mean time real sends took and how much a decoy's timer overshoots (µs),
/// and each send counter after counting this one.
pub struct Admission {
    pub failures: u64,
    pub lock_ttl: i64,
    pub send_time_us: u64,
    pub overshoot_us: i64,
    pub counts: Vec<u64>,
}

pub struct Store {
    redis: Connection,
    ns: String,
    events: String,
}

impl Store {
    pub async fn open(url: &str, namespace: &str) -> Result<Self, AuthError> {
        let redis = Connection::open(url).await.map_err(storage)?;
        Ok(Self { redis, ns: format!("{namespace}:auth"), events: format!("{namespace}:events") })
    }

    fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.ns)
    }

    async fn eval(
        &self,
        script: &str,
        keys: &[String],
        args: Vec<RedisParameter>,
    ) -> Result<Vec<RedisResult>, AuthError> {
        let mut params = vec![
            RedisParameter::Binary(script.as_bytes().to_vec()),
            RedisParameter::Int64(i64::try_from(keys.len()).unwrap_or(0)),
        ];
        params.extend(keys.iter().map(|k| RedisParameter::Binary(k.as_bytes().to_vec())));
        params.extend(args);
        self.redis.execute("EVAL", params).await.map_err(storage)
    }

    /// Counts a send against each `(scope, tag)` counter of the window and
    /// reads the lockout of `contact`.
    pub async fn admit(&self, contact: &str, counters: &[String], window: i64) -> Result<Admission, AuthError> {
        let mut keys = vec![self.key(&format!("fail:{contact}")), self.key("send-time"), self.key("overshoot")];
        keys.extend(counters.iter().map(|c| self.key(&format!("sends:{c}"))));
        let out = self.eval(ADMIT, &keys, vec![RedisParameter::Int64(window)]).await?;
        Ok(Admission {
            failures: u64::try_from(int(out.first())).unwrap_or(0),
            lock_ttl: int(out.get(1)),
            send_time_us: u64::try_from(int(out.get(2))).unwrap_or(0),
            overshoot_us: int(out.get(3)),
            counts: out.iter().skip(4).map(|r| u64::try_from(int(Some(r))).unwrap_or(0)).collect(),
        })
    }

    /// Wrong codes counted against `contact` and the seconds its window has left.
    pub async fn lockout(&self, contact: &str) -> Result<(u64, i64), AuthError> {
        let out = self.eval(LOCK, &[self.key(&format!("fail:{contact}"))], vec![]).await?;
        Ok((u64::try_from(int(out.first())).unwrap_or(0), int(out.get(1))))
    }

    /// Counts a wrong code against `contact`; the count after it.
    pub async fn failed(&self, contact: &str, window: i64) -> Result<u64, AuthError> {
        let out = self.eval(FAIL, &[self.key(&format!("fail:{contact}"))], vec![RedisParameter::Int64(window)]).await?;
        Ok(u64::try_from(int(out.first())).unwrap_or(0))
    }

    pub async fn load(&self, id: &FlowId) -> Result<Option<Loaded>, AuthError> {
        let Some(raw) = self.redis.get(self.key(&format!("flow:{}", id.as_str()))).await.map_err(storage)? else {
            return Ok(None);
        };
        let flow = serde_json::from_slice(&raw).map_err(|e| AuthError::Internal(format!("stored flow: {e}")))?;
        Ok(Some(Loaded { flow, raw }))
    }

    /// Stores a new flow and publishes `events` with it; `timing` holds a
    /// real send's duration (the mean a decoy waits) or a decoy's timer
    /// overshoot (subtracted from the next decoy's wait).
    pub async fn create(&self, flow: &Flow, timing: Timing, events: &[Value]) -> Result<(), AuthError> {
        let value = serde_json::to_vec(flow).map_err(|e| AuthError::Internal(e.to_string()))?;
        let keys = [
            self.key(&format!("flow:{}", flow.id.as_str())),
            self.key("send-time"),
            self.key("overshoot"),
            self.events.clone(),
        ];
        let (send, over) = match timing {
            Timing::Sent(us) => (i64::try_from(us).unwrap_or(-1), b"none".to_vec()),
            Timing::Decoy(us) => (-1, us.to_string().into_bytes()),
            Timing::None => (-1, b"none".to_vec()),
        };
        let mut args = vec![
            RedisParameter::Binary(value),
            RedisParameter::Int64(flow.expires_at + TOMBSTONE),
            RedisParameter::Int64(send),
            RedisParameter::Binary(over),
        ];
        args.extend(events.iter().map(|e| RedisParameter::Binary(e.to_string().into_bytes())));
        match int(self.eval(CREATE, &keys, args).await?.first()) {
            1 => Ok(()),
            _ => Err(AuthError::Internal("a flow id was drawn twice".into())),
        }
    }

    /// Replaces `loaded` with `flow` unless it changed since it was read.
    pub async fn replace(&self, loaded: &Loaded, flow: &Flow) -> Result<bool, AuthError> {
        let value = serde_json::to_vec(flow).map_err(|e| AuthError::Internal(e.to_string()))?;
        let keys = [self.key(&format!("flow:{}", flow.id.as_str()))];
        let args = vec![
            RedisParameter::Binary(loaded.raw.clone()),
            RedisParameter::Binary(value),
            RedisParameter::Int64(flow.expires_at + TOMBSTONE),
        ];
        Ok(int(self.eval(REPLACE, &keys, args).await?.first()) == 1)
    }

    /// Publishes an event on `<namespace>:events` (best effort: the audit
    /// row is the record that must exist).
    pub async fn publish(&self, event: &Value) {
        let _ = self.redis.publish(&self.events, event.to_string().as_bytes()).await;
    }
}

/// Opens the service's database (for the audit log).
pub async fn audit_log() -> Result<Pg, AuthError> {
    let address = vottery_component_kit::variable("pg_url")
        .await
        .ok_or_else(|| AuthError::Misconfigured("pg_url is not set".into()))?;
    Pg::open(address).await.map_err(|e| AuthError::Storage(format!("postgres: {e:?}")))
}

/// Appends one event to the hash-chained audit log.
pub async fn audit(
    db: &Pg,
    actor: &str,
    action: &str,
    subject: &str,
    outcome: &str,
    detail: &Value,
) -> Result<(), AuthError> {
    vottery_component_kit::pg::audit(db, actor, action, subject, outcome, detail)
        .await
        .map_err(|e| AuthError::Storage(format!("audit: {e:?}")))
}
