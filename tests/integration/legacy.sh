#!/usr/bin/env bash
# Legacy formats through the one path with the real office pool (sekisho-office, LibreOffice
# in its sandbox): Japanese .doc/.rtf/.odt/.xls/.ods/.ppt made here with LibreOffice
# headless (a hyperlink in the document, a DDE formula and an external reference in the
# spreadsheet) → delivered as docx/xlsx/pptx with the Japanese text intact (python's
# zipfile) and no VBA, OLE, external link or DDE left; the same .doc inside a ZIP and
# attached to a mail (sekisho mail) converted too; then Apache POI's legacy corpus
# (../shared/corpus/legacy/poi, skipped when absent): every file delivered or blocked with
# a reason, nothing crashes or hangs, each delivered one opens in LibreOffice and keeps the
# words LibreOffice reads from the original; its Outlook .msg files come out as .eml (the
# msg module; tests/integration/msg.sh checks them closely) or are blocked malformed or
# encrypted. The corpus part takes a sample (every 5th
# file, a few minutes); SK_LEGACY_FULL=1 runs all of it.
# Usage: legacy.sh SEKISHO SEKISHO-OFFICE CORPUS-DIR. Output: TAP.
set -u
sekisho=$(readlink -f "$1")
office=$(readlink -f "$2")
corpus=${3:-}
export SEKISHO_OFFICE=$office
export LC_ALL=C.UTF-8
py=/usr/bin/python3
[ -x "$py" ] || py=python3
if [ ! -x "$sekisho" ] || [ ! -x "$office" ]; then
	echo "Bail out! no sekisho or sekisho-office"
	exit 1
fi
if ! command -v soffice >/dev/null; then
	echo "1..0 # SKIP LibreOffice (soffice) is not installed"
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { # description, command...
	local d=$1
	shift
	if "$@" >out.log 2>&1; then ok "$d"; else nok "$d"; sed 's/^/# /' out.log; fi
}
# soffice FORMAT OUTDIR FILES...: LibreOffice headless with a profile of this test (one
# at a time: two instances started together lose conversions)
lo() {
	local fmt=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	nice soffice --headless --norestore --nolockcheck "-env:UserInstallation=file://$work/lo" \
		--convert-to "$fmt" --outdir "$dir" "$@" >/dev/null 2>&1
}

full=${SK_LEGACY_FULL:-}
echo "1..18"

# --- Japanese files made by LibreOffice ------------------------------------------------
mkdir -p src
cat >src/doc.html <<'EOF'
<html><head><meta charset="utf-8"></head><body>
<h1>住民票の写しの交付について</h1>
<p>世田谷区役所 情報政策課からのお知らせです。申請書は窓口で受け付けます。</p>
<p><a href="https://www.city.example.lg.jp/koufu.html">交付の案内ページ</a></p>
</body></html>
EOF
cat >src/sheet.fods <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" office:version="1.2"
 office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:body><office:spreadsheet><table:table table:name="住民一覧">
<table:table-row>
<table:table-cell office:value-type="string"><text:p>相模原市の住民一覧表</text:p></table:table-cell>
<table:table-cell table:formula="of:=DDE(&quot;cmd&quot;;&quot;/c calc&quot;;&quot;A1&quot;)" office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>
<table:table-cell table:formula="of:=['file:///srv/share/other.ods'#$Sheet1.A1]" office:value-type="float" office:value="2"><text:p>2</text:p></table:table-cell>
</table:table-row>
<table:table-row><table:table-cell office:value-type="string"><text:p>保健福祉課</text:p></table:table-cell></table:table-row>
</table:table></office:spreadsheet></office:body></office:document>
EOF
cat >src/slides.fodp <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.presentation">
<office:body><office:presentation><draw:page draw:name="p1">
<draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="4cm"><draw:text-box>
<text:p>関所の導入説明会 資料</text:p></draw:text-box></draw:frame>
</draw:page></office:presentation></office:body></office:document>
EOF
lo odt made src/doc.html # a Writer document: the Word and RTF filters are Writer's
lo 'doc:MS Word 97' made made/doc.odt
lo 'rtf:Rich Text Format' made made/doc.odt
lo 'xls:MS Excel 97' made src/sheet.fods
lo ods made src/sheet.fods
lo 'ppt:MS PowerPoint 97' made src/slides.fodp
mkdir -p in
for f in doc.doc:doc.doc rtf.rtf:doc.rtf odt.odt:doc.odt xls.xls:sheet.xls ods.ods:sheet.ods ppt.ppt:slides.ppt; do
	cp "made/${f#*:}" "in/${f%%:*}" 2>/dev/null
