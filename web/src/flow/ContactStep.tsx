import { useState, type FormEvent } from "react";

import { api, unwrap } from "../api/client";
import { ApiProblem, messageFor } from "../lib/problems";
import { Alert, Button, Card, Field } from "../ui/kit";
import { e164, type Flow } from "./state";

/** Step 1: the email and phone of the member's Sngine account. */
export function ContactStep({ onSent }: { onSent: (flow: Flow) => void }) {
  const [email, setEmail] = useState("");
  const [phone, setPhone] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const normalised = e164(phone);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!normalised) {
      setError("Enter your phone number in international format, starting with + and the country code.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const body = { email: email.trim(), phone: normalised, language: navigator.language };
      const progress = await unwrap(api.POST("/api/auth/send-otp", { body }));
      onSent({ progress, email: email.trim(), phone: normalised });
    } catch (caught) {
      // One provider failed after the flow opened: go on, and resend on that channel.
      const flowId = caught instanceof ApiProblem ? caught.member("flow_id") : undefined;
      if (typeof flowId === "string") {
        const query = { params: { query: { flow_id: flowId } } };
        const progress = await unwrap(api.GET("/api/auth/status", query)).catch(() => null);
        if (progress) {
          onSent({ progress, email: email.trim(), phone: normalised, notice: messageFor(caught) });
          return;
        }
      }
      setError(messageFor(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title="Step 1 of 3: your contact details">
      <p className="mb-4 text-slate-700">Use the email and phone number of your Sngine account. We send a code to each.</p>
      {error && <Alert>{error}</Alert>}
      <form onSubmit={submit} noValidate>
        <Field
          id="email"
          label="Email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <Field
          id="phone"
          label="Phone number"
          type="tel"
          autoComplete="tel"
          inputMode="tel"
          required
          placeholder="+44 7912 345678"
          hint={normalised ? `We will text ${normalised}.` : "International format: + then the country code and number."}
          value={phone}
          onChange={(e) => setPhone(e.target.value)}
        />
        <Button type="submit" disabled={busy || !email || !phone}>
          {busy ? "Sending codes…" : "Send my codes"}
        </Button>
      </form>
    </Card>
  );
}
