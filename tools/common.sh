# Helpers shared by the measurement scripts in tools/ (sourced, not run):
#   free_port        prints a TCP port that is free on 127.0.0.1 now (the OS picks it)
#   wait_port PORT   waits up to 5 s until something accepts connections on 127.0.0.1:PORT
#   root_flag        prints memcached's `-u root` when running as root (memcached refuses
#                    to run as root without it), nothing otherwise

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
