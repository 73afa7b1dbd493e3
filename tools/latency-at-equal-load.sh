#!/usr/bin/env bash
# Compares the latency of memcached and `ppdb server` at the same offered load, below saturation:
# for each row, a closed-loop run of memcached measures its throughput T, then both servers are
# driven by `ppdb bench --rate` (an open loop; latencies count from when each request was due)
# at FRACTION x T, REPEAT times alternating. Same settings as tools/bench-vs-memcached.sh.
#
#   cargo build --release -p ppdb
#   bash tools/latency-at-equal-load.sh                     # the eight rows, at 0.8 x T
#   FRACTION=0.5 ROWS="10:90/4096/16" bash tools/latency-at-equal-load.sh
#
# The summary gives each server's median p50 and p99 per row and the p99 ratio. A run whose
# achieved rate fell more than 2% short of the schedule is marked: that server could not keep up.
set -euo pipefail
cd "$(dirname "$0")/.."

FRACTION="${FRACTION:-0.8}"
RESULTS="$(mktemp)"
trap 'rm -f "$RESULTS"' EXIT

. tools/common.sh
side_by_side_settings

run() { # kind row ratio value pipeline [rate]
    local port json
    port=$(free_port)
    start_server "$1" "$port"
    json=$("$PPDB" bench --host 127.0.0.1 --port "$port" -c "$CONNECTIONS" -t "$THREADS" \
        --pipeline "$5" --ratio "$3" --keys "$KEYS" --key-size 32 --value-size "$4" \
        --duration "$DURATION" --seed "$SEED" --json ${6:+--rate "$6"})
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
    printf '%s' "$json"
}

SUMMARY='
import json, sys
r = json.load(sys.stdin)
a = r["latency_us"]["all"]
rate = r["rate"]
short = rate is not None and r["ops_per_sec"] < 0.98 * rate
print("%-9s %-14s %10.0f %10.0f %9.1f %9.1f %9.1f%s" % (sys.argv[1], sys.argv[2], rate or 0,
      r["ops_per_sec"], a["p50"], a["p99"], a["p99_9"], "  (fell behind)" if short else ""))
if rate is not None:
    with open(sys.argv[3], "a") as out:
        out.write("%s %s %f %f %f %d\n" % (sys.argv[1], sys.argv[2], rate, a["p50"], a["p99"], short))
'
TABLE='
import statistics, sys
runs, rows = {}, []
for line in open(sys.argv[1]):
    kind, row, rate, p50, p99, short = line.split()
    if row not in rows:
        rows.append(row)
    runs.setdefault((row, kind), []).append((float(rate), float(p50), float(p99), int(short)))
print()
print("| get:set / value / pipeline | rate ops/s | memcached p50 us | ppdb p50 us | memcached p99 us | ppdb p99 us | p99 ratio |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for row in rows:
    m, p = runs[(row, "memcached")], runs[(row, "ppdb")]
    med = lambda rs, i: statistics.median(r[i] for r in rs)
    mark = lambda rs: " (behind %d/%d)" % (sum(r[3] for r in rs), len(rs)) if any(r[3] for r in rs) else ""
    print("| %s | %.0f | %.0f | %.0f | %.0f%s | %.0f%s | %.2fx |" % (row, m[0][0], med(m, 1), med(p, 1),
          med(m, 2), mark(m), med(p, 2), mark(p), med(p, 2) / med(m, 2)))
'
printf '%-9s %-14s %10s %10s %9s %9s %9s\n' server row rate ops/s p50_us p99_us p999_us
for row in $ROWS; do
    IFS=/ read -r ratio value pipeline <<<"$row"
    saturated=$(run memcached "$row" "$ratio" "$value" "$pipeline")
    printf '%s' "$saturated" | python3 -c "$SUMMARY" memcached "$row" /dev/null
    rate=$(printf '%s' "$saturated" | python3 -c 'import json, sys; print(round(json.load(sys.stdin)["ops_per_sec"] * float(sys.argv[1])))' "$FRACTION")
    for kind in $(for _ in $(seq 1 "$REPEAT"); do echo memcached ppdb; done); do
        run "$kind" "$row" "$ratio" "$value" "$pipeline" "$rate" | python3 -c "$SUMMARY" "$kind" "$row" "$RESULTS"
    done
done
python3 -c "$TABLE" "$RESULTS"
