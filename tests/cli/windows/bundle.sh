#!/usr/bin/env bash
# The Windows zip (`./socklab package`), unpacked into an empty folder outside the checkout, works on its own:
# socklab.exe runs lesson 7's checks (live steps start the bundle's socklab-server.exe) and socklab-viz.exe opens
# the lesson headless and writes a PNG of a drawn window, both from the unpacked folder under Wine.
#   bundle.sh BUILD_DIR WINE_RUN PNG_CHECKER
set -euo pipefail
build=$1
wine_run=$2
checker=$3
unset SOCKLAB_ROOT  # nothing may point back at the checkout

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cpack --config "$build/CPackConfig.cmake" -B "$work/pack" >/dev/null
zip=("$work"/pack/socklab-*-windows-x64.zip)
echo "the zip: $(basename "${zip[0]}") ($(du -h "${zip[0]}" | cut -f1))"
mkdir "$work/unpacked"
(cd "$work/unpacked" && cmake -E tar xf "${zip[0]}")
bundle=("$work"/unpacked/socklab-*-windows-x64)
ls "${bundle[0]}"

# From a folder of its own, so that no relative path can reach the checkout either (Wine maps / to drive Z:,
# the current folder stays on it, and the PNG's Linux path reads right there).
cd "$work"
"$wine_run" "${bundle[0]}/socklab.exe" lesson 7 --check | tr -d '\r' | tail -n 3
xvfb-run -a -s "-screen 0 1280x720x24" "$wine_run" "${bundle[0]}/socklab-viz.exe" --lesson 7 --step 4 --frames 5 \
  --screenshot lesson.png --size 1280x720 2>&1 | tr -d '\r' | grep "lesson 7 step 4"
"$wine_run" "$checker" check-png lesson.png 1280 720
echo "the bundle runs from an empty folder"
