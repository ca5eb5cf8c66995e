#!/usr/bin/env python3
"""Check docs/protocol/*.schema.json against the sample messages.

Every schema must be a valid JSON Schema (draft 2020-12); every sample in
tests/protocol/samples/valid must be accepted by the schema of its type;
every sample in tests/protocol/samples/invalid must be refused, except the
ones whose rule a schema cannot express (listed below) and text that is not
JSON; every ```json example of docs/protocol.md must be accepted. Exits 77 (skipped) when the jsonschema module is not installed.
"""
import json
import os
import pathlib
import sys

try:
    import jsonschema
except ImportError:
    print("python3 jsonschema module not installed: skipped")
    sys.exit(77)

# Rules only the codec checks: order and overlap of items, uniqueness,
# relations between fields, versions above the reader's.
CODEC_ONLY = {
    "snapshot-overlap.json",
    "snapshot-unsorted.json",
    "snapshot-duplicate-id.json",
    "snapshot-cue-out-past-end.json",
    "snapshot-duplicate-key.json",
    "snapshot-version-2.json",
}

root = pathlib.Path(os.environ.get("ONAIR_SOURCE_ROOT", "."))
schema_dir = root / "docs" / "protocol"
sample_dir = root / "tests" / "protocol" / "samples"

validators = {}
for path in sorted(schema_dir.glob("*.schema.json")):
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validators[path.name.split(".")[0]] = jsonschema.Draft202012Validator(schema)

expected = {"snapshot", "event", "command", "reply", "task"}
failures = []
if set(validators) != expected:
    failures.append(f"schemas found: {sorted(validators)}, expected {sorted(expected)}")

checked = 0
for path in sorted((sample_dir / "valid").glob("*.json")):
    kind = path.name.split("-")[0]
    errors = list(validators[kind].iter_errors(json.loads(path.read_text())))
    checked += 1
    if errors:
        failures.append(f"valid/{path.name}: refused: {errors[0].message}")

for path in sorted((sample_dir / "invalid").glob("*.json")):
    kind = path.name.split("-")[0]
    try:
        msg = json.loads(path.read_text())
    except json.JSONDecodeError:
        continue
    checked += 1
    refused = not validators[kind].is_valid(msg)
    if path.name in CODEC_ONLY:
        if refused:
            print(f"note: invalid/{path.name} is also refused by the schema")
        continue
    if not refused:
        failures.append(f"invalid/{path.name}: accepted by {kind}.schema.json")

# The ```json examples of docs/protocol.md are valid messages too.
doc = (root / "docs" / "protocol.md").read_text()
for i, block in enumerate(doc.split("```json\n")[1:], 1):
    msg = json.loads(block.split("```", 1)[0])
    checked += 1
    errors = list(validators[msg["type"]].iter_errors(msg))
    if errors:
        failures.append(f"protocol.md example {i}: refused: {errors[0].message}")

for f in failures:
    print("FAIL:", f)
print(f"{checked} samples checked against {len(validators)} schemas, {len(failures)} failures")
sys.exit(1 if failures else 0)
