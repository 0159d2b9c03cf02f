// Chromium's WebAuthn virtual authenticator (DevTools protocol `WebAuthn`
// domain): a platform authenticator with user verification that says yes.

/** The authenticator a passkey-capable phone or laptop has built in. */
export const PLATFORM_AUTHENTICATOR = Object.freeze({
  protocol: 'ctap2',
  transport: 'internal',
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
});

/**
 * Adds a virtual authenticator to `page` (it stays for the page's life,
 * across navigations). Returns its id and a few controls.
 */
export async function addVirtualAuthenticator(page, options = {}) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { ...PLATFORM_AUTHENTICATOR, ...options },
  });
  return {
    id: authenticatorId,
    cdp,
    /** The credentials it holds (id, rpId, userHandle, signCount, isResidentCredential, ...). */
    async credentials() {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials;
    },
    /** Whether the next ceremonies' user verification succeeds. */
    async setUserVerified(isUserVerified) {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified });
    },
    async remove() {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
      await cdp.detach().catch(() => {});
    },
  };
}
