#!/usr/bin/env bash
# Times the fit (release build) beside the scipy reference doing the same work, and prints tables:
# the default fit (MLE + 1,000 bootstrap refits) on one thread and on all, then each phase.
# Usage: bench/core/run.sh [STUDY.csv] [MAX_FLOPS]
# (default: the shared mmlu-like study if present, else one simulated by `emergence simulate`; 2e22)
# Environment: REPEATS (default 5, medians are reported); BASELINE=/path/to/an/older/emergence adds a
# before/after table, the two binaries' `emergence fit` timed alternately, run for run; NO_PHASES=1
# skips the per-phase table and the reference's MCMC (about two minutes).
# The machine may be shared: the tables give wall-clock medians and, for one thread, CPU seconds
# (less sensitive to other load); repeat when the load average is high.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product emergence >/dev/null
bin=.build/release/emergence
study=${1:-}
if [ -z "$study" ] && [ -f ../shared/data/synthetic/mmlu-like.csv ]; then
  study=../shared/data/synthetic/mmlu-like.csv
fi
if [ -z "$study" ]; then
  "$bin" simulate --scenario mmlu-like --seed 1 --out /tmp/emergence-bench >/dev/null
  study=/tmp/emergence-bench/mmlu-like.csv
fi
cutoff=${2:-2e22}
repeats=${REPEATS:-5}
python3 -c "import scipy, numpy" 2>/dev/null || pip install -q scipy numpy
phases=()
refargs=()
if [ -n "${NO_PHASES:-}" ]; then phases=(--no-phases); refargs=(--mcmc-steps 0); fi
echo "running the scipy reference..." >&2
python3 bench/core/reference.py "$study" --max-flops "$cutoff" "${refargs[@]}" > /tmp/emergence-bench-ref.json
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" bench "$study" --max-flops "$cutoff" --repeats "$repeats" --reference /tmp/emergence-bench-ref.json "${phases[@]}"

if [ -n "${BASELINE:-}" ]; then
  # Before/after: each binary's `emergence fit` (process start and CSV read included, milliseconds),
  # alternating so that both see the same load. One thread: pinned to one core with taskset.
  median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for _ in $(seq "$repeats"); do
    for which in before after; do
      b=$bin; [ "$which" = before ] && b=$BASELINE
      { /usr/bin/time -f "%e %U" taskset -c 1 "$b" fit "$study" --max-flops "$cutoff" >/dev/null; } 2>>"$tmp/$which.one"
      { /usr/bin/time -f "%e" "$b" fit "$study" --max-flops "$cutoff" >/dev/null; } 2>>"$tmp/$which.all"
    done
  done
  echo
  echo "before/after (\`emergence fit\`, median of $repeats alternating runs; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
  printf '%-10s %-24s %-24s %-16s\n' build "1 thread wall (s)" "1 thread CPU (s)" "all threads (s)"
  for which in before after; do
    printf '%-10s %-24s %-24s %-16s\n' "$which" "$(cut -d' ' -f1 "$tmp/$which.one" | median)" \
      "$(cut -d' ' -f2 "$tmp/$which.one" | median)" "$(median < "$tmp/$which.all")"
  done
fi
