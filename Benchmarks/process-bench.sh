#!/usr/bin/env bash
# Process-level benchmarks for the MTA pipe case (issue 6), on the RELEASE binary:
#  - hyperfine: `linktrack filter --input html` per message vs `xmllint --html --noout` on the same
#    HTML vs `cat`, for the 30 KB mail and the 1 MB newsletter;
#  - the same two comparisons again in short alternating rounds (Results/rounds/), robust to drift;
#  - peak RSS (/usr/bin/time -v) of `linktrack filter` on the 50 MB message vs a tiny message.
# Writes Benchmarks/Results/process-*.json, rounds/ and rss.json. Run from anywhere.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
INPUTS="$HERE/Inputs"
RESULTS="$HERE/Results"
mkdir -p "$RESULTS"

need() { # command, Debian package
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "process-bench: installing $2 (for $1)" >&2
    if [ "$(id -u)" = 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
    "${apt_get[@]}" -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" -o DPkg::Lock::Timeout=600 install -y -qq "$2" >/dev/null
}
need hyperfine hyperfine
need xmllint libxml2-utils
[ -x /usr/bin/time ] || need /usr/bin/time time

[ -f "$INPUTS/manifest.json" ] || python3 "$HERE/generate.py"

# The binary as it is deployed in an MTA pipe (README, "Using it in an MTA"): release, with the Swift
# runtime linked statically, which takes the dynamic loading of the Swift libraries out of every
# message's start-up, and without the $ORIGIN run path, which would make the loader look for libxml2
# and libc in the build directory first (some 25 failed lookups per start).
DEPLOY=(-c release --static-swift-stdlib --disable-local-rpath)
echo "process-bench: swift build ${DEPLOY[*]} (root package)" >&2
swift build --package-path "$ROOT" --scratch-path "$ROOT/.build-static" "${DEPLOY[@]}" --product linktrack >&2
BIN="$(swift build --package-path "$ROOT" --scratch-path "$ROOT/.build-static" "${DEPLOY[@]}" --show-bin-path)/linktrack"
CONFIG="$INPUTS/config.json"
RUNS="${PROCESS_BENCH_RUNS:-60}"

for input in transactional-30k newsletter-1m; do
    html="$INPUTS/$input.html"
    # Sanity: the filter runs and changes the document.
    "$BIN" filter --config "$CONFIG" --input html --message-id bench@example.com < "$html" > "$RESULTS/$input.out.html"
    cmp -s "$html" "$RESULTS/$input.out.html" && { echo "process-bench: $input came out unchanged" >&2; exit 1; }
    rm -f "$RESULTS/$input.out.html"
    hyperfine --style basic --warmup 5 --min-runs "$RUNS" \
        --export-json "$RESULTS/process-$input.json" \
        --command-name "linktrack filter --input html ($input)" \
        "'$BIN' filter --config '$CONFIG' --input html < '$html' > /dev/null" \
        --command-name "xmllint --html --noout ($input)" \
        "xmllint --html --noout '$html' 2>/dev/null || true" \
        --command-name "cat ($input)" \
        "cat < '$html' > /dev/null"
done

# The same comparison in alternating rounds: hyperfine runs one command's block after the other's,
# so a change in the machine's load between the two blocks (common on a shared, noisy machine) moves
# the ratio. Here each round is a short hyperfine run of both commands, the order swapped every
# round; summarize.py reports the median of the per-round ratios next to the ratio above.
ROUNDS="${PROCESS_BENCH_ROUNDS:-8}"
ROUND_RUNS="${PROCESS_BENCH_ROUND_RUNS:-20}"
mkdir -p "$RESULTS/rounds"
for input in transactional-30k newsletter-1m; do
    html="$INPUTS/$input.html"
    lt=(--command-name "linktrack filter --input html ($input)"
        "'$BIN' filter --config '$CONFIG' --input html < '$html' > /dev/null")
    xl=(--command-name "xmllint --html --noout ($input)" "xmllint --html --noout '$html' 2>/dev/null || true")
    for round in $(seq 1 "$ROUNDS"); do
        if [ $((round % 2)) = 1 ]; then order=("${lt[@]}" "${xl[@]}"); else order=("${xl[@]}" "${lt[@]}"); fi
        hyperfine --style none --warmup 3 --runs "$ROUND_RUNS" \
            --export-json "$RESULTS/rounds/process-$input-$round.json" "${order[@]}" >/dev/null
    done
    echo "process-bench: $input, $ROUNDS alternating rounds of $ROUND_RUNS runs" >&2
done

# Peak RSS, median of 3 runs each.
rss() { # message -> kB
    local out
    out="$( { /usr/bin/time -v "$BIN" filter --config "$CONFIG" < "$1" > /dev/null; } 2>&1 )"
    echo "$out" | awk -F': ' '/Maximum resident set size/ {print $2}'
}
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
big=( $(rss "$INPUTS/big-50m.eml") $(rss "$INPUTS/big-50m.eml") $(rss "$INPUTS/big-50m.eml") )
tiny=( $(rss "$INPUTS/tiny.eml") $(rss "$INPUTS/tiny.eml") $(rss "$INPUTS/tiny.eml") )
big_m="$(median3 "${big[@]}")"; tiny_m="$(median3 "${tiny[@]}")"
cat > "$RESULTS/rss.json" <<JSON
{"bigMessageBytes": $(stat -c %s "$INPUTS/big-50m.eml"), "tinyMessageBytes": $(stat -c %s "$INPUTS/tiny.eml"),
 "bigKB": [${big[0]}, ${big[1]}, ${big[2]}], "tinyKB": [${tiny[0]}, ${tiny[1]}, ${tiny[2]}],
 "bigMedianKB": $big_m, "tinyMedianKB": $tiny_m, "deltaKB": $((big_m - tiny_m))}
JSON
echo "process-bench: peak RSS big-50m ${big_m} kB, tiny ${tiny_m} kB, delta $((big_m - tiny_m)) kB" >&2
