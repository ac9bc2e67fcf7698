#!/usr/bin/env python3
"""Validates every output of a run folder against its JSON Schema (Draft 2020-12).

usage: validate.py SCHEMAS_DIR OUT_DIR [--carts FILE] [--ticker FILE]

Each line of decisions.jsonl against decision-<kind>.schema.json, dead_letter.jsonl,
orders_out.jsonl and notifications.jsonl against theirs, run.json and summary.json whole.
Prints one line per schema (records checked, records that break it, the first errors) and a
JSON line of what was seen (kinds, outcomes, reasons); exits 1 when any record breaks its
schema or a schema is not valid Draft 2020-12 itself.
"""
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from jsonschema import Draft202012Validator


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    schemas, out = Path(args[0]), Path(args[1])
    extra = dict(zip(args[2::2], args[3::2]))
    validators = {}
    bad_schema = False
    for p in sorted(schemas.glob("*.schema.json")):
        schema = json.loads(p.read_text())
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as e:  # noqa: BLE001 - report any schema error
            print(f"{p.name}: not a valid Draft 2020-12 schema: {e}")
            bad_schema = True
            continue
        validators[p.name.removesuffix(".schema.json")] = Draft202012Validator(schema)

    checked = Counter()
    broken = Counter()
    errors = defaultdict(list)
    seen = defaultdict(set)

    def check(name, record, where):
        v = validators.get(name)
        if v is None:
            broken[name] += 1
            errors[name].append(f"{where}: no schema named {name}")
            return
        checked[name] += 1
        errs = sorted(v.iter_errors(record), key=lambda e: list(e.path))
        if errs:
            broken[name] += 1
            if len(errors[name]) < 5:
                e = errs[0]
                path = "/".join(str(x) for x in e.path)
                errors[name].append(f"{where} at /{path}: {e.message[:300]}")

    def lines(path):
        if not path.exists():
            return
        with path.open() as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    yield n, json.loads(line)

    for n, d in lines(out / "decisions.jsonl"):
        kind = d.get("kind", "?")
        seen["kind"].add(kind)
        if "outcome" in d:
            seen[f"{kind}.outcome"].add(d["outcome"])
        if "reason" in d:
            seen[f"{kind}.reason"].add(d["reason"])
        check(f"decision-{kind}", d, f"decisions.jsonl:{n}")
    for n, d in lines(out / "dead_letter.jsonl"):
        seen["dead_letter.reason"].add(d.get("reason"))
        check("dead-letter", d, f"dead_letter.jsonl:{n}")
    for n, d in lines(out / "orders_out.jsonl"):
        check("order-out", d, f"orders_out.jsonl:{n}")
    for n, d in lines(out / "notifications.jsonl"):
        seen["notification.kind"].add(d.get("kind"))
        check("notification", d, f"notifications.jsonl:{n}")
    for name, schema in (("run.json", "run"), ("summary.json", "summary")):
        p = out / name
        if p.exists():
            check(schema, json.loads(p.read_text()), name)
    for flag, schema in (("--carts", "cart"), ("--ticker", "gmv-ticker")):
        if flag in extra:
            for n, d in lines(Path(extra[flag])):
                check(schema, d, f"{extra[flag]}:{n}")

    for name in sorted(set(checked) | set(broken)):
        print(f"{name}: {checked[name]} checked, {broken[name]} broken")
        for e in errors[name]:
            print(f"  {e}")
    print(json.dumps({k: sorted(map(str, v)) for k, v in sorted(seen.items())}))
    return 1 if bad_schema or sum(broken.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
