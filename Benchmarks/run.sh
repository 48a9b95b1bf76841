#!/usr/bin/env bash
# Runs every LinkTrack benchmark (issue 6) in release mode and prints the table of README.md.
#   bash Benchmarks/run.sh            # everything (about 10 minutes on 2 cores, after the first build)
#   bash Benchmarks/run.sh --quick    # shorter ratio and hyperfine runs, for checking the scripts
# Steps: generate inputs -> ordo-one Benchmark suite (harness: MB/s, mallocs, baseline in the same run)
# -> linktrack-ratio (interleaved medians, two callers vs one) -> process-bench.sh (hyperfine, RSS)
# -> summarize.py (Results/summary.md). Results/ and Inputs/ are git-ignored.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRATCH="${LINKTRACK_BENCH_SCRATCH:-$HERE/.build}"
RESULTS="$HERE/Results"
QUICK=""
[ "${1:-}" = "--quick" ] && QUICK="--quick"
rm -rf "$RESULTS"; mkdir -p "$RESULTS/benchmark"
{ date -u +%Y-%m-%dT%H:%M:%SZ; uptime; } > "$RESULTS/machine.txt"

python3 "$HERE/generate.py"

SPM=(swift package --package-path "$HERE" --scratch-path "$SCRATCH")
# SwiftPM may keep the root package's old file list in its build plan: re-plan every time.
rm -f "$SCRATCH/release.yaml"
swift build --package-path "$HERE" --scratch-path "$SCRATCH" -c release
BIN="$(swift build --package-path "$HERE" --scratch-path "$SCRATCH" -c release --show-bin-path)"

echo "== ordo-one Benchmark suite (release)" >&2
BENCH_ARGS=(benchmark run --no-progress --format jmh --path "$RESULTS/benchmark")
"${SPM[@]}" --allow-writing-to-package-directory "${BENCH_ARGS[@]}" | tee "$RESULTS/benchmark.txt"

echo "== linktrack-ratio (interleaved ContinuousClock medians; two callers vs one)" >&2
"$BIN/linktrack-ratio" "$RESULTS/ratio.json" $QUICK | tee "$RESULTS/ratio.txt"

echo "== process-bench.sh (hyperfine; peak RSS)" >&2
if [ -n "$QUICK" ]; then export PROCESS_BENCH_RUNS=10 PROCESS_BENCH_ROUNDS=2 PROCESS_BENCH_ROUND_RUNS=5; fi
bash "$HERE/process-bench.sh" | tee "$RESULTS/process.txt"

{ date -u +%Y-%m-%dT%H:%M:%SZ; uptime; } >> "$RESULTS/machine.txt"
python3 "$HERE/summarize.py"
