#!/usr/bin/env bash
# A model that loses an anchor fails its lesson: copy the tree, delete the `// LESSON: iocp-wait` marker from
# the copy of models/06_iocp.cpp, and `socklab lesson 7 --check --static` must fail and name the anchor —
# while the untouched copy passes.
set -u
socklab="$1"
root="$2"
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
cp -r "$root/lessons" "$root/models" "$root/common" "$copy/"

if ! "$socklab" lesson 7 --check --static --root "$copy" >"$copy/intact.txt" 2>&1; then
  echo "the untouched copy should pass:"; cat "$copy/intact.txt"; exit 1
fi
sed -i '/\/\/ LESSON: iocp-wait$/d' "$copy/models/06_iocp.cpp"
if grep -q "LESSON: iocp-wait$" "$copy/models/06_iocp.cpp"; then echo "the marker was not removed"; exit 1; fi
"$socklab" lesson 7 --check --static --root "$copy" >"$copy/edited.txt" 2>&1
status=$?
cat "$copy/edited.txt"
if [ $status -ne 1 ]; then echo "expected exit code 1, got $status"; exit 1; fi
grep -q "NOT MET  show iocp-wait .*anchor 'iocp-wait' not found" "$copy/edited.txt" || { echo "the missing anchor is not named"; exit 1; }
echo "ok: the removed anchor fails lesson 7"
