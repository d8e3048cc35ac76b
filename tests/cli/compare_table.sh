# Sourced by the compare scripts (compare_scenarios.sh, compare_cost.sh): a file for the table socklab compare
# prints ($out, removed at exit), fail (says why, shows the table, exits 1), and cell (one cell of a model's row).
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
fail() { echo "FAILED: $*"; cat "$out"; exit 1; }
cell() {  # the cell in column $2 (1 = model) of model $1's row, without the spaces around it
  grep -E "^\| $1 \|" "$out" | awk -F'|' -v c=$(( $2 + 1 )) '{gsub(/^ +| +$/, "", $c); print $c}'
}
