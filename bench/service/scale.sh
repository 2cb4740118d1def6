#!/usr/bin/env bash
# Scale benchmark: builds studies of 184 rows (mmlu-like.csv) through the API on a fresh database and
# prints p50/p99 of GET /, GET /v1/studies, one study's page, a 184-row upload and a fit at SMALL and
# at LARGE studies, with their ratio (target: no ratio above 2).
#   bench/service/scale.sh [LARGE [SMALL]]      (defaults 100000 and 100; needs a release build)
# EMERGENCE_BIN=path uses an existing release binary instead of building one.
# BUILD_SECONDS=S stops growing after S seconds and measures at the count reached (the table says so).
# BUILDERS=N sets the client connections that build studies (default 4). DB_DIR=dir keeps the
# database there (default: a temporary directory, removed at the end; 100,000 studies take ~4 GB).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/listening-port.sh
large="${1:-100000}"
small="${2:-100}"
if [ -z "${EMERGENCE_BIN:-}" ]; then
  swift build -c release --scratch-path .build-svc-release --product emergence >&2
  EMERGENCE_BIN=.build-svc-release/release/emergence
fi
work=$(mktemp -d "${DB_DIR:-${TMPDIR:-/tmp}}/scale.XXXXXX")
# As deployed: fits in child processes, one fit worker, every request logged (to a file here).
"$EMERGENCE_BIN" serve --port 0 --db "$work/scale.sqlite" --workers 1 >"$work/server.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(listening_port "$work/server.log")
[ -n "$port" ] || { echo "server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
echo "emergence serve (pid $pid) on 127.0.0.1:$port, $(nproc) cores; building $small then $large studies"
python3 bench/service/scale.py "http://127.0.0.1:$port" --small "$small" --large "$large" \
  --builders "${BUILDERS:-4}" ${BUILD_SECONDS:+--build-seconds "$BUILD_SECONDS"}
echo "database: $(du -sh "$work" | cut -f1), server RSS $(awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/$pid/status")"
