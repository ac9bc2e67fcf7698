#!/usr/bin/env python3
"""Every kind of bad input in one file, through `livesell run`: the dead letters by reason.

    python3 bench/bad_inputs.py [LIVESELL_BIN]

Writes /tmp/livesell-bad/bad.jsonl (one line per kind, plus invalid UTF-8, binary, a 100 KB
line, amounts past the limits and an unterminated last line), runs the pipeline over it and
prints each line's fate: its dead letter's reason, or what it was decided as.
"""
import collections, json, os, shutil, subprocess, sys

BIN = sys.argv[1] if len(sys.argv) > 1 else "/var/tmp/livesell-target/release/livesell"
T = 1795000000000
D = "/tmp/livesell-bad"
os.makedirs(D, exist_ok=True)


def ev(**k):
    return json.dumps(k)


kinds = [
    ("director: product", ev(type="director", session_id="b", ts=T, action="product", code="A1", price_cents=100, variants=[{"sku": "A1", "stock": 5}])),
    ("director: activate", ev(type="director", session_id="b", ts=T, action="activate", code="A1")),
    ("malformed JSON", '{"type":"comment",'),
    ("not an object (array)", "[1,2,3]"),
    ("a bare string", '"hello"'),
    ("empty line (skipped, SPEC 1)", ""),
    ("whitespace only (skipped)", "   "),
    ("unknown type", ev(type="like", session_id="b", ts=T + 1)),
    ("missing type", ev(session_id="b", ts=T + 1)),
    ("missing session_id", ev(type="comment", ts=T + 1, platform="tiktok", comment_id="x", user_id="u", text="sold")),
    ("missing ts", ev(type="comment", session_id="b", platform="tiktok", comment_id="x1", user_id="u", text="sold")),
    ("ts not a time", ev(type="comment", session_id="b", ts="yesterday", platform="tiktok", comment_id="x2", user_id="u", text="sold")),
    ("ts past 64 bits", ev(type="comment", session_id="b", ts=10**20, platform="tiktok", comment_id="x3", user_id="u", text="sold")),
    ("negative qty", ev(type="order", session_id="b", ts=T + 2, order_id="o1", platform="web", user_id="u", sku="A1", qty=-1, amount_cents=100, status="paid")),
    ("amount not a number", ev(type="order", session_id="b", ts=T + 2, order_id="o2", platform="web", user_id="u", sku="A1", qty=1, amount_cents="lots", status="paid")),
    ("unknown order status", ev(type="order", session_id="b", ts=T + 2, order_id="o3", platform="web", user_id="u", sku="A1", qty=1, amount_cents=100, status="maybe")),
    ("amount past 64 bits", ev(type="order", session_id="b", ts=T + 2, order_id="o4", platform="web", user_id="u", sku="A1", qty=1, amount_cents=2**70, status="paid")),
    ("stock past the limit", ev(type="stock", session_id="b", ts=T + 3, sku="A1", set=10**15)),
    ("unknown director action", ev(type="director", session_id="b", ts=T + 3, action="explode")),
    ("unknown platform (taken: SPEC names no list)", ev(type="comment", session_id="b", ts=T + 4, platform="myspace", comment_id="x4", user_id="u", text="sold")),
    ("text not a string", ev(type="comment", session_id="b", ts=T + 4, platform="tiktok", comment_id="x5", user_id="u", text=42)),
    ("NUL in text (taken: valid JSON)", ev(type="comment", session_id="b", ts=T + 4, platform="tiktok", comment_id="x6", user_id="u", text="sold\u0000A1")),
    ("moderation accept without sku", ev(type="moderation", session_id="b", ts=T + 5, escalation_id="nope", decision="accept")),
    ("duplicate keys", '{"type":"comment","type":"order","session_id":"b","ts":%d}' % (T + 5)),
    ("10,000-deep nesting", "[" * 10000 + "]" * 10000),
]
raw = [(n, l.encode()) for n, l in kinds]
raw.append(("invalid UTF-8", b'{"type":"comment","session_id":"b","ts":1795000000006,"platform":"tiktok","comment_id":"x7","user_id":"u","text":"sold \xff\xfe"}'))
binary = bytes(range(256))
raw.append(("binary, before its byte 10 (a newline)", binary[:10]))
raw.append(("binary, after it", binary[11:]))
raw.append(("a 100 KB line", b'{"type":"comment","session_id":"b","ts":1795000000007,"text":"' + b"a" * 100000 + b'"}'))
for i in range(3):
    raw.append((f"order of 2^62 cents #{i + 1}", ev(type="order", session_id="b", ts=T + 10 + i, order_id=f"big{i}", platform="web", user_id=f"v{i}", sku="A1", qty=1, amount_cents=2**62, status="paid").encode()))
data = b"\n".join(l for _, l in raw) + b"\n"
data += b'{"type":"comment","session_id":"b","ts":1795000000099,"platform":"tiktok"'
raw.append(("unterminated last line", b""))
open(f"{D}/bad.jsonl", "wb").write(data)
shutil.rmtree(f"{D}/out", ignore_errors=True)  # a run refuses a folder an earlier run wrote
subprocess.run([BIN, "run", "--input", f"{D}/bad.jsonl", "--out", f"{D}/out"], check=True)
dead = {}
for l in open(f"{D}/out/dead_letter.jsonl"):
    d = json.loads(l)
    dead[d["line"]] = d["reason"]
counts = collections.Counter(dead.values())
print("| line | input | fate |\n|---|---|---|")
for i, (name, _) in enumerate(raw, start=1):
    fate = dead.get(i)
    print(f"| {i} | {name} | {'`' + fate + '`' if fate else 'applied or skipped'} |")
print()
print("| reason | count |\n|---|---|")
for r, c in sorted(counts.items()):
    print(f"| `{r}` | {c} |")
print(f"| all | {sum(counts.values())} |")
