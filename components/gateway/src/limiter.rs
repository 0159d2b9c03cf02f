//! The rate limiter's store: GCRA buckets in Redis, charged by one script
//! that can also read a session's revocation entry, so an authenticated
//! request pays one round trip for both. Redis's own clock is used, so
//! every replica agrees. Refusals are counted per class in
//! `<namespace>:metrics:rate_limited`.

use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use vottery_component_kit::Problem;
use vottery_gateway_policy::limits::{Rate, RouteClass, Verdict};

/// KEYS: refusal counter, buckets..., [verified-token entry, and for a
/// check the member's bucket], [revocation entry, warm marker],
/// [checkpoint turn]. ARGV: interval (µs), window (µs), class, number of
/// buckets, whether a revocation entry and the cache's marker follow
/// (1/0), seconds between audit checkpoints (0: none, and no turn key),
/// what to do with the verified-token entry (`check`: the member's bucket
/// is charged too when the entry exists; `remember`: the entry is written
/// for ARGV[8] seconds; `-`: no entry). Returns {admitted, remaining,
/// reset s, revoked, checkpoint, verified}: revoked is 1 for an entry, 0
/// for none in a warm cache, 2 for none in a cold one (no marker: Redis
/// lost its data since the last rebuild, so a miss proves nothing);
/// checkpoint is 1 for the one request per interval, across every replica,
/// that takes the turn to ask for an audit checkpoint; verified is 1 when a
/// checked token's entry exists. Times are microseconds (below 2^53, exact
/// in Lua's numbers).
const CHARGE: &str = "local t = redis.call('TIME') \
    local now = tonumber(t[1]) * 1000000 + tonumber(t[2]) \
    local interval = tonumber(ARGV[1]) \
    local window = tonumber(ARGV[2]) \
    local n = tonumber(ARGV[4]) \
    local buckets, k, verified = {}, 1 + n, 0 \
    for i = 1, n do buckets[i] = KEYS[1 + i] end \
    if ARGV[7] == 'check' then \
      if redis.call('EXISTS', KEYS[k + 1]) == 1 then verified = 1; buckets[n + 1] = KEYS[k + 2] end \
      k = k + 2 \
    elseif ARGV[7] == 'remember' then \
      redis.call('SET', KEYS[k + 1], '1', 'EX', ARGV[8]) \
      k = k + 1 \
    end \
    local wait, remaining, reset, tats = 0, nil, 0, {} \
    for i = 1, #buckets do \
      local tat = tonumber(redis.call('GET', buckets[i]) or '0') \
      if tat < now then tat = now end \
      local ahead = tat + interval - now \
      if ahead > window then wait = math.max(wait, ahead - window) end \
      tats[i] = tat + interval \
      local left = math.floor((window - ahead) / interval) \
      if remaining == nil or left < remaining then remaining = left end \
      reset = math.max(reset, ahead) \
    end \
    local revoked, checkpoint = 0, 0 \
    if tonumber(ARGV[6]) > 0 and redis.call('SET', KEYS[#KEYS], '1', 'NX', 'EX', ARGV[6]) then checkpoint = 1 end \
    if ARGV[5] == '1' then \
      revoked = redis.call('EXISTS', KEYS[k + 1]) \
      if revoked == 0 and redis.call('EXISTS', KEYS[k + 2]) == 0 then revoked = 2 end \
    end \
    if wait > 0 then \
      redis.call('HINCRBY', KEYS[1], ARGV[3], 1) \
      return {0, 0, math.ceil(wait / 1000000), revoked, checkpoint, verified} \
    end \
    for i = 1, #buckets do redis.call('SET', buckets[i], string.format('%d', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000)) end \
    return {1, math.max(remaining, 0), math.ceil(reset / 1000000), revoked, checkpoint, verified}";

/// What a charge does with a token's verified entry
/// (`vottery_gateway_policy::verified`).
#[derive(Debug, Clone, Copy)]
pub enum Verified<'a> {
    /// No token, or one this instance remembers.
    Untouched,
    /// Whether a token not yet verified here has an entry; if so, the
    /// member's bucket (of the subject its payload names) is charged too.
    Check { entry: &'a str, member_bucket: &'a str },
    /// The token was verified here: its entry, for `ttl` seconds.
    Remember { entry: &'a str, ttl: i64 },
}