done
check "LibreOffice made the six Japanese files (doc rtf odt xls ods ppt)" \
	test -s in/doc.doc -a -s in/rtf.rtf -a -s in/odt.odt -a -s in/xls.xls -a -s in/ods.ods -a -s in/ppt.ppt
# the spreadsheet really carries its links (else the test below proves nothing)
check "the xls carries the DDE formula and the external reference" \
	sh -c 'grep -qa "calc" in/xls.xls && grep -qa "other.ods" in/xls.xls'

"$sekisho" sanitize -o out --json in/* >res.json 2>err.log
rc=$?
check "sekisho sanitize delivers all six (exit $rc)" test "$rc" -le 1
check "a one-shot command: the office workers print no startup line on stderr" \
	sh -c '! grep -q "sekisho-office\[" err.log'
check "each converted to its OOXML type, reported doc→docx … in the report" "$py" - <<'EOF'
import json, sys
want = {"doc.doc": ("doc", "docx"), "rtf.rtf": ("rtf", "docx"), "odt.odt": ("odt", "docx"),
        "xls.xls": ("xls", "xlsx"), "ods.ods": ("ods", "xlsx"), "ppt.ppt": ("ppt", "pptx")}
seen = {}
for line in open("res.json"):
    j = json.loads(line)
    seen[j["input"].split("/")[-1]] = j
bad = []
for name, (code, ext) in want.items():
    j = seen.get(name)
    if not j or j["verdict"] == "blocked":
        bad.append("%s: %s" % (name, j and (j["reason"], j["reason_detail"])))
        continue
    conv = [a for a in j["actions"] if a["action"] == "converted" and a["what"] == "file-type"
            and a["detail"] == code + "→" + ext]
    if j["type"] != code or not j["output"].endswith("." + ext) or len(conv) != 1:
        bad.append("%s: type %s output %s actions %s" % (name, j["type"], j["output"], j["actions"]))
if bad:
    sys.exit("\n".join(bad))
EOF
cat >inspect.py <<'EOF'
# inspect.py FILE TEXT...: the OOXML package opens, its XML holds each TEXT, and nothing
# active is left: no VBA project, OLE object, external link, DDE link or field
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = z.namelist()
xml = "".join(z.read(n).decode("utf-8", "replace") for n in names
              if n.endswith(".xml") or n.endswith(".rels"))
text = re.sub(r"<[^>]*>", "", xml)  # the text of the runs, joined
for t in sys.argv[2:]:
    assert t in text, "missing text: " + t
for n in names:
    assert not re.search(r"vbaProject|oleObject|externalLink|activeX|embeddings/", n, re.I), n
for pat in (r"ddeLink", r"ddeService", r"externalReference", r"\bDDE(AUTO)?\b",
            r"TargetMode=\"External\"[^>]*Type=\"[^\"]*(oleObject|externalLink|attachedTemplate)",
            r"file:///srv/share"):
    assert not re.search(pat, xml), "left: " + pat
EOF
check "docx from .doc: Japanese intact, nothing active left" \
	"$py" inspect.py out/doc.docx "住民票の写しの交付について" "世田谷区役所 情報政策課"
check "the .doc's hyperlink (https) is kept" \
	sh -c "unzip -p out/doc.docx word/_rels/document.xml.rels | grep -q 'https://www.city.example.lg.jp/koufu.html'"
check "docx from .rtf and .odt: Japanese intact" sh -c \
	"'$py' inspect.py out/rtf.docx 住民票の写しの交付について && '$py' inspect.py out/odt.docx 世田谷区役所"
check "xlsx from .xls and .ods: Japanese intact, the DDE and external reference gone" sh -c \
	"'$py' inspect.py out/xls.xlsx 相模原市の住民一覧表 保健福祉課 && '$py' inspect.py out/ods.xlsx 相模原市の住民一覧表"
check "pptx from .ppt: Japanese intact" "$py" inspect.py out/ppt.pptx "関所の導入説明会 資料"

# --- nested: a ZIP, a mail -------------------------------------------------------------
(cd in && zip -q ../bundle.zip doc.doc xls.xls)
"$sekisho" sanitize -o zout --json bundle.zip >zip.json 2>>err.log
check "a .doc and an .xls inside a ZIP: converted, stored as .docx/.xlsx" "$py" - <<'EOF'
import io, json, subprocess, zipfile
j = json.loads(open("zip.json").read().splitlines()[0])
assert j["verdict"] != "blocked", j
z = zipfile.ZipFile("zout/bundle.zip")
assert sorted(z.namelist()) == ["doc.docx", "xls.xlsx"], z.namelist()
d = zipfile.ZipFile(io.BytesIO(z.read("doc.docx")))
assert "住民票の写し" in d.read("word/document.xml").decode()
details = [a["detail"] for a in j["actions"] if a["action"] == "converted"]
assert "doc→docx" in details and "xls→xlsx" in details, details
EOF
"$py" - <<'EOF'
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "kikaku@city.example.lg.jp"
m["To"] = "johoseisaku@city.example.lg.jp"
m["Subject"] = "交付の資料"
m.set_content("資料を添付します。")
m.add_attachment(open("in/doc.doc", "rb").read(), maintype="application", subtype="msword",
                 filename="交付.doc")
open("m.eml", "wb").write(bytes(m))
EOF
"$sekisho" mail --profile sanitize <m.eml >m.out 2>mail.err
mrc=$?
check "a .doc attached to a mail: delivered (exit $mrc), re-attached as .docx, Japanese intact" \
	"$py" - <<'EOF'
import email, io, zipfile
from email import policy
m = email.message_from_binary_file(open("m.out", "rb"), policy=policy.default)
att = [p for p in m.iter_attachments()]
names = [p.get_filename() for p in att]
docx = [p for p in att if (p.get_filename() or "").endswith(".docx")]
assert docx, names
z = zipfile.ZipFile(io.BytesIO(docx[0].get_content()))
assert "住民票の写し" in z.read("word/document.xml").decode()
assert not any("vbaProject" in n for n in z.namelist())
EOF
"$sekisho" sanitize --no-office -o nout --json in/doc.doc >no.json 2>/dev/null
check "--no-office: blocked unsupported-legacy-office, nothing written" sh -c \
	"grep -q '\"reason\":\"unsupported-legacy-office\"' no.json && ! ls nout/* >/dev/null 2>&1"

# --- Apache POI's legacy corpus ------------------------------------------------------------
if [ -z "$corpus" ] || [ ! -d "$corpus/legacy/poi" ]; then
	for i in 1 2 3 4 5; do ok "# SKIP the legacy corpus is not here"; done
	echo "# $n tests, $fails failed"
	[ "$fails" -eq 0 ]
	exit
fi
ls "$corpus/legacy/poi" | sort >all.txt
if [ -n "$full" ]; then cp all.txt pick.txt; else awk 'NR % 5 == 0' all.txt >pick.txt; fi
mkdir -p corpus
while read -r f; do cp "$corpus/legacy/poi/$f" "corpus/$f"; done <pick.txt
total=$(wc -l <pick.txt)
# a hang is a failure: far more than the sample needs on a loaded machine
limit=$((total * 30 + 120))
timeout -s KILL "$limit" "$sekisho" sanitize -o cout --json corpus >corpus.json 2>corpus.err
crc=$?
check "corpus: sekisho ends by itself on $total files (exit $crc: 0 or 1, no crash, no hang)" \
	test "$crc" -le 1
check "corpus: every file delivered or blocked with a reason" "$py" - "$total" <<'EOF'
import collections, json, sys
total = int(sys.argv[1])
rows = [json.loads(l) for l in open("corpus.json")]
c = collections.Counter()
for j in rows:
    if j["verdict"] == "blocked":
        assert j["reason"], j
        c["blocked " + j["reason"]] += 1
    else:
        assert j["output"], j
        c["delivered"] += 1
    # Outlook messages: rebuilt as .eml by the msg module (never LibreOffice's), or
    # refused as malformed (POI's fuzzer-found files) or encrypted (S/MIME)
    if j["input"].endswith(".msg"):
        c["msg"] += 1
        if j["verdict"] == "blocked":
            assert j["reason"] in ("malformed", "encrypted"), j
        else:
            assert j["type"] == "msg" and j["output"].endswith(".eml"), j
print("# corpus: %d files: %s" % (len(rows), ", ".join("%s %d" % kv for kv in sorted(c.items()))))
assert len(rows) == total, (len(rows), total)
assert c["delivered"] >= total // 2, c
EOF
sed -n 's/^\(# corpus: .*\)/\1/p' out.log 2>/dev/null
"$py" - <<'EOF' >delivered.txt
import json
for l in open("corpus.json"):
    j = json.loads(l)
    if j["verdict"] != "blocked":
        print(j["input"] + "\t" + j["output"])
EOF
# LibreOffice reads the originals and the delivered files: text (Word), CSV (Excel)
mkdir -p txt-orig txt-out
cut -f1 delivered.txt | grep -E '\.(doc|rtf)$' >w-in.txt
cut -f2 delivered.txt | grep -E '\.docx$' >w-out.txt
cut -f1 delivered.txt | grep -E '\.(xls|xlsb)$' >x-in.txt
cut -f2 delivered.txt | grep -E '\.xlsx$' >x-out.txt
export -f lo
export work
xargs -r -d '\n' -a w-in.txt bash -c 'lo "txt:Text (encoded):UTF8" txt-orig "$@"' _
xargs -r -d '\n' -a w-out.txt bash -c 'lo "txt:Text (encoded):UTF8" txt-out "$@"' _
xargs -r -d '\n' -a x-in.txt bash -c 'lo csv txt-orig "$@"' _
xargs -r -d '\n' -a x-out.txt bash -c 'lo csv txt-out "$@"' _
check "corpus: each delivered Word/Excel file opens in LibreOffice and keeps its words" \
	"$py" - <<'EOF'
import os, re
def words(p):
    try:
        t = open(p, encoding="utf-8", errors="replace").read()
    except OSError:
        return None
    return set(re.findall(r"\w{3,}", t))
pairs = [l.rstrip("\n").split("\t") for l in open("delivered.txt")]
opened = kept = checked = 0
worst = []
for src, out in pairs:
    base_in, ext_in = os.path.splitext(os.path.basename(src))
    base_out, ext_out = os.path.splitext(os.path.basename(out))
    kind = "txt" if ext_out == ".docx" else "csv" if ext_out == ".xlsx" else None
    if not kind:
        continue
    a, b = words("txt-orig/%s.%s" % (base_in, kind)), words("txt-out/%s.%s" % (base_out, kind))
    if b is None:
        worst.append("does not open: " + out)
        continue
    opened += 1
    if not a:
        continue  # LibreOffice reads no words from the original either
    checked += 1
    share = len(a & b) / len(a)
    if share >= 0.9:
        kept += 1
    else:
        worst.append("%s: %.0f%% of %d words" % (out, share * 100, len(a)))
print("# opened %d, compared %d, kept >= 90%% of the words: %d" % (opened, checked, kept))
for w in worst:
    print("# " + w)
assert not [w for w in worst if w.startswith("does not open")], worst
assert checked and kept * 100 >= checked * 90, (kept, checked)
EOF
sed -n 's/^# opened/# opened/p' out.log
check "corpus: delivered files hold no VBA, OLE objects or external links; each .eml (from .msg) parses" "$py" - <<'EOF'
import email, re, zipfile
from email import policy
for l in open("delivered.txt"):
    out = l.rstrip("\n").split("\t")[1]
    if out.endswith(".eml"):
        m = email.message_from_binary_file(open(out, "rb"), policy=policy.default)
        assert not m.defects and m.get_body(("plain",)) is not None, out
        continue
    for n in zipfile.ZipFile(out).namelist():
        assert not re.search(r"vbaProject|oleObject|externalLink|activeX|embeddings/.*\.bin$", n, re.I), (out, n)
EOF
# the corpus's files that carry a VBA project (whatever the sample): a .doc whose
# conversion keeps it as word/vbaProject.bin, removed by the OOXML allow-list, and two .xls
mkdir -p vba
for f in document_Bug50936_3.doc spreadsheet_46515.xls spreadsheet_ex42564-21503.xls; do
	cp "$corpus/legacy/poi/$f" vba/
done
"$sekisho" sanitize -o vout --json vba >vba.json 2>vba.err
check "corpus: the three files with a VBA project (in the original's storage names) are delivered without it; the .doc's report says the macro was removed" \
	"$py" - <<'EOF'
import json, os, re, zipfile
rows = {os.path.basename(j["input"]): j for j in map(json.loads, open("vba.json"))}
assert len(rows) == 3, rows.keys()
for name, j in rows.items():
    raw = open("vba/" + name, "rb").read()
    assert "VBA".encode("utf-16-le") in raw, name
    assert j["verdict"] == "sanitized" and j["output"], j
    names = zipfile.ZipFile(j["output"]).namelist()
    assert not [n for n in names if re.search(r"vba|\.bin$", n, re.I)], (name, names)
doc = rows["document_Bug50936_3.doc"]
assert any(a["action"] == "removed" and a["what"] == "macro" for a in doc["actions"]), doc["actions"]
print("# " + "; ".join("%s -> %s" % (n, os.path.basename(j["output"])) for n, j in sorted(rows.items())))
EOF
sed -n 's/^# \(.*->.*\)/# \1/p' out.log
echo "# $n tests, $fails failed"
[ "$fails" -eq 0 ]
