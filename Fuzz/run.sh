#!/usr/bin/env bash
# Builds LinkTrack's libFuzzer targets and runs them; see Fuzz/README.md.
#
#   Fuzz/run.sh DURATION_SECONDS [mime|html|all]     fuzz each target for DURATION_SECONDS
#   Fuzz/run.sh --replay mime|html FILE...           run inputs once (prints any violation)
#   Fuzz/run.sh --minimize mime|html CRASH [SECONDS] shrink a crashing input to CRASH.min (default
#                                                    60 s; FUZZ_ONLY=TEXT keeps only violations
#                                                    whose report contains TEXT)
#
# Targets: mime = FuzzMessageFilter (dict/mime.dict, -max_len=65536),
#          html = FuzzHTMLRewriter (dict/html.dict, -max_len=65536).
# With "all" (the default) the targets run one after the other, or side by side when the machine
# has at least two cores (FUZZ_PARALLEL=0 or 1 forces it).
#
# Environment:
#   FUZZ_KEEP_GOING=1  fork mode (-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1): keep
#                      fuzzing after a crash, saving every crashing input, for long campaigns. Without
#                      it libFuzzer stops at the first crash (what CI wants).
#   FUZZ_BUILD=debug   build without optimization (default release).
#   FUZZ_SKIP_BUILD=1  use the binaries already built.
#   FUZZ_SEED=N, FUZZ_RUNS=N  libFuzzer's -seed and -runs: CI's smoke run is reproducible.
#
# Layout (all generated, all gitignored): Fuzz/.build (scratch path), Fuzz/seeds/{mime,html}
# (copies of the Corpus/ inputs and the HTML parts of the Corpus/ messages, rewritten on every
# run), Fuzz/out/<target>/corpus (what libFuzzer found; kept between runs),
# Fuzz/out/<target>/artifacts (crash-*, timeout-*, oom-*, leak-*), Fuzz/out/<target>/fuzz.log.
#
# Prints, per target, the executions and time from libFuzzer's final stats, and exits 1 when any
# target crashed, hung (-timeout=10), ran out of memory or broke an invariant.
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$FUZZ_DIR")"
cd "$ROOT"

usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 64; }

product_of() {
    case "$1" in
        mime | FuzzMessageFilter) echo FuzzMessageFilter ;;
        html | FuzzHTMLRewriter) echo FuzzHTMLRewriter ;;
        *) echo "run.sh: unknown target '$1' (mime, html or all)" >&2; exit 64 ;;
    esac
}
short_of() { [ "$(product_of "$1")" = FuzzMessageFilter ] && echo mime || echo html; }

# Swift's own crash backtracer must not race AddressSanitizer and libFuzzer for the signal.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:symbolize=1}"

BUILD_CONFIGURATION="${FUZZ_BUILD:-release}"
build() {
    if [ "${FUZZ_SKIP_BUILD:-0}" = 1 ]; then return; fi
    echo "run.sh: building the fuzz targets ($BUILD_CONFIGURATION, -sanitize=fuzzer,address)"
    # -parse-as-library: the targets define no main; each defines <Module>_main, which SwiftPM's
    # link step aliases to main, and which starts libFuzzer's driver (see Package.swift).
    # The build's own status counts (pipefail; the filter never fails): binaries left by an earlier
    # build must not be fuzzed in place of a build that failed.
    local status=0
    # SwiftPM may keep the root package's old file list in its build plan: re-plan every time.
    rm -f "Fuzz/.build/$BUILD_CONFIGURATION.yaml"
    swift build --package-path Fuzz --scratch-path Fuzz/.build -c "$BUILD_CONFIGURATION" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library 2>&1 \
        | { grep -v -e 'warning: Cannot export local symbol' -e '^\[[0-9]*/[0-9]*\]' || true; } \
        || status=$?
    [ "$status" = 0 ] && test -x "$(bin_dir)/FuzzMessageFilter" && test -x "$(bin_dir)/FuzzHTMLRewriter" \
        || { echo "run.sh: the build failed (swift build exit $status)" >&2; exit 1; }
}
bin_dir() { swift build --package-path Fuzz --scratch-path Fuzz/.build -c "$BUILD_CONFIGURATION" --show-bin-path; }

