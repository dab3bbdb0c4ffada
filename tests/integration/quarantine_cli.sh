#!/bin/sh
# The quarantine through the command line (TAP): sanitize --state keeps the original,
# the two-person release, refusals and their exit codes, Japanese and English output,
# purge by retention. Independent checks with cmp, sha256sum and sqlite3.
set -u
S=${SEKISHO:?}
T=$(mktemp -d /tmp/sk-qcli-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }
Q() { "$S" quarantine --state "$T/st" "$@"; }

printf 'MZ\220\000\003\000\000\000 not really a program' >"$T/invoice.exe"
"$S" sanitize --state "$T/st" -o "$T/out" "$T/invoice.exe" >"$T/san" 2>&1
check "sanitize --state blocks the executable (exit 1)" '[ $? -eq 1 ]'
id=$(Q --lang en list | awk -F '\t' 'NR == 2 { print $1 }')
check "the original is listed in quarantine ($id)" '[ -n "$id" ]'
sha=$(sha256sum "$T/invoice.exe" | cut -d' ' -f1)
obj="$T/st/objects/$(echo "$sha" | cut -c1-2)/$sha"
check "the stored original is the submitted file, named by its sha256" 'cmp -s "$obj" "$T/invoice.exe"'
check "object mode is 0600" '[ "$(stat -c %a "$obj")" = 600 ]'
check "show gives verdict and reason (en)" 'Q --lang en show "$id" | grep -q "^reason	executable"'
check "show is Japanese by default" 'LANG=ja_JP.UTF-8 LC_ALL= Q show "$id" | grep -q "^状態	保管中"'
check "the decision is in the audit log" '"$S" audit --state "$T/st" --lang en list | grep -q "	sanitize	item:$id sha256:$sha	blocked executable"'

# two-person release
Q approvers add chief --by admin >/dev/null
check "a non-approver cannot add approvers (exit 1)" '! Q approvers add eve --by eve >/dev/null 2>&1'
Q --lang en release "$id" -o "$T/early" >/dev/null 2>"$T/err"
check "release before a request is refused (exit 1)" '[ $? -eq 1 ] && grep -q "not been approved" "$T/err"'
check "request needs --reason" '! Q request "$id" --by alice >/dev/null 2>&1'
check "request by alice" 'Q request "$id" --by alice --reason "取引先への確認" >/dev/null'
LANG=ja_JP.UTF-8 LC_ALL= Q approve "$id" --by alice >/dev/null 2>"$T/err"
check "alice cannot approve her own request (exit 1, 二人制)" '[ $? -eq 1 ] && grep -q "二人制" "$T/err"'
Q --lang en approve "$id" --by bob >/dev/null 2>"$T/err"
check "bob holds no approving role (exit 1)" '[ $? -eq 1 ] && grep -q "approving role" "$T/err"'
check "release before approval is refused" '! Q release "$id" -o "$T/early" >/dev/null 2>&1 && [ ! -e "$T/early" ]'
check "chief approves" 'Q approve "$id" --by chief >/dev/null'
check "release writes the original after approval" 'Q release "$id" -o "$T/released.exe" --by alice >/dev/null && cmp -s "$T/released.exe" "$T/invoice.exe"'
check "state is released" 'Q --lang en show "$id" | grep -q "^state	released"'
check "a second release is refused" '! Q release "$id" -o "$T/again" >/dev/null 2>&1'
"$S" audit --state "$T/st" --lang en list >"$T/log"
for step in "alice	quarantine-request	item:$id sha256:$sha	ok" \
	"alice	quarantine-approve	item:$id sha256:$sha	refused: self-approval" \
	"bob	quarantine-approve	item:$id sha256:$sha	refused: not-approver" \
	"chief	quarantine-approve	item:$id sha256:$sha	ok" \
	"alice	quarantine-release	item:$id sha256:$sha	ok"; do
	check "audited: $(echo "$step" | cut -f1,2,4)" 'grep -qF "$step" "$T/log"'
done
check "the audit log verifies" '"$S" audit --state "$T/st" verify >/dev/null'

# retention: age the rows with sqlite3, then purge
printf 'second original' >"$T/b.bin"
"$S" sanitize --state "$T/st" "$T/b.bin" >/dev/null 2>&1
check "purge with the default retention removes nothing new" 'Q --lang en purge | grep -q "purged 0 items"'
sqlite3 "$T/st/quarantine.db" "UPDATE items SET received = received - 100*86400*1000000 WHERE id='$id'"
check "purge --older-than 90 purges the old item" 'Q --lang en purge --older-than 90 --by ops | grep -q "purged 1 items"'
check "its original is gone" '[ ! -e "$obj" ]'
check "its row stays, purged, with the hash" '[ "$(sqlite3 "$T/st/quarantine.db" "SELECT state, sha256 FROM items WHERE id=\"$id\"")" = "purged|$sha" ]'
check "the newer original stays" '[ -f "$T/st/objects/$(sha256sum "$T/b.bin" | cut -c1-2)/$(sha256sum "$T/b.bin" | cut -d" " -f1)" ]'
check "bad --older-than is refused" '! Q purge --older-than -3 >/dev/null 2>&1'
check "unknown id: exit 2" 'Q show nope >/dev/null 2>&1; [ $? -eq 2 ]'
check "default state folder under XDG_STATE_HOME" 'XDG_STATE_HOME="$T/xdg" Q_=1 "$S" quarantine list >/dev/null && [ -f "$T/xdg/sekisho/quarantine.db" ]'

echo "1..$n"
[ "$fails" -eq 0 ]
