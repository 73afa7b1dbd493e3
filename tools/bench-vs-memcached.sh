#!/usr/bin/env bash
# Runs `ppdb bench` against memcached and against `ppdb server` side by side, on this machine, with
# the same thread count and memory, and prints one line per row of docs/performance.md's table.
#
#   cargo build --release -p ppdb
#   bash tools/bench-vs-memcached.sh                  # the whole table (8 rows x 2 servers)
#   DURATION=5 ROWS="90:10/100/1" bash tools/bench-vs-memcached.sh
#
# Each row: get:set ratio / value bytes / pipeline depth. The servers run one after the other
# (never at the same time), each freshly started for every row, on ephemeral ports.
set -euo pipefail
cd "$(dirname "$0")/.."

PPDB="${PPDB:-target/release/ppdb}"
THREADS="${THREADS:-2}"
MEMORY_MB="${MEMORY_MB:-1024}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-50}"
KEYS="${KEYS:-100000}"
ROWS="${ROWS:-90:10/100/1 90:10/100/16 90:10/4096/1 90:10/4096/16 10:90/100/1 10:90/100/16 10:90/4096/1 10:90/4096/16}"
SEED="${SEED:-7}"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "server on port $1 did not start" >&2
    return 1
}

start_server() { # kind port
    case "$1" in
        memcached) memcached $( [ "$(id -u)" = 0 ] && echo -u root )  -U 0 -l 127.0.0.1 -p "$2" -t "$THREADS" -m "$MEMORY_MB" -c 4096 & ;;
        ppdb) "$PPDB" server -l 127.0.0.1 -p "$2" -t "$THREADS" -m "$MEMORY_MB" -c 4096 2>/dev/null & ;;
    esac
    SERVER_PID=$!
    wait_port "$2"
}

SUMMARY='
import json, sys
r = json.load(sys.stdin)
a = r["latency_us"]["all"]
cols = (sys.argv[1], sys.argv[2], r["ops_per_sec"], a["p50"], a["p99"], a["p99_9"])
print("%-9s %-14s %10.0f %9.1f %9.1f %9.1f" % cols)
'
printf '%-9s %-14s %10s %9s %9s %9s\n' server row ops/s p50_us p99_us p999_us
for row in $ROWS; do
    IFS=/ read -r ratio value pipeline <<<"$row"
    for kind in memcached ppdb; do
        port=$(free_port)
        start_server "$kind" "$port"
        json=$("$PPDB" bench --host 127.0.0.1 --port "$port" -c "$CONNECTIONS" -t "$THREADS" \
            --pipeline "$pipeline" --ratio "$ratio" --keys "$KEYS" --key-size 32 \
            --value-size "$value" --duration "$DURATION" --seed "$SEED" --json)
        kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
        printf '%s' "$json" | python3 -c "$SUMMARY" "$kind" "$row"
    done
done
