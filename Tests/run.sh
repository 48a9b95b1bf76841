#!/usr/bin/env bash
# Runs every test of the project: the root package (library, CLI, corpus), the server package (unit,
# writer and sink tests), and the server's tests against the real binaries and real components:
# pytest suites (redirects, events, limits, reload, kill -9; nginx in front; two servers behind a
# balancer with PostgreSQL), and the real aws CLI and boto3 against the control API.
#
# What it needs (CI's .ci/run installs it): Swift 6, libxml2-dev, python3 with pytest, awscli and
# boto3, nginx, PostgreSQL 15. PostgreSQL: when LINKTRACK_TEST_POSTGRES_URL is unset and
# PostgreSQL's initdb is installed, a throwaway cluster is started in a temporary directory on a
# free port and removed at the end.
#
# `bash Tests/run.sh` runs everything; `bash Tests/run.sh server` skips the root package's
# `swift test` (CI runs that first, on its own).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ "${1:-}" != "server" ]; then
    echo "== root package: swift build && swift test"
    swift build
    swift test
fi

echo "== server package: swift build --package-path Server --build-tests"
swift build --package-path Server --build-tests
swift build --package-path Server --product linktrack
export LINKTRACK_SERVER_BIN="$ROOT/Server/.build/debug/linktrack-server"
export LINKTRACK_BIN="$ROOT/Server/.build/debug/linktrack"

PG_DIR=""
cleanup() {
    if [ -n "$PG_DIR" ]; then bash Server/Tests/integration/pg-cluster.sh stop "$PG_DIR" || true; fi
}
trap cleanup EXIT
if [ -z "${LINKTRACK_TEST_POSTGRES_URL:-}" ] && [ -f Server/Tests/integration/pg-cluster.sh ] &&
   ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    # Under /tmp, not $TMPDIR: the cluster runs as the postgres user, who must be able to enter it.
    PG_DIR=$(mktemp -d /tmp/linktrack-pg.XXXXXX)
    LINKTRACK_TEST_POSTGRES_URL=$(bash Server/Tests/integration/pg-cluster.sh start "$PG_DIR")
    export LINKTRACK_TEST_POSTGRES_URL
    # The scale-out outage tests stop and start this cluster: they need its directory.
    export LINKTRACK_TEST_POSTGRES_DIR="$PG_DIR"
    echo "== PostgreSQL for the tests: $LINKTRACK_TEST_POSTGRES_URL"
fi

echo "== server package: swift test"
swift test --package-path Server --skip-build

echo "== server integration (pytest)"
suites=()
for d in Server/Tests/integration Server/Tests/deploy Server/Tests/scaleout; do
    if ls "$d"/test_*.py >/dev/null 2>&1; then suites+=("$d"); fi
done
python3 -m pytest -q "${suites[@]}"

echo "== control API with the real aws CLI and boto3"
bash Server/Tests/integration/control-api.sh "$LINKTRACK_SERVER_BIN" "$LINKTRACK_BIN"
python3 Server/Tests/integration/control_api_boto3.py "$LINKTRACK_SERVER_BIN"
echo "== all tests passed"
