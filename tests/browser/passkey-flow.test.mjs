// The whole passkey journey of a Sngine member, from a real browser:
// headless Chromium with its WebAuthn virtual authenticator, a page on the
// app's origin (http://localhost:<port>, RP ID `localhost`) making every
// request itself, against the app as ./scripts/run serves it.
//
// one-time codes -> passkey enrolment -> refresh cookie -> authenticated
// reads -> logout -> refresh refused -> passkey sign-in -> reads again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startApp } from './lib/app.mjs';
import { launchChromium } from './lib/chromium.mjs';
import { expectProblem, expectStatus } from './lib/expect.mjs';
import { Outbox } from './lib/outbox.mjs';
import { call, exchange, openTestPage, pageReport } from './lib/page.mjs';
import { steps } from './lib/steps.mjs';
import { addVirtualAuthenticator } from './lib/webauthn.mjs';

// A member of the development Sngine fixture (migrations/dev/sngine_users.sql).
const EMAIL = process.env.VOTTERY_TEST_EMAIL || 'ada@example.com';
const PHONE = process.env.VOTTERY_TEST_PHONE || '+447912345678';
const REFRESH_COOKIE = '__Host-vottery-refresh';

let app;
let browser;

before(async () => {
  app = await startApp();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await app?.stop();
});

