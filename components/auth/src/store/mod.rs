//! Everything `auth` keeps. Flows, counters and the event channel in Redis
//! (keys under `<namespace>:auth:`), and the audit log in PostgreSQL; the
//! passkeys in [`passkeys`], and step 3's ceremonies and enrolment claims
//! in [`ceremonies`]. Every change to a flow is one atomic script: created
//! only if absent, replaced only if unchanged since it was read (concurrent
//! checks cannot both win).

pub mod ceremonies;
pub mod passkeys;

use serde_json::Value;
use spin_sdk::pg::Connection as Pg;
use spin_sdk::redis::{RedisParameter, RedisResult};
use vottery_auth_core::{AuthError, Flow, FlowId, LockState, Policy, lock_schedule};
use vottery_component_kit::redis::Namespaced;

/// KEYS: lock, consecutive failures, mean send time, mean timer
/// overshoot, send counters... ARGV: the counters' window.
const ADMIT: &str = "local out = {} \
    out[1] = redis.call('TTL', KEYS[1]) \
    out[2] = tonumber(redis.call('GET', KEYS[2]) or '0') \
    out[3] = redis.call('TTL', KEYS[2]) \
    out[4] = tonumber(redis.call('GET', KEYS[3]) or '0') \
    out[5] = tonumber(redis.call('GET', KEYS[4]) or '0') \
    for i = 5, #KEYS do \
      local v = redis.call('INCR', KEYS[i]) \
      if v == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end \
      out[i + 1] = v \
    end \
    return out";

/// Reserves one try per code of a verify request, in the same step as the
/// lockout check, so concurrent requests can never spend more tries than
/// the limit. KEYS: lock, tries in the window, consecutive failures. ARGV:
/// tries wanted, window, tries per window, consecutive cap, memory.
/// Returns `{1}` or `{0, seconds to wait}`.
const RESERVE: &str = "local l = redis.call('TTL', KEYS[1]) \
    if l > 0 then return {0, l} end \
    local n = tonumber(ARGV[1]) \
    local c = tonumber(redis.call('GET', KEYS[3]) or '0') \
    if c + n > tonumber(ARGV[4]) then return {0, math.max(redis.call('TTL', KEYS[3]), 1)} end \
    local t = tonumber(redis.call('GET', KEYS[2]) or '0') \
    if t + n > tonumber(ARGV[3]) then return {0, math.max(redis.call('TTL', KEYS[2]), 1)} end \
    if redis.call('INCRBY', KEYS[2], n) == n then redis.call('EXPIRE', KEYS[2], ARGV[2]) end \
    redis.call('INCRBY', KEYS[3], n) \
    redis.call('EXPIRE', KEYS[3], ARGV[5]) \
    return {1}";

/// Gives back the reserved tries that were not wrong guesses, forgets the
/// consecutive count after a completed verification, and locks the pair
/// when its window is full. KEYS: lock, tries in the window, consecutive
/// failures, lockout level. ARGV: tries given back, completed (1/0), tries
/// per window, memory, lock periods... Returns the new lock's seconds, or 0.
const SETTLE: &str = "local r = tonumber(ARGV[1]) \
    if r > 0 then \
      if redis.call('DECRBY', KEYS[2], r) <= 0 then redis.call('DEL', KEYS[2]) end \
      if redis.call('DECRBY', KEYS[3], r) <= 0 then redis.call('DEL', KEYS[3]) end \
    end \
    if ARGV[2] == '1' then redis.call('DEL', KEYS[3]) end \
    if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[3]) then return 0 end \
    local level = redis.call('INCR', KEYS[4]) \
    redis.call('EXPIRE', KEYS[4], ARGV[4]) \
    local d = tonumber(ARGV[4 + math.min(level, #ARGV - 4)]) \
    redis.call('SET', KEYS[1], '1', 'EX', d) \
    redis.call('DEL', KEYS[2]) \
    return d";

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

/// What admitting a send found: the pair's lockout, the mean time real
/// sends took and how much a decoy's timer overshoots (µs), and each send
/// counter after counting this one.
pub struct Admission {
    pub lock: LockState,
    pub send_time_us: u64,
    pub overshoot_us: i64,
    pub counts: Vec<u64>,
}

pub struct Store {
    redis: Namespaced,
}

impl Store {
    pub async fn open() -> Result<Self, AuthError> {
        Ok(Self { redis: Namespaced::open().await.map_err(AuthError::Storage)? })
    }

