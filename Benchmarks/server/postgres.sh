#!/usr/bin/env bash
# Server benchmarks of issue 19 (Benchmarks/README.md, "Server with PostgreSQL (issue 19)"), one run,
# with run.sh's wrk settings and wrk script (clicks.lua: 2 threads, 64 connections, DURATION s after a
# WARMUP s warm-up, ~1,000 distinct click URLs from `linktrack filter`, Host: links.example.com):
#   (a)  linktrack-bench-baseline, the minimal Hummingbird 302 (run first and last; the faster is the
#        reference);
#   (s)  for reference, linktrack-server with the SQLite sink (run.sh's (c)) in the same run;
#   (p)  linktrack-server with the PostgreSQL sink: requests/s, p50/p99, the server's CPU and peak
#        RSS, PostgreSQL rows written per second (rows after - rows before, over the measured run);
#        the rows must equal the 302s sent (wrk's warm-up included);
#   (n1) one linktrack-server behind nginx, (n2) two behind nginx, both writing to the same
#        PostgreSQL: requests/s and p99 through the balancer (nginx: 2 workers, keep-alive upstream);
#   (o)  PostgreSQL stopped for the whole measured run (the spool path): requests/s, p50/p99; then
#        PostgreSQL is started again and the spool drained: the drain time and rate (rows/s in
#        5,000-row batches, the sink's own throughput), and again rows = 302s and an empty spool.
# PostgreSQL 15 is a throwaway cluster (Server/Tests/integration/pg-cluster.sh) on the same machine,
# so it competes with wrk and the servers for the same cores, as on a one-box deployment.
# Results in Benchmarks/Results/server-pg/ (git-ignored); the table is printed at the end.
#
#   bash Benchmarks/server/postgres.sh
#   LT_SERVER_BENCH_DURATION=5 bash Benchmarks/server/postgres.sh     # quick check of the script
#
# Environment: LT_SERVER_BENCH_DURATION (s per wrk run, default 30), LT_SERVER_BENCH_WARMUP (default 3),
# LT_PG_BENCH_SCRATCH (the release build's scratch path in Server/, default .build-pg-release, so as
# not to share run.sh's .build), LT_SERVER_BENCH_SKIP_BUILD=1 (use the binaries already built).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RESULTS="$ROOT/Benchmarks/Results/server-pg"
DURATION="${LT_SERVER_BENCH_DURATION:-30}"
WARMUP="${LT_SERVER_BENCH_WARMUP:-3}"
THREADS=2
CONNECTIONS=64
SCRATCH="${LT_PG_BENCH_SCRATCH:-.build-pg-release}"
TOOL=(python3 "$HERE/tool.py")
PG_CLUSTER="$ROOT/Server/Tests/integration/pg-cluster.sh"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
log() { echo "pg-bench: $*" >&2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/lt-pg-bench.XXXXXX")"
PIDS=()
NGINX_PID=""
# Its own directory under /tmp: the cluster runs as the postgres user, who cannot enter $WORK (0700).
PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/lt-pg-bench-cluster.XXXXXX")"
cleanup() {
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    done
    if [ -n "$NGINX_PID" ] && kill -0 "$NGINX_PID" 2>/dev/null; then kill -QUIT "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; fi
    bash "$PG_CLUSTER" stop "$PG_DIR" || true
    rm -rf "$WORK"
}
trap cleanup EXIT

command -v wrk >/dev/null || { log "wrk is missing (apt-get install wrk)"; exit 69; }
[ -x "$NGINX" ] || { log "nginx is missing (apt-get install nginx-light)"; exit 69; }
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { log "PostgreSQL is missing (apt-get install postgresql)"; exit 69; }

mkdir -p "$RESULTS"
rm -rf "${RESULTS:?}"/*
"${TOOL[@]}" record "$RESULTS/machine.json" \
    "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "cores=$(nproc)" \
    "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)" "kernel=$(uname -r)" \
    "swift=$(swift --version 2>&1 | head -1)" "load_start=$(cut -d' ' -f1-3 /proc/loadavg)" \
    "duration_s=$DURATION" "threads=$THREADS" "connections=$CONNECTIONS" "head=$(git -C "$ROOT" rev-parse --short HEAD)" \
    "postgres=$(ls -d /usr/lib/postgresql/*/ | xargs -n1 basename | tail -1)" "nginx=$("$NGINX" -v 2>&1 | cut -d/ -f2)"

