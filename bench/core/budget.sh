#!/usr/bin/env bash
# Measures what FitBudget.default is derived from: the CPU time of one bootstrap refit and of one
# MCMC walker-step on the mmlu-like simulated study, on one thread (taskset -c 0), release build.
# Usage: bench/core/budget.sh [--no-build]. Prints user-CPU seconds (robust to other load on the
# machine) and the per-unit figures; FitBudget.swift says how the defaults follow from them.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "${1:-}" = "--no-build" ] || swift build -c release --product emergence >/dev/null
bin=.build/release/emergence
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" simulate --scenario mmlu-like --out "$tmp" >/dev/null
csv="$tmp/mmlu-like.csv"

# User CPU seconds of one fit (best of 3), on one core.
cpu() {
  local best=""
  for _ in 1 2 3; do
    local t
    t=$( { /usr/bin/time -f "%U" taskset -c 0 "$bin" fit "$csv" "$@" >/dev/null; } 2>&1 | tail -1)
    if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
  done
  echo "$best"
}

for setting in "whole study:" "prediction setting:--max-flops 2e22"; do
  label=${setting%%:*}; flags=${setting#*:}
  base=$(cpu $flags --uncertainty none)
  boot=$(cpu $flags --uncertainty bootstrap --bootstrap 400)
  mcmc=$(cpu $flags --uncertainty mcmc --mcmc-walkers 32 --mcmc-steps 9000 --mcmc-burn-in 1000)
  awk -v l="$label" -v b="$base" -v bo="$boot" -v m="$mcmc" 'BEGIN {
    refit = (bo - b) / 400; step = (m - b) / (32 * 10000)
    printf "%-20s MLE %.3f s   bootstrap refit %.2f ms   walker-step %.2f us\n", l, b, refit * 1e3, step * 1e6
  }'
done
