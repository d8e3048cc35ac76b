#!/usr/bin/env bash
# No orphans on Windows: a socklab.exe killed outright (SIGKILL to its Wine process: no handler runs, as when a
# program crashes or is ended from Task Manager) takes what it started with it, within 20 s.
#   orphan.sh SOCKLAB_EXE_RUNNER server   socklab.exe serve: the server sees its standard input close and stops
#                                         (the kill-on-close job object would end it anyway)
#   orphan.sh SOCKLAB_EXE_RUNNER viewer   socklab.exe viz: socklab-viz.exe reads no standard input, so only the
#                                         job object can end it (this test fails with the job's flag removed)
# Patterns start with "[s]" so that pgrep's own command line does not match the pattern it looks for.
set -u
cli="$1"
what="$2"
parent_pid=""
out="$(mktemp)"
case $what in
  server)
    # A port of our own choosing, so the server's command line names it and no other server matches.
    port=$((20000 + RANDOM % 40000))
    child="[s]ocklab-server\\.exe iocp --port $port "
    trap 'rm -f "$out"; pkill -KILL -f -- "$child"; [ -z "$parent_pid" ] || kill -KILL "$parent_pid" 2>/dev/null' EXIT
    "$cli" serve iocp --port "$port" >"$out" 2>&1 &
    parent_pid=$!
    for _ in $(seq 1 600); do
      tr -d '\r' <"$out" | grep -q " listening on 127.0.0.1:$port" && break
      sleep 0.1
    done
    tr -d '\r' <"$out" | grep -q " listening on 127.0.0.1:$port" || { echo "the server did not start:"; cat "$out"; exit 1; }
    ;;
  viewer)
    command -v xvfb-run >/dev/null || { echo "xvfb-run is missing (Debian: apt-get install xvfb xauth)"; exit 1; }
    # A scale of our own choosing names this viewer on its command line.
    scale="1.$((RANDOM % 900 + 100))"
    child="[s]ocklab-viz\\.exe.* --scale $scale"
    # The display outlives socklab.exe (xvfb-run waits on a sleep, not on it): otherwise the viewer would die
    # with its X server, and the test would pass without the job object doing anything.
    marker="socklab-orphan-display-$scale"
    trap 'rm -f "$out"; pkill -KILL -f -- "$child"; [ -z "$parent_pid" ] || kill -KILL "$parent_pid" 2>/dev/null; pkill -f -- "[s]leep 45 # $marker"' EXIT
    xvfb-run -a -s "-screen 0 1280x720x24" bash -c "\"$cli\" viz --reference --seconds 60 --scale $scale & sleep 45 # $marker" \
      >/dev/null 2>&1 &
    for _ in $(seq 1 200); do
      parent_pid="$(pgrep -f -- "[s]ocklab\\.exe viz --reference --seconds 60 --scale $scale" | head -n 1)"
      [ -n "$parent_pid" ] && pgrep -f -- "$child" >/dev/null && break
      sleep 0.1
    done
    [ -n "$parent_pid" ] || { echo "socklab.exe viz not found"; exit 1; }
    # The viewer's process exists a moment before socklab.exe has put it in the job (CreateProcess, then
    # AssignProcessToJobObject while it is still suspended): let it start drawing first.
    sleep 1
    ;;
  *)
    echo "usage: $0 SOCKLAB_EXE_RUNNER server|viewer" >&2
    exit 2 ;;
esac

pgrep -af -- "$child" >/dev/null || { echo "no $what to orphan: it did not start"; exit 1; }
kill -KILL "$parent_pid"
for _ in $(seq 1 80); do
  pgrep -af -- "$child" >/dev/null || break
  sleep 0.25
done
if pgrep -af -- "$child"; then
  echo "the $what outlived the socklab.exe that started it"
  exit 1
fi
echo "socklab.exe killed: its $what went with it"
