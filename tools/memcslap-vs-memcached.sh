#!/usr/bin/env bash
# A second opinion from libmemcached's memcslap (Debian: libmemcached-tools): the time its set
# and get tests take against memcached and against `ppdb server`, one after the other.
#
#   cargo build --release -p ppdb && bash tools/memcslap-vs-memcached.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PPDB="${PPDB:-target/release/ppdb}"
CONCURRENCY="${CONCURRENCY:-50}"
EXECUTE="${EXECUTE:-10000}"
. tools/common.sh
for kind in memcached ppdb; do
    port=$(free_port)
    case "$kind" in
        memcached) memcached $(root_flag) -U 0 -l 127.0.0.1 -p "$port" -t 2 -m 1024 -c 4096 & ;;
        ppdb) "$PPDB" server -l 127.0.0.1 -p "$port" -t 2 -m 1024 -c 4096 2>/dev/null & ;;
    esac
    pid=$!
    wait_port "$port"
    for test in set get; do
        secs=$(memcslap --servers="127.0.0.1:$port" --concurrency="$CONCURRENCY" \
            --execute-number="$EXECUTE" --test="$test" --tcp-nodelay 2>&1 |
            awk '/^Time to (set|get) / {print $(NF-1)}' | paste -sd' ')
        # The get test first loads its keys: two times, load then gets.
        echo "$kind $test: $CONCURRENCY x $EXECUTE requests, seconds: $secs"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
done
