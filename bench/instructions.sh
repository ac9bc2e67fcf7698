#!/usr/bin/env bash
# Instructions executed by `livesell run` (and by `livesell parse` on the same show) under
# valgrind's cachegrind: a noise-free count to compare builds on this shared VM, where wall
# and CPU times vary by 30% from one minute to the next. It does not see page faults, cache
# misses or the kernel, so confirm a gain with `ab.py` in a quiet phase.
# Usage: bench/instructions.sh SHOW.jsonl BIN... (W=workers, default 2)
set -euo pipefail
show=${1:?usage: bench/instructions.sh SHOW.jsonl BIN...}
shift
workers=${W:-2}
command -v valgrind >/dev/null || { echo "needs valgrind (apt install valgrind)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() {
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" 2>&1 \
    | sed -n 's/.*I *refs: *//p' | tr -d ,
}
for bin in "$@"; do
  rm -rf "$out/o" # a run refuses a folder an earlier run wrote
  run=$(count "$bin" run --quiet --workers "$workers" --input "$show" --out "$out/o")
  parse=$(count "$bin" parse --input "$show")
  awk -v b="$bin" -v r="$run" -v p="$parse" -v w="$workers" 'BEGIN {
    printf "%s: run --workers %d %.3f G instructions, parse %.3f G, ratio %.2f\n", b, w, r/1e9, p/1e9, r/p }'
  rm -rf "$out/o"
done
