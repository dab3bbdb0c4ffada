#!/usr/bin/env bash
# 画像化 (src/render/) with independent tools (TAP): Japanese PDFs made by LibreOffice
# (horizontal and vertical 縦書き) rendered by sk_render_image_pdf (through the sk_render
# test tool); the output checked with qpdf (--check, --qdf for the structure: only image
# XObjects, Type 3 box fonts, render mode 3, no annotations, actions, outlines or
# metadata), poppler-utils (pdftotext recovers ≥ 90 % of the characters, vertical text in
# reading order; pdftoppm shows the text layer paints nothing), and each limit, encryption,
# garbage, a damaged PDF that qpdf (and so `sekisho sanitize`) refuses but poppler renders,
# and the join of page ranges.
# usage: render.sh SK_RENDER SEKISHO SOURCE_ROOT
set -uo pipefail
skr=$1
sekisho=$2
src=$3
check="python3 $src/tests/integration/render_check.py"
for t in soffice pdftotext pdftoppm pdfinfo pdffonts qpdf fix-qdf python3; do
	if ! command -v $t >/dev/null; then
		echo "1..0 # SKIP $t not installed"
		exit 0
	fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
export OMP_THREAD_LIMIT=1 # tesseract: one thread (the workers are the parallelism)

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() { # description, command...
	local d=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$d"; else notok "$d"; fi
}
# render ARGS... : runs sk_render, keeps its line "pages=N reason=R" in $line, exit in $rc
render() {
	line=$("$skr" "$@" 2>>render.err)
	rc=$?
}
ge() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$1" "$2"; }

# --- the documents: LibreOffice writes them from flat ODF (a private profile) ---
python3 "$src/tests/integration/render_make.py" horizontal h.fodt 2 &&
	python3 "$src/tests/integration/render_make.py" vertical v.fodt 1
soffice --headless --norestore "-env:UserInstallation=file://$work/profile" \
	--convert-to pdf --outdir . h.fodt v.fodt >soffice.log 2>&1
check "LibreOffice made a 2-page horizontal and a vertical Japanese PDF" \
	sh -c 'pdfinfo h.pdf | grep -q "^Pages: *2" && pdfinfo v.pdf | grep -q "^Pages: *1"'
check "the inputs have Japanese text and fonts (so the output's lack of them means something)" \
	sh -c 'pdftotext h.pdf - | grep -q 住民税 && pdffonts h.pdf | grep -q CJK'

for f in h v; do
	render "$f.pdf" "$f-img.pdf"
	check "$f.pdf: rendered ($line)" test $rc -eq 0 -a -s "$f-img.pdf"
	pages=$(pdfinfo "$f.pdf" | sed -n 's/^Pages: *//p')
	check "$f.pdf: sk_render_image_pdf reports the page count ($pages)" test "$line" = "pages=$pages reason=none"
	check "$f-img.pdf: qpdf --check passes" qpdf --check "$f-img.pdf"
	check "$f-img.pdf: as many pages as the input" sh -c "pdfinfo $f-img.pdf | grep -q '^Pages: *$pages\$'"
	qpdf --qdf --object-streams=disable "$f-img.pdf" "$f-q.pdf" 2>/dev/null
	problems=$($check structure "$f-q.pdf" 2>"$f-struct.txt")
	if [ -z "$problems" ] && [ -s "$f-struct.txt" ]; then
		ok "$f-img.pdf: only image XObjects, Type 3 box fonts in render mode 3; no annotation, action, outline, form, link or metadata ($(cat "$f-struct.txt"))"
	else
		notok "$f-img.pdf structure: $problems"
	fi
	check "$f-img.pdf: pdfimages lists one image a page" \
		sh -c "[ \$(pdfimages -list $f-img.pdf | tail -n +3 | wc -l) -eq $pages ]"
	check "$f-img.pdf: pdffonts lists Type 3 fonts only" \
		sh -c "pdffonts $f-img.pdf | tail -n +3 | grep -q . && ! pdffonts $f-img.pdf | tail -n +3 | grep -v 'Type 3'"
	pdftotext -q "$f-img.pdf" "$f-img.txt"
	read -r bag ordered < <($check recall "$f.txt" "$f-img.txt")
	if ge "$bag" 0.90; then ok "$f-img.pdf: pdftotext recovers $bag of the characters (≥ 0.90)"; else notok "$f-img.pdf: recall $bag < 0.90"; fi
	if ge "$ordered" 0.85; then ok "$f-img.pdf: $ordered of the characters in reading order (≥ 0.85)"; else notok "$f-img.pdf: ordered recall $ordered < 0.85"; fi
	# the text layer paints nothing: the pages rendered with and without it are identical
	$check notext "$f-q.pdf" "$f-n.pdf" && fix-qdf "$f-n.pdf" >"$f-n2.pdf" 2>/dev/null
	rm -rf px && mkdir px
	pdftoppm -q -r 50 -gray "$f-q.pdf" px/a && pdftoppm -q -r 50 -gray "$f-n2.pdf" px/b
	same=1
	for p in px/a-*.pgm; do cmp -s "$p" "px/b-${p#px/a-}" || same=0; done
	if [ $same -eq 1 ] && [ -z "$(pdftotext -q "$f-n2.pdf" - | tr -d '[:space:]\f')" ] && [ -s "$f-img.txt" ]; then
		ok "$f-img.pdf: the invisible text changes no pixel (rendered with and without it)"
	else
		notok "$f-img.pdf: the text layer shows"
	fi
