#!/usr/bin/env bash
# The console in a real browser (TAP): Debian's chromium driven by playwright-core
# (browser.mjs) against a real sekishod with an internet-zone and an LGWAN-zone HTTPS
# listener on loopback addresses (a self-signed certificate made here).
#   browser.sh SEKISHOD SEKISHO SOURCE_ROOT SHOTS_DIR
# Users are made with `sekisho user add` (TOTP codes with oathtool). The walk: log in with
# TOTP, upload a docm on the internet side, download the docx on the LGWAN side, request
# the release of a held item, self-approval refused, two other users approve, unlock a
# PPAP zip (a wrong password, the right one, the limit of tries) and download its sanitised
# content on the LGWAN side, audit/dashboard/users, the English switch. A screenshot of each screen goes to
# SHOTS_DIR. Skipped (with the reason) only when chromium or web/node_modules is missing:
# dev/setup installs both.
set -u
SEKISHOD=$1
SEKISHO=$2
ROOT=$3
SHOTS=$4
. "$(dirname "$0")/tap.sh"
export LC_ALL=C.UTF-8
WEB=$ROOT/web

if [ ! -x /usr/bin/chromium ]; then
	echo "1..0 # SKIP /usr/bin/chromium is not installed (dev/setup installs it: dev/packages.txt)"
	exit 0
fi
if [ ! -f "$WEB/node_modules/playwright-core/package.json" ] || [ ! -f "$WEB/vendor/lit.js" ]; then
	echo "1..0 # SKIP web/node_modules or web/vendor is missing (dev/setup runs npm ci and web/vendor.mjs)"
	exit 0
fi
for c in node oathtool openssl zip unzip python3; do
	if ! command -v "$c" >/dev/null; then
		echo "1..0 # SKIP $c is not installed (dev/setup installs dev/packages.txt)"
		exit 0
	fi
done

