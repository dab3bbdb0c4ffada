#!/usr/bin/env bash
# 画像化 end to end (TAP): `sekisho sanitize --profile image` through the sandboxed worker
# and the office pool (sekisho-office: LibreOffice and poppler + tesseract in its sandbox)
# on Japanese documents LibreOffice makes here — a 2-page horizontal PDF, the same as a
# docx, a vertical (縦書き) legacy .doc — each delivered as a PDF of page images; the
# outputs checked with tools independent of sekisho (qpdf --qdf and render_check.py for
# the structure: only image XObjects and Type 3 box fonts in render mode 3, no
# annotation, action, outline or metadata; pdfimages, pdffonts; pdftotext recovers ≥ 90 %
# of the characters, vertical text in reading order). The OCR models chosen per page (jpn
# for the horizontal pages, jpn_vert for the vertical one) are in the report. Then: two
# damaged PDFs that qpdf refuses (checked) and poppler renders, delivered through 画像化
# by the default profile (blocked malformed with `damaged_pdf: block` and without office
# workers); a policy profile with `legacy: { doc: image }` (the .doc made into images, an
# .xls still converted to xlsx); the built-in image profile named in a policy flow; the
# page budget (`image: { max_pages: 1 }`, and office_tool's --max-pages); a numbered
# 5-page document spread over 2 workers in ranges of 2 pages, joined in order (and through
# `sanitize --workers 2`); a mail whose docx attachment comes back as a PDF.
# usage: image_profile.sh SEKISHO SEKISHO-OFFICE OFFICE_TOOL SOURCE_ROOT
set -uo pipefail
sekisho=$(readlink -f "$1")
office=$(readlink -f "$2")
tool=$(readlink -f "$3")
src=$(readlink -f "$4")
. "$src/tests/integration/tap.sh"
export SEKISHO_OFFICE=$office
export LC_ALL=C.UTF-8
py=/usr/bin/python3
[ -x "$py" ] || py=python3
check_py="$py $src/tests/integration/render_check.py"
for t in soffice pdftotext pdfimages pdffonts pdfinfo qpdf; do
	if ! command -v $t >/dev/null; then
		skip "画像化 end to end" "$t not installed"
		done_testing
		exit 0
	fi
done
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

