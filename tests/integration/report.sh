#!/bin/sh
# sekisho report (TAP): the yearly report for the 情報セキュリティ委員会 from a state folder
# seeded with real items (sanitize --state: clean, sanitized, blocked, held; a release
# approved and one refused by console users) and ledger records (incidents, training,
# inspections) on both sides of the fiscal year's edges. The xlsx is converted to CSV per
# sheet by LibreOffice headless and its figures compared with what was seeded; the PDF's
# text (pdftotext) has the Japanese titles; the English report; LibreOffice missing or
# failing: exit 2, a message in the user's language, the xlsx written, no temp files left.
# Items dated in another year are the unit test's (tests/unit/test_report.c sets the clock).
set -u
. "$(dirname "$0")/tap.sh"
S=${SEKISHO:?}
P=${SK_SOURCE_ROOT:?}/examples/policy/default.yaml
T=$(mktemp -d /tmp/sk-report-XXXXXX)
trap 'rm -rf "$T"' EXIT
[ -n "${SK_KEEP:-}" ] && trap - EXIT
mkdir "$T/tmp"
L() { "$S" ledger --state "$T/st" --policy "$P" --by tanaka "$@" >/dev/null 2>"$T/seed.1" ||
	{ echo "refused: $*" && cat "$T/seed.1"; } >>"$T/seed.err"; }
: >"$T/seed.err"
Q() { "$S" quarantine --state "$T/st" "$@"; }
# the fiscal year the items fall in: today's in JST (April to March)
FY=$(TZ=Asia/Tokyo date +%Y)
[ "$(TZ=Asia/Tokyo date +%m)" -lt 4 ] && FY=$((FY - 1))
NY=$((FY + 1)) PY=$((FY - 1))

# ---- the gateway: 2 clean, 1 sanitized, 2 blocked (executable), 2 held ----
printf 'お知らせ\n' >"$T/a.txt"
printf '議事録\n' >"$T/b.txt"
printf 'a,b\n=1+1,2\n' >"$T/f.csv"
printf 'MZ\220\000\003\000 one' >"$T/x1.exe"
printf 'MZ\220\000\003\000 two' >"$T/x2.exe"
printf '送付状 1\n' >"$T/h1.txt"
printf '送付状 2\n' >"$T/h2.txt"
"$S" sanitize --json --state "$T/st" -o "$T/out" "$T/a.txt" "$T/b.txt" "$T/f.csv" "$T/x1.exe" "$T/x2.exe" \
	>"$T/san.json" 2>/dev/null
[ "$(grep -c '"verdict":"clean"' "$T/san.json")" -eq 2 ] && [ "$(grep -c '"verdict":"sanitized"' "$T/san.json")" -eq 1 ] &&
	[ "$(grep -c '"reason":"executable"' "$T/san.json")" -eq 2 ]
ok $? "seeded: 2 clean, 1 sanitized, 2 blocked (executable)"
"$S" sanitize --state "$T/st" --policy "$P" --from lgwan --to internet --lang en -o "$T/out" "$T/h1.txt" "$T/h2.txt" \
	>"$T/held" 2>&1
grep -Eo "quarantine ID [0-9]{8}-[0-9a-f]{8}" "$T/held" | cut -d" " -f3 >"$T/hids"
[ "$(wc -l <"$T/hids")" -eq 2 ]
ok $? "seeded: 2 held for approval (lgwan to internet)"
h1=$(sed -n 1p "$T/hids") h2=$(sed -n 2p "$T/hids")
printf '%s\n' 'Kx9#vq2!Lm7@pz' >"$T/pw"
for u in "alice --role staff" "joho-kacho --role staff" "tanaka --role staff --role security-manager"; do
	# shellcheck disable=SC2086
	"$S" user add $u --state "$T/st" --policy "$P" --password-file "$T/pw" --by admin >/dev/null 2>&1
done
Q request "$h1" --by alice --reason 送付 --policy "$P" >/dev/null 2>&1 &&
	Q approve "$h1" --by joho-kacho --policy "$P" >/dev/null 2>&1 &&
	Q request "$h2" --by alice --reason 送付 --policy "$P" >/dev/null 2>&1 &&
	Q refuse "$h2" --by tanaka --policy "$P" --comment 不要 >/dev/null 2>&1
