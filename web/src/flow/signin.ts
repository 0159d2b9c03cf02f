import { api, unwrap } from "../api/client";
import { deviceId, deviceReport } from "../lib/device";
import { getPasskey } from "../lib/webauthn";

/** The returning member's ceremony: options for this device, the passkey, the session's tokens. */
export async function signInWithPasskey() {
  const options = await unwrap(api.POST("/api/auth/assert-biometric/options", { body: { device_id: deviceId() } }));
  const credential = await getPasskey(options.publicKey);
  const device = await deviceReport();
  return unwrap(api.POST("/api/auth/assert-biometric", { body: { device_id: deviceId(), credential, device } }));
}
