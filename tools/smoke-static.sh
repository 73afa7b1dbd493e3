#!/usr/bin/env bash
# Smoke test of a static `ppdb` binary: checks that it is statically linked, starts
# `ppdb server -p 0 -v`, talks memcached to it over a plain socket, stops it with SIGTERM and
# expects exit status 0. Prints the binary's size and the startup time: from the spawn to the
# first reply on a fresh connection (`version`), which is what a client waits for.
#
#   tools/smoke-static.sh target/x86_64-unknown-linux-musl/dist/ppdb
#   RUNS=20 tools/smoke-static.sh BINARY      # startup time: the median of 20 starts
#   ALLOW_DYNAMIC=1 RUNS=20 tools/smoke-static.sh target/dist/ppdb   # the same for a glibc build
set -euo pipefail

BIN="${1:?usage: $0 PATH/TO/ppdb}"
RUNS="${RUNS:-1}"
WORK="$(mktemp -d)"
SERVER_PID=""

cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

die() {
    echo "smoke-static: $*" >&2
    if [ -f "$WORK/server.log" ]; then
        echo "--- server log:" >&2
        cat "$WORK/server.log" >&2
    fi
    exit 1
}

# Static: `file` says "statically linked" (or "static-pie linked"), ldd finds nothing to load.
file_out="$(file -L "$BIN")"
ldd_out="$(ldd "$BIN" 2>&1 || true)"
if [ -z "${ALLOW_DYNAMIC:-}" ]; then
    case "$file_out" in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) die "not a static executable: $file_out" ;;
    esac
    case "$ldd_out" in
    *"not a dynamic executable"* | *"statically linked"*) ;;
    *) die "ldd lists libraries: $ldd_out" ;;
    esac
fi

# Microseconds since the epoch, without forking.
now_us() {
    local t="${EPOCHREALTIME/./}"
    echo "$((10#$t))"
}

# Starts the server and waits for its first reply. Sets SERVER_PID, PORT and STARTUP_US (from
# the spawn to the reply to `version` on a new connection, in microseconds); fd 3 stays open.
start_server() {
    local t0 line=""
    PORT=""
    : >"$WORK/server.log"
    t0="$(now_us)"
    "$BIN" server -p 0 -v </dev/null >/dev/null 2>"$WORK/server.log" &
    SERVER_PID=$!
    while [ -z "$PORT" ]; do
        line="$(grep -m1 -o 'listening on [0-9.]*:[0-9]*' "$WORK/server.log" || true)"
        PORT="${line##*:}"
        [ "$(now_us)" -lt "$((t0 + 10000000))" ] || die "no 'listening on' line within 10 s"
        kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited at startup"
    done
    exec 3<>"/dev/tcp/127.0.0.1/$PORT"
    printf 'version\r\n' >&3
    IFS= read -r -t 5 line <&3 || die "no reply to 'version'"
    STARTUP_US=$(($(now_us) - t0))
    [[ "$line" == VERSION* ]] || die "unexpected reply to 'version': $line"
}

# Closes fd 3, sends SIGTERM and expects exit status 0 within 5 s.
stop_server() {
    local status=0
    exec 3>&-
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || status=$?
    SERVER_PID=""
    [ "$status" -eq 0 ] || die "exit status $status after SIGTERM (expected 0)"
}

# One conversation: set, get, delete, get again, on the connection that asked `version`.
start_server
times=("$STARTUP_US")
printf 'set greeting 5 0 5\r\nhello\r\nget greeting\r\ndelete greeting\r\nget greeting\r\n' >&3
for want in "STORED" "VALUE greeting 5 5" "hello" "END" "DELETED" "END"; do
    IFS= read -r -t 5 got <&3 || die "no reply (expected '$want')"
    got="${got%$'\r'}"
    [ "$got" = "$want" ] || die "expected '$want', got '$got'"
done
stop_server
grep -q "stopped" "$WORK/server.log" || die "no 'stopped' line after SIGTERM"

# More starts for a steadier startup figure.
for _ in $(seq 2 "$RUNS"); do
    start_server
    times+=("$STARTUP_US")
    stop_server
done
median="$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"

size_bytes="$(stat -c %s "$BIN")"
echo "smoke-static: ok: $file_out"
echo "smoke-static: ldd: $ldd_out"
echo "smoke-static: size $size_bytes bytes ($((size_bytes / 1024)) KiB)"
printf 'smoke-static: startup to first reply: median %d.%03d ms over %d start(s)\n' \
    $((median / 1000)) $((median % 1000)) "${#times[@]}"
