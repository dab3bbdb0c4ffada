#!/usr/bin/env bash
# Outlook .msg through `sekisho sanitize` (the sandboxed worker), checked with independent
# parsers: python's email module reads every .eml sekisho writes, and msg_tool.py (a
# compound file and MAPI reader written in python from the specifications, sharing no
# code with sekisho) reads the .msg it came from.
#  - a Japanese message made by msg_tool.py (Unicode and CP932 strings, a CP932 HTML copy,
#    a CSV with a formula, an executable, an attached Outlook message with its own
#    attachment): headers, body, each attachment's fate;
#  - the same message in a ZIP and attached to a mail (`sekisho mail --profile sanitize`);
#  - the message cut short: blocked malformed, nothing written;
#  - DLP on what is delivered, with a policy (lgwan → internet, dlp mynumber: block): a .msg
#    whose body holds a 個人番号 is blocked dlp (the finding at its part of the .eml, the
#    original in quarantine, nothing written), the same .msg without it delivered as .eml;
#    .eml files (type eml, rebuilt as mail) with the number in a base64 ISO-2022-JP or
#    Shift_JIS part blocked, without it delivered; the number in no output;
#  - Apache POI's .msg files (../shared/corpus/legacy/poi, skipped when absent): each
#    delivered or blocked with a reason; every .eml parses without defects; subject and
#    sender as msg_tool.py reads them, the words of the text body kept, each attachment
#    delivered or listed; each blocked one also refused by msg_tool.py (malformed) or an
#    S/MIME class (encrypted).
# Usage: msg.sh SEKISHO CORPUS-DIR. Output: TAP.
set -u
sekisho=$(readlink -f "$1")
corpus=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
tool=$here/msg_tool.py
. "$here/tap.sh" # for no_number (ok and check are this script's own, below)
export LC_ALL=C.UTF-8
py=/usr/bin/python3
[ -x "$py" ] || py=python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { # description, command...
	local d=$1
	shift
	if "$@" >out.log 2>&1; then ok "$d"; else nok "$d"; sed 's/^/# /' out.log; fi
	sed -n 's/^\(# .*\)/\1/p' out.log
}
echo "1..14"

# --- a Japanese message ------------------------------------------------------------------
"$py" "$tool" japanese jp.msg
"$py" "$tool" read jp.msg >jp.json
"$sekisho" sanitize -o out --json jp.msg >jp.res 2>jp.err
rc=$?
check "the Japanese .msg is delivered as .eml (exit $rc)" "$py" - <<'EOF'
import json
j = json.loads(open("jp.res").read())
assert j["type"] == "msg" and j["verdict"] == "sanitized", j
assert j["output"].endswith("/jp.eml"), j["output"]
acts = {(a["action"], a["what"], a["where"], a["detail"]) for a in j["actions"]}
assert ("converted", "file-type", "", "msg→eml") in acts, acts
assert ("removed", "attachment", "setup.exe", "executable") in acts, acts
assert ("converted", "file-type", "会議資料.msg", "msg→eml") in acts, acts
EOF
check "python's email reads the .eml: headers and body as msg_tool.py reads the .msg" "$py" - <<'EOF'
import email, json, re
from email import policy
src = json.load(open("jp.json"))
raw = open("out/jp.eml", "rb").read()
head = raw.split(b"\n\n", 1)[0]
assert max(head) < 0x80, "8-bit header bytes"
m = email.message_from_bytes(raw, policy=policy.default)
assert not m.defects, m.defects
assert m["Subject"] == src["subject"], (m["Subject"], src["subject"])
assert m["From"].addresses[0].display_name == src["sender"], m["From"]
assert m["From"].addresses[0].addr_spec == "yamada@city.example.lg.jp"
to = [(a.display_name, a.addr_spec) for a in m["To"].addresses]
cc = [(a.display_name, a.addr_spec) for a in m["Cc"].addresses]
r = [(x["name"], x["smtp"]) for x in src["recipients"]]
assert to == r[:1] and cc == r[1:], (to, cc, r)
assert m["Date"] == "Tue, 01 Apr 2025 10:00:00 +0900", m["Date"]
assert m["X-Mail-Sanitized"].startswith("FROM_MSG"), m["X-Mail-Sanitized"]
text = m.get_body(("plain",)).get_content()
notice, body = text.split("-" * 70 + "\n", 1)
assert notice.startswith("【sekisho】") and "[sekisho] This Outlook message" in notice, notice
assert notice.index("Outlook メッセージ") < notice.index("This Outlook message")
want = src["body"].replace("\r\n", "\n").replace(
    "https://www.city.example.lg.jp/", "hxxps://www[.]city[.]example[.]lg[.]jp/")
