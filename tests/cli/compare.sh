#!/usr/bin/env bash
# socklab compare over all eight models, briefly: every model is measured, every byte is right (exit 0), and
# the table has a row of figures for each model, under a title that names the runtime.
set -u
cli="$1"
out="$(mktemp)"
"$cli" compare --duration 1 --clients 8 --format md >"$out"
status=$?
cat "$out"
[ "$status" -eq 0 ] || { echo "compare exited $status"; exit 1; }
grep -q "measured under Wine\|measured under Windows" "$out" || { echo "the title does not name the runtime"; exit 1; }
for model in blocking select async-select event-select overlapped-event completion-routine iocp iocp-acceptex; do
  row="$(grep -E "^\| $model \| [0-9]+ \|" "$out")" || { echo "no figures for $model"; exit 1; }
  throughput="$(awk -F'|' '{gsub(/ /, "", $3); print $3}' <<<"$row")"
  [ "$throughput" -gt 0 ] || { echo "$model: no round trips"; exit 1; }
done
echo "compare: eight models measured, all correct"