lo() { # FORMAT FILES...: LibreOffice headless, a profile of this test
	local fmt=$1
	shift
	soffice --headless --norestore "-env:UserInstallation=file://$work/lo" \
		--convert-to "$fmt" --outdir made "$@" >>soffice.log 2>&1
}
ge() { "$py" -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$1" "$2"; }
# the JSON line of input NAME in FILE, field KEY (a dotted path)
field() {
	"$py" - "$1" "$2" "$3" <<'EOF'
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["input"].split("/")[-1] != sys.argv[2]:
        continue
    v = o
    for k in sys.argv[3].split("."):
        v = v[int(k)] if isinstance(v, list) else v.get(k)
    print("null" if v is None else v)
EOF
}
# the detail of the "converted image" action of input NAME in FILE
image_detail() {
	"$py" - "$1" "$2" <<'EOF'
import json, sys
for l in open(sys.argv[1]):
    o = json.loads(l)
    if o["input"].split("/")[-1] == sys.argv[2]:
        print("".join(a["detail"] or "" for a in o["actions"]
                      if a["action"] == "converted" and a["what"] == "image"))
EOF
}

# --- the documents -----------------------------------------------------------------------
mkdir -p made in
"$py" "$src/tests/integration/render_make.py" horizontal h.fodt 2
"$py" "$src/tests/integration/render_make.py" vertical v.fodt 1
"$py" "$src/tests/integration/render_make.py" horizontal n.fodt 5 --numbered
lo pdf h.fodt n.fodt v.fodt
lo docx h.fodt
lo 'doc:MS Word 97' v.fodt
cp made/h.pdf in/h.pdf
cp made/h.docx in/hd.docx
cp made/v.doc in/v.doc
check "LibreOffice made a 2-page Japanese PDF, a docx and a vertical .doc" \
	sh -c 'pdfinfo in/h.pdf | grep -q "^Pages: *2" && [ -s in/hd.docx ] && [ -s in/v.doc ]'
check "the inputs carry Japanese text and fonts (so their absence in the output means something)" \
	sh -c 'pdftotext in/h.pdf - | grep -q 住民税 && pdffonts in/h.pdf | grep -q CJK'

# --- sekisho sanitize --profile image --------------------------------------------------------
"$sekisho" sanitize --profile image --json -o out in/h.pdf in/hd.docx in/v.doc >res.json 2>err.log
rc=$?
ok $([ $rc -eq 0 ]; echo $?) "sanitize --profile image delivers the PDF, the docx and the .doc (exit $rc)"
while read -r l; do diag "$l"; done < <(grep -v ObjectCache err.log | head -5)
for f in h.pdf:h.pdf:pdf hd.docx:hd.pdf:docx v.doc:v.pdf:doc; do
	IFS=: read -r name outname code <<<"$f"
	d=$(image_detail res.json "$name")
	out=$(field res.json "$name" output)
	ok $([ "$(field res.json "$name" verdict)" = sanitized ] && [ "$(field res.json "$name" type)" = "$code" ] &&
		[ "${out##*/}" = "${name%.*}.pdf" ] && [[ "$d" == "$code→pdf"* ]]; echo $?) \
		"$name: delivered as ${out##*/}, reported converted image \"$d\""
done
ok $([[ "$(image_detail res.json h.pdf)" == *"2 pages, 150 dpi, OCR jpn 2" ]] &&
	[[ "$(image_detail res.json v.doc)" == *"OCR jpn_vert 1" ]]; echo $?) \
	"the OCR models chosen per page: jpn alone for the horizontal pages, jpn_vert for the vertical one"
# each output, with independent tools
for f in h.pdf:h:2 hd.pdf:h:2 v.pdf:v:1; do
	IFS=: read -r outname ref pages <<<"$f"
	o=out/$outname
	check "$outname: qpdf --check passes, $pages page(s)" \
		sh -c "qpdf --check $o && pdfinfo $o | grep -q '^Pages: *$pages\$'"
	b=${outname%.pdf}
	qpdf --qdf --object-streams=disable "$o" "$b-q.pdf" 2>/dev/null
	problems=$($check_py structure "$b-q.pdf" 2>"$b-struct.txt")
	ok $([ -z "$problems" ] && [ -s "$b-struct.txt" ]; echo $?) \
		"$outname: only image XObjects and invisible Type 3 text; no annotation, action, outline, form, link or metadata ($(cat "$b-struct.txt"))${problems:+: $problems}"
	check "$outname: pdfimages lists one image a page, pdffonts Type 3 fonts only" \
		sh -c "[ \$(pdfimages -list $o | tail -n +3 | wc -l) -eq $pages ] && pdffonts $o | tail -n +3 | grep -q . && ! pdffonts $o | tail -n +3 | grep -v 'Type 3'"
	pdftotext -q "$o" "$b-out.txt"
	read -r bag ordered < <($check_py recall "$ref.txt" "$b-out.txt")
	ok $(ge "$bag" 0.90; echo $?) "$outname: pdftotext recovers $bag of the characters (≥ 0.90)"
	ok $(ge "$ordered" 0.85; echo $?) "$outname: $ordered of them in reading order (≥ 0.85)"
done
check "v.pdf: the first vertical line comes back as written" \
	sh -c 'pdftotext -q out/v.pdf - | tr -d "[:space:]" | grep -q 令和六年度の住民税の申告について'

# --- damaged PDFs: qpdf refuses them, poppler renders them -----------------------------------
"$py" "$src/tests/integration/render_make.py" damaged loop.pdf
"$py" "$src/tests/integration/render_make.py" damaged loop-noxref.pdf --no-xref
for f in loop loop-noxref; do
	qpdf --check $f.pdf >$f.qpdf 2>&1
	qrc=$?
	ok $([ $qrc -eq 2 ] && grep -q "Loop detected" $f.qpdf; echo $?) "$f.pdf: qpdf refuses it (exit $qrc: $(grep -o 'Loop detected[^(]*' $f.qpdf | head -1))"
	check "$f.pdf: poppler renders its text" sh -c "pdftotext -q $f.pdf - | grep -q 'Damaged sekisho'"
done
"$sekisho" sanitize --json -o dout loop.pdf loop-noxref.pdf >dam.json 2>>err.log
for f in loop loop-noxref; do
	ok $([ "$(field dam.json $f.pdf verdict)" = sanitized ] &&
		[[ "$(image_detail dam.json $f.pdf)" == "pdf→pdf (damaged), 1 page"* ]] &&
		pdftotext -q dout/$f.pdf - | grep -q "Damaged sekisho"; echo $?) \
		"$f.pdf: the default profile delivers it through 画像化 ($(image_detail dam.json $f.pdf)), its text in the OCR layer"
	qpdf --qdf --object-streams=disable dout/$f.pdf $f-q.pdf 2>/dev/null
	problems=$($check_py structure $f-q.pdf 2>/dev/null)
	ok $([ -z "$problems" ] && qpdf --check dout/$f.pdf >/dev/null 2>&1; echo $?) \
		"$f.pdf: the output passes qpdf --check and holds images and invisible text only${problems:+: $problems}"
done
ok $("$py" -c '
import json, sys
o = [json.loads(l) for l in open("dam.json")][0]
sys.exit(0 if any(a["action"] == "noted" and a["what"] == "structure" and "Loop detected" in (a["detail"] or "") for a in o["actions"]) else 1)'; echo $?) \
	"the report keeps what qpdf refused it for (noted structure: Loop detected …)"
"$sekisho" sanitize --no-office --json -o nout loop.pdf >nooff.json 2>/dev/null
ok $([ "$(field nooff.json loop.pdf reason)" = malformed ] && [ ! -e nout/loop.pdf ]; echo $?) \
	"without office workers (--no-office) it stays blocked malformed, nothing written"

# --- a policy: legacy { doc: image }, damaged_pdf: block, the page budget, a flow named image
pol=$src/examples/policy/default.yaml
make_policy() { # OUT PROFILE-LINES... (added to profiles.file-standard, or PROFILE=name)
	local out=$1
	shift
	"$py" - "$pol" "$out" "${PROFILE:-file-standard}" "$@" <<'EOF'
import sys
src, out, prof, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
lines = open(src, encoding="utf-8").read().split("\n")
i = lines.index("  %s:" % prof)
assert lines[i + 1] == "    base: default"
lines[i + 2:i + 2] = ["    " + e for e in extra]
open(out, "w", encoding="utf-8").write("\n".join(lines))
EOF
}
printf '名前,住所\n山田太郎,東京都千代田区\n' >made/sheet.csv
soffice --headless --norestore "-env:UserInstallation=file://$work/lo" --infilter="CSV:44,34,76,1" \
	--convert-to xls --outdir made made/sheet.csv >>soffice.log 2>&1
cp made/sheet.xls in/sheet.xls
make_policy p1.yaml "legacy: { doc: image }" "damaged_pdf: block"
"$sekisho" policy check p1.yaml >p1.check 2>&1
ok $? "a policy with legacy { doc: image } and damaged_pdf: block passes sekisho policy check"
"$sekisho" sanitize --policy p1.yaml --from internet --to lgwan --json -o pout \
	in/v.doc in/sheet.xls loop.pdf >p1.json 2>>err.log
ok $([ "$(field p1.json v.doc verdict)" = sanitized ] && [ -s pout/v.pdf ] &&
	[[ "$(image_detail p1.json v.doc)" == "doc→pdf"* ]]; echo $?) \
	"legacy { doc: image }: the .doc is delivered as v.pdf ($(image_detail p1.json v.doc))"
pdftotext -q pout/v.pdf pv.txt
read -r bag ordered < <($check_py recall v.txt pv.txt)
ok $(ge "$bag" 0.90; echo $?) "… its vertical text recovered ($bag, in order $ordered)"
ok $([ "$(field p1.json sheet.xls output)" != null ] && [[ "$(field p1.json sheet.xls output)" == *.xlsx ]]; echo $?) \
	"… while the .xls (its family not named) is still converted to xlsx"
ok $([ "$(field p1.json loop.pdf reason)" = malformed ]; echo $?) \
	"damaged_pdf: block: the damaged PDF stays blocked malformed"
make_policy p2.yaml "pdf: image" "image: { max_pages: 1, dpi: 100 }"
"$sekisho" sanitize --policy p2.yaml --from internet --to lgwan --json -o p2out in/h.pdf made/v.pdf \
	>p2.json 2>>err.log
ok $([ "$(field p2.json h.pdf reason)" = limit-pages ] && [ ! -e p2out/h.pdf ]; echo $?) \
	"the page budget (image: { max_pages: 1 }): the 2-page PDF is blocked limit-pages, nothing written"
ok $([ "$(field p2.json v.pdf verdict)" = sanitized ] &&
	[[ "$(image_detail p2.json v.pdf)" == "pdf→pdf, 1 page, 100 dpi"* ]] &&
	pdfimages -list p2out/v.pdf | tail -n +3 | awk '{print $13}' | grep -qx 100; echo $?) \
	"… the 1-page one is delivered, rendered at the profile's 100 dpi ($(image_detail p2.json v.pdf))"
sed 's/action: { sanitize: file-standard }/action: { sanitize: image }/' "$pol" >p3.yaml
"$sekisho" policy check p3.yaml >p3.check 2>&1
crc=$?
"$sekisho" sanitize --policy p3.yaml --from internet --to lgwan --json -o p3out in/hd.docx >p3.json 2>>err.log
ok $([ $crc -eq 0 ] && [ "$(field p3.json hd.docx verdict)" = sanitized ] && [ -s p3out/hd.pdf ] &&
	[ "$(field p3.json hd.docx policy.profile)" = image ]; echo $?) \
	"a flow naming the built-in profile image (sanitize: image): the docx comes out as hd.pdf"

# a mail whose profile makes docx into images: the attachment comes back as a PDF, labelled
# as one (the type of what is delivered, not of what came in)
PROFILE=mail-standard make_policy p4.yaml "ooxml: image"
"$py" - <<'EOF'
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "kikaku@city.example.lg.jp"
m["To"] = "johoseisaku@city.example.lg.jp"
m["Subject"] = "申告の案内"
m.set_content("案内を添付します。")
m.add_attachment(open("in/hd.docx", "rb").read(), maintype="application",
                 subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                 filename="案内.docx")
open("m.eml", "wb").write(bytes(m))
EOF
"$sekisho" mail --policy p4.yaml --from internet --to lgwan <m.eml >m.out 2>>err.log
mrc=$?
ok $("$py" - <<'EOF'
import email, sys
from email import policy
m = email.message_from_binary_file(open("m.out", "rb"), policy=policy.default)
att = list(m.iter_attachments())
pdf = [p for p in att if (p.get_filename() or "").endswith(".pdf")]
ok = len(pdf) == 1 and pdf[0].get_content_type() == "application/pdf" and \
     pdf[0].get_content()[:5] == b"%PDF-" and not [p for p in att if (p.get_filename() or "").endswith(".docx")]
open("m-att.pdf", "wb").write(pdf[0].get_content() if pdf else b"")
sys.exit(0 if ok else 1)
EOF
echo $?) "a mail (exit $mrc) with ooxml: image: the docx attachment is re-attached as 案内.pdf, application/pdf"
pdftotext -q m-att.pdf m-att.txt
read -r bag ordered < <($check_py recall h.txt m-att.txt)
ok $(ge "$bag" 0.90; echo $?) "… its text recovered from the OCR layer ($bag)"

# --- the office pool directly: a page budget, pages spread across 2 workers ------------------
check "n.pdf: a numbered 5-page document" sh -c 'pdfinfo made/n.pdf | grep -q "^Pages: *5"'
"$tool" --worker "$office" --workers 2 --pages-per-job 2 -o tout --image --max-pages 4 made/n.pdf \
	>t1.tsv 2>t1.err
ok $([ "$(awk -F'\t' '$1 == "n.pdf" {print $2}' t1.tsv)" = limit-pages ]; echo $?) \
	"sk_office_image_document: 5 pages with max_pages 4 is limit-pages before any page is rendered"
ok $(grep -q '^stats jobs=1 ' t1.tsv; echo $?) "… one job (the page count), none rendered ($(grep '^stats' t1.tsv))"
mkdir -p tout
"$tool" --worker "$office" --workers 2 --pages-per-job 2 -o tout --image made/n.pdf >t2.tsv 2>t2.err
while read -r l; do diag "$l"; done <t2.tsv
ok $([ "$(awk -F'\t' '$1 == "n.pdf" {print $2}' t2.tsv)" = converted ] &&
	grep -q 'pages=5 rendered=5' t2.tsv; echo $?) "5 pages in ranges of 2: rendered, 5 of 5"
stats=$(grep '^stats' t2.tsv)
ok $(echo "$stats" | grep -q 'jobs=5 .*busy_max=2$'; echo $?) \
	"the ranges ran on both workers at once, then a join: count + 3 ranges + join = 5 jobs ($stats)"
o=tout/n.pdf.pdf
inorder=0
for k in 1 2 3 4 5; do
	pdftotext -q -f $k -l $k "$o" - | tr -d '[:space:]' | grep -q "第${k}頁" && inorder=$((inorder + 1))
done
ok $([ $inorder -eq 5 ] && pdfinfo "$o" | grep -q '^Pages: *5$'; echo $?) \
	"the joined document has its 5 pages in order (page k reads 第k頁: $inorder of 5)"
qpdf --qdf --object-streams=disable "$o" n-q.pdf 2>/dev/null
problems=$($check_py structure n-q.pdf 2>/dev/null)
pdftotext -q "$o" n-out.txt
read -r bag ordered < <($check_py recall n.txt n-out.txt)
ok $([ -z "$problems" ] && ge "$bag" 0.90; echo $?) \
	"the joined document: images and invisible text only, recall $bag over the 5 pages${problems:+: $problems}"
# the same through the command: --workers 2 gives two office workers too
"$sekisho" sanitize --profile image --workers 2 --json -o wout made/n.pdf >w2.json 2>>err.log
inorder=0
for k in 1 2 3 4 5; do
	pdftotext -q -f $k -l $k wout/n.pdf - 2>/dev/null | tr -d '[:space:]' | grep -q "第${k}頁" && inorder=$((inorder + 1))
done
ok $([ "$(field w2.json n.pdf verdict)" = sanitized ] && [ $inorder -eq 5 ]; echo $?) \
	"sanitize --workers 2 --profile image: the 5 pages in order ($(image_detail w2.json n.pdf))"

# ruby (ルビ) and 外字-like rare kanji render with Japanese fonts: the OCR layer reads the
# base text and the rare forms (or their common forms) where they are, never a missing
# glyph's box
cat >made/ruby.fodt <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
<office:automatic-styles><style:style style:name="P1" style:family="paragraph"><style:text-properties fo:font-size="18pt" style:font-size-asian="18pt"/></style:style></office:automatic-styles>
<office:body><office:text>
<text:p text:style-name="P1">住民票の<text:ruby><text:ruby-base>写</text:ruby-base><text:ruby-text>うつ</text:ruby-text></text:ruby>しの<text:ruby><text:ruby-base>交付</text:ruby-base><text:ruby-text>こうふ</text:ruby-text></text:ruby>について</text:p>
<text:p text:style-name="P1">髙橋 﨑山 𠮷田 德川 神奈川県 鎌倉市 葛飾区</text:p>
<text:p text:style-name="P1">申請書は窓口で受け付けます。</text:p>
</office:text></office:body></office:document>
EOF
(cd made && soffice --headless --norestore "-env:UserInstallation=file://$work/lo" --convert-to odt \
	ruby.fodt >>../soffice.log 2>&1)
"$sekisho" sanitize --profile image --json -o rout made/ruby.odt >ruby.json 2>>err.log
pdftotext -q rout/ruby.pdf ruby-out.txt 2>/dev/null
ok $("$py" - <<'EOF'
import sys
t = "".join(open("ruby-out.txt", encoding="utf-8").read().split())
lines = ["しのについて", "神奈川県鎌倉市葛飾区", "申請書は窓口で受け付けます。"]
forms = [("髙", "高"), ("﨑", "崎"), ("𠮷", "吉"), ("德", "徳"), ("写",), ("交付",)]
good = all(l in t for l in lines[1:]) and all(any(f in t for f in fs) for fs in forms) and "□" not in t
print("#", t, file=sys.stderr)
print(0 if good else 1)
EOF
) "ruby and rare kanji (髙 﨑 𠮷 德) render with Japanese fonts: the OCR layer reads them ($(image_detail ruby.json ruby.odt))"

done_testing
