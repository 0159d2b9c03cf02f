// The reference web client (web/, served by the app at /) in a real
// browser: headless Chromium with its WebAuthn virtual authenticator,
// driving the pages as a person does. Screenshots of each step go to
// tests/browser/artifacts/web-client/.
//
// the Sngine gate -> step 1 -> step 2 (codes from the outbox) -> step 3
// (passkey) -> dashboard (profile edit, devices, sessions, activity) ->
// reload (refresh cookie) -> a second tab -> logout seen by both -> the
// returning member's passkey sign-in.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { startApp } from './lib/app.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { Outbox } from './lib/outbox.mjs';
import { pageReport, record } from './lib/page.mjs';
import { steps } from './lib/steps.mjs';
import { addVirtualAuthenticator } from './lib/webauthn.mjs';

// A member of the development Sngine fixture, not the one the other tests use.
const EMAIL = 'grace@example.com';
const PHONE = '+16502530000';
const SNGINE = 'https://sngine.example/feed';
const SHOTS = join(dirname(fileURLToPath(import.meta.url)), 'artifacts', 'web-client');

let app;
let browser;

before(async () => {
  app = await startApp();
  browser = await launchChromium();
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

async function open(context, { referer } = {}) {
  const page = await context.newPage();
  page.log = record(page);
  await page.goto(`${app.base}/`, referer ? { referer } : {});
  return page;
}

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

test('a visitor who did not come from Sngine is sent to Sngine to register', async () => {
  const context = await browser.newContext();
  try {
    const page = await open(context);
    await page.getByRole('heading', { name: 'Please come from Sngine' }).waitFor();
    const link = page.getByRole('link', { name: 'Register on Sngine' });
    assert.equal(await link.getAttribute('href'), 'https://sngine.example/signup');
    await shot(page, '00-gate');
  } finally {
    await context.close();
  }
});

test('a Sngine member verifies both codes, makes a passkey, uses the dashboard and signs in again', { timeout: 240_000 }, async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close());
  const outbox = new Outbox(app.outbox);
  let page;
  const step = steps(t, async () => (page ? pageReport(page) : ''));

  await step('the page is served with a policy that allows only its own scripts', async () => {
    const response = await fetch(`${app.base}/`);
    assert.equal(response.status, 200);
    const policy = response.headers.get('content-security-policy');
    assert.match(policy, /script-src 'self'/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
    assert.match(await response.text(), /<div id="root"><\/div>/);
  });

  await step('coming from Sngine opens step 1, and a reload keeps it open', async () => {
    page = await context.newPage();
    page.log = record(page);
    await addVirtualAuthenticator(page);
    await page.goto(`${app.base}/`, { referer: SNGINE });
    await page.getByRole('heading', { name: 'Step 1 of 3: your contact details' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Step 1 of 3: your contact details' }).waitFor();
    await shot(page, '01-contact');
  });

  await step('step 1 sends a code to each contact', async () => {
    const marks = [await outbox.count(EMAIL), await outbox.count(PHONE)];
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Phone number').fill('+1 650 253 0000');
    await page.getByText(`We will text ${PHONE}.`).waitFor();
    await page.getByRole('button', { name: 'Send my codes' }).click();
    await page.getByRole('heading', { name: 'Step 2 of 3: your two codes' }).waitFor();
    t.codes = await Promise.all([outbox.nextCode(EMAIL, { after: marks[0] }), outbox.nextCode(PHONE, { after: marks[1] })]);
    await shot(page, '02-codes');
  });

  await step('a wrong code says so and how many tries are left', async () => {
    const wrong = t.codes[0].code === '000000' ? '111111' : '000000';
    await page.getByLabel('Email code').fill(wrong);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'That code is not right' }).waitFor();
    await shot(page, '03-wrong-code');
  });

  await step('the two right codes lead to step 3', async () => {
    await page.getByLabel('Email code').fill(t.codes[0].code);
    await page.getByLabel('SMS code').fill(t.codes[1].code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Step 3 of 3: your passkey' }).waitFor();
    await page.getByRole('button', { name: 'Create my passkey' }).waitFor();
    await shot(page, '04-passkey');
  });

  await step('the passkey opens the dashboard with the member\'s profile', async () => {
    await page.getByRole('button', { name: 'Create my passkey' }).click();
    await page.getByRole('heading', { name: 'Your dashboard' }).waitFor();
    await page.getByTestId('display-name').filter({ hasText: 'Grace Hopper' }).waitFor();
    await page.locator('[data-device-kind]').first().waitFor();
    await shot(page, '05-dashboard');
  });

  await step('the profile is edited with its ETag', async () => {
    await page.getByRole('button', { name: 'Edit profile' }).click();
    await page.getByLabel('Display name').fill('Amazing Grace');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Your profile is saved.').waitFor();
    await page.getByTestId('display-name').filter({ hasText: 'Amazing Grace' }).waitFor();
  });

  await step('a reload keeps the member signed in through the refresh cookie only', async () => {
    assert.equal(await page.evaluate(() => document.cookie), '', 'the refresh cookie is HttpOnly');
    await page.reload();
    await page.getByRole('heading', { name: 'Your dashboard' }).waitFor();
    await page.getByTestId('display-name').filter({ hasText: 'Amazing Grace' }).waitFor();
  });

  await step('logout in one tab signs out the other', async () => {
    const second = await context.newPage();
    second.log = record(second);
    await second.goto(`${app.base}/`);
    await second.getByRole('heading', { name: 'Your dashboard' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).first().click();
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await second.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await shot(page, '06-signed-out');
    await second.close();
  });

  await step('the returning member signs in with the passkey', async () => {
    await page.getByRole('button', { name: 'Sign in with my passkey' }).click();
    await page.getByRole('heading', { name: 'Your dashboard' }).waitFor();
    await page.getByTestId('display-name').filter({ hasText: 'Amazing Grace' }).waitFor();
    await shot(page, '07-signed-in-again');
  });
});