test('a member enrols a passkey, uses the session, logs out and signs in again with it', { timeout: 180_000 }, async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close());
  let authenticator;
  const page = await openTestPage(context, app.base, {
    beforeLoad: async (p) => {
      authenticator = await addVirtualAuthenticator(p);
    },
  });
  const outbox = new Outbox(app.outbox);
  const step = steps(t, () => pageReport(page));
  const refreshCookie = async () => (await context.cookies(app.base)).find((c) => c.name === REFRESH_COOKIE);

  let deviceId, device, flow, enrolmentToken, options, credential, enrolled, access, session, refreshed, stolen;

  await step('the page is on the app origin, a secure context with WebAuthn JSON support', async () => {
    const env = await page.evaluate(() => window.vt.environment());
    assert.equal(env.origin, app.base);
    assert.equal(env.secureContext, true);
    assert.deepEqual(
      [env.parseCreationOptionsFromJSON, env.parseRequestOptionsFromJSON, env.toJSON],
      [true, true, true],
      `${env.userAgent} lacks the WebAuthn JSON methods`,
    );
    deviceId = await page.evaluate(() => window.vt.newDeviceId());
    device = await page.evaluate(() => window.vt.device());
    assert.equal(device.platform_authenticator, true, 'the virtual authenticator is a user-verifying platform one');
  });

  await step('send-otp: both codes are sent', async () => {
    const marks = [await outbox.count(EMAIL), await outbox.count(PHONE)];
    const answer = await call(page, 'POST', '/api/auth/send-otp', { body: { email: EMAIL, phone: PHONE } });
    flow = expectStatus(answer, 202);
    assert.match(flow.flow_id ?? '', /\S/, 'a flow id');
    const [email, sms] = await Promise.all([
      outbox.nextCode(EMAIL, { after: marks[0] }),
      outbox.nextCode(PHONE, { after: marks[1] }),
    ]);
    assert.equal(email.message.channel, 'email');
    assert.equal(sms.message.channel, 'sms');
    flow.codes = { email: email.code, sms: sms.code };
  });

  await step('the requests are the browser\'s own (same-origin fetch headers, client hints, keep-alive)', async () => {
    const sent = (await exchange(page, '/api/auth/send-otp'))?.requestHeaders;
    assert.ok(sent, 'the page sent send-otp');
    assert.equal(sent.origin, app.base);
    assert.equal(sent['sec-fetch-site'], 'same-origin');
    assert.equal(sent['sec-fetch-mode'], 'cors');
    assert.equal(sent['sec-fetch-dest'], 'empty');
    assert.match(sent['sec-ch-ua'] ?? '', /Chromium/);
    assert.match(sent['user-agent'] ?? '', /Chrome\//);
    assert.equal(sent.connection, 'keep-alive');
  });

  await step('verify-otp: both codes give an enrolment token', async () => {
    const answer = await call(page, 'POST', '/api/auth/verify-otp', {
      body: { flow_id: flow.flow_id, email_code: flow.codes.email, sms_code: flow.codes.sms },
    });
    const verified = expectStatus(answer, 200);
    assert.equal(verified.channels?.email?.verified, true);
    assert.equal(verified.channels?.sms?.verified, true);
    assert.equal(typeof verified.enrolment_token, 'string');
    enrolmentToken = verified.enrolment_token;
  });

  await step('capture-biometric/options: creation options for RP localhost', async () => {
    const answer = await call(page, 'POST', '/api/auth/capture-biometric/options', {
      body: { enrolment_token: enrolmentToken, device_id: deviceId, device },
    });
    options = expectStatus(answer, 200);
    assert.equal(options.publicKey?.rp?.id, 'localhost');
    assert.equal(typeof options.publicKey.challenge, 'string');
    assert.equal(typeof options.publicKey.user?.id, 'string');
    assert.equal(options.publicKey.authenticatorSelection?.userVerification, 'required');
  });

  await step('navigator.credentials.create with the options as served', async () => {
    const created = await page.evaluate((publicKey) => window.vt.create(publicKey), options.publicKey);
    if (created.error) {
      const shown = JSON.stringify(options.publicKey, null, 2);
      assert.fail(`create() failed: ${created.error.name}: ${created.error.message}\nwith publicKey:\n${shown}`);
    }
    credential = created.credential;
    assert.equal(credential.type, 'public-key');
    assert.equal(typeof credential.response?.attestationObject, 'string');
    const held = await authenticator.credentials();
    assert.equal(held.length, 1, 'the authenticator holds the new passkey');
    assert.equal(held[0].rpId, 'localhost');
  });

  await step('capture-biometric: the passkey is stored and a session opens (refresh token in the cookie)', async () => {
    const answer = await call(page, 'POST', '/api/auth/capture-biometric', { body: { credential, device } });
    enrolled = expectStatus(answer, 201);
    assert.equal(enrolled.token_type, 'Bearer');
    assert.equal(typeof enrolled.access_token, 'string');
    assert.equal(enrolled.refresh_token, undefined, 'a browser gets the refresh token only in the cookie');
    assert.equal(enrolled.device_id, deviceId);
    assert.equal(enrolled.passkey?.credential_id, credential.id);
    const cookie = await refreshCookie();
    assert.ok(cookie, `the browser keeps ${REFRESH_COOKIE}`);
    assert.deepEqual(
      { httpOnly: cookie.httpOnly, secure: cookie.secure, sameSite: cookie.sameSite, path: cookie.path },
      { httpOnly: true, secure: true, sameSite: 'Strict', path: '/' },
    );
    assert.ok(!(await page.evaluate(() => window.vt.documentCookie())).includes(REFRESH_COOKIE), 'HttpOnly');
  });

  await step('refresh-token with the cookie: a new access token, the cookie rotated', async () => {
    const before = (await refreshCookie()).value;
    const answer = await call(page, 'POST', '/api/auth/refresh-token', { body: { device_id: deviceId } });
    refreshed = expectStatus(answer, 200);
    assert.equal(typeof refreshed.access_token, 'string');
    assert.equal(refreshed.session_id, enrolled.session_id);
    assert.equal(refreshed.refresh_token, undefined);
    const sent = (await exchange(page, '/api/auth/refresh-token'))?.requestHeaders ?? {};
    assert.ok(sent.cookie?.includes(`${REFRESH_COOKIE}=${before}`), 'the browser sent the cookie it was given');
    const after = (await refreshCookie())?.value;
    assert.ok(after && after !== before, 'the refresh cookie was rotated');
    access = refreshed.access_token;
  });

  await step('authenticated reads with the access token', async () => {
    const current = expectStatus(await call(page, 'GET', '/api/sessions/current', { bearer: access }), 200);
    assert.deepEqual(current, { user_id: enrolled.user_id, session_id: enrolled.session_id, device_id: deviceId });
    const list = expectStatus(await call(page, 'GET', '/api/devices/list', { bearer: access }), 200);
    const mine = list.devices?.find((d) => d.device_id === deviceId);
    assert.ok(mine, `the device is listed: ${JSON.stringify(list)}`);
    assert.equal(mine.current, true);
    session = current.session_id;
  });

  await step('logout with the cookie: the session is revoked and the cookie cleared', async () => {
    stolen = await refreshCookie();
    const answer = await call(page, 'POST', '/api/auth/logout', { body: { device_id: deviceId } });
    const out = expectStatus(answer, 200);
    assert.deepEqual(out, { session_id: session, revoked: true });
    assert.equal(await refreshCookie(), undefined, 'the cookie is gone');
  });

  await step('after logout: refresh and the old access token are refused', async () => {
    const body = { device_id: deviceId };
    expectProblem(await call(page, 'POST', '/api/auth/refresh-token', { body }), 401, 'refresh_token_missing');
    // The last refresh token, put back as if it had been kept: the session is gone.
    await context.addCookies([stolen]);
    expectProblem(await call(page, 'POST', '/api/auth/refresh-token', { body }), 401, 'session_revoked');
    await context.clearCookies({ name: REFRESH_COOKIE });
    const answer = await call(page, 'GET', '/api/sessions/current', { bearer: access });
    expectProblem(answer, 401, 'session_revoked');
    assert.match(answer.headers['www-authenticate'] ?? '', /^Bearer/);
  });

  await step('the returning member signs in with the passkey', async () => {
    const answer = await call(page, 'POST', '/api/auth/assert-biometric/options', { body: { device_id: deviceId } });
    const request = expectStatus(answer, 200);
    assert.equal(request.publicKey?.rpId, 'localhost');
    assert.ok(
      request.publicKey.allowCredentials?.some((c) => c.id === credential.id),
      `the passkey is allowed: ${JSON.stringify(request.publicKey.allowCredentials)}`,
    );
    const got = await page.evaluate((publicKey) => window.vt.get(publicKey), request.publicKey);
    if (got.error) {
      const shown = JSON.stringify(request.publicKey, null, 2);
      assert.fail(`get() failed: ${got.error.name}: ${got.error.message}\nwith publicKey:\n${shown}`);
    }
    assert.equal(got.credential.id, credential.id);
    const signedIn = expectStatus(
      await call(page, 'POST', '/api/auth/assert-biometric', {
        body: { device_id: deviceId, credential: got.credential, device },
      }),
      201,
    );
    assert.equal(signedIn.user_id, enrolled.user_id);
    assert.equal(signedIn.device_id, deviceId);
    assert.equal(signedIn.refresh_token, undefined);
    assert.notEqual(signedIn.session_id, session, 'a new session');
    assert.ok(await refreshCookie(), 'a new refresh cookie');
    access = signedIn.access_token;
    session = signedIn.session_id;
  });

  await step('authenticated reads work again, and so does the cookie', async () => {
    const current = expectStatus(await call(page, 'GET', '/api/sessions/current', { bearer: access }), 200);
    assert.deepEqual(current, { user_id: enrolled.user_id, session_id: session, device_id: deviceId });
    const again = expectStatus(
      await call(page, 'POST', '/api/auth/refresh-token', { body: { device_id: deviceId } }),
      200,
    );
    assert.equal(again.session_id, session);
    expectStatus(await call(page, 'POST', '/api/auth/logout', { body: { device_id: deviceId } }), 200);
  });
});
