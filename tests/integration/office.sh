#!/usr/bin/env bash
# The office pool and the sekisho-office worker (LibreOfficeKit in its sandbox), through
# office_tool (office_tool.c): Japanese legacy files LibreOffice makes here (doc, rtf, odt
# from a text; xls, ods from a CSV; ppt, odp from a flat ODF presentation) each come back
# as a valid OOXML package of their target kind with the Japanese text (python's zipfile);
# the corpus's legacy files (../shared/corpus/legacy/poi, skipped when missing) convert
# too, its encrypted .doc is blocked encrypted; a truncated file is malformed; a time
# limit kills the worker (limit-time) and it is replaced; max_jobs replaces it; an input
# over max_output is limit-size; the sandbox is checked from outside (/proc).
# Usage: office.sh office_tool sekisho-office CORPUS. TAP output.
set -u
. "$(dirname "$0")/tap.sh"
TOOL=$(readlink -f "${1:?office_tool}")
WORKER=$(readlink -f "${2:?sekisho-office}")
CORPUS=${3:?corpus folder}
if ! command -v soffice >/dev/null || ! command -v python3 >/dev/null; then
	skip "office pool" "soffice or python3 not installed"
	done_testing
	exit 0
fi
T=$(mktemp -d)
chmod 755 "$T"
cleanup() {
	[ -n "${HOLD:-}" ] && kill "$HOLD" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/jp" "$T/out"
export LC_ALL=C.UTF-8

# ---- Japanese legacy files, made by LibreOffice (soffice, cold, a profile of its own)
JP_TEXT='関所の無害化試験。日本語の文書です。'
JP_CELL='山田太郎'
JP_SLIDE='関所の発表資料。日本語のスライドです。'
printf '%s\n二行目：東京都千代田区\n' "$JP_TEXT" >"$T/jp/jp.txt"
printf '氏名,住所\n%s,東京都千代田区\n' "$JP_CELL" >"$T/jp/jp.csv"
cat >"$T/jp/jp.fodp" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.presentation">
<office:body><office:presentation><draw:page draw:name="p1"><draw:frame svg:x="2cm" svg:y="2cm" svg:width="20cm" svg:height="5cm"><draw:text-box><text:p>$JP_SLIDE</text:p></draw:text-box></draw:frame></draw:page></office:presentation></office:body></office:document>
EOF
lo() { # FORMAT INFILTER FILE
	(cd "$T/jp" && soffice --headless --norestore "-env:UserInstallation=file://$T/lo" \
		${2:+"--infilter=$2"} --convert-to "$1" "$3" >>"$T/soffice.log" 2>&1)
}
for f in doc rtf odt; do lo $f "Text (encoded):UTF8,LF,,," jp.txt; done
for f in xls ods; do lo $f "CSV:44,34,76,1" jp.csv; done
for f in ppt odp; do lo $f "" jp.fodp; done
made=0
for f in doc rtf odt xls ods ppt odp; do [ -s "$T/jp/jp.$f" ] && made=$((made + 1)); done
ok $([ $made -eq 7 ]; echo $?) "LibreOffice made the 7 Japanese legacy files ($made)"

# ---- one pool, one run: Japanese files, then the corpus's, the failures, the limits
set -- "$T/jp/jp.doc" "$T/jp/jp.rtf" "$T/jp/jp.odt" "$T/jp/jp.xls" "$T/jp/jp.ods" \
	"$T/jp/jp.ppt" "$T/jp/jp.odp"
POI=$CORPUS/legacy/poi
corpus_files="document_simple.doc document_Lists.doc spreadsheet_SampleSS.xls \
spreadsheet_Formatting.xls slideshow_basic_test_ppt_file.ppt spreadsheet_Simple.xlsb \
hmef_quick-contents_message.rtf"
if [ -d "$POI" ]; then
	for f in $corpus_files; do set -- "$@" "$POI/$f"; done
	set -- "$@" "$POI/document_password_password_cryptoapi.doc"
fi
head -c 3000 "$T/jp/jp.doc" >"$T/jp/truncated.doc"
for f in early warm slow after; do cp "$T/jp/jp.doc" "$T/jp/$f.doc"; done
# after the truncated file its worker is replaced: early.doc's 1 ms pass while the new
# one starts (it goes on starting); warm.doc waits for it; slow.doc's 1 ms pass in it
set -- "$@" "$T/jp/truncated.doc" --ms 1 "$T/jp/early.doc" --ms 0 "$T/jp/warm.doc" \
	--ms 1 "$T/jp/slow.doc" --ms 0 "$T/jp/after.doc"
"$TOOL" --worker "$WORKER" -o "$T/out" "$@" >"$T/results" 2>"$T/events"
ok $? "office_tool ran (a pool of one worker)"
while read -r l; do diag "$l"; done <"$T/results"
result() { awk -F'\t' -v n="$1" '$1 == n { print $2 }' "$T/results" | tail -1; }
field() { awk -F'\t' -v n="$1" -v k="$2" '$1 == n { print $k }' "$T/results" | tail -1; }

grep -q 'sekisho-office\[[0-9]*\]: 起動 / started: .*no-new-privs=yes' "$T/events"
ok $? "the worker's startup event says what sandbox it got"
diag "$(head -1 "$T/events")"

# every converted file: a ZIP (python's zipfile), the target's main part and content type,
# and for the Japanese files their text in the document's XML
check_ooxml() { # FILE KIND [TEXT]
	python3 - "$@" <<'PY'
import sys, zipfile
path, kind = sys.argv[1], sys.argv[2]
text = sys.argv[3] if len(sys.argv) > 3 else None
main = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml",
        "pptx": "ppt/presentation.xml"}[kind]
ctype = {"docx": "wordprocessingml.document.main+xml",
         "xlsx": "spreadsheetml.sheet.main+xml",
         "pptx": "presentationml.presentation.main+xml"}[kind]
z = zipfile.ZipFile(path)
assert z.testzip() is None, "bad CRC"
names = z.namelist()
assert main in names, f"no {main}"
assert ctype in z.read("[Content_Types].xml").decode(), "wrong content type"
if text:
    parts = [n for n in names if n.endswith(".xml") and n.split("/")[0] in ("word", "xl", "ppt")]
    body = "".join(z.read(n).decode("utf-8") for n in parts)
    assert text in body, f"{text} not found"
PY
}
for f in doc:docx:"$JP_TEXT" rtf:docx:"$JP_TEXT" odt:docx:"$JP_TEXT" xls:xlsx:"$JP_CELL" \
	ods:xlsx:"$JP_CELL" ppt:pptx:"$JP_SLIDE" odp:pptx:"$JP_SLIDE"; do
	ext=${f%%:*}
	rest=${f#*:}
	kind=${rest%%:*}
	text=${rest#*:}
	r=$(result "jp.$ext")
	out=$(field "jp.$ext" 6)
	[ "$r" = converted ] && check_ooxml "$out" "$kind" "$text" 2>"$T/py.err"
	ok $? "jp.$ext → $kind, the Japanese text kept ($r)"
	[ -s "$T/py.err" ] && diag "$(tail -1 "$T/py.err")"
done

if [ -d "$POI" ]; then
	for f in $corpus_files; do
		case $f in
		*.doc | *.rtf) kind=docx ;;
		*.xls | *.xlsb) kind=xlsx ;;
		*.ppt) kind=pptx ;;
		esac
		r=$(result "$f")
		[ "$r" = converted ] && check_ooxml "$(field "$f" 6)" $kind 2>"$T/py.err"
		ok $? "corpus $f → $kind ($r)"
	done
	r=$(result document_password_password_cryptoapi.doc)
	ok $([ "$r" = encrypted ]; echo $?) "corpus: the password-protected .doc is blocked encrypted ($r)"