ok $? "seeded: a release approved (joho-kacho), one refused (tanaka)"

# ---- the ledgers, with records just outside the year on both sides ----
L add incidents --field found_by=佐藤 --field "found_at=$FY-04-01 00:00" --field what=年度初日の事故 --field severity=高
L add incidents --field found_by=鈴木 --field "found_at=$FY-05-15 10:00" --field what=誤送信 --field severity=中
L add incidents --field found_by=高橋 --field "found_at=$NY-03-31 23:59" --field what=年度末日の事故 --field severity=低 \
	--field state=closed --field result=解決
L add incidents --field found_by=佐藤 --field "found_at=$FY-03-31 23:59" --field what=前年度の事故 --field severity=高
L add incidents --field found_by=佐藤 --field "found_at=$NY-04-01 00:00" --field what=翌年度の事故 --field severity=高
L add training/plans --field course=情報セキュリティ研修 --field kind=awareness --field date=$FY-06-01 \
	--field trainer=情報政策課 --field audience=全職員 --field measure=test --field required=yes
L add training/plans --field course=前年度の研修 --field date=$PY-06-01 --field trainer=x --field audience=y \
	--field measure=survey
L add training/sessions --field plan=TP-0001 --field date=$FY-06-01
L add training/sessions --field plan=TP-0001 --field date=$FY-06-08
L add training/sessions --field plan=TP-0002 --field date=$PY-06-01
L add training/attendance --field session=TS-0001 --field person=佐藤 --field section=somu --field attended=yes
L add training/attendance --field session=TS-0001 --field person=鈴木 --field section=somu --field attended=yes
L add training/attendance --field session=TS-0002 --field person=佐藤 --field section=somu --field attended=yes
L add training/attendance --field session=TS-0001 --field person=高橋 --field section=johoseisaku --field attended=no
L add training/attendance --field session=TS-0003 --field person=田中 --field section=johoseisaku --field attended=yes
L add inspections/checklists --field chapter=技術的 --field requirement=パスワード --field section=somu \
	--field period=${FY}年度 --field kind=self
L add inspections/checklists --field chapter=技術的 --field requirement=ログ --field section=somu \
	--field period=${FY}年度 --field kind=self
L add inspections/checklists --field chapter=運用 --field requirement=例外措置 --field section=johoseisaku \
	--field period=${FY}年度 --field kind=self
L add inspections/checklists --field chapter=技術的 --field requirement=前年度 --field section=somu \
	--field period=${PY}年度 --field kind=self
L add inspections/answers --field item=IC-0001 --field section=somu --field answer=done
L add inspections/answers --field item=IC-0003 --field section=johoseisaku --field answer=partial --field comment=一部のみ
L add inspections/answers --field item=IC-0004 --field section=somu --field answer=not-done --field comment=未着手
L add inspections/findings --field answer=IA-0002 --field finding=例外措置の期限管理 --field owner=山田 \
	--field due=$PY-04-30 --field state=open
L add inspections/findings --field answer=IA-0002 --field finding=台帳の更新 --field owner=山田 \
	--field due=$NY-01-31 --field state=closed --field closed_on=$FY-12-01
[ ! -s "$T/seed.err" ]
ok $? "seeded the ledgers (incidents, training, inspections) without a refusal"
while read -r l; do diag "$l"; done <"$T/seed.err"

# ---- the report ----
TMPDIR="$T/tmp" "$S" report --year "$FY" --state "$T/st" --policy "$P" -o "$T/r.xlsx" --pdf "$T/r.pdf" \
	--lang ja >"$T/out.txt" 2>"$T/err"
