// `npm run check` (before `tsc --noEmit`): fails when src/schema.d.ts or openapi/openapi.json is not
// what `npm run generate` makes from openapi/openapi.yaml now (regenerated and compared), and
// when the problem codes of the two descriptions disagree: every `code` a response lists must be in
// its document's ProblemCode, and every ProblemCode must be listed by some response.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { bundled } from "./bundle.mjs";
import { codes, errorsDoc, errorsPath, statuses } from "./errors.mjs";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const openapi = join(here, "..", "..", "openapi");
let failed = false;

// 1. The committed types are current.
const scratch = mkdtempSync(join(tmpdir(), "vottery-schema-"));
try {
  const fresh = join(scratch, "schema.d.ts");
  const cli = join(here, "node_modules", "openapi-typescript", "bin", "cli.js");
  execFileSync(process.execPath, [cli, join(openapi, "openapi.yaml"), "--output", fresh], { cwd: here, stdio: "pipe" });
  const committed = readFileSync(join(here, "src", "schema.d.ts"), "utf8");
  if (readFileSync(fresh, "utf8") !== committed) {
    console.error("src/schema.d.ts is stale: run `npm run generate` in clients/typescript and commit it.");
    failed = true;
  } else {
    console.log("src/schema.d.ts matches openapi/openapi.yaml");
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

// 2. The committed JSON form is current.
if (readFileSync(join(openapi, "openapi.json"), "utf8") !== bundled()) {
  console.error("openapi/openapi.json is stale: run `npm run generate` in clients/typescript and commit it.");
  failed = true;
} else {
  console.log("openapi/openapi.json matches openapi/openapi.yaml");
}

// 3. The problem codes agree within each description.
for (const file of ["openapi.yaml", "internal.yaml"]) {
  const doc = parse(readFileSync(join(openapi, file), "utf8"));
  const declared = new Set(doc.components.schemas.ProblemCode.enum);
  const listed = new Set(statuses({ paths: doc.paths, responses: doc.components.responses }, new Map()).keys());
  const undeclared = [...listed].filter((code) => !declared.has(code));
  const unlisted = [...declared].filter((code) => !listed.has(code));
  if (undeclared.length > 0) {
    console.error(`${file}: codes listed by responses but not in ProblemCode: ${undeclared.join(", ")}`);
    failed = true;
  }
  if (unlisted.length > 0) {
    console.error(`${file}: ProblemCode members no response lists: ${unlisted.join(", ")}`);
    failed = true;
  }
  if (undeclared.length === 0 && unlisted.length === 0) {
    console.log(`${file}: ${declared.size} problem codes, each listed by a response`);
  }
}

// 4. docs/errors.md is current, and every code is snake_case.
if (readFileSync(errorsPath, "utf8") !== errorsDoc()) {
  console.error("docs/errors.md is stale: run `npm run generate` in clients/typescript and commit it.");
  failed = true;
} else {
  console.log("docs/errors.md matches the descriptions");
}
const unshaped = [...codes().keys()].filter((code) => !/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(code));
if (unshaped.length > 0) {
  console.error(`problem codes that are not snake_case: ${unshaped.join(", ")}`);
  failed = true;
}

process.exit(failed ? 1 : 0);
