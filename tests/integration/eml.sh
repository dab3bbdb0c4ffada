#!/bin/bash
# An .eml given as a file to `sekisho sanitize` (the sandboxed worker, the default profile)
# is a message (type eml), rebuilt the way the mail channel rebuilds one, never delivered
# byte for byte. Read back with python's email package:
#  1. a base64 invoice.exe attached: removed (listed, reason executable), the message
#     delivered (sanitized) as .eml without it, its ISO-2022-JP subject and body read right;
#  2. a docm attached, and a docx with a VBA part: re-attached as docx without
#     vbaProject.bin;
#  3. HTML only: a text body, no <script>, the link neutralised;
#  4. a .txt that starts "From: " without MIME: still text, delivered as it is;
#  5. a message cut short: blocked malformed, nothing written, the original in the
#     quarantine byte for byte (--state);
#  - a legacy .doc attached: converted to .docx by the file flow's convert hook (LibreOffice
#    in the office workers);
#  - a password ZIP attached: the message delivered without it (encrypted-attachment), the
#    ZIP unlocked from the stored original by `quarantine unlock` and rebuilt;
#  6. the mail corpus (../shared/corpus/mime, read-only) as files: sekisho ends by itself,
#     every output a message python parses (the items typed eml) or the input as it was
#     (typed text), every other item blocked with a reason.
# Usage: eml.sh SEKISHO CORPUS-DIR. Output: TAP.
set -u
sekisho=$(readlink -f "$1")
corpus=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
export LC_ALL=C.UTF-8
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

python3 - <<'EOF'
import base64, io, zipfile
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

def msg(subject, body, attachments):
    m = MIMEMultipart()
    m["From"] = "sender@example.com"
    m["To"] = "staff@city.example.lg.jp"
    m["Subject"] = Header(subject, "iso-2022-jp")
    m.attach(MIMEText(body, "plain", "iso-2022-jp"))
    for name, data in attachments:
        a = MIMEApplication(data)
        a.add_header("Content-Disposition", "attachment", filename=name)
        m.attach(a)
    return m.as_bytes()

exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + \
      b"This program cannot be run in DOS mode.\r\n"
open("invoice.eml", "wb").write(msg("請求書の送付", "いつもお世話になっております。\n請求書を送ります。\n",
                                    [("invoice.exe", exe)]))

