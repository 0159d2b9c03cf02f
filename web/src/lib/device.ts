import type { components } from "@vottery/identity-client";

export type DeviceReport = components["schemas"]["DeviceReport"];

const DEVICE_KEY = "vottery.device_id";
const PASSKEY_KEY = "vottery.passkey";

/** The device id this browser made once and keeps (`web-<uuid>`). */
export function deviceId(): string {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

/** Whether a passkey was made on this device (so the returning member's sign-in is offered). */
export function hasPasskey(): boolean {
  return localStorage.getItem(PASSKEY_KEY) === "1";
}

export function rememberPasskey(made: boolean): void {
  if (made) localStorage.setItem(PASSKEY_KEY, "1");
  else localStorage.removeItem(PASSKEY_KEY);
}

interface UaData {
  getHighEntropyValues(hints: string[]): Promise<{ formFactors?: string[] }>;
}

/** What the browser can tell of the device: form factor where known, touch points, the platform authenticator. */
export async function deviceReport(): Promise<DeviceReport> {
  const report: DeviceReport = { max_touch_points: navigator.maxTouchPoints, native_app: false };
  const ua = (navigator as Navigator & { userAgentData?: UaData }).userAgentData;
  if (ua) {
    try {
      const { formFactors } = await ua.getHighEntropyValues(["formFactors"]);
      const factor = formFactors?.[0]?.toLowerCase();
      const known: Record<string, string> = { desktop: "desktop", mobile: "phone", tablet: "tablet" };
      if (factor && known[factor]) report.form_factor = known[factor];
    } catch {
      // Hints refused: the user agent and touch points remain.
    }
  }
  if ((report.form_factor === "desktop" || report.form_factor === undefined) && !report.max_touch_points) {
    if (await onBattery()) report.form_factor = "laptop";
  }
  if (typeof PublicKeyCredential !== "undefined") {
    report.platform_authenticator = await PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable();
  }
  return report;
}

interface Battery {
  charging: boolean;
  level: number;
  dischargingTime: number;
}

/** Whether the computer runs on a battery now (a laptop); a desktop reports full and charging. */
async function onBattery(): Promise<boolean> {
  const nav = navigator as Navigator & { getBattery?: () => Promise<Battery> };
  if (typeof nav.getBattery !== "function") return false;
  try {
    const battery = await nav.getBattery();
    return !battery.charging || battery.level < 1 || Number.isFinite(battery.dischargingTime);
  } catch {
    return false;
  }
}