    fn key(&self, rest: &str) -> String {
        self.redis.key(&format!("auth:{rest}"))
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
        self.redis.conn.execute("EVAL", params).await.map_err(storage)
    }

    fn lock_keys(&self, pair: &str) -> [String; 4] {
        ["lock", "tries", "consecutive", "level"].map(|k| self.key(&format!("{k}:{pair}")))
    }

    /// Counts a send against each `(scope, tag)` counter of the window and
    /// reads the lockout of `pair`.
    pub async fn admit(&self, pair: &str, counters: &[String], window: i64) -> Result<Admission, AuthError> {
        let [lock, _, consecutive, _] = self.lock_keys(pair);
        let mut keys = vec![lock, consecutive, self.key("send-time"), self.key("overshoot")];
        keys.extend(counters.iter().map(|c| self.key(&format!("sends:{c}"))));
        let out = self.eval(ADMIT, &keys, vec![RedisParameter::Int64(window)]).await?;
        Ok(Admission {
            lock: LockState {
                lock_ttl: int(out.first()),
                consecutive: u64::try_from(int(out.get(1))).unwrap_or(0),
                consecutive_ttl: int(out.get(2)),
            },
            send_time_us: u64::try_from(int(out.get(3))).unwrap_or(0),
            overshoot_us: int(out.get(4)),
            counts: out.iter().skip(5).map(|r| u64::try_from(int(Some(r))).unwrap_or(0)).collect(),
        })
    }

    /// Reserves `tries` tries of `pair` for the codes of one verify
    /// request, or says how long it is locked out.
    pub async fn reserve(&self, pair: &str, tries: usize, p: &Policy) -> Result<(), AuthError> {
        let [lock, window, consecutive, _] = self.lock_keys(pair);
        let args = vec![
            RedisParameter::Int64(i64::try_from(tries).unwrap_or(i64::MAX)),
            RedisParameter::Int64(p.lockout_seconds),
            RedisParameter::Int64(i64::from(p.lockout_failures)),
            RedisParameter::Int64(i64::from(p.failure_cap)),
            RedisParameter::Int64(p.failure_memory),
        ];
        let out = self.eval(RESERVE, &[lock, window, consecutive], args).await?;
        match int(out.first()) {
            1 => Ok(()),
            _ => Err(AuthError::LockedOut { retry_after: int(out.get(1)).max(1) }),
        }
    }

    /// Settles a reservation: `returned` tries were no wrong guess;
    /// `completed` when both codes are now proved. The seconds of the
    /// lockout this started, if it started one.
    pub async fn settle(
        &self,
        pair: &str,
        returned: usize,
        completed: bool,
        p: &Policy,
    ) -> Result<Option<i64>, AuthError> {
        let mut args = vec![
            RedisParameter::Int64(i64::try_from(returned).unwrap_or(i64::MAX)),
            RedisParameter::Int64(i64::from(completed)),
            RedisParameter::Int64(i64::from(p.lockout_failures)),
            RedisParameter::Int64(p.failure_memory),
        ];
        args.extend(lock_schedule(p).into_iter().map(RedisParameter::Int64));
        let out = self.eval(SETTLE, &self.lock_keys(pair), args).await?;
        Ok(Some(int(out.first())).filter(|&seconds| seconds > 0))
    }

    pub async fn load(&self, id: &FlowId) -> Result<Option<Loaded>, AuthError> {
        let Some(raw) = self.redis.conn.get(self.key(&format!("flow:{}", id.as_str()))).await.map_err(storage)? else {
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
            self.redis.key("events"),
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
        let _ = self.redis.conn.publish(&self.redis.key("events"), event.to_string().as_bytes()).await;
    }
}

/// Opens the service's database (for the audit log).
pub async fn audit_log() -> Result<Pg, AuthError> {
    vottery_component_kit::pg::open().await.map_err(|e| AuthError::Storage(format!("postgres: {e}")))
}

/// Appends one event to the hash-chained audit log.
pub async fn audit(
    db: &Pg,
    actor: &vottery_component_kit::Actor,
    action: &str,
    subject: &str,
    outcome: &str,
    detail: &Value,
) -> Result<(), AuthError> {
    vottery_component_kit::pg::audit(db, actor, action, subject, outcome, detail)
        .await
        .map_err(|e| AuthError::Storage(format!("audit: {e:?}")))
}
