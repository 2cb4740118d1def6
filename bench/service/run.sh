#!/usr/bin/env bash
# Service benchmark: bulk ingest of 200,000 evaluations as gzip NDJSON (and gzip CSV) in
# rows/s, GET /v1/studies/{study}/prediction req/s with wrk, and upload/poll latency with 2 fits
# running beside an idle baseline.
#   bench/service/run.sh [wrk-seconds]          (default 5; needs wrk and a release build)
# EMERGENCE_BIN=path uses an existing release binary instead of building one.
# INGEST_UPLOADS=N sets how many 200k-row NDJSON uploads go into fresh studies (default 5).
# INGEST_ONLY=1 stops after the ingest table (no wrk needed).
# Targets: ingest >= 150,000 rows/s at the median (with the unique identity index
# enforcing integrity; 200,000 without it); upload/poll latency with 2 fits running ~ the idle figures.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/listening-port.sh
duration="${1:-5}"
[ -n "${INGEST_ONLY:-}" ] || command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl not found" >&2; exit 1; }

if [ -z "${EMERGENCE_BIN:-}" ]; then
  swift build -c release --scratch-path .build-svc-release --product emergence >&2
  EMERGENCE_BIN=.build-svc-release/release/emergence
fi
work=$(mktemp -d)
rows=200000
python3 bench/service/make_rows.py "$rows" ndjson | gzip -6 >"$work/rows.ndjson.gz"
python3 bench/service/make_rows.py "$rows" csv | gzip -6 >"$work/rows.csv.gz"

"$EMERGENCE_BIN" serve --port 0 --db "$work/bench.sqlite" --workers 2 >"$work/server.log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(listening_port "$work/server.log")
[ -n "$port" ] || { echo "server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
base="http://127.0.0.1:$port"
rss() { awk '/VmRSS/ {printf "%.0f MB", $2/1024}' "/proc/$pid/status"; }

echo "emergence serve (pid $pid) on $base, $(nproc) cores, $rows rows per upload"
echo
echo "## Bulk ingest (one POST each, all-or-nothing transaction, synchronous=FULL)"
printf '| %-24s | %8s | %8s | %12s | %12s | %s\n' upload seconds "cpu s" "rows/s" "target" "result"
printf '|--------------------------|----------|----------|--------------|--------------|------\n'
# The server's CPU time (user + system) in seconds: less sensitive than wall time to other tenants.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$pid/stat"; }
ingest() {  # name content-type file study [series]
  local t c0 c1
  c0=$(cpu)
  t=$(curl -sS -o "$work/reply.json" -w '%{time_total}' -X POST "$base/v1/studies/$4/evaluations" \
      -H "Content-Type: $2" -H 'Content-Encoding: gzip' --data-binary "@$3")
  c1=$(cpu)
  grep -q '"inserted"' "$work/reply.json" || { echo "upload failed: $(head -c 300 "$work/reply.json")" >&2; exit 1; }
  awk -v n="$1" -v t="$t" -v c="$(awk -v a="$c0" -v b="$c1" 'BEGIN {print b - a}')" -v r="$rows" -v reply="$(tr -d '\n' <"$work/reply.json")" \
    'BEGIN { printf "| %-24s | %8.3f | %8.3f | %12.0f | %12s | %s\n", n, t, c, r / t, ">= 150000", reply }'
  echo "$t" >>"$work/times-${5:-other}"
  awk -v a="$c0" -v b="$c1" 'BEGIN {print b - a}' >>"$work/cpu-${5:-other}"
}
uploads=${INGEST_UPLOADS:-5}
for i in $(seq "$uploads"); do
  curl -sS -o /dev/null -X POST "$base/v1/studies" -d "{\"name\": \"bulk-ndjson-$i\"}"
  ingest "gzip NDJSON, new rows #$i" application/x-ndjson "$work/rows.ndjson.gz" "bulk-ndjson-$i" ndjson
done
ingest "gzip NDJSON, all updates" application/x-ndjson "$work/rows.ndjson.gz" "bulk-ndjson-1"
curl -sS -o /dev/null -X POST "$base/v1/studies" -d '{"name": "bulk-csv"}'
ingest "gzip CSV, new rows" text/csv "$work/rows.csv.gz" bulk-csv
sort -n "$work/times-ndjson" | awk -v r="$rows" '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2;
  printf "gzip NDJSON new rows, %d uploads: median %.0f rows/s (slowest %.0f, fastest %.0f)\n", NR, r / m, r / a[NR], r / a[1]}'
sort -n "$work/cpu-ndjson" | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2;
  printf "server CPU per 200k-row NDJSON upload: median %.3f s (parse and store overlap on 2 cores)\n", m}'
echo "RSS after ingest: $(rss)"
[ -z "${INGEST_ONLY:-}" ] || exit 0

