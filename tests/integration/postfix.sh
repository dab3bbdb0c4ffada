#!/bin/bash
# A REAL Postfix on 127.0.0.1 (own config, queue and data folders in a temp folder, a high
# port) with `sekisho milter` as smtpd_milters, mail sent with swaks, delivered by the
# virtual agent to a Maildir in the temp folder; the delivered messages are checked.
# usage: postfix.sh SEKISHO
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/postfix_lab.sh"
SEKISHO=$(realpath "$1")
PY=/usr/bin/python3
if ! pf_usable; then
	skip "postfix integration" "needs root, postfix, swaks and the postfix user"
	done_testing
	exit 0
fi
T=$(mktemp -d /tmp/sk-postfix-XXXXXX)
PORT=$(pf_ports)
MPID=
cleanup() {
	pf_stop "$T"
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null
	[ -n "${SK_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/state"
# the same Postfix without the milter on PORT+1 (bench/mail_postfix.sh compares the two)
pf_setup "$T" "$PORT" "unix:$T/milter.sock" test.example $((PORT + 1))

# start_milter LOG [OPTION...]: `sekisho milter` on $T/milter.sock (the one running is
# stopped first), its stderr to LOG
start_milter() {
	local log=$1
	shift
	if [ -n "$MPID" ]; then
		kill "$MPID" 2>/dev/null
		wait "$MPID" 2>/dev/null
		rm -f "$T/milter.sock"
	fi
	"$SEKISHO" milter --socket "unix:$T/milter.sock" --socket-group postfix --state "$T/state" \
		--internal lg.test.example "$@" 2> "$log" &
	MPID=$!
	for _ in $(seq 50); do [ -S "$T/milter.sock" ] && break; sleep 0.1; done
}
start_milter "$T/milter.log"
ok "$([ -S "$T/milter.sock" ]; echo $?)" "milter listening on a unix socket"

pf_start "$T"
rc=$?
ok $rc "postfix started (own config_directory, queue, port $PORT)"
if [ $rc -ne 0 ]; then
	sed 's/^/# /' "$T/start.log" "$T/check.log"
	done_testing
	exit 1
fi

# 1. HTML mail with a Japanese subject and an attachment
cat > "$T/m1.eml" <<'EOM'
From: Sender <s@evil.example>
To: u@lg.test.example
Subject: =?UTF-8?B?44GK55+l44KJ44Gb77yI6KuL5rGC5pu477yJ?=
Message-ID: <m1@evil.example>
X-Evil: 1
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=B

--B
Content-Type: multipart/alternative; boundary=A

--A
Content-Type: text/html; charset=UTF-8

<html><body><p>請求書を<b>ご確認</b>ください。</p><script>evil()</script>
<table><tr><td>金額</td><td>10,000円</td></tr></table>
<a href="https://evil.example/login">https://bank.example.jp/</a></body></html>
--A--
--B
Content-Type: application/vnd.ms-excel.sheet.macroEnabled.12
Content-Disposition: attachment; filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.xlsm
Content-Transfer-Encoding: base64

UEsDBBQAAAAIAAAAIQAAAAAAAAAAAAAAAAAAAAAA
--B--
EOM
# 2. ISO-2022-JP text with ① (CP50220)
printf 'From: taro@lg.test.example\nTo: u@lg.test.example\nSubject: =?ISO-2022-JP?B?GyRCMnE1RDtxTkEbKEI=?=\nMIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-2022-JP\n\n\033$B-!$HF|K\\8l\033(B\n' > "$T/m2.eml"

swaks --server 127.0.0.1:$PORT --from s@evil.example --to u@lg.test.example \
	--data "$T/m1.eml" > "$T/swaks1.log" 2>&1
ok $? "swaks: HTML mail with an attachment accepted"
swaks --server 127.0.0.1:$PORT --from taro@lg.test.example --to u@lg.test.example \
	--data "$T/m2.eml" > "$T/swaks2.log" 2>&1
ok $? "swaks: ISO-2022-JP mail accepted"
# 3. what old mailers and split words do to headers: a raw 8-bit Shift_JIS subject (the
# body says Shift_JIS), and a From display name whose UTF-8 character is split across two
# encoded words; the milter replaces them with the engine's decoded, re-encoded headers
"$PY" - "$T/m3.eml" <<'PYEOF2'
import base64, sys
name = "髙橋".encode("utf-8")  # 6 bytes: split after 4, inside the second character
w1, w2 = (base64.b64encode(x).decode() for x in (name[:4], name[4:]))
m = (b"From: =?UTF-8?B?" + w1.encode() + b"?= =?UTF-8?B?" + w2.encode() + b"?= <t@evil.example>\n"
     b"To: u@lg.test.example\nSubject: " + "防災訓練の日程".encode("shift_jis") + b"\n"
     b"Message-ID: <m3@evil.example>\nMIME-Version: 1.0\n"
     b"Content-Type: text/plain; charset=Shift_JIS\nContent-Transfer-Encoding: 8bit\n\n"
     + "訓練は十日です。\n".encode("shift_jis"))
open(sys.argv[1], "wb").write(m)
PYEOF2
swaks --server 127.0.0.1:$PORT --from t@evil.example --to u@lg.test.example \
	--data "$T/m3.eml" > "$T/swaks3a.log" 2>&1
ok $? "swaks: a raw Shift_JIS subject and a split encoded word accepted"

n=0
for _ in $(seq 150); do
	n=$(ls "$T/mail/u/new" 2>/dev/null | wc -l)
	[ "$n" -ge 3 ] && break
	sleep 0.2
done
ok "$([ "$n" -ge 3 ]; echo $?)" "three messages delivered to the Maildir ($n)"
if [ "$n" -lt 3 ]; then
	sed 's/^/# /' "$T/maillog" "$T/milter.log" 2>/dev/null | tail -40
fi

check_py() { # DESCRIPTION PYTHON-CODE (m: the message whose Message-ID or subject matches)
	"$PY" - "$T/mail/u/new" "$2" <<'PYEOF'
import email, email.policy, os, sys
d, code = sys.argv[1], sys.argv[2]
msgs = []
for f in sorted(os.listdir(d)):
    with open(os.path.join(d, f), 'rb') as fh:
        msgs.append(email.message_from_binary_file(fh, policy=email.policy.default))
def body(m):
    p = m.get_body(preferencelist=('plain',))
    return p.get_content() if p else ''
def types(m):
    return [p.get_content_type() for p in m.walk()]
ok = eval(code, {'msgs': msgs, 'body': body, 'types': types})
if not ok:
    for m in msgs:
        print('#', dict(m.items()))
        print('#', body(m).replace('\n', '\n# '))
sys.exit(0 if ok else 1)
PYEOF
	ok $? "$1"
}
check_py "HTML mail arrives as text: no text/html part anywhere" \
	"all('text/html' not in types(m) for m in msgs)"
check_py "HTML converted to readable text (table as text, no script)" \
	"any('請求書をご確認ください。' in body(m) and '金額 | 10,000円' in body(m) and 'evil()' not in body(m) for m in msgs)"
check_py "the attachment is gone and listed by name" \
	"any('削除: 請求書.xlsm' in body(m) and len(types(m)) == 1 for m in msgs)"
check_py "links neutralised, both visible text and target shown" \
	"any('hxxps://bank[.]example[.]jp/ <hxxps://evil[.]example/login>' in body(m) for m in msgs)"
check_py "Japanese subject decoded correctly" \
	"any(str(m['Subject']) == 'お知らせ（請求書）' for m in msgs)"
check_py "X-Mail-Sanitized lists the actions; X-Evil dropped" \
	"any('CHG_TEXT' in str(m['X-Mail-Sanitized']) and 'DEL_ATTACH' in str(m['X-Mail-Sanitized']) and m['X-Evil'] is None for m in msgs)"
check_py "ISO-2022-JP body with ① reads correctly (CP50220)" \
	"any('①と日本語' in body(m) for m in msgs)"
check_py "through Postfix, the raw Shift_JIS subject and the split name read right (the milter replaced them)" \
	"any(str(m['Subject']) == '防災訓練の日程' and m['From'].addresses[0].display_name == '髙橋' for m in msgs)"
"$PY" - "$T/mail/u/new" <<'PYEOF2'
import os, sys
d = sys.argv[1]
heads = [open(os.path.join(d, f), "rb").read().split(b"\n\n", 1)[0] for f in os.listdir(d)]
mine = [h for h in heads if b"<m3@evil.example>" in h]
sys.exit(0 if len(mine) == 1 and all(b < 0x80 for b in mine[0]) else 1)
PYEOF2
ok $? "... and they arrive as 7-bit encoded words (no raw 8-bit header left)"
check_py "ISO-2022-JP subject decoded" \
	"any(str(m['Subject']) == '会議資料' for m in msgs)"
check_py "external-sender warning only for the outside senders (two of the three)" \
	"sum('[注意] 外部' in body(m) for m in msgs) == 2 and not any('[注意] 外部' in body(m) for m in msgs if str(m['Subject']) == '会議資料')"
check_py "the notice gives the quarantine id" \
	"all('保管 ID 2' in body(m) for m in msgs)"
grep -c "delivered" "$T/milter.log" > /dev/null
ok $? "the milter logged its decisions"

# fail closed: the quarantine cannot store the original -> the milter answers tempfail,
# Postfix refuses with 4xx and nothing is delivered
before=$(ls "$T/mail/u/new" | wc -l)
mv "$T/state/objects" "$T/state/objects.away" && touch "$T/state/objects"
swaks --server 127.0.0.1:$PORT --from s@evil.example --to u@lg.test.example \
	--data "$T/m1.eml" > "$T/swaks3.log" 2>&1
rc=$?
ok "$([ $rc -ne 0 ] && grep -q '<\*\* *4[0-9][0-9]' "$T/swaks3.log"; echo $?)" "quarantine failure: the milter answers tempfail (4xx), fail closed"
sleep 0.5
ok "$([ "$(ls "$T/mail/u/new" | wc -l)" -eq "$before" ]; echo $?)" "nothing delivered on the internal error"
rm -f "$T/state/objects" && mv "$T/state/objects.away" "$T/state/objects"

# 32 concurrent senders (swaks in parallel), each an HTML mail: all delivered, all sanitised
before=$(ls "$T/mail/u/new" | wc -l)
pids=
for i in $(seq 0 31); do
	printf 'From: s%d@evil.example\nTo: u@lg.test.example\nSubject: concurrent %d\nMessage-ID: <c%d@evil.example>\nMIME-Version: 1.0\nContent-Type: text/html; charset=UTF-8\n\n<html><body><p>本文 %d です</p><script>evil()</script></body></html>\n' \
		"$i" "$i" "$i" "$i" > "$T/c$i.eml"
	swaks --server 127.0.0.1:$PORT --from "s$i@evil.example" --to u@lg.test.example \
		--data "$T/c$i.eml" > "$T/swaks-c$i.log" 2>&1 &
	pids="$pids $!"
done
fails=0
for p in $pids; do wait "$p" || fails=$((fails + 1)); done
ok "$([ $fails -eq 0 ]; echo $?)" "32 concurrent senders: every swaks accepted ($fails refused)"
n=0
for _ in $(seq 300); do
	n=$(( $(ls "$T/mail/u/new" | wc -l) - before ))
	[ "$n" -ge 32 ] && break
	sleep 0.2
done
ok "$([ "$n" -eq 32 ]; echo $?)" "32 concurrent senders: 32 messages delivered ($n)"
check_py "32 concurrent senders: each delivered once, as text, sanitised, its own body" \
	"all(sum(1 for m in msgs if str(m['Subject']) == 'concurrent %d' % i and '本文 %d です' % i in body(m) and 'evil()' not in body(m) and 'text/html' not in types(m) and 'CHG_TEXT' in str(m['X-Mail-Sanitized'])) == 1 for i in range(32))"
ok "$([ "$(grep -c '^sekisho milter: delivered' "$T/milter.log")" -ge 34 ]; echo $?)" \
	"the milter logged a decision for each message"

# bench (bench/mail_postfix.sh): SK_BENCH_N corpus messages from 32 concurrent SMTP
# senders, through the milter as started above (its defaults; port PORT) and through the
# same Postfix without it (port PORT+1), timed from the first connection to the last message in the Maildir
# (SK_BENCH_PROFILE: the milter restarted with that --profile first)
if [ -n "${SK_BENCH_N:-}" ]; then
	[ -n "${SK_BENCH_PROFILE:-}" ] && start_milter "$T/milter-bench.log" --profile "$SK_BENCH_PROFILE"
	for run in bare milter bare milter; do
		port=$PORT
		[ $run = bare ] && port=$((PORT + 1))
		before=$(ls "$T/mail/u/new" | wc -l)
		"$PY" - "$port" "$SK_BENCH_N" "${SK_BENCH_CORPUS:-/work/shared/corpus/mime}" "$T/mail/u/new" "$before" "$run" "${SK_BENCH_SENDERS:-32}" <<'PYEOF'
import os, smtplib, sys, threading, time
port, n, corpus, maildir, before, run, senders = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6], int(sys.argv[7])
msgs = []
for root, _, files in os.walk(corpus):
    for f in sorted(files):
        with open(os.path.join(root, f), 'rb') as fh:
            msgs.append(fh.read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n'))
refused = [0]
def worker(k):
    s = smtplib.SMTP('127.0.0.1', port)
    for i in range(k, n, senders):
        try:
            s.sendmail('s@evil.example', ['u@lg.test.example'], msgs[i % len(msgs)])
        except smtplib.SMTPException:
            refused[0] += 1
    s.quit()
t0 = time.time()
ts = [threading.Thread(target=worker, args=(k,)) for k in range(senders)]
[t.start() for t in ts]
[t.join() for t in ts]
t1 = time.time()
want = before + n - refused[0]
while len(os.listdir(maildir)) < want and time.time() - t0 < 600:
    time.sleep(0.02)
t2 = time.time()
got = len(os.listdir(maildir)) - before
print('# bench %-6s: %d messages from %d senders (%d refused) accepted in %.2f s (%.1f/s); %d delivered in %.2f s: %.1f messages/s end to end'
      % (run, n, senders, refused[0], t1 - t0, n / (t1 - t0), got, t2 - t0, got / (t2 - t0)))
PYEOF
	done
fi
# `sekisho milter --profile sanitize` converts a legacy attachment: a Japanese .doc (made
# here by LibreOffice) arrives as a .docx rebuilt by the OOXML module (the office workers
# of the milter command)
if command -v soffice >/dev/null; then
	start_milter "$T/milter2.log" --profile sanitize
	printf '<html><head><meta charset="utf-8"></head><body><p>防災訓練のお知らせ</p></body></html>' > "$T/notice.html"
	soffice --headless --norestore "-env:UserInstallation=file://$T/lo" --convert-to 'doc:MS Word 97' \
		--outdir "$T" "$T/notice.html" > /dev/null 2>&1
	"$PY" - "$T/notice.doc" "$T/m5.eml" <<'PYEOF2'
import sys
from email.message import EmailMessage
m = EmailMessage()
m["From"], m["To"], m["Subject"], m["Message-ID"] = "s@evil.example", "u@lg.test.example", "legacy", "<m5@evil.example>"
m.set_content("添付します。")
m.add_attachment(open(sys.argv[1], "rb").read(), maintype="application", subtype="msword", filename="訓練.doc")
open(sys.argv[2], "wb").write(bytes(m))
PYEOF2
	before=$(ls "$T/mail/u/new" | wc -l)
	swaks --server 127.0.0.1:$PORT --from s@evil.example --to u@lg.test.example \
		--data "$T/m5.eml" > "$T/swaks5.log" 2>&1
	for _ in $(seq 600); do [ "$(ls "$T/mail/u/new" | wc -l)" -gt "$before" ] && break; sleep 0.1; done
	check_py "sekisho milter --profile sanitize: a .doc attachment arrives converted (.docx, Japanese kept, no VBA)" \
		"any([a.get_filename() for a in m.iter_attachments()] == ['訓練.docx'] and '防災訓練のお知らせ' in __import__('zipfile').ZipFile(__import__('io').BytesIO(next(m.iter_attachments()).get_content())).read('word/document.xml').decode() for m in msgs if str(m['Subject']) == 'legacy')"
else
	skip "a .doc through sekisho milter" "LibreOffice (soffice) is not installed"
fi

done_testing
