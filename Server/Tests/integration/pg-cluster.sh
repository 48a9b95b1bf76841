#!/bin/sh
# A throwaway PostgreSQL cluster for the tests (Debian's postgresql package, version 15 or newer).
#
#   pg-cluster.sh start DIR   initdb in DIR (made if missing), a free port on 127.0.0.1, the Unix
#                             socket in DIR, trust authentication for the user "linktrack" (a
#                             superuser; other roles need a password, SCRAM), a database
#                             "linktrack"; prints postgres://linktrack@127.0.0.1:PORT/linktrack
#   pg-cluster.sh stop DIR    stops the cluster and removes DIR
#   pg-cluster.sh pause DIR   stops the server, keeps the data (an outage)
#   pg-cluster.sh resume DIR  starts it again on the same port
#
# Run as root (the server runs as the postgres user through runuser) or as an ordinary user (the
# server runs as that user). Logs go to DIR/postgres.log.
set -eu

command=${1:-}
dir=${2:-}
if [ -z "$command" ] || [ -z "$dir" ]; then
    echo "usage: $0 start|stop|pause|resume DIR" >&2
    exit 64
fi

bindir=
for candidate in /usr/lib/postgresql/*/bin; do
    if [ -x "$candidate/initdb" ]; then bindir=$candidate; fi
done
if [ -z "$bindir" ]; then
    echo "$0: PostgreSQL is not installed (apt-get install -y postgresql)" >&2
    exit 69
fi

if [ "$(id -u)" = 0 ]; then
    as_owner() { runuser -u postgres -- "$@"; }
else
    as_owner() { "$@"; }
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_start() {
    port=$(cat "$dir/port")
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null
}

case "$command" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$dir"
        chmod 700 "$dir"
        if ! runuser -u postgres -- test -x "$dir"; then
            echo "$0: the postgres user cannot enter $dir (a parent directory is not searchable); use a directory under /tmp" >&2
            exit 73
        fi
    fi
    as_owner "$bindir/initdb" -D "$dir/data" -U linktrack --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        exit 70
    }
    # Trust for the test user only, over TCP on loopback and the socket; other roles (a test may
    # make one with a password) authenticate with SCRAM.
    cat >"$dir/hba.conf" <<EOF
local all linktrack trust
host all linktrack 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
EOF
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir/hba.conf"; fi
    as_owner sh -c "cat '$dir/hba.conf' > '$dir/data/pg_hba.conf'"
    # A port that is free now; retry with another if the start loses a race for it.
    tries=0
    while :; do
        free_port >"$dir/port"
        if [ "$(id -u)" = 0 ]; then chown postgres "$dir/port"; fi
        if pg_start 2>>"$dir/start-errors.log"; then break; fi
        tries=$((tries + 1))
        if [ $tries -ge 5 ]; then
            cat "$dir/postgres.log" >&2 2>/dev/null || true
            exit 70
        fi
    done
    port=$(cat "$dir/port")
    as_owner "$bindir/psql" -h "$dir" -p "$port" -U linktrack -d postgres -q -c "CREATE DATABASE linktrack" >/dev/null
    echo "postgres://linktrack@127.0.0.1:$port/linktrack"
    ;;
stop)
    if [ -d "$dir/data" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
pause)
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
resume)
    pg_start
    ;;
*)
    echo "usage: $0 start|stop|pause|resume DIR" >&2
    exit 64
    ;;
esac
