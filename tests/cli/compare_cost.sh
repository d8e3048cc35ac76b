#!/usr/bin/env bash
# socklab compare --scenario cost, briefly, on blocking, iocp and the yardstick (bench/iocp_yardstick.cpp): a row
# for each with a positive count of wineserver requests per round trip, counted by the scenario's private
# wineserver, a positive throughput at 1, 4 and 64 clients, and every echo right. Nothing here is timed: the rates
# are printed, not judged.
set -u
cli="$1"
. "$(dirname "$0")/compare_table.sh"

"$cli" compare blocking iocp yardstick --scenario cost --lines 200 --runs 1 --throughput-seconds 1 >"$out" ||
  fail "cost exited $?"
title="## Cost per echoed line: 1 connection, 64-byte lines, 200 round trips a window; throughput at 1, 4 and 64"
grep -q "^$title clients, 1 s each; measured under Wine" "$out" || fail "cost title"
grep -q "| model | requests/rt (count) | .* | rt/s 1 conn | rt/s 4 conns | rt/s 64 conns |" "$out" ||
  fail "the columns: requests counted, then the throughputs"
positive() { awk -v v="${1%% *}" 'BEGIN { exit !(v + 0 > 0) }'; }  # the first number of a cell, above 0
for model in blocking iocp yardstick; do
  requests=$(cell $model 2)
  # "17.7", or "17.7 (17.3-18.0)" when the two counted windows differ: the first number is the median.
  positive "$requests" || fail "$model: no wineserver requests counted ('$requests')"
  # Columns 7, 8, 9: round trips per second at 1, 4 and 64 clients ("failed" when a run got a wrong byte).
  for column in 7 8 9; do
    rate=$(cell $model $column)
    positive "$rate" || fail "$model: throughput column $column is '$rate'"
  done
done
echo "compare cost: requests per round trip and rt/s at 1, 4, 64 clients:"
for model in blocking iocp yardstick; do
  echo "  $model $(cell $model 2); $(cell $model 7), $(cell $model 8), $(cell $model 9)"
done
