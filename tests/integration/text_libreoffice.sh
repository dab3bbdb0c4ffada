#!/usr/bin/env bash
# The text module against a real spreadsheet: a CP932 CSV with formula and DDE cells is
# sanitised by `sekisho sanitize`, then LibreOffice (headless) imports both the original and
# the result as Shift_JIS (MS-932) CSV *with formula evaluation on* and saves them as xlsx.
# The original must come out with formula cells (so the check can fail), the result with
# none, the neutralised cells as text beginning with ', numbers still numbers, telephone
# numbers (+81-3-1234-5678) the text they were, unprefixed, and the Japanese intact. The
# cells are read back from the xlsx by python (reference, type, value). TAP output.
# Usage: text_libreoffice.sh path/to/sekisho
set -uo pipefail
sekisho=$1
if ! command -v soffice >/dev/null || ! command -v unzip >/dev/null || ! command -v iconv >/dev/null ||
	! command -v python3 >/dev/null; then
	echo "1..0 # SKIP soffice, unzip, iconv or python3 not installed"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
fails=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

echo "1..15"
printf '%s\r\n' '氏名,金額,式,備考,電話,式2' \
	'山田太郎,100,=1+1,①㈱,+81-3-1234-5678,@SUM(B2:B3)' \
	'鈴木花子,-5,"=HYPERLINK(""http://example.invalid/?""&A2,""リンク"")",ソフト表示,+1 (555) 010-9999,-1234' \
	"佐藤一郎,+81,=cmd|' /C calc'!A0,\"東京都, 千代田区\",+81 90 1234 5678,+cmd|' /C calc'!A0" \
	'高橋,-1.5e3,-2+3,"複数行' \
	'=の備考",03-1234-5678,"-1,234.5"' | iconv -f UTF-8 -t CP932 >"$work/kingaku.csv"
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

# the cells as LibreOffice holds them: reference, type (f formula, n number, s text), value
cells() {
	python3 - "$1" <<'PY'
import re, sys, zipfile
from xml.etree import ElementTree as ET
ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
z = zipfile.ZipFile(sys.argv[1])
ss = []
if "xl/sharedStrings.xml" in z.namelist():
    for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", ns):
        ss.append("".join(t.text or "" for t in si.iter("{%s}t" % ns["m"])))
for c in ET.fromstring(z.read("xl/worksheets/sheet1.xml")).iter("{%s}c" % ns["m"]):
    v = c.find("m:v", ns)
    v = v.text if v is not None else ""
    t = "f" if c.find("m:f", ns) is not None else c.get("t", "n")
    if t == "s":
        v = ss[int(v)]
    print("%s\t%s\t%s" % (c.get("r"), t, v.replace("\n", "\\n")))
PY
}
cells "$work/x-out/kingaku.xlsx" >"$work/cells.out" && cells "$work/x-orig/kingaku.xlsx" >"$work/cells.orig"
ok $? "the cells of both workbooks read back"
grep -qxF "$(printf 'E2\ts\t+81-3-1234-5678')" "$work/cells.out" &&
	grep -qxF "$(printf 'E3\ts\t+1 (555) 010-9999')" "$work/cells.out" &&
	grep -qxF "$(printf 'E4\ts\t+81 90 1234 5678')" "$work/cells.out" &&
	grep -qxF "$(printf 'E5\ts\t03-1234-5678')" "$work/cells.out"
ok $? "telephone numbers are the text they were, without a ' (+81-3-1234-5678, +1 (555) 010-9999 …)"
grep -qF -- ',+81-3-1234-5678,' "$work/out.utf8" && grep -qF -- ',+1 (555) 010-9999,' "$work/out.utf8"
ok $? "the telephone numbers' bytes are unchanged in the sanitised CSV"
grep -qxF "$(printf 'B3\tn\t-5')" "$work/cells.out" && grep -qxF "$(printf 'F3\tn\t-1234')" "$work/cells.out" &&
	grep -qxF "$(printf 'F5\tn\t-1234.5')" "$work/cells.out"
ok $? "negative numbers stay numbers (-5, -1234, -1,234.5)"
grep -qxF "$(printf "F2\ts\t'@SUM(B2:B3)")" "$work/cells.out" &&
	grep -qxF "$(printf "F4\ts\t'+cmd|' /C calc'!A0")" "$work/cells.out" &&
	grep -qxF "$(printf "C2\ts\t'=1+1")" "$work/cells.out" && grep -qxF "$(printf "C5\ts\t'-2+3")" "$work/cells.out" &&
	grep -qxF "$(printf 'C2\tf\t2')" "$work/cells.orig"
ok $? "=1+1 (a live formula, 2, in the original), -2+3, @SUM(B2:B3), +cmd|' /C calc'!A0 are text starting with '"

[ $fails -eq 0 ] || { echo "# soffice log:"; sed 's/^/# /' "$work/soffice.log"; }
exit 0
