#!/usr/bin/env bash
# A day of back-to-back shows streamed through standard input: peak RSS sampled every second.
#
#   bench/memory_flat.sh [EVENTS] [SLOTS] [LIVESELL]    (defaults: 20000000 4 target/release/livesell)
#
# Writes bench/memory_flat.csv: seconds, RSS MiB, bytes read, sessions closed so far, sessions
# whose tables were written (open ones at each --snapshot-interval, closed ones at their close).
set -euo pipefail
events=${1:-20000000}
slots=${2:-4}
bin=${3:-target/release/livesell}
out=$(mktemp -d /var/tmp/livesell-mem.XXXXXX)
csv=${CSV:-bench/memory_flat.csv}
echo "seconds,rss_mib,bytes_in,closed_sessions,written_sessions" > "$csv"
"$bin" gen --events "$events" --sessions "$slots" --seed 11 --out - \
  | "$bin" run --quiet --input - --out "$out" --snapshot-interval 10 &
# $! of a pipeline is its last process: livesell run.
run=$!
start=$(date +%s)
while kill -0 "$run" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print int($2/1024)}' /proc/$run/status 2>/dev/null || echo 0)
  rchar=$(awk '/rchar/ {print $2}' /proc/$run/io 2>/dev/null || echo 0)
  closed=$(ls "$out/sessions" 2>/dev/null | wc -l || true)
  written=$( (ls "$out"/snapshots/comments/*/ 2>/dev/null || true) | grep -c parquet || true)
  echo "$(( $(date +%s) - start )),$rss,$rchar,$closed,$written" >> "$csv"
  sleep 1
done
wait $run
cat "$out/run.json"
echo
echo "samples in $csv; outputs in $out"
