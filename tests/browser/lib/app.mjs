// The app under test, as ./scripts/run serves it: scripts/browser-test
// starts it once and passes VOTTERY_APP_URL and VOTTERY_OUTBOX_URL; run
// alone (`node --test` in tests/browser), a test file starts its own.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A port nothing listens on right now. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function healthy(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * The app: `{ base, outbox, stop }`. `base` is `http://localhost:<port>`,
 * the origin the browser uses (RP ID `localhost`, a secure context for
 * Chromium); `outbox` is the outbox's base URL.
 */
export async function startApp({ timeout = Number(process.env.VOTTERY_START_TIMEOUT || 3600) * 1000 } = {}) {
  if (process.env.VOTTERY_APP_URL) {
    if (!process.env.VOTTERY_OUTBOX_URL) throw new Error('VOTTERY_APP_URL is set but VOTTERY_OUTBOX_URL is not');
    return { base: process.env.VOTTERY_APP_URL, outbox: process.env.VOTTERY_OUTBOX_URL, stop: async () => {} };
  }
  const [port, outboxPort] = [await freePort(), await freePort()];
  const logDir = mkdtempSync(join(tmpdir(), 'vottery-browser-'));
  const logFile = join(logDir, 'app.log');
  const log = openSync(logFile, 'a');
  const child = spawn(join(ROOT, 'scripts/run'), [], {
    cwd: ROOT,
    detached: true, // its own process group, killed whole by stop()
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      VOTTERY_LISTEN: `127.0.0.1:${port}`,
      VOTTERY_OUTBOX: `127.0.0.1:${outboxPort}`,
      // A namespace of its own: the send limits and lockouts of other runs
      // (and of anyone using the app on this machine) do not apply.
      SPIN_VARIABLE_REDIS_NAMESPACE:
        process.env.SPIN_VARIABLE_REDIS_NAMESPACE || `vottery-browser-${process.pid}-${Date.now()}`,
    },
  });
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = signal ? `killed by ${signal}` : `exited with ${code}`;
  });
  // The whole process group (scripts/run, the outbox, the host, a build it
  // waits on): TERM, then KILL whatever is left after 10 s.
  const group = (signal) => {
    try {
      process.kill(-child.pid, signal);
      return true;
    } catch {
      return false; // no process left in the group
    }
  };
  const stop = async () => {
    if (!group('SIGTERM')) return;
    for (let i = 0; i < 50 && group(0); i++) await new Promise((done) => setTimeout(done, 200));
    group('SIGKILL');
  };
  const cleanUp = () => {
    closeSync(log);
    rmSync(logDir, { recursive: true, force: true });
  };
  const health = `http://127.0.0.1:${port}/.well-known/spin/health`;
  const until = Date.now() + timeout;
  while (!(await healthy(health))) {
    if (exited || Date.now() > until) {
      await stop();
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
      cleanUp();
      throw new Error(`scripts/run ${exited ?? 'did not become healthy in time'}; its log ended:\n${tail}`);
    }
    await new Promise((done) => setTimeout(done, 500));
  }
  const stopAndClean = async () => {
    await stop();
    cleanUp();
  };
  return { base: `http://localhost:${port}`, outbox: `http://127.0.0.1:${outboxPort}`, stop: stopAndClean };
}
