#!/usr/bin/env bash
# 画像化 throughput and OCR recall against ocrmypdf, on the same PDFs in the same run.
#
# usage: bench/render.sh BUILD_DIR [HORIZONTAL_PAGES]
# The documents are made by tests/integration/render_make.py and LibreOffice: a horizontal
# Japanese PDF of HORIZONTAL_PAGES pages (default 4) and a one-page vertical (縦書き) one.
# Each is made into an image PDF by
#   sekisho, the path items take: the office pool (sk_office_image_document through
#            build/tests/integration/office_tool --image: warm sekisho-office workers,
#            poppler + tesseract in their sandbox, 150 dpi, the OCR models chosen per page;
#            the pool's start is not counted, as a running gateway has it started) with
#            1 worker, and with 2 workers (the pages spread in ranges of 2 and joined);
#   sekisho, in process (build/tests/integration/sk_render: sk_render_image_pdf alone, one
#            thread, the models loaded in the timing) with the models chosen per page, with
#            the former default jpn+jpn_vert+eng for every page, and with jpn alone;
#   ocrmypdf --force-ocr -l jpn with --jobs 1 and --jobs 2 (its defaults otherwise: output
#            PDF/A through Ghostscript), and --jobs 1 --output-type pdf;
# one tool at a time, tesseract on one thread (OMP_THREAD_LIMIT=1) everywhere. Printed: wall
# seconds, pages/s, the recall of pdftotext on the output (share of the source's characters
# found, whitespace ignored; and the share found in order), the size, and a last table of
# ratios: sekisho's pages/s over ocrmypdf's with as many processes (1 worker against
# --jobs 1, 2 workers against --jobs 2), per document and over both.
set -uo pipefail
build=$(cd "$1" && pwd)
hp=${2:-4}
src=$(cd "$(dirname "$0")/.." && pwd)
skr=$build/tests/integration/sk_render
tool=$build/tests/integration/office_tool
worker=$build/sekisho-office
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
: >rates.txt
row() { # tool doc pages seconds out.pdf ref.txt
	pdftotext -q "$5" out.txt
	read -r bag ordered < <($check recall "$6" out.txt)
	local rate
	rate=$(echo "$3 / $4" | bc -l)
	printf '%-36s %-11s %5s %8.1f %8.3f %8s %8s %9s\n' "$1" "$2" "$3" "$4" "$rate" "$bag" \
		"$ordered" "$(stat -c %s "$5")"
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>rates.txt
}
# office_tool's milliseconds for FILE in its output
tool_ms() { awk -F'\t' -v f="$2" '$1 == f && $2 == "converted" {print $5}' "$1"; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(getconf _NPROCESSORS_ONLN) cores; $(tesseract --version 2>&1 | head -1); $(ocrmypdf --version 2>/dev/null | head -1 | sed 's/^/ocrmypdf /')"
# the pool: each document once to warm it (fontconfig, the first page's caches), then timed
for n in 1 2; do
	mkdir -p "p$n"
	"$tool" --worker "$worker" --workers $n --pages-per-job 2 --max-jobs 100000 -o "p$n" \
		--image h.pdf v.pdf h.pdf v.pdf >"pool$n.tsv" 2>"pool$n.err"
	tail -n +3 "pool$n.tsv" | head -2 >"pool$n.timed"
done
printf '%-36s %-11s %5s %8s %8s %8s %8s %9s\n' tool document pages seconds pages/s recall ordered bytes
for d in h v; do
	pages=$(pdfinfo $d.pdf | sed -n 's/^Pages: *//p')
	name=$([ $d = h ] && echo horizontal || echo vertical)
	for n in 1 2; do
		ms=$(tool_ms "pool$n.timed" "$d.pdf")
		if [ -n "$ms" ]; then
			row "sekisho office pool, $n worker(s)" $name "$pages" "$(echo "$ms / 1000" | bc -l)" "p$n/$d.pdf.pdf" $d.txt
		else
			echo "sekisho office pool, $n worker(s): failed ($(grep "^$d.pdf" "pool$n.tsv" | tail -1))"
		fi
	done
	t0=$(now); "$skr" $d.pdf s0.pdf >/dev/null 2>&1; t1=$(now)
	row "sekisho in process, per-page models" $name "$pages" "$(echo "$t1 - $t0" | bc -l)" s0.pdf $d.txt
	t0=$(now); "$skr" --lang jpn+jpn_vert+eng $d.pdf s1.pdf >/dev/null 2>&1; t1=$(now)
	row "sekisho in process, jpn+jpn_vert+eng" $name "$pages" "$(echo "$t1 - $t0" | bc -l)" s1.pdf $d.txt
	t0=$(now); "$skr" --lang jpn $d.pdf s2.pdf >/dev/null 2>&1; t1=$(now)
	row "sekisho in process, jpn" $name "$pages" "$(echo "$t1 - $t0" | bc -l)" s2.pdf $d.txt
	for j in 1 2; do
		t0=$(now); ocrmypdf -q --force-ocr -l jpn --jobs $j $d.pdf o$j.pdf >/dev/null 2>&1; t1=$(now)
		row "ocrmypdf --force-ocr -l jpn --jobs $j" $name "$pages" "$(echo "$t1 - $t0" | bc -l)" o$j.pdf $d.txt
	done
	t0=$(now); ocrmypdf -q --force-ocr -l jpn --jobs 1 --output-type pdf $d.pdf o3.pdf >/dev/null 2>&1; t1=$(now)
	row "ocrmypdf … --jobs 1 --output-type pdf" $name "$pages" "$(echo "$t1 - $t0" | bc -l)" o3.pdf $d.txt
done
echo
echo "ratio: sekisho's pages/s (office pool) over ocrmypdf's (--force-ocr -l jpn), as many processes"
python3 - <<'EOF'
rows = [l.rstrip("\n").split("\t") for l in open("rates.txt")]
t = {}
for tool, doc, pages, secs in rows:
    t[(tool, doc)] = (int(pages), float(secs))
for n in (1, 2):
    s_tool, o_tool = "sekisho office pool, %d worker(s)" % n, "ocrmypdf --force-ocr -l jpn --jobs %d" % n
    tot_s = tot_o = pages = 0
    for doc in ("horizontal", "vertical"):
        if (s_tool, doc) not in t or (o_tool, doc) not in t:
            continue
        p, s = t[(s_tool, doc)]
        _, o = t[(o_tool, doc)]
        print("  %d process(es), %-10s: sekisho %.3f pages/s, ocrmypdf %.3f pages/s: %.2f×" % (n, doc, p / s, p / o, o / s))
        tot_s += s
        tot_o += o
        pages += p
    if pages:
        print("  %d process(es), both      : sekisho %.3f pages/s, ocrmypdf %.3f pages/s: %.2f×" % (n, pages / tot_s, pages / tot_o, tot_o / tot_s))
EOF
