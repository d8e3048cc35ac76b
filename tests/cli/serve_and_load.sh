#!/usr/bin/env bash
# socklab serve iocp (under Wine), socklab load against it, then Ctrl-C: the server must stop gracefully with
# nothing left over, and load must report every byte correct. What a student does in the first lesson.
set -u
cli="$1"
out="$(mktemp)"
"$cli" serve iocp --port 0 >"$out" 2>&1 &
serve_pid=$!
port=""
for _ in $(seq 1 600); do
  port="$(sed -nE 's/.* listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$out" | head -n 1)"
  [ -n "$port" ] && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then echo "the server did not start:"; cat "$out"; exit 1; fi
"$cli" load --port "$port" --clients 16 --lines 200 --quiet
load_status=$?
kill -INT "$serve_pid"
wait "$serve_pid"
serve_status=$?
cat "$out"
grep -q "stopped; 0 sockets, 0 per-I/O objects, 0 connections left" "$out" || { echo "not a clean stop"; exit 1; }
[ "$load_status" -eq 0 ] || { echo "load failed ($load_status)"; exit 1; }
[ "$serve_status" -eq 0 ] || { echo "serve exited $serve_status"; exit 1; }
echo "serve, load and a graceful stop: all correct"
