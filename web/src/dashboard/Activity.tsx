import type { components } from "@vottery/identity-client";
import { useEffect, useState } from "react";

import { api } from "../api/client";
import { useSession } from "../auth/session";
import { ApiProblem, messageFor } from "../lib/problems";
import { signInWithPasskey } from "../flow/signin";
import { Alert, Button, Card } from "../ui/kit";
import { useMemberCall } from "./member";

type Entry = components["schemas"]["HistoryEntry"];

/** The member's history (their reports and security events); the dashboard's own view is reported too. */
export function ActivityCard() {
  const member = useMemberCall();
  const [entries, setEntries] = useState<Entry[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const load = async () => {
      await member((auth) => api.POST("/api/users/activity", { ...auth, body: { type: "dashboard.viewed" } }));
      const { data } = await member((auth) => api.GET("/api/users/activity", { ...auth, params: { query: { limit: "20" } } }));
      setEntries(data.entries);
    };
    load().catch((e) => setError(messageFor(e)));
  }, [member]);

  return (
    <Card title="Activity">
      {error && <Alert>{error}</Alert>}
      <ol className="flex flex-col gap-1 text-sm">
        {entries.map((entry, i) => (
          <li key={`${entry.at}-${i}`} className="flex justify-between gap-4 border-b border-slate-100 py-1">
            <span>{entry.type}</span>
            <time className="text-slate-600" dateTime={entry.at}>
              {new Date(entry.at).toLocaleString()}
            </time>
          </li>
        ))}
      </ol>
    </Card>
  );
}

/** Export and erasure: both need a passkey sign-in within five minutes, asked for again when older. */
export function DataCard() {
  const member = useMemberCall();
  const session = useSession();
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function withRecentPasskey<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (caught) {
      if (!(caught instanceof ApiProblem) || caught.code !== "insufficient_user_authentication") throw caught;
      const previous = session.session?.sessionId;
      session.begin(await signInWithPasskey());
      // The passkey opened a new session: the old one of this device ends.
      if (previous) {
        await member((auth) => api.DELETE("/api/sessions/{id}", { ...auth, params: { path: { id: previous } } })).catch(
          () => undefined,
        );
      }
      return work();
    }
  }

  async function exportData() {
    setBusy(true);
    setError(null);
    try {
      const { data } = await withRecentPasskey(() => member((auth) => api.GET("/api/users/profile/export", auth)));
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
      const link = Object.assign(document.createElement("a"), { href: url, download: "vottery-export.json" });
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  async function erase() {
    if (!window.confirm("Erase everything Vottery holds about you? This cannot be undone.")) return;
    setBusy(true);
    setError(null);
    try {
      await withRecentPasskey(() => member((auth) => api.DELETE("/api/users/profile", auth)));
      session.forget("Your Vottery account is erased. Come back from Sngine to start again.");
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title="Your data">
      {error !== null && <Alert>{messageFor(error)}</Alert>}
      <p className="mb-4 text-sm text-slate-700">Both ask for your passkey if you signed in more than five minutes ago.</p>
      <div className="flex flex-wrap gap-3">
        <Button variant="secondary" onClick={exportData} disabled={busy}>
          Download my data
        </Button>
        <Button variant="danger" onClick={erase} disabled={busy}>
          Erase my account
        </Button>
      </div>
    </Card>
  );
}