T=$(mktemp -d /tmp/sekisho-browser.XXXXXX)
chmod 755 "$T"
MASTER=""
cleanup() {
	if [ -n "$MASTER" ] && kill -0 "$MASTER" 2>/dev/null; then
		kill "$MASTER" 2>/dev/null
		wait_for 10 eval '! kill -0 '"$MASTER"
		kill -9 "$MASTER" 2>/dev/null
		wait "$MASTER" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

AS_ROOT=0
[ "$(id -u)" -eq 0 ] && getent passwd sekisho >/dev/null && AS_ROOT=1
USEROPT=()
[ $AS_ROOT -eq 1 ] && USEROPT=(--user sekisho)

free_port() { # free_port ADDR
	python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"
}
IN_ADDR=127.0.0.2
LG_ADDR=127.0.0.3
IN_PORT=$(free_port $IN_ADDR)
LG_PORT=$(free_port $LG_ADDR)
STATE=$T/state
POL=$T/policy.yaml
PASSWORD='Hq7#vMt2-Lp9xWz4-Rk'

# ---- a self-signed certificate for both listeners
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/CN=sekisho browser test" -addext "subjectAltName=IP:$IN_ADDR,IP:$LG_ADDR" \
	-keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.out" 2>&1
ok $? "a self-signed certificate for $IN_ADDR and $LG_ADDR (openssl)"
chmod 644 "$T/cert.pem"
if [ $AS_ROOT -eq 1 ]; then chgrp sekisho "$T/key.pem" && chmod 640 "$T/key.pem"; fi

# ---- the policy: the demo one with two approvals for a release (two-person rule), a
# 個人番号 held on the internet → LGWAN file flow (so that there is something to request),
# and the two listeners
sed '/^gateway:/,$d' "$ROOT/examples/policy/default.yaml" |
	awk '/id: internet-lgwan-file/ {f=1}
	     f && /dlp: record/ {sub(/dlp: record/, "dlp: { mynumber: hold, corporate: record, pattern: record, unscannable: record }"); f=0}
	     /^release:/ {r=1}
	     r && /^  approvers: / {sub(/approvers: [0-9]+/, "approvers: 2"); r=0}
	     {print}' >"$POL"
cat >>"$POL" <<EOF
gateway:
  workers: 1
  http:
    - { zone: internet, listen: "$IN_ADDR:$IN_PORT" }
    - { zone: lgwan, listen: "$LG_ADDR:$LG_PORT" }
  tls: { cert: $T/cert.pem, key: $T/key.pem }
EOF
"$SEKISHO" policy check "$POL" >"$T/check.out" 2>&1
st=$?
ok $st "the test policy passes sekisho policy check"
[ $st -eq 0 ] || sed 's/^/# /' "$T/check.out"
grep -q '^  approvers: 2' "$POL"
ok $? "the test policy asks for two approvals of a release"

# ---- users
declare -A SECRET
add_user() { # add_user NAME SECTION ROLE...
	local name=$1 section=$2
	shift 2
	local roles=()
	for r in "$@"; do roles+=(--role "$r"); done
	printf '%s\n' "$PASSWORD" | "$SEKISHO" user add "$name" "${roles[@]}" --section "$section" \
		--state "$STATE" --policy "$POL" >"$T/user-$name.out" 2>&1 || return 1
	SECRET[$name]=$(grep -o 'secret=[A-Z2-7]*' "$T/user-$name.out" | head -n1 | cut -d= -f2)
	[ -n "${SECRET[$name]}" ] && oathtool --totp -b "${SECRET[$name]}" >/dev/null
}
user_ok() { # user_ok STATUS NAME DESCRIPTION
	ok "$1" "$3"
	[ "$1" -eq 0 ] || sed 's/^/# /' "$T/user-$2.out"
}
add_user tanaka somu staff security-manager
user_ok $? tanaka "sekisho user add tanaka (somu: staff, security-manager): a TOTP secret in an otpauth:// URI"
add_user kacho somu security-manager
user_ok $? kacho "sekisho user add kacho (somu: security-manager)"
add_user hosa somu security-manager
user_ok $? hosa "sekisho user add hosa (somu: security-manager)"
add_user joho johoseisaku sysadmin auditor
user_ok $? joho "sekisho user add joho (johoseisaku: sysadmin, auditor)"
[ $AS_ROOT -eq 1 ] && chown -R sekisho: "$STATE" 2>/dev/null

# ---- the inputs
mkdir -p "$T/files"
python3 - "$T/files" <<'PY'
import sys, zipfile
out = sys.argv[1]
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
with zipfile.ZipFile(out + "/通知文.docm", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("[Content_Types].xml",
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/>'
        '</Types>')
    z.writestr("_rels/.rels",
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="%s/officeDocument" Target="word/document.xml"/></Relationships>' % R)
    z.writestr("word/document.xml",
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="%s"><w:body>'
        '<w:p><w:r><w:t>住民説明会のお知らせ</w:t></w:r></w:p></w:body></w:document>' % W)
    z.writestr("word/_rels/document.xml.rels",
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId5" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
        '</Relationships>')
    z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + b"Attribute VB_Name AutoOpen")
open(out + "/名簿.txt", "w", encoding="utf-8").write("名簿\n申請者 山田\n個人番号: 3847-5629-1044\n")
open(out + "/evil.txt", "w", encoding="utf-8").write("a file whose name looks like HTML\n")
open(out + "/見積内訳.txt", "w", encoding="utf-8").write("見積内訳\n合計 120,000 円\n")
PY
# the PPAP zips: a docm (with its macros) and a text inside, the password sent "separately"
cp "$T/files/通知文.docm" "$T/files/見積書.docm"
(cd "$T/files" && zip -q -P 'ppap-Secret-42' 見積書.zip 見積書.docm 見積内訳.txt &&
	zip -q -P 'other-Secret-7' 請求書.zip 見積内訳.txt)
ok $? "inputs: a docm with a vbaProject.bin, a text with a 個人番号, two PPAP zips (zip -P, one with the docm)"

# ---- sekishod
"$SEKISHOD" --foreground --policy "$POL" --state "$STATE" "${USEROPT[@]}" --web "$WEB" \
	--events "json:$T/events.jsonl" >>"$T/sekishod.out" 2>&1 &
MASTER=$!
listening() { curl -ksS -o /dev/null "https://$1:$2/"; }
wait_for 30 listening $IN_ADDR "$IN_PORT" && wait_for 10 listening $LG_ADDR "$LG_PORT"
st=$?
ok $st "sekishod listens on https://$IN_ADDR:$IN_PORT (internet) and https://$LG_ADDR:$LG_PORT (lgwan)"
[ $st -eq 0 ] || sed 's/^/# /' "$T/sekishod.out"

# ---- the walk
users=""
for u in "${!SECRET[@]}"; do users+="$u:${SECRET[$u]},"; done
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
WEB=$WEB INTERNET="https://$IN_ADDR:$IN_PORT" LGWAN="https://$LG_ADDR:$LG_PORT" \
	USERS="${users%,}" PASSWORD="$PASSWORD" FILES="$T/files" SHOTS="$SHOTS" \
	TAP_START=$_tap_n TAP_OUT="$T/tap" timeout 600 node "$(dirname "$0")/browser.mjs"
rc=$?
if [ -s "$T/tap" ]; then
	read -r n f <"$T/tap"
	_tap_n=$n
	_tap_fail=$((_tap_fail + f))
else
	ok 1 "browser.mjs ended before its end (exit $rc)"
fi
kill -0 "$MASTER" 2>/dev/null
st=$?
ok $st "sekishod still running after the walk"
[ $st -eq 0 ] || sed 's/^/# /' "$T/sekishod.out"
done_testing
