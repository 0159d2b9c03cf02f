// `npm run generate`: writes docs/errors.md, every problem code of the two descriptions (the public
// API and the private routes) with the statuses it is answered with and when, from each
// description's ProblemCode. `npm run check` compares the committed file with what this makes and
// checks that every code is snake_case.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { openapi } from "./bundle.mjs";

export const errorsPath = join(openapi, "..", "docs", "errors.md");

// code -> set of statuses, from every response schema that is a Problem with a `status` const.
export function statuses(node, found) {
  if (Array.isArray(node)) {
    node.forEach((item) => statuses(item, found));
  } else if (node && typeof node === "object") {
    if (Array.isArray(node.allOf) && node.allOf.some((part) => part.$ref === "#/components/schemas/Problem")) {
      for (const part of node.allOf) {
        const status = part?.properties?.status?.const;
        for (const code of part?.properties?.code?.enum ?? []) {
          if (!found.has(code)) found.set(code, new Set());
          if (status !== undefined) found.get(code).add(status);
        }
      }
    }
    Object.values(node).forEach((value) => statuses(value, found));
  }
  return found;
}

// code -> sentence, from the ProblemCode description's `- `code`: when` lines.
function meanings(doc) {
  const found = new Map();
  for (const line of (doc.components.schemas.ProblemCode.description ?? "").split("\n")) {
    const match = /^- `([a-z0-9_]+)`: (.*)$/.exec(line.trim());
    if (match) found.set(match[1], match[2]);
  }
  return found;
}

export function codes() {
  const rows = new Map();
  for (const [file, scope] of [["openapi.yaml", "public"], ["internal.yaml", "private"]]) {
    const doc = parse(readFileSync(join(openapi, file), "utf8"));
    const status = statuses({ paths: doc.paths, responses: doc.components.responses }, new Map());
    const meaning = meanings(doc);
    for (const code of doc.components.schemas.ProblemCode.enum) {
      const row = rows.get(code) ?? { statuses: new Set(), scopes: [], when: meaning.get(code) ?? "" };
      for (const s of status.get(code) ?? []) row.statuses.add(s);
      row.scopes.push(scope);
      if (!row.when) row.when = meaning.get(code) ?? "";
      rows.set(code, row);
    }
  }
  return rows;
}

export function errorsDoc() {
  const rows = [...codes()].sort(([a], [b]) => (a < b ? -1 : 1));
  const lines = [
    "# Problem codes",
    "",
    "Every `code` an `application/problem+json` answer can carry, public routes and private ones, with",
    "its status and when it is answered. Generated from `openapi/openapi.yaml` and `openapi/internal.yaml`",
    "by `npm run generate` in `clients/typescript`; `npm run check` fails when this file is stale. Each",
    "code is raised by one error enum (`crates/*/src/error.rs`, `crates/validate/src/lib.rs`) or by the",
    "gateway and the host, as `docs/ARCHITECTURE.md` lists.",
    "",
    "| code | status | routes | when |",
    "|---|---|---|---|",
  ];
  for (const [code, row] of rows) {
    const status = [...row.statuses].sort().join(", ");
    lines.push(`| \`${code}\` | ${status} | ${row.scopes.join(", ")} | ${row.when.replaceAll("|", "\\|")} |`);
  }
  return `${lines.join("\n")}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(errorsPath, errorsDoc());
}
