#!/usr/bin/env bash
# tests/windows/viz_headless.sh — socklab-viz.exe under Wine, headless, as the Linux tests run socklab-viz:
# it draws a few frames in a real window (on Xvfb) and writes the last as a PNG, which is then checked.
#
#   viz_headless.sh WINE_RUN BIN_DIR WORK_DIR replay|reference|live
#     replay     a trace file written by viz-test-helper.exe, replayed with --replay
#     reference  the reference model of the Windows completion-port rules (--reference)
#     live       a live IOCP server that socklab-viz.exe starts itself (socklab-server.exe beside it), with 8
#                clients sending a steady trickle for 4 s; the frame must show their replies
#
# Files are named relative to WORK_DIR, the current folder: Wine reads a Linux path such as /tmp/x as \tmp\x on
# the current drive, which is only right while the current folder is on drive Z: (the Linux root).
set -euo pipefail
wine_run=$1
bin=$2
work=$3
view=$4
width=1280
height=720

command -v xvfb-run >/dev/null || { echo "xvfb-run is missing (Debian: apt-get install xvfb xauth)" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
cd "$work"

case $view in
  replay)
    "$wine_run" "$bin/viz-test-helper.exe" write-trace replay.sltrace
    session=(--replay replay.sltrace --select wait_end --frames 5) ;;
  reference)
    session=(--reference --frames 5) ;;
  live)
    session=(--start iocp --connect 8 --pace 40 --seconds 4 --dump-model) ;;
  *)
    echo "unknown view $view" >&2
    exit 2 ;;
esac

# The screen is the size of the window: Windows keeps new windows within the screen unless told otherwise, and
# socklab-viz must get the asked size anyway (the check below says so).
xvfb-run -a -s "-screen 0 ${width}x${height}x24" \
  "$wine_run" "$bin/socklab-viz.exe" "${session[@]}" --screenshot "$view.png" --size "${width}x${height}" 2>&1 |
  tr -d '\r' | tee output.txt  # a Windows program ends its lines with CR LF
if [ "$view" = live ]; then
  # The server's own trace, as the visualizer rebuilt it: eight clients, lines echoed, wakes seen, the runtime named.
  grep -q "^connections_total 8$" output.txt || { echo "the live session did not see 8 connections" >&2; exit 1; }
  grep -qE "^lines_out [1-9]" output.txt || { echo "the live session saw no line echoed" >&2; exit 1; }
  grep -qE "^wakes [1-9]" output.txt || { echo "the live session saw no worker woken" >&2; exit 1; }
  grep -qE "^runtime (Wine|Windows)" output.txt || { echo "the live session does not name its runtime" >&2; exit 1; }
fi
"$wine_run" "$bin/viz-test-helper.exe" check-png "$view.png" "$width" "$height"
echo "the screenshot: $work/$view.png"
