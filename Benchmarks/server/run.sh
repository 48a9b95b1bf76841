#!/usr/bin/env bash
# Server benchmarks of issue 17 (Benchmarks/README.md, "Server (issue 17)"), in one run:
#   (a) linktrack-bench-baseline, a minimal Hummingbird server answering every request with a fixed
#       302 (run before (b) and again after (c); the faster of the two is the reference),
#   (b) linktrack-server with the JSON Lines sink, (c) with the SQLite sink:
#       wrk, 2 threads, 64 connections, DURATION s each, on loopback, against ~1,000 distinct click
#       URLs written by `linktrack filter` (clicks.lua cycles through them with Host: links.example.com);
#       requests/s, p50/p99 latency, peak RSS (VmHWM) and CPU of the server; after each server run the
#       events in the store must equal the 302s the server sent, with no non-2xx/3xx and no socket
#       errors in wrk;
#   (d) p99 at half of (c)'s rate (SQLite, and the baseline at the same rate): the same wrk with a
#       random think time per connection (clicks.lua's delay()), calibrated by a short probe;
#   (e) VmRSS of linktrack-server holding 10,000 idle connections (idle.py; --idle-timeout 120);
#   (f) the filter: `linktrack filter` start-up on an empty message (an empty stdin; hyperfine -N,
#       alternating rounds),
#       binary size and what it links, HEAD against the commit before the server work (8927544),
#       both built as the README recommends (release, static Swift runtime, no local rpath).
# Results in Benchmarks/Results/server/ (git-ignored); summarize.py prints the tables.
#
#   bash Benchmarks/server/run.sh            # everything, about 6 minutes after the first builds
#   bash Benchmarks/server/run.sh server     # (a)-(e) only
#   bash Benchmarks/server/run.sh filter     # (f) only
#   LT_SERVER_BENCH_DURATION=5 bash Benchmarks/server/run.sh   # quick check of the scripts
#
# Environment: LT_SERVER_BENCH_DURATION (s per wrk run, default 30), LT_SERVER_BENCH_WARMUP (s of
# unmeasured wrk before each measured run, default 3), LT_SERVER_BENCH_IDLE (idle connections,
# default 10000), LT_SERVER_BENCH_BEFORE (commit, default 8927544), LT_SERVER_BENCH_BEFORE_DIR
# (its worktree, default $TMPDIR/lt-before, else /tmp/lt-before; made if missing, removed at the end unless it existed
# before or LT_SERVER_BENCH_KEEP_BEFORE=1), LT_SERVER_BENCH_ROOT_SCRATCH (HEAD's static build,
# default .build-bench-root at the repository root), LT_SERVER_BENCH_DIAGNOSE=1 (also (b) and (c)
# without a User-Agent header), LT_SERVER_BENCH_SKIP_BUILD=1 (use the binaries already built).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RESULTS="$ROOT/Benchmarks/Results/server"
STAGE="${1:-all}"
case "$STAGE" in all|server|filter) ;; *) echo "usage: run.sh [all|server|filter]" >&2; exit 64 ;; esac
DURATION="${LT_SERVER_BENCH_DURATION:-30}"
WARMUP="${LT_SERVER_BENCH_WARMUP:-3}"
THREADS=2
CONNECTIONS=64
IDLE="${LT_SERVER_BENCH_IDLE:-10000}"
BEFORE_COMMIT="${LT_SERVER_BENCH_BEFORE:-8927544}"
BEFORE_DIR="${LT_SERVER_BENCH_BEFORE_DIR:-${TMPDIR:-/tmp}/lt-before}"
ROOT_SCRATCH="${LT_SERVER_BENCH_ROOT_SCRATCH:-$ROOT/.build-bench-root}"
TOOL=(python3 "$HERE/tool.py")

