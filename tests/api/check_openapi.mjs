// Check the web API against its OpenAPI document.
//
//   node check_openapi.mjs OPENAPI.json ROUTES.txt [RECORDS_DIR]
//
// ROUTES.txt is what `onair api routes` prints, one route a line:
//   METHOD /api/v1/path/{id} role [service]
// RECORDS_DIR holds *.jsonl files of responses the tests received, one JSON
// object a line:
//   {"method", "path" (concrete: /api/v1/files/12), "status",
//    "content_type" (without parameters), "body" (parsed JSON or null)}
//
// Fails (exit 1, each problem printed) when
// - the document is not valid OpenAPI 3.1 (@seriousme/openapi-schema-validator);
// - a route of the table is missing from the document, or the document has a
//   path and method the table lacks ({param}s match by position, whatever
//   their names; a documented HEAD needs the table's GET), or its
//   x-onair-role / x-onair-service disagree with the table;
// - a recorded response's status is not documented for its route, or its
//   content type is not;
// - a recorded JSON body does not match the documented schema for that
//   status and content type (ajv, JSON Schema 2020-12, with formats).
// Exit 2 for a usage error. Last line: "openapi: N routes, M responses checked".
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const [docPath, routesPath, recordsDir] = process.argv.slice(2);
if (!docPath || !routesPath) {
  console.error("usage: node check_openapi.mjs OPENAPI.json ROUTES.txt [RECORDS_DIR]");
  process.exit(2);
}
const problems = [];
const problem = (s) => problems.push(s);
const finish = (nroutes, nchecked) => {
  for (const p of problems) console.log(p);
  if (problems.length) console.log(`openapi: ${problems.length} problems`);
  console.log(`openapi: ${nroutes} routes, ${nchecked} responses checked`);
  process.exit(problems.length ? 1 : 0);
};

let doc;
try {
  doc = JSON.parse(readFileSync(docPath, "utf8"));
} catch (e) {
  problem(`${docPath}: not JSON: ${e.message}`);
  finish(0, 0);
}

// 1. The document itself.
if (typeof doc.openapi !== "string" || !/^3\.1\.\d+$/.test(doc.openapi)) {
  problem(`the document is not OpenAPI 3.1 (openapi: ${JSON.stringify(doc.openapi)})`);
}
const validity = await new Validator().validate(structuredClone(doc));
if (!validity.valid) {
  const errors = Array.isArray(validity.errors) ? validity.errors : [validity.errors];
  for (const e of errors.slice(0, 20)) {
    problem("the document is not valid OpenAPI 3.1: " +
            (e.instancePath !== undefined ? `${e.instancePath || "/"} ${e.message}` +
             (e.params ? " " + JSON.stringify(e.params) : "") : JSON.stringify(e)));
  }
}

// 2. Routes: the table against the document.
const shape = (p) => p.replace(/\{[^}/]+\}/g, "{}");
const docOps = new Map();          // "METHOD shape" -> {path, method, op}
for (const [path, item] of Object.entries(doc.paths || {})) {
  for (const m of METHODS) {
    if (!item || !item[m]) continue;
    const key = m.toUpperCase() + " " + shape(path);
    if (docOps.has(key)) {
      problem(`the document has ${key} twice: ${docOps.get(key).path} and ${path}`);
    }
    docOps.set(key, { path, method: m.toUpperCase(), op: item[m] });
  }
}
const table = new Map();           // "METHOD shape" -> {role, service}
readFileSync(routesPath, "utf8").split("\n").forEach((line, i) => {
  if (!line.trim()) return;
  const f = line.trim().split(/\s+/);
  if (f.length < 3 || f.length > 4 || !/^[A-Z]+$/.test(f[0]) || !f[1].startsWith("/") ||
      (f.length === 4 && f[3] !== "service")) {
    problem(`${routesPath}:${i + 1}: not "METHOD /path role [service]": ${line}`);
    return;
  }
  table.set(f[0] + " " + shape(f[1]), { role: f[2], service: f.length === 4 });
});
if (table.size === 0) problem(`${routesPath}: no routes`);
for (const [key, want] of table) {
  const d = docOps.get(key);
  if (!d) {
    problem("route missing from the document: " + key);
    continue;
  }
  const role = d.op["x-onair-role"];
  if (role !== undefined && role !== want.role) {
    problem(`${key}: the document says role ${role}, the server ${want.role}`);
  }
  if (Boolean(d.op["x-onair-service"]) !== want.service) {
    problem(`${key}: the document and the server disagree on the playout service credential`);
  }
}
for (const key of docOps.keys()) {
  const [m, p] = key.split(" ");
  if (table.has(key) || (m === "HEAD" && table.has("GET " + p))) continue;
  problem("the document has a route the server lacks: " + key);
}

