import { useEffect, useState, type FormEvent } from "react";

import { api, unwrap } from "../api/client";
import { ApiProblem, messageFor } from "../lib/problems";
import { Alert, Button, Card, Field } from "../ui/kit";
import type { Channel, Flow } from "./state";

const LABELS: Record<Channel, string> = { email: "Email code", sms: "SMS code" };

function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  return now;
}

/** Step 2: the two codes, each channel with its own state, tries left and resend countdown. */
export function CodesStep({ flow, onChange, onRestart }: { flow: Flow; onChange: (flow: Flow) => void; onRestart: () => void }) {
  const [codes, setCodes] = useState<Record<Channel, string>>({ email: "", sms: "" });
  const [error, setError] = useState<string | null>(null);
  const [tries, setTries] = useState<Partial<Record<Channel, number>>>({});
  const [busy, setBusy] = useState(false);
  const now = useNow();
  const { channels } = flow.progress;
  const expired = error !== null && /start again/.test(error);

  async function verify(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      flow_id: flow.progress.flow_id,
      email_code: channels.email.verified ? null : codes.email.trim() || null,
      sms_code: channels.sms.verified ? null : codes.sms.trim() || null,
    };
    try {
      const answer = await unwrap(api.POST("/api/auth/verify-otp", { body }));
      onChange({ ...flow, progress: answer, enrolmentToken: answer.enrolment_token });
    } catch (caught) {
      setError(messageFor(caught));
      if (caught instanceof ApiProblem) {
        const channel = caught.member("channel") as Channel | undefined;
        const left = caught.member("remaining_attempts");
        if (channel && typeof left === "number") setTries((t) => ({ ...t, [channel]: left }));
        const progress = caught.member("channels");
        if (progress) onChange({ ...flow, progress: { ...flow.progress, channels: progress as typeof channels } });
      }
    } finally {
      setBusy(false);
    }
  }

  async function resend(channel: Channel) {
    setError(null);
    try {
      const progress = await unwrap(api.POST("/api/auth/resend-otp", { body: { flow_id: flow.progress.flow_id, channel } }));
      onChange({ ...flow, progress, notice: undefined });
    } catch (caught) {
      setError(messageFor(caught));
    }
  }

  return (
    <Card title="Step 2 of 3: your two codes">
      <p className="mb-4 text-slate-700">
        We sent a code to {flow.email} and to {flow.phone}.
      </p>
      {flow.notice && !error && <Alert kind="info">{flow.notice}</Alert>}
      {error && <Alert>{error}</Alert>}
      {expired && (
        <Button variant="secondary" className="mb-4" onClick={onRestart}>
          Start again
        </Button>
      )}
      <form onSubmit={verify} noValidate>
        {(["email", "sms"] as const).map((channel) => {
          const state = channels[channel];
          const wait = state.resend_available_at ? Math.ceil(state.resend_available_at - now / 1000) : 0;
          return (
            <fieldset key={channel} className="mb-4 rounded-lg border border-slate-200 p-4">
              <legend className="px-1 text-sm font-medium">{LABELS[channel]}</legend>
              {state.verified ? (
                <p className="text-emerald-700" data-channel-state={`${channel}-verified`}>
                  Verified
                </p>
              ) : (
                <>
                  <Field
                    id={`${channel}-code`}
                    label={LABELS[channel]}
                    inputMode="numeric"
                    autoComplete="one-time-code"
                    value={codes[channel]}
                    onChange={(e) => setCodes((c) => ({ ...c, [channel]: e.target.value }))}
                    hint={tries[channel] !== undefined ? `${tries[channel]} tries left for this code.` : undefined}
                  />
                  <Button variant="secondary" disabled={wait > 0 || state.sends_left === 0} onClick={() => resend(channel)}>
                    {state.sends_left === 0 ? "No more codes can be sent" : wait > 0 ? `Send again in ${wait} s` : "Send a new code"}
                  </Button>
                </>
              )}
            </fieldset>
          );
        })}
        <Button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Verify"}
        </Button>
      </form>
    </Card>
  );
}