need() { # command, Debian package
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "server-bench: installing $2 (for $1)" >&2
    if [ "$(id -u)" = 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
    "${apt_get[@]}" -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" -o DPkg::Lock::Timeout=600 install -y -qq "$2" >/dev/null
}
log() { echo "server-bench: $*" >&2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/lt-server-bench.XXXXXX")"
SERVER_PID=""
MADE_BEFORE=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    if [ -n "$MADE_BEFORE" ] && [ -z "${LT_SERVER_BENCH_KEEP_BEFORE:-}" ]; then
        git -C "$ROOT" worktree remove --force "$BEFORE_DIR" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

# A stage replaces its own results only (machine-STAGE.json records the machine and the load).
mkdir -p "$RESULTS"
case "$STAGE" in
    all) rm -rf "${RESULTS:?}"/* ;;
    server) find "$RESULTS" -mindepth 1 -maxdepth 1 ! -name 'filter*' ! -name machine-filter.json -exec rm -rf {} + ;;
    filter) rm -rf "$RESULTS"/filter* "$RESULTS"/machine-all.json ;;
esac
MACHINE="$RESULTS/machine-$STAGE.json"
"${TOOL[@]}" record "$MACHINE" \
    "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "cores=$(nproc)" \
    "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)" "kernel=$(uname -r)" \
    "debian=$(cat /etc/debian_version)" "swift=$(swift --version 2>&1 | head -1)" \
    "load_start=$(cut -d' ' -f1-3 /proc/loadavg)" "stage=$STAGE" "duration_s=$DURATION" \
    "threads=$THREADS" "connections=$CONNECTIONS" "head=$(git -C "$ROOT" rev-parse --short HEAD)" \
    "wrk=$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2 || true)" \
    "uncommitted=$(git -C "$ROOT" status --porcelain -- Sources Package.swift Server/Sources Server/Package.swift | wc -l)" \
    "nice=$(nice)"

# ---------------------------------------------------------------------------------------------
# (a)-(e): the server
# ---------------------------------------------------------------------------------------------
start_baseline() { # -> SERVER_PID, PORT
    PORT="$("${TOOL[@]}" free-port)"
    "$BIN/linktrack-bench-baseline" "127.0.0.1:$PORT" 2>"$WORK/baseline.log" &
    SERVER_PID=$!
    "${TOOL[@]}" wait-port "$PORT" 30
}

start_server() { # name config data-directory [flags...] -> SERVER_PID, PORT, ADMIN
    local name="$1" config="$2" data="$3"
    shift 3
    mkdir -p "$data"
    "$BIN/linktrack-server" serve --config "$config" --data-directory "$data" \
        --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --shutdown-grace 10 "$@" 2>"$WORK/$name.log" &
    SERVER_PID=$!
    local line
    line="$("${TOOL[@]}" wait-line "$WORK/$name.log" "linktrack-server listening public=" 60 "$SERVER_PID")"
    PORT="$(sed -E 's/.*public=[^ ]*:([0-9]+).*/\1/' <<<"$line")"
    ADMIN="$(sed -E 's/.*admin=[^ ]*:([0-9]+).*/\1/' <<<"$line")"
}

stop_server() {
    kill -TERM "$SERVER_PID"
    local status=0
    wait "$SERVER_PID" || status=$?
    SERVER_PID=""
    # 143 = killed by SIGTERM before its handler ran (the baseline has no graceful shutdown).
    [ "$status" = 0 ] || [ "$status" = 143 ] || { log "the server exited with status $status"; return 1; }
}

wrk_run() { # out-prefix seconds [VAR=value...] ; uses PORT
    local out="$1" seconds="$2"
    shift 2
    env "$@" /usr/bin/time -f '{"user": %U, "system": %S, "elapsed": %e}' -o "$out.wrk-time.json" \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${seconds}s" --timeout 10s --latency -s "$HERE/clicks.lua" \
        "http://127.0.0.1:$PORT" -- "$WORK/paths.txt" >"$out.wrk.txt"
    "${TOOL[@]}" wrk-json "$out.wrk.txt" >"$out.wrk.json"
}

measure() { # name [VAR=value...] ; the server at SERVER_PID/PORT: a warm-up, then the measured run
    local name="$1"
    shift
    log "$name: warm-up ${WARMUP}s, then wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s${*:+ ($*)}"
    wrk_run "$WORK/$name-warmup" "$WARMUP" "$@"
    "${TOOL[@]}" proc "$SERVER_PID" >"$RESULTS/$name.proc-before.json"
    wrk_run "$RESULTS/$name" "$DURATION" "$@"
    "${TOOL[@]}" proc "$SERVER_PID" >"$RESULTS/$name.proc-after.json"
    cp "$WORK/$name-warmup.wrk.json" "$RESULTS/$name.warmup.wrk.json"
}

check_events() { # name jsonl|sqlite|none store-path ; after measure: stops the server, counts the store
    local name="$1" kind="$2" store="$3"
    sleep 1   # deferred events (answered after the 100 ms bound) are written by now, or still queued
    "${TOOL[@]}" metrics "http://127.0.0.1:$ADMIN/metrics" "$RESULTS/$name.metrics.txt" >"$RESULTS/$name.metrics.json"
    stop_server
    local n=0
    case "$kind" in
        jsonl) n="$("${TOOL[@]}" count-lines "$store")" ;;
        sqlite) n="$("${TOOL[@]}" count-rows "$store")" ;;
        none) [ ! -e "$store" ] || n="$("${TOOL[@]}" count-lines "$store")" ;;
    esac
    echo "$n" >"$RESULTS/$name.stored"
    cp "$WORK/$name.log" "$RESULTS/$name.server.log"
}

