#!/usr/bin/env bash
# socklab compare --scenario cost, briefly, on blocking, iocp and the yardstick (bench/iocp_yardstick.cpp): a row
# for each with a positive count of wineserver requests per round trip, counted by the scenario's private
# wineserver, and every echo right. Nothing here is timed: the rates are printed, not judged.
set -u
cli="$1"
. "$(dirname "$0")/compare_table.sh"

"$cli" compare blocking iocp yardstick --scenario cost --lines 200 --runs 1 >"$out" || fail "cost exited $?"
grep -q "^## Cost per echoed line: 1 connection, 64-byte lines, 200 round trips a window; measured under Wine" "$out" ||
  fail "cost title"
grep -q "| model | requests/rt (count) |" "$out" || fail "the requests were not counted"
for model in blocking iocp yardstick; do
  requests=$(cell $model 2)
  # "17.7", or "17.7 (17.3-18.0)" when the two counted windows differ: the first number is the median.
  awk -v r="${requests%% *}" 'BEGIN { exit !(r + 0 > 0) }' || fail "$model: no wineserver requests counted ('$requests')"
done
echo "compare cost: blocking $(cell blocking 2), iocp $(cell iocp 2), yardstick $(cell yardstick 2) requests per round trip"
