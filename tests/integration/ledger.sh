#!/bin/sh
# sekisho ledger (TAP): add, list, update and show through the command line (Japanese and
# English messages, refusals with exit 1); the xlsx export opened by LibreOffice headless
# (converted to CSV: the values and the Japanese intact), its date cells and print settings
# read from the package; a CP932 CSV written by LibreOffice imported; a file with one bad
# row imports nothing and names the line; the audit records and `audit verify`.
set -u
. "$(dirname "$0")/tap.sh"
S=${SEKISHO:?}
P=${SK_SOURCE_ROOT:?}/examples/policy/default.yaml
T=$(mktemp -d /tmp/sk-ledger-XXXXXX)
trap 'rm -rf "$T"' EXIT
L() { "$S" ledger --state "$T/st" --policy "$P" "$@"; }

L add assets --by tanaka --field name=住民記録システム --field 種別=システム --field section=総務課 \
	--field manager=山田 --field 機密性=3A --field 完全性=2 --field 可用性=2 --field zone=mynumber \
	--field review=2026/4/1 --field "note=一行目
二行目" >"$T/id" 2>"$T/err"
ok $? "ledger add assets (headers as keys, a Japanese choice and section) exits 0"
check "the new record's ID is printed" grep -qx AS-0001 "$T/id"
LANG=ja_JP.UTF-8 LC_ALL= L add assets --field name=x --field 機密性=3 >/dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q "機密性「3」はポリシーの段階 (3A · 3B · 3C · 2 · 1) にありません" "$T/err" &&
	grep -q "種別 は必須です" "$T/err" && grep -q "何も変更していません" "$T/err"
ok $? "off the policy's scale and missing fields: exit 1, every problem in Japanese"
L --lang en add assets --field name=x --field 機密性=3 >/dev/null 2>"$T/err"
grep -q "Confidentiality '3' is not on the policy's scale" "$T/err"
ok $? "the same in English with --lang en"
L add exceptions --field what=USB --field why=災害 --field requested_by=山田 --field approved_by=情報政策課長 \
	--field from=2026-01-01 --field until=2026-02-01 >/dev/null 2>&1
L list exceptions --json >"$T/exc.json"
check "an expired exception is flagged (status expired)" grep -q '"status":"expired"' "$T/exc.json"
L add contractors --field company=株式会社保守 --field service=サーバ保守 >/dev/null 2>&1
L --lang en add entries --field area=サーバ室 --field person=高橋 --field person_kind=contractor \
	--field contractor=株式会社未登録 --field "in=2026-04-01 13:00" --field escort=山田 --field purpose=保守 \
	>/dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q "no record '株式会社未登録'" "$T/err"
ok $? "an entry of a contractor not registered in advance is refused"

# incidents: the chain of the policy, in order
L add incidents --by sato --field found_by=佐藤 --field "found_at=2026-04-01 09:05" --field what=不審なメール \
	--field severity=中 --field assets=住民記録システム >/dev/null 2>&1
ok $? "an incident linked to the asset by name"
L --lang en update incidents IN-0001 --by suzuki --field "chain.sysadmin.at=2026-04-01 09:30" \
	--field chain.sysadmin.by=鈴木 >/dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q "the steps go in order" "$T/err"
ok $? "a step before the one above it is refused (chain order)"
L update incidents IN-0001 --by sato --field "chain.staff.at=2026-04-01 09:10" --field chain.staff.by=佐藤 >/dev/null 2>&1 &&
	L update incidents IN-0001 --by suzuki --field "システム管理者 報告日時=2026-04-01 09:30" \
		--field "システム管理者 氏名=鈴木" >/dev/null 2>&1
ok $? "the steps in order (by key and by Japanese header)"
L --lang ja list incidents >"$T/inc.txt"
grep -q "^IN-0001	佐藤	2026-04-01 09:05	不審なメール	AS-0001	中	2026-04-01 09:10	佐藤	2026-04-01 09:30	鈴木" "$T/inc.txt"
ok $? "ledger list shows the record with its steps"
L show incidents IN-0001 >"$T/show.txt"
grep -q "v3.*suzuki.*ledger.update.*chain.sysadmin.by\":\[null,\"鈴木\"\]" "$T/show.txt"
ok $? "ledger show lists the history with the changed fields"
L update assets AS-0001 --field manager=佐々木 --by tanaka >/dev/null 2>&1
L list assets --json >"$T/assets.json"
json_get "$T/assets.json" manager >"$T/m"
check "update changed the manager" grep -qx 佐々木 "$T/m"
json_get "$T/assets.json" section >"$T/m"
check "the section is stored as its id" grep -qx somu "$T/m"