server_case() { # name jsonl|sqlite|none [VAR=value...] ; a fresh server and store, measured and checked
    local name="$1" kind="$2"
    shift 2
    rm -f "$WORK/events.jsonl" "$WORK/events-none.jsonl"
    case "$kind" in
        jsonl) start_server "$name" "$WORK/config-jsonl.json" "$WORK/data-$name"
               measure "$name" "$@"; check_events "$name" jsonl "$WORK/events.jsonl" ;;
        sqlite) start_server "$name" "$WORK/config-sqlite.json" "$WORK/data-$name"
                measure "$name" "$@"; check_events "$name" sqlite "$WORK/data-$name/events.sqlite" ;;
        none) start_server "$name" "$WORK/config-none.json" "$WORK/data-$name"
              measure "$name" "$@"; check_events "$name" none "$WORK/events-none.jsonl" ;;
    esac
}

if [ "$STAGE" = all ] || [ "$STAGE" = server ]; then
    need wrk wrk
    [ -x /usr/bin/time ] || need /usr/bin/time time
    if [ -z "${LT_SERVER_BENCH_SKIP_BUILD:-}" ]; then
        log "swift build -c release (Server package: linktrack-server, linktrack-bench-baseline, linktrack)"
        swift build --package-path "$ROOT/Server" -c release >&2
        swift build --package-path "$ROOT/Server" -c release --product linktrack >&2
    fi
    BIN="$(swift build --package-path "$ROOT/Server" -c release --show-bin-path)"

    python3 "$HERE/prepare.py" "$BIN/linktrack" "$WORK" 100 10
    cp "$WORK/paths.txt" "$RESULTS/paths.txt"

    start_baseline; measure a-baseline; stop_server                     # (a)
    server_case b0-none none                                            # clicks recorded nowhere
    server_case b-jsonl jsonl                                           # (b)
    server_case c-sqlite sqlite                                         # (c)
    if [ -n "${LT_SERVER_BENCH_DIAGNOSE:-}" ]; then
        # Without a User-Agent header the server skips its link-scanner rule (MachineRules.clickReasons).
        server_case b-jsonl-no-ua jsonl LT_BENCH_USER_AGENT=
        server_case c-sqlite-no-ua sqlite LT_BENCH_USER_AGENT=
    fi
    start_baseline; measure a2-baseline; stop_server                    # (a'), after the servers

    # (d) half of (c)'s rate: SQLite with a fresh store, and the baseline at the same rate (what the
    # machine and wrk alone give at that rate). A 5 s probe calibrates each one's think time.
    C_RATE="$(python3 -c 'import json,sys; w=json.load(open(sys.argv[1])); print(w["requests"]/(w["duration_us"]/1e6))' "$RESULTS/c-sqlite.wrk.json")"
    TARGET="$(python3 -c "print(round($C_RATE / 2, 1))")"
    rate_run() { # name ; the server at SERVER_PID/PORT at TARGET requests/s
        local name="$1" think think2
        think="$(python3 -c "print(round($CONNECTIONS / $TARGET * 1000, 3))")"
        log "$name: target $TARGET requests/s (half of (c)); probe 5 s with a mean think time of $think ms"
        wrk_run "$WORK/$name-probe" 5 LT_BENCH_RATE="$TARGET" LT_BENCH_CONNECTIONS="$CONNECTIONS" LT_BENCH_THINK_MS="$think"
        # A connection's cycle is its think time plus the request's own time: take the probe's extra off.
        think2="$(python3 - "$WORK/$name-probe.wrk.json" "$think" "$TARGET" "$CONNECTIONS" <<'EOF'
import json, sys
w = json.load(open(sys.argv[1])); think, target, conns = map(float, sys.argv[2:5])
rate = w["requests"] / (w["duration_us"] / 1e6)
extra = conns / rate * 1000 - think
print(round(max(0.5, conns / target * 1000 - extra), 3))
EOF
)"
        log "$name: the probe gave $(python3 -c 'import json,sys; w=json.load(open(sys.argv[1])); print(round(w["requests"]/(w["duration_us"]/1e6)))' "$WORK/$name-probe.wrk.json") requests/s; think time $think2 ms; measured run ${DURATION}s"
        "${TOOL[@]}" proc "$SERVER_PID" >"$RESULTS/$name.proc-before.json"
        wrk_run "$RESULTS/$name" "$DURATION" LT_BENCH_RATE="$TARGET" LT_BENCH_CONNECTIONS="$CONNECTIONS" LT_BENCH_THINK_MS="$think2"
        "${TOOL[@]}" proc "$SERVER_PID" >"$RESULTS/$name.proc-after.json"
        "${TOOL[@]}" record "$RESULTS/$name.target.json" "c_rate=$C_RATE" "target=$TARGET" "think_probe_ms=$think" "think_ms=$think2"
        cp "$WORK/$name-probe.wrk.json" "$RESULTS/$name.warmup.wrk.json"   # the probe is the warm-up
    }
    start_baseline; rate_run d0-baseline-half; stop_server
    start_server d-half "$WORK/config-sqlite.json" "$WORK/data-d"
    rate_run d-half
    check_events d-half sqlite "$WORK/data-d/events.sqlite"

    # (e) idle connections
    log "e-idle: $IDLE idle connections held 5 s (--idle-timeout 120)"
    start_server e-idle "$WORK/config-sqlite.json" "$WORK/data-e" --idle-timeout 120
    python3 "$HERE/idle.py" "$SERVER_PID" "$PORT" "$WORK/paths.txt" "$IDLE" 5 "$RESULTS/e-idle.json"
    stop_server
    cp "$WORK/e-idle.log" "$RESULTS/e-idle.server.log"
