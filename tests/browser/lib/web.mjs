// Driving the web client (web/, served at /) as a person does.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';

import { startApp } from './app.mjs';
import { launchChromium } from './chromium.mjs';
import { pageReport, record } from './page.mjs';

/** Where the web client's tests keep their screenshots. */
export const SHOTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts', 'web-client');

/** The app and a browser for a test file: started before its tests, stopped after. */
export function webSuite() {
  const suite = {};
  before(async () => {
    suite.app = await startApp();
    suite.browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await suite.browser?.close();
    await suite.app?.stop();
  });
  return suite;
}

/** Runs `fn`; when it fails, prints what the page saw, then fails. */
export async function reporting(page, fn) {
  try {
    return await fn();
  } catch (error) {
    console.error(`--- what the page saw:\n${await pageReport(page)}`);
    throw error;
  }
}

/** A member of the development Sngine fixture whom the other tests leave alone. */
export const GRACE = { email: 'grace@example.com', phone: '+16502530000' };
/** Where a member comes from. */
export const SNGINE = 'https://sngine.example/feed';

/** A new page of `context` with its log recorded (for failure reports). */
export async function newPage(context) {
  const page = await context.newPage();
  page.log = record(page);
  return page;
}

/** Steps 1 and 2 from the open contact step: the codes are read from the outbox. */
export async function throughTheCodes(page, outbox, member = GRACE) {
  const marks = [await outbox.count(member.email), await outbox.count(member.phone)];
  await page.getByLabel('Email').fill(member.email);
  await page.getByLabel('Phone number').fill(member.phone);
  await page.getByRole('button', { name: 'Send my codes' }).click();
  await page.getByRole('heading', { name: 'Step 2 of 3: your two codes' }).waitFor();
  const [email, sms] = await Promise.all([
    outbox.nextCode(member.email, { after: marks[0] }),
    outbox.nextCode(member.phone, { after: marks[1] }),
  ]);
  await page.getByLabel('Email code').fill(email.code);
  await page.getByLabel('SMS code').fill(sms.code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('button', { name: 'Create my passkey' }).waitFor();
}

/** The whole way from Sngine to the dashboard on a page with an authenticator. */
export async function signUp(page, base, outbox, member = GRACE) {
  await page.goto(`${base}/`, { referer: SNGINE });
  await throughTheCodes(page, outbox, member);
  await page.getByRole('button', { name: 'Create my passkey' }).click();
  await page.getByRole('heading', { name: 'Your dashboard' }).waitFor();
}