ok $? "sekisho report --year $FY -o r.xlsx --pdf r.pdf exits 0"
grep -q "${FY}年度の報告" "$T/err"
ok $? "it says so in Japanese"
[ -s "$T/r.xlsx" ] && [ "$(head -c 5 "$T/r.pdf")" = "%PDF-" ]
ok $? "the xlsx and the PDF are written"
[ -z "$(ls -A "$T/tmp")" ]
ok $? "LibreOffice's temporary folder (profile, output) is removed"
python3 - "$T/r.xlsx" >"$T/x.txt" <<'PY'
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
wb = z.read("xl/workbook.xml").decode()
print("sheets", "|".join(re.findall(r'<sheet name="([^"]+)"', wb)))
n = len(re.findall(r"<sheet ", wb))
ws = [z.read("xl/worksheets/sheet%d.xml" % i).decode() for i in range(1, n + 1)]
print("a4landscape", all(re.search(r'<pageSetup paperSize="9"[^>]*orientation="landscape"', w) for w in ws))
print("titles", len(re.findall(r'_xlnm.Print_Titles', wb)) == n)
print("datefmt", "yyyy-mm" in z.read("xl/styles.xml").decode())
PY
check "five sheets with Japanese names" grep -qx "sheets 概要|ゲートウェイ|事故|研修|自己点検・監査" "$T/x.txt"
check "every sheet A4 landscape" grep -qx "a4landscape True" "$T/x.txt"
check "every sheet repeats its header rows when printed" grep -qx "titles True" "$T/x.txt"

if ! command -v soffice >/dev/null; then
	skip "LibreOffice checks" "soffice not installed"
	done_testing
	exit
fi
# the English report, and the year before (nothing of this year's)
"$S" report --year "$FY" --state "$T/st" --policy "$P" -o "$T/en.xlsx" --lang en >/dev/null 2>"$T/err"
ok $? "the English report"
"$S" report --year "$PY" --state "$T/st" --policy "$P" -o "$T/py.xlsx" --lang ja >/dev/null 2>&1
ok $? "the report of the year before"
# every sheet of the three to its own CSV (token 12: -1), cells as shown (token 9)
timeout 300 soffice -env:UserInstallation="file://$T/lo" --headless \
	--convert-to 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1' \
	--outdir "$T/csv" "$T/r.xlsx" "$T/en.xlsx" "$T/py.xlsx" >/dev/null 2>&1
ok $? "LibreOffice converts each sheet to CSV"
C="$T/csv/r"
has() { # has SHEET LINE: the sheet's CSV has the line (the empty cells after it aside)
	sed 's/,*$//' "$C-$1.csv" | grep -qxF -- "$2"
	ok $? "$1: $2"
}
has 概要 "報告,団体名,例示市"
has 概要 "報告,期間の初日,$FY-04-01"
has 概要 "報告,期間の末日,$NY-03-31"
has 概要 "ゲートウェイ,受け付けた項目,7"
has 概要 "ゲートウェイ,無害化なしで通過,2"
has 概要 "ゲートウェイ,無害化して通過,1"
has 概要 "ゲートウェイ,承認待ちで保留,2"
has 概要 "ゲートウェイ,遮断,2"
has 概要 "ゲートウェイ,取り出し申請,2"
has 概要 "ゲートウェイ,取り出し承認,1"
has 概要 "ゲートウェイ,取り出し却下,1"
has 概要 "事故,事故の件数,3"
has 概要 "事故,重大度 高,1"
has 概要 "事故,対応中,2"
has 概要 "研修,研修計画,1"
has 概要 "研修,実施回数,2"
has 概要 "研修,受講 (延べ),3"
has 概要 "自己点検・監査,回答 実施,1"
has 概要 "自己点検・監査,回答 一部,1"
has 概要 "自己点検・監査,回答 未実施,0"
has 概要 "自己点検・監査,回答 未回答,1"
has 概要 "自己点検・監査,指摘事項,2"
has 概要 "自己点検・監査,指摘事項 期限超過,1"
m=$(TZ=Asia/Tokyo date +%Y-%m)
g=$(grep "^$m," "$C-ゲートウェイ.csv" | head -1)
[ "$g" = "$m,2,1,2,2,0,7" ]
ok $? "ゲートウェイ: this month's row has the items by verdict ($g)"
has ゲートウェイ "計,2,1,2,2,0,7"
has ゲートウェイ "1,executable,実行形式・スクリプト・ショートカット等は受け付けません,2"
grep -q "^[12],held,承認待ち.*,2,*$" "$C-ゲートウェイ.csv"
ok $? "ゲートウェイ: held items among the reasons, with their count"
has ゲートウェイ "計,2,1,1"
grep -q "^IN-0001,$FY-04-01 00:00,高,対応中,年度初日の事故,佐藤," "$C-事故.csv"
ok $? "事故: the first day's incident is listed with its state"
grep -q "^IN-0003,$NY-03-31 23:59,低,完了,年度末日の事故," "$C-事故.csv"
ok $? "事故: the last day's incident, closed"
! grep -q "前年度の事故\|翌年度の事故" "$C-事故.csv"
ok $? "事故: incidents of the years before and after are not listed"
has 事故 "$FY-04,1,0,0,1"
has 事故 "$FY-05,0,1,0,1"
has 事故 "$NY-03,0,0,1,1"
has 事故 "計,1,1,1,3"
grep -q "^TP-0001,情報セキュリティ研修,情報セキュリティ研修 (全職員),$FY-06-01,はい,2,3,1$" "$C-研修.csv"
ok $? "研修: the year's plan, its 2 sessions, 3 attended and 1 absent"
! grep -q "前年度の研修" "$C-研修.csv"
ok $? "研修: last year's plan is not the year's"
has 研修 "総務課,2,3,0"
has 研修 "情報政策課,0,0,1"
has 自己点検・監査 "自己点検,総務課,1,0,0,0,1,2"
has 自己点検・監査 "自己点検,情報政策課,0,1,0,0,0,1"
has 自己点検・監査 "自己点検,技術的,1,0,0,0,1,2"
has 自己点検・監査 "自己点検,運用,0,1,0,0,0,1"
has 自己点検・監査 "IF-0001,例外措置の期限管理,山田,$PY-04-30,対応中,,はい"
has 自己点検・監査 "IF-0002,台帳の更新,山田,$NY-01-31,完了,$FY-12-01,いいえ"

