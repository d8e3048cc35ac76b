#!/usr/bin/env bash
# Regenerates the README's screenshots from real runs, at a projector's 1280x720 and text scale 1.5, with the
# visualizer's headless mode (under xvfb-run when there is no display). Needs ./socklab build first. The figures
# in the captions come from these runs: they are Wine 8.0 figures from the machine that ran this.
#   docs/images/regenerate.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root/docs/images"
viz=("$root/socklab" viz --size 1280x720 --scale 1.5)
display=()
[ -n "${DISPLAY:-}" ] || display=(xvfb-run -a -s "-screen 0 1280x720x24")
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# An IOCP server's own trace: 16 clients for 5 s, then replayed with the cursor inside the run.
"$root/socklab" serve iocp --port 0 --trace-file "$work/iocp.sltrace" >"$work/serve.out" 2>&1 &
serve=$!
for _ in $(seq 1 300); do grep -q "listening on" "$work/serve.out" && break; sleep 0.1; done
port="$(sed -nE 's/.* listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$work/serve.out")"
"$root/socklab" load --port "$port" --clients 16 --duration 5 --quiet
kill -INT "$serve"
wait "$serve"
"${display[@]}" "${viz[@]}" --replay "$work/iocp.sltrace" --cursor-fraction 0.5 --frames 5 \
  --screenshot iocp-under-wine.png
"${viz[@]}" --replay "$work/iocp.sltrace" --dump-model | grep -E "^(wakes_with_choice|lifo_wakes|fifo_wakes|most_running|concurrency) "

# What ./socklab demo opens: the IOCP lesson's live step beside a live IOCP server with a steady trickle.
"${display[@]}" "${viz[@]}" --lesson 7 --step 6 --start iocp --connect 16 --pace 20 --seconds 8 --screenshot demo-lesson.png
# A live IOCP server alone, a packet selected so the source panel shows its line.
"${display[@]}" "${viz[@]}" --start iocp --connect 8 --pace 40 --seconds 6 --select packet_dequeued --screenshot live-iocp.png
# The compare view: two models, the same saturating load.
"${display[@]}" "${viz[@]}" --compare iocp,select --connect 16 --saturate --seconds 8 --screenshot compare-view.png
# The reference model of the Windows rules, a few lines into the LIFO lesson.
"${display[@]}" "${viz[@]}" --reference --do step,step,step,step,step --frames 5 --screenshot reference-model.png
# The Windows build of the visualizer, under Wine, on a live IOCP server it starts itself.
"${display[@]}" "$root/cmake/wine-run" "$root/build/mingw/bin/socklab-viz.exe" --size 1280x720 --scale 1.5 \
  --start iocp --connect 8 --pace 40 --seconds 6 --screenshot windows-viz-live-iocp.png
echo "regenerated: $(ls ./*.png | tr '\n' ' ')"
