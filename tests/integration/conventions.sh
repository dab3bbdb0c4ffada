#!/bin/sh
# DESIGN §5 in the source: library functions return 0 or a negative SK_E* code, never a
# bare -1. Looks at src/ (the command, src/cli, keeps its own exit statuses).
# Usage: conventions.sh SOURCE-ROOT. Output: TAP.
set -u
. "$(dirname "$0")/tap.sh"
root=$1
[ -d "$root/src/base" ] || { echo "Bail out! no source tree at $root"; exit 1; }
hits=$(grep -rnE --include='*.c' --include='*.h' 'return[[:space:]]*\(?-1\)?[[:space:]]*;' \
	"$root/src" | grep -v "^$root/src/cli/")
[ -z "$hits" ]
ok $? "no bare 'return -1' in the library"
printf '%s\n' "$hits" | while read -r l; do [ -n "$l" ] && diag "$l"; done
# the check itself finds what it looks for
printf 'static int f(void)\n{\n\treturn -1;\n}\n' >"${TMPDIR:-/tmp}/sk-conv-$$.c"
grep -qE 'return[[:space:]]*\(?-1\)?[[:space:]]*;' "${TMPDIR:-/tmp}/sk-conv-$$.c"
ok $? "the pattern matches a bare return -1"
rm -f "${TMPDIR:-/tmp}/sk-conv-$$.c"
done_testing
