#!/usr/bin/env bash
# A second opinion from libmemcached's memcslap (Debian: libmemcached-tools): the time its set
# and get tests take against memcached and against `ppdb server`, one after the other.
#
#   cargo build --release -p ppdb && bash tools/memcslap-vs-memcached.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONCURRENCY="${CONCURRENCY:-50}"
EXECUTE="${EXECUTE:-10000}"
. tools/common.sh
side_by_side_settings
for kind in memcached ppdb; do
    port=$(free_port)
    start_server "$kind" "$port"
    pid=$SERVER_PID
    for test in set get; do
        secs=$(memcslap --servers="127.0.0.1:$port" --concurrency="$CONCURRENCY" \
            --execute-number="$EXECUTE" --test="$test" --tcp-nodelay 2>&1 |
            awk '/^Time to (set|get) / {print $(NF-1)}' | paste -sd' ')
        # The get test first loads its keys: two times, load then gets.
        echo "$kind $test: $CONCURRENCY x $EXECUTE requests, seconds: $secs"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
done
