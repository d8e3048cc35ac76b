#!/usr/bin/env bash
# No orphans on Windows, the job object alone: socklab.exe viz runs socklab-viz.exe as its child, in a job that
# ends its processes when the last handle to it closes. socklab-viz.exe does not read its standard input, so
# nothing else would stop it: kill socklab.exe outright (SIGKILL to its Wine process, as a crash) and the viewer
# must be gone within 20 s.
#   orphan_viz.sh SOCKLAB_EXE_RUNNER
set -u
cli="$1"
command -v xvfb-run >/dev/null || { echo "xvfb-run is missing (Debian: apt-get install xvfb xauth)"; exit 1; }
# A scale of our own choosing names this viewer on its command line; "[s]" keeps pgrep from matching itself.
scale="1.$((RANDOM % 900 + 100))"
pattern="[s]ocklab-viz\\.exe.* --scale $scale"
viz_pid=""
# The display outlives socklab.exe (xvfb-run waits on a sleep, not on it): otherwise the viewer would die with
# its X server, and the test would pass without the job object doing anything.
display_marker="socklab-orphan-display-$scale"
trap 'pkill -KILL -f -- "$pattern"; [ -z "$viz_pid" ] || kill -KILL "$viz_pid" 2>/dev/null; pkill -f -- "[s]leep 45 # $display_marker"' EXIT
xvfb-run -a -s "-screen 0 1280x720x24" bash -c "\"$cli\" viz --reference --seconds 60 --scale $scale & sleep 45 # $display_marker" \
  >/dev/null 2>&1 &
for _ in $(seq 1 200); do
  viz_pid="$(pgrep -f -- "[s]ocklab\\.exe viz --reference --seconds 60 --scale $scale" | head -n 1)"
  [ -n "$viz_pid" ] && pgrep -f -- "$pattern" >/dev/null && break
  sleep 0.1
done
pgrep -af -- "$pattern" >/dev/null || { echo "socklab-viz.exe did not start"; exit 1; }
[ -n "$viz_pid" ] || { echo "socklab.exe viz not found"; exit 1; }
# The viewer's process exists a moment before socklab.exe has put it in the job (CreateProcess, then
# AssignProcessToJobObject while it is still suspended): let it start drawing first.
sleep 1
kill -KILL "$viz_pid"
for _ in $(seq 1 80); do
  pgrep -af -- "$pattern" >/dev/null || break
  sleep 0.25
done
if pgrep -af -- "$pattern"; then
  echo "socklab-viz.exe outlived the socklab.exe that started it"
  exit 1
fi
echo "socklab.exe killed: the viewer it started went with it"
