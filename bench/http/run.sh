#!/usr/bin/env bash
# HTTP server benchmark: our release `http-bench-server` beside nginx (and, optionally, a baseline
# build of ours) in one run, on the same cores, with the same wrk placement for every server.
#
#   bench/http/run.sh [seconds] [rounds]      (defaults 3 and 3: each server is measured 3 times per
#                                             row, 3 s each, and the median of each figure printed)
#   HTTP_BENCH_BASELINE=path/to/http-bench-server bench/http/run.sh     adds a baseline column
#   HTTP_BENCH_BASELINE_REF=main bench/http/run.sh     builds that git ref's server first (a few minutes)
#
# Needs `apt-get install -y nginx-light wrk`.
#
# Routes: tiny (/small: ours answers "ok", nginx `return 200 "ok"`) and a 4 KiB JSON document
# (/json4k: ours from memory, nginx the same 4,096 bytes as a static file). Both of ours are marked
# non-blocking, so they run on the event loops, as a static answer should.
#
# Placement: nginx (2 workers), ours (2 event loops, one per core) and wrk (-t2; -t1 at one
# connection) all run under `taskset -c $HTTP_BENCH_CPUS` (default: cores 0-1). wrk competes with
# the server for those cores in the same way for every server. The servers are idle while another
# is measured. Each row is measured in rounds that take the servers in turn, in a rotated order
# (ours, nginx, baseline; then nginx, baseline, ours; ...), and the median of each figure over the
# rounds is printed, so that other work on the machine, which comes and goes, hits every server alike.
#
# Prints one table: req/s, p50 and p99 of each server per row, and ours/nginx ratios; then the
# targets (ours >= nginx req/s at 64 and 256 connections, p99 <= nginx's at 64, p50 <= 1.2x nginx's
# at 1 connection, our RSS after the run < 50 MB), each PASS or FAIL. Exit status 0 whatever the result.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration="${1:-3}"
rounds="${2:-3}"
cpus="${HTTP_BENCH_CPUS:-0-1}"
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx_bin" ] || { echo "nginx not found: apt-get install -y nginx-light" >&2; exit 1; }

scratch=.build-http-release
swift build -c release --scratch-path "$scratch" --product http-bench-server >&2
ours_bin="$scratch/release/http-bench-server"

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

baseline_bin="${HTTP_BENCH_BASELINE:-}"
if [ -z "$baseline_bin" ] && [ -n "${HTTP_BENCH_BASELINE_REF:-}" ]; then
  # A detached worktree of that ref, built with its own scratch directory, then removed.
  tree="$work/baseline-tree"
  git worktree add --detach "$tree" "$HTTP_BENCH_BASELINE_REF" >&2
  (cd "$tree" && swift build -c release --product http-bench-server >&2)
  cp "$tree/.build/release/http-bench-server" "$work/baseline-server"
  git worktree remove --force "$tree" >&2
  baseline_bin="$work/baseline-server"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts one of our servers; sets started_pid and started_port.
start_ours() {
  local binary=$1 log="$work/$2.out"
  taskset -c "$cpus" "$binary" 0 >"$log" &
  started_pid=$!
  pids+=("$started_pid")
  for _ in $(seq 200); do grep -q listening "$log" && break; sleep 0.05; done
  started_port=$(awk '/listening/ {print $2}' "$log")
  [ -n "$started_port" ] || { echo "$binary did not start" >&2; exit 1; }
}

start_ours "$ours_bin" ours
ours_pid=$started_pid ours_port=$started_port
if [ -n "$baseline_bin" ]; then
  start_ours "$baseline_bin" baseline
  base_pid=$started_pid base_port=$started_port
fi

# nginx serves the same bytes: the 4 KiB document is fetched from our server.
mkdir -p "$work/nginx/html" "$work/nginx/tmp"
curl -sf "http://127.0.0.1:$ours_port/json4k" -o "$work/nginx/html/json4k"
[ "$(stat -c %s "$work/nginx/html/json4k")" = 4096 ] || { echo "unexpected /json4k size" >&2; exit 1; }
chmod -R a+rX "$work"
nginx_port=$(free_port)
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 100000000;
  client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp;
  fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp;
  scgi_temp_path $work/nginx/tmp;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/nginx/html;
    location = /small { default_type text/plain; return 200 "ok"; }
    location = /json4k { default_type application/json; }
  }
}
EOF
taskset -c "$cpus" "$nginx_bin" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" -p "$work/nginx" 2>"$work/nginx/stderr" &
nginx_pid=$!
pids+=("$nginx_pid")
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$nginx_port/small" >/dev/null && break; sleep 0.05; done
curl -sf "http://127.0.0.1:$nginx_port/json4k" | cmp -s - "$work/nginx/html/json4k" \
  || { echo "nginx did not start:"; cat "$work/nginx/stderr" "$work/nginx/error.log"; exit 1; } >&2

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
# wrk's latency figure in microseconds.
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'; }

# Runs wrk against port/route with conns; prints "rps p50us p99us errors non2xx".
measure() {
  local port=$1 route=$2 conns=$3 threads result
  threads=$(( conns < 2 ? 1 : 2 ))
  result=$(taskset -c "$cpus" wrk -t"$threads" -c"$conns" -d"${duration}s" --latency "http://127.0.0.1:$port$route")
  local rps p50 p99 errors non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$result")
  p50=$(to_us "$(awk '$1 == "50%" {print $2}' <<<"$result")")
  p99=$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$result")")
  errors=$(awk '/Socket errors/ {gsub(",", ""); print $4+$6+$8+$10}' <<<"$result")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$result")
  echo "$rps $p50 $p99 ${errors:-0} ${non2xx:-0}"
}

