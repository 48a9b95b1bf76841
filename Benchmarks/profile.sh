#!/usr/bin/env bash
# Instruction-count profile (valgrind --tool=callgrind) of one operation, repeatable on a noisy machine.
#   bash Benchmarks/profile.sh                                  # rewrite newsletter-1m.html once
#   bash Benchmarks/profile.sh filter newsletter-qp.eml         # or: baseline FILE, rewrite FILE
# Writes Results/profile/<mode>-<file>.cg and .self.txt / .inclusive.txt (top functions, demangled).
# valgrind 3.19 cannot read the debug info Swift 6.3 emits ("Possibly corrupted debuginfo file"), so
# the driver is profiled from a copy with the debug info stripped (symbols stay; no line numbers).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRATCH="${LINKTRACK_BENCH_SCRATCH:-$HERE/.build}"
MODE="${1:-rewrite}"; FILE="${2:-newsletter-1m.html}"; TOP="${TOP:-25}"
command -v valgrind >/dev/null || { apt-get -o DPkg::Lock::Timeout=600 update -qq; DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq valgrind >/dev/null; }
[ -f "$HERE/Inputs/manifest.json" ] || python3 "$HERE/generate.py" >/dev/null
# SwiftPM may keep the root package's old file list in its build plan: re-plan every time.
rm -f "$SCRATCH/release.yaml"
swift build --package-path "$HERE" --scratch-path "$SCRATCH" -c release --product linktrack-profile >&2
BIN="$(swift build --package-path "$HERE" --scratch-path "$SCRATCH" -c release --show-bin-path)"
OUT="$HERE/Results/profile"; mkdir -p "$OUT"
TMP="$(mktemp -d -t linktrack-profile.XXXXXX)"; trap 'rm -rf "$TMP"' EXIT
objcopy --strip-debug "$BIN/linktrack-profile" "$TMP/linktrack-profile"
NAME="$MODE-${FILE%.*}"
valgrind --tool=callgrind --callgrind-out-file="$OUT/$NAME.cg" "$TMP/linktrack-profile" "$MODE" "$HERE/Inputs/$FILE" 1 2>&1 | grep -E "refs|Collected" >&2 || true
# The start-up cost alone (no operation), to subtract from the total.
valgrind --tool=callgrind --callgrind-out-file="$TMP/none.cg" "$TMP/linktrack-profile" baseline "$HERE/Inputs/config.json" 0 2>&1 | grep -E "refs" | sed 's/^/start-up only: /' >&2 || true
demangle() { if command -v swift >/dev/null; then swift demangle --simplified; else cat; fi; }
callgrind_annotate --inclusive=no "$OUT/$NAME.cg" 2>/dev/null | demangle > "$OUT/$NAME.self.txt"
callgrind_annotate --inclusive=yes "$OUT/$NAME.cg" 2>/dev/null | demangle > "$OUT/$NAME.inclusive.txt"
echo "== self (top $TOP)"; grep -E '^ *[0-9,]+ \(' "$OUT/$NAME.self.txt" | head -n "$((TOP + 1))"
echo "== inclusive (top $TOP)"; grep -E '^ *[0-9,]+ \(' "$OUT/$NAME.inclusive.txt" | head -n "$((TOP + 1))"
