#!/usr/bin/env node
// Checks the Kubernetes manifests of deploy/kubernetes before anyone applies
// them: every YAML file parses (all of its documents, read as Kubernetes
// reads YAML, 1.1), each document is a kind we deploy with the fields that
// SpinKube and Kubernetes require, and the files agree with each other and
// with spin.toml (Secrets and keys referenced exist, every variable without
// a default is bound, secrets are never plain values, the HPA and the PDB
// select the SpinApp). Exits 1 naming each file, document and field at fault.
//
//   node check.mjs [--quiet] [--spin-toml FILE] [DIR]
//
// DIR defaults to this script's folder, FILE to the repository's spin.toml;
// --quiet prints only the closing line when all is well.

import { readFileSync, readdirSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { parse as parseToml } from "smol-toml";

const here = dirname(fileURLToPath(import.meta.url));

// --- arguments --------------------------------------------------------------

let dir = here;
let spinTomlPath = join(here, "..", "..", "spin.toml");
let quiet = false;
{
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--spin-toml" && i + 1 < args.length) spinTomlPath = args[++i];
    else if (args[i] === "-q" || args[i] === "--quiet") quiet = true;
    else if (args[i] === "-h" || args[i] === "--help") {
      console.log("usage: node check.mjs [--quiet] [--spin-toml FILE] [DIR]");
      process.exit(0);
    } else if (args[i].startsWith("-")) {
      console.error(`check.mjs: unknown option ${args[i]}`);
      process.exit(2);
    } else dir = args[i];
  }
  dir = resolve(dir);
  spinTomlPath = resolve(spinTomlPath);
}

// Files the kustomization leaves out on purpose (see kustomization.yaml).
const LEFT_OUT = new Map([
  ["secrets.example.yaml", "placeholders only: `kubectl apply -k` must never overwrite real Secrets"],
  ["migrate-job.yaml", "the migrations must complete before the SpinApp is applied"],
]);
// The only file that may hold Secrets, and only with placeholders.
const SECRETS_FILE = "secrets.example.yaml";
const PLACEHOLDER = "CHANGE-ME";
// The key SpinKube reads from the Secret named by runtimeConfig.loadFromSecret.
const RUNTIME_CONFIG_KEY = "runtime-config.toml";
// The label the operator puts on every pod of a SpinApp.
const APP_NAME_LABEL = "core.spinkube.dev/app-name";
// Spin's own health route (answered by Spin, not by a component).
const SPIN_HEALTH = "/.well-known/spin/health";

// --- problems ---------------------------------------------------------------

const problems = [];
const show = (file) => relative(process.cwd(), file) || ".";

/** Where a problem is: a file, a document of it, and the object's identity. */
class Where {
  constructor(file, n, kind, name) {
    Object.assign(this, { file, n, kind, name });
  }
  fail(path, message) {
    const what = this.kind ? `${this.kind} ${this.name ?? "(no name)"}` : "";
    const doc = this.n ? `document ${this.n}` : "";
    const head = [doc, what].filter(Boolean).join(", ");
    problems.push(`${show(this.file)}${head ? ` (${head})` : ""}: ${path ? `${path}: ` : ""}${message}`);
  }
}

// --- small validators -------------------------------------------------------

const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isInt = (v) => Number.isInteger(v);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SPIN_VARIABLE = /^[a-z][a-z0-9_]*$/;

const isLabel = (s) => typeof s === "string" && s.length <= 63 && DNS_LABEL.test(s);
const isSubdomain = (s) =>
  typeof s === "string" && s.length > 0 && s.length <= 253 && s.split(".").every((part) => DNS_LABEL.test(part));

function checkName(where, meta, rule) {
  if (!isObj(meta)) return where.fail("metadata", "missing");
  const name = meta.name;
  if (typeof name !== "string" || name === "") return where.fail("metadata.name", "missing");
  if (rule === "label" && !isLabel(name)) {
    where.fail("metadata.name", `"${name}" is not a DNS-1123 label (lower case letters, digits and '-', at most 63)`);
  } else if (rule === "1035" && !(name.length <= 63 && DNS_1035.test(name))) {
    where.fail("metadata.name", `"${name}" is not a DNS-1035 label (it names a Service: starts with a letter, at most 63)`);
  } else if (!isSubdomain(name)) {
    where.fail("metadata.name", `"${name}" is not a DNS-1123 subdomain`);
  }
}

function checkLabels(where, path, labels) {
  if (labels === undefined) return;
  if (!isObj(labels)) return where.fail(path, "must be a map of strings");
  for (const [key, value] of Object.entries(labels)) {
    const slash = key.lastIndexOf("/");
    const prefix = slash >= 0 ? key.slice(0, slash) : null;
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    if ((prefix !== null && !isSubdomain(prefix)) || name.length > 63 || !LABEL_NAME.test(name)) {
      where.fail(`${path}.${key}`, "not a valid label key");
    }
    if (typeof value !== "string") {
      where.fail(`${path}.${key}`, `must be a string (quote it), not ${typeof value} ${JSON.stringify(value)}`);
    } else if (value !== "" && (value.length > 63 || !LABEL_NAME.test(value))) {
      where.fail(`${path}.${key}`, `"${value}" is not a valid label value`);
    }
  }
}

