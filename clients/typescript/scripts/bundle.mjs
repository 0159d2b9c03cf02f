// `npm run generate` (with openapi-typescript): writes openapi/openapi.json, the JSON form of
// openapi/openapi.yaml that the service serves (GET /api/openapi.json) and the host's tests check
// every response against. `npm run check` compares the committed file with what this makes.

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export const openapi = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "openapi");

export function bundled() {
  return `${JSON.stringify(parse(readFileSync(join(openapi, "openapi.yaml"), "utf8")), null, 1)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(join(openapi, "openapi.json"), bundled());
}
