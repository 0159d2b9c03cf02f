import { isProblem, type Problem, type ProblemCode } from "@vottery/identity-client";

import { problemMessages } from "../messages.gen";

/** What a person reads for the codes of the flow; every other code reads as the API describes it. */
const friendly: Partial<Record<ProblemCode, string>> = {
  code_invalid: "That code is not right. Check the message and try again.",
  code_expired: "That code has expired. Ask for a new one.",
  code_attempts_exhausted: "That code had too many wrong tries. Ask for a new one.",
  flow_expired: "This verification has expired. Please start again.",
  flow_not_found: "This verification is no longer known. Please start again.",
  locked_out: "Too many wrong codes. Wait a while, then try again.",
  rate_limited: "Too many attempts. Wait a moment, then try again.",
  resend_too_soon: "A new code can be sent a little later.",
  provider_rejected: "We could not send the code on this channel. Try sending it again.",
  provider_unavailable: "We could not send the code on this channel just now. Try sending it again.",
  invalid_email: "Enter a valid email address.",
  invalid_phone: "Enter your phone number in international format, such as +44 7912 345678.",
  enrolment_token_expired: "Your verification took too long and expired. Please start again.",
  enrolment_token_used: "This verification was already used. Please start again.",
  session_revoked: "Your session has ended. Please sign in again.",
  token_expired: "Your session has expired. Please sign in again.",
  insufficient_user_authentication: "For this, confirm it's you with your passkey again.",
  precondition_failed: "Your profile changed elsewhere. It has been reloaded: make your change again.",
  challenge_unknown: "The passkey request took too long. Try again.",
  no_passkey: "This device has no passkey for Vottery. Verify with your codes instead.",
  credential_unknown: "This passkey is not registered on this device. Verify with your codes instead.",
};

/** An answer of the API that is not a success, as the app handles it. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: ProblemCode | "network_error";
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null) {
    const code = problem?.code ?? "network_error";
    super(problem?.detail ?? `the service answered ${status}`);
    this.status = status;
    this.code = code;
    this.problem = problem;
  }

  /** A member of the problem body (`retry_after`, `remaining_attempts`, `channel`). */
  member(name: string): unknown {
    return (this.problem as Record<string, unknown> | null)?.[name];
  }
}

export function asProblem(status: number, body: unknown): ApiProblem {
  return new ApiProblem(status, isProblem(body) ? body : null);
}

/** The sentence a person reads for an error. */
export function messageFor(error: unknown): string {
  if (error instanceof ApiProblem) {
    if (error.code === "network_error") {
      return "The service cannot be reached. Check your connection and try again.";
    }
    return friendly[error.code] ?? problemMessages[error.code] ?? "Something went wrong. Please try again.";
  }
  if (error instanceof DOMException && error.name === "NotAllowedError") {
    return "The passkey request was cancelled or timed out. Try again when you are ready.";
  }
  return "Something went wrong. Please try again.";
}