# the xlsx export, opened by LibreOffice
L export assets -o "$T/assets.xlsx" --lang ja >/dev/null 2>&1
ok $? "ledger export assets -o assets.xlsx"
L export training -o "$T/training.xlsx" >/dev/null 2>&1
python3 - "$T/assets.xlsx" "$T/training.xlsx" >"$T/xlsx.txt" <<'PY'
import re, sys, zipfile, datetime
z = zipfile.ZipFile(sys.argv[1])
wb = z.read("xl/workbook.xml").decode()
ws = z.read("xl/worksheets/sheet1.xml").decode()
st = z.read("xl/styles.xml").decode()
print("sheet", re.search(r'<sheet name="([^"]+)"', wb).group(1))
print("a4landscape", bool(re.search(r'<pageSetup paperSize="9"[^>]*orientation="landscape"', ws)))
print("fitwidth", bool(re.search(r'<pageSetup[^>]*fitToHeight="0"', ws)) and "fitToPage=\"1\"" in ws)
print("frozen", bool(re.search(r'<pane [^>]*ySplit="1"[^>]*state="frozen"', ws)))
print("titles", "_xlnm.Print_Titles" in wb)
print("datefmt", "yyyy-mm-dd" in st)
# the review date (column K of row 2) is a number: the Excel serial of 2026-04-01
m = re.search(r'<c r="K2"([^>]*)><v>([^<]+)</v>', ws)
serial = (datetime.date(2026, 4, 1) - datetime.date(1899, 12, 30)).days
print("datecell", bool(m) and 't="' not in m.group(1) and float(m.group(2)) == serial)
t = zipfile.ZipFile(sys.argv[2]).read("xl/workbook.xml").decode()
print("training", len(re.findall(r"<sheet ", t)))
PY
check "the sheet is named in Japanese" grep -qx "sheet 情報資産管理台帳" "$T/xlsx.txt"
check "A4 landscape" grep -qx "a4landscape True" "$T/xlsx.txt"
check "fitted to the page width" grep -qx "fitwidth True" "$T/xlsx.txt"
check "the header row is frozen" grep -qx "frozen True" "$T/xlsx.txt"
check "the header row repeats on every printed page" grep -qx "titles True" "$T/xlsx.txt"
check "dates are date cells (the serial number, a date format)" grep -qx "datecell True" "$T/xlsx.txt"
check "training: one sheet per table (3)" grep -qx "training 3" "$T/xlsx.txt"
if command -v soffice >/dev/null; then
	lo() { timeout 300 soffice -env:UserInstallation="file://$T/lo" --headless "$@" >/dev/null 2>&1; }
	lo --convert-to 'csv:Text - txt - csv (StarCalc):44,34,76' --outdir "$T/lo-out" "$T/assets.xlsx"
	ok $? "LibreOffice converts the xlsx to CSV"
	head -1 "$T/lo-out/assets.csv" >"$T/head"
	check "the Japanese headers are intact" \
		grep -q '^ID,資産名,種別,所管課,管理者,保管場所,機密性,完全性,可用性,ゾーン,見直し日,備考,取扱い (分類から),版' "$T/head"
	check "the values are intact (name, choice, section, scale, date, both lines of the note)" \
		grep -q '^AS-0001,住民記録システム,システム,総務課,佐々木,,3A,2,2,mynumber,2026-04-01,"一行目$' "$T/lo-out/assets.csv"
	check "the handling rules from the class are in the sheet" grep -q '機密性3A は所属ゾーンから出さない' "$T/lo-out/assets.csv"

	# a CSV in Shift_JIS written by LibreOffice (filter option 64), with a quoted line break
	printf '資産名,種別,所管課,管理者,機密性,完全性,可用性,ゾーン,見直し日,備考\n財務会計システム,システム,情報政策課,鈴木,2,1,1,lgwan,2026-05-01,"複数\n行"\n文書管理,文書,somu,田中,3B,1,1,lgwan,2026-06-30,\n' >"$T/in.csv"
	lo --infilter='CSV:44,34,76' --convert-to 'csv:Text - txt - csv (StarCalc):44,34,64' --outdir "$T/sj" "$T/in.csv"
	ok $? "LibreOffice writes the CSV in Shift_JIS"
	! iconv -f UTF-8 -t UTF-8 "$T/sj/in.csv" >/dev/null 2>&1 && iconv -f CP932 -t UTF-8 "$T/sj/in.csv" | grep -q 財務会計
	ok $? "the file is CP932, not UTF-8"
	L import assets "$T/sj/in.csv" --by tanaka >/dev/null 2>"$T/err"
	ok $? "ledger import reads LibreOffice's CP932 CSV"
	L list assets --json >"$T/assets.json"
	check "both rows were imported" sh -c "[ \$(wc -l <'$T/assets.json') -eq 3 ]"
	grep -q '"name":"財務会計システム".*"section":"johoseisaku".*"review":"2026-05-01","note":"複数\\n行"' "$T/assets.json"
	ok $? "the imported values: Japanese, the section's id, the date, the line break"
	# the export of LibreOffice's own round trip goes back in (IDs: updates, nothing changed)
	L import assets "$T/lo-out/assets.csv" --by tanaka >/dev/null 2>"$T/err"
	[ $? -eq 0 ] && grep -q "0 added, 0 changed\|追加 0 件、変更 0 件" "$T/err"
	ok $? "LibreOffice's CSV of the export imports as no change"
