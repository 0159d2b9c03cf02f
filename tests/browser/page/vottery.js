// What the test page can do, as a web client of the app would: fetch its
// API from its own origin (cookies included) and run WebAuthn ceremonies
// with the options exactly as the app served them. The test drives it
// through `window.vt`.

/** JSON of a response when it is JSON, else null. */
function parsed(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A DOMException (or any error) as plain data. */
function failure(error) {
  return { name: error?.name ?? 'Error', message: error?.message ?? String(error) };
}

window.vt = {
  ready: true,

  /** Where the page is and what this browser supports. */
  environment() {
    return {
      origin: location.origin,
      secureContext: window.isSecureContext,
      userAgent: navigator.userAgent,
      parseCreationOptionsFromJSON: typeof PublicKeyCredential?.parseCreationOptionsFromJSON === 'function',
      parseRequestOptionsFromJSON: typeof PublicKeyCredential?.parseRequestOptionsFromJSON === 'function',
      toJSON: typeof PublicKeyCredential?.prototype?.toJSON === 'function',
    };
  },

  /** A device id the client generates once and keeps. */
  newDeviceId() {
    return `web-${crypto.randomUUID()}`;
  },

  /** What a web client reports of the device. */
  async device() {
    return {
      platform_authenticator: await PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable(),
      max_touch_points: navigator.maxTouchPoints,
      native_app: false,
    };
  },

  /** The cookies scripts can see (an HttpOnly one must not be here). */
  documentCookie() {
    return document.cookie;
  },

  /** A call to the app: `{status, headers, body, text}`. */
  async api(method, path, { body, bearer } = {}) {
    const headers = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'include',
      cache: 'no-store',
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: parsed(text),
      text,
    };
  },

  /** navigator.credentials.create with the served `publicKey` JSON: `{credential}` (its toJSON()) or `{error}`. */
  async create(publicKeyJSON) {
    try {
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(publicKeyJSON);
      const credential = await navigator.credentials.create({ publicKey });
      return { credential: credential.toJSON() };
    } catch (error) {
      return { error: failure(error) };
    }
  },

  /** navigator.credentials.get with the served `publicKey` JSON: `{credential}` (its toJSON()) or `{error}`. */
  async get(publicKeyJSON) {
    try {
      const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(publicKeyJSON);
      const credential = await navigator.credentials.get({ publicKey });
      return { credential: credential.toJSON() };
    } catch (error) {
      return { error: failure(error) };
    }
  },
};
