// The soak's load (started by bench/soak, which starts the app and prints
// this script's Markdown report): the member flow, open loop at a fixed
// rate, each flow as a native iOS app would run it, with a software
// authenticator (ES256, "none" attestation) made of Node's crypto:
//
//   send-otp -> both codes from the outbox -> verify-otp -> enrol options ->
//   enrol (a session) -> GET sessions/current, GET users/profile ->
//   refresh-token -> sign-in options -> sign-in (another session) -> logout
//
// Every request's route, status and latency is kept; the report has the
// throughput, p50/p99 per route per minute, the host's RSS every 10 s, and
// every 5xx with its problem code. Exits 1 when a flow failed or a 5xx came.
//
// Settings (environment): SOAK_BASE (the app, e.g. http://127.0.0.1:3000),
// SOAK_ORIGIN (the passkey origin, e.g. http://localhost:3000), SOAK_OUTBOX,
// SOAK_HOST_PID (the vottery-host process whose RSS is sampled), DURATION
// (s), RATE (flows/s), MEMBERS (Sngine accounts soak0..soak<MEMBERS-1>@
// example.com with phones +447912400000 + i), MAX_IN_FLIGHT, WARMUP (s).
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Outbox } from '../tests/browser/lib/outbox.mjs';

const env = process.env;
const BASE = (env.SOAK_BASE ?? '').replace(/\/$/, '');
const ORIGIN = env.SOAK_ORIGIN ?? '';
const OUTBOX = env.SOAK_OUTBOX ?? '';
const HOST_PID = env.SOAK_HOST_PID ?? '';
const DURATION = Number(env.DURATION ?? 1200);
const RATE = Number(env.RATE ?? 4);
const MEMBERS = Number(env.MEMBERS ?? 500);
const MAX_IN_FLIGHT = Number(env.MAX_IN_FLIGHT ?? 64);
const WARMUP = Number(env.WARMUP ?? 120);
const RSS_EVERY = 10;
const REQUEST_TIMEOUT_MS = 30_000;
const DRAIN_MS = 60_000;
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

if (!BASE || !ORIGIN || !OUTBOX || !HOST_PID || !(DURATION > 0) || !(RATE > 0) || !(MEMBERS > 0)) {
  console.error('soak.mjs needs SOAK_BASE, SOAK_ORIGIN, SOAK_OUTBOX, SOAK_HOST_PID and positive DURATION, RATE, MEMBERS');
  process.exit(2);
}

// --- the routes, in flow order, with their short names for the tables

const ROUTES = [
  ['POST /api/auth/send-otp', 'send-otp'],
  ['POST /api/auth/verify-otp', 'verify-otp'],
  ['POST /api/auth/capture-biometric/options', 'enrol options'],
  ['POST /api/auth/capture-biometric', 'enrol'],
  ['GET /api/sessions/current', 'sessions/current'],
  ['GET /api/users/profile', 'users/profile'],
  ['POST /api/auth/refresh-token', 'refresh'],
  ['POST /api/auth/assert-biometric/options', 'sign-in options'],
  ['POST /api/auth/assert-biometric', 'sign-in'],
  ['POST /api/auth/logout', 'logout'],
];

// --- base64url, CBOR (just what an attestation object holds), WebAuthn

const b64u = (bytes) => Buffer.from(bytes).toString('base64url');
const sha256 = (data) => createHash('sha256').update(data).digest();

function cborHead(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

/** CBOR of integers, text, byte strings and maps (a `Map` keeps key order). */
function cbor(value) {
  if (Number.isInteger(value)) return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, text.length), text]);
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.concat([cborHead(2, value.length), value]);
  if (value instanceof Map) {
    const parts = [cborHead(5, value.size)];
    for (const [k, v] of value) parts.push(cbor(k), cbor(v));
    return Buffer.concat(parts);
  }
  throw new Error(`cbor: cannot encode ${typeof value}`);
}

/** A platform authenticator holding one ES256 credential, as crates/passkeys/src/soft.rs builds its answers. */
class SoftAuthenticator {
  constructor(origin) {
    this.origin = origin;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.credentialId = randomBytes(32);
    this.counter = 0;
  }

