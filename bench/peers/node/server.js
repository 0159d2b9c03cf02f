// A reference peer for bench/compare: what Vottery does for two requests,
// written the usual Node way (Express 5, jose, node-redis, pg; node:cluster
// with one worker per core), to put our WebAssembly host's figures beside.
//
//   GET /api/sessions/current        the gateway's rate limit and access-token
//                                    check (components/gateway/src/access.rs,
//                                    limiter.rs), then the identity devices
//                                    answers (components/devices/src/sessions.rs)
//   POST /api/auth/refresh-token     the gateway's rate limit, then the rotation
//                                    auth, devices and security do
//                                    (components/auth/src/session.rs,
//                                    components/devices/src/sessions.rs)
//
// As a gateway instance does, each worker remembers the key set (60 s) and
// the tokens it has verified (until they expire): a repeat token costs one
// Redis round trip, the rate-limit script that also reads the session's
// revocation entry, and no signature check. A new token: that script for
// the client address, the key set (memory, else the gateway's Redis entry
// `<ns>:gateway:jwks`, else fetched from JWKS_URL and written back for
// 60 s), the EdDSA verification, then the member's bucket.
// Access tokens it issues are signed with a local Ed25519 key (made by the
// primary at start), not with the security service's key.
//
// Environment: PORT (3968), PG_DATABASE (vottery), PG_USER (vottery_devices),
// REDIS_URL, REDIS_NAMESPACE (vottery), RATE_LIMITS (as our rate_limits),
// TOKEN_ISSUER, TOKEN_AUDIENCE, JWKS_URL (our app's /.well-known/jwks.json),
// WORKERS (one per core).

import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import express from 'express';
import { SignJWT, jwtVerify, decodeJwt, decodeProtectedHeader, importJWK, exportJWK, generateKeyPair, errors } from 'jose';
import { createClient } from 'redis';
import pg from 'pg';

const env = (name, fallback) => process.env[name] || fallback;
const PORT = Number(env('PORT', '3968'));
const NAMESPACE = env('REDIS_NAMESPACE', 'vottery');
const ISSUER = env('TOKEN_ISSUER', 'https://id.vottery.invalid');
const AUDIENCE = env('TOKEN_AUDIENCE', 'vottery-dashboard');
const JWKS_URL = env('JWKS_URL', 'http://127.0.0.1:3967/.well-known/jwks.json');
const JWKS_TTL = 60; // seconds, as the gateway caches the key set
const LEEWAY = 60; // seconds on exp and nbf, as the gateway's validation
// session_policy's defaults (crates/sessions/src/rotation.rs).
const POLICY = { accessTtl: 600, refreshIdle: 14 * 86400, sessionAbsolute: 30 * 86400, grace: 10 };
const RACES = 3;

async function worker() {
  const redis = createClient({ url: env('REDIS_URL', 'redis://127.0.0.1:6379') });
  redis.on('error', (e) => console.error(`peer: redis: ${e.message}`));
  await redis.connect();
  const db = new pg.Pool({
    host: env('PG_HOST', '127.0.0.1'),
    port: Number(env('PG_PORT', '5432')),
    database: env('PG_DATABASE', 'vottery'),
    user: env('PG_USER', 'vottery_devices'),
    max: 16, // per worker; the host's pool holds 32 per address
  });
  const signingJwk = JSON.parse(process.env.PEER_SIGNING_JWK);
  const signingKey = await importJWK(signingJwk, 'EdDSA');

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(gatewayHeaders);

  app.get('/api/sessions/current', async (req, res) => {
    try {
      const member = await checkAccess(redis, req.get('authorization'), { class: 'read', res });
      res.json({ user_id: member.sub, session_id: member.sid, device_id: member.did });
    } catch (e) {
      if (!(e instanceof Refused)) throw e;
      problem(res, e);
    }
  });

  const json = express.json({ limit: '64kb' });
  app.post('/api/auth/refresh-token', limitAddress(redis, 'refresh'), json, async (req, res) => {
    const answer = await refresh(db, redis, signingKey, signingJwk.kid, req.body);
    if (answer instanceof Refused) return problem(res, answer);
    res.json(answer);
  });

  app.use((err, req, res, next) => problem(res, new Refused(err.status || 500, err.status ? 'invalid_request' : 'internal_error')));
  app.listen(PORT, '127.0.0.1');
}

