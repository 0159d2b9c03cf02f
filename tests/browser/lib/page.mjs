// A test page on the app's own origin without a proxy: Playwright answers
// the page's files (under /__browser-test/, from tests/browser/page) and
// nothing else; once the page has loaded, the route is removed, so every
// request the page then makes goes to the real server untouched, with the
// browser's own headers, cookies and connection reuse.
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../page');
export const PAGE_PREFIX = '/__browser-test/';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * Opens `page` (default `index.html`) of `dir` at `<base>/__browser-test/`
 * in a new page of `context`, waits for its script to be ready
 * (`window.vt`), and returns the page with `page.log`: what the console and
 * the network saw (for failure reports).
 */
export async function openTestPage(context, base, { dir = PAGE_DIR, file = 'index.html', beforeLoad } = {}) {
  const page = await context.newPage();
  page.log = record(page);
  if (beforeLoad) await beforeLoad(page);
  const pattern = `${base}${PAGE_PREFIX}**`;
  const served = async (route) => {
    const path = decodeURIComponent(new URL(route.request().url()).pathname.slice(PAGE_PREFIX.length));
    const full = resolve(dir, path);
    if (!full.startsWith(dir + sep)) return route.fulfill({ status: 404, body: 'outside the test page' });
    try {
      const body = await readFile(full);
      const contentType = TYPES[extname(full)] ?? 'application/octet-stream';
      return route.fulfill({ status: 200, contentType, body, headers: { 'cache-control': 'no-store' } });
    } catch {
      return route.fulfill({ status: 404, body: `no ${path} in ${dir}` });
    }
  };
  await page.route(pattern, served);
  await page.goto(`${base}${PAGE_PREFIX}${file}`, { waitUntil: 'load' });
  await page.waitForFunction(() => window.vt?.ready === true, null, { timeout: 10_000 });
  await page.unroute(pattern, served);
  return page;
}

/**
 * Console messages, page errors and the page's requests, in order. Each
 * exchange is `{ method, url, done }`; `done` resolves to it completed with
 * `status` (or `failure`) and the headers as sent on the wire and received
 * (from the network stack, cookies included).
 */
export function record(page) {
  const log = { console: [], errors: [], exchanges: [] };
  page.on('console', (m) => log.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.errors.push(String(e)));
  page.on('request', (request) => {
    const exchange = { method: request.method(), url: request.url() };
    exchange.done = (async () => {
      const response = await request.response().catch(() => null);
      if (!response) {
        exchange.failure = request.failure()?.errorText ?? 'no response';
        return exchange;
      }
      await response.finished().catch(() => {});
      exchange.status = response.status();
      exchange.requestHeaders = await request.allHeaders().catch(() => ({}));
      exchange.responseHeaders = await response.allHeaders().catch(() => ({}));
      return exchange;
    })();
    log.exchanges.push(exchange);
  });
  return log;
}

/** The page's last request to `path` (once it is complete). */
export async function exchange(page, path) {
  const found = page.log.exchanges.findLast((e) => new URL(e.url).pathname === path);
  return found?.done;
}

/** What went on in the page, for a failure report. */
export async function pageReport(page) {
  const { console: lines, errors, exchanges } = page.log;
  const grace = new Promise((resolve) => setTimeout(resolve, 1_000));
  const done = await Promise.all(exchanges.map((e) => Promise.race([e.done, grace.then(() => e)])));
  const line = (e) => `  ${e.method} ${e.url} -> ${e.status ?? e.failure ?? 'pending'}`;
  return [
    errors.length ? `page errors:\n${errors.map((e) => `  ${e}`).join('\n')}` : '',
    lines.length ? `console:\n${lines.map((l) => `  ${l}`).join('\n')}` : '',
    done.length ? `requests:\n${done.map(line).join('\n')}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * A request made by the page with `fetch` (credentials included):
 * `{ status, headers, body, text }`, `body` parsed when it is JSON.
 */
export async function call(page, method, path, { body, bearer } = {}) {
  const answer = await page.evaluate(([m, p, options]) => window.vt.api(m, p, options), [method, path, { body, bearer }]);
  return { method, path, ...answer };
}