  clientData(type, challenge) {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }));
  }

  /** RP ID hash, flags (UP | UV | extra), signature counter. */
  authDataHead(rpId, extraFlags) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    return Buffer.concat([sha256(rpId), Buffer.from([0x01 | 0x04 | extraFlags]), counter]);
  }

  coseKey() {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return new Map([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x, 'base64url')],
      [-3, Buffer.from(jwk.y, 'base64url')],
    ]);
  }

  signature(authData, clientData) {
    return sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.privateKey);
  }

  /** navigator.credentials.create(publicKey).toJSON(), attestation "none". */
  register(publicKey) {
    const clientData = this.clientData('webauthn.create', publicKey.challenge);
    this.counter += 1;
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const authData = Buffer.concat([
      this.authDataHead(publicKey.rp.id, 0x40),
      Buffer.alloc(16),
      idLength,
      this.credentialId,
      cbor(this.coseKey()),
    ]);
    const attestation = new Map([
      ['fmt', 'none'],
      ['attStmt', new Map()],
      ['authData', authData],
    ]);
    return this.credential({
      clientDataJSON: b64u(clientData),
      attestationObject: b64u(cbor(attestation)),
      authenticatorData: b64u(authData),
      publicKey: b64u(this.publicKey.export({ format: 'der', type: 'spki' })),
      publicKeyAlgorithm: -7,
      transports: ['internal', 'hybrid'],
    });
  }

  /** The PublicKeyCredential JSON around an authenticator's `response`. */
  credential(response) {
    return {
      id: b64u(this.credentialId),
      rawId: b64u(this.credentialId),
      type: 'public-key',
      response,
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  /** navigator.credentials.get(publicKey).toJSON() for the 16-byte user handle. */
  assert(publicKey, rpId, userHandle) {
    const clientData = this.clientData('webauthn.get', publicKey.challenge);
    this.counter += 1;
    const authData = this.authDataHead(publicKey.rpId ?? rpId, 0);
    return this.credential({
      clientDataJSON: b64u(clientData),
      authenticatorData: b64u(authData),
      signature: b64u(this.signature(authData, clientData)),
      userHandle: b64u(userHandle),
    });
  }
}

const userHandle = (userId) => Buffer.from(userId.replaceAll('-', ''), 'hex');

// --- what is recorded

const started = performance.now();
const now = () => (performance.now() - started) / 1000;
const requests = []; // { t, route, status, ms }
const serverErrors = []; // { t, route, status, code, detail, requestId }
const failures = []; // { flow, step, status, code, detail }
const rss = []; // { t, kb }
const flows = { started: 0, completed: 0, failed: 0, dropped: 0, noMember: 0, durations: [] };

class StepError extends Error {
  constructor(step, status, code, detail) {
    super(`${step}: ${status} ${code ?? ''} ${detail ?? ''}`.trim());
    Object.assign(this, { step, status, code, detail });
  }
}

/** One request: recorded, and its JSON body returned when the status is `expected`. */
async function call(route, path, { body, bearer, expected }) {
  const method = route.split(' ')[0];
  const headers = { 'user-agent': IPHONE, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  const t = now();
  const t0 = performance.now();
  let response;
  let text;
  try {
    response = await fetch(`${BASE}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    text = await response.text();
  } catch (error) {
    requests.push({ t, route, status: 0, ms: performance.now() - t0 });
    throw new StepError(route, 0, 'network_error', error.cause?.code ?? error.message);
  }
  const ms = performance.now() - t0;
  requests.push({ t, route, status: response.status, ms });
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  if (response.status >= 500) {
    serverErrors.push({
      t,
      route,
      status: response.status,
      code: json?.code ?? '(no problem code)',
      detail: json?.detail ?? text.slice(0, 200),
      requestId: response.headers.get('x-request-id') ?? '',
    });
  }
  if (response.status !== expected) {
    throw new StepError(route, response.status, json?.code, json?.detail ?? text.slice(0, 200));
  }
  return json;
}

function need(step, value, what) {
  if (value === undefined || value === null || value === '') throw new StepError(step, -1, 'bad_answer', `no ${what}`);
  return value;
}

const outbox = new Outbox(OUTBOX);

/** One member's whole flow on a new device. */
async function flow(n, member) {
  const email = `soak${member}@example.com`;
  const phone = `+447912${String(400000 + member)}`;
  const device = `ios-soak-${process.pid}-${n}`;
  const auth = new SoftAuthenticator(ORIGIN);
  // The member is used by this flow alone, so the next message to each
  // contact after these marks is this flow's.
  const marks = await Promise.all([outbox.count(email), outbox.count(phone)]);
  const sent = await call(ROUTES[0][0], '/api/auth/send-otp', { body: { email, phone }, expected: 202 });
  const flowId = need('send-otp', sent?.flow_id, 'flow_id');
  const [emailCode, smsCode] = await Promise.all([
    outbox.nextCode(email, { after: marks[0], timeout: 20_000 }),
    outbox.nextCode(phone, { after: marks[1], timeout: 20_000 }),
  ]).catch((error) => {
    throw new StepError('outbox', -1, 'no_code', error.message);
  });
  const verified = await call(ROUTES[1][0], '/api/auth/verify-otp', {
    body: { flow_id: flowId, email_code: emailCode.code, sms_code: smsCode.code },
    expected: 200,
  });
  const enrolmentToken = need('verify-otp', verified?.enrolment_token, 'enrolment_token');
  const enrolOptions = await call(ROUTES[2][0], '/api/auth/capture-biometric/options', {
    body: { enrolment_token: enrolmentToken, device_id: device },
    expected: 200,
  });
  const credential = auth.register(need('enrol options', enrolOptions?.publicKey, 'publicKey'));
  const enrolled = await call(ROUTES[3][0], '/api/auth/capture-biometric', {
    body: { credential, device: { native_app: true } },
    expected: 201,
  });
  const access = need('enrol', enrolled?.access_token, 'access_token');
  const refresh = need('enrol', enrolled?.refresh_token, 'refresh_token');
  const userId = need('enrol', enrolled?.user_id, 'user_id');
  await call(ROUTES[4][0], '/api/sessions/current', { bearer: access, expected: 200 });
  await call(ROUTES[5][0], '/api/users/profile', { bearer: access, expected: 200 });
  const refreshed = await call(ROUTES[6][0], '/api/auth/refresh-token', {
    body: { device_id: device, refresh_token: refresh },
    expected: 200,
  });
  need('refresh', refreshed?.refresh_token, 'refresh_token');
  const signInOptions = await call(ROUTES[7][0], '/api/auth/assert-biometric/options', {
    body: { device_id: device },
    expected: 200,
  });
  const assertion = auth.assert(
    need('sign-in options', signInOptions?.publicKey, 'publicKey'),
    enrolOptions.publicKey.rp.id,
    userHandle(userId),
  );
  const signedIn = await call(ROUTES[8][0], '/api/auth/assert-biometric', {
    body: { device_id: device, credential: assertion, device: { native_app: true } },
    expected: 201,
  });
  await call(ROUTES[9][0], '/api/auth/logout', {
    body: { device_id: device, refresh_token: need('sign-in', signedIn?.refresh_token, 'refresh_token') },
    expected: 200,
  });
}

// --- the host's RSS

function sampleRss() {
  try {
    const status = readFileSync(`/proc/${HOST_PID}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
    const hwm = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1]);
    rss.push({ t: now(), kb, hwm });
  } catch (error) {
    rss.push({ t: now(), kb: NaN, hwm: NaN, error: error.message });
  }
}

// --- the open loop

const free = Array.from({ length: MEMBERS }, (_, i) => i);
let inFlight = 0;
const running = new Set();

function startFlow(n) {
  if (inFlight >= MAX_IN_FLIGHT) {
    flows.dropped += 1;
    return;
  }
  const member = free.shift();
  if (member === undefined) {
    flows.noMember += 1;
    return;
  }
  inFlight += 1;
  flows.started += 1;
  const t0 = performance.now();
  const p = flow(n, member)
    .then(
      () => {
        flows.completed += 1;
        flows.durations.push({ t: now(), ms: performance.now() - t0 });
      },
      (error) => {
        flows.failed += 1;
        if (failures.length < 1000) {
          failures.push({
            flow: n,
            t: now(),
            step: error.step ?? 'flow',
            status: error.status ?? -1,
            code: error.code ?? 'exception',
            detail: error.detail ?? error.message,
          });
        }
      },
    )
    .finally(() => {
      inFlight -= 1;
      free.push(member);
      running.delete(p);
    });
  running.add(p);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function load() {
  sampleRss();
  const sampler = setInterval(sampleRss, RSS_EVERY * 1000);
  const progress = setInterval(() => {
    console.error(
      `soak: ${now().toFixed(0)} s: ${flows.started} flows started, ${flows.completed} completed, ` +
        `${flows.failed} failed, ${flows.dropped} dropped, ${inFlight} in flight, ${serverErrors.length} 5xx, ` +
        `host RSS ${((rss.at(-1)?.kb ?? NaN) / 1024).toFixed(0)} MB`,
    );
  }, 60_000);
  const total = Math.floor(DURATION * RATE);
  for (let n = 0; n < total; n++) {
    const at = (n / RATE) * 1000;
    const wait = at - (performance.now() - started);
    if (wait > 0) await sleep(wait);
    startFlow(n);
  }
  const end = DURATION * 1000 - (performance.now() - started);
  if (end > 0) await sleep(end);
  const loadEnd = now();
  const drain = Promise.all([...running]);
  const timeout = new Promise((resolve) => setTimeout(resolve, DRAIN_MS, false).unref());
  const drained = await Promise.race([drain.then(() => true), timeout]);
  sampleRss();
  clearInterval(sampler);
  clearInterval(progress);
  return { loadEnd, drained };
}

// --- the report

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

const fmt = (ms) => (Number.isFinite(ms) ? (ms < 10 ? ms.toFixed(1) : ms.toFixed(0)) : '–');
const mb = (kb) => (Number.isFinite(kb) ? (kb / 1024).toFixed(1) : '?');
const median = (values) => quantile([...values].sort((a, b) => a - b), 0.5);

function slopePerMinute(points) {
  if (points.length < 2) return NaN;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.t, 0) / n;
  const my = points.reduce((s, p) => s + p.kb, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mx) * (p.kb - my);
    den += (p.t - mx) ** 2;
  }
  return den === 0 ? NaN : (num / den) * 60;
}