def office(main_ct, vba):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
                   '<Override PartName="/word/document.xml" ContentType="%s"/></Types>' % main_ct)
        z.writestr("_rels/.rels",
                   '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                   'officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml",
                   '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                   '<w:body><w:p><w:r><w:t>見積書</w:t></w:r></w:p></w:body></w:document>')
        if vba:
            z.writestr("word/_rels/document.xml.rels",
                       '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                       '<Relationship Id="rId9" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
                       'Target="vbaProject.bin"/></Relationships>')
            z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 macro")
    return b.getvalue()

docm = office("application/vnd.ms-word.document.macroEnabled.main+xml", True)
docx = office("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", True)
open("macro.eml", "wb").write(msg("見積", "見積書を添付します。\n", [("見積.docm", docm), ("仕様.docx", docx)]))

open("html.eml", "wb").write(
    b"From: a@example.com\r\nSubject: notice\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
    "<html><body><p>お知らせです。</p><script>alert('x')</script>"
    "<a href=\"https://evil.example/login\">ログイン</a></body></html>\r\n".encode())

open("memo.txt", "wb").write("From: 山田\nTo: 佐藤\n\n会議のメモです。\n".encode())

whole = msg("請求書", "本文\n", [("invoice.exe", exe), ("data.bin", b"x" * 3000)])
open("cut.eml", "wb").write(whole[: len(whole) * 2 // 3])
EOF

"$sekisho" sanitize --json --state st -o out invoice.eml macro.eml html.eml memo.txt cut.eml \
	>res.json 2>err.log
rc=$?
ok $([ $rc -eq 1 ]; echo $?) "sanitize ends with exit 1 (one item blocked) (exit $rc)"

check_py() { # description, python code on stdin
	local d=$1
	python3 - >py.log 2>&1
	local r=$?
	ok $r "$d"
	[ $r -eq 0 ] || sed 's/^/# /' py.log
}

check_py "1. invoice.eml: type eml, sanitized, invoice.exe removed (executable), delivered as .eml" <<'EOF'
import json
res = {json.loads(l)["input"]: json.loads(l) for l in open("res.json")}
j = res["invoice.eml"]
assert j["type"] == "eml" and j["verdict"] == "sanitized" and j["output"] == "out/invoice.eml", j
acts = [(a["action"], a["what"], a["where"], a["detail"]) for a in j["actions"]]
assert ("removed", "attachment", "invoice.exe", "executable") in acts, acts
EOF
check_py "1. the output parses as mail: no attachment, no executable bytes, ISO-2022-JP subject and body read right, the removal listed" <<'EOF'
import email
from email import policy
raw = open("out/invoice.eml", "rb").read()
assert b"TVqQ" not in raw and b"This program cannot" not in raw
m = email.message_from_bytes(raw, policy=policy.default)
assert not m.defects, m.defects
assert m["Subject"] == "請求書の送付", m["Subject"]
assert m["From"] == "sender@example.com", m["From"]
assert list(m.iter_attachments()) == []
body = m.get_body(("plain",)).get_content()
assert "いつもお世話になっております。\n請求書を送ります。" in body, body
assert "invoice.exe" in body and "[executable]" in body, body
assert m["X-Mail-Sanitized"].strip().endswith("TEXT_ONLY"), m["X-Mail-Sanitized"]
EOF
check_py "2. macro.eml: the docm and the docx with a VBA part re-attached as docx without vbaProject.bin" <<'EOF'
import email, io, json, zipfile
from email import policy
res = {json.loads(l)["input"]: json.loads(l) for l in open("res.json")}
j = res["macro.eml"]
assert j["type"] == "eml" and j["verdict"] == "sanitized", j
m = email.message_from_binary_file(open("out/macro.eml", "rb"), policy=policy.default)
atts = list(m.iter_attachments())
assert [a.get_filename() for a in atts] == ["見積.docx", "仕様.docx"], [a.get_filename() for a in atts]
for a in atts:
    assert a.get_content_type() == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    z = zipfile.ZipFile(io.BytesIO(a.get_content()))
    names = z.namelist()
    assert "word/document.xml" in names and not [n for n in names if "vbaProject" in n], names
    assert b"vbaProject" not in z.read("[Content_Types].xml")
assert "見積書を添付します。" in m.get_body(("plain",)).get_content()
EOF
check_py "3. html.eml: a text body (no HTML part), no <script>, the link neutralised" <<'EOF'
import email
from email import policy
raw = open("out/html.eml", "rb").read()
assert b"<script" not in raw and b"alert(" not in raw, raw
m = email.message_from_bytes(raw, policy=policy.default)
assert [p.get_content_type() for p in m.walk()] == ["text/plain"]
body = m.get_content()
assert "お知らせです。" in body and "hxxps://evil[.]example/login" in body, body
assert "https://evil" not in body
EOF
check_py "4. memo.txt (From: without MIME): type text, delivered as it is" <<'EOF'
import json
res = {json.loads(l)["input"]: json.loads(l) for l in open("res.json")}
j = res["memo.txt"]
assert j["type"] == "text" and j["verdict"] == "clean" and j["output"] == "out/memo.txt", j
assert open("out/memo.txt", "rb").read() == open("memo.txt", "rb").read()
EOF
check_py "5. cut.eml: blocked malformed (cut short), nothing written" <<'EOF'
import json, os
res = {json.loads(l)["input"]: json.loads(l) for l in open("res.json")}
j = res["cut.eml"]
assert j["type"] == "eml" and j["verdict"] == "blocked" and j["reason"] == "malformed", j
assert j["output"] is None and not os.path.exists("out/cut.eml"), j
EOF
qid=$(python3 -c 'import json
for l in open("res.json"):
    j = json.loads(l)
    if j["input"] == "cut.eml": print(j["quarantine_id"])')
sha=$(sha256sum cut.eml | cut -c1-64)
"$sekisho" quarantine --state st --json show "$qid" >q.json 2>&1
ok $(grep -q '"reason":"malformed"' q.json && cmp -s cut.eml "st/objects/${sha:0:2}/$sha"; echo $?) \
	"5. the original of cut.eml is in the quarantine ($qid), byte for byte"

# --- a password ZIP attached: held as in mail, unlocked from the stored original -----------------
printf 'a,b\n1,=1+1\n' >表.csv
zip -q -P 'pw-Kx9#vq2' ppap.zip 表.csv
python3 - <<'EOF2'
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
m = MIMEMultipart()
m["From"] = "sender@example.com"
m["Subject"] = "ppap"
m.attach(MIMEText("パスワードは別送します。\n", "plain", "utf-8"))
a = MIMEApplication(open("ppap.zip", "rb").read())
a.add_header("Content-Disposition", "attachment", filename="資料.zip")
m.attach(a)
open("ppap.eml", "wb").write(m.as_bytes())
EOF2
"$sekisho" sanitize --json --state st -o out ppap.eml >ppap.json 2>>err.log
prc=$?
check_py "PPAP: the message delivered without the ZIP (exit $prc), the ZIP held (encrypted-attachment)" <<'EOF2'
import email, json
from email import policy
j = json.loads(open("ppap.json").read())
assert j["type"] == "eml" and j["verdict"] == "sanitized", j
assert [a["where"] for a in j["actions"] if a["what"] == "encrypted-attachment"] == ["資料.zip"], j
m = email.message_from_binary_file(open("out/ppap.eml", "rb"), policy=policy.default)
assert list(m.iter_attachments()) == [] and "資料.zip" in m.get_body(("plain",)).get_content()
EOF2
cat >u.yaml <<'YAML'
version: 1
zones:
  mynumber: { networks: [192.0.2.0/25], gateway: { interface: sk-myn, address: 192.0.2.1 } }
  lgwan: { networks: [198.51.100.0/24], gateway: { interface: sk-lgwan, address: 198.51.100.1 } }
  internet: { networks: [203.0.113.0/24], gateway: { interface: sk-inet, address: 203.0.113.1 } }
roles:
  staff: { name: 職員 }
  security-manager: { name: 情報セキュリティ管理者 }
YAML
printf 'Kx9#vq2!Lm7@pz\n' | "$sekisho" user add tanaka --role staff --state st --policy u.yaml >/dev/null 2>&1
printf 'pw-Kx9#vq2\n' >pw
pid=$(python3 -c 'import json; print(json.load(open("ppap.json"))["quarantine_id"])')
"$sekisho" quarantine --state st --json unlock "$pid" --by tanaka -o unlocked.zip --password-file pw \
	>unlock.json 2>unlock.err
urc=$?
check_py "PPAP: quarantine unlock $pid with the password gives the ZIP rebuilt, its CSV neutralised (exit $urc)" <<'EOF2'
import json, zipfile
j = json.loads(open("unlock.json").read())
assert j["status"] == "unlocked" and j["verdict"] == "sanitized", j
z = zipfile.ZipFile("unlocked.zip")
assert z.namelist() == ["表.csv"], z.namelist()
assert z.read("表.csv") == b"a,b\n1,'=1+1\n", z.read("表.csv")
EOF2

# --- a legacy .doc attached: converted by the file flow's convert hook (LibreOffice in the
# sandboxed office workers), re-attached as .docx ----------------------------------------------
doc=$corpus/legacy/poi/hpsf_TestGermanWord90.doc
if [ -z "$corpus" ] || [ ! -f "$doc" ]; then
	skip "a .doc attached is converted to .docx" "the legacy corpus is not here"
else
	python3 - "$doc" <<'EOF2'
import sys
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
m = MIMEMultipart()
m["From"] = "sender@example.com"
m["Subject"] = "doc"
m.attach(MIMEText("旧形式の文書です。\n", "plain", "utf-8"))
a = MIMEApplication(open(sys.argv[1], "rb").read())
a.add_header("Content-Disposition", "attachment", filename="old.doc")
m.attach(a)
open("doc.eml", "wb").write(m.as_bytes())
EOF2
	timeout -s KILL 300 "$sekisho" sanitize --json -o out doc.eml >doc.json 2>>err.log
	drc=$?
	check_py "a .doc attached is converted to .docx by the convert hook and re-attached (exit $drc)" <<'EOF2'
import email, json
from email import policy
j = json.loads(open("doc.json").read())
assert j["type"] == "eml" and j["verdict"] == "sanitized", j
acts = [(a["action"], a["what"], a["where"], a["detail"]) for a in j["actions"]]
assert ("converted", "file-type", "old.doc", "doc→docx") in acts, acts
m = email.message_from_binary_file(open("out/doc.eml", "rb"), policy=policy.default)
assert [(a.get_filename(), a.get_content_type()) for a in m.iter_attachments()] == \
    [("old.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]
EOF2
fi

# --- 6. the mail corpus as files --------------------------------------------------------------
if [ -z "$corpus" ] || [ ! -d "$corpus/mime" ]; then
	skip "6. the mail corpus as files" "the corpus is not here"
	skip "6. every output parses or is the input as it was" "the corpus is not here"
else
	total=$(find "$corpus/mime" -type f | wc -l)
	timeout -s KILL $((total * 10 + 60)) "$sekisho" sanitize --json -o cout "$corpus/mime" \
		>corpus.json 2>corpus.err
	crc=$?
	ok $([ $crc -le 1 ]; echo $?) "6. sekisho ends by itself on $total mail files (exit $crc)"
	check_py "6. every item answered; eml outputs parse as mail without defects, text outputs unchanged, others blocked with a reason" <<EOF
import email, json, os, collections
from email import policy
corpus = "$corpus/mime"
items = [json.loads(l) for l in open("corpus.json")]
assert len(items) == $total, (len(items), $total)
seen = collections.Counter()
for j in items:
    seen[(j["type"], j["verdict"])] += 1
    if j["verdict"] == "blocked":
        assert j["reason"] and j["output"] is None, j
        continue
    out = j["output"]
    assert out and os.path.exists(out), j
    if j["type"] == "eml":
        assert out.endswith(".eml"), j
        m = email.message_from_binary_file(open(out, "rb"), policy=policy.default)
        assert not [d for d in m.defects], (out, m.defects)
        assert m["X-Mail-Sanitized"], out
        for p in m.walk():
            assert p.get_content_type() in ("text/plain", "multipart/mixed", "message/rfc822") \
                or p.get_filename(), (out, p.get_content_type())
    else:
        assert j["type"] == "text", j
        assert open(out, "rb").read() == open(j["input"], "rb").read(), j
print("# " + ", ".join("%s %s: %d" % (k[0], k[1], v) for k, v in sorted(seen.items())))
assert seen[("eml", "sanitized")] >= 100, seen
EOF
fi
done_testing