else
	skip "LibreOffice checks" "soffice not installed"
fi

# a file with one bad row: nothing imported, the line named (CRLF, a UTF-8 BOM, a row of 2 lines)
printf '\357\273\277資産名,種別,所管課,管理者,機密性,完全性,可用性,ゾーン,備考\r\nA,情報,総務課,a,1,1,1,lgwan,"x\r\ny"\r\nB,情報,総務課,b,9,1,1,lgwan,\r\nC,情報,総務課,c,1,1,1,lgwan,\r\n' >"$T/bad.csv"
L list assets --json | wc -l >"$T/before"
LANG=ja_JP.UTF-8 LC_ALL= L import assets "$T/bad.csv" >/dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q "^4 行目: confidentiality: 機密性「9」" "$T/err" && grep -q "何も取り込んでいません" "$T/err"
ok $? "a bad row: exit 1, its line (4) named in Japanese, nothing imported"
L --lang en import assets "$T/bad.csv" >/dev/null 2>"$T/err"
grep -q "^line 4: confidentiality:" "$T/err"
ok $? "the same in English"
L list assets --json | wc -l >"$T/after"
check "the ledger is as it was" cmp -s "$T/before" "$T/after"

# the gate opens an incident by itself: a DLP block (a 個人番号 going out by mail), linked
# to the item; a clean file opens none
printf '申請者 山田\n個人番号: 3847-5629-1044\n' >"$T/mn.txt"
printf 'お知らせ\n' >"$T/ok.txt"
"$S" sanitize --json --state "$T/st" --policy "$P" --from lgwan --to internet --channel mail --class 1 \
	-o "$T/out" "$T/mn.txt" "$T/ok.txt" >"$T/san.json" 2>/dev/null
grep '"reason":"dlp"' "$T/san.json" | grep -o '"quarantine_id":"[^"]*"' | cut -d'"' -f4 >"$T/qid"
grep '"reason":"dlp"' "$T/san.json" | grep -o '"incident":"IN-[0-9]*"' | cut -d'"' -f4 >"$T/iid"
[ -s "$T/qid" ] && [ -s "$T/iid" ] && [ "$(grep -c '"incident"' "$T/san.json")" -eq 1 ]
ok $? "a DLP block opens an incident (named in the result); the clean file none"
L list incidents --json | grep "\"id\":\"$(cat "$T/iid")\"" >"$T/auto.json"
grep -q "\"found_by\":\"sekisho\".*\"what\":\"DLP の規則により遮断しました: mn.txt.*\"state\":\"open\",\"item\":\"$(cat "$T/qid")\"" "$T/auto.json"
ok $? "the incident is open, says what happened and links the quarantined item"