function unknownKeys(where, path, obj, known) {
  if (!isObj(obj)) return;
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) where.fail(`${path}.${key}`, `unknown field (known: ${known.join(", ")})`);
  }
}

/** A Kubernetes quantity as a number (cpu in cores, memory in bytes), or NaN. */
function quantity(v) {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return NaN;
  const m = /^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(v);
  if (!m) return NaN;
  const scale = {
    m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  };
  return Number(m[1]) * (m[2] ? scale[m[2]] : 1);
}

function checkResources(where, path, resources, { required }) {
  if (resources === undefined) {
    if (required) where.fail(path, "missing: set requests and limits");
    return;
  }
  if (!isObj(resources)) return where.fail(path, "must be a map");
  unknownKeys(where, path, resources, ["requests", "limits", "claims"]);
  for (const part of ["requests", "limits"]) {
    const list = resources[part];
    if (list === undefined) {
      if (required) where.fail(`${path}.${part}`, "missing");
      continue;
    }
    if (!isObj(list)) {
      where.fail(`${path}.${part}`, "must be a map");
      continue;
    }
    for (const [name, value] of Object.entries(list)) {
      if (Number.isNaN(quantity(value))) where.fail(`${path}.${part}.${name}`, `"${value}" is not a quantity`);
    }
    if (required && list.memory === undefined) where.fail(`${path}.${part}.memory`, "missing");
  }
  if (isObj(resources.requests) && isObj(resources.limits)) {
    for (const [name, request] of Object.entries(resources.requests)) {
      const limit = resources.limits[name];
      if (limit !== undefined && quantity(request) > quantity(limit)) {
        where.fail(`${path}.requests.${name}`, `request ${request} is above the limit ${limit}`);
      }
    }
  }
}

/** name:tag or name@sha256:digest, with a tag other than latest. */
function checkImage(where, path, image) {
  if (typeof image !== "string" || image.trim() === "") return where.fail(path, "missing");
  if (/\s/.test(image)) return where.fail(path, `"${image}" contains white space`);
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return;
  const last = image.slice(image.lastIndexOf("/") + 1);
  const colon = last.lastIndexOf(":");
  if (colon < 0) return where.fail(path, `"${image}" names no tag or digest (a rollout needs an exact release)`);
  const tag = last.slice(colon + 1);
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) return where.fail(path, `"${image}" has an invalid tag`);
  if (tag === "latest") where.fail(path, `"${image}": name a release, not latest`);
}

const imageTag = (image) => {
  if (typeof image !== "string") return null;
  const at = image.indexOf("@");
  if (at >= 0) return image.slice(at + 1);
  const last = image.slice(image.lastIndexOf("/") + 1);
  const colon = last.lastIndexOf(":");
  return colon < 0 ? null : last.slice(colon + 1);
};

// References to Secrets, checked once every Secret is known.
const secretRefs = []; // { where, path, name, key | null, optional }

/** An EnvVarSource (also SpinApp's valueFrom). */
function checkValueFrom(where, path, from) {
  if (!isObj(from)) return where.fail(path, "must be a map");
  const sources = ["secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef"].filter((k) => from[k] !== undefined);
  unknownKeys(where, path, from, ["secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef", "fileKeyRef"]);
  if (sources.length !== 1) return where.fail(path, "needs exactly one of secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef");
  const ref = from.secretKeyRef;
  if (ref !== undefined) {
    if (!isObj(ref)) return where.fail(`${path}.secretKeyRef`, "must be a map");
    unknownKeys(where, `${path}.secretKeyRef`, ref, ["name", "key", "optional"]);
    if (typeof ref.name !== "string" || ref.name === "") where.fail(`${path}.secretKeyRef.name`, "missing");
    if (typeof ref.key !== "string" || ref.key === "") where.fail(`${path}.secretKeyRef.key`, "missing");
    if (ref.optional !== undefined && typeof ref.optional !== "boolean") where.fail(`${path}.secretKeyRef.optional`, "must be true or false");
    if (typeof ref.name === "string" && typeof ref.key === "string") {
      secretRefs.push({ where, path: `${path}.secretKeyRef`, name: ref.name, key: ref.key });
    }
  }
}