done
# the structure check can fail: LibreOffice's own PDF has fonts and metadata
qpdf --qdf --object-streams=disable h.pdf h-orig-q.pdf 2>/dev/null
check "the structure check flags the original (fonts that are not Type 3, /Producer)" \
	sh -c "$check structure h-orig-q.pdf 2>/dev/null | grep -q 'not Type 3' && $check structure h-orig-q.pdf 2>/dev/null | grep -q Producer"
# vertical: a column read in order (the check fails if columns or characters were reversed)
check "v-img.pdf: the first vertical line comes back as written" \
	sh -c 'pdftotext -q v-img.pdf - | tr -d "[:space:]" | grep -q 令和六年度の住民税の申告について'

# --- grey output ---
render --gray --lang "" v.pdf v-gray.pdf
check "--gray: rendered without OCR ($line)" test $rc -eq 0
check "--gray: the page image is grey" sh -c 'pdfimages -list v-gray.pdf | tail -n +3 | grep -q " gray "'
check "no OCR: no text layer, no font" sh -c '[ -z "$(pdftotext -q v-gray.pdf - | tr -d "[:space:]\f")" ] && [ -z "$(pdffonts v-gray.pdf | tail -n +3)" ]'

# --- limits: each one hit ---
render --lang "" --max-pages 1 h.pdf lim.pdf
check "2 pages with max_pages 1: blocked limit-pages, exit 1 ($line)" test $rc -eq 1 -a "$line" = "pages=0 reason=limit-pages"
render --lang "" --max-pages 2 h.pdf lim.pdf
check "2 pages with max_pages 2: rendered" test $rc -eq 0
render --lang "" --max-pixels 1000000 h.pdf lim.pdf
check "an A4 page at 150 dpi (2.2 Mpixel) with a 1 Mpixel budget: limit-pixels ($line)" test $rc -eq 1 -a "$line" = "pages=0 reason=limit-pixels"
render --lang "" --max-pixels 3000000 h.pdf lim.pdf
check "two pages (4.4 Mpixel) with a 3 Mpixel budget: limit-pixels (the budget is summed over pages)" test $rc -eq 1 -a "$line" = "pages=0 reason=limit-pixels"
python3 - <<'EOF2'
page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 100] >>"
objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page]
out = bytearray(b"%PDF-1.4\n")
offs = []
for i, o in enumerate(objs):
    offs.append(len(out))
    out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
x = len(out)
out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offs)
out += b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % x
open("wide.pdf", "wb").write(out)
EOF2
render --lang "" --dpi 200 --max-pixels 100000000000 wide.pdf lim.pdf
check "a page 40,000 pixels wide (past cairo's 32,767) with no budget in the way: limit-pixels ($line)" test $rc -eq 1 -a "$line" = "pages=0 reason=limit-pixels"
render --lang "" --dpi 20 wide.pdf lim.pdf
check "the same page at 20 dpi: rendered" test $rc -eq 0
render --late h.pdf lim.pdf
check "a budget past its deadline: limit-time ($line)" test $rc -eq 1 -a "$line" = "pages=0 reason=limit-time"