if [ -z "${LT_SERVER_BENCH_SKIP_BUILD:-}" ]; then
    log "swift build -c release --scratch-path $SCRATCH (Server: linktrack-server, linktrack-bench-baseline, linktrack)"
    (cd "$ROOT/Server" && swift build -c release --scratch-path "$SCRATCH" >&2 && \
        swift build -c release --scratch-path "$SCRATCH" --product linktrack >&2)
fi
BIN="$(cd "$ROOT/Server" && swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"

python3 "$HERE/prepare.py" "$BIN/linktrack" "$WORK" 100 10
PG_URL="$(bash "$PG_CLUSTER" start "$PG_DIR")"
log "PostgreSQL at $PG_URL"
psql_() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
python3 - "$WORK/config-sqlite.json" "$WORK/config-pg-template.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["ConfigurationSets"][0]["EventDestinations"][0]["LinkTrackDestination"] = {"Type": "PostgreSQL", "ConnectionString": "@URL@"}
c["TrustedProxies"] = ["127.0.0.1"]
json.dump(c, open(sys.argv[2], "w"), indent=1)
EOF

new_database() { # name -> DB_URL, CONFIG (a fresh database and a configuration writing to it)
    psql_ "$PG_URL" "CREATE DATABASE $1" >/dev/null
    DB_URL="${PG_URL%/*}/$1"
    CONFIG="$WORK/config-$1.json"
    sed "s|@URL@|$DB_URL|" "$WORK/config-pg-template.json" >"$CONFIG"
}
rows() { psql_ "$DB_URL" "SELECT count(*) FROM linktrack_events"; }

start_server() { # name config [flags...] -> PID, PORT, ADMIN
    local name="$1" config="$2"
    shift 2
    mkdir -p "$WORK/data-$name"
    "$BIN/linktrack-server" serve --config "$config" --data-directory "$WORK/data-$name" \
        --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --shutdown-grace 10 "$@" 2>"$WORK/$name.log" &
    PID=$!
    PIDS+=("$PID")
    local line
    line="$("${TOOL[@]}" wait-line "$WORK/$name.log" "linktrack-server listening public=" 60 "$PID")"
    PORT="$(sed -E 's/.*public=[^ ]*:([0-9]+).*/\1/' <<<"$line")"
    ADMIN="$(sed -E 's/.*admin=[^ ]*:([0-9]+).*/\1/' <<<"$line")"
}

stop_pid() {
    kill -TERM "$1"
    local status=0
    wait "$1" || status=$?
    [ "$status" = 0 ] || [ "$status" = 143 ] || { log "process $1 exited with status $status"; return 1; }
}

wrk_run() { # out-prefix seconds port
    /usr/bin/time -f '{"user": %U, "system": %S, "elapsed": %e}' -o "$1.wrk-time.json" \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${2}s" --timeout 10s --latency -s "$HERE/clicks.lua" \
        "http://127.0.0.1:$3" -- "$WORK/paths.txt" >"$1.wrk.txt"
    "${TOOL[@]}" wrk-json "$1.wrk.txt" >"$1.wrk.json"
}

measure() { # name port [pid...]: warm-up, then the measured run; records the pids' /proc before and after
    local name="$1" port="$2"
    shift 2
    log "$name: warm-up ${WARMUP}s, then wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s"
    wrk_run "$WORK/$name-warmup" "$WARMUP" "$port"
    local i=0
    for pid in "$@"; do "${TOOL[@]}" proc "$pid" >"$RESULTS/$name.proc$i-before.json"; i=$((i + 1)); done
    [ -n "${DB_URL:-}" ] && rows >"$RESULTS/$name.rows-before" || true
    wrk_run "$RESULTS/$name" "$DURATION" "$port"
    i=0
    for pid in "$@"; do "${TOOL[@]}" proc "$pid" >"$RESULTS/$name.proc$i-after.json"; i=$((i + 1)); done
    [ -n "${DB_URL:-}" ] && rows >"$RESULTS/$name.rows-after" || true
    cp "$WORK/$name-warmup.wrk.json" "$RESULTS/$name.warmup.wrk.json"
}

