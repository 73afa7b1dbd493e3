#!/usr/bin/env bash
# Runs `ppdb bench` against memcached and against `ppdb server` side by side, on this machine, with
# the same thread count and memory, and prints one line per row of docs/performance.md's table.
#
#   cargo build --release -p ppdb
#   bash tools/bench-vs-memcached.sh                  # the whole table (8 rows x 2 servers)
#   DURATION=5 ROWS="90:10/100/1" REPEAT=1 bash tools/bench-vs-memcached.sh
#
# Each row: get:set ratio / value bytes / pipeline depth. The servers run one after the other
# (never at the same time), each freshly started for every run, on ephemeral ports. Each row is
# run REPEAT times (memcached, ppdb, memcached, ppdb, ...), since on a small shared machine one
# run of a row moves by 10-40%; the summary at the end gives each server's median ops/s and
# median p99 per row, and their ratios, as the table of docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."

RESULTS="$(mktemp)"
trap 'rm -f "$RESULTS"' EXIT

. tools/common.sh
side_by_side_settings

SUMMARY='
import json, sys
r = json.load(sys.stdin)
a = r["latency_us"]["all"]
cols = (sys.argv[1], sys.argv[2], r["ops_per_sec"], a["p50"], a["p99"], a["p99_9"])
print("%-9s %-14s %10.0f %9.1f %9.1f %9.1f" % cols)
with open(sys.argv[3], "a") as out:
    out.write("%s %s %f %f\n" % (sys.argv[1], sys.argv[2], r["ops_per_sec"], a["p99"]))
'
TABLE='
import statistics, sys
runs = {}
rows = []
for line in open(sys.argv[1]):
    kind, row, ops, p99 = line.split()
    if row not in rows:
        rows.append(row)
    runs.setdefault((row, kind), []).append((float(ops), float(p99)))
print()
print("| get:set / value / pipeline | memcached ops/s | ppdb ops/s | ratio | memcached p99 us | ppdb p99 us | p99 ratio |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for row in rows:
    m, p = runs[(row, "memcached")], runs[(row, "ppdb")]
    mo, po = statistics.median(r[0] for r in m), statistics.median(r[0] for r in p)
    ml, pl = statistics.median(r[1] for r in m), statistics.median(r[1] for r in p)
    print("| %s | %.0f | %.0f | %.2fx | %.0f | %.0f | %.2fx |" % (row, mo, po, po / mo, ml, pl, pl / ml))
'
printf '%-9s %-14s %10s %9s %9s %9s\n' server row ops/s p50_us p99_us p999_us
for row in $ROWS; do
    IFS=/ read -r ratio value pipeline <<<"$row"
    for kind in $(for _ in $(seq 1 "$REPEAT"); do echo memcached ppdb; done); do
        port=$(free_port)
        start_server "$kind" "$port"
        json=$("$PPDB" bench --host 127.0.0.1 --port "$port" -c "$CONNECTIONS" -t "$THREADS" \
            --pipeline "$pipeline" --ratio "$ratio" --keys "$KEYS" --key-size 32 \
            --value-size "$value" --duration "$DURATION" --seed "$SEED" --json)
        kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
        printf '%s' "$json" | python3 -c "$SUMMARY" "$kind" "$row" "$RESULTS"
    done
done
python3 -c "$TABLE" "$RESULTS"
