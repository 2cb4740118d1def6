#!/usr/bin/env bash
# Fits every CSV fixture under Tests/*/Fixtures with one binary (`emergence fit`, JSON, seed 1) and
# compares two of them (`emergence compare`, which pairs the two fits' samples), writing each
# document to OUT_DIR named after its fixture. Run it with an old and a new binary and `diff -r` the
# two folders: a change that keeps behaviour leaves them byte-identical.
#   scripts/fixture-results.sh BINARY OUT_DIR
set -uo pipefail
bin=$1; out=$2
cd "$(dirname "$0")/.."
mkdir -p "$out"
for csv in Tests/*/Fixtures/*.csv; do
  name=$(echo "$csv" | cut -d/ -f2)-$(basename "$csv" .csv)
  # A fixture the fit refuses (a leaderboard without losses) is compared by its error text.
  "$bin" fit --seed 1 "$csv" >"$out/$name.json" 2>"$out/$name.err" || echo "exit $?" >>"$out/$name.err"
done
f=Tests/EmergenceCoreTests/Fixtures
"$bin" compare --seed 1 --bootstrap 200 "$f/mmlu-like.csv" "$f/gsm8k-like.csv" >"$out/compare.json" 2>"$out/compare.err" \
  || echo "exit $?" >>"$out/compare.err"
ls "$out" | wc -l