assert body == want, (body, want)
EOF
check "attachments: the CSV sanitised (formula neutralised, CP932 kept), the .exe left out and listed, the attached message converted with its own attachment" "$py" - <<'EOF'
import email, json
from email import policy
src = json.load(open("jp.json"))
m = email.message_from_binary_file(open("out/jp.eml", "rb"), policy=policy.default)
att = list(m.iter_attachments())
names = [a.get_filename() for a in att]
assert names == ["申請書一覧.csv", "会議資料.eml"], names
csv = att[0].get_payload(decode=True).decode("cp932")
assert "山田太郎,東京都" in csv and "'=cmd|" in csv, csv
assert att[0].get_content_type() == "text/csv"
assert att[1].get_content_type() == "message/rfc822"
notice = m.get_body(("plain",)).get_content()
assert "setup.exe [executable]" in notice, notice
inner = att[1].get_content()
isrc = src["attachments"][2]["message"]
assert inner["Subject"] == isrc["subject"], inner["Subject"]
assert inner["From"].addresses[0].addr_spec == "suzuki@city.example.lg.jp"
ibody = inner.get_body(("plain",)).get_content().split("-" * 70 + "\n", 1)[1]
assert ibody == isrc["body"].replace("\r\n", "\n"), ibody
ia = list(inner.iter_attachments())
assert [a.get_filename() for a in ia] == ["議事録.txt"], ia
assert ia[0].get_payload(decode=True).decode("cp932") == "第1回 会議の議事録\r\n"
EOF

# --- nested: a ZIP, a mail ------------------------------------------------------------------
cp jp.msg 会議.msg
zip -q bundle.zip 会議.msg
"$sekisho" sanitize -o zout --json bundle.zip >zip.res 2>>jp.err
check "a .msg inside a ZIP comes out as .eml" "$py" - <<'EOF'
import email, io, json, zipfile
from email import policy
j = json.loads(open("zip.res").read())
assert j["verdict"] == "sanitized", j
z = zipfile.ZipFile("zout/bundle.zip")
assert z.namelist() == ["会議.eml"], z.namelist()
m = email.message_from_bytes(z.read("会議.eml"), policy=policy.default)
assert m["Subject"].startswith("【至急】"), m["Subject"]
EOF
"$py" - <<'EOF'
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "kikaku@city.example.lg.jp"
m["To"] = "johoseisaku@city.example.lg.jp"
m["Subject"] = "転送します"
m.set_content("Outlook のメッセージを添付します。")
m.add_attachment(open("jp.msg", "rb").read(), maintype="application", subtype="vnd.ms-outlook",
                 filename="元のメール.msg")
open("m.eml", "wb").write(bytes(m))
EOF
"$sekisho" mail --profile sanitize <m.eml >m.out 2>mail.err
mrc=$?
check "a .msg attached to a mail: re-attached as message/rfc822 .eml (exit $mrc)" "$py" - <<'EOF'
import email
from email import policy
m = email.message_from_binary_file(open("m.out", "rb"), policy=policy.default)
att = list(m.iter_attachments())
assert [a.get_filename() for a in att] == ["元のメール.eml"], [a.get_filename() for a in att]
assert att[0].get_content_type() == "message/rfc822"
assert att[0].get_content()["Subject"].startswith("【至急】")
EOF
# with its tables first and its last kilobyte cut off: streams cut short
"$py" "$tool" japanese front.msg front
head -c $(($(stat -c %s front.msg) - 1000)) front.msg >cut.msg
"$sekisho" sanitize -o cout --json front.msg cut.msg >cut.res 2>>jp.err
check "the message cut short: blocked malformed, nothing written (whole, it is delivered)" sh -c \
	"grep -q 'cut.msg\".*\"type\":\"msg\".*\"reason\":\"malformed\"' cut.res && ls cout/ | grep -qx front.eml && ! ls cout/cut* >/dev/null 2>&1"

# --- DLP on the delivered message ------------------------------------------------------------
cat >dlp.yaml <<'EOF'
version: 1
zones:
  mynumber: { networks: [192.0.2.0/25], gateway: { interface: a0, address: 192.0.2.1 } }
  lgwan: { networks: [198.51.100.0/24], gateway: { interface: b0, address: 198.51.100.1 } }
  internet: { networks: [203.0.113.0/24], gateway: { interface: c0, address: 203.0.113.1 } }