function checkEnv(where, path, env) {
  if (env === undefined) return;
  if (!Array.isArray(env)) return where.fail(path, "must be a list");
  const seen = new Set();
  env.forEach((e, i) => {
    const p = `${path}[${i}]`;
    if (!isObj(e)) return where.fail(p, "must be a map");
    if (typeof e.name !== "string" || !ENV_NAME.test(e.name)) where.fail(`${p}.name`, "missing or not an environment variable name");
    else if (seen.has(e.name)) where.fail(`${p}.name`, `${e.name} is set twice`);
    else seen.add(e.name);
    const has = ["value", "valueFrom"].filter((k) => e[k] !== undefined);
    if (has.length !== 1) return where.fail(p, "needs exactly one of value and valueFrom");
    if (e.value !== undefined && typeof e.value !== "string") {
      where.fail(`${p}.value`, `must be a string (quote it), not ${typeof e.value} ${JSON.stringify(e.value)}`);
    }
    if (e.valueFrom !== undefined) checkValueFrom(where, `${p}.valueFrom`, e.valueFrom);
  });
}

function checkContainers(where, path, list, { required }) {
  if (list === undefined && !required) return [];
  if (!Array.isArray(list) || list.length === 0) {
    where.fail(path, "needs at least one container");
    return [];
  }
  list.forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!isObj(c)) return where.fail(p, "must be a map");
    if (!isLabel(c.name)) where.fail(`${p}.name`, "missing or not a DNS-1123 label");
    checkImage(where, `${p}.image`, c.image);
    for (const k of ["command", "args"]) {
      if (c[k] !== undefined && !(Array.isArray(c[k]) && c[k].every((a) => typeof a === "string"))) {
        where.fail(`${p}.${k}`, "must be a list of strings");
      }
    }
    checkEnv(where, `${p}.env`, c.env);
    if (c.envFrom !== undefined) {
      if (!Array.isArray(c.envFrom)) where.fail(`${p}.envFrom`, "must be a list");
      else
        c.envFrom.forEach((e, j) => {
          if (isObj(e) && isObj(e.secretRef)) {
            secretRefs.push({ where, path: `${p}.envFrom[${j}].secretRef`, name: e.secretRef.name, key: null });
          }
        });
    }
    checkResources(where, `${p}.resources`, c.resources, { required: true });
  });
  return list;
}

// --- spin.toml ---------------------------------------------------------------

let spin = null;
try {
  spin = parseToml(readFileSync(spinTomlPath, "utf8"));
} catch (e) {
  problems.push(`${show(spinTomlPath)}: cannot be read as TOML: ${e.message}`);
}
const spinVariables = new Map(); // name -> { required, secret }
const healthRoutes = new Set([SPIN_HEALTH]);
if (spin) {
  if (!isObj(spin.variables)) problems.push(`${show(spinTomlPath)}: [variables] missing`);
  else
    for (const [name, v] of Object.entries(spin.variables)) {
      spinVariables.set(name, { required: v.required === true || !("default" in v), secret: v.secret === true });
    }
  // GET /api/<service>/health of each service whose component is routed
  // as /api/<service>/... (components/kit: `health`).
  for (const trigger of spin.trigger?.http ?? []) {
    const m = typeof trigger.route === "string" && /^\/api\/([a-z]+)\/\.\.\.$/.exec(trigger.route);
    if (m && m[1] === trigger.component) healthRoutes.add(`/api/${m[1]}/health`);
  }
}

// --- the documents -------------------------------------------------------------

const KINDS = new Map([
  ["core.spinkube.dev/v1alpha1 SpinApp", { namespaced: true, name: "1035", check: checkSpinApp }],
  ["core.spinkube.dev/v1alpha1 SpinAppExecutor", { namespaced: true, name: "subdomain", check: checkExecutor }],
  ["batch/v1 Job", { namespaced: true, name: "label", check: checkJob }],
  ["autoscaling/v2 HorizontalPodAutoscaler", { namespaced: true, name: "subdomain", check: checkHpa }],
  ["policy/v1 PodDisruptionBudget", { namespaced: true, name: "subdomain", check: checkPdb }],
  ["v1 Secret", { namespaced: true, name: "subdomain", check: checkSecret }],
  ["v1 Namespace", { namespaced: false, name: "label", check: () => {} }],
  ["kustomize.config.k8s.io/v1beta1 Kustomization", { namespaced: false, name: "subdomain", check: checkKustomization }],
]);

const docs = []; // { file, base, where, apiVersion, kind, name, value }
if (!existsSync(dir)) {
  console.error(`check.mjs: no folder ${dir}`);
  process.exit(2);
}
const yamlFiles = readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
if (yamlFiles.length === 0) problems.push(`${show(dir)}: no YAML files`);

