import type { components } from "@vottery/identity-client";

import { api } from "../api/client";
import { Alert, Button, Card } from "../ui/kit";
import { type MemberCall, useMemberList } from "./member";

type Device = components["schemas"]["DeviceListItem"];
type SessionItem = components["schemas"]["SessionListItem"];

const KINDS: Record<Device["kind"], string> = {
  web: "Web browser",
  desktop: "Desktop",
  laptop: "Laptop",
  tablet: "Tablet",
  ios: "iPhone",
  android: "Android phone",
};

function when(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString();
}

async function readDevices(member: MemberCall): Promise<Device[]> {
  return (await member((auth) => api.GET("/api/devices/list", auth))).data.devices;
}

async function readSessions(member: MemberCall): Promise<SessionItem[]> {
  const { data } = await member((auth) => api.GET("/api/sessions", auth));
  return data.sessions.filter((s) => s.revoked_at === null);
}

/** The member's devices: kind, system, browser, place, last seen; rename, trust, remove. */
export function DevicesCard() {
  const { items: devices, error, act, member } = useMemberList(readDevices);

  function rename(device: Device) {
    const name = window.prompt("Name this device", device.name ?? "");
    if (name === null) return;
    act(() => member((auth) => api.PUT("/api/devices/update", { ...auth, body: { device_id: device.device_id, name: name.trim() || null } })));
  }

  return (
    <Card title="Devices">
      {error && <Alert>{error}</Alert>}
      <ul className="flex flex-col gap-3">
        {devices.map((device) => (
          <li key={device.device_id} className="rounded-lg border border-slate-200 p-4" data-device-kind={device.kind}>
            <p className="font-medium">
              {device.name ?? KINDS[device.kind]} {device.current && <span className="text-sm text-indigo-700">(this device)</span>}
            </p>
            <p className="text-sm text-slate-600">
              {KINDS[device.kind]} · {[device.os, device.os_version].filter(Boolean).join(" ") || "Unknown system"} ·{" "}
              {[device.browser, device.browser_version].filter(Boolean).join(" ") || "Unknown browser"}
              {device.model ? ` · ${device.model}` : ""}
            </p>
            <p className="text-sm text-slate-600">
              {[device.city, device.region, device.country].filter(Boolean).join(", ") || "Place unknown"} · last seen{" "}
              {when(device.last_seen_at)} {device.trusted && "· trusted"}
            </p>
            <div className="mt-2 flex flex-wrap gap-2">
              <Button variant="secondary" onClick={() => rename(device)}>
                Rename
              </Button>
              <Button
                variant="secondary"
                onClick={() =>
                  act(() => member((auth) => api.PUT("/api/devices/update", { ...auth, body: { device_id: device.device_id, trusted: !device.trusted } })))
                }
              >
                {device.trusted ? "Stop trusting" : "Trust"}
              </Button>
              {!device.current && (
                <Button
                  variant="danger"
                  onClick={() => act(() => member((auth) => api.DELETE("/api/devices/{id}", { ...auth, params: { path: { id: device.device_id } } })))}
                >
                  Remove
                </Button>
              )}
            </div>
          </li>
        ))}
      </ul>
    </Card>
  );
}

/** The member's sessions: revoke one, or every other. */
export function SessionsCard() {
  const { items: sessions, error, act, member } = useMemberList(readSessions);

  return (
    <Card title="Sessions">
      {error && <Alert>{error}</Alert>}
      <ul className="mb-4 flex flex-col gap-3">
        {sessions.map((session) => (
          <li key={session.session_id} className="flex flex-wrap items-center justify-between gap-2 rounded-lg border border-slate-200 p-4">
            <span className="text-sm">
              Signed in {when(session.created_at)}, last used {when(session.last_used_at)}
              {session.current && <strong className="text-indigo-700"> (this session)</strong>}
            </span>
            {!session.current && (
              <Button
                variant="secondary"
                onClick={() => act(() => member((auth) => api.DELETE("/api/sessions/{id}", { ...auth, params: { path: { id: session.session_id } } })))}
              >
                Sign out
              </Button>
            )}
          </li>
        ))}
      </ul>
      <Button variant="secondary" onClick={() => act(() => member((auth) => api.POST("/api/sessions/revoke-others", auth)))}>
        Sign out everywhere else
      </Button>
    </Card>
  );
}
