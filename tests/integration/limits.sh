#!/bin/bash
# Fail closed under memory pressure, and the node and time limits, end to end (TAP).
#  - an xlsx whose DDE formula comes after a large sheet, run under `prlimit --as`: the
#    item is blocked, or what is delivered has no DDE formula (unzip -p + grep). Once,
#    libxml2 handed back the tree it had when memory ran out as well-formed and the sheet
#    was copied as it was (verdict clean, formula delivered);
#  - the same with address-space limits swept across the parse, so that allocations fail
#    at many points of it;
#  - a mail whose HTML body has more markup starts than the node limit is held
#    (limit-nodes) with a notice.
# usage: limits.sh SEKISHO
set -u
. "$(dirname "$0")/tap.sh"
SEKISHO=$(realpath "$1")
MAKE=$(dirname "$0")/make_limits.py
T=$(mktemp -d /tmp/sk-limits-XXXXXX)
trap 'rm -rf "$T"' EXIT
export LC_ALL=C.UTF-8

# verdict_ok JSON OUTDIR FILE: blocked, or delivered without the formula
verdict_ok() {
	local v
	v=$(json_get "$1" verdict 2>/dev/null)
	case $v in
	blocked) return 0 ;;
	clean | sanitized)
		! unzip -p "$2/$3" 'xl/worksheets/*.xml' 2>/dev/null | grep -q "cmd|" ;;
	*) return 1 ;;
	esac
}

# 1. the reported case: 900,000 rows (6.3 M markup starts) under 1.5 GB of address space
python3 "$MAKE" dde-xlsx "$T/big.xlsx" 900000
mkdir -p "$T/o1"
prlimit --as=1500000000 "$SEKISHO" sanitize --json -o "$T/o1" "$T/big.xlsx" > "$T/r1.json" 2> "$T/e1"
verdict_ok "$T/r1.json" "$T/o1" big.xlsx
ok $? "big sheet then DDE under --as=1.5 GB: blocked or delivered without the formula ($(json_get "$T/r1.json" verdict) $(json_get "$T/r1.json" reason))"
[ "$(json_get "$T/r1.json" reason)" = limit-nodes ]
ok $? "... blocked as limit-nodes (its sheet is over 4,000,000 nodes) before any tree is built"

# 2. under the node limit, memory runs out at many points of the parse
python3 "$MAKE" dde-xlsx "$T/mid.xlsx" 100000
internal=0 delivered=0 bad=0 as=160
while [ $as -le 800 ]; do
	d="$T/o-$as"
	mkdir -p "$d"
	prlimit --as=${as}000000 "$SEKISHO" sanitize --json -o "$d" "$T/mid.xlsx" > "$d.json" 2> /dev/null
	if ! verdict_ok "$d.json" "$d" mid.xlsx; then
		bad=$((bad + 1))
		diag "--as=${as} MB: $(head -c 300 "$d.json")"
	elif [ "$(json_get "$d.json" verdict)" = blocked ]; then
		[ "$(json_get "$d.json" reason)" = internal-error ] && internal=$((internal + 1))
	else
		delivered=$((delivered + 1))
		rm -rf "$d" "$d.json"
		break # enough memory from here on
	fi
	rm -rf "$d" "$d.json"
	as=$((as + 8))
done
ok $bad "address space 160 MB … ${as} MB: never the formula delivered ($internal blocked internal-error, $delivered delivered)"
[ $internal -gt 0 ] && [ $delivered -gt 0 ]
ok $? "the sweep went from memory running out (internal-error) to enough memory (delivered, formula removed)"

# 3. an HTML mail over the node limit: held with a notice
python3 "$MAKE" html-eml "$T/m.eml" 17
"$SEKISHO" mail < "$T/m.eml" > "$T/m.out" 2> "$T/m.err"
rc=$?
[ $rc -eq 1 ] && grep -q '^X-Mail-Sanitized: HELD' "$T/m.out" && grep -q 'reason=limit-nodes' "$T/m.err"
ok $? "17 MB of <p>x (4.4 M markup starts): held, limit-nodes (exit $rc)"
! grep -q '<p>x<p>x' "$T/m.out"
ok $? "... none of the body is delivered"

done_testing