// Called once every kind's checks below are defined.
function readDocuments() {
  for (const base of yamlFiles) {
    const file = join(dir, base);
    const text = readFileSync(file, "utf8");
    // YAML 1.1, as Kubernetes reads manifests: `on`, `yes` and `no` are booleans there.
    const parsed = parseAllDocuments(text, { version: "1.1", uniqueKeys: true, prettyErrors: true });
    const list = Array.isArray(parsed) ? parsed : [];
    let n = 0;
    let documents = 0;
    for (const doc of list) {
      n++;
      const where = new Where(file, n);
      for (const e of [...doc.errors, ...doc.warnings]) where.fail("", `YAML: ${e.message.split("\n")[0].replace(/:$/, "")}`);
      if (doc.errors.length > 0 || doc.contents === null) continue;
      const value = doc.toJS({ maxAliasCount: 50 });
      if (value === null || value === undefined) continue;
      documents++;
      if (!isObj(value)) {
        where.fail("", "a document must be a map");
        continue;
      }
      const { apiVersion, kind } = value;
      where.kind = typeof kind === "string" ? kind : undefined;
      where.name = isObj(value.metadata) ? value.metadata.name : undefined;
      if (typeof apiVersion !== "string" || typeof kind !== "string") {
        where.fail("apiVersion/kind", "missing");
        continue;
      }
      const type = KINDS.get(`${apiVersion} ${kind}`);
      if (!type) {
        where.fail(
          "apiVersion/kind",
          `${apiVersion} ${kind} is not one of: ${[...KINDS.keys()].join("; ")}`,
        );
        continue;
      }
      checkName(where, value.metadata, type.name);
      if (isObj(value.metadata)) {
        checkLabels(where, "metadata.labels", value.metadata.labels);
        if (type.namespaced && (typeof value.metadata.namespace !== "string" || !isLabel(value.metadata.namespace))) {
          where.fail("metadata.namespace", "missing (without it `kubectl apply -f` puts the object in the default namespace)");
        }
        if (!type.namespaced && value.metadata.namespace !== undefined) where.fail("metadata.namespace", `a ${kind} has none`);
      }
      if (kind === "Secret" && base !== SECRETS_FILE) {
        where.fail("", `Secrets belong in ${SECRETS_FILE}, with placeholders; real ones are never committed`);
      }
      const entry = { file, base, where, apiVersion, kind, name: where.name, value };
      docs.push(entry);
      type.check(where, value, entry);
    }
    if (documents === 0) new Where(file).fail("", "holds no document");
  }
}

// --- per kind ---------------------------------------------------------------

// Fields of SpinAppSpec (core.spinkube.dev/v1alpha1, spin-operator's
// api/v1alpha1/spinapp_types.go). The API server drops unknown fields of a
// custom resource without a word, so a misspelt one is caught here.
const SPINAPP_FIELDS = [
  "executor", "image", "imagePullSecrets", "checks", "replicas", "enableAutoscaling", "runtimeConfig",
  "volumes", "volumeMounts", "variables", "serviceAnnotations", "deploymentAnnotations", "podAnnotations",
  "podLabels", "resources", "components", "serviceAccountName", "invocationLimits",
];
const PROBE_FIELDS = ["httpGet", "initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"];

