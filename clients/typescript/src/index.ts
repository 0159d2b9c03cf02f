// The typed client of Vottery identity's public API: the types are generated from
// openapi/openapi.yaml into schema.d.ts (`npm run generate`); openapi-fetch does the requests.

import createClient, { type Client, type ClientOptions } from "openapi-fetch";

import type { components, operations, paths } from "./schema";

export type { components, operations, paths };

/** An RFC 9457 problem, as every error of the API is. */
export type Problem = components["schemas"]["Problem"];

/** Every stable `code` a problem of the public API can carry. */
export type ProblemCode = components["schemas"]["ProblemCode"];

export type VotteryClient = Client<paths>;

/**
 * A client for the API at `baseUrl` (`http://localhost:3000` for `./scripts/run`). Browsers send the
 * `__Host-vottery-refresh` cookie on same-origin requests by default; other `options` (a custom
 * `fetch`, `credentials`, headers) are passed to openapi-fetch. Member routes need
 * `Authorization: Bearer <access_token>`, per request (`headers`) or with a middleware (`client.use`).
 */
export function createVotteryClient(baseUrl: string, options: Omit<ClientOptions, "baseUrl"> = {}): VotteryClient {
  return createClient<paths>({ ...options, baseUrl });
}

/** Whether a value (an `error` of the client, say) is a problem body with a code. */
export function isProblem(value: unknown): value is Problem {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const { code, status } = value as { code?: unknown; status?: unknown };
  return typeof code === "string" && typeof status === "number";
}
