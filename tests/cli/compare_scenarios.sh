#!/usr/bin/env bash
# socklab compare's other scenarios, briefly, on two models whose waits differ most (one thread per client,
# and one thread for everyone): each prints its table with a row of figures per model, every byte right.
set -u
cli="$1"
. "$(dirname "$0")/compare_table.sh"

"$cli" compare blocking select --scenario slow-handler --clients 8 --duration 1.5 >"$out" || fail "slow-handler exited $?"
grep -q "^## Slow handlers: .*every 10th line /work 0 50; measured under" "$out" || fail "slow-handler title"
grep -q "echo p99 ms" "$out" || fail "slow-handler must show the plain lines' latency"
# One thread per client: a blocked handler stalls only its own client. One thread for everyone: it stalls all.
blocking_p99=$(cell blocking 4); select_p99=$(cell select 4)
awk -v b="$blocking_p99" -v s="$select_p99" 'BEGIN { exit !(s > b && s >= 40) }' ||
  fail "select's echo p99 ($select_p99 ms) should exceed blocking's ($blocking_p99 ms) and the 50 ms block"

"$cli" compare blocking select --scenario broadcast --clients 4 --duration 1 >"$out" || fail "broadcast exited $?"
for model in blocking select; do
  deliveries=$(cell $model 3)
  [ "${deliveries:-0}" -gt 0 ] || fail "$model: no deliveries"
  [ "$(cell $model 11)" = 0 ] || fail "$model: wrong or lost deliveries"
done

"$cli" compare blocking select --scenario capacity --cap 150 >"$out" || fail "capacity exited $?"
for model in blocking select; do
  [ "$(cell $model 2)" = 150 ] || fail "$model did not hold 150 clients"
  grep -E "^\| $model \|" "$out" | grep -q "100 yes 150 yes" || fail "$model: steps 100 and 150 not shown"
done

"$cli" compare select --scenario tracing-overhead --clients 8 --duration 1 --pairs 1 >"$out" || fail "tracing-overhead exited $?"
[ "$(cell select 2)" -gt 0 ] && [ "$(cell select 3)" -gt 0 ] || fail "no throughput off and on"
grep -q "^| select | [0-9]* | [0-9]* | -\?[0-9.]* | -\?[0-9.]*\.\.-\?[0-9.]* | 0 |" "$out" || fail "overhead row"

echo "compare scenarios: slow-handler, broadcast, capacity and tracing-overhead measured, all correct"