function checkSpinApp(where, app) {
  const spec = app.spec;
  if (!isObj(spec)) return where.fail("spec", "missing");
  unknownKeys(where, "spec", spec, SPINAPP_FIELDS);
  checkImage(where, "spec.image", spec.image);
  if (typeof spec.executor !== "string" || spec.executor === "") where.fail("spec.executor", "missing");

  if (spec.enableAutoscaling !== undefined && typeof spec.enableAutoscaling !== "boolean") {
    where.fail("spec.enableAutoscaling", "must be true or false");
  }
  if (spec.enableAutoscaling === true) {
    if (spec.replicas !== undefined) where.fail("spec.replicas", "must not be set when enableAutoscaling is true (the HPA owns the count)");
  } else if (spec.replicas === undefined) {
    where.fail("spec.replicas", "missing: set replicas, or enableAutoscaling: true with an HPA");
  } else if (!isInt(spec.replicas) || spec.replicas < 1) {
    where.fail("spec.replicas", "must be a whole number, 1 or more");
  }

  checkLabels(where, "spec.podLabels", spec.podLabels);
  if (isObj(spec.podLabels) && spec.podLabels[APP_NAME_LABEL] !== undefined) {
    where.fail(`spec.podLabels.${APP_NAME_LABEL}`, "is the operator's own label");
  }
  checkResources(where, "spec.resources", spec.resources, { required: true });

  // Health checks.
  if (!isObj(spec.checks)) where.fail("spec.checks", "missing: readiness and liveness");
  else {
    unknownKeys(where, "spec.checks", spec.checks, ["readiness", "liveness"]);
    for (const probe of ["readiness", "liveness"]) {
      const p = `spec.checks.${probe}`;
      const check = spec.checks[probe];
      if (!isObj(check)) {
        where.fail(p, "missing");
        continue;
      }
      unknownKeys(where, p, check, PROBE_FIELDS);
      if (!isObj(check.httpGet)) {
        where.fail(`${p}.httpGet`, "missing");
        continue;
      }
      unknownKeys(where, `${p}.httpGet`, check.httpGet, ["path", "httpHeaders"]);
      const path = check.httpGet.path;
      if (typeof path !== "string" || !path.startsWith("/")) where.fail(`${p}.httpGet.path`, "must be a path starting with '/'");
      else if (spin && !healthRoutes.has(path)) {
        where.fail(`${p}.httpGet.path`, `${path} is not a health route of the app (${[...healthRoutes].join(", ")})`);
      }
      for (const k of PROBE_FIELDS.slice(1)) {
        if (check[k] !== undefined && (!isInt(check[k]) || check[k] < (k === "initialDelaySeconds" ? 0 : 1))) {
          where.fail(`${p}.${k}`, "must be a whole number of at least 1 (0 for initialDelaySeconds)");
        }
      }
      if (probe === "liveness" && check.successThreshold !== undefined && check.successThreshold !== 1) {
        where.fail(`${p}.successThreshold`, "must be 1 for a liveness probe");
      }
    }
  }

  // Runtime configuration.
  const rc = spec.runtimeConfig;
  if (rc !== undefined) {
    if (!isObj(rc)) where.fail("spec.runtimeConfig", "must be a map");
    else {
      unknownKeys(where, "spec.runtimeConfig", rc, ["loadFromSecret", "sqliteDatabases", "keyValueStores", "llmCompute"]);
      if (rc.loadFromSecret !== undefined) {
        if (typeof rc.loadFromSecret !== "string" || rc.loadFromSecret === "") where.fail("spec.runtimeConfig.loadFromSecret", "must name a Secret");
        else secretRefs.push({ where, path: "spec.runtimeConfig.loadFromSecret", name: rc.loadFromSecret, key: RUNTIME_CONFIG_KEY, toml: true });
        for (const k of ["sqliteDatabases", "keyValueStores", "llmCompute"]) {
          if (rc[k] !== undefined) where.fail(`spec.runtimeConfig.${k}`, "is ignored when loadFromSecret is set");
        }
      }
    }
  }

  // Variables.
  const vars = spec.variables;
  const bound = new Map();
  if (vars !== undefined && !Array.isArray(vars)) where.fail("spec.variables", "must be a list");
  for (const [i, v] of (Array.isArray(vars) ? vars : []).entries()) {
    const p = `spec.variables[${i}]`;
    if (!isObj(v)) {
      where.fail(p, "must be a map");
      continue;
    }
    unknownKeys(where, p, v, ["name", "value", "valueFrom"]);
    if (typeof v.name !== "string" || v.name === "") {
      where.fail(`${p}.name`, "missing");
      continue;
    }
    const pn = `${p} (${v.name})`;
    if (!SPIN_VARIABLE.test(v.name)) where.fail(`${pn}.name`, "a Spin variable name is lower case letters, digits and '_'");
    if (bound.has(v.name)) where.fail(`${pn}.name`, "bound twice");
    bound.set(v.name, v);
    const has = ["value", "valueFrom"].filter((k) => v[k] !== undefined);
    if (has.length !== 1) {
      where.fail(pn, "needs exactly one of value and valueFrom");
      continue;
    }
    if (v.value !== undefined && typeof v.value !== "string") {
      where.fail(`${pn}.value`, `must be a string (quote it), not ${typeof v.value} ${JSON.stringify(v.value)}`);
    }
    if (v.valueFrom !== undefined) checkValueFrom(where, `${pn}.valueFrom`, v.valueFrom);
    if (spin) {
      const declared = spinVariables.get(v.name);
      if (!declared) where.fail(`${pn}.name`, `spin.toml declares no variable ${v.name}`);
      else if (declared.secret && v.valueFrom?.secretKeyRef === undefined) {
        where.fail(pn, "a secret in spin.toml: take it from a Secret (valueFrom.secretKeyRef), never a plain value");
      }
    }
  }
  if (spin) {
    for (const [name, declared] of spinVariables) {
      if (bound.has(name)) continue;
      if (declared.required) where.fail("spec.variables", `${name} has no default in spin.toml and is not bound`);
      else if (declared.secret) where.fail("spec.variables", `${name} is a secret in spin.toml and is not bound to a Secret`);
    }
  }
}

function checkExecutor(where, executor) {
  const spec = executor.spec;
  if (!isObj(spec)) return where.fail("spec", "missing");
  unknownKeys(where, "spec", spec, ["createDeployment", "deploymentConfig"]);
  if (typeof spec.createDeployment !== "boolean") where.fail("spec.createDeployment", "must be true or false");
  const config = spec.deploymentConfig;
  if (spec.createDeployment === true) {
    if (!isObj(config)) return where.fail("spec.deploymentConfig", "missing (createDeployment is true)");
    unknownKeys(where, "spec.deploymentConfig", config, ["runtimeClassName", "spinImage", "caCertSecret", "installDefaultCACerts", "otel"]);
    const ways = ["runtimeClassName", "spinImage"].filter((k) => config[k] !== undefined);
    if (ways.length !== 1) where.fail("spec.deploymentConfig", "needs exactly one of runtimeClassName and spinImage");
  }
}

const JOB_FIELDS = [
  "activeDeadlineSeconds", "backoffLimit", "backoffLimitPerIndex", "completionMode", "completions", "managedBy",
  "manualSelector", "maxFailedIndexes", "parallelism", "podFailurePolicy", "podReplacementPolicy", "selector",
  "successPolicy", "suspend", "template", "ttlSecondsAfterFinished",
];

