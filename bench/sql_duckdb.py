"""The report's queries in DuckDB over the same Parquet files: per-query wall time, best of N.

python3 bench/sql_duckdb.py DIR QUERIES.jsonl [RUNS] takes the SQL that the DataFusion side ran
(`cargo run --release --example sql` prints it), rewrites the two spellings where the dialects
differ (a timestamp's microseconds, percentiles), and prints one JSON line per query.
"""
import json
import re
import sys
import time

import duckdb

DIR, QUERIES = sys.argv[1], sys.argv[2]
RUNS = int(sys.argv[3]) if len(sys.argv) > 3 else 5


def duckdb_sql(sql):
    sql = re.sub(r"CAST\(([\w.]+) AS BIGINT\)", r"epoch_us(\1)", sql)
    return re.sub(
        r"approx_percentile_cont\(([\d.]+)\) WITHIN GROUP \(ORDER BY (\w+)\)",
        r"approx_quantile(\2, \1)",
        sql,
    )


con = duckdb.connect()
con.execute("SET threads TO 2")
for t in ["comments", "claims", "reservations", "orders", "gmv_minute", "products", "stock"]:
    con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{DIR}/snapshots/{t}.parquet')")
for line in open(QUERIES):
    q = json.loads(line)
    sql = duckdb_sql(q["sql"])
    best, rows = float("inf"), 0
    for _ in range(max(RUNS, 1)):
        t0 = time.perf_counter()
        rows = len(con.execute(sql).fetchall())
        best = min(best, (time.perf_counter() - t0) * 1000)
    print(json.dumps({"query": q["query"], "ms": round(best, 2), "rows": rows}))
