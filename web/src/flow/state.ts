import type { components } from "@vottery/identity-client";

export type Progress = components["schemas"]["FlowProgress"];
export type Channel = "email" | "sms";

/** The flow as this tab keeps it (sessionStorage), so a reload resumes it. */
export interface Flow {
  progress: Progress;
  email: string;
  phone: string;
  enrolmentToken?: string;
  /** What step 1 has to say (a channel whose code could not be sent). */
  notice?: string;
}

const KEY = "vottery.flow";

export function loadFlow(): Flow | null {
  const text = sessionStorage.getItem(KEY);
  if (!text) return null;
  try {
    const flow = JSON.parse(text) as Flow;
    return flow.progress.expires_at * 1000 > Date.now() ? flow : null;
  } catch {
    return null;
  }
}

export function saveFlow(flow: Flow | null): void {
  if (flow) sessionStorage.setItem(KEY, JSON.stringify(flow));
  else sessionStorage.removeItem(KEY);
}

/** A phone as typed (`+44 7912 345678`, `0044 7912-345678`) in E.164 form, or null. */
export function e164(typed: string): string | null {
  let digits = typed.replace(/[\s().-]/g, "");
  if (digits.startsWith("00")) digits = `+${digits.slice(2)}`;
  return /^\+[1-9]\d{7,14}$/.test(digits) ? digits : null;
}