else
	skip "corpus legacy/poi" "no corpus at $CORPUS"
fi

r=$(result truncated.doc)
ok $([ "$r" = malformed ]; echo $?) "a truncated .doc is malformed ($r)"
r=$(result early.doc)
d=$(field early.doc 6)
ok $([ "$r" = limit-time ] && [ "${d#*starting}" != "$d" ]; echo $?) \
	"a time limit that passes while LibreOffice starts is limit-time ($r: $d)"
r=$(result warm.doc)
warm=$(field warm.doc 4)
ok $([ "$r" = converted ] && [ "$warm" != 0 ]; echo $?) "the next file waits for that worker ($r, $warm)"
r=$(result slow.doc)
before=$(field slow.doc 3)
ok $([ "$r" = limit-time ] && [ "$before" = "$warm" ]; echo $?) \
	"a conversion past its time limit (1 ms) is limit-time ($r, in $before)"
r=$(result after.doc)
after=$(field after.doc 4)
ok $([ "$r" = converted ] && [ "$after" != 0 ] && [ "$after" != "$before" ]; echo $?) \
	"the killed worker was replaced: the next file converts in a new one ($before → $after)"
stats=$(grep '^stats ' "$T/results")
echo "$stats" | grep -q ' timeouts=1 '
ok $? "the pool counted one time-out ($stats)"
# each failure in a worker (encrypted, malformed, limit-time) ended it: a start for each
fails=$(awk -F'\t' 'NF >= 6 && $2 != "converted" && $6 !~ /starting/' "$T/results" | wc -l)
echo "$stats" | grep -q " restarts=$fails "
ok $? "a fresh worker after each of the $fails failures ($stats)"

# ---- max_jobs: the worker is replaced after 2 conversions
"$TOOL" --worker "$WORKER" --max-jobs 2 -o "$T/out" "$T/jp/jp.doc" "$T/jp/jp.rtf" \
	"$T/jp/jp.odt" >"$T/results2" 2>/dev/null
