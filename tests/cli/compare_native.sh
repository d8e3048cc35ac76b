#!/usr/bin/env bash
# socklab compare with a Linux model (issue 15): it runs natively, every byte is checked (exit 0), and the title
# names the kernel. With a Windows model beside it (which runs under Wine), the title names both runtimes and each
# row says its own in the runtime column.
#   compare_native.sh CLI MODEL...      e.g. compare_native.sh socklab poll, or socklab iocp poll
set -u
cli="$1"
shift
. "$(dirname "$0")/compare_table.sh"
"$cli" compare "$@" --duration 1 --clients 4 --format md | tr -d '\r' >"$out"
status=${PIPESTATUS[0]}
cat "$out"
[ "$status" -eq 0 ] || fail "compare exited $status"
grep -q "^## .*measured.* natively on Linux [0-9]" "$out" || fail "the title does not name the Linux kernel"
mixed=0
for model in "$@"; do
  case "$model" in poll | epoll | io-uring) ;; *) mixed=1 ;; esac
done
if [ "$mixed" -eq 1 ]; then
  grep -q "^## .*measured under Wine [0-9.]* and natively on Linux\|^## .*natively on Linux [^ ]* and under Wine" "$out" ||
    fail "a mixed table's title does not name both runtimes"
  grep -q "^| model | runtime |" "$out" || fail "a mixed table has no runtime column"
fi
for model in "$@"; do
  column=2  # round trips/s, after the model (and the runtime, in a mixed table)
  [ "$mixed" -eq 1 ] && column=3
  runtime="$(cell "$model" 2)"
  case "$model" in
    poll | epoll | io-uring) expected="Linux" ;;
    *) expected="Wine" ;;
  esac
  [ "$mixed" -eq 0 ] || [[ "$runtime" == "$expected "* ]] || fail "$model: its row says '$runtime', not $expected"
  throughput="$(cell "$model" "$column")"
  [[ "$throughput" =~ ^[0-9]+$ ]] && [ "$throughput" -gt 0 ] || fail "$model: no round trips ('$throughput')"
  wrong="$(grep -E "^\| $model \|" "$out" | awk -F'|' '{gsub(/ /, "", $(NF-1)); print $(NF-1)}')"
  [ "$wrong" = "0" ] || fail "$model: $wrong lines wrong or lost"
done
echo "compare: $* measured, every byte right, runtimes named"