echo
echo "## Latency: idle vs. with 2 fits running (median / max of 20 requests, ms)"
curl -sS -o /dev/null -X POST "$base/v1/studies" -d '{"name": "mmlu"}'
study_csv=bench/service/mmlu-like.csv
curl -sS -o /dev/null -X POST "$base/v1/studies/mmlu/evaluations" -H 'Content-Type: text/csv' --data-binary "@$study_csv"
small="$work/small.ndjson"
python3 bench/service/make_rows.py 100 ndjson >"$small"
curl -sS -o /dev/null -X POST "$base/v1/studies" -d '{"name": "small"}'
measure() {  # label
  local up poll
  up=$(for i in $(seq 20); do curl -sS -o /dev/null -w '%{time_total}\n' -X POST "$base/v1/studies/small/evaluations" \
        -H 'Content-Type: application/x-ndjson' --data-binary "@$small"; done | sort -n | awk '{a[NR]=$1} END {printf "%.1f / %.1f", a[int(NR/2)+1]*1000, a[NR]*1000}')
  poll=$(for i in $(seq 20); do curl -sS -o /dev/null -w '%{time_total}\n' "$base/v1/fits/1"; done \
        | sort -n | awk '{a[NR]=$1} END {printf "%.1f / %.1f", a[int(NR/2)+1]*1000, a[NR]*1000}')
  printf '| %-22s | %-22s | %-22s |\n' "$1" "$up" "$poll"
}
printf '| %-22s | %-22s | %-22s |\n' state "upload 100 rows" "GET /v1/fits/1"
printf '|------------------------|------------------------|------------------------|\n'
# Fit 1 is quick (it makes /prediction answer); fits 2 and 3 are long (bootstrap 100,000) and keep both workers busy.
curl -sS -o /dev/null -X POST "$base/v1/studies/mmlu/fits" -d '{"max_flops": 2e22, "seed": 1, "bootstrap": 100}'
for _ in $(seq 600); do curl -s "$base/v1/fits/1" | grep -q '"status":"succeeded"' && break; sleep 0.1; done
measure "idle"
curl -sS -o /dev/null -X POST "$base/v1/studies/mmlu/fits" -d '{"seed": 2, "bootstrap": 100000}'
curl -sS -o /dev/null -X POST "$base/v1/studies/mmlu/fits" -d '{"seed": 3, "bootstrap": 100000}'
sleep 1
running=$(curl -s "$base/readyz")
measure "2 fits running"
echo "readyz during the run: $running"

echo
echo "## GET /v1/studies/mmlu/prediction with wrk (${duration}s per run)"
printf '| %-28s | %5s | %10s | %9s | %9s | %9s | %7s |\n' case conns "req/s" p50 p99 "bytes/req" errors
printf '|------------------------------|-------|------------|-----------|-----------|-----------|---------|\n'
run_wrk() {  # label conns [header]
  local result threads=$(( $2 < 2 ? 1 : 2 ))
  if [ -n "${3:-}" ]; then
    result=$(wrk -t"$threads" -c"$2" -d"${duration}s" --latency -H "$3" "$base/v1/studies/mmlu/prediction")
  else
    result=$(wrk -t"$threads" -c"$2" -d"${duration}s" --latency "$base/v1/studies/mmlu/prediction")
  fi
  # bytes/req shows what was sent: the document for a 200, headers only for a 304.
  local bytes
  bytes=$(awk '/requests in/ {n=$1; v=$5; u=v; gsub(/[0-9.]/, "", u); gsub(/[A-Za-z]/, "", v);
          m = (u == "KB") ? 1024 : (u == "MB") ? 1048576 : (u == "GB") ? 1073741824 : 1; printf "%.0f", v * m / n}' <<<"$result")
  printf '| %-28s | %5s | %10s | %9s | %9s | %9s | %7s |\n' "$1" "$2" "$(awk '/Requests\/sec/ {print $2}' <<<"$result")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$result")" "$(awk '$1 == "99%" {print $2}' <<<"$result")" "$bytes" \
    "$(awk '/Non-2xx/ {e += $5} /Socket errors/ {gsub(",", ""); e += $4 + $6 + $8 + $10} END {print e + 0}' <<<"$result")"
}
run_wrk "200 + body, 2 fits running" 64
etag=$(curl -s -D - -o /dev/null "$base/v1/studies/mmlu/prediction" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
run_wrk "304 (If-None-Match)" 64 "If-None-Match: $etag"
curl -sS -o /dev/null -X DELETE "$base/v1/fits/2"
curl -sS -o /dev/null -X DELETE "$base/v1/fits/3"
sleep 1
run_wrk "200 + body, idle" 64
run_wrk "200 + body, idle" 1
echo "RSS at the end: $(rss)"
echo "(errors: socket errors plus responses >= 400; a 304 is neither)"
