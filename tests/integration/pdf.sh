#!/usr/bin/env bash
# PDF module, checked with independent tools (TAP): qpdf --check on every output, the
# removed keys absent from `qpdf --qdf --object-streams=disable`, pdftotext of output equal
# to pdftotext of input (corpus, Japanese PDFs, 200 pages), encryption handling.
# usage: pdf.sh SEKISHO SOURCE_ROOT
set -uo pipefail
sekisho=$1
src=$2
make="python3 $src/tests/integration/pdf_make.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $* # SKIP"; }
check() { # description, command...
	local d=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$d"; else notok "$d"; fi
}

# sanitize IN OUTDIR [profile]: runs sekisho, prints the JSON line
sanitize() {
	local prof=${3:-default}
	"$sekisho" sanitize -o "$2" --json --profile "$prof" "$1"
}
qpdf_ok() { qpdf --check "$1" >/dev/null 2>&1; }
same_text() { # in out: pdftotext of both equal and not empty
	pdftotext -q "$1" a.txt && pdftotext -q "$2" b.txt && [ -s a.txt ] && cmp -s a.txt b.txt
}
same_pixels() { # in out: every page rendered by poppler (30 dpi, grey) is identical
	rm -rf px && mkdir px && pdftoppm -q -r 30 -gray "$1" px/a && pdftoppm -q -r 30 -gray "$2" px/b || return 1
	local n=0 p
	for p in px/a-*.pgm; do
		cmp -s "$p" "px/b-${p#px/a-}" || return 1
		n=$((n + 1))
	done
	[ $n -gt 0 ] && [ "$(ls px/b-*.pgm | wc -l)" -eq $n ]
}

# --- a PDF with every active element, as written and packed in object streams ---
$make evil evil.pdf
qpdf --object-streams=generate --compress-streams=y evil.pdf evil-objstm.pdf
for f in evil evil-objstm; do
	sanitize $f.pdf out >$f.json
	check "$f.pdf delivered" test -s out/$f.pdf
	check "$f.pdf: qpdf --check passes on the output" qpdf_ok out/$f.pdf
	qpdf --qdf --object-streams=disable out/$f.pdf $f.qdf.pdf 2>/dev/null
	for key in /JS /JavaScript /OpenAction /Launch /EmbeddedFiles /EmbeddedFile /EF /XFA \
		/RichMedia /FileAttachment /SubmitForm /ImportData /GoToR /GoToE /NeedsRendering \
		/Metadata /Author /Producer; do
		if grep -a -q -e "$key\b" $f.qdf.pdf; then
			notok "$f.pdf: $key absent from qpdf --qdf output"
		else
			ok "$f.pdf: $key absent from qpdf --qdf output"
		fi
	done
	check "$f.pdf: no script text left" bash -c "! grep -a -q -e 'app.alert' -e 'launchURL' -e 'calc.exe' -e 'MZ' $f.qdf.pdf"
done
check "evil.pdf: the URI link stays (default profile)" grep -a -q "/URI (https://example.jp/)" evil.qdf.pdf
check "evil.pdf: text unchanged (pdftotext)" same_text evil.pdf out/evil.pdf
check "evil.pdf: report names the removals" bash -c "grep -q '\"open-action\"' evil.json && grep -q '\"xfa\"' evil.json && grep -q '\"launch\"' evil.json"

sanitize evil.pdf strict strict >/dev/null
qpdf --qdf --object-streams=disable strict/evil.pdf strict.qdf.pdf 2>/dev/null
check "strict profile: links neutralised (no /URI)" bash -c "! grep -a -q '/URI' strict.qdf.pdf"
check "strict profile: link annotations stay" grep -a -q "/Subtype /Link" strict.qdf.pdf
check "strict profile: qpdf --check passes" qpdf_ok strict/evil.pdf

