#!/usr/bin/env python3
"""Validates GraphQL requests against Shopify's published Admin API schema (graphql-core 3.2).

usage: validate_graphql.py SCHEMA_JSON_GZ REQUESTS_JSONL

SCHEMA_JSON_GZ is the introspection result (../shared/fixtures/shopify-admin-2025-01.json.gz);
each line of REQUESTS_JSONL is a request body as sent: {"query": ..., "variables": {...}}.
Each distinct document is validated once; each request's variables are coerced against the
document's variable definitions. Prints what broke and exits 1 if anything did.
"""
import gzip
import json
import sys

from graphql import build_client_schema, parse, validate
from graphql.execution.values import get_variable_values


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with gzip.open(sys.argv[1]) as f:
        intro = json.load(f)
    schema = build_client_schema(intro.get("data", intro))
    documents = {}
    bad = 0
    checked = 0
    with open(sys.argv[2]) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            req = json.loads(line)
            q = req["query"]
            if q not in documents:
                doc = parse(q)
                errors = validate(schema, doc)
                for e in errors:
                    print(f"request {n}: {e.message}\n  {q}")
                    bad += 1
                documents[q] = None if errors else doc
            doc = documents[q]
            if doc is None:
                continue
            op = doc.definitions[0]
            coerced = get_variable_values(schema, op.variable_definitions or [], req.get("variables") or {})
            checked += 1
            if isinstance(coerced, list):
                for e in coerced[:3]:
                    print(f"request {n}: {e.message}\n  {json.dumps(req.get('variables'))[:300]}")
                bad += 1
    print(f"{checked} requests, {len(documents)} documents, {bad} broken")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