// --- the gateway ------------------------------------------------------------

const SECURITY_HEADERS = {
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
  vary: 'Origin',
};

// The headers every public answer carries, and a request id (the caller's
// when it is short and plain, else 128 random bits).
function gatewayHeaders(req, res, next) {
  const offered = req.get('x-request-id');
  const id = offered && /^[A-Za-z0-9._-]{8,64}$/.test(offered) ? offered : randomBytes(16).toString('hex');
  res.set(SECURITY_HEADERS).set('x-request-id', id);
  next();
}

// A refusal, answered as an RFC 9457 problem (components/kit).
class Refused extends Error {
  constructor(status, code, detail, retryAfter) {
    super(code);
    Object.assign(this, { status, code, detail, retryAfter });
  }
}

function problem(res, { status, code, detail, retryAfter }) {
  const title = { 401: 'Unauthorized', 429: 'Too many requests', 503: 'Service unavailable' }[status] || 'Error';
  if (status === 401) res.set('www-authenticate', 'Bearer');
  if (retryAfter) res.set('retry-after', String(retryAfter));
  res.status(status).type('application/problem+json');
  const body = { type: `urn:vottery:problem:${code}`, title, status, code, detail, retry_after: retryAfter };
  res.send(JSON.stringify(body));
}

const TOKEN_DETAILS = {
  token_missing: 'this route needs an access token (Authorization: Bearer)',
  session_revoked: 'the session of this access token has been revoked',
  token_expired: 'the access token has expired; refresh it',
  token_invalid: 'the access token is not valid',
};
const refused = (code) => new Refused(401, code, TOKEN_DETAILS[code]);
const unavailable = (what) => new Refused(503, 'gateway_unavailable', `cannot check ${what}`);

// Rate limits (crates/gateway-policy/src/limits.rs): `limit` requests per
// `window` seconds per route class, from RATE_LIMITS (`class=limit/seconds`).
const RATES = { 'otp-send': [10, 60], 'otp-verify': [30, 60], passkey: [30, 60], refresh: [60, 60], admin: [60, 60], read: [600, 60], write: [120, 60] };
for (const entry of env('RATE_LIMITS', '').split(/[, \n]/).filter(Boolean)) {
  const [, name, limit, window] = entry.match(/^([a-z-]+)=(\d+)\/(\d+)$/) || [];
  if (!(name in RATES) || !(limit >= 1 && limit <= 1e6) || !(window >= 1 && window <= 86400)) {
    throw new Error(`RATE_LIMITS: \`${entry}\` is not class=limit/seconds with a known class`);
  }
  RATES[name] = [Number(limit), Number(window)];
}

// components/gateway/src/limiter.rs's script, verbatim: charges the GCRA
// buckets and reads a session's revocation entry, in one round trip.
const CHARGE = "local t = redis.call('TIME') \
    local now = tonumber(t[1]) * 1000000 + tonumber(t[2]) \
    local interval = tonumber(ARGV[1]) \
    local window = tonumber(ARGV[2]) \
    local n = tonumber(ARGV[4]) \
    local wait, remaining, reset, tats = 0, nil, 0, {} \
    for i = 1, n do \
      local tat = tonumber(redis.call('GET', KEYS[1 + i]) or '0') \
      if tat < now then tat = now end \
      local ahead = tat + interval - now \
      if ahead > window then wait = math.max(wait, ahead - window) end \
      tats[i] = tat + interval \
      local left = math.floor((window - ahead) / interval) \
      if remaining == nil or left < remaining then remaining = left end \
      reset = math.max(reset, ahead) \
    end \
    local revoked = 0 \
    if ARGV[5] == '1' then revoked = redis.call('EXISTS', KEYS[n + 2]) end \
    if wait > 0 then \
      redis.call('HINCRBY', KEYS[1], ARGV[3], 1) \
      return {0, 0, math.ceil(wait / 1000000), revoked} \
    end \
    for i = 1, n do redis.call('SET', KEYS[1 + i], string.format('%d', tats[i]), 'PX', math.ceil((tats[i] - now) / 1000)) end \
    return {1, math.max(remaining, 0), math.ceil(reset / 1000000), revoked}".replace(/ {2,}/g, ' '); // as Rust reads the literal

