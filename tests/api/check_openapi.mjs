// Check the web API against its OpenAPI document:
//   node check_openapi.mjs OPENAPI.json ROUTES.txt RECORDS_DIR
// ROUTES.txt is `onair api routes` ("METHOD /api/v1/path/{id} role [service]");
// RECORDS_DIR holds *.jsonl of responses the tests received:
//   {"method", "path" (concrete), "status", "content_type", "body" (JSON or null)}.
// Fails (exit 1, each problem printed) when the document is not valid OpenAPI
// 3.1, when a route is missing from it or it has a route the server lacks, when
// a response's status is not documented for its route, or when a JSON body does
// not match the documented schema.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [docPath, routesPath, recordsDir] = process.argv.slice(2);
const problems = [];
const doc = JSON.parse(readFileSync(docPath, "utf8"));

const validity = await new Validator().validate(doc);
if (!validity.valid) {
  problems.push("the document is not valid OpenAPI 3.1: " +
                JSON.stringify(validity.errors).slice(0, 2000));
}

// Paths match by shape: every {param} is one segment, whatever its name.
const shape = (p) => p.replace(/\{[^}]+\}/g, "{}");
const docRoutes = new Map();
for (const [path, item] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(item)) {
    docRoutes.set(method.toUpperCase() + " " + shape(path), { path, op });
  }
}
const tableRoutes = readFileSync(routesPath, "utf8").split("\n").filter(Boolean)
  .map((l) => l.split(" ")).map(([m, p]) => m + " " + shape(p));
for (const r of tableRoutes) {
  if (!docRoutes.has(r)) problems.push("route missing from the document: " + r);
}
for (const r of docRoutes.keys()) {
  if (!tableRoutes.includes(r)) problems.push("the document has a route the server lacks: " + r);
}

// Match a concrete path to a route shape.
const routeOf = (method, path) => {
  const segs = path.split("/");
  const m = method === "HEAD" ? "GET" : method;
  for (const [key, val] of docRoutes) {
    const [km, kp] = key.split(" ");
    if (km !== m) continue;
    const ks = kp.split("/");
    if (ks.length !== segs.length) continue;
    if (ks.every((s, i) => s === "{}" ? /^[1-9][0-9]*$/.test(segs[i]) : s === segs[i])) return val;
  }
  return null;
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: "doc", components: doc.components }, "doc");
const resolve = (obj) => {
  let o = obj;
  while (o && o.$ref) {
    const parts = o.$ref.replace(/^#\//, "").split("/");
    o = parts.reduce((a, k) => a[k], doc);
  }
  return o;
};
const validators = new Map();
const validatorFor = (schema) => {
  const key = JSON.stringify(schema);
  if (!validators.has(key)) {
    const rewritten = JSON.parse(key.replaceAll('"#/components/', '"doc#/components/'));
    validators.set(key, ajv.compile(rewritten));
  }
  return validators.get(key);
};

let checked = 0;
const files = recordsDir ? readdirSync(recordsDir).filter((f) => f.endsWith(".jsonl")) : [];
for (const f of files) {
  for (const line of readFileSync(join(recordsDir, f), "utf8").split("\n").filter(Boolean)) {
    const rec = JSON.parse(line);
    if (!rec.path.startsWith("/api/v1/")) continue;
    const route = routeOf(rec.method, rec.path);
    if (!route) {
      if (rec.status !== 404 && rec.status !== 405)
        problems.push(`${rec.method} ${rec.path}: ${rec.status} for a route not in the document`);
      continue;
    }
    checked++;
    const response = resolve(route.op.responses[String(rec.status)]);
    if (!response) {
      problems.push(`${rec.method} ${route.path}: status ${rec.status} is not documented`);
      continue;
    }
    if (rec.body === null || rec.body === undefined || rec.method === "HEAD") continue;
    const content = response.content || {};
    const media = content[rec.content_type] ||
      Object.entries(content).find(([k]) => k.endsWith("/*") &&
                                   rec.content_type.startsWith(k.slice(0, -1)))?.[1];
    if (!media) {
      problems.push(`${rec.method} ${route.path} ${rec.status}: content type ` +
                    `${rec.content_type} is not documented`);
      continue;
    }
    const validate = validatorFor(media.schema);
    if (!validate(rec.body)) {
      problems.push(`${rec.method} ${rec.path} ${rec.status}: body does not match: ` +
                    ajv.errorsText(validate.errors).slice(0, 600) + "\n    body: " +
                    JSON.stringify(rec.body).slice(0, 400));
    }
  }
}
for (const p of problems) console.log(p);
console.log(`openapi: ${tableRoutes.length} routes, ${checked} responses checked, ` +
            `${problems.length} problems`);
process.exit(problems.length ? 1 : 0);
