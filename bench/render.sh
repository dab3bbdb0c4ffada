#!/usr/bin/env bash
# 画像化 throughput and OCR recall against ocrmypdf, on the same PDFs in the same run.
#
# usage: bench/render.sh BUILD_DIR [HORIZONTAL_PAGES]
# The documents are made by tests/integration/render_make.py and LibreOffice: a horizontal
# Japanese PDF of HORIZONTAL_PAGES pages (default 4) and a one-page vertical (縦書き) one.
# Each is made into an image PDF by
#   sekisho  build/tests/integration/sk_render (sk_render_image_pdf, 150 dpi) with the
#            default languages jpn+jpn_vert+eng, and with jpn alone (ocrmypdf's set);
#   ocrmypdf --force-ocr -l jpn --jobs 1 (its defaults otherwise: 300 dpi rasterising of
#            vector pages is not forced; output PDF/A through Ghostscript), and once
#            with --output-type pdf (no PDF/A step);
# one process at a time, tesseract on one thread (OMP_THREAD_LIMIT=1) for both. Printed:
# wall seconds, pages/s, and the recall of pdftotext on the output (share of the source's
# characters found, whitespace ignored; and the share found in order).
set -uo pipefail
build=$(cd "$1" && pwd)
hp=${2:-4}
src=$(cd "$(dirname "$0")/.." && pwd)
skr=$build/tests/integration/sk_render
check="python3 $src/tests/integration/render_check.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
export OMP_THREAD_LIMIT=1

python3 "$src/tests/integration/render_make.py" horizontal h.fodt "$hp"
python3 "$src/tests/integration/render_make.py" vertical v.fodt 1
soffice --headless --norestore "-env:UserInstallation=file://$work/profile" \
	--convert-to pdf --outdir . h.fodt v.fodt >soffice.log 2>&1 || { echo "soffice failed"; exit 1; }

now() { date +%s.%N; }
row() { # tool doc pages seconds out.pdf ref.txt
	pdftotext -q "$5" out.txt
	read -r bag ordered < <($check recall "$6" out.txt)
	printf '%-34s %-11s %5s %8.1f %8.3f %8s %8s %9s\n' "$1" "$2" "$3" "$4" \
		"$(echo "$3 / $4" | bc -l)" "$bag" "$ordered" "$(stat -c %s "$5")"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(tesseract --version 2>&1 | head -1); $(ocrmypdf --version 2>/dev/null | head -1 | sed 's/^/ocrmypdf /')"
printf '%-34s %-11s %5s %8s %8s %8s %8s %9s\n' tool document pages seconds pages/s recall ordered bytes
for d in h v; do
	pages=$(pdfinfo $d.pdf | sed -n 's/^Pages: *//p')
	name=$([ $d = h ] && echo horizontal || echo vertical)
	t0=$(now); "$skr" $d.pdf s1.pdf >/dev/null 2>&1; t1=$(now)
	row "sekisho jpn+jpn_vert+eng" $name "$pages" "$(echo "$t1 - $t0" | bc -l)" s1.pdf $d.txt
	t0=$(now); "$skr" --lang jpn $d.pdf s2.pdf >/dev/null 2>&1; t1=$(now)
	row "sekisho jpn" $name "$pages" "$(echo "$t1 - $t0" | bc -l)" s2.pdf $d.txt
	t0=$(now); ocrmypdf -q --force-ocr -l jpn --jobs 1 $d.pdf o1.pdf >/dev/null 2>&1; t1=$(now)
	row "ocrmypdf --force-ocr -l jpn" $name "$pages" "$(echo "$t1 - $t0" | bc -l)" o1.pdf $d.txt
	t0=$(now); ocrmypdf -q --force-ocr -l jpn --jobs 1 --output-type pdf $d.pdf o2.pdf >/dev/null 2>&1; t1=$(now)
	row "ocrmypdf … --output-type pdf" $name "$pages" "$(echo "$t1 - $t0" | bc -l)" o2.pdf $d.txt
done