p1=$(awk -F'\t' 'NR == 1 { print $4 }' "$T/results2")
p3=$(awk -F'\t' 'NR == 3 { print $4 }' "$T/results2")
n=$(awk -F'\t' '$2 == "converted"' "$T/results2" | wc -l)
ok $([ "$n" = 3 ] && [ "$p1" != "$p3" ] && [ "$p3" != 0 ]; echo $?) \
	"max_jobs 2: three conversions, the third in a new worker ($p1 → $p3)"

# ---- a damaged PDF that poppler cannot open either (画像化 fails): LibreOffice had no part
# in it, so the worker is kept (sk_wire_office_retires); a stream of them restarts nothing
printf '%%PDF-1.2\r\n\r\n4 0 obj\r\n<<\r\n/E 6195\r\n/H [ 1' >"$T/jp/cut1.pdf"
cp "$T/jp/cut1.pdf" "$T/jp/cut2.pdf"
"$TOOL" --worker "$WORKER" -o "$T/out" --image "$T/jp/cut1.pdf" "$T/jp/cut2.pdf" \
	"$T/jp/cut1.pdf" >"$T/results4" 2>/dev/null
while read -r l; do diag "$l"; done <"$T/results4"
fails=$(awk -F'\t' 'NF >= 6 && $2 != "converted"' "$T/results4" | wc -l)
pids=$(awk -F'\t' 'NF >= 6 { print $3; print $4 }' "$T/results4" | sort -u | wc -l)
grep -q '^stats .* restarts=0 ' "$T/results4"
ok $([ $? = 0 ] && [ "$fails" = 3 ] && [ "$pids" = 1 ]; echo $?) \
	"three cut PDFs: 画像化 fails for each, in one worker, no restart ($fails failed, $pids pid: $(grep '^stats' "$T/results4"))"

# ---- max_output: an input over the limit is refused before any worker sees it
head -c $((2 * 1024 * 1024)) /dev/urandom >"$T/jp/big.doc"
"$TOOL" --worker "$WORKER" --max-output 1048576 -o "$T/out" "$T/jp/big.doc" >"$T/results3" 2>/dev/null
r=$(awk -F'\t' 'NR == 1 { print $2 }' "$T/results3")
ok $([ "$r" = limit-size ]; echo $?) "an input over max_output (1 MiB) is limit-size ($r)"

# ---- the sandbox, from outside
mkfifo "$T/hold"
"$TOOL" --worker "$WORKER" --sandbox <"$T/hold" >"$T/sandbox" 2>/dev/null &
HOLD=$!
exec 9>"$T/hold"
for _ in $(seq 600); do grep -q '^pid ' "$T/sandbox" 2>/dev/null && break; sleep 0.2; done
pid=$(awk '/^pid / { print $2 }' "$T/sandbox")
ok $([ -n "$pid" ] && [ "$pid" != 0 ] && [ -d "/proc/$pid" ]; echo $?) "the sandbox pool has a ready worker ($pid)"
grep -q '^NoNewPrivs:[[:space:]]*1$' "/proc/$pid/status" 2>/dev/null
ok $? "the worker has no_new_privs (/proc/$pid/status)"
ifaces=$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' "/proc/$pid/net/dev" 2>/dev/null | tr '\n' ' ')
ok $([ "$ifaces" = "lo " ]; echo $?) "the worker's network namespace has only lo ($ifaces)"
if [ "$(id -u)" = 0 ]; then
	want=$(id -u sekisho 2>/dev/null)
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
	ok $([ -n "$want" ] && [ "$uid" = "$want" ]; echo $?) "started as root, the worker runs as sekisho ($uid)"
	ns_self=$(readlink /proc/self/ns/net)
	ns_worker=$(readlink "/proc/$pid/ns/net")
	ok $([ "$ns_self" != "$ns_worker" ]; echo $?) "its network namespace is not ours"
	xcu=/proc/$pid/root/tmp/profile/user/registrymodifications.xcu
	grep -q 'MacroSecurityLevel.*<value>3</value>' "$xcu" &&
		grep -q 'DisableMacrosExecution.*<value>true</value>' "$xcu" &&
		grep -q 'VirtualMachine.*Enable.*<value>false</value>' "$xcu"
	ok $? "its private /tmp holds the profile: macros off, Java off"
	mnt=$(awk '$2 == "/tmp" { print $3 }' "/proc/$pid/mounts")
	ok $([ "$mnt" = tmpfs ]; echo $?) "its /tmp is a tmpfs of its own ($mnt)"
	ok $([ "$(readlink /proc/self/ns/mnt)" != "$(readlink "/proc/$pid/ns/mnt")" ]; echo $?) \
		"in a mount namespace of its own"
else
	skip "uid and profile checks" "not root"
fi
exec 9>&-
wait "$HOLD"
HOLD=
ok $([ ! -d "/proc/$pid" ]; echo $?) "closing the pool ends the worker"
done_testing
