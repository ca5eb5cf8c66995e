#!/usr/bin/env python3
"""docs/openapi.json: it is what docs/openapi/build_openapi.py makes from the
server's route table (so it is current), it is valid OpenAPI 3.1 with every
route, and the checker the API tests use does catch a route missing from the
document, an undocumented status and a body that breaks its schema."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from apilib import ONAIR, Tap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
DOC = os.path.join(ROOT, "docs", "openapi.json")
CHECK = os.path.join(HERE, "check_openapi.mjs")


def check(doc, routes, records):
    d = tempfile.mkdtemp(prefix="onair-openapi-")
    paths = [os.path.join(d, n) for n in ("doc.json", "routes.txt")]
    with open(paths[0], "w") as f:
        json.dump(doc, f)
    with open(paths[1], "w") as f:
        f.write(routes)
    rec = os.path.join(d, "rec")
    os.makedirs(rec)
    with open(os.path.join(rec, "r.jsonl"), "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    return subprocess.run(["node", CHECK, paths[0], paths[1], rec], capture_output=True,
                          text=True)


def main():
    tap = Tap()
    made = subprocess.run([sys.executable, os.path.join(ROOT, "docs", "openapi",
                                                        "build_openapi.py"), ONAIR],
                          capture_output=True, text=True)
    with open(DOC) as f:
        committed = f.read()
    tap.ok(made.returncode == 0 and made.stdout == committed,
           "docs/openapi.json is current (docs/openapi/build_openapi.py)",
           made.stderr or "regenerate: docs/openapi/build_openapi.py build/src/onair/onair"
                          " > docs/openapi.json")
    routes = subprocess.run([ONAIR, "api", "routes"], capture_output=True, text=True,
                            check=True).stdout
    doc = json.loads(committed)
    good = {"method": "GET", "path": "/api/v1/health", "status": 200,
            "content_type": "application/json", "body": {"status": "ok", "version": "1"}}
    r = check(doc, routes, [good])
    tap.ok(r.returncode == 0, "valid OpenAPI 3.1 with every route: " + r.stdout.strip()[-80:],
           r.stdout + r.stderr)
    n_routes = len(routes.splitlines())
    n_doc = sum(1 for v in doc["paths"].values() for m in v if m != "head")
    tap.ok(n_routes == n_doc, "%d routes, %d operations (besides HEAD)" % (n_routes, n_doc))

    bad_body = dict(good, body={"status": 5})
    r = check(doc, routes, [bad_body])
    tap.ok(r.returncode == 1 and "does not match" in r.stdout,
           "a body that breaks its schema is caught", r.stdout)
    bad_status = dict(good, status=418)
    r = check(doc, routes, [bad_status])
    tap.ok(r.returncode == 1 and "not documented" in r.stdout,
           "an undocumented status is caught", r.stdout)
    missing = json.loads(committed)
    del missing["paths"]["/api/v1/schedule"]
    r = check(missing, routes, [])
    tap.ok(r.returncode == 1 and "missing from the document: GET /api/v1/schedule" in r.stdout,
           "a route missing from the document is caught", r.stdout)
    wrong_role = json.loads(committed)
    wrong_role["paths"]["/api/v1/users"]["get"]["x-onair-role"] = "guest"
    r = check(wrong_role, routes, [])
    tap.ok(r.returncode == 1 and "GET /api/v1/users: the document says role guest" in r.stdout,
           "a role that differs from the route table is caught", r.stdout)
    extra = routes.replace("GET /api/v1/health none\n", "")
    r = check(doc, extra, [])
    tap.ok(r.returncode == 1 and "the server lacks" in r.stdout,
           "a documented route the server lacks is caught", r.stdout)
    sys.exit(tap.done())


if __name__ == "__main__":
    main()
