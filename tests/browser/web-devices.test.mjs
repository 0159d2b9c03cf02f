// The web client on six kinds of device, by emulation in headless Chromium
// (user agent, client hints, touch points, battery): each goes through the
// three steps and its devices page shows the kind the backend stored.
// Screenshots: tests/browser/artifacts/web-client/device-<kind>.png.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { devices } from 'playwright-core';

import { Outbox } from './lib/outbox.mjs';
import { newPage, reporting, SHOTS, signUp, webSuite } from './lib/web.mjs';
import { addVirtualAuthenticator } from './lib/webauthn.mjs';

const MAC_SAFARI =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15';
const WINDOWS_CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const MAC_CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const BRANDS = [
  { brand: 'Google Chrome', version: '131' },
  { brand: 'Chromium', version: '131' },
  { brand: 'Not_A Brand', version: '24' },
];

/** A device descriptor of Playwright's, for Chromium. */
function descriptor(name) {
  const { defaultBrowserType: _, ...use } = devices[name];
  return use;
}

const KINDS = [
  { name: 'an iPhone', kind: 'ios', context: descriptor('iPhone 15') },
  { name: 'an Android phone', kind: 'android', context: descriptor('Pixel 7') },
  {
    name: 'an iPad asking for desktop sites (it says it is a Mac)',
    kind: 'tablet',
    context: { userAgent: MAC_SAFARI, viewport: { width: 1024, height: 1366 }, hasTouch: true },
    touchPoints: 5,
  },
  {
    name: 'an Android tablet',
    kind: 'tablet',
    context: descriptor('Galaxy Tab S4'),
    // Chrome on an Android tablet says it is not mobile (`Sec-CH-UA-Mobile: ?0`).
    agent: {
      userAgent: devices['Galaxy Tab S4'].userAgent,
      userAgentMetadata: {
        brands: BRANDS, platform: 'Android', platformVersion: '14.0.0', architecture: '', model: 'SM-T837A',
        mobile: false, formFactors: ['Tablet'],
      },
    },
  },
  {
    name: 'a Windows desktop',
    kind: 'desktop',
    context: { viewport: { width: 1440, height: 900 } },
    agent: {
      userAgent: WINDOWS_CHROME,
      userAgentMetadata: {
        brands: BRANDS, platform: 'Windows', platformVersion: '15.0.0', architecture: 'x86', model: '',
        mobile: false, formFactors: ['Desktop'],
      },
    },
  },
  {
    name: 'a macOS laptop (on battery)',
    kind: 'laptop',
    context: { viewport: { width: 1440, height: 900 } },
    agent: {
      userAgent: MAC_CHROME,
      userAgentMetadata: {
        brands: BRANDS, platform: 'macOS', platformVersion: '15.1.0', architecture: 'arm', model: '',
        mobile: false, formFactors: ['Desktop'],
      },
    },
    battery: { charging: false, chargingTime: Infinity, dischargingTime: 14_400, level: 0.72 },
  },
];

const suite = webSuite();

/** A page of a fresh context dressed as the device. */
async function devicePage(device) {
  const context = await suite.browser.newContext(device.context);
  const page = await newPage(context);
  const cdp = await context.newCDPSession(page);
  if (device.agent) await cdp.send('Emulation.setUserAgentOverride', device.agent);
  if (device.touchPoints) {
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: device.touchPoints });
  }
  if (device.battery) {
    await page.addInitScript((battery) => {
      const state = { ...battery, dischargingTime: battery.dischargingTime ?? Infinity, chargingTime: Infinity };
      navigator.getBattery = async () => ({ ...state, addEventListener() {}, removeEventListener() {} });
    }, device.battery);
  }
  await addVirtualAuthenticator(page);
  return { context, page };
}

for (const device of KINDS) {
  test(`the web client on ${device.name} stores the device as ${device.kind}`, { timeout: 120_000 }, async (t) => {
    const { context, page } = await devicePage(device);
    t.after(() => context.close());
    const outbox = new Outbox(suite.app.outbox);
    await reporting(page, async () => {
      await signUp(page, suite.app.base, outbox);

      const current = page.locator('[data-device-kind]').filter({ hasText: '(this device)' });
      await current.waitFor();
      assert.equal(await current.getAttribute('data-device-kind'), device.kind);
      await page.screenshot({ path: join(SHOTS, `device-${device.kind}-${KINDS.indexOf(device)}.png`), fullPage: true });
    });
  });
}
