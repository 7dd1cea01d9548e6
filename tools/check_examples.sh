#!/usr/bin/env bash
# Runs every wiresim command shown in the worked examples, so that they cannot drift from the binary unnoticed: in
# each docs/examples/*.md, the lines of ```console blocks (indented or not) that begin with "$ wiresim " are run from the repository
# root with `wiresim` replaced by the binary given. Their output is not compared (the examples show it trimmed);
# the check fails if any command exits non-zero, and names each one that did.
#
#   tools/check_examples.sh build/sim/app/wiresim
set -uo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: tools/check_examples.sh WIRESIM_BINARY" >&2
  exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=$1
[[ "$binary" == /* ]] || binary="$PWD/$binary"
if [[ ! -x "$binary" ]]; then
  echo "check_examples: $1 is not an executable file" >&2
  exit 2
fi
cd "$root" || exit 2

shopt -s nullglob
docs=(docs/examples/*.md)
if [[ ${#docs[@]} -eq 0 ]]; then
  echo "check_examples: no docs/examples/*.md found under $root" >&2
  exit 2
fi

ran=0
failed=0
for doc in "${docs[@]}"; do
  in_console=0
  line_no=0
  while IFS= read -r line || [[ -n "$line" ]]; do
    line_no=$((line_no + 1))
    # Blocks may be indented (inside a list item); so may their lines.
    line=${line#"${line%%[![:space:]]*}"}
    if [[ $in_console -eq 0 && "$line" =~ ^\`\`\`console[[:space:]]*$ ]]; then
      in_console=1
      continue
    fi
    if [[ $in_console -eq 1 && "$line" =~ ^\`\`\` ]]; then
      in_console=0
      continue
    fi
    [[ $in_console -eq 1 && "$line" == '$ wiresim '* ]] || continue
    args=${line#'$ wiresim '}
    ran=$((ran + 1))
    # The command line is split as the shell would split it when a user types it.
    eval "\"\$binary\" $args" >/dev/null 2>"${TMPDIR:-/tmp}/check_examples.$$.err"
    rc=$?
    if [[ $rc -ne 0 ]]; then
      failed=$((failed + 1))
      echo "FAIL ($rc) $doc:$line_no: wiresim $args" >&2
      sed 's/^/    /' "${TMPDIR:-/tmp}/check_examples.$$.err" >&2
    fi
  done <"$doc"
done
rm -f "${TMPDIR:-/tmp}/check_examples.$$.err"

if [[ $ran -eq 0 ]]; then
  echo "check_examples: no \"\$ wiresim \" lines in ${docs[*]}" >&2
  exit 1
fi
echo "check_examples: $ran commands, $failed failed"
[[ $failed -eq 0 ]]
