#!/usr/bin/env bash
# Legacy office conversion per file: warm (the office pool: one sekisho-office worker,
# LibreOfficeKit loaded once, through office_tool) against cold `soffice --headless
# --convert-to` (a process per file, its profile already made), on the same files in the
# same run. Files: Japanese doc/rtf/odt/xls/ods/ppt/odp made here by LibreOffice, and the
# corpus's legacy files when ../shared/corpus is there.
# Usage: bench/office.sh [BUILD-DIR] [CORPUS] [ROUNDS-WARM]
set -u
B=$(readlink -f "${1:-build}")
CORPUS=${2:-$(dirname "$0")/../../shared/corpus}
ROUNDS=${3:-3}
TOOL=$B/tests/integration/office_tool
WORKER=$B/sekisho-office
[ -x "$TOOL" ] && [ -x "$WORKER" ] || { echo "build first: $TOOL, $WORKER" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/in" "$T/warm" "$T/cold"
LO="soffice --headless --norestore -env:UserInstallation=file://$T/lo"
printf '関所の無害化試験。日本語の文書です。\n二行目：東京都千代田区\n' >"$T/src.txt"
printf '氏名,住所\n山田太郎,東京都千代田区\n' >"$T/src.csv"
cat >"$T/src.fodp" <<'X'
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.presentation">
<office:body><office:presentation><draw:page draw:name="p1"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="5cm"><draw:text-box><text:p>関所の発表資料。日本語のスライドです。</text:p></draw:text-box></draw:frame></draw:page></office:presentation></office:body></office:document>
X
(cd "$T" && for f in doc rtf odt; do $LO --infilter="Text (encoded):UTF8,LF,,," --convert-to $f --outdir in src.txt; mv in/src.$f in/jp.$f; done
 for f in xls ods; do $LO --infilter="CSV:44,34,76,1" --convert-to $f --outdir in src.csv; mv in/src.$f in/jp.$f; done
 for f in ppt odp; do $LO --convert-to $f --outdir in src.fodp; mv in/src.$f in/jp.$f; done) >/dev/null 2>&1
POI=$CORPUS/legacy/poi
if [ -d "$POI" ]; then
	for f in document_simple.doc document_Lists.doc document_FancyFoot.doc document_testPictures.doc \
		spreadsheet_SampleSS.xls spreadsheet_Formatting.xls spreadsheet_49219.xls \
		slideshow_basic_test_ppt_file.ppt slideshow_bug53192.ppt spreadsheet_Simple.xlsb \
		hmef_quick-contents_message.rtf; do
		[ -f "$POI/$f" ] && cp "$POI/$f" "$T/in/"
	done
fi
files=$(ls "$T/in")
n=$(echo "$files" | wc -l)
echo "# $n files, load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# warm: ROUNDS passes over the files in one pool (max_jobs high enough for all)
args=()
for r in $(seq "$ROUNDS"); do for f in $files; do args+=("$T/in/$f"); done; done
"$TOOL" --worker "$WORKER" --max-jobs 100000 -o "$T/warm" "${args[@]}" >"$T/warm.tsv" 2>"$T/warm.err"
open_ms=$(sed -n 's/^office_tool: open ms=//p' "$T/warm.err")
# cold: one soffice per file (the profile made first, outside the timing)
$LO --convert-to docx --outdir "$T/cold" "$T/in/jp.doc" >/dev/null 2>&1
: >"$T/cold.tsv"
for f in $files; do
	case $f in *.doc | *.rtf | *.odt) to=docx ;; *.xls | *.xlsb | *.ods) to=xlsx ;; *) to=pptx ;; esac
	t0=$(date +%s%N)
	$LO --convert-to $to --outdir "$T/cold" "$T/in/$f" >/dev/null 2>&1
	t1=$(date +%s%N)
	ok=no
	[ -s "$T/cold/${f%.*}.$to" ] && ok=yes
	printf '%s\t%s\t%d\n' "$f" "$ok" $(((t1 - t0) / 1000000)) >>"$T/cold.tsv"
done
python3 - "$T/warm.tsv" "$T/cold.tsv" "$open_ms" "$ROUNDS" <<'PY'
import sys, statistics
warm, cold, open_ms, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3] or 0), int(sys.argv[4])
w = {}
for l in open(warm):
    p = l.rstrip("\n").split("\t")
    if len(p) >= 5 and p[1] == "converted":
        w.setdefault(p[0], []).append(int(p[4]))
c = {}
for l in open(cold):
    name, ok, ms = l.split("\t")
    if ok == "yes":
        c[name] = int(ms)
print(f"{'file':45} {'warm ms (median)':>17} {'cold ms':>8} {'ratio':>7}")
ratios = []
for name in sorted(set(w) | set(c)):
    wm = statistics.median(w[name]) if name in w else None
    cm = c.get(name)
    r = cm / wm if wm and cm else None
    if r: ratios.append(r)
    print(f"{name:45} {wm if wm is not None else '-':>17} {cm if cm is not None else '-':>8} "
          f"{(f'{r:.1f}x' if r else '-'):>7}")
both = [n for n in w if n in c]
wsum = sum(statistics.median(w[n]) for n in both)
csum = sum(c[n] for n in both)
print(f"# files converted both ways: {len(both)}; warm {wsum / len(both):.0f} ms/file, "
      f"cold {csum / len(both):.0f} ms/file: cold/warm {csum / wsum:.1f}x "
      f"(per-file ratios: median {statistics.median(ratios):.1f}x, "
      f"min {min(ratios):.1f}x, max {max(ratios):.1f}x)")
print(f"# the pool's start (LibreOfficeKit loaded, sandbox, READY): {open_ms} ms, once per "
      f"worker (and after a failure or max_jobs); warm rounds: {rounds}")
PY