# the asset ledger in the flow decision: AS-0001 is 機密性3A (kept in its zone by the
# policy's classification): marked with it (--asset, or 資産番号 in a docx found by DLP),
# a file internet -> lgwan is denied; unmarked it is delivered; an unknown asset is refused
SAN() { "$S" sanitize --json --state "$T/st" --policy "$P" --from internet --to lgwan -o "$T/aout" "$@"; }
printf '会議は10時からです。\n' >"$T/plain.txt"
SAN "$T/plain.txt" >"$T/a0.json" 2>/dev/null
[ "$(json_get "$T/a0.json" verdict)" != blocked ]
ok $? "unmarked: delivered ($(json_get "$T/a0.json" verdict))"
SAN --asset AS-0001 "$T/plain.txt" >"$T/a1.json" 2>/dev/null
[ "$(json_get "$T/a1.json" reason)" = policy-deny ] &&
	grep -q '"rule":"classification 機密性 >= 3A (asset AS-0001: 機密性:3A,完全性:2,可用性:2)"' "$T/a1.json" &&
	grep -q '"what":"asset","where":"","detail":"AS-0001 機密性:3A,完全性:2,可用性:2"' "$T/a1.json"
ok $? "--asset AS-0001: denied by the asset's class, the rule and an entry naming the asset"
LANG=ja_JP.UTF-8 LC_ALL= SAN --asset AS-0999 "$T/plain.txt" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "情報資産管理台帳にその資産はありません: AS-0999" "$T/err"
ok $? "an unknown asset: refused (exit 2) in Japanese"
SAN --lang en --asset AS-0999 "$T/plain.txt" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "the asset ledger has no such asset: AS-0999" "$T/err"
ok $? "... and in English"
"$S" sanitize --asset AS-0001 "$T/plain.txt" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q -- "--asset" "$T/err"
ok $? "--asset without --state and --policy: refused"
MK=${SK_SOURCE_ROOT}/tests/integration/make_docx.py
python3 "$MK" "$T/plain.docx" "議事録" "会議は10時から" &&
	python3 "$MK" "$T/marked.docx" "議事録" "情報資産番号|：|AS-0001" "会議は10時から"
SAN "$T/plain.docx" >"$T/d0.json" 2>/dev/null
SAN "$T/marked.docx" >"$T/d1.json" 2>/dev/null
[ "$(json_get "$T/d0.json" verdict)" != blocked ] && [ "$(json_get "$T/d1.json" reason)" = policy-deny ] &&
	grep -q '"what":"asset-marking","where":"word/document.xml line 2:3","detail":"AS-0001"' "$T/d1.json" &&
	grep -q '"rule":"classification 機密性 >= 3A (asset AS-0001: ' "$T/d1.json"
ok $? "a docx marked 情報資産番号：AS-0001 (found by DLP in its text): denied; the same unmarked: delivered"
"$S" audit list --state "$T/st" --json | grep '"action":"sanitize"' | grep -c 'asset AS-0001' >"$T/n"
[ "$(cat "$T/n")" -eq 2 ]
ok $? "the audit records of both name the asset and its class ($(cat "$T/n"))"

# the compliance cycle, in a state folder of its own: checklists, missing training, charts,
# reminders (dates relative to today: the command line has no clock of its own)
C() { "$S" ledger --state "$T/cy" --policy "$P" "$@"; }
LANG=ja_JP.UTF-8 LC_ALL= C checklist --period 2026年度 >"$T/cl" 2>&1
[ $? -eq 0 ] && grep -q "^2026年度: 点検項目 120 件を追加しました (既にあった 0 件はそのまま)" "$T/cl"
ok $? "checklist: 60 requirements for each of the policy's two sections (Japanese)"
C list inspections --json >"$T/cl.json"
[ "$(wc -l <"$T/cl.json")" -eq 120 ] && [ "$(grep -c '"section":"somu"' "$T/cl.json")" -eq 60 ] &&
	grep -q '"chapter":"強靭性の向上","requirement":"マイナンバー利用事務系.*か。\\n(Are .*?)","section":"johoseisaku","period":"2026年度","kind":"self"' "$T/cl.json"
