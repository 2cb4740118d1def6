#!/usr/bin/env bash
# Times the fit (release build) beside the scipy reference doing the same work, and prints a table.
# Usage: bench/core/run.sh [STUDY.csv] [MAX_FLOPS]
# (default: the shared mmlu-like study if present, else one simulated by `emergence simulate`; 2e22)
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
python3 -c "import scipy, numpy" 2>/dev/null || pip install -q scipy numpy
echo "running the scipy reference (about two minutes)..." >&2
python3 bench/core/reference.py "$study" --max-flops "$cutoff" > /tmp/emergence-bench-ref.json
"$bin" bench "$study" --max-flops "$cutoff" --reference /tmp/emergence-bench-ref.json