# --- the corpus document ---
corpus=$src/../shared/corpus/office/mat2/dirty.pdf
[ -f "$corpus" ] || corpus=/work/shared/corpus/office/mat2/dirty.pdf
if [ -f "$corpus" ]; then
	cp "$corpus" dirty.pdf
	sanitize dirty.pdf out >/dev/null
	check "corpus dirty.pdf: qpdf --check passes" qpdf_ok out/dirty.pdf
	check "corpus dirty.pdf: pdftotext unchanged" same_text dirty.pdf out/dirty.pdf
	check "corpus dirty.pdf: every page renders the same (pdftoppm)" same_pixels dirty.pdf out/dirty.pdf
	qpdf --qdf --object-streams=disable out/dirty.pdf dirty.qdf.pdf 2>/dev/null
	check "corpus dirty.pdf: no /Producer, /Metadata, PTEX file names" \
		bash -c "! grep -a -q -e '/Producer' -e '/Metadata' -e 'PTEX.FileName' dirty.qdf.pdf"
else
	skip "corpus dirty.pdf not found"
	skip "corpus dirty.pdf not found"
	skip "corpus dirty.pdf not found"
	skip "corpus dirty.pdf not found"
fi

# --- Japanese: Type0 font, predefined CMap 90ms-RKSJ-H, font not embedded ---
$make japanese ja.pdf
sanitize ja.pdf out >/dev/null
check "Japanese (90ms-RKSJ-H): qpdf --check passes" qpdf_ok out/ja.pdf
check "Japanese (90ms-RKSJ-H): pdftotext unchanged" same_text ja.pdf out/ja.pdf
check "Japanese (90ms-RKSJ-H): renders the same (pdftoppm)" same_pixels ja.pdf out/ja.pdf
check "Japanese (90ms-RKSJ-H): text is Japanese" bash -c "pdftotext -q out/ja.pdf - | grep -q '関所は無害化の検問所です'"

# --- Japanese: LibreOffice export with Noto CJK ---
if command -v soffice >/dev/null; then
	$make japanese-text ja-lo.txt
	soffice -env:UserInstallation=file://$work/lo-profile --headless --convert-to pdf \
		--outdir lo ja-lo.txt >/dev/null 2>&1
	if [ -s lo/ja-lo.pdf ]; then
		sanitize lo/ja-lo.pdf out >/dev/null
		check "Japanese (LibreOffice, Noto CJK): qpdf --check passes" qpdf_ok out/ja-lo.pdf
		check "Japanese (LibreOffice, Noto CJK): pdftotext unchanged" same_text lo/ja-lo.pdf out/ja-lo.pdf
		check "Japanese (LibreOffice, Noto CJK): renders the same (pdftoppm)" same_pixels lo/ja-lo.pdf out/ja-lo.pdf
		check "Japanese (LibreOffice, Noto CJK): text is Japanese" bash -c "pdftotext -q out/ja-lo.pdf - | grep -q '住民票の写し'"
	else
		notok "LibreOffice produced no PDF"
	fi
else
	skip "soffice not installed"
fi

# --- encryption ---
qpdf --encrypt user owner 256 -- ja.pdf enc-user.pdf
sanitize enc-user.pdf out >enc-user.json
check "user password: blocked as encrypted" grep -q '"reason":"encrypted"' enc-user.json
check "user password: nothing written" test ! -e out/enc-user.pdf
qpdf --encrypt "" owner 256 -- ja.pdf enc-owner.pdf
sanitize enc-owner.pdf out >enc-owner.json
check "owner password only: delivered, encryption reported removed" grep -q '"what":"encryption"' enc-owner.json
check "owner password only: output not encrypted" bash -c "qpdf --show-encryption out/enc-owner.pdf | grep -q 'File is not encrypted'"
check "owner password only: qpdf --check passes" qpdf_ok out/enc-owner.pdf
check "owner password only: pdftotext unchanged" same_text ja.pdf out/enc-owner.pdf
check "owner password only: renders the same (pdftoppm)" same_pixels ja.pdf out/enc-owner.pdf

# --- 200 pages ---
$make pages pages.pdf 200
sanitize pages.pdf out >/dev/null
check "200 pages: qpdf --check passes" qpdf_ok out/pages.pdf
check "200 pages: pdftotext unchanged" same_text pages.pdf out/pages.pdf
check "200 pages: every page renders the same (pdftoppm)" same_pixels pages.pdf out/pages.pdf
check "200 pages: 200 pages out" bash -c "[ \"\$(qpdf --show-npages out/pages.pdf)\" = 200 ]"

echo "1..$n"
[ $failed -eq 0 ]
