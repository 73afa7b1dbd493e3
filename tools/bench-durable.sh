#!/usr/bin/env bash
# Durable write throughput of `ppdb server --data-dir` with --durability sync, at 1, 8 and 64
# concurrent writers (connections, one request in flight each), beside the disk's fsync rate.
# Group commit should let throughput grow with writers well past the fsync rate.
#
#   cargo build --release -p ppdb && bash tools/bench-durable.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PPDB="${PPDB:-target/release/ppdb}"
BASE="${1:-${TMPDIR:-/tmp}}"
DURATION="${DURATION:-5}"
DURABILITY="${DURABILITY:-sync}"
python3 tools/fsync-probe.py "$BASE" 3
. tools/common.sh
for writers in 1 8 64; do
    dir=$(mktemp -d "$BASE/ppdb-durable-XXXXXX")
    port=$(free_port)
    "$PPDB" server -p "$port" -t "${SERVER_THREADS:-2}" -m 1024 --data-dir "$dir" --durability "$DURABILITY" 2>/dev/null &
    pid=$!
    wait_port "$port"
    "$PPDB" bench --port "$port" -c "$writers" -t 2 --ratio 0:1 --keys 100000 --value-size 100 \
        --no-fill --duration "$DURATION" --seed 1 --json |
        python3 -c '
import json, sys
r = json.load(sys.stdin)
a = r["latency_us"]["all"]
print("%2s writers: %8.0f writes/s  p50 %7.0f us  p99 %7.0f us" % (sys.argv[1], r["ops_per_sec"], a["p50"], a["p99"]))
' "$writers"
    printf 'stats\r\nquit\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat >&3; cat <&3" |
        awk '/STAT wal_(syncs|records) /{printf "   %s %s", $2, $3} END{print ""}' | tr -d '\r'
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
done