// 3. Recorded responses.
const pointer = (ref) => {
  if (typeof ref !== "string" || !ref.startsWith("#/")) return undefined;
  return ref.slice(2).split("/").map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((a, k) => (a === undefined ? undefined : a[k]), doc);
};
const deref = (o) => {
  for (let n = 0; o && o.$ref && n < 20; n++) o = pointer(o.$ref);
  return o;
};
const opFor = (method, path) => {
  const segs = path.split("/");
  const candidates = method === "HEAD" ? ["HEAD", "GET"] : [method];
  for (const m of candidates) {
    for (const [key, val] of docOps) {
      const [km, kp] = key.split(" ");
      if (km !== m) continue;
      const ks = kp.split("/");
      if (ks.length !== segs.length) continue;
      if (ks.every((s, i) => (s === "{}" ? /^[1-9][0-9]{0,14}$/.test(segs[i]) : s === segs[i]))) {
        return val;
      }
    }
  }
  return null;
};

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addSchema({ $id: "openapi:doc", components: doc.components || {} });
const validators = new Map();
const validatorFor = (schema) => {
  const key = JSON.stringify(schema);
  if (!validators.has(key)) {
    const rewritten = JSON.parse(key.replaceAll('"#/components/', '"openapi:doc#/components/'));
    try {
      validators.set(key, ajv.compile(rewritten));
    } catch (e) {
      validators.set(key, null);
      problem(`a schema of the document does not compile: ${e.message}: ${key.slice(0, 200)}`);
    }
  }
  return validators.get(key);
};
// Every schema of the document must compile, recorded or not.
for (const name of Object.keys((doc.components || {}).schemas || {})) {
  validatorFor({ $ref: "#/components/schemas/" + name.replace(/~/g, "~0").replace(/\//g, "~1") });
}
for (const { op } of docOps.values()) {
  for (const r of Object.values(op.responses || {})) {
    for (const media of Object.values(deref(r)?.content || {})) {
      if (media && media.schema) validatorFor(media.schema);
    }
  }
}

const isJson = (ct) => ct === "application/json" || /^application\/[^;]*\+json$/.test(ct);
const mediaFor = (content, ct) => {
  if (content[ct]) return content[ct];
  const [type] = ct.split("/");
  return content[type + "/*"] || content["*/*"];
};

let checked = 0;
let files = [];
if (recordsDir) {
  try {
    files = readdirSync(recordsDir).filter((f) => f.endsWith(".jsonl")).sort();
  } catch (e) {
    problem(`${recordsDir}: ${e.message}`);
  }
}
for (const f of files) {
  const lines = readFileSync(join(recordsDir, f), "utf8").split("\n");
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${f}:${i + 1}`;
    let rec;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      problem(`${where}: not JSON: ${e.message}`);
      return;
    }
    if (typeof rec.method !== "string" || typeof rec.path !== "string" ||
        !Number.isInteger(rec.status)) {
      problem(`${where}: a record needs method, path and status`);
      return;
    }
    const method = rec.method.toUpperCase();
    const path = rec.path.split("?")[0];
    if (!path.startsWith("/api/")) return;
    const what = `${method} ${path} ${rec.status}`;
    const found = opFor(method, path);
    if (!found) {
      // The router's own answers to paths and methods it does not have.
      if (rec.status !== 404 && rec.status !== 405) {
        problem(`${what}: the document has no such route`);
      }
      return;
    }
    checked++;
    const route = `${found.method} ${found.path}`;
    const responses = found.op.responses || {};
    const s = String(rec.status);
    const response = deref(responses[s] || responses[s[0] + "XX"] || responses.default);
    if (!response) {
      problem(`${what}: status ${rec.status} is not documented for ${route}`);
      return;
    }
    const ct = (rec.content_type || "").split(";")[0].trim().toLowerCase();
    const body = rec.body === undefined ? null : rec.body;
    const content = response.content || {};
    const noBody = method === "HEAD" || rec.status === 204 || rec.status === 304;
    if (Object.keys(content).length === 0) {
      if (body !== null || (method !== "HEAD" && ct)) {
        problem(`${what}: a body (${ct || "no type"}) where ${route} documents none`);
      }
      return;
    }
    if (!ct) {
      if (!noBody) problem(`${what}: no Content-Type where ${route} documents a body`);
      return;
    }
    const media = mediaFor(content, ct);
    if (!media) {
      problem(`${what}: content type ${ct} is not documented for ${route} ` +
              `(${Object.keys(content).join(", ")})`);
      return;
    }
    if (body === null) {
      if (isJson(ct) && !noBody) problem(`${what}: ${ct} without a JSON body`);
      return;
    }
    if (!media.schema) return;
    const validate = validatorFor(media.schema);
    if (validate && !validate(body)) {
      problem(`${what}: the body does not match ${route}: ` +
              ajv.errorsText(validate.errors, { dataVar: "body" }).slice(0, 800) +
              "\n    body: " + JSON.stringify(body).slice(0, 400));
    }
  });
}
finish(table.size, checked);
