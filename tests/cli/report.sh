#!/usr/bin/env bash
# socklab report --quick on two models: the page, a CSV per table and a PNG per plot, every title naming the
# runtime (and saying "not Windows" under Wine), the headline figures filled in from the run, the cost table with
# the yardstick beside iocp.
set -u
cli="$1"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAILED: $*"; [ -f "$dir/README.md" ] && cat "$dir/README.md"; exit 1; }
"$cli" report --quick iocp select --out "$dir" || fail "report exited $?"
page="$dir/README.md"
[ -s "$page" ] || fail "no README.md"
for png in echo-throughput echo-latency slow-handler broadcast capacity tracing-overhead cost; do
  [ "$(head -c 8 "$dir/$png.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$png.png is not a PNG"
  grep -q "($png.png)" "$page" || fail "the page does not show $png.png"
done
for csv in echo slow-handler broadcast capacity tracing-overhead; do
  [ "$(wc -l <"$dir/$csv.csv")" -eq 3 ] || fail "$csv.csv should have a header and two rows"
done
[ "$(wc -l <"$dir/cost.csv")" -eq 4 ] || fail "cost.csv should have a header, two rows and the yardstick's"
if grep -q "Wine" "$page"; then
  head -1 "$page" | grep -q "measured under Wine .* not Windows" || fail "the page title must say Wine, not Windows"
  [ "$(grep -c '^### .*measured under Wine' "$page")" -eq 6 ] || fail "every table title must name Wine"
fi
grep -q "^- \*\*Echo throughput\*\* (8 clients): [a-z-]* [0-9]* rt/s" "$page" || fail "no echo headline"
grep -q "^- \*\*Capacity\*\* (up to 250 clients): .*250" "$page" || fail "no capacity headline"
grep -q "^- \*\*Tracing cost\*\*" "$page" || fail "no tracing headline"
grep -q "^- \*\*Wineserver requests per echo\*\* .*yardstick [0-9.]*" "$page" || fail "no cost headline"
grep -q "^- \*\*Our machinery\*\* (native): a trace event costs [0-9.]* ns" "$page" || fail "no trace-bench figures"
echo "report: page, 6 tables, 7 plots"