function report({ loadEnd, drained }) {
  const out = [];
  const minutes = Math.max(1, Math.ceil(DURATION / 60));
  const minuteOf = (t) => Math.min(minutes - 1, Math.floor(t / 60));
  const minuteLabel = (m) => {
    const from = m * 60;
    const to = Math.min(DURATION, from + 60);
    return to - from === 60 ? `${m + 1}` : `${m + 1} (${from}–${to} s)`;
  };

  const fives = requests.filter((r) => r.status >= 500).length;
  const okFlows = flows.completed;
  out.push(
    `Load: ${RATE} flows/s for ${DURATION} s (open loop, at most ${MAX_IN_FLIGHT} in flight), ` +
      `${MEMBERS} Sngine members, each flow a new iOS device (native app, ES256 passkey, \`none\` attestation).`,
  );
  out.push('');
  out.push('| flows started | completed | failed | dropped (in-flight cap) | flows/s completed | requests | requests/s | flow p50 ms | flow p99 ms | 5xx |');
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  const flowMs = flows.durations.map((d) => d.ms).sort((a, b) => a - b);
  out.push(
    `| ${flows.started} | ${okFlows} | ${flows.failed} | ${flows.dropped + flows.noMember} | ${(okFlows / loadEnd).toFixed(2)} | ` +
      `${requests.length} | ${(requests.length / loadEnd).toFixed(1)} | ${fmt(quantile(flowMs, 0.5))} | ${fmt(quantile(flowMs, 0.99))} | ${fives} |`,
  );
  if (!drained) out.push('', `Warning: flows were still running ${DRAIN_MS / 1000} s after the load ended.`);
  if (flows.noMember) out.push('', `Warning: ${flows.noMember} flows found no free member (raise MEMBERS).`);

  // Per route over the whole run.
  out.push('', '### Per route, whole run', '');
  out.push('| route | requests | p50 ms | p99 ms | max ms | non-expected | 5xx |');
  out.push('|---|---|---|---|---|---|---|');
  const expected = new Map([
    [ROUTES[0][0], 202],
    [ROUTES[3][0], 201],
    [ROUTES[8][0], 201],
  ]);
  for (const [route] of ROUTES) {
    const rs = requests.filter((r) => r.route === route);
    const ms = rs.map((r) => r.ms).sort((a, b) => a - b);
    const want = expected.get(route) ?? 200;
    out.push(
      `| \`${route}\` | ${rs.length} | ${fmt(quantile(ms, 0.5))} | ${fmt(quantile(ms, 0.99))} | ${fmt(ms.at(-1))} | ` +
        `${rs.filter((r) => r.status !== want).length} | ${rs.filter((r) => r.status >= 500).length} |`,
    );
  }

  // Per route per minute.
  out.push('', '### p50 / p99 ms per route per minute (requests started in that minute, their count in brackets)', '');
  out.push(`| minute | flows done | req/s | ${ROUTES.map(([, short]) => short).join(' | ')} |`);
  out.push(`|---|---|---|${ROUTES.map(() => '---|').join('')}`);
  for (let m = 0; m < minutes; m++) {
    const inMinute = requests.filter((r) => minuteOf(r.t) === m);
    const seconds = m === minutes - 1 ? Math.max(1, loadEnd - m * 60) : 60;
    const done = flows.durations.filter((d) => minuteOf(d.t) === m).length;
    const cells = ROUTES.map(([route]) => {
      const ms = inMinute
        .filter((r) => r.route === route)
        .map((r) => r.ms)
        .sort((a, b) => a - b);
      return ms.length ? `${fmt(quantile(ms, 0.5))} / ${fmt(quantile(ms, 0.99))} (${ms.length})` : '–';
    });
    out.push(`| ${minuteLabel(m)} | ${done} | ${(inMinute.length / seconds).toFixed(1)} | ${cells.join(' | ')} |`);
  }

  // RSS.
  const samples = rss.filter((s) => Number.isFinite(s.kb));
  const warmup = Math.min(WARMUP, DURATION / 3);
  out.push('', `### Host RSS (vottery-host, VmRSS every ${RSS_EVERY} s, MB)`, '');
  out.push('| minute | samples | min | max |');
  out.push('|---|---|---|---|');
  const lastMinute = Math.max(0, Math.floor((samples.at(-1)?.t ?? 0) / 60));
  for (let m = 0; m <= lastMinute; m++) {
    const s = samples.filter((x) => Math.floor(x.t / 60) === m);
    if (!s.length) continue;
    const kbs = s.map((x) => x.kb);
    out.push(`| ${m + 1} | ${kbs.map(mb).join(', ')} | ${mb(Math.min(...kbs))} | ${mb(Math.max(...kbs))} |`);
  }
  const after = samples.filter((s) => s.t >= warmup);
  let grew = null;
  if (after.length >= 2) {
    const k = Math.min(3, Math.floor(after.length / 2)) || 1;
    const first = median(after.slice(0, k).map((s) => s.kb));
    const last = median(after.slice(-k).map((s) => s.kb));
    const growth = last - first;
    const allowed = Math.max(10 * 1024, 0.05 * first);
    const slope = slopePerMinute(after);
    grew = growth > allowed;
    out.push('');
    out.push(
      `After the warm-up (the first ${warmup} s${warmup < WARMUP ? `, shortened from ${WARMUP} s for a run this short` : ''}): ` +
        `${mb(first)} MB at its end (median of the first ${k} samples after it), ${mb(last)} MB at the end of the run ` +
        `(median of the last ${k}), ${growth >= 0 ? '+' : ''}${mb(growth)} MB; least-squares slope ` +
        `${Number.isFinite(slope) ? (slope / 1024).toFixed(2) : '?'} MB/min; peak (VmHWM) ${mb(samples.at(-1)?.hwm)} MB. ` +
        `**RSS ${grew ? 'grew' : 'did not grow'} after the warm-up** (growth counted when above ${mb(allowed)} MB: 10 MB or 5%).`,
    );
  } else {
    out.push('', 'Too few RSS samples after the warm-up to tell whether RSS grew.');
  }
  if (rss.some((s) => s.error)) out.push('', `RSS could not be read: ${rss.find((s) => s.error).error}`);

  // 5xx and failures.
  out.push('', '### 5xx answers', '');
  if (serverErrors.length === 0) {
    out.push('None.');
  } else {
    const groups = new Map();
    for (const e of serverErrors) {
      const key = `${e.route}\u0000${e.status}\u0000${e.code}`;
      const g = groups.get(key) ?? { ...e, count: 0, first: e.t, last: e.t };
      g.count += 1;
      g.last = e.t;
      groups.set(key, g);
    }
    out.push('| route | status | problem code | count | first at s | last at s | e.g. detail | e.g. request id |');
    out.push('|---|---|---|---|---|---|---|---|');
    for (const g of groups.values()) {
      const detail = String(g.detail).replaceAll('|', '\\|').replaceAll('\n', ' ');
      out.push(
        `| \`${g.route}\` | ${g.status} | \`${g.code}\` | ${g.count} | ${g.first.toFixed(0)} | ${g.last.toFixed(0)} | ${detail} | ${g.requestId} |`,
      );
    }
  }
  if (failures.length) {
    out.push('', '### Failed flows', '');
    const groups = new Map();
    for (const f of failures) {
      const key = `${f.step}\u0000${f.status}\u0000${f.code}`;
      const g = groups.get(key) ?? { ...f, count: 0 };
      g.count += 1;
      groups.set(key, g);
    }
    out.push('| step | status | code | count | e.g. detail |');
    out.push('|---|---|---|---|---|');
    for (const g of groups.values()) {
      const detail = String(g.detail).replaceAll('|', '\\|').replaceAll('\n', ' ').slice(0, 200);
      out.push(`| \`${g.step}\` | ${g.status} | \`${g.code}\` | ${g.count} | ${detail} |`);
    }
    if (flows.failed > failures.length) out.push('', `(the first ${failures.length} of ${flows.failed} failures)`);
  }
  return { text: out.join('\n'), grew };
}

const outcome = await load();
const { text } = report(outcome);
process.stdout.write(`${text}\n`);
const fives = requests.filter((r) => r.status >= 500).length;
process.exitCode = flows.failed > 0 || fives > 0 || !outcome.drained ? 1 : 0;
