// A member signs in from headless Chromium as a real client does (one-time
// codes, then a passkey made by the WebAuthn virtual authenticator) and the
// access token is printed on stdout, for tools that need a member's token
// (scripts/fuzz-contract). Needs VOTTERY_APP_URL and VOTTERY_OUTBOX_URL.
import { launchChromium } from './lib/chromium.mjs';
import { Outbox } from './lib/outbox.mjs';
import { call, openTestPage, pageReport } from './lib/page.mjs';
import { addVirtualAuthenticator } from './lib/webauthn.mjs';

const EMAIL = process.env.VOTTERY_TEST_EMAIL || 'ada@example.com';
const PHONE = process.env.VOTTERY_TEST_PHONE || '+447912345678';

function expect(answer, status) {
  if (answer.status !== status) {
    throw new Error(`${answer.method} ${answer.path} answered ${answer.status}, not ${status}: ${answer.text}`);
  }
  return answer.body;
}

async function signIn(page, outbox) {
  const deviceId = await page.evaluate(() => window.vt.newDeviceId());
  const device = await page.evaluate(() => window.vt.device());
  const marks = [await outbox.count(EMAIL), await outbox.count(PHONE)];
  const flow = expect(await call(page, 'POST', '/api/auth/send-otp', { body: { email: EMAIL, phone: PHONE } }), 202);
  const [email, sms] = await Promise.all([
    outbox.nextCode(EMAIL, { after: marks[0] }),
    outbox.nextCode(PHONE, { after: marks[1] }),
  ]);
  const codes = { flow_id: flow.flow_id, email_code: email.code, sms_code: sms.code };
  const verified = expect(await call(page, 'POST', '/api/auth/verify-otp', { body: codes }), 200);
  const body = { enrolment_token: verified.enrolment_token, device_id: deviceId, device };
  const options = expect(await call(page, 'POST', '/api/auth/capture-biometric/options', { body }), 200);
  const created = await page.evaluate((publicKey) => window.vt.create(publicKey), options.publicKey);
  if (created.error) throw new Error(`create() failed: ${created.error.name}: ${created.error.message}`);
  const credential = created.credential;
  const enrolled = expect(await call(page, 'POST', '/api/auth/capture-biometric', { body: { credential, device } }), 201);
  return enrolled.access_token;
}

const base = process.env.VOTTERY_APP_URL;
const outboxUrl = process.env.VOTTERY_OUTBOX_URL;
if (!base || !outboxUrl) {
  console.error('sign-in.mjs needs VOTTERY_APP_URL and VOTTERY_OUTBOX_URL');
  process.exit(2);
}
const browser = await launchChromium();
let page;
try {
  const context = await browser.newContext();
  page = await openTestPage(context, base, { beforeLoad: (p) => addVirtualAuthenticator(p) });
  process.stdout.write(`${await signIn(page, new Outbox(outboxUrl))}\n`);
} catch (error) {
  console.error(`sign-in failed: ${error.message}`);
  if (page) console.error(await pageReport(page));
  process.exitCode = 1;
} finally {
  await browser.close();
}
