#!/usr/bin/env bash
# The three slow cases of issue 9, full size: wall time and peak memory of
# `sekisho sanitize` / `sekisho mail` (GNU time -v), for this build and optionally another
# one to compare (BEFORE=/path/to/old/sekisho).
#   bench/limits.sh [WORKDIR]
#  - xlsx, 18 MB: sharedStrings.xml of 200 MB of tiny <si><t>x</t></si> (ratio ~12)
#  - mail, 60 MB: a text/html body of <p>x repeated (15.7 M markup starts)
#  - zip, 146 MB → 1,000 MB: 100 text entries of 10 MB (inside every budget)
# The inputs are made by tests/integration/make_limits.py (small variants in the tests).
set -uo pipefail
cd "$(dirname "$0")/.."
SK=$PWD/build/sekisho
W=${1:-$(mktemp -d /tmp/sekisho-limits.XXXXXX)}
mkdir -p "$W"
MAKE=tests/integration/make_limits.py
[ -f "$W/sst.xlsx" ] || python3 $MAKE sst-xlsx "$W/sst.xlsx" 200
[ -f "$W/html.eml" ] || python3 $MAKE html-eml "$W/html.eml" 60
[ -f "$W/text.zip" ] || python3 $MAKE text-zip "$W/text.zip" 100 10

measure() { # LABEL CMD... (stdin may be redirected by the caller)
	local label=$1
	shift
	/usr/bin/time -v "$@" > "$W/out.txt" 2> "$W/time.txt"
	local wall rss verdict
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$W/time.txt")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.txt")
	verdict=$(grep -o '"verdict":"[a-z]*","reason":[^,]*' "$W/out.txt" | head -1)
	[ -n "$verdict" ] || verdict=$(grep -v '^\s' "$W/time.txt" | grep -v 'Command exited' | head -1)
	printf '%-28s wall %-9s max RSS %7d MB  %s\n' "$label" "$wall" $((rss / 1024)) "$verdict"
}

for bin in ${BEFORE:+"$BEFORE"} "$SK"; do
	echo "== $bin"
	rm -rf "$W/o" && mkdir "$W/o"
	measure "xlsx sharedStrings 200 MB" "$bin" sanitize --json -o "$W/o" "$W/sst.xlsx"
	rm -rf "$W/o" && mkdir "$W/o"
	measure "mail HTML 60 MB" "$bin" mail < "$W/html.eml"
	rm -rf "$W/o" && mkdir "$W/o"
	measure "zip 146 MB -> 1 GB" "$bin" sanitize --json -o "$W/o" "$W/text.zip"
done
[ -n "${1:-}" ] || rm -rf "$W"
