import { useEffect, useRef, useState } from "react";

import { useSession } from "./auth/session";
import { Dashboard } from "./dashboard/Dashboard";
import { CodesStep } from "./flow/CodesStep";
import { ContactStep } from "./flow/ContactStep";
import { PasskeySignIn, PasskeyStep } from "./flow/PasskeyStep";
import { loadFlow, saveFlow, type Flow } from "./flow/state";
import { cameFromSngine, SngineGate } from "./gate";
import { hasPasskey } from "./lib/device";
import { Alert, Shell } from "./ui/kit";

/** Signed out: the returning member's passkey, or the 3-step flow. */
function Verification() {
  const session = useSession();
  const [flow, setFlowState] = useState<Flow | null>(loadFlow);
  const [returning, setReturning] = useState(() => hasPasskey() && !loadFlow());
  const setFlow = (next: Flow | null) => {
    saveFlow(next);
    setFlowState(next);
  };
  const restart = () => setFlow(null);

  const stepKey = returning ? "returning" : !flow ? "contact" : flow.enrolmentToken ? "passkey" : "codes";
  const container = useRef<HTMLDivElement>(null);
  const shown = useRef(stepKey);
  useEffect(() => {
    // A new step: its heading takes the focus, so keyboard and screen-reader users start there.
    if (shown.current === stepKey) return;
    shown.current = stepKey;
    container.current?.querySelector<HTMLElement>("h2")?.focus();
  }, [stepKey]);

  let step;
  if (returning) {
    step = <PasskeySignIn onCodes={() => setReturning(false)} />;
  } else if (!flow) {
    step = <ContactStep onSent={setFlow} />;
  } else if (flow.progress.step === "biometric" && flow.enrolmentToken) {
    step = <PasskeyStep flow={flow} onRestart={restart} />;
  } else {
    step = <CodesStep flow={flow} onChange={setFlow} onRestart={restart} />;
  }
  return (
    <Shell>
      <h1 className="text-2xl font-bold">Verify it's you</h1>
      {session.notice && <Alert kind="info">{session.notice}</Alert>}
      <div ref={container}>{step}</div>
    </Shell>
  );
}

export function App() {
  const session = useSession();
  // A device with a passkey is a verified member's: the courtesy gate stays open for it.
  const [fromSngine] = useState(() => cameFromSngine() || hasPasskey());
  if (session.state === "checking") {
    return (
      <Shell>
        <p role="status">Loading…</p>
      </Shell>
    );
  }
  if (session.state === "signed-in") return <Dashboard />;
  return (
    <SngineGate open={fromSngine}>
      <Verification />
    </SngineGate>
  );
}
