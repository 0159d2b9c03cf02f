import { useEffect, useState } from "react";

import { api, unwrap } from "../api/client";
import { useSession } from "../auth/session";
import { deviceId, deviceReport, rememberPasskey } from "../lib/device";
import { ApiProblem, messageFor } from "../lib/problems";
import { createPasskey, passkeySupport, type PasskeySupport } from "../lib/webauthn";
import { signInWithPasskey } from "./signin";
import { Alert, Button, Card } from "../ui/kit";
import { saveFlow, type Flow } from "./state";

/** Step 3: a passkey with user verification on the device in hand. */
export function PasskeyStep({ flow, onRestart }: { flow: Flow; onRestart: () => void }) {
  const session = useSession();
  const [support, setSupport] = useState<PasskeySupport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    passkeySupport().then(setSupport, () => setSupport({ webauthn: false, platform: false, jsonOptions: false, conditional: false }));
  }, []);

  async function enrol() {
    setBusy(true);
    setError(null);
    try {
      const device = await deviceReport();
      const body = { enrolment_token: flow.enrolmentToken ?? null, device_id: deviceId(), device };
      const options = await unwrap(api.POST("/api/auth/capture-biometric/options", { body }));
      const credential = await createPasskey(options.publicKey);
      const enrolled = await unwrap(api.POST("/api/auth/capture-biometric", { body: { credential, device } }));
      rememberPasskey(true);
      saveFlow(null);
      session.begin(enrolled);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  if (!support) return <Card title="Step 3 of 3: your passkey"><p>Checking this device…</p></Card>;
  if (!support.webauthn || !support.platform) {
    return (
      <Card title="Step 3 of 3: your passkey">
        <Alert>
          This device cannot make a passkey with a fingerprint, face or screen lock. Open Vottery on a phone, tablet or
          computer with a screen lock (Face ID, Touch ID, Windows Hello or Android screen lock) to finish.
        </Alert>
      </Card>
    );
  }
  const tokenGone = error instanceof ApiProblem && /enrolment_token/.test(error.code);
  return (
    <Card title="Step 3 of 3: your passkey">
      <p className="mb-4 text-slate-700">
        Both codes are verified. Now confirm it's you on this device with your fingerprint, face or screen lock. This
        makes a passkey that stays on this device.
      </p>
      {error !== null && <Alert>{messageFor(error)}</Alert>}
      {tokenGone ? (
        <Button onClick={onRestart}>Start again</Button>
      ) : (
        <div className="flex flex-wrap gap-3">
          <Button onClick={enrol} disabled={busy}>
            {busy ? "Waiting for your device…" : "Create my passkey"}
          </Button>
          <Button variant="secondary" onClick={onRestart}>
            Start again
          </Button>
        </div>
      )}
    </Card>
  );
}

/** A returning member on a known device: sign in with the passkey. */
export function PasskeySignIn({ onCodes }: { onCodes: () => void }) {
  const session = useSession();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function signIn() {
    setBusy(true);
    setError(null);
    try {
      session.begin(await signInWithPasskey());
    } catch (caught) {
      if (caught instanceof ApiProblem && (caught.code === "no_passkey" || caught.code === "credential_unknown")) rememberPasskey(false);
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title="Welcome back">
      <p className="mb-4 text-slate-700">Sign in with the passkey on this device.</p>
      {error !== null && <Alert>{messageFor(error)}</Alert>}
      <div className="flex flex-wrap gap-3">
        <Button onClick={signIn} disabled={busy}>
          {busy ? "Waiting for your device…" : "Sign in with my passkey"}
        </Button>
        <Button variant="secondary" onClick={onCodes}>
          Verify with my codes instead
        </Button>
      </div>
    </Card>
  );
}
