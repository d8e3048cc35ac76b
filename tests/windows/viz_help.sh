#!/usr/bin/env bash
# tests/windows/viz_help.sh — socklab-viz.exe under Wine answers on its console without a window: --help prints
# the usage and exits 0; a wrong flag says what is wrong and exits 2.
#   viz_help.sh WINE_RUN SOCKLAB_VIZ_EXE
set -uo pipefail
wine_run=$1
viz=$2

help=$("$wine_run" "$viz" --help 2>&1)
status=$?
if [ $status -ne 0 ] || ! grep -q "usage: socklab-viz" <<<"$help"; then
  echo "--help: exit $status, printed:" >&2
  echo "$help" >&2
  exit 1
fi
wrong=$("$wine_run" "$viz" --no-such-flag 2>&1)
status=$?
if [ $status -ne 2 ] || ! grep -q "unknown option --no-such-flag" <<<"$wrong"; then
  echo "--no-such-flag: exit $status (2 expected), printed:" >&2
  echo "$wrong" >&2
  exit 1
fi
echo "--help and a wrong flag answer as they should"