ok $? "the items: chapter, the question in Japanese then English, section, period, kind"
C --lang en checklist --period 2026年度 >"$T/cl" 2>&1
[ $? -eq 0 ] && grep -q "^2026年度: 0 item(s) added, 120 already there" "$T/cl" && [ "$(C list inspections --json | wc -l)" -eq 120 ]
ok $? "checklist again adds nothing (English)"
C checklist --period 2026年度 --kind 監査 --section 総務課 >/dev/null 2>&1 &&
	[ "$(C list inspections --json | grep -c '"section":"somu","period":"2026年度","kind":"audit"')" -eq 60 ]
ok $? "checklist --kind audit --section (by name): one section's audit list"
LANG=ja_JP.UTF-8 LC_ALL= C checklist --period 2026年度 --section 経理課 >/dev/null 2>"$T/err"
[ $? -eq 1 ] && grep -q "何も追加していません.*所属「経理課」はポリシーの sections にありません" "$T/err"
ok $? "checklist for an unknown section: exit 1, nothing added"
C checklist >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "period" "$T/err"
ok $? "checklist without --period: exit 2"

# missing training: the console's users (auth.db) and the policy's users
printf '%s\n' 'Kx9#vq2!Lm7@pz' | "$S" user --state "$T/cy" --policy "$P" add tanaka --role staff \
	--section somu --by admin >/dev/null 2>&1
past=$(date -d '-10 days' +%F)
C add training --field course=情報セキュリティ研修 --field "date=$past" --field trainer=情報政策課 \
	--field audience=全職員 --field measure=test --field required=yes >/dev/null 2>&1 &&
	C add training --field course=来月の研修 --field "date=$(date -d '+40 days' +%F)" --field trainer=t \
		--field audience=全職員 --field measure=test --field required=yes >/dev/null 2>&1 &&
	C add training/sessions --field plan=TP-0001 --field "date=$past" >/dev/null 2>&1 &&
	C add training/attendance --field session=TS-0001 --field person=tanaka --field section=somu \
		--field attended=yes >/dev/null 2>&1 &&
	C add training/attendance --field session=TS-0001 --field person=情報政策課長 \
		--field section=johoseisaku --field attended=はい >/dev/null 2>&1 &&
	C add training/attendance --field session=TS-0001 --field person=joho-kanri \
		--field section=johoseisaku --field attended=いいえ >/dev/null 2>&1
ok $? "a required course, its session and attendance recorded"
C missing --json >"$T/miss.json"
python3 - "$T/miss.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
got = {p["user"]: [m["plan"] for m in p["missing"]] for p in o["people"]}
assert got == {"ciso01": ["TP-0001"], "joho-kanri": ["TP-0001"]}, got
k = [p for p in o["people"] if p["user"] == "joho-kanri"][0]
assert k["name"] == "情報政策課 システム担当" and k["section"] is None, k
PY
ok $? "missing --json: the policy's users who did not attend (by login or by name), tanaka from auth.db did"
LANG=ja_JP.UTF-8 LC_ALL= C missing >"$T/miss.txt" 2>&1
grep -q "^ciso01	-	情報セキュリティ研修 (TP-0001)" "$T/miss.txt" && ! grep -q "tanaka\|joho-kacho" "$T/miss.txt"
ok $? "missing: a table in Japanese"

# charts
C add incidents --field found_by=佐藤 --field "found_at=$(date -d '-1 days' '+%F 09:00')" --field what=誤送信 \
	--field severity=高 >/dev/null 2>&1
C add inspections/answers --field item=IC-0001 --field section=johoseisaku --field answer=実施 >/dev/null 2>&1 &&
	C add inspections/answers --field item=IC-0061 --field section=somu --field answer=未実施 \
		--field comment=来月対応 >/dev/null 2>&1 &&
	C add inspections/findings --field answer=IA-0002 --field finding=入退室記録なし --field owner=総務課長 \
		--field "due=$(date -d '-3 days' +%F)" --field state=open >/dev/null 2>&1