wait_rows() { # expected seconds -> the count once it reaches expected (or at the deadline)
    local expected="$1" deadline=$((SECONDS + $2)) n
    while :; do
        n="$(rows)"
        if [ "$n" -ge "$expected" ] || [ "$SECONDS" -ge "$deadline" ]; then echo "$n"; return; fi
        sleep 0.2
    done
}

redirects() { # admin-port... : the servers' own count of redirects (warm-up included; wrk misses the
    # requests in flight when its time is up, which the servers answered and recorded)
    local total=0 n
    for admin in "$@"; do
        n="$("${TOOL[@]}" metrics "http://127.0.0.1:$admin/metrics" | python3 -c 'import json,sys; print(int(json.load(sys.stdin).get("requests_redirect", 0)))')"
        total=$((total + n))
    done
    echo "$total"
}

start_nginx() { # upstream ports... -> NGINX_PID, LB_PORT
    local dir="$WORK/nginx" servers=""
    rm -rf "$dir"; mkdir -p "$dir"
    LB_PORT="$("${TOOL[@]}" free-port)"
    for p in "$@"; do servers+="        server 127.0.0.1:$p max_fails=0;"$'\n'; done
    cat >"$dir/nginx.conf" <<EOF
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
worker_processes 2;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    upstream linktrack_redirects {
$servers        keepalive 128;
    }
    server {
        listen 127.0.0.1:$LB_PORT backlog=4096;
        location / {
            proxy_pass http://linktrack_redirects;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_redirect off;
            proxy_buffering off;
            proxy_next_upstream off;
        }
    }
}
EOF
    "$NGINX" -p "$dir" -c "$dir/nginx.conf" &
    NGINX_PID=$!
    "${TOOL[@]}" wait-port "$LB_PORT" 10
}

