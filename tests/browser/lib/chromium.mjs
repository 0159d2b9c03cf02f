// Headless Chromium (Debian's `chromium` package, never a downloaded
// browser) driven by playwright-core.
import { chromium } from 'playwright-core';

/** The browser: Debian's Chromium unless VOTTERY_CHROMIUM names another. */
export const CHROMIUM = process.env.VOTTERY_CHROMIUM || '/usr/bin/chromium';

/**
 * Flags that work on a CI machine or a container (as root, no network).
 * Playwright adds a fresh temporary `--user-data-dir` of its own to every
 * launch and deletes it on close.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches the browser; close it with `browser.close()`. */
export async function launchChromium({ args = [], ...options } = {}) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
    timeout: 60_000,
    ...options,
  });
}