pdftotext "$T/r.pdf" "$T/r.txt"
for t in "情報セキュリティ年次報告 (${FY}年度)" "ゲートウェイの判定" "情報セキュリティ事故" "研修の計画と実施" "自己点検・監査の結果" 例示市; do
	grep -qF "$t" "$T/r.txt"
	ok $? "the PDF's text has $t"
done

# ---- English ----
sed -i 's/,*$//' "$T"/csv/en-*.csv "$T"/csv/py-*.csv
grep -qxF "Gateway,Blocked,2" "$T/csv/en-Summary.csv" && grep -qxF "Month,Clean,Sanitized,Held,Blocked,Undecided,Total" "$T/csv/en-Gateway.csv" &&
	grep -q "^IN-0002,$FY-05-15 10:00,medium,open," "$T/csv/en-Incidents.csv"
ok $? "English sheet names, headers and values"

# ---- another year: nothing of this one ----
grep -qxF "ゲートウェイ,受け付けた項目,0" "$T/csv/py-概要.csv" && grep -qxF "事故,事故の件数,1" "$T/csv/py-概要.csv" &&
	grep -q "前年度の事故" "$T/csv/py-事故.csv"
ok $? "the year before: none of this year's items, its own incident"

# ---- LibreOffice missing or failing ----
mkdir "$T/bin"
for c in python3 sh; do ln -s "$(command -v $c)" "$T/bin/$c"; done
LANG=ja_JP.UTF-8 LC_ALL= PATH="$T/bin" TMPDIR="$T/tmp" "$S" report --year "$FY" --state "$T/st" --policy "$P" \
	-o "$T/n.xlsx" --pdf "$T/n.pdf" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "LibreOffice (soffice) がありません" "$T/err" && [ ! -e "$T/n.pdf" ] && [ -s "$T/n.xlsx" ]
ok $? "soffice missing: exit 2, said in Japanese, no PDF (the xlsx is written)"
printf '#!/bin/sh\necho broken >&2\nexit 3\n' >"$T/bin/soffice"
chmod +x "$T/bin/soffice"
PATH="$T/bin" TMPDIR="$T/tmp" "$S" report --lang en --year "$FY" --state "$T/st" --policy "$P" \
	-o "$T/n.xlsx" --pdf "$T/n.pdf" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "LibreOffice failed (exit status 3)" "$T/err" && [ ! -e "$T/n.pdf" ]
ok $? "soffice failing: exit 2, said in English, no PDF"
[ -z "$(ls -A "$T/tmp")" ]
ok $? "no temporary files left after the failures"
done_testing