function checkJob(where, job) {
  const spec = job.spec;
  if (!isObj(spec)) return where.fail("spec", "missing");
  unknownKeys(where, "spec", spec, JOB_FIELDS);
  for (const k of ["backoffLimit", "ttlSecondsAfterFinished"]) {
    if (!isInt(spec[k]) || spec[k] < 0) where.fail(`spec.${k}`, "missing or not a whole number of 0 or more");
  }
  if (spec.activeDeadlineSeconds !== undefined && (!isInt(spec.activeDeadlineSeconds) || spec.activeDeadlineSeconds < 1)) {
    where.fail("spec.activeDeadlineSeconds", "must be a whole number of 1 or more");
  }
  const pod = spec.template?.spec;
  if (!isObj(pod)) return where.fail("spec.template.spec", "missing");
  checkLabels(where, "spec.template.metadata.labels", spec.template.metadata?.labels);
  if (!["Never", "OnFailure"].includes(pod.restartPolicy)) {
    where.fail("spec.template.spec.restartPolicy", `must be Never or OnFailure, not ${pod.restartPolicy ?? "unset (Always)"}`);
  }
  const init = checkContainers(where, "spec.template.spec.initContainers", pod.initContainers, { required: false });
  const main = checkContainers(where, "spec.template.spec.containers", pod.containers, { required: true });
  const names = [...init, ...main].map((c) => c?.name).filter(Boolean);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length) where.fail("spec.template.spec", `container names used twice: ${[...new Set(twice)].join(", ")}`);
}

function checkHpa(where, hpa) {
  const spec = hpa.spec;
  if (!isObj(spec)) return where.fail("spec", "missing");
  unknownKeys(where, "spec", spec, ["scaleTargetRef", "minReplicas", "maxReplicas", "metrics", "behavior"]);
  const ref = spec.scaleTargetRef;
  if (!isObj(ref)) where.fail("spec.scaleTargetRef", "missing");
  else {
    if (ref.apiVersion !== "apps/v1") where.fail("spec.scaleTargetRef.apiVersion", "must be apps/v1 (the SpinApp's Deployment)");
    if (ref.kind !== "Deployment") where.fail("spec.scaleTargetRef.kind", "must be Deployment: SpinKube creates one named as the SpinApp");
    if (typeof ref.name !== "string" || ref.name === "") where.fail("spec.scaleTargetRef.name", "missing");
  }
  if (spec.minReplicas !== undefined && (!isInt(spec.minReplicas) || spec.minReplicas < 1)) {
    where.fail("spec.minReplicas", "must be a whole number, 1 or more");
  }
  if (!isInt(spec.maxReplicas) || spec.maxReplicas < 1) where.fail("spec.maxReplicas", "missing or not a whole number, 1 or more");
  else if (isInt(spec.minReplicas) && spec.minReplicas > spec.maxReplicas) {
    where.fail("spec.minReplicas", `${spec.minReplicas} is above maxReplicas ${spec.maxReplicas}`);
  }
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) where.fail("spec.metrics", "missing: say what to scale on");
  else
    spec.metrics.forEach((m, i) => {
      const p = `spec.metrics[${i}]`;
      if (!isObj(m)) return where.fail(p, "must be a map");
      const types = ["Resource", "ContainerResource", "Pods", "Object", "External"];
      if (!types.includes(m.type)) return where.fail(`${p}.type`, `must be one of ${types.join(", ")}`);
      if (m.type === "Resource") {
        if (!isObj(m.resource) || typeof m.resource.name !== "string") return where.fail(`${p}.resource.name`, "missing");
        const t = m.resource.target;
        if (!isObj(t) || !["Utilization", "AverageValue", "Value"].includes(t.type)) {
          return where.fail(`${p}.resource.target.type`, "must be Utilization, AverageValue or Value");
        }
        if (t.type === "Utilization" && (!isInt(t.averageUtilization) || t.averageUtilization < 1)) {
          where.fail(`${p}.resource.target.averageUtilization`, "missing or not a whole percentage");
        }
      }
    });
}

function checkPdb(where, pdb) {
  const spec = pdb.spec;
  if (!isObj(spec)) return where.fail("spec", "missing");
  unknownKeys(where, "spec", spec, ["minAvailable", "maxUnavailable", "selector", "unhealthyPodEvictionPolicy"]);
  const labels = spec.selector?.matchLabels;
  if (!isObj(labels) || Object.keys(labels).length === 0) where.fail("spec.selector.matchLabels", "missing: select the SpinApp's pods");
  else checkLabels(where, "spec.selector.matchLabels", labels);
  const ways = ["minAvailable", "maxUnavailable"].filter((k) => spec[k] !== undefined);
  if (ways.length !== 1) where.fail("spec", "needs exactly one of minAvailable and maxUnavailable");
  for (const k of ways) {
    const v = spec[k];
    if (!((isInt(v) && v >= 0) || (typeof v === "string" && /^[0-9]+%$/.test(v)))) where.fail(`spec.${k}`, "must be a whole number or a percentage");
  }
}

