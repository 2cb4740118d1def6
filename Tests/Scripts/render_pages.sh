#!/usr/bin/env bash
# Looks at the study pages in a real browser: starts a release server on a
# scratch database, loads the mmlu-like fixture into study "mmlu" and fits it
# ({"seed":1,"max_flops":2e22}), runs the DOM check (check_pages.py, html5lib), then renders `/`,
# `/studies/mmlu` and both plots with headless Chromium (Debian `chromium`) to PNGs.
#
#   Tests/Scripts/render_pages.sh [OUT_DIR]      # default docs/screenshots
#
# Needs: apt-get install -y chromium; python3 with html5lib (PYTHON=path/to/python to choose one).
# Uses .build/release/emergence (built if missing). Run by hand; the PNGs under docs/ are its output.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/listening-port.sh
out=${1:-docs/screenshots}
python=${PYTHON:-python3}
bin=.build/release/emergence
[ -x "$bin" ] || swift build -c release --product emergence
command -v chromium >/dev/null || { echo "render_pages: needs chromium (apt-get install -y chromium)"; exit 1; }
mkdir -p "$out"

scratch=$(mktemp -d)
"$bin" serve --port 0 --db "$scratch/pages.sqlite" --workers 1 --log-format text >"$scratch/server.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$scratch"' EXIT
port=$(listening_port "$scratch/server.log")
[ -n "$port" ] || { echo "render_pages: the server did not start:"; cat "$scratch/server.log"; exit 1; }
base="http://127.0.0.1:$port"

"$python" Tests/Scripts/check_pages.py "$base" --study mmlu --load Tests/EmergenceServiceTests/Fixtures/mmlu-like.csv

shoot() {  # shoot NAME PATH WIDTH HEIGHT
  timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
    --user-data-dir="$scratch/chromium" --window-size="$3,$4" --screenshot="$out/$1.png" "$base$2" >/dev/null 2>&1
  printf '%-28s %s  %s bytes\n' "$out/$1.png" "$2" "$(stat -c %s "$out/$1.png")"
}
shoot index / 1100 420
shoot study-mmlu /studies/mmlu 1024 1500
for plot in fit emergence-cdf; do
  status=$(curl -s -o /dev/null -w '%{http_code}' "$base/v1/studies/mmlu/plots/$plot.svg")
  if [ "$status" = 200 ]; then shoot "plot-$plot" "/v1/studies/mmlu/plots/$plot.svg" 900 680
  else echo "render_pages: /v1/studies/mmlu/plots/$plot.svg answered $status (the plot routes are not in this build)"; fi
done
curl -s "$base/v1/studies/mmlu/prediction" >"$out/prediction.json"
echo "render_pages: ok"