// One request's rate limit: charges `buckets` of its class (the client
// address's, the member's) and, given a session id, says whether it is
// revoked; a refusal is a 429. Sets the RateLimit fields of the answer.
async function spend(redis, limit, buckets, sid) {
  const [rate, window] = RATES[limit.class];
  const keys = [`${NAMESPACE}:metrics:rate_limited`, ...buckets.map((b) => `${NAMESPACE}:rl:${limit.class}:${b}`)];
  if (sid !== undefined) keys.push(`${NAMESPACE}:revoked:${sid}`);
  // Microseconds: the steady interval (rounded up) and the window.
  const args = [Math.ceil((window * 1e6) / rate), window * 1e6, limit.class, buckets.length, sid !== undefined ? 1 : 0];
  let admitted, remaining, reset, revoked;
  try {
    [admitted, remaining, reset, revoked] = await redis.eval(CHARGE, { keys, arguments: args.map(String) });
  } catch {
    throw new Refused(503, 'gateway_unavailable', 'cannot check the rate limit: redis', 1);
  }
  limit.res.set('ratelimit-policy', `"${limit.class}";q=${rate};w=${window}`);
  limit.res.set('ratelimit', `"${limit.class}";r=${remaining};t=${reset}`);
  if (!admitted) {
    const wait = Math.max(reset, 1);
    throw new Refused(429, 'rate_limited', `too many \`${limit.class}\` requests; try again in ${wait} s`, wait);
  }
  return revoked === 1;
}

// Express middleware: the client address's bucket of a route without a token.
const limitAddress = (redis, cls) => async (req, res, next) => {
  try {
    await spend(redis, { class: cls, res }, [`ip:${req.socket.remoteAddress}`]);
    next();
  } catch (e) {
    if (e instanceof Refused) problem(res, e);
    else next(e);
  }
};

// The token of `Authorization: Bearer <token>` (gateway-policy's `bearer`).
function bearer(header) {
  const trimmed = (header || '').trim();
  const space = trimmed.indexOf(' ');
  if (space < 0 || trimmed.slice(0, space).toLowerCase() !== 'bearer') return null;
  const token = trimmed.slice(space + 1).trim();
  return token && !token.includes(' ') ? token : null;
}

// What a worker remembers between requests, as a gateway instance does:
// the key set (60 s) and the tokens it has verified (until they expire).
const memory = { keys: null, keysAt: 0, tokens: new Map() };
const REMEMBERED_TOKENS = 4096;
const MISS_INTERVAL = 10; // seconds between two fetches for unknown kids

function rememberToken(token, claims, now) {
  if (memory.tokens.size >= REMEMBERED_TOKENS) {
    for (const [t, c] of memory.tokens) if (now > c.exp) memory.tokens.delete(t);
    if (memory.tokens.size >= REMEMBERED_TOKENS) memory.tokens.clear();
  }
  memory.tokens.set(token, claims);
}

async function importKeys(text) {
  const keys = new Map();
  for (const jwk of JSON.parse(text).keys || []) {
    if (jwk.kid && jwk.alg === 'EdDSA') keys.set(jwk.kid, await importJWK(jwk, 'EdDSA'));
  }
  return keys;
}

// The key of `kid`: from memory, else Redis, else fetched from our app (for
// an unknown kid at most once per MISS_INTERVAL across everyone).
async function keyOf(redis, kid, now) {
  if (memory.keys && now - memory.keysAt < JWKS_TTL && memory.keys.has(kid)) return memory.keys.get(kid);
  const cacheKey = `${NAMESPACE}:gateway:jwks`;
  let keys;
  try {
    const cached = await redis.get(cacheKey);
    keys = cached ? await importKeys(cached).catch(() => null) : null;
    if (!keys || !keys.has(kid)) {
      const mayFetch = await redis.set(`${NAMESPACE}:gateway:jwks-miss`, '1', { condition: 'NX', expiration: { type: 'EX', value: MISS_INTERVAL } });
      if (!mayFetch) throw refused('token_invalid');
      const response = await fetch(JWKS_URL);
      if (!response.ok) throw new Error(`${response.status}`);
      const text = await response.text();
      keys = await importKeys(text);
      await redis.set(cacheKey, text, { expiration: { type: 'EX', value: JWKS_TTL } }).catch(() => {});
    }
  } catch (e) {
    throw e instanceof Refused ? e : unavailable('access tokens: the key set');
  }
  Object.assign(memory, { keys, keysAt: now });
  if (!keys.has(kid)) throw refused('token_invalid');
  return keys.get(kid);
}

