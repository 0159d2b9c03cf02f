import { createVotteryClient } from "@vottery/identity-client";

import { ApiProblem, asProblem } from "../lib/problems";

/** The API, on the app's own origin (the refresh cookie goes along by default). */
export const api = createVotteryClient("", { credentials: "same-origin" });

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The answer's body, or the problem as an `ApiProblem`; a network failure is `network_error`. */
export async function unwrap<T>(pending: Promise<Answer<T>>): Promise<T> {
  let answer: Answer<T>;
  try {
    answer = await pending;
  } catch {
    throw new ApiProblem(0, null);
  }
  if (answer.response.ok && answer.data !== undefined) return answer.data;
  if (answer.response.ok) return undefined as T;
  throw asProblem(answer.response.status, answer.error);
}

/** `Authorization` for a member's call. */
export function bearer(token: string): { headers: { Authorization: string } } {
  return { headers: { Authorization: `Bearer ${token}` } };
}
