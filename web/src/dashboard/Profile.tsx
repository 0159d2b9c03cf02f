import type { components } from "@vottery/identity-client";
import { useEffect, useState, type FormEvent } from "react";

import { api } from "../api/client";
import { messageFor } from "../lib/problems";
import { Alert, Button, Card, Field } from "../ui/kit";
import { useMemberCall } from "./member";

type Profile = components["schemas"]["Profile"];
type Editable = Pick<Profile, "display_name" | "first_name" | "last_name" | "language" | "time_zone">;
const FIELDS: [keyof Editable, string][] = [
  ["display_name", "Display name"],
  ["first_name", "First name"],
  ["last_name", "Last name"],
  ["language", "Language (such as en-GB)"],
  ["time_zone", "Time zone (such as Europe/London)"],
];

/** The member's profile, edited with the ETag it was read with (`If-Match`). */
export function ProfileCard() {
  const member = useMemberCall();
  const [profile, setProfile] = useState<Profile | null>(null);
  const [etag, setEtag] = useState("");
  const [draft, setDraft] = useState<Editable | null>(null);
  const [message, setMessage] = useState<{ kind: "error" | "success"; text: string } | null>(null);

  const [version, setVersion] = useState(0);

  useEffect(() => {
    const load = async () => {
      const { data, response } = await member((auth) => api.GET("/api/users/profile", auth));
      setProfile(data);
      setEtag(response.headers.get("etag") ?? "");
    };
    load().catch((e) => setMessage({ kind: "error", text: messageFor(e) }));
  }, [member, version]);

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!draft) return;
    const body = Object.fromEntries(FIELDS.map(([key]) => [key, draft[key]?.trim() || null])) as Editable;
    try {
      const { data, response } = await member((auth) =>
        api.PUT("/api/users/profile", { ...auth, params: { header: { "If-Match": etag } }, body }),
      );
      setProfile(data);
      setEtag(response.headers.get("etag") ?? "");
      setDraft(null);
      setMessage({ kind: "success", text: "Your profile is saved." });
    } catch (caught) {
      setMessage({ kind: "error", text: messageFor(caught) });
      setVersion((v) => v + 1);
    }
  }

  return (
    <Card title="Profile">
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {profile && !draft && (
        <>
          <dl className="mb-4 grid grid-cols-1 gap-x-6 gap-y-2 sm:grid-cols-2">
            <dt className="text-sm text-slate-600">Display name</dt>
            <dd data-testid="display-name">{profile.display_name ?? "—"}</dd>
            <dt className="text-sm text-slate-600">Name</dt>
            <dd>{[profile.first_name, profile.last_name].filter(Boolean).join(" ") || "—"}</dd>
            <dt className="text-sm text-slate-600">Email</dt>
            <dd>{profile.email}</dd>
            <dt className="text-sm text-slate-600">Phone</dt>
            <dd>{profile.phone}</dd>
            <dt className="text-sm text-slate-600">Language</dt>
            <dd>{profile.language ?? "—"}</dd>
            <dt className="text-sm text-slate-600">Time zone</dt>
            <dd>{profile.time_zone ?? "—"}</dd>
          </dl>
          <Button variant="secondary" onClick={() => setDraft(profile)}>
            Edit profile
          </Button>
        </>
      )}
      {draft && (
        <form onSubmit={save}>
          {FIELDS.map(([key, label]) => (
            <Field
              key={key}
              id={`profile-${key}`}
              label={label}
              value={draft[key] ?? ""}
              onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
            />
          ))}
          <div className="flex gap-3">
            <Button type="submit">Save</Button>
            <Button variant="secondary" onClick={() => setDraft(null)}>
              Cancel
            </Button>
          </div>
        </form>
      )}
    </Card>
  );
}