// access.rs's `verify`: the claims of a valid token of a live session, and
// its rate limit charged; a remembered token costs one Redis round trip.
async function checkAccess(redis, authorization, limit) {
  const address = `ip:${limit.res.req.socket.remoteAddress}`;
  const token = bearer(authorization);
  if (!token) {
    await spend(redis, limit, [address]);
    throw refused('token_missing');
  }
  const now = Math.floor(Date.now() / 1000);
  const known = memory.tokens.get(token);
  if (known && now - LEEWAY <= known.exp) {
    if (await spend(redis, limit, [address, `member:${known.sub}`], known.sid)) throw refused('session_revoked');
    return known;
  }
  let header, sid;
  try {
    sid = decodeJwt(token).sid; // read unverified, only to fetch its revocation entry
  } catch {}
  const revoked = await spend(redis, limit, [address], typeof sid === 'string' ? sid : undefined);
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw refused('token_invalid');
  }
  if (header.alg !== 'EdDSA' || header.typ !== 'at+jwt' || !header.kid || typeof sid !== 'string') {
    throw refused('token_invalid');
  }
  const key = await keyOf(redis, header.kid, now);
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(token, key, {
      algorithms: ['EdDSA'],
      issuer: ISSUER,
      audience: AUDIENCE,
      clockTolerance: LEEWAY,
      requiredClaims: ['exp', 'iss', 'aud', 'sub'],
    }));
  } catch (e) {
    throw refused(e instanceof errors.JWTExpired ? 'token_expired' : 'token_invalid');
  }
  if (![claims.sub, claims.sid, claims.did].every((c) => typeof c === 'string')) throw refused('token_invalid');
  if (claims.sid !== sid) throw refused('session_revoked');
  rememberToken(token, claims, now);
  if (revoked) throw refused('session_revoked');
  await spend(redis, limit, [`member:${claims.sub}`]);
  return claims;
}

// --- refresh rotation: auth, devices, security --------------------------------

const sha256 = (text) => createHash('sha256').update(text).digest();
const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const sessionProblem = (code) => new Refused(code === 'invalid_field' ? 400 : 401, code);

function validRefreshToken(raw) {
  if (typeof raw !== 'string' || !/^vrt_[A-Za-z0-9_-]{43}$/.test(raw)) return false;
  const bytes = Buffer.from(raw.slice(4), 'base64url');
  return bytes.length === 32 && b64url(bytes) === raw.slice(4); // canonical, as Rust's base64 decodes
}

const FIND = `SELECT t.session_id::text, extract(epoch FROM t.issued_at)::bigint, extract(epoch FROM t.rotated_at)::bigint,
  s.user_id::text, s.device_id, extract(epoch FROM s.created_at)::bigint,
  extract(epoch FROM s.revoked_at)::bigint, array_to_string(s.amr, ','),
  EXISTS (SELECT 1 FROM devices.refresh_tokens c WHERE c.parent_hash = t.hash AND c.rotated_at IS NULL)
  FROM devices.refresh_tokens t JOIN devices.sessions s ON s.id = t.session_id WHERE t.hash = $1`;
const ROTATE = `WITH r AS (UPDATE devices.refresh_tokens SET rotated_at = to_timestamp($3::bigint)
  WHERE hash = $1 AND rotated_at IS NULL RETURNING session_id),
  u AS (UPDATE devices.sessions SET last_used_at = to_timestamp($3::bigint) WHERE id IN (SELECT session_id FROM r))
  INSERT INTO devices.refresh_tokens (hash, session_id, parent_hash, issued_at)
  SELECT $2, session_id, $1, to_timestamp($3::bigint) FROM r RETURNING 1`;
const SIBLING = `INSERT INTO devices.refresh_tokens (hash, session_id, parent_hash, issued_at)
  SELECT $2, session_id, $1, to_timestamp($3::bigint) FROM devices.refresh_tokens WHERE hash = $1 RETURNING 1`;
const REVOKE = `UPDATE devices.sessions SET revoked_at = to_timestamp($2::bigint), revoke_reason = 'refresh_reuse'
  WHERE id = $1::text::uuid AND revoked_at IS NULL`;
const AUDIT = 'SELECT audit.append($1, $2, $3, $4, $5)';