ok $? "an incident, two answers and a finding recorded"
C --lang en charts --json >"$T/charts.json"
python3 - "$T/charts.json" "$(date -d '-1 days' +%Y-%m)" "$(date +%F)" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
m = [x for x in o["incidents_by_month"] if x["month"] == sys.argv[2]]
assert len(o["incidents_by_month"]) == 12 and m and m[0]["high"] == 1, o["incidents_by_month"]
t = {x["section"]: (x["people"], x["completed"]) for x in o["training_by_section"]}
assert t == {"johoseisaku": (1, 1), "somu": (1, 1), None: (2, 0)}, t
i = o["inspections"]
assert i["period"] == "2026年度" and i["periods"] == ["2026年度"], i
s = {x["section"]: x for x in i["by_section"]}
assert s["johoseisaku"]["done"] == 1 and s["johoseisaku"]["unanswered"] == 59, s
assert s["somu"]["not_done"] == 1 and s["somu"]["unanswered"] == 119, s
assert s["somu"]["name"] == "General Affairs Division", s
assert i["by_chapter"][0]["chapter"] == "Resilience (the three-tier measures)", i["by_chapter"][0]
assert sum(x["open"] for x in o["findings_by_age"]) == 1 and o["findings_by_age"][0]["open"] == 1
assert o["today"] == sys.argv[3]
PY
ok $? "charts --json: each series from the records"

# reminders: an exception expiring soon, one expired, the overdue finding; each once
C add exceptions --field "what=USB メモリの使用" --field why=災害対応 --field requested_by=山田 \
	--field approved_by=情報政策課長 --field from=2026-01-01 --field "until=$(date -d '+5 days' +%F)" >/dev/null 2>&1 &&
	C add exceptions --field what=私物端末 --field why=試行 --field requested_by=鈴木 \
		--field approved_by=情報政策課長 --field from=2025-01-01 --field until=2025-02-01 >/dev/null 2>&1 &&
	C add exceptions --field what=遠い先 --field why=試行 --field requested_by=鈴木 \
		--field approved_by=情報政策課長 --field from=2025-01-01 --field "until=$(date -d '+60 days' +%F)" >/dev/null 2>&1
ok $? "three exceptions recorded"
LANG=ja_JP.UTF-8 LC_ALL= C remind --dry-run >"$T/rem" 2>"$T/err"
[ $? -eq 0 ] && [ "$(wc -l <"$T/rem")" -eq 3 ] &&
	grep -q "^例外措置 EX-0001「USB メモリの使用」の期限 $(date -d '+5 days' +%F) が近づいています (あと 5 日)。" "$T/rem" &&
	grep -q "^例外措置 EX-0002「私物端末」は期限 2025-02-01 を過ぎ、もう適用されません。" "$T/rem" &&
	grep -q "^指摘事項 IF-0001「入退室記録なし」は期限 .* を過ぎても対応中です。担当者: 総務課長。" "$T/rem" &&
	grep -q "試行: 送信済みにしていません" "$T/err"
ok $? "remind --dry-run: three reminders in Japanese"
C --lang en remind >"$T/rem" 2>/dev/null
[ $? -eq 0 ] && [ "$(wc -l <"$T/rem")" -eq 3 ] && grep -q '^Exception EX-0001 "USB メモリの使用" expires on' "$T/rem"
ok $? "remind (English): the same three, sent"
C remind >"$T/rem" 2>/dev/null && [ ! -s "$T/rem" ]
ok $? "remind again: nothing (each once)"
C remind --days 90 >"$T/rem" 2>/dev/null && [ "$(wc -l <"$T/rem")" -eq 1 ] && grep -q "EX-0003" "$T/rem"
ok $? "remind --days 90: the later exception only"
C remind --days x >/dev/null 2>&1
ok $(($? != 2)) "remind --days x: exit 2"

# audit
"$S" audit list --state "$T/st" --json >"$T/audit.jsonl"
grep -q '"actor":"tanaka","action":"ledger.add","object":"assets/AS-0001"' "$T/audit.jsonl"
ok $? "audit: ledger.add by its actor on assets/AS-0001"
grep -q '"action":"ledger.update","object":"assets/AS-0001".*manager.*山田.*佐々木' "$T/audit.jsonl"
ok $? "audit: ledger.update with the old and new value"
grep -q '"action":"ledger.import","object":"assets/AS-0003"' "$T/audit.jsonl"
ok $? "audit: ledger.import per record"
grep -q '"actor":"sekisho","action":"ledger.add","object":"incidents/IN-0002"' "$T/audit.jsonl"
ok $? "audit: the gate's incident"
"$S" audit verify --state "$T/st" --json >"$T/verify.json"
grep -q '"verdict":"ok".*"unsigned_records":0' "$T/verify.json"
ok $? "audit verify: ok, every record signed"
done_testing
