#!/usr/bin/env bash
# Hit ratio of memcached and `ppdb server` under the same memory limit, with a Zipf-distributed
# key space larger than that memory: both are filled with every key, then get:set 90:10 runs
# against them. Prints one line per server.
#
#   cargo build --release -p ppdb
#   bash tools/hit-ratio-vs-memcached.sh
set -euo pipefail
cd "$(dirname "$0")/.."

MEMORY_MB="${MEMORY_MB:-64}"
KEYS="${KEYS:-1000000}"
VALUE="${VALUE:-100}"
ZIPF="${ZIPF:-0.99}"
REQUESTS="${REQUESTS:-2000000}"

. tools/common.sh
side_by_side_settings

for kind in memcached ppdb; do
    port=$(free_port)
    start_server "$kind" "$port"
    pid=$SERVER_PID
    json=$("$PPDB" bench --port "$port" -c "$CONNECTIONS" -t "$THREADS" --pipeline 16 --ratio 90:10 --keys "$KEYS" \
        --key-size 32 --value-size "$VALUE" --distribution "zipf:$ZIPF" --requests "$REQUESTS" \
        --seed 11 --json) || true  # a server refusing some sets exits non-zero
    stats=$(printf 'stats\r\nquit\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat >&3; cat <&3" || true)
    kill "$pid"; wait "$pid" 2>/dev/null || true
    printf '%s' "$json" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("%-9s hit ratio %.4f  (%d hits, %d misses, %d errors)" % (sys.argv[1], r["hit_ratio"], r["hits"], r["misses"], r["errors"]), end="")
' "$kind"
    printf '%s\n' "$stats" | awk '/STAT (evictions|curr_items|bytes) /{printf "  %s %s", $2, $3} END{print ""}' | tr -d '\r'
done
