"""What a mature vectorised engine needs for a part of what `livesell run` must do: DuckDB on the same show.

python3 bench/floor_duckdb.py SHOW.jsonl [RUNS] reads the show's comment fields, and writes the
`comments` snapshot table alone (one of the eight files SPEC 5 asks for) as Snappy Parquet,
with 1 and 2 threads; best of RUNS (3). No ordering, no claim grammar, no state, no decisions:
a lower reference for the time that the outputs of a run cost on this machine, next to the
1-second budget of 1M events/s.
"""
import os
import sys
import tempfile
import time

import duckdb

SHOW = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
OUT = os.path.join(tempfile.mkdtemp(), "comments.parquet")

# Ids and timestamps arrive as numbers or strings depending on the platform: read them as text.
fields = ["type", "session_id", "ts", "platform", "comment_id", "user_id", "user_name", "text"]
columns = "{" + ",".join(f"{f}:'VARCHAR'" for f in fields) + "}"
src = f"read_json('{SHOW}', format='newline_delimited', columns={columns})"
queries = [
    ("read + parse the comment fields", f"SELECT count(*), sum(length(text)), sum(length(user_id)) FROM {src}"),
    (
        "the comments table as Snappy Parquet",
        f"COPY (SELECT session_id, ts, platform, comment_id, user_id, user_name, text FROM {src} "
        f"WHERE type = 'comment') TO '{OUT}' (FORMAT parquet, COMPRESSION snappy)",
    ),
]
for threads in (1, 2):
    con = duckdb.connect()
    con.execute(f"SET threads TO {threads}")
    for name, sql in queries:
        best_wall, best_cpu = float("inf"), float("inf")
        for _ in range(RUNS):
            c0, t0 = time.process_time(), time.perf_counter()
            con.execute(sql).fetchall()
            best_wall = min(best_wall, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
        print(f"duckdb {duckdb.__version__}, {threads} thread(s): {name}: {best_wall:.2f} s wall, {best_cpu:.2f} CPU-s")
print(f"comments.parquet: {os.path.getsize(OUT) / 1e6:.1f} MB")
