#!/bin/sh
# PPAP through the command line (TAP): a password ZIP made with `zip -P` (ZipCrypto) is
# held `encrypted` by sanitize --state; `quarantine unlock` with wrong passwords is
# refused and counted, with the right one writes a sanitised ZIP without a password (the
# docm inside rebuilt as docx, its vbaProject.bin gone); 6 passwords refused; the 11th
# try refused; the password never in the state folder (audit.db, quarantine.db, WAL),
# the output or stderr (the worker's too). $SEKISHO_WORKER: the real, sandboxed worker.
set -u
S=${SEKISHO:?}
T=$(mktemp -d /tmp/sk-ppap-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }
Q() { "$S" quarantine --state "$T/st" "$@"; }
PW='Himitsu-2026#kaigi'

# a docm with a macro project, then the PPAP archive around it
python3 - "$T/会議資料.docm" <<'EOF'
import sys, zipfile
ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>'
      '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
      '<Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>')
rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
doc = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
       '<w:body><w:p><w:r><w:t>会議資料</w:t></w:r></w:p></w:body></w:document>')
drels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('[Content_Types].xml', ct)
    z.writestr('_rels/.rels', rels)
    z.writestr('word/document.xml', doc)
    z.writestr('word/_rels/document.xml.rels', drels)
    z.writestr('word/vbaProject.bin', b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 Sub AutoOpen()')
EOF
(cd "$T" && zip -q -P "$PW" ppap.zip 会議資料.docm && cp ppap.zip ppap2.zip && cp ppap.zip ppap3.zip)

"$S" sanitize --state "$T/st" --json "$T/ppap.zip" >"$T/san" 2>"$T/err"
check "sanitize holds the password ZIP (exit 1, encrypted)" '[ $? -eq 1 ] && grep -q "\"reason\":\"encrypted\"" "$T/san"'
"$S" sanitize --state "$T/st" "$T/ppap2.zip" >/dev/null 2>&1
id=$(Q --lang en list | awk -F '\t' 'NR == 3 { print $1 }')
id2=$(Q --lang en list | awk -F '\t' 'NR == 2 { print $1 }')
check "two items held ($id, $id2)" '[ -n "$id" ] && [ -n "$id2" ] && [ "$id" != "$id2" ]'
# the people who unlock: console users (sekisho user add; no TOTP needed for the CLI)
cat >"$T/u.yaml" <<'YAML'
version: 1
zones:
  mynumber: { networks: [192.0.2.0/25], gateway: { interface: sk-myn, address: 192.0.2.1 } }
  lgwan: { networks: [198.51.100.0/24], gateway: { interface: sk-lgwan, address: 198.51.100.1 } }
  internet: { networks: [203.0.113.0/24], gateway: { interface: sk-inet, address: 203.0.113.1 } }
roles:
  staff: { name: 職員 }
  security-manager: { name: 情報セキュリティ管理者 }
YAML
for u in tanaka suzuki; do
	printf 'Kx9#vq2!Lm7@pz\n' | "$S" user add "$u" --role staff --state "$T/st" --policy "$T/u.yaml" >/dev/null 2>&1
done

# wrong passwords: refused, counted, Japanese by default and English
printf 'wrong-1\nwrong-2\n' >"$T/bad"
LANG=ja_JP.UTF-8 LC_ALL= Q unlock "$id" --by tanaka --password-file "$T/bad" -o "$T/out.zip" \
	>"$T/o1" 2>"$T/e1"
check "wrong passwords: exit 1, パスワードが違います, 誤り 1/10" \
	'[ $? -eq 1 ] && grep -q "パスワードが違います" "$T/e1" && grep -q "1/10" "$T/e1"'
check "nothing written for wrong passwords" '[ ! -e "$T/out.zip" ]'
Q --lang en unlock "$id" --by tanaka -o "$T/out.zip" <"$T/bad" >/dev/null 2>"$T/e2"
check "from stdin, in English: the password is wrong, 2 of 10" \
	'[ $? -eq 1 ] && grep -q "password is wrong" "$T/e2" && grep -q "2 of 10" "$T/e2"'
printf '1\n2\n3\n4\n5\n%s\n' "$PW" >"$T/six"
Q --lang en unlock "$id" --by tanaka -o "$T/out.zip" --password-file "$T/six" >/dev/null 2>"$T/e3"
check "6 passwords refused (exit 2)" '[ $? -eq 2 ] && grep -q "at most 5" "$T/e3" && [ ! -e "$T/out.zip" ]'
Q unlock "$id" -o "$T/out.zip" --by tanaka </dev/null >/dev/null 2>&1
check "no password: exit 2" '[ $? -eq 2 ]'

# the right one among wrong ones
printf 'wrong-3\r\n%s\r\n' "$PW" >"$T/good"
Q --lang en --json unlock "$id" --by tanaka -o "$T/out.zip" --password-file "$T/good" \
	>"$T/o4" 2>"$T/e4"
check "right password: exit 0, unlocked, sanitized" \
	'[ $? -eq 0 ] && grep -q "\"status\":\"unlocked\"" "$T/o4" && grep -q "\"verdict\":\"sanitized\"" "$T/o4"'
check "the output has no password and holds the docx" \
	'python3 -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); i = z.infolist(); sys.exit(not (all(not (e.flag_bits & 1) for e in i) and [e.filename for e in i] == [\"会議資料.docx\"]))" "$T/out.zip"'
(cd "$T" && mkdir -p x && cd x && unzip -q ../out.zip && unzip -q -o 会議資料.docx -d docx) 2>/dev/null
check "the docm came out as a docx without vbaProject.bin" \
	'[ -f "$T/x/docx/word/document.xml" ] && [ ! -e "$T/x/docx/word/vbaProject.bin" ] && grep -q "会議資料" "$T/x/docx/word/document.xml"'
check "the item's new verdict is recorded" 'Q --lang en show "$id" | grep -q "^verdict	sanitized"'
Q --lang en unlock "$id" --by tanaka -o "$T/again.zip" --password-file "$T/good" >/dev/null 2>"$T/e5"
check "an unlocked item cannot be unlocked again" '[ $? -eq 1 ] && grep -q "not a held password" "$T/e5"'

# ten wrong tries on the other item, the eleventh refused even with the right password
i=0
while [ $i -lt 10 ]; do
	Q unlock "$id2" --by suzuki -o "$T/o2.zip" --password-file "$T/bad" >/dev/null 2>&1
	i=$((i + 1))
done
Q --lang en unlock "$id2" --by suzuki -o "$T/o2.zip" --password-file "$T/good" >/dev/null 2>"$T/e6"
check "the 11th try is refused (exit 1, too many)" '[ $? -eq 1 ] && grep -q "too many wrong" "$T/e6" && [ ! -e "$T/o2.zip" ]'
"$S" audit --state "$T/st" --lang en list >"$T/audit"
check "every try is on record (action unlock, actor, result)" \
	'[ "$(grep -c "	suzuki	unlock	item:$id2 .*	refused wrong-password" "$T/audit")" -eq 10 ] && grep -q "	suzuki	unlock	item:$id2 .*	refused too-many-attempts" "$T/audit" && grep -q "	tanaka	unlock	item:$id .*	sanitized" "$T/audit"'
check "the audit log verifies" '"$S" audit --state "$T/st" verify >/dev/null 2>&1'

# who unlocks: a console user (sekisho user add), the rights from the policy's roles
# (upload); a typed name of nobody, a disabled user, a role without upload: refused
PW3='Kx9#vq2!Lm7@pz'
cat >"$T/p.yaml" <<'YAML'
version: 1
zones:
  mynumber: { networks: [192.0.2.0/25], gateway: { interface: sk-myn, address: 192.0.2.1 } }
  lgwan: { networks: [198.51.100.0/24], gateway: { interface: sk-lgwan, address: 198.51.100.1 } }
  internet: { networks: [203.0.113.0/24], gateway: { interface: sk-inet, address: 203.0.113.1 } }
roles:
  staff: { name: 職員 }
  security-manager: { name: 情報セキュリティ管理者 }
  auditor: { name: 監査員 }
YAML
"$S" sanitize --state "$T/st" "$T/ppap3.zip" >/dev/null 2>&1
id3=$(Q --lang en list | awk -F '\t' 'NR == 2 { print $1 }')
printf '%s\n' "$PW3" | "$S" user add kansa --role auditor --state "$T/st" --policy "$T/p.yaml" >/dev/null 2>&1
printf '%s\n' "$PW3" | "$S" user add sato --role staff --state "$T/st" --policy "$T/p.yaml" >/dev/null 2>&1
Q --lang en unlock "$id3" --by Tanaka -o "$T/o3.zip" --password-file "$T/good" >/dev/null 2>"$T/e7"
check "--by Tanaka is nobody (exit 1)" '[ $? -eq 1 ] && grep -q "no such user" "$T/e7" && [ ! -e "$T/o3.zip" ]'
Q --lang en unlock "$id3" --by kansa --policy "$T/p.yaml" -o "$T/o3.zip" --password-file "$T/good" >/dev/null 2>"$T/e8"
check "an auditor (no upload right) may not unlock (exit 1, audited)" '[ $? -eq 1 ] && grep -q "may not unlock" "$T/e8" && [ ! -e "$T/o3.zip" ] && "$S" audit --state "$T/st" list | grep -q "	kansa	unlock	item:$id3 .*	refused no-right	"'
check "the refusal used no try" '[ "$(sqlite3 "$T/st/quarantine.db" "SELECT unlock_tries FROM items WHERE id=\"$id3\"")" -eq 0 ]'
"$S" user disable sato --state "$T/st" >/dev/null 2>&1
Q --lang en unlock "$id3" --by sato -o "$T/o3.zip" --password-file "$T/good" >/dev/null 2>"$T/e9"
check "a disabled user may not unlock (exit 1)" '[ $? -eq 1 ] && grep -q "disabled" "$T/e9" && [ ! -e "$T/o3.zip" ]'
"$S" user enable sato --state "$T/st" >/dev/null 2>&1
check "sato (staff: upload) unlocks under the policy" 'Q unlock "$id3" --by sato --policy "$T/p.yaml" -o "$T/o3.zip" --password-file "$T/good" >/dev/null 2>&1 && [ -s "$T/o3.zip" ]'

# the password nowhere: state folder (databases and their WAL), outputs, stderr
check "the password is in no file of the state folder" '! grep -rqa -- "$PW" "$T/st"'
check "the password is in no output or error message" \
	'! grep -qa -- "$PW" "$T/o1" "$T/e1" "$T/e2" "$T/e3" "$T/o4" "$T/e4" "$T/e5" "$T/e6" "$T/audit" "$T/out.zip"'
check "nor the wrong ones" '! grep -rqa -- "wrong-3" "$T/st" "$T/e4" "$T/o4"'

echo "1..$n"
[ "$fails" -eq 0 ]
