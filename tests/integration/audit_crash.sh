#!/bin/sh
# Crash tests (TAP): kill -9 during a stream of group-committed appends and during
# quarantine writes; after each restart the log verifies, every acknowledged record is
# present with its content, and no original is half-written.
set -u
S=${SEKISHO:?} X=${SK_STRESS:?}
T=$(mktemp -d /tmp/sk-crash-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

# run CMD in the background for SECS seconds, then kill -9 it (its own pid only)
run_and_kill() { # secs outfile cmd...
	secs=$1 out=$2
	shift 2
	"$@" >>"$out" 2>>"$T/stderr" &
	pid=$!
	sleep "$secs"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# --- audit: three crashes at different moments, 16 appending threads ---
: >"$T/acks"
for secs in 1 0.7 1.3; do
	run_and_kill "$secs" "$T/acks" "$X" audit "$T/log" 16
done
acked=$(grep -c '^ack ' "$T/acks")
check "appends were acknowledged before the kills ($acked)" '[ "$acked" -gt 100 ]'
check "the log verifies after kill -9" '"$S" audit --state "$T/log" --lang en verify >"$T/v" 2>&1 && grep -q "^OK" "$T/v"'
"$S" audit --state "$T/log" --lang en list | awk -F '\t' 'NR > 1 { print $1, $5 }' | sort >"$T/present"
grep '^ack ' "$T/acks" | awk '{ print $2, $3 }' | sort >"$T/want"
missing=$(comm -23 "$T/want" "$T/present" | wc -l)
check "every acknowledged record is present with its object (missing: $missing)" '[ "$missing" -eq 0 ]'
dups=$(awk '{print $1}' "$T/present" | uniq -d | wc -l)
check "no sequence number is used twice" '[ "$dups" -eq 0 ]'
# the log takes appends again after the crashes
check "appends continue after a crash" '"$S" audit --state "$T/log" append --actor a --action b --object c >/dev/null && "$S" audit --state "$T/log" verify >/dev/null'

# --- quarantine: kill -9 while originals (64 KiB – 4 MiB) are written ---
: >"$T/stored"
for secs in 0.5 0.9 0.35; do
	run_and_kill "$secs" "$T/stored" "$X" store "$T/q"
done
stored=$(grep -c '^ack ' "$T/stored")
check "originals were stored before the kills ($stored)" '[ "$stored" -gt 0 ]'
# every object file (not a temporary) holds exactly the bytes of its name
bad=0
for f in "$T"/q/objects/*/*; do
	[ -f "$f" ] || continue
	name=$(basename "$f")
	sum=$(sha256sum "$f" | cut -d' ' -f1)
	[ "$sum" = "$name" ] || bad=$((bad + 1))
done
check "no stored original is half-written ($bad bad)" '[ "$bad" -eq 0 ]'
# every acknowledged store has its row and its object
miss=0
while read -r _ id sha; do
	row=$(sqlite3 "$T/q/quarantine.db" "SELECT sha256 FROM items WHERE id='$id'")
	[ "$row" = "$sha" ] && [ -f "$T/q/objects/$(echo "$sha" | cut -c1-2)/$sha" ] || miss=$((miss + 1))
done <"$T/stored"
check "every acknowledged original is indexed and present ($miss missing)" '[ "$miss" -eq 0 ]'
# every row (acknowledged or not) points to a complete object
rows_bad=0
for sha in $(sqlite3 "$T/q/quarantine.db" "SELECT sha256 FROM items"); do
	f="$T/q/objects/$(echo "$sha" | cut -c1-2)/$sha"
	[ -f "$f" ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ] || rows_bad=$((rows_bad + 1))
done
check "every index row has its complete original ($rows_bad bad)" '[ "$rows_bad" -eq 0 ]'
# temporary files of the killed writer are removed at the next open
before=$(find "$T/q/objects" -name '.tmp.*' | wc -l)
"$S" quarantine --state "$T/q" list >/dev/null 2>&1
left=$(find "$T/q/objects" -name '.tmp.*' | wc -l)
check "left-over temporary files are cleaned at the next open ($before before, $left left)" '[ "$left" -eq 0 ]'

echo "1..$n"
[ "$fails" -eq 0 ]