prepare_seeds() {
    rm -rf Fuzz/seeds
    mkdir -p Fuzz/seeds/mime Fuzz/seeds/html
    local case name
    for case in Corpus/*/; do
        name="$(basename "$case")"
        [ -f "$case/input.eml" ] && cp "$case/input.eml" "Fuzz/seeds/mime/$name.eml"
        [ -f "$case/input.html" ] && cp "$case/input.html" "Fuzz/seeds/html/$name.html"
    done
    # Former findings stay in the seeds, so a regression shows at once.
    for f in Fuzz/repro/mime-* Fuzz/repro/html-*; do
        [ -f "$f" ] || continue
        name="$(basename "$f")"
        cp "$f" "Fuzz/seeds/${name%%-*}/repro-$name"
    done
    # The HTML parts of the messages, decoded from their transfer encoding.
    if command -v python3 >/dev/null; then
        python3 - <<'PY'
import email, email.policy, glob, os
for path in sorted(glob.glob("Corpus/*/input.eml")):
    case = os.path.basename(os.path.dirname(path))
    with open(path, "rb") as f:
        message = email.message_from_binary_file(f, policy=email.policy.compat32)
    for n, part in enumerate(message.walk()):
        if part.get_content_type() != "text/html":
            continue
        body = part.get_payload(decode=True)
        if body:
            with open(f"Fuzz/seeds/html/{case}-part{n}.html", "wb") as out:
                out.write(body)
PY
    else
        echo "run.sh: no python3, so the HTML parts of Corpus/*/input.eml are not among the HTML seeds" >&2
    fi
    echo "run.sh: seeds: $(ls Fuzz/seeds/mime | wc -l) messages, $(ls Fuzz/seeds/html | wc -l) HTML documents"
}

# Runs one target for $1 seconds; writes its summary to Fuzz/out/<t>/summary.
fuzz_target() {
    local duration="$1" product="$2" t
    t="$(short_of "$product")"
    local out="Fuzz/out/$t"
    mkdir -p "$out/corpus" "$out/artifacts"
    local before
    before="$(ls "$out/artifacts" | wc -l)"
    local flags=(
        "-max_total_time=$duration" "-timeout=10" "-rss_limit_mb=4096" "-max_len=65536"
        "-dict=Fuzz/dict/$t.dict" "-artifact_prefix=$out/artifacts/" "-print_final_stats=1"
    )
    if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
        flags+=("-fork=1" "-ignore_crashes=1" "-ignore_timeouts=1" "-ignore_ooms=1")
    fi
    # CI's smoke run is reproducible: a fixed seed and a cap on the executions.
    if [ -n "${FUZZ_SEED:-}" ]; then flags+=("-seed=$FUZZ_SEED"); fi
    if [ -n "${FUZZ_RUNS:-}" ]; then flags+=("-runs=$FUZZ_RUNS"); fi
    local started status=0
    started="$(date +%s)"
    "$BIN/$product" "${flags[@]}" "$out/corpus" "Fuzz/seeds/$t" >"$out/fuzz.log" 2>&1 || status=$?
    local elapsed=$(($(date +%s) - started))
    local after execs rate
    after="$(ls "$out/artifacts" | wc -l)"
    execs="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$out/fuzz.log" | tail -1 | grep -o '[0-9]*$' || true)"
    if [ -z "$execs" ]; then
        # Fork mode: the parent's last status line "#N: cov: ... time: Ts ...".
        execs="$(grep -oE '^#[0-9]+: cov' "$out/fuzz.log" | tail -1 | grep -oE '[0-9]+' || true)"
    fi
    rate="$(grep -o 'stat::average_exec_per_sec: [0-9]*' "$out/fuzz.log" | tail -1 | grep -o '[0-9]*$' || true)"
    if [ -z "$rate" ] && [ -n "$execs" ] && [ "$elapsed" -gt 0 ]; then rate=$((execs / elapsed)); fi
    # libFuzzer's own time: "Done N runs in S second(s)", or in fork mode "INFO: exiting: C time: Ss".
    local fuzzed
    fuzzed="$(grep -oE 'Done [0-9]+ runs in [0-9]+ second|exiting: [0-9]+ time: [0-9]+s' "$out/fuzz.log" | tail -1 | grep -oE '[0-9]+ second|[0-9]+s$' | grep -oE '[0-9]+' || true)"
    {
        echo "$product: ${execs:-?} executions in ${fuzzed:-$elapsed} s of fuzzing (${elapsed} s wall, ${rate:-?} exec/s), libFuzzer exit $status, $((after - before)) new artifact(s) in $out/artifacts"
        grep -h -A12 '==LinkTrack fuzz violation==' "$out/fuzz.log" | grep -e '^==LinkTrack' -e '^  - ' | sort | uniq -c | sort -rn | head -20 || true
        grep -h -e '^SUMMARY: ' -e 'ERROR: libFuzzer: timeout' -e 'ERROR: libFuzzer: out-of-memory' "$out/fuzz.log" | sort | uniq -c | head -10 || true
    } >"$out/summary"
    if [ "$status" != 0 ] || [ "$after" != "$before" ]; then echo failed >>"$out/summary"; fi
}