stop_nginx() { kill -QUIT "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=""; }

check() { # name expected-rows: waits for the rows, records them with the spool's state, fails on a mismatch
    local name="$1" expected="$2" got
    got="$(wait_rows "$expected" 60)"
    "${TOOL[@]}" record "$RESULTS/$name.stored.json" "redirects=$expected" "rows=$got"
    [ "$got" = "$expected" ] || { log "$name: $got rows in PostgreSQL for $expected redirects"; exit 1; }
}

# (a) the baseline
PORT="$("${TOOL[@]}" free-port)"
"$BIN/linktrack-bench-baseline" "127.0.0.1:$PORT" 2>"$WORK/baseline.log" &
PID=$!; PIDS+=("$PID"); "${TOOL[@]}" wait-port "$PORT" 30
DB_URL="" measure a-baseline "$PORT" "$PID"; stop_pid "$PID"

# (s) for reference: the same server with the embedded SQLite sink (issue 17's (c)), in this run
start_server s-sqlite "$WORK/config-sqlite.json"
DB_URL="" measure s-sqlite "$PORT" "$PID"
stop_pid "$PID"

# (p) one server, PostgreSQL
new_database p_single
start_server p-postgres "$CONFIG"
measure p-postgres "$PORT" "$PID"
"${TOOL[@]}" metrics "http://127.0.0.1:$ADMIN/metrics" "$RESULTS/p-postgres.metrics.txt" >"$RESULTS/p-postgres.metrics.json"
EXPECTED="$(redirects "$ADMIN")"
stop_pid "$PID"
check p-postgres "$EXPECTED"

# (n1) one server behind nginx, (n2) two servers behind nginx
new_database n_one
start_server n1-server "$CONFIG"; S1=$PID; A1=$ADMIN
start_nginx "$PORT"
measure n1-one-behind-nginx "$LB_PORT" "$S1" "$NGINX_PID"
EXPECTED="$(redirects "$A1")"
stop_nginx; stop_pid "$S1"
check n1-one-behind-nginx "$EXPECTED"

new_database n_two
start_server n2-server-a "$CONFIG"; S1=$PID; P1=$PORT; A1=$ADMIN
start_server n2-server-b "$CONFIG"; S2=$PID; P2=$PORT; A2=$ADMIN
start_nginx "$P1" "$P2"
measure n2-two-behind-nginx "$LB_PORT" "$S1" "$S2" "$NGINX_PID"
EXPECTED="$(redirects "$A1" "$A2")"
"${TOOL[@]}" record "$RESULTS/n2-two-behind-nginx.split.json" "server_a=$(redirects "$A1")" "server_b=$(redirects "$A2")"
stop_nginx; stop_pid "$S1"; stop_pid "$S2"
check n2-two-behind-nginx "$EXPECTED"

# (o) PostgreSQL down for the whole measured run: the spool path; then the drain
new_database o_outage
start_server o-outage "$CONFIG"
wrk_run "$WORK/o-outage-warmup" "$WARMUP" "$PORT"
cp "$WORK/o-outage-warmup.wrk.json" "$RESULTS/o-outage.warmup.wrk.json"
WARM_ROWS="$(wait_rows "$(redirects "$ADMIN")" 30)"
log "o-outage: PostgreSQL stopped; wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s (every event to the spool)"
bash "$PG_CLUSTER" pause "$PG_DIR"
"${TOOL[@]}" proc "$PID" >"$RESULTS/o-outage.proc0-before.json"
wrk_run "$RESULTS/o-outage" "$DURATION" "$PORT"
"${TOOL[@]}" proc "$PID" >"$RESULTS/o-outage.proc0-after.json"
"${TOOL[@]}" metrics "http://127.0.0.1:$ADMIN/metrics" "$RESULTS/o-outage.metrics.txt" >"$RESULTS/o-outage.metrics.json"
curl -s "http://127.0.0.1:$ADMIN/ready" >"$RESULTS/o-outage.ready.txt" || true
SPOOL_BYTES="$(sed -n 's/^linktrack_spool_bytes{.*} \([0-9.e+]*\)$/\1/p' "$RESULTS/o-outage.metrics.txt" | head -1)"
EXPECTED="$(redirects "$ADMIN")"
log "o-outage: PostgreSQL started again; $((EXPECTED - WARM_ROWS)) spooled events ($SPOOL_BYTES bytes) to drain"
bash "$PG_CLUSTER" resume "$PG_DIR"
DRAIN_START="$(date +%s.%N)"
GOT="$(wait_rows "$EXPECTED" 600)"
DRAIN_END="$(date +%s.%N)"
"${TOOL[@]}" metrics "http://127.0.0.1:$ADMIN/metrics" "$RESULTS/o-outage.after-drain.metrics.txt" >/dev/null
"${TOOL[@]}" record "$RESULTS/o-outage.drain.json" "spooled_events=$((EXPECTED - WARM_ROWS))" "spool_bytes=${SPOOL_BYTES:-0}" \
    "drain_seconds=$(python3 -c "print(round($DRAIN_END - $DRAIN_START, 2))")" "rows=$GOT" "redirects=$EXPECTED"
stop_pid "$PID"
[ "$GOT" = "$EXPECTED" ] || { log "o-outage: $GOT rows for $EXPECTED redirects"; exit 1; }
grep -q '^linktrack_spool_bytes{.*} 0' "$RESULTS/o-outage.after-drain.metrics.txt" || { log "o-outage: the spool is not empty"; exit 1; }
cp "$WORK"/*.log "$RESULTS/" 2>/dev/null || true

python3 - "$RESULTS/machine.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["load_end"] = " ".join(open("/proc/loadavg").read().split()[:3])
json.dump(m, open(sys.argv[1], "w"), indent=1)
EOF
python3 "$HERE/summarize_postgres.py" "$RESULTS"