flows:
  - id: out
    from: lgwan
    to: internet
    action: { sanitize: default }
    dlp: { mynumber: block }
EOF
"$py" - "$here" <<'EOF'
import base64, sys
sys.path.insert(0, sys.argv[1])
import msg_tool as t
secret = "申請者 山田\r\n個人番号: 3847-5629-1044\r\n"
plain = "申請者 山田\r\n"
for name, body in (("num.msg", secret), ("clean.msg", plain)):
    open(name, "wb").write(t.cfb_write(t.make_message(
        "申請の件", body=body, codepage=932, sender="情報政策課 山田",
        sender_smtp="yamada@city.example.lg.jp", recipients=[("佐藤", "sato@example.com", 1)])))
def eml(charset, label, body):
    b = base64.encodebytes(body.encode(charset)).decode()
    return ("From: yamada@city.example.lg.jp\r\nTo: sato@example.com\r\n"
            "Subject: =?UTF-8?B?55Sz6KuL?=\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
            "Content-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            "%s--b--\r\n" % (label, b)).encode()
open("num-jis.eml", "wb").write(eml("iso-2022-jp", "ISO-2022-JP", secret))
open("num-sjis.eml", "wb").write(eml("cp932", "Shift_JIS", secret))
open("clean-jis.eml", "wb").write(eml("iso-2022-jp", "ISO-2022-JP", plain))
EOF
dlp() { # FILE: sanitize lgwan → internet with dlp.yaml, the JSON to FILE.res
	"$sekisho" sanitize --json --state st -o dout --policy dlp.yaml --from lgwan --to internet \
		--class 機密性1 "$1" >"$1.res" 2>"$1.err"
}
dlp num.msg
mrc=$?
check "DLP: the .msg with a 個人番号 in its body is blocked dlp (exit $mrc), found in the body of the .eml it became" \
	"$py" - <<'EOF'
import json
j = json.loads(open("num.msg.res").read())
assert j["verdict"] == "blocked" and j["reason"] == "dlp" and j["reason_detail"] == "mynumber", j
found = [a for a in j["actions"] if a["what"] == "mynumber"]
assert len(found) == 1 and found[0]["where"].startswith("part 1 line "), found
assert not any(a["what"] == "dlp-unscanned" for a in j["actions"]), j["actions"]
assert j["output"] is None, j
EOF
qid=$(sed -n 's/.*"quarantine_id":"\([0-9a-f-]*\)".*/\1/p' num.msg.res)
sha=$(sha256sum num.msg | cut -c1-64)
check "DLP: the original .msg is in quarantine ($qid), byte for byte; nothing delivered" sh -c \
	"[ $mrc -eq 1 ] && '$sekisho' quarantine --state st --json show '$qid' | grep -q '\"reason\":\"dlp\"' &&
	 cmp -s num.msg st/objects/$(echo "$sha" | cut -c1-2)/$sha && ! ls dout/num* >/dev/null 2>&1"
dlp clean.msg
crc=$?
check "DLP: the same .msg without the number is delivered as .eml (exit $crc)" \
	"$py" - <<'EOF'
import email, json
from email import policy
j = json.loads(open("clean.msg.res").read())
assert j["verdict"] == "sanitized" and j["output"] == "dout/clean.eml", j
assert not [a for a in j["actions"] if a["what"] in ("mynumber", "dlp-unscanned")], j["actions"]
m = email.message_from_binary_file(open("dout/clean.eml", "rb"), policy=policy.default)
assert "申請者 山田" in m.get_body(("plain",)).get_content()
EOF
dlp num-jis.eml
jrc=$?
dlp num-sjis.eml
src=$?
dlp clean-jis.eml
erc=$?
check "DLP: .eml files with the number in a base64 ISO-2022-JP / Shift_JIS part are blocked dlp (exit $jrc, $src), without it delivered (exit $erc)" \
	"$py" - <<'EOF'
import json
for name in ("num-jis.eml", "num-sjis.eml"):
    j = json.loads(open(name + ".res").read())
    assert j["type"] == "eml" and j["verdict"] == "blocked" and j["reason"] == "dlp", j
    # found in the body of the message as rebuilt (the notice's lines come first)
    found = [a for a in j["actions"] if a["what"] == "mynumber"]
    assert len(found) == 1 and found[0]["where"].startswith("part 1 line "), found
    assert found[0]["where"].endswith(":7") and found[0]["where"] != "part 1 line 2:7", found
    assert j["output"] is None, j
j = json.loads(open("clean-jis.eml.res").read())
assert j["type"] == "eml" and j["verdict"] == "sanitized" and j["output"] == "dout/clean-jis.eml", j
EOF
nums=0
for f in *.res *.err dout/*; do
	no_number "$f" || { echo "# the number is in $f"; nums=$((nums + 1)); }
done
check "DLP: the number is in no answer, no message and no delivered file" test "$nums" -eq 0

# --- Apache POI's messages -------------------------------------------------------------------
if [ -z "$corpus" ] || [ ! -d "$corpus/legacy/poi" ]; then
	for i in 1 2 3; do ok "# SKIP the legacy corpus is not here"; done
	echo "# $n tests, $fails failed"
	[ "$fails" -eq 0 ]
	exit
fi
mkdir -p poi
cp "$corpus"/legacy/poi/*.msg poi/
total=$(ls poi | wc -l)
timeout -s KILL $((total * 20 + 60)) "$sekisho" sanitize -o pout --json poi >poi.res 2>poi.err
prc=$?
check "POI: sekisho ends by itself on $total .msg files (exit $prc)" test "$prc" -le 1
check "POI: every .msg delivered or blocked with a reason that msg_tool.py agrees with" \
	"$py" - "$tool" <<'EOF'
import collections, json, subprocess, sys
tool = sys.argv[1]
c = collections.Counter()
for line in open("poi.res"):
    j = json.loads(line)
    name = j["input"].split("/")[-1]
    r = subprocess.run([sys.executable, tool, "read", j["input"]], capture_output=True, text=True)
    if j["verdict"] == "blocked":
        c["blocked " + j["reason"]] += 1
        assert not j["output"], j
        if j["reason"] == "malformed":
            assert r.returncode != 0, (name, "msg_tool.py reads it")
        elif j["reason"] == "encrypted":
            assert json.loads(r.stdout)["message_class"].upper().startswith("IPM.NOTE.SMIME"), name
        else:
            raise AssertionError((name, j["reason"], j["reason_detail"]))
    else:
        c["delivered"] += 1
        assert r.returncode == 0, (name, r.stderr)
        assert j["output"].endswith(".eml"), j
print("# POI .msg: " + ", ".join("%s %d" % kv for kv in sorted(c.items())))
assert c["delivered"] >= 35, c
EOF
check "POI: each .eml parses without defects, subject and sender as in the .msg, the text body's words kept, every attachment delivered or listed" \
	"$py" - "$tool" <<'EOF'
import email, json, re, subprocess, sys
from email import policy
tool = sys.argv[1]
def words(s):
    return set(w for w in re.findall(r"\w{3,}", s or ""))
checked = bodies = 0
for line in open("poi.res"):
    j = json.loads(line)
    if j["verdict"] == "blocked":
        continue
    name = j["input"].split("/")[-1]
    src = json.loads(subprocess.run([sys.executable, tool, "read", j["input"]],
                                    capture_output=True, text=True, check=True).stdout)
    m = email.message_from_binary_file(open(j["output"], "rb"), policy=policy.default)
    defects = list(m.defects) + [d for p in m.walk() for d in p.defects]
    assert not defects, (name, defects)
    assert (m["Subject"] or "") == (src["subject"] or "").replace("\r", "").replace("\n", " ").strip() or \
        (m["Subject"] or "") == (src["subject"] or ""), (name, m["Subject"], src["subject"])
    if src["sender"] and m["From"]:
        assert src["sender"].strip() in str(m["From"]) or src["sender"].replace('"', "") in str(m["From"]), \
            (name, src["sender"], str(m["From"]))
    text = m.get_body(("plain",)).get_content()
    notice, body = text.split("-" * 70 + "\n", 1)
    if src["body"] and src["body"].strip():
        want = words(src["body"]) - {"http", "https", "www"}
        got = words(body)
        share = len(want & got) / len(want) if want else 1
        assert share >= 0.9, (name, share, sorted(want - got)[:20])
        bodies += 1
    att = [a.get_filename() for a in m.iter_attachments()]
    for a in src["attachments"]:
        nm = (a["name"] or "").split("/")[-1].split("\\")[-1]
        assert nm and (nm in notice or any(x and x.startswith(nm.rsplit(".", 1)[0]) for x in att)), \
            (name, a["name"], att)
    checked += 1
print("# POI .eml checked: %d, text bodies compared: %d" % (checked, bodies))
assert checked >= 35 and bodies >= 30
EOF
echo "# $n tests, $fails failed"
[ "$fails" -eq 0 ]
