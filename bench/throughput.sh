#!/usr/bin/env bash
# Throughput of `livesell run` on a generated show next to merely parsing it (issue: claim engine).
# Usage: bench/throughput.sh [EVENTS] [SESSIONS]  — prints one line per measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-1000000}
SESSIONS=${2:-8}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/livesell-target}"
cargo build --release --quiet
BIN="$CARGO_TARGET_DIR/release/livesell"
SHOW="/tmp/livesell-bench-${EVENTS}-${SESSIONS}.jsonl"
[ -f "$SHOW" ] || "$BIN" gen --events "$EVENTS" --sessions "$SESSIONS" --seed 42 --out "$SHOW" 2>/dev/null
BYTES=$(stat -c %s "$SHOW")
echo "show: $SHOW ($EVENTS events, $SESSIONS sessions, $((BYTES / 1000000)) MB), $(nproc) cores"
cat "$SHOW" > /dev/null # warm the page cache so every run reads from memory
for i in 1 2 3; do "$BIN" parse --input "$SHOW"; done
for w in 1 2; do
  # A run refuses a folder an earlier run wrote (nothing is ever wiped): start each clean.
  for i in 1 2 3; do rm -rf "/tmp/livesell-bench-out-$w"; "$BIN" run --quiet --workers "$w" --input "$SHOW" --out "/tmp/livesell-bench-out-$w"; done
done
cmp "/tmp/livesell-bench-out-1/decisions.jsonl" "/tmp/livesell-bench-out-2/decisions.jsonl" && echo "1 and 2 workers: identical decisions"