const secrets = new Map(); // name -> { keys: Map(key -> string value), where }

function checkSecret(where, secret, entry) {
  const { data, stringData } = secret;
  if (data === undefined && stringData === undefined) return where.fail("", "needs stringData or data");
  const keys = new Map();
  for (const [part, map] of [["data", data], ["stringData", stringData]]) {
    if (map === undefined) continue;
    if (!isObj(map)) {
      where.fail(part, "must be a map");
      continue;
    }
    for (const [key, value] of Object.entries(map)) {
      const p = `${part}.${key}`;
      if (!SECRET_KEY.test(key) || key.length > 253) where.fail(p, "not a valid Secret key (letters, digits, '-', '_', '.')");
      if (typeof value !== "string") {
        where.fail(p, `must be a string (quote it), not ${typeof value}`);
        continue;
      }
      let text = value;
      if (part === "data") {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
          where.fail(p, "is not base64");
          continue;
        }
        text = Buffer.from(value, "base64").toString("utf8");
      }
      if (keys.has(key)) where.fail(p, "set in both data and stringData");
      keys.set(key, text);
      if (entry.base === SECRETS_FILE && text !== "" && !text.includes(PLACEHOLDER)) {
        where.fail(p, `an example holds placeholders (${PLACEHOLDER}) or nothing, never a real value`);
      }
    }
  }
  if (keys.size === 0) where.fail("", "holds no key");
  if (typeof where.name === "string") secrets.set(where.name, { keys, where });
}

let kustomization = null;

function checkKustomization(where, k, entry) {
  kustomization = { where, value: k, entry };
  if (!Array.isArray(k.resources) || k.resources.length === 0) where.fail("resources", "missing");
}

// --- across files -----------------------------------------------------------

readDocuments();

const byKind = (kind) => docs.filter((d) => d.kind === kind);
const spinApps = byKind("SpinApp");
if (spinApps.length === 0) problems.push(`${show(dir)}: no SpinApp`);

// One namespace for everything.
{
  const namespaces = byKind("Namespace").map((d) => d.name);
  const wanted = namespaces.length === 1 ? namespaces[0] : null;
  if (namespaces.length > 1) problems.push(`${show(dir)}: more than one Namespace (${namespaces.join(", ")})`);
  const seen = new Set();
  for (const d of docs) {
    const ns = d.value.metadata?.namespace;
    if (!KINDS.get(`${d.apiVersion} ${d.kind}`).namespaced || typeof ns !== "string") continue;
    if (wanted && ns !== wanted) d.where.fail("metadata.namespace", `${ns}, not the Namespace ${wanted}`);
    seen.add(ns);
  }
  if (!wanted && seen.size > 1) problems.push(`${show(dir)}: objects in several namespaces (${[...seen].join(", ")})`);
  if (kustomization && wanted && kustomization.value.namespace !== undefined && kustomization.value.namespace !== wanted) {
    kustomization.where.fail("namespace", `${kustomization.value.namespace}, not the Namespace ${wanted}`);
  }
}

// Every Secret and key referenced exists in the example Secrets.
for (const ref of secretRefs) {
  const secret = secrets.get(ref.name);
  if (!secret) {
    ref.where.fail(ref.path, `names Secret ${ref.name}, which ${SECRETS_FILE} does not define`);
    continue;
  }
  if (ref.key !== null && !secret.keys.has(ref.key)) {
    ref.where.fail(ref.path, `Secret ${ref.name} has no key ${ref.key} (it has ${[...secret.keys.keys()].join(", ")})`);
    continue;
  }
  if (ref.toml) {
    try {
      parseToml(secret.keys.get(ref.key));
    } catch (e) {
      secret.where.fail(`stringData.${ref.key}`, `not TOML: ${e.message.split("\n")[0]}`);
    }
  }
}

// Each SpinApp names an executor defined here (the operator looks it up in
// the SpinApp's namespace).
{
  const executors = new Set(byKind("SpinAppExecutor").map((d) => d.name));
  for (const app of spinApps) {
    const name = app.value.spec?.executor;
    if (typeof name === "string" && name !== "" && !executors.has(name)) {
      app.where.fail("spec.executor", `${name} is not a SpinAppExecutor of this folder (it must exist in the SpinApp's namespace)`);
    }
  }
}

// The pods of each SpinApp carry its podLabels and the operator's labels.
const podLabelsOf = (app) => ({
  ...(isObj(app.value.spec?.podLabels) ? app.value.spec.podLabels : {}),
  [APP_NAME_LABEL]: app.name,
  [`core.spinkube.dev/app.${app.name}.status`]: "ready",
});
for (const app of spinApps) {
  // The operator's status label key holds the name: app.<name>.status, at most 63.
  if (typeof app.name === "string" && `app.${app.name}.status`.length > 63) {
    app.where.fail("metadata.name", "too long: the operator's pod label app.<name>.status must fit 63 characters");
  }
}

