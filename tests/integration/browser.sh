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

. "$(dirname "$0")/browser_env.sh"
browser_prereqs zip unzip
browser_begin browser
IN_ADDR=127.0.0.2
LG_ADDR=127.0.0.3
IN_PORT=$(free_port $IN_ADDR)
LG_PORT=$(free_port $LG_ADDR)
self_signed "sekisho browser test" $IN_ADDR $LG_ADDR

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
add_user tanaka somu staff security-manager
user_ok $? tanaka "sekisho user add tanaka (somu: staff, security-manager): a TOTP secret in an otpauth:// URI"
add_user kacho somu security-manager
user_ok $? kacho "sekisho user add kacho (somu: security-manager)"
add_user hosa somu security-manager
user_ok $? hosa "sekisho user add hosa (somu: security-manager)"
add_user joho johoseisaku sysadmin auditor
user_ok $? joho "sekisho user add joho (johoseisaku: sysadmin, auditor)"

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

# ---- sekishod and the walk
start_sekishod "$IN_ADDR:$IN_PORT" "$LG_ADDR:$LG_PORT"
INTERNET="https://$IN_ADDR:$IN_PORT" LGWAN="https://$LG_ADDR:$LG_PORT" FILES="$T/files" run_walk browser.mjs
done_testing