fi

# ---------------------------------------------------------------------------------------------
# (f): the filter before and after the server work
# ---------------------------------------------------------------------------------------------
if [ "$STAGE" = all ] || [ "$STAGE" = filter ]; then
    need hyperfine hyperfine
    DEPLOY=(-c release --static-swift-stdlib --disable-local-rpath)
    if [ ! -d "$BEFORE_DIR" ]; then
        log "git worktree add --detach $BEFORE_DIR $BEFORE_COMMIT"
        git -C "$ROOT" worktree add --detach "$BEFORE_DIR" "$BEFORE_COMMIT" >&2
        MADE_BEFORE=1
    fi
    [ "$(git -C "$BEFORE_DIR" rev-parse HEAD)" = "$(git -C "$ROOT" rev-parse "$BEFORE_COMMIT")" ] \
        || { log "$BEFORE_DIR is not at $BEFORE_COMMIT"; exit 1; }
    if [ -z "${LT_SERVER_BENCH_SKIP_BUILD:-}" ]; then
        log "swift build ${DEPLOY[*]} --product linktrack: before ($BEFORE_COMMIT) and HEAD"
        swift build --package-path "$BEFORE_DIR" --scratch-path "$BEFORE_DIR/.build-bench" "${DEPLOY[@]}" --product linktrack >&2
        swift build --package-path "$ROOT" --scratch-path "$ROOT_SCRATCH" "${DEPLOY[@]}" --product linktrack >&2
    fi
    OLD="$(swift build --package-path "$BEFORE_DIR" --scratch-path "$BEFORE_DIR/.build-bench" "${DEPLOY[@]}" --show-bin-path)/linktrack"
    NEW="$(swift build --package-path "$ROOT" --scratch-path "$ROOT_SCRATCH" "${DEPLOY[@]}" --show-bin-path)/linktrack"
    cp "$OLD" "$WORK/linktrack-before"
    cp "$NEW" "$WORK/linktrack-head"

    # The configuration in the form both filters read (the old one predates LinkTrackDestination).
    python3 "$HERE/prepare.py" "$WORK/linktrack-head" "$WORK/filter" 1 1 2>/dev/null
    python3 - "$WORK/filter/config-sqlite.json" "$WORK/filter/config-plain.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
for s in c["ConfigurationSets"]:
    for d in s["EventDestinations"]:
        d.pop("LinkTrackDestination", None)