echo "$(nproc) cores, servers and wrk on cpus $cpus, wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), $("$nginx_bin" -v 2>&1 | sed 's/.*\///'), median of $rounds rounds of ${duration}s per server and row"
echo "ours: $ours_bin (pid $ours_pid, RSS $(rss_mb "$ours_pid") MB before)${baseline_bin:+; baseline: $baseline_bin}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
header='| route | conns | ours req/s | nginx req/s | ratio | ours p50 | nginx p50 | p50 ratio | ours p99 | nginx p99 |'
rule='| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
if [ -n "$baseline_bin" ]; then
  header="$header baseline req/s | baseline/nginx | baseline p50 | baseline p99 |"
  rule="$rule ---: | ---: | ---: | ---: |"
fi
echo "$header"
echo "$rule"
results="$work/results"
: >"$results"
: >"$work/spread"
dirty=""
for route in /small /json4k; do
  name=$([ "$route" = /small ] && echo tiny || echo "4 KiB JSON")
  for conns in 1 64 256; do
    # Rounds in rotated order; each server's figures go to its own file, one line per round.
    servers=(ours nginx)
    [ -n "$baseline_bin" ] && servers+=(baseline)
    for s in "${servers[@]}"; do : >"$work/round.$s"; done
    for ((round = 0; round < rounds; round++)); do
      for ((k = 0; k < ${#servers[@]}; k++)); do
        s=${servers[$(( (k + round) % ${#servers[@]} ))]}
        case $s in ours) port=$ours_port ;; nginx) port=$nginx_port ;; baseline) port=$base_port ;; esac
        measure "$port" "$route" "$conns" >>"$work/round.$s"
      done
    done
    # Median of each column; errors and non-2xx summed.
    summary() { sort -n -k"$2" "$work/round.$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'; }
    total() { awk -v c="$2" '{ t += $c } END { print t + 0 }' "$work/round.$1"; }
    o_rps=$(summary ours 1) o_p50=$(summary ours 2) o_p99=$(summary ours 3) o_err=$(total ours 4) o_non=$(total ours 5)
    n_rps=$(summary nginx 1) n_p50=$(summary nginx 2) n_p99=$(summary nginx 3) n_err=$(total nginx 4) n_non=$(total nginx 5)
    spread() { sort -n -k1 "$work/round.$1" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%\047.0f–%\047.0f", lo, hi }'; }
    echo "  $name c=$conns: ours $(spread ours), nginx $(spread nginx)${baseline_bin:+, baseline $(spread baseline)}" >>"$work/spread"
    [ "$o_err$o_non$n_err$n_non" = 0000 ] || dirty="$dirty $route@$conns(ours errors $o_err non-2xx $o_non, nginx errors $n_err non-2xx $n_non)"
    line=$(awk -v r="$name" -v c="$conns" -v orps="$o_rps" -v nrps="$n_rps" -v o50="$o_p50" -v n50="$n_p50" -v o99="$o_p99" -v n99="$n_p99" \
      'function lat(us) { return us >= 1000 ? sprintf("%.2f ms", us / 1000) : sprintf("%.0f µs", us) }
       BEGIN { printf "| %s | %d | %\047.0f | %\047.0f | %.2f | %s | %s | %.2f | %s | %s |", r, c, orps, nrps, orps / nrps, lat(o50), lat(n50), o50 / n50, lat(o99), lat(n99) }')
    if [ -n "$baseline_bin" ]; then
      b_rps=$(summary baseline 1) b_p50=$(summary baseline 2) b_p99=$(summary baseline 3)
      line="$line$(awk -v brps="$b_rps" -v nrps="$n_rps" -v b50="$b_p50" -v b99="$b_p99" \
        'function lat(us) { return us >= 1000 ? sprintf("%.2f ms", us / 1000) : sprintf("%.0f µs", us) }
         BEGIN { printf " %\047.0f | %.2f | %s | %s |", brps, brps / nrps, lat(b50), lat(b99) }')"
    fi
    echo "$line"
    echo "$route $conns $o_rps $n_rps $o_p50 $n_p50 $o_p99 $n_p99" >>"$results"
  done
done
ours_rss=$(rss_mb "$ours_pid")
echo
echo "RSS after: ours $ours_rss MB${baseline_bin:+, baseline $(rss_mb "$base_pid") MB}; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "req/s range over the rounds (the noise):"
cat "$work/spread"
[ -z "$dirty" ] && echo "no socket errors, every answer 2xx" || echo "errors or non-2xx:$dirty"
echo
echo "targets:"
awk -v rss="$ours_rss" '
  function verdict(ok) { return ok ? "PASS" : "FAIL" }
  { route = $1; c = $2; key = route " c=" c
    if (c == 64 || c == 256) printf "  %-4s req/s >= nginx   %-14s %.2f\n", verdict($3 >= $4), key, $3 / $4
    if (c == 64) printf "  %-4s p99 <= nginx     %-14s %.0f µs vs %.0f µs\n", verdict($7 <= $8), key, $7, $8
    if (c == 1) printf "  %-4s p50 <= 1.2 nginx %-14s %.0f µs vs %.0f µs (%.2f)\n", verdict($5 <= 1.2 * $6), key, $5, $6, $5 / $6 }
  END { printf "  %-4s RSS after < 50 MB  %s MB\n", verdict(rss < 50), rss }' "$results"

kill -TERM "$ours_pid"
if wait "$ours_pid"; then echo "our server exited 0 after SIGTERM"; else echo "our server exited with status $? after SIGTERM"; fi
