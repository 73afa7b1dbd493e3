# Helpers shared by the measurement scripts in tools/ (sourced, not run):
#   free_port        prints a TCP port that is free on 127.0.0.1 now (the OS picks it)
#   wait_port PORT   waits up to 5 s until something accepts connections on 127.0.0.1:PORT
#   root_flag        prints memcached's `-u root` when running as root (memcached refuses
#                    to run as root without it), nothing otherwise
#   side_by_side_settings
#                    sets the defaults shared by the side-by-side scripts (PPDB THREADS
#                    MEMORY_MB DURATION CONNECTIONS KEYS ROWS SEED REPEAT), keeping any the
#                    caller's environment gives
#   start_server KIND PORT
#                    starts memcached or ppdb (KIND) on PORT with THREADS and MEMORY_MB, waits
#                    until it listens, and leaves its pid in SERVER_PID

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
    for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "server on port $1 did not start" >&2
    return 1
}

root_flag() { [ "$(id -u)" = 0 ] && echo -u root || true; }

side_by_side_settings() {
    PPDB="${PPDB:-target/release/ppdb}"
    THREADS="${THREADS:-2}"
    MEMORY_MB="${MEMORY_MB:-1024}"
    DURATION="${DURATION:-10}"
    CONNECTIONS="${CONNECTIONS:-50}"
    KEYS="${KEYS:-100000}"
    ROWS="${ROWS:-90:10/100/1 90:10/100/16 90:10/4096/1 90:10/4096/16 10:90/100/1 10:90/100/16 10:90/4096/1 10:90/4096/16}"
    SEED="${SEED:-7}"
    REPEAT="${REPEAT:-3}"
}

start_server() { # kind port
    case "$1" in
        memcached) memcached $(root_flag) -U 0 -l 127.0.0.1 -p "$2" -t "$THREADS" -m "$MEMORY_MB" -c 4096 & ;;
        ppdb) "$PPDB" server -l 127.0.0.1 -p "$2" -t "$THREADS" -m "$MEMORY_MB" -c 4096 2>/dev/null & ;;
    esac
    SERVER_PID=$!
    wait_port "$2"
}
