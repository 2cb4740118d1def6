#!/bin/sh
# check_plots.sh BINARY STUDIES_DIR OUT_DIR
# Draws every study CSV in STUDIES_DIR with `BINARY plot` (two ways: the prediction setting
# --max-flops 2e22, and all checkpoints), checks each SVG with `xmllint --noout`, and, when
# chromium is installed, renders each to a PNG at the SVG's own size for a person to look at.
# Needs: xmllint (Debian libxml2-utils); optional: chromium. Run by hand, e.g.
#   swift build -c release && Tests/Scripts/check_plots.sh .build/release/emergence ../shared/data/synthetic /tmp/plots
set -eu
bin=$1; studies=$2; out=$3
mkdir -p "$out"
svgs=0; bad=0
for csv in "$studies"/*.csv; do
  name=$(basename "$csv" .csv)
  for setting in 2e22 all; do
    dir="$out/$name-$setting"
    if [ "$setting" = all ]; then flags=""; else flags="--max-flops $setting"; fi
    # shellcheck disable=SC2086
    "$bin" plot "$csv" --out "$dir" --title "$name" --seed 1 --bootstrap 200 $flags >/dev/null
    for svg in "$dir"/fit.svg "$dir"/emergence-cdf.svg; do
      svgs=$((svgs + 1))
      if ! xmllint --noout "$svg"; then bad=$((bad + 1)); echo "NOT WELL-FORMED: $svg"; fi
      if command -v chromium >/dev/null 2>&1; then
        h=$(grep -o 'height="[0-9]*"' "$svg" | head -1 | tr -dc 0-9)
        timeout 60 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
          --screenshot="${svg%.svg}.png" --window-size="900,$h" "$svg" >/dev/null 2>&1 || echo "render failed: $svg"
      fi
    done
  done
done
echo "check_plots: $svgs SVGs, $bad not well-formed (xmllint --noout)"
[ "$bad" -eq 0 ]