/// One request's charge: its class and rate, the buckets it counts
/// against (client address, and member once known).
pub struct Charge<'a> {
    pub namespace: &'a str,
    pub class: RouteClass,
    pub rate: Rate,
    /// Seconds between audit checkpoints (0: this component asks for none).
    pub checkpoint_every: u32,
    /// Set when this request took the turn to ask for a checkpoint.
    pub checkpoint_due: std::cell::Cell<bool>,
}

impl Charge<'_> {
    /// The bucket of a client address.
    pub fn address_key(&self, ip: &str) -> String {
        format!("{}:rl:{}:ip:{ip}", self.namespace, self.class.name())
    }

    /// The bucket of a member.
    pub fn member_key(&self, member: &str) -> String {
        format!("{}:rl:{}:member:{member}", self.namespace, self.class.name())
    }

    /// Charges `buckets` and, with `session`, reads whether that session
    /// is revoked, in one round trip. Redis unreachable is a 503 for the
    /// classes that fail closed; `None` lets a read through.
    pub async fn run(
        &self,
        redis: &Connection,
        buckets: &[String],
        session: Option<&str>,
        verified: Verified<'_>,
    ) -> Result<Option<Charged>, Problem> {
        let mut keys = vec![format!("{}:metrics:rate_limited", self.namespace)];
        keys.extend(buckets.iter().cloned());
        let (mode, ttl) = match verified {
            Verified::Untouched => ("-", 0),
            Verified::Check { entry, member_bucket } => {
                keys.extend([entry.to_owned(), member_bucket.to_owned()]);
                ("check", 0)
            }
            Verified::Remember { entry, ttl } => {
                keys.push(entry.to_owned());
                ("remember", ttl)
            }
        };
        if let Some(session) = session {
            keys.push(crate::revocations::entry(self.namespace, session));
            keys.push(crate::revocations::marker(self.namespace));
        }
        if self.checkpoint_every > 0 {
            keys.push(format!("{}:audit:checkpoint-turn", self.namespace));
        }
        let mut params = vec![
            RedisParameter::Binary(CHARGE.as_bytes().to_vec()),
            RedisParameter::Int64(i64::try_from(keys.len()).unwrap_or(0)),
        ];
        params.extend(keys.into_iter().map(|k| RedisParameter::Binary(k.into_bytes())));
        params.extend([
            RedisParameter::Int64(i64::try_from(self.rate.interval_us()).unwrap_or(i64::MAX)),
            RedisParameter::Int64(i64::from(self.rate.window) * 1_000_000),
            RedisParameter::Binary(self.class.name().as_bytes().to_vec()),
            RedisParameter::Int64(i64::try_from(buckets.len()).unwrap_or(0)),
            RedisParameter::Int64(i64::from(session.is_some())),
            RedisParameter::Int64(i64::from(self.checkpoint_every)),
            RedisParameter::Binary(mode.as_bytes().to_vec()),
            RedisParameter::Int64(ttl),
        ]);
        let out = match redis.execute("EVAL", params).await {
            Ok(out) => out,
            Err(_) if !self.class.fails_closed() && session.is_none() => return Ok(None),
            Err(_) => return Err(unavailable()),
        };
        let int = |i: usize| match out.get(i) {
            Some(RedisResult::Int64(v)) => u64::try_from(*v).unwrap_or(0),
            _ => 0,
        };
        let verdict = Verdict { admitted: int(0) == 1, remaining: int(1), reset: int(2) };
        if int(4) == 1 {
            self.checkpoint_due.set(true);
        }
        let revocation = match int(3) {
            1 => Revocation::Revoked,
            2 => Revocation::Unknown,
            _ => Revocation::Live,
        };
        Ok(Some(Charged { verdict, revocation, verified: int(5) == 1 }))
    }
}

/// What a charge found.
#[derive(Debug, Clone, Copy)]
pub struct Charged {
    pub verdict: Verdict,
    pub revocation: Revocation,
    /// The checked token has a verified entry (its member's bucket was charged).
    pub verified: bool,
}

/// What the revocation cache says of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    Revoked,
    Live,
    /// The cache is cold: ask PostgreSQL (`revocations::rebuild`).
    Unknown,
}

pub fn unavailable() -> Problem {
    Problem::new(503, "gateway_unavailable", "Service unavailable")
        .with_detail("cannot check the rate limit: redis")
        .with("retry_after", 1)
}