// vottery-sessions-core's `decide`.
function decide(found, deviceId, at) {
  if (!found) return ['refused', 'refresh_token_unknown'];
  const [, issuedAt, rotatedAt, , sessionDevice, createdAt, revokedAt, , childActive] = found;
  if (revokedAt !== null) return ['refused', 'session_revoked'];
  if (at >= Number(createdAt) + POLICY.sessionAbsolute) return ['refused', 'session_expired'];
  if (deviceId !== sessionDevice) return ['refused', 'device_mismatch'];
  if (rotatedAt === null) {
    return at >= Number(issuedAt) + POLICY.refreshIdle ? ['refused', 'refresh_token_expired'] : ['rotated'];
  }
  return at < Number(rotatedAt) + POLICY.grace && childActive ? ['sibling'] : ['reused'];
}

async function refresh(db, redis, signingKey, kid, body) {
  const deviceId = body?.device_id;
  if (typeof deviceId !== 'string' || !/^[A-Za-z0-9._-]{8,128}$/.test(deviceId)) return sessionProblem('invalid_field');
  if (!validRefreshToken(body.refresh_token)) return sessionProblem('invalid_field');
  // auth: the presented token's hash, a new token and its hash.
  const old = sha256(body.refresh_token);
  const next = `vrt_${b64url(randomBytes(32))}`;
  const nextHash = sha256(next);
  // devices: find, decide, one statement for the change, an audit row.
  const client = await db.connect();
  let session, kind;
  try {
    const at = now();
    for (let race = 0; race < RACES && !kind; race++) {
      const found = (await client.query({ text: FIND, values: [old], rowMode: 'array' })).rows[0];
      const [decision, code] = decide(found, deviceId, at);
      if (decision === 'refused') return sessionProblem(code);
      if (decision === 'reused') {
        await client.query(REVOKE, [found[0], at]);
        await client.query(AUDIT, ['auth', 'session.revoked', found[0], 'refresh_reuse', { device_id: deviceId }]);
        await redis.set(`${NAMESPACE}:revoked:${found[0]}`, 'refresh_reuse', { expiration: { type: 'EX', value: POLICY.accessTtl } });
        return sessionProblem('refresh_token_reused');
      }
      const applied = await client.query(decision === 'rotated' ? ROTATE : SIBLING, [old, nextHash, at]);
      if (applied.rowCount > 0) [session, kind] = [found, decision];
    }
    if (!kind) return new Refused(503, 'storage_unavailable');
    await client.query(AUDIT, ['auth', 'session.refreshed', session[0], kind, { device_id: deviceId }]);
  } finally {
    client.release();
  }
  const [sessionId, , , userId, sessionDevice, , , amr] = session;
  const event = { type: 'session.refreshed', service: 'devices', at: now(), session_id: sessionId, rotation: kind };
  await redis.publish(`${NAMESPACE}:events`, JSON.stringify(event)).catch(() => {});
  // security: the access token (AccessClaims::to_json, plus iss).
  const iat = now();
  const claims = {
    sub: userId, aud: AUDIENCE, client_id: AUDIENCE, sid: sessionId, did: sessionDevice,
    amr: amr.split(','), roles: ['member'], iat, nbf: iat, exp: iat + POLICY.accessTtl,
    jti: b64url(randomBytes(16)), iss: ISSUER,
  };
  const accessToken = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid }).sign(signingKey);
  return {
    access_token: accessToken, token_type: 'Bearer', expires_in: POLICY.accessTtl,
    session_id: sessionId, refresh_token: next,
  };
}

// --- start: the primary forks the workers, which serve ---------------------

if (cluster.isPrimary) {
  // One signing key for every worker, so their tokens share a kid.
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: `peer-${randomBytes(6).toString('hex')}` };
  const workers = Number(env('WORKERS', String(availableParallelism())));
  let listening = 0;
  let shuttingDown = false;
  for (let i = 0; i < workers; i++) {
    cluster.fork({ PEER_SIGNING_JWK: JSON.stringify(jwk) }).on('listening', () => {
      if (++listening === workers) console.log(`peer: ${workers} workers on 127.0.0.1:${PORT}`);
    });
  }
  cluster.on('exit', (worker, code, signal) => {
    if (!shuttingDown) console.error(`peer: worker ${worker.process.pid} exited (${signal || code})`);
  });
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      shuttingDown = true;
      for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
      process.exit(0);
    });
  }
} else {
  await worker();
}