// The HPA scales a SpinApp that leaves the count to it, on a resource the
// SpinApp requests.
const hpaOf = new Map();
for (const hpa of byKind("HorizontalPodAutoscaler")) {
  const target = hpa.value.spec?.scaleTargetRef?.name;
  if (typeof target !== "string") continue;
  const app = spinApps.find((a) => a.name === target);
  if (!app) {
    hpa.where.fail("spec.scaleTargetRef.name", `${target} is not a SpinApp of this folder (its Deployment has the SpinApp's name)`);
    continue;
  }
  hpaOf.set(app.name, hpa);
  if (app.value.spec?.enableAutoscaling !== true) {
    hpa.where.fail("spec.scaleTargetRef", `SpinApp ${target} lacks enableAutoscaling: true, so the operator would reset the HPA's count`);
  }
  for (const [i, m] of (Array.isArray(hpa.value.spec?.metrics) ? hpa.value.spec.metrics : []).entries()) {
    if (m?.type === "Resource" && m.resource?.target?.type === "Utilization") {
      const requests = app.value.spec?.resources?.requests;
      if (!isObj(requests) || requests[m.resource.name] === undefined) {
        hpa.where.fail(`spec.metrics[${i}]`, `utilisation of ${m.resource.name} needs SpinApp ${target}'s spec.resources.requests.${m.resource.name}`);
      }
    }
  }
}
for (const app of spinApps) {
  if (app.value.spec?.enableAutoscaling === true && !hpaOf.has(app.name)) {
    app.where.fail("spec.enableAutoscaling", "true, but no HorizontalPodAutoscaler here scales this SpinApp's Deployment");
  }
}

// The PDB selects a SpinApp's pods and leaves room to evict one.
for (const pdb of byKind("PodDisruptionBudget")) {
  const match = pdb.value.spec?.selector?.matchLabels;
  if (!isObj(match)) continue;
  const app = spinApps.find((a) => {
    const labels = podLabelsOf(a);
    return Object.entries(match).every(([k, v]) => labels[k] === v);
  });
  if (!app) {
    pdb.where.fail("spec.selector.matchLabels", `selects the pods of no SpinApp here (the operator labels them ${APP_NAME_LABEL}: <name>)`);
    continue;
  }
  const min = app.value.spec?.enableAutoscaling === true ? hpaOf.get(app.name)?.value.spec?.minReplicas ?? 1 : app.value.spec?.replicas;
  const minAvailable = pdb.value.spec?.minAvailable;
  if (isInt(minAvailable) && isInt(min) && minAvailable >= min) {
    pdb.where.fail("spec.minAvailable", `${minAvailable} with at least ${min} pods leaves no pod to evict: node drains would hang`);
  }
}

// The migrations Job runs the release the SpinApp runs.
for (const job of byKind("Job")) {
  const pod = job.value.spec?.template?.spec ?? {};
  const all = [...(Array.isArray(pod.initContainers) ? pod.initContainers : []), ...(Array.isArray(pod.containers) ? pod.containers : [])];
  const migrate = all.find((c) => c?.name === "migrate");
  if (!migrate) continue;
  for (const app of spinApps) {
    const want = imageTag(app.value.spec?.image);
    const have = imageTag(migrate.image);
    if (want && have && want !== have) {
      job.where.fail("container migrate: image", `release ${have}, but SpinApp ${app.name} runs ${want}: migrate the release you deploy`);
    }
  }
}

// The kustomization lists every manifest but those left out on purpose.
if (kustomization) {
  const { where, value } = kustomization;
  const listed = Array.isArray(value.resources) ? value.resources : [];
  for (const [i, r] of listed.entries()) {
    if (typeof r !== "string") where.fail(`resources[${i}]`, "must be a file name");
    else if (!existsSync(join(dir, r))) where.fail(`resources[${i}]`, `${r} does not exist`);
    else if (LEFT_OUT.has(r)) where.fail(`resources[${i}]`, `${r} must not be listed: ${LEFT_OUT.get(r)}`);
  }
  for (const base of yamlFiles) {
    if (base === kustomization.entry.base || LEFT_OUT.has(base) || listed.includes(base)) continue;
    where.fail("resources", `${base} is neither listed nor left out on purpose (check.mjs, LEFT_OUT)`);
  }
} else {
  problems.push(`${show(dir)}: no kustomization.yaml`);
}

// --- report -----------------------------------------------------------------

if (problems.length > 0) {
  for (const p of problems) console.error(`error: ${p}`);
  console.error(`${problems.length} problem${problems.length === 1 ? "" : "s"} in the manifests of ${show(dir)}`);
  process.exit(1);
}
if (!quiet) for (const d of docs) console.log(`ok  ${d.base}: ${d.apiVersion} ${d.kind} ${d.name}`);
console.log(`${docs.length} documents in ${yamlFiles.length} files of ${show(dir)} agree with each other and with ${show(spinTomlPath)}`);
