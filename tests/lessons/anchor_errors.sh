#!/usr/bin/env bash
# A lesson whose anchor does not resolve fails its check, and the message names the anchor. On copies of the
# tree, `socklab lesson 7 --check --static` must pass untouched, and fail (exit code 1) when
#   - the `// LESSON: wait` marker is deleted from models/06_iocp.cpp: anchor 'iocp:wait' not found;
#   - the lesson says `show wait` for it: a bare name does not find a model's anchor, the scoped name is offered;
#   - models/06_iocp.cpp marks `wait` twice: iocp:wait is ambiguous, both places named.
set -u
socklab="$1"
root="$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fresh_copy() {  # a copy of what lesson 7 reads, in $work/$1
  mkdir -p "$work/$1"
  cp -r "$root/lessons" "$root/models" "$root/common" "$work/$1/"
}
# run_lesson COPY EXPECTED_STATUS PATTERN WHAT
run_lesson() {
  "$socklab" lesson 7 --check --static --root "$work/$1" >"$work/$1.txt" 2>&1
  local status=$?
  if [ $status -ne "$2" ] || ! grep -q -- "$3" "$work/$1.txt"; then
    cat "$work/$1.txt"
    echo "FAILED: $4 (exit code $status, wanted $2; output should match: $3)"
    exit 1
  fi
  echo "ok: $4"
}

fresh_copy intact
run_lesson intact 0 "met      show iocp:wait " "the untouched copy passes"

fresh_copy removed
sed -i '/\/\/ LESSON: wait$/d' "$work/removed/models/06_iocp.cpp"
run_lesson removed 1 "NOT MET  show iocp:wait .*anchor 'iocp:wait' not found: no \`// LESSON: wait\` in models/06_iocp.cpp" \
  "a removed marker fails lesson 7"

fresh_copy bare
sed -i 's/^show iocp:wait$/show wait/' "$work/bare/lessons/07-iocp.md"
run_lesson bare 1 "NOT MET  show wait .*anchor 'wait' not found.*did you mean .*iocp:wait" \
  "a bare name for the model's anchor fails lesson 7 and offers iocp:wait"

fresh_copy doubled
printf '%s\n' '// LESSON: wait' 'static_assert(true);' >>"$work/doubled/models/06_iocp.cpp"
run_lesson doubled 1 "NOT MET  anchor 'iocp:wait' is marked 2 times: models/06_iocp.cpp:[0-9]* models/06_iocp.cpp:[0-9]*" \
  "a marker written twice in one model fails lesson 7"
