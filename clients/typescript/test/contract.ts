// Type-level checks of the generated contract (compiled by `npm run check`, never run): the 3-step
// flow type-checks end to end, strict bodies refuse unknown members, and errors carry their codes.

import { createVotteryClient, type components, type ProblemCode } from "../src/index";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assert<T extends true>(): T | void {}

export async function threeSteps(): Promise<void> {
  const client = createVotteryClient("http://localhost:3000");

  const sent = await client.POST("/api/auth/send-otp", {
    body: { email: "ada@example.com", phone: "+447912345678", language: "en" },
  });
  if (sent.error) {
    const code: ProblemCode = sent.error.code;
    assert<Equal<typeof sent.error.code, SendOtpCodes>>();
    if (sent.error.code === "rate_limited") {
      const seconds: number | undefined = sent.error.retry_after;
      void seconds;
    }
    void code;
    return;
  }
  const flowId: string = sent.data.flow_id;

  const verified = await client.POST("/api/auth/verify-otp", {
    body: { flow_id: flowId, email_code: "482913", sms_code: "735104" },
  });
  if (verified.error) {
    if (verified.error.code === "code_invalid") {
      const left: number | undefined = verified.error.remaining_attempts;
      void left;
    }
    return;
  }
  const token = verified.data.enrolment_token ?? null;

  const options = await client.POST("/api/auth/capture-biometric/options", {
    body: { enrolment_token: token, device_id: "web-3f9c2a7e41d8", device: { platform_authenticator: true } },
  });
  if (options.data) {
    const challenge: string = options.data.publicKey.challenge;
    void challenge;
  }

  // @ts-expect-error the body takes no other member (additionalProperties: false)
  const strict: components["schemas"]["SendOtpRequest"] = { email: "a@b.c", phone: "+1", admin: true };
  void strict;

  const me = await client.GET("/api/sessions/current", { headers: { Authorization: "Bearer at" } });
  if (me.error) {
    assert<Equal<typeof me.error.code, SessionsCurrentCodes>>();
  }
}

type SendOtpCodes =
  | "malformed_json"
  | "unknown_field"
  | "missing_field"
  | "invalid_field"
  | "invalid_email"
  | "invalid_phone"
  | "invalid_host"
  | "contact_not_matched"
  | "payload_too_large"
  | "unsupported_media_type"
  | "phone_country_not_allowed"
  | "locked_out"
  | "rate_limited"
  | "request_header_fields_too_large"
  | "internal_error"
  | "gateway_misconfigured"
  | "provider_rejected"
  | "misconfigured"
  | "storage_unavailable"
  | "dependency_unavailable"
  | "provider_unavailable"
  | "gateway_unavailable"
  | "service_unavailable"
  | "uri_too_long"
  | "too_many_connections";

type SessionsCurrentCodes =
  | "token_missing"
  | "token_invalid"
  | "token_expired"
  | "session_revoked"
  | "invalid_host"
  | "payload_too_large"
  | "request_header_fields_too_large"
  | "internal_error"
  | "gateway_misconfigured"
  | "gateway_unavailable"
  | "service_unavailable"
  | "rate_limited"
  | "uri_too_long"
  | "too_many_connections";
