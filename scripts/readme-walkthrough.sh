#!/usr/bin/env bash
# Runs the README's curl walkthrough as written, against a fresh server on a scratch database:
# the code block that starts with `E=http://127.0.0.1:8080`, with only that address changed to the
# server's free port. Every command must succeed (the block runs under `set -euo pipefail`: a curl
# that cannot connect, or a grep that finds nothing, fails it), the fit must succeed, and the
# prediction must carry E*. .ci/run calls it; by hand:
#   scripts/readme-walkthrough.sh [BINARY]      (default .build/debug/emergence)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/listening-port.sh
root=$PWD
bin=${1:-.build/debug/emergence}
case $bin in /*) ;; *) bin=$root/$bin ;; esac

scratch=$(mktemp -d)
"$bin" serve --port 0 --db "$scratch/walkthrough.sqlite" --workers 1 >"$scratch/server.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$scratch"' EXIT
port=$(listening_port "$scratch/server.log")
[ -n "$port" ] || { echo "emergence serve did not start:"; cat "$scratch/server.log"; exit 1; }

# The walkthrough block, from its first line to the closing fence.
awk '/^```/ { if (inblock) { if (found) exit; inblock = 0 } else inblock = 1; next }
     inblock && /^E=http:\/\/127\.0\.0\.1:8080$/ { found = 1 }
     inblock && found { print }' README.md >"$scratch/walkthrough.sh"
grep -q '^curl' "$scratch/walkthrough.sh" || { echo "README.md has no walkthrough block starting E=http://127.0.0.1:8080"; exit 1; }
sed -i "s#^E=http://127.0.0.1:8080\$#E=http://127.0.0.1:$port#" "$scratch/walkthrough.sh"

# Run where the README's paths hold (examples/… relative to the repository; fit.svg lands in the
# scratch folder, not in the checkout).
mkdir "$scratch/cwd"
ln -s "$root/examples" "$scratch/cwd/examples"
(cd "$scratch/cwd" && timeout 300 bash -euo pipefail "$scratch/walkthrough.sh") | tee "$scratch/out.txt"

grep -q '"status":"succeeded"' "$scratch/out.txt" || { echo "the walkthrough's fit did not succeed"; exit 1; }
grep -q '"emergence":' "$scratch/out.txt" || { echo "the walkthrough's prediction has no emergence block"; exit 1; }
grep -q '<svg' "$scratch/cwd/fit.svg" || { echo "the walkthrough's fit.svg is not an SVG"; exit 1; }
echo "README walkthrough: every command ran against a fresh server (port $port)"