json.dump(c, open(sys.argv[2], "w"), indent=1)
EOF
    CONFIG="$WORK/filter/config-plain.json"
    # The empty message: an empty stdin (both filters pass it through, exit 0, no output). hyperfine
    # runs the binaries without a shell (-N), so nothing is subtracted from a 3 ms start.
    for b in before head; do
        "$WORK/linktrack-$b" filter --config "$CONFIG" </dev/null >"$WORK/empty.$b.out" \
            || { log "linktrack filter ($b) failed on the empty message"; exit 1; }
    done
    cmp -s "$WORK/empty.before.out" "$WORK/empty.head.out" || { log "the two filters' outputs differ on the empty message"; exit 1; }

    ROUNDS="${LT_SERVER_BENCH_ROUNDS:-30}"
    ROUND_RUNS="${LT_SERVER_BENCH_ROUND_RUNS:-30}"
    mkdir -p "$RESULTS/filter-rounds"
    before=(--command-name "before" "$WORK/linktrack-before filter --config $CONFIG")
    head=(--command-name "head" "$WORK/linktrack-head filter --config $CONFIG")
    log "filter start-up: $ROUNDS alternating hyperfine rounds of $ROUND_RUNS runs each"
    for round in $(seq 1 "$ROUNDS"); do
        if [ $((round % 2)) = 1 ]; then order=("${before[@]}" "${head[@]}"); else order=("${head[@]}" "${before[@]}"); fi
        hyperfine -N --style none --warmup 10 --runs "$ROUND_RUNS" \
            --export-json "$RESULTS/filter-rounds/round-$round.json" "${order[@]}" </dev/null >/dev/null
    done

    # Readings less exposed to the load: instructions of one start (callgrind, on copies without debug
    # info, which valgrind 3.19 cannot read), and CPU time and page faults per start (perf stat).
    for b in before head; do
        ir=""; tc=""; pf=""
        if command -v valgrind >/dev/null 2>&1; then
            cp "$WORK/linktrack-$b" "$WORK/stripped-$b"
            strip --strip-debug "$WORK/stripped-$b"
            ir="$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$WORK/stripped-$b" filter --config "$CONFIG" </dev/null 2>&1 \
                | sed -n 's/.*Collected : *\([0-9]*\).*/\1/p')"
        fi
        echo "${ir:-null}" >"$WORK/ir-$b"
    done
    # perf stat in 8 alternating rounds of 40 starts; the median of the rounds' means.
    for round in 1 2 3 4 5 6 7 8; do
        command -v perf >/dev/null 2>&1 || break
        if [ $((round % 2)) = 1 ]; then order=(before head); else order=(head before); fi
        for b in "${order[@]}"; do
            perf stat -x, -e task-clock,page-faults -r 40 "$WORK/linktrack-$b" filter --config "$CONFIG" </dev/null \
                2>>"$WORK/perf-$b.txt" >/dev/null || true
        done
    done
    for b in before head; do
        read -r tc pf < <(python3 - "$WORK/perf-$b.txt" <<'EOF'
import statistics, sys
rows = [l.split(",") for l in open(sys.argv[1]) if l.count(",") > 3] if __import__("os").path.exists(sys.argv[1]) else []
tc = [float(r[0]) for r in rows if r[2] == "task-clock"]
pf = [float(r[0]) for r in rows if r[2] == "page-faults"]
print(round(statistics.median(tc), 3) if tc else "null", round(statistics.median(pf)) if pf else "null")
EOF
)
        "${TOOL[@]}" record "$WORK/counts-$b.json" "instructions=$(cat "$WORK/ir-$b")" "task_clock_ms=$tc" "page_faults=$pf"
    done

    links() { # binary -> JSON
        local bin="$1"
        python3 - "$bin" "$(ldd "$bin" 2>&1 | awk '{print $1}' | tr '\n' ' ')" \
            "$(nm "$bin" 2>/dev/null | grep -c -E 'NIO|Hummingbird|Foundation' || true)" \
            "$(nm "$bin" 2>/dev/null | wc -l)" "$(size -A "$bin" | awk '$1 == ".text" {print $2}')" <<'EOF'
import json, os, sys
b, libs, bad, symbols, text = sys.argv[1:6]
print(json.dumps({"bytes": os.path.getsize(b), "text_bytes": int(text), "ldd": libs.split(),
                  "nm_symbols": int(symbols), "nm_nio_hummingbird_foundation": int(bad)}))
EOF
    }
    links "$WORK/linktrack-before" >"$WORK/before.json"
    links "$WORK/linktrack-head" >"$WORK/head.json"
    "${TOOL[@]}" record "$RESULTS/filter.json" "before_commit=$(git -C "$ROOT" rev-parse --short "$BEFORE_COMMIT")" \
        "head_commit=$(git -C "$ROOT" rev-parse --short HEAD)" "before=@$WORK/before.json" "head=@$WORK/head.json" \
        "rounds=$ROUNDS" "round_runs=$ROUND_RUNS" "counts_before=@$WORK/counts-before.json" "counts_head=@$WORK/counts-head.json"
fi

python3 - "$MACHINE" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["load_end"] = open("/proc/loadavg").read().split()[:3]
m["load_end"] = " ".join(m["load_end"])
json.dump(m, open(sys.argv[1], "w"), indent=1)
EOF
python3 "$HERE/summarize.py" "$RESULTS"
