#!/usr/bin/env bash
# A day of back-to-back shows streamed through standard input: peak RSS sampled every second.
#
#   bench/memory_flat.sh [EVENTS] [SLOTS] [LIVESELL]    (defaults: 20000000 4 target/release/livesell)
#
# Writes bench/memory_flat.csv: seconds, RSS MiB, bytes read, sessions open and closed (from
# DIR/run.json, which a running run rewrites at every --snapshot-interval).
set -euo pipefail
events=${1:-20000000}
slots=${2:-4}
bin=${3:-target/release/livesell}
out=$(mktemp -d /var/tmp/livesell-mem.XXXXXX)
csv=${CSV:-bench/memory_flat.csv}
echo "seconds,rss_mib,bytes_in,open_sessions,closed_sessions" > "$csv"
"$bin" gen --events "$events" --sessions "$slots" --seed 11 --out - \
  | "$bin" run --quiet --input - --out "$out" --snapshot-interval 10 &
# $! of a pipeline is its last process: livesell run.
run=$!
start=$(date +%s)
while kill -0 "$run" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print int($2/1024)}' /proc/$run/status 2>/dev/null || echo 0)
  rchar=$(awk '/rchar/ {print $2}' /proc/$run/io 2>/dev/null || echo 0)
  # run.json says the sessions open and closed at every --snapshot-interval.
  open=$(sed -n 's/.*"open_sessions": \([0-9]*\).*/\1/p' "$out/run.json" 2>/dev/null || true)
  closed=$(sed -n 's/.*"closed_sessions": \([0-9]*\).*/\1/p' "$out/run.json" 2>/dev/null || true)
  echo "$(( $(date +%s) - start )),$rss,$rchar,${open:-0},${closed:-0}" >> "$csv"
  sleep 1
done
wait $run
cat "$out/run.json"
echo
echo "samples in $csv; outputs in $out"
