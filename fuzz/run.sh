#!/usr/bin/env bash
# Runs fuzz targets for a while each, two at a time (the machine has two cores), with the
# committed corpus and the JSON dictionary; prints libFuzzer's final stats per target.
#   fuzz/run.sh [SECONDS] [TARGET...]     (default: 600 s, every target)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}; shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir fuzz)
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/livesell-fuzz-target}
cargo +nightly fuzz build --fuzz-dir fuzz
mkdir -p fuzz/logs
run() {
  local t=$1 rc=0 start=$SECONDS
  cargo +nightly fuzz run --fuzz-dir fuzz "$t" -- -max_total_time="$secs" \
    -dict=fuzz/json.dict -print_final_stats=1 -rss_limit_mb=4096 >"fuzz/logs/$t.log" 2>&1 || rc=$?
  echo "$t: exit $rc, $((SECONDS - start)) s, $(grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "fuzz/logs/$t.log" | tr -s ' ' | tr '\n' ' ')"
}
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  run "${targets[i]}" &
  if [ $((i + 1)) -lt ${#targets[@]} ]; then run "${targets[i + 1]}" & fi
  wait
done
