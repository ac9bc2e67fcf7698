#!/usr/bin/env python3
"""Side by side on a noisy machine: alternating `livesell run` of several binaries on one show.

Usage: bench/ab.py N BIN [BIN...] [-- extra run args]
A BIN written as PATH:parse times `PATH parse` instead. SHOW (default: the file of
bench/throughput.sh) and W (workers, default 2) come from the environment. Prints, per binary,
the best and median wall time, the best CPU time (user + sys) and the peak RSS.
"""
import os
import shutil
import subprocess
import sys
import time

n = int(sys.argv[1])
bins = sys.argv[2:]
extra = []
if "--" in bins:
    i = bins.index("--")
    bins, extra = bins[:i], bins[i + 1 :]
show = os.environ.get("SHOW", "/tmp/livesell-bench-1000000-8.jsonl")
runs = {b: [] for b in bins}
for _ in range(n):
    for b in bins:
        if b.endswith(":parse"):
            cmd = [b[: -len(":parse")], "parse", "--input", show]
        else:
            cmd = [b, "run", "--quiet", "--workers", os.environ.get("W", "2"),
                   "--input", show, "--out", "/tmp/livesell-ab-out"] + extra
        # A run refuses a folder an earlier run wrote (nothing is ever wiped): start each clean.
        shutil.rmtree("/tmp/livesell-ab-out", ignore_errors=True)
        started = time.time()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        if status != 0:
            sys.exit(f"{' '.join(cmd)} failed with status {status}")
        runs[b].append((time.time() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024))
for b in bins:
    walls = sorted(r[0] for r in runs[b])
    print(f"{b}: wall best {walls[0]:.2f} s, median {walls[len(walls) // 2]:.2f} s "
          f"(all {' '.join(f'{r[0]:.2f}' for r in runs[b])}), "
          f"cpu best {min(r[1] for r in runs[b]):.2f} s, peak rss {max(r[2] for r in runs[b])} MiB")
