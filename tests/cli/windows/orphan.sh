#!/usr/bin/env bash
# No orphans on Windows: socklab.exe serve puts socklab-server.exe in a job object that ends its processes when
# the last handle to it closes. Kill socklab.exe outright (SIGKILL to its Wine process: no handler runs, as when
# a program crashes or is ended from Task Manager) and the server must be gone within 20 s, its port free.
#   orphan.sh SOCKLAB_EXE_RUNNER
set -u
cli="$1"
out="$(mktemp)"
# A port of our own choosing, so the server's command line names it and no other server matches.
port=$((20000 + RANDOM % 40000))
# "[s]": so that pgrep's own command line does not match the pattern it looks for.
pattern="[s]ocklab-server\\.exe iocp --port $port "
serve_pid=""
trap 'rm -f "$out"; pkill -KILL -f -- "$pattern"; [ -z "$serve_pid" ] || kill -KILL "$serve_pid" 2>/dev/null' EXIT
"$cli" serve iocp --port "$port" >"$out" 2>&1 &
serve_pid=$!
for _ in $(seq 1 600); do
  tr -d '\r' <"$out" | grep -q " listening on 127.0.0.1:$port" && break
  sleep 0.1
done
tr -d '\r' <"$out" | grep -q " listening on 127.0.0.1:$port" || { echo "the server did not start:"; cat "$out"; exit 1; }
pgrep -af -- "$pattern" >/dev/null || { echo "no socklab-server.exe for port $port before the kill"; exit 1; }
kill -KILL "$serve_pid"
for _ in $(seq 1 80); do
  pgrep -af -- "$pattern" >/dev/null || break
  sleep 0.25
done
if pgrep -af -- "$pattern"; then
  echo "socklab-server.exe outlived the socklab.exe that started it"
  exit 1
fi
echo "socklab.exe killed: its server went with it (port $port)"