# --- encryption, garbage, damage ---
qpdf --encrypt secret owner 256 -- v.pdf enc-user.pdf
render --lang "" enc-user.pdf out.pdf
check "a PDF that needs a password: encrypted ($line)" test $rc -eq 1 -a "$line" = "pages=0 reason=encrypted"
qpdf --encrypt "" owner 256 --print=none -- v.pdf enc-owner.pdf
render --lang "" enc-owner.pdf out.pdf
check "owner password only (opens without one): rendered" test $rc -eq 0
head -c 20000 /dev/urandom >garbage.pdf
rm -f out.pdf
render garbage.pdf out.pdf
check "random bytes: malformed ($line)" test $rc -eq 1 -a "$line" = "pages=0 reason=malformed"
check "no output for a blocked document" test ! -e out.pdf
printf '%%PDF-1.7\n%%%%EOF\n' >empty.pdf
render empty.pdf out.pdf
check "a PDF header with nothing after it: malformed" test $rc -eq 1 -a "$line" = "pages=0 reason=malformed"
# damaged: a page tree whose /Kids holds the tree itself; qpdf refuses it ("Loop detected
# in /Pages structure"), poppler skips the loop and renders the page
python3 "$src/tests/integration/render_make.py" damaged loop.pdf
check "loop.pdf: qpdf refuses it" sh -c '! qpdf --check loop.pdf'
"$sekisho" sanitize --no-office --json -o san loop.pdf >san.json 2>san.err
check "loop.pdf: the PDF module (qpdf) blocks it as malformed (without 画像化: --no-office)" grep -q '"reason":"malformed"' san.json
render --lang eng loop.pdf loop-img.pdf
check "loop.pdf: 画像化 renders it ($line)" test $rc -eq 0 -a "$line" = "pages=1 reason=none"
check "loop.pdf: its text comes back from the OCR layer" sh -c 'pdftotext -q loop-img.pdf - | grep -q "Damaged sekisho"'
qpdf --qdf --object-streams=disable loop-img.pdf loop-q.pdf 2>/dev/null
check "loop-img.pdf: the output's structure is clean" sh -c "[ -z \"\$($check structure loop-q.pdf 2>/dev/null)\" ]"

# --- page ranges joined ---
render --lang jpn --first 0 --last 1 h.pdf part1.pdf
r1=$rc
render --lang jpn --first 1 --last 2 h.pdf part2.pdf
check "pages [0,1) and [1,2) rendered separately" test $r1 -eq 0 -a $rc -eq 0
check "each part has one page" sh -c 'pdfinfo part1.pdf | grep -q "^Pages: *1$" && pdfinfo part2.pdf | grep -q "^Pages: *1$"'
render --join joined.pdf part1.pdf part2.pdf
check "sk_render_join joins them" test $rc -eq 0
check "the joined document has 2 pages and passes qpdf --check" sh -c 'pdfinfo joined.pdf | grep -q "^Pages: *2$" && qpdf --check joined.pdf'
pdftotext -q joined.pdf joined.txt
read -r bag ordered < <($check recall h.txt joined.txt)
if ge "$bag" 0.90; then ok "joined.pdf: recall $bag over both pages"; else notok "joined.pdf: recall $bag"; fi
qpdf --qdf --object-streams=disable joined.pdf joined-q.pdf 2>/dev/null
check "joined.pdf: the structure is clean" sh -c "[ -z \"\$($check structure joined-q.pdf 2>/dev/null)\" ]"
render --join bad.pdf part1.pdf h.pdf
check "sk_render_join refuses a part that is not an image PDF (LibreOffice's, with fonts)" test $rc -eq 1 -a ! -e bad.pdf
render --lang "" --first 1 --last 3 h.pdf out.pdf
check "a page range past the end is refused" test $rc -eq 1

echo "1..$n"
[ $failed -eq 0 ]
