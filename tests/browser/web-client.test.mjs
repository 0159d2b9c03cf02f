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
import { join } from 'node:path';
import { test } from 'node:test';

import { Outbox } from './lib/outbox.mjs';
import { pageReport } from './lib/page.mjs';
import { steps } from './lib/steps.mjs';
import { addVirtualAuthenticator } from './lib/webauthn.mjs';
import { GRACE, newPage, reporting, SHOTS, SNGINE, signUp, throughTheCodes, webSuite } from './lib/web.mjs';

const { email: EMAIL, phone: PHONE } = GRACE;

const suite = webSuite();

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

test('a visitor who did not come from Sngine is sent to Sngine to register', async () => {
  const context = await suite.browser.newContext();
  try {
    const page = await newPage(context);
    await page.goto(`${suite.app.base}/`);
    await page.getByRole('heading', { name: 'Please come from Sngine' }).waitFor();
    const link = page.getByRole('link', { name: 'Register on Sngine' });
    assert.equal(await link.getAttribute('href'), 'https://sngine.example/signup');
    await shot(page, '00-gate');
  } finally {
    await context.close();
  }
});

test('a Sngine member verifies both codes, makes a passkey, uses the dashboard and signs in again', { timeout: 240_000 }, async (t) => {
  const context = await suite.browser.newContext();
  t.after(() => context.close());
  const outbox = new Outbox(suite.app.outbox);
  let page;
  const step = steps(t, async () => (page ? pageReport(page) : ''));

  await step('the page is served with a policy that allows only its own scripts', async () => {
    const response = await fetch(`${suite.app.base}/`);
    assert.equal(response.status, 200);
    const policy = response.headers.get('content-security-policy');
    assert.match(policy, /script-src 'self'/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
    assert.match(await response.text(), /<div id="root"><\/div>/);
  });

  await step('coming from Sngine opens step 1, and a reload keeps it open', async () => {
    page = await newPage(context);
    await addVirtualAuthenticator(page);
    await page.goto(`${suite.app.base}/`, { referer: SNGINE });
    await page.getByRole('heading', { name: 'Step 1 of 3: your contact details' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Step 1 of 3: your contact details' }).waitFor();
    await shot(page, '01-contact');
  });

  await step('step 1 sends a code to each contact, with the keyboard alone', async () => {
    const marks = [await outbox.count(EMAIL), await outbox.count(PHONE)];
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent);
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'email');
    await page.keyboard.type(EMAIL);
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'phone');
    await page.keyboard.type('+1 650 253 0000');
    await page.getByText(`We will text ${PHONE}.`).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'Send my codes');
    await page.keyboard.press('Enter');
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

  await step('both tabs keep their session: the access token is refreshed before it expires, one tab at a time', async () => {
    // scripts/browser-test runs the app with 30 s access tokens: a refresh every 20 s.
    const second = await newPage(context);
    await second.goto(`${suite.app.base}/`);
    await second.getByRole('heading', { name: 'Your dashboard' }).waitFor();
    const from = [page.log.exchanges.length, second.log.exchanges.length];
    await page.waitForTimeout(25_000);
    const refreshes = (p, start) =>
      p.log.exchanges.slice(start).filter((e) => new URL(e.url).pathname === '/api/auth/refresh-token');
    const made = await Promise.all([...refreshes(page, from[0]), ...refreshes(second, from[1])].map((e) => e.done));
    assert.ok(made.length >= 1 && made.length <= 3, `${made.length} refreshes in 25 s across two tabs`);
    assert.deepEqual(made.map((e) => e.status), made.map(() => 200));
    await second.getByRole('button', { name: 'Trust' }).first().click();
    await second.getByRole('button', { name: 'Stop trusting' }).first().waitFor();
    await second.close();
  });

  await step('a reload keeps the member signed in through the refresh cookie only', async () => {
    assert.equal(await page.evaluate(() => document.cookie), '', 'the refresh cookie is HttpOnly');
    await page.reload();
    await page.getByRole('heading', { name: 'Your dashboard' }).waitFor();
    await page.getByTestId('display-name').filter({ hasText: 'Amazing Grace' }).waitFor();
  });

  await step('logout in one tab signs out the other', async () => {
    const second = await newPage(context);
    await second.goto(`${suite.app.base}/`);
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

test('a session revoked from another device signs the dashboard out and says why', { timeout: 120_000 }, async (t) => {
  const outbox = new Outbox(suite.app.outbox);
  const [first, other] = [await suite.browser.newContext(), await suite.browser.newContext()];
  t.after(() => Promise.all([first.close(), other.close()]));
  const page = await newPage(first);
  const elsewhere = await newPage(other);
  await reporting(page, async () => {
    await addVirtualAuthenticator(page);
    await addVirtualAuthenticator(elsewhere);
    await signUp(page, suite.app.base, outbox);
    await signUp(elsewhere, suite.app.base, outbox);

    await elsewhere.getByRole('button', { name: 'Sign out everywhere else' }).click();
    await page.getByRole('button', { name: 'Trust' }).first().click();

    await page.getByText('Your session has ended. Please sign in again.').waitFor();
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    await shot(page, '08-revoked-elsewhere');
  });
});

test('a cancelled passkey prompt says so and trying again works', { timeout: 120_000 }, async (t) => {
  const context = await suite.browser.newContext();
  t.after(() => context.close());
  const page = await newPage(context);
  await reporting(page, async () => {
    const authenticator = await addVirtualAuthenticator(page);
    await page.goto(`${suite.app.base}/`, { referer: SNGINE });
    await throughTheCodes(page, new Outbox(suite.app.outbox));
    await authenticator.setUserVerified(false);

    await page.getByRole('button', { name: 'Create my passkey' }).click();
    await page.getByRole('alert').filter({ hasText: 'The passkey request was cancelled or timed out' }).waitFor();
    await shot(page, '09-passkey-cancelled');
    await authenticator.setUserVerified(true);
    await page.getByRole('button', { name: 'Create my passkey' }).click();

    await page.getByRole('heading', { name: 'Your dashboard' }).waitFor();
  });
});

test('an unreachable service is told plainly and nothing moves on', async (t) => {
  const context = await suite.browser.newContext();
  t.after(() => context.close());
  const page = await newPage(context);
  await page.route('**/api/auth/send-otp', (route) => route.abort('connectionrefused'));
  await page.goto(`${suite.app.base}/`, { referer: SNGINE });
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Phone number').fill(PHONE);

  await page.getByRole('button', { name: 'Send my codes' }).click();

  await page.getByRole('alert').filter({ hasText: 'The service cannot be reached' }).waitFor();
  await page.getByRole('heading', { name: 'Step 1 of 3: your contact details' }).waitFor();
  await shot(page, '10-unreachable');
});

test('an SMS provider that fails leaves the email code good and a resend brings the SMS code', { timeout: 120_000 }, async (t) => {
  const context = await suite.browser.newContext();
  t.after(() => context.close());
  const page = await newPage(context);
  const outbox = new Outbox(suite.app.outbox);
  await reporting(page, async () => {
    await addVirtualAuthenticator(page);
    await page.goto(`${suite.app.base}/`, { referer: SNGINE });
    const marks = [await outbox.count(EMAIL), await outbox.count(PHONE)];
    // The first send and both retries of the SMS fail.
    const fault = { provider: 'twilio', status: 503, delay_ms: 0, count: 3 };
    const injected = await fetch(`${suite.app.outbox}/faults`, { method: 'POST', body: JSON.stringify(fault) });
    assert.ok(injected.ok, await injected.text());

    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Phone number').fill(PHONE);
    await page.getByRole('button', { name: 'Send my codes' }).click();

    await page.getByRole('heading', { name: 'Step 2 of 3: your two codes' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'We could not send the code on this channel' }).waitFor();
    await shot(page, '11-sms-failed');
    const email = await outbox.nextCode(EMAIL, { after: marks[0] });
    const resend = page.getByRole('group', { name: 'SMS code' }).getByRole('button', { name: /Send a new code/ });
    await resend.click({ timeout: 90_000 });
    const sms = await outbox.nextCode(PHONE, { after: marks[1] });
    await page.getByLabel('Email code').fill(email.code);
    await page.getByLabel('SMS code').fill(sms.code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('button', { name: 'Create my passkey' }).waitFor();
  });
});

test('an expired code says so and a new one works', { timeout: 120_000 }, async (t) => {
  // scripts/browser-test runs the app with codes that live 30 s.
  const context = await suite.browser.newContext();
  t.after(() => context.close());
  const page = await newPage(context);
  const outbox = new Outbox(suite.app.outbox);
  await reporting(page, async () => {
    await page.goto(`${suite.app.base}/`, { referer: SNGINE });
    const marks = [await outbox.count(EMAIL), await outbox.count(PHONE)];
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Phone number').fill(PHONE);
    await page.getByRole('button', { name: 'Send my codes' }).click();
    const email = await outbox.nextCode(EMAIL, { after: marks[0] });
    await page.waitForTimeout(31_000);

    await page.getByLabel('Email code').fill(email.code);
    await page.getByRole('button', { name: 'Verify' }).click();

    await page.getByRole('alert').filter({ hasText: 'That code has expired. Ask for a new one.' }).waitFor();
    await shot(page, '12-code-expired');
    const group = page.getByRole('group', { name: 'Email code' });
    await group.getByRole('button', { name: /Send a new code/ }).click({ timeout: 60_000 });
    const fresh = await outbox.nextCode(EMAIL, { after: marks[0] + 1 });
    await page.getByLabel('Email code').fill(fresh.code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('Verified').first().waitFor();
  });
});

test('a verification that expired while the member waited at step 3 asks them to start again', { timeout: 120_000 }, async (t) => {
  // scripts/browser-test runs the app with enrolment tokens that live 30 s.
  const context = await suite.browser.newContext();
  t.after(() => context.close());
  const page = await newPage(context);
  await reporting(page, async () => {
    await addVirtualAuthenticator(page);
    await page.goto(`${suite.app.base}/`, { referer: SNGINE });
    await throughTheCodes(page, new Outbox(suite.app.outbox));
    await page.waitForTimeout(31_000);

    await page.getByRole('button', { name: 'Create my passkey' }).click();

    await page.getByRole('alert').filter({ hasText: 'Your verification took too long and expired' }).waitFor();
    await shot(page, '13-enrolment-expired');
    await page.getByRole('button', { name: 'Start again' }).click();
    await page.getByRole('heading', { name: 'Step 1 of 3: your contact details' }).waitFor();
  });
});

test('too many wrong codes lock the pair and say so', { timeout: 120_000 }, async (t) => {
  // scripts/browser-test runs the app with a lockout after 4 wrong codes. A
  // pair Sngine does not know gets a flow like any other (no code is sent),
  // so the members of the other tests are not locked out.
  const context = await suite.browser.newContext();
  t.after(() => context.close());
  const page = await newPage(context);
  await reporting(page, async () => {
    await page.goto(`${suite.app.base}/`, { referer: SNGINE });
    await page.getByLabel('Email').fill('nobody@example.com');
    await page.getByLabel('Phone number').fill('+447400654321');
    await page.getByRole('button', { name: 'Send my codes' }).click();
    await page.getByRole('heading', { name: 'Step 2 of 3: your two codes' }).waitFor();

    for (let attempt = 0; attempt < 3; attempt++) {
      await page.getByLabel('Email code').fill('000000');
      await page.getByLabel('SMS code').fill('000000');
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('alert').waitFor();
      if (await page.getByRole('alert').filter({ hasText: 'Too many wrong codes' }).count()) break;
    }

    await page.getByRole('alert').filter({ hasText: 'Too many wrong codes. Wait a while, then try again.' }).waitFor();
    await shot(page, '14-locked-out');
  });
});
