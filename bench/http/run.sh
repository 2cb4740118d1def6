#!/usr/bin/env bash
# HTTP server benchmark: a tiny route and a 4 KiB JSON route, wrk at 1, 64 and 256 connections.
#   bench/http/run.sh [seconds-per-run]        (default 5; needs `apt-get install wrk`)
# Prints req/s, p50/p99 latency, socket errors and non-2xx counts per run, and the server's RSS
# before and after. Targets: no errors / non-2xx at 64 and 256 connections, p99 < 5 ms
# at 64 connections on /small, RSS < 50 MB after.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration="${1:-5}"
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }

scratch=.build-http-release
swift build -c release --scratch-path "$scratch" --product http-bench-server >&2
binary="$scratch/release/http-bench-server"

out=$(mktemp)
"$binary" 0 >"$out" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.05; done
port=$(awk '/listening/ {print $2}' "$out")
[ -n "$port" ] || { echo "server did not start" >&2; exit 1; }
rss() { awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$pid/status"; }

echo "server pid $pid on 127.0.0.1:$port, $(nproc) cores, wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), ${duration}s per run"
echo "RSS before: $(rss); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %-8s | %5s | %10s | %9s | %9s | %13s | %7s |\n' route conns "req/s" "p50" "p99" "socket errors" "non-2xx"
printf '|----------|-------|------------|-----------|-----------|---------------|---------|\n'
for route in /small /json4k; do
  for conns in 1 64 256; do
    threads=$(( conns < 2 ? 1 : 2 ))
    result=$(wrk -t"$threads" -c"$conns" -d"${duration}s" --latency "http://127.0.0.1:$port$route")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$result")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$result")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$result")
    errors=$(awk '/Socket errors/ {gsub(",", ""); print $4+$6+$8+$10}' <<<"$result")
    non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$result")
    printf '| %-8s | %5s | %10s | %9s | %9s | %13s | %7s |\n' "$route" "$conns" "$rps" "$p50" "$p99" "${errors:-0}" "${non2xx:-0}"
  done
done
echo "RSS after: $(rss); load average after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine skews p99)"
echo
echo "--- baseline (bench/http/baseline.txt) ---"
cat bench/http/baseline.txt
kill -TERM "$pid"
trap - EXIT
if wait "$pid"; then echo "server exited 0 after SIGTERM"; else echo "server exited with status $?"; fi
rm -f "$out"
