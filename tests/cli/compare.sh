#!/usr/bin/env bash
# socklab compare over all eight models (or the ones named after the CLI), briefly: every model is measured,
# every byte is right (exit 0), and the table has a row of figures for each model, under a title that names the
# runtime.
#   compare.sh CLI [MODEL...]
set -u
cli="$1"
shift
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(blocking select async-select event-select overlapped-event completion-routine iocp iocp-acceptex)
out="$(mktemp)"
"$cli" compare "$@" --duration 1 --clients 8 --format md | tr -d '\r' >"$out"
status=${PIPESTATUS[0]}
status=$?
cat "$out"
[ "$status" -eq 0 ] || { echo "compare exited $status"; exit 1; }
grep -q "measured under Wine\|measured under Windows" "$out" || { echo "the title does not name the runtime"; exit 1; }
for model in "${models[@]}"; do
  row="$(grep -E "^\| $model \| [0-9]+ \|" "$out")" || { echo "no figures for $model"; exit 1; }
  throughput="$(awk -F'|' '{gsub(/ /, "", $3); print $3}' <<<"$row")"
  [ "$throughput" -gt 0 ] || { echo "$model: no round trips"; exit 1; }
done
echo "compare: ${#models[@]} models measured, all correct"
