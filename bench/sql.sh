#!/usr/bin/env bash
# The report's queries in DataFusion and DuckDB over the same snapshot files (issue: SQL).
# Usage: bench/sql.sh [EVENTS] [SESSIONS] — generates a show, runs it, times both engines on the
# report of its largest session; BENCH_SESSION='*' runs the same queries over every session.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-10400000}
SESSIONS=${2:-1}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/livesell-target}"
cargo build --release --quiet --bins --examples
BIN="$CARGO_TARGET_DIR/release/livesell"
SHOW="/tmp/livesell-sqlbench-${EVENTS}-${SESSIONS}.jsonl"
OUT="/tmp/livesell-sqlbench-${EVENTS}-${SESSIONS}"
[ -f "$SHOW" ] || "$BIN" gen --events "$EVENTS" --sessions "$SESSIONS" --seed 42 --out "$SHOW" 2>/dev/null
[ -f "$OUT/snapshots/comments.parquet" ] || "$BIN" run --quiet --workers 2 --input "$SHOW" --out "$OUT"
# the session with the most comments
SESSION=$("$BIN" sql --format csv --data "$OUT" \
  "SELECT session_id FROM comments GROUP BY session_id ORDER BY count(*) DESC LIMIT 1" | tail -1)
echo "show: $SHOW; session $SESSION; comments: $("$BIN" sql --format csv --data "$OUT" "SELECT count(*) FROM comments" | tail -1)"
python3 -c "import duckdb, pytz" 2>/dev/null || pip install --quiet duckdb pytz
"$CARGO_TARGET_DIR/release/examples/sql" --data "$OUT" --session "${BENCH_SESSION:-$SESSION}" > /tmp/livesell-sqlbench-df.jsonl
python3 bench/sql_duckdb.py "$OUT" /tmp/livesell-sqlbench-df.jsonl > /tmp/livesell-sqlbench-duck.jsonl
python3 - <<'PY'
import json, math
df = [json.loads(l) for l in open('/tmp/livesell-sqlbench-df.jsonl')]
dk = {r['query']: r for r in (json.loads(l) for l in open('/tmp/livesell-sqlbench-duck.jsonl'))}
print('| query | DataFusion ms | DuckDB ms | ratio | rows |')
print('|---|---|---|---|---|')
logs = []
for r in df:
    d = dk[r['query']]
    ratio = r['ms'] / d['ms'] if d['ms'] else float('nan')
    logs.append(math.log(ratio))
    print(f"| {r['query']} | {r['ms']:.1f} | {d['ms']:.1f} | {ratio:.2f} | {r['rows']} / {d['rows']} |")
print(f"geometric mean of DataFusion / DuckDB: {math.exp(sum(logs) / len(logs)):.2f}")
PY