case "${1:-}" in
    "" | -h | --help) usage ;;
    --replay)
        [ $# -ge 3 ] || usage
        product="$(product_of "$2")"; shift 2
        build; BIN="$(bin_dir)"
        exec "$BIN/$product" -runs=1 "$@"
        ;;
    --minimize)
        [ $# -ge 3 ] || usage
        product="$(product_of "$2")"; crash="$3"; seconds="${4:-60}"
        build; BIN="$(bin_dir)"
        log="Fuzz/out/minimize-$(short_of "$product").log"
        mkdir -p Fuzz/out
        # libFuzzer keeps any crash while shrinking; FUZZ_ONLY (a text of the violation report, e.g.
        # FUZZ_ONLY='differs at input offset') makes the target ignore every other violation.
        "$BIN/$product" -minimize_crash=1 -max_total_time="$seconds" -timeout=10 \
            -exact_artifact_path="$crash.min" "$crash" >"$log" 2>&1 || true
        echo "run.sh: $(wc -c <"$crash.min" 2>/dev/null || echo '?') bytes in $crash.min (log: $log)"
        FUZZ_ONLY= "$BIN/$product" -runs=1 "$crash.min" 2>&1 | sed -n '/==LinkTrack fuzz/,/^==[0-9]*==/p' | grep -v '^==[0-9]*==' || true
        exit 0
        ;;
esac

[[ "$1" =~ ^[0-9]+$ ]] || usage
DURATION="$1"
WHICH="${2:-all}"
case "$WHICH" in
    all) PRODUCTS=(FuzzMessageFilter FuzzHTMLRewriter) ;;
    *) PRODUCTS=("$(product_of "$WHICH")") ;;
esac

build
BIN="$(bin_dir)"
prepare_seeds

parallel="${FUZZ_PARALLEL:-}"
if [ -z "$parallel" ]; then
    parallel=0
    [ "${#PRODUCTS[@]}" -gt 1 ] && [ "$(nproc 2>/dev/null || echo 1)" -ge 2 ] && parallel=1
fi
echo "run.sh: fuzzing ${PRODUCTS[*]} for $DURATION s each$([ "$parallel" = 1 ] && echo ', side by side')"
pids=()
for product in "${PRODUCTS[@]}"; do
    rm -f "Fuzz/out/$(short_of "$product")/summary"
    if [ "$parallel" = 1 ]; then
        fuzz_target "$DURATION" "$product" &
        pids+=($!)
    else
        fuzz_target "$DURATION" "$product"
    fi
done
for pid in "${pids[@]}"; do wait "$pid" || true; done

failed=0
for product in "${PRODUCTS[@]}"; do
    summary="Fuzz/out/$(short_of "$product")/summary"
    if [ ! -f "$summary" ]; then echo "$product: no summary (the run did not finish)"; failed=1; continue; fi
    grep -v '^failed$' "$summary"
    grep -qx failed "$summary" && failed=1
done
if [ "$failed" = 1 ]; then
    echo "run.sh: FAILED: see Fuzz/out/*/fuzz.log; replay an artifact with: Fuzz/run.sh --replay mime|html FILE"
    exit 1
fi
echo "run.sh: no crash, hang or invariant violation"
