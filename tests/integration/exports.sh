#!/bin/sh
# The libraries export only the sk_ API (DESIGN §5): `nm -D --defined-only` of
# libsekisho.so and the global symbols defined in libsekisho.a must all start with sk_.
# Usage: exports.sh PATH-TO-libsekisho.so PATH-TO-libsekisho.a. Output: TAP.
set -u
. "$(dirname "$0")/tap.sh"
so=$1
ar=$2
if ! command -v nm >/dev/null; then
	echo "Bail out! nm (binutils) is missing"
	exit 1
fi
# Symbols a toolchain may add to any shared object; none is expected with GNU ld and the
# version script, the list stays for other linkers.
allow='^(_init|_fini|_edata|_end|__bss_start)$'
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

nm -D --defined-only "$so" >"$work/dyn" 2>"$work/err"
ok $? "nm -D reads $(basename "$so")"
awk 'NF >= 3 { sub(/@.*/, "", $3); print $3 }' "$work/dyn" | sort -u >"$work/dyn.names"
n=$(wc -l <"$work/dyn.names")
[ "$n" -ge 100 ]
ok $? "the shared library exports the API ($n symbols)"
for s in sk_buf_init sk_buf_len sk_buf_data sk_policy_parse sk_mail_sanitize sk_error_set; do
	grep -qx "$s" "$work/dyn.names"
	ok $? "$s is exported"
done
grep -v '^sk_' "$work/dyn.names" | grep -Ev "$allow" >"$work/dyn.bad"
[ ! -s "$work/dyn.bad" ]
ok $? "every exported symbol starts with sk_"
while read -r s; do diag "exported without sk_: $s"; done <"$work/dyn.bad"

# the static library: global definitions only (T, D, B, R...), internal ones included
nm -g --defined-only "$ar" 2>/dev/null | awk 'NF >= 3 { print $3 }' | sort -u >"$work/ar.names"
[ -s "$work/ar.names" ]
ok $? "nm reads $(basename "$ar")"
grep -v '^sk_' "$work/ar.names" >"$work/ar.bad"
[ ! -s "$work/ar.bad" ]
ok $? "every global symbol of the static library starts with sk_"
while read -r s; do diag "global without sk_: $s"; done <"$work/ar.bad"
done_testing
