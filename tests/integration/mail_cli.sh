#!/bin/bash
# `sekisho mail`: exit codes, --state (original in quarantine, decision audited), limits,
# profiles. usage: mail_cli.sh SEKISHO
set -u
. "$(dirname "$0")/tap.sh"
SEKISHO=$(realpath "$1")
T=$(mktemp -d /tmp/sk-mailcli-XXXXXX)
trap 'rm -rf "$T"' EXIT
export LC_ALL=C.UTF-8
printf 'From: a@evil.example\nTo: u@lg.example\nSubject: hi\nX-Tracking: 1\nContent-Type: text/html; charset=UTF-8\n\n<p>hello <a href="https://evil.example/x">here</a></p>\n' > "$T/in.eml"
"$SEKISHO" mail --state "$T/state" < "$T/in.eml" > "$T/out.eml" 2> "$T/err"
ok $? "HTML mail: exit 0 (delivered)"
grep -q '^X-Mail-Sanitized: CHG_TEXT REP_LINK TEXT_ONLY$' "$T/out.eml"
ok $? "X-Mail-Sanitized: CHG_TEXT REP_LINK"
! grep -qi '^X-Tracking' "$T/out.eml"
ok $? "a header outside the allow-list is dropped"
id=$(sed -n 's/.* id=\([0-9a-f-]*\).*/\1/p' "$T/err")
[ -n "$id" ] && "$SEKISHO" quarantine --state "$T/state" show "$id" > "$T/show" 2>&1
ok $? "the original is in quarantine ($id)"
grep -q "sanitized" "$T/show"
ok $? "its decision is recorded"
"$SEKISHO" audit --state "$T/state" verify > /dev/null 2>&1
ok $? "the audit log verifies"
"$SEKISHO" audit --state "$T/state" list 2>/dev/null | grep -q "mail:$id"
ok $? "the decision is in the audit log"
body=$(/usr/bin/python3 -c 'import email,sys,email.policy;m=email.message_from_binary_file(open(sys.argv[1],"rb"),policy=email.policy.default);print(m.get_body().get_content())' "$T/out.eml")
case $body in *"here <hxxps://evil[.]example/x>"*"保管 ID"*|*"保管 ID $id"*"here <hxxps://evil[.]example/x>"*) r=0 ;; *) r=1; diag "$body" ;; esac
ok $r "link text and neutralised target in the body, quarantine id in the notice"
printf 'garbage without headers' | "$SEKISHO" mail > "$T/held.eml" 2>/dev/null
ok "$([ $? -eq 1 ]; echo $?)" "an unparseable message: exit 1 (held), a notice is written"
grep -q '^X-Mail-Sanitized: HELD' "$T/held.eml"
ok $? "the held notice says HELD"
"$SEKISHO" mail --profile nope < "$T/in.eml" > /dev/null 2>&1
ok "$([ $? -eq 2 ]; echo $?)" "unknown profile: exit 2"
"$SEKISHO" mail --profile en < "$T/in.eml" 2>/dev/null | grep -q "^Content-Type: text/plain; charset=UTF-8"
ok $? "profile en delivers"
# a corrupt TNEF: the message on stdout stays clean (no library chatter before it)
printf 'From: a@example.com\nSubject: t\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\nsee\n--B\nContent-Type: application/ms-tnef; name=winmail.dat\nContent-Transfer-Encoding: base64\n\neJ8+IgEAAQaQCAAEAAAAAAABAAIA\n--B--\n' > "$T/tnef.eml"
"$SEKISHO" mail < "$T/tnef.eml" > "$T/tnef.out" 2>/dev/null
ok "$([ $? -eq 0 ] && head -1 "$T/tnef.out" | grep -q '^From: a@example.com$'; echo $?)" "corrupt TNEF: delivered, the output starts with the headers (no library chatter)"

# the flow policy decides (channel mail): sanitize with the flow's profile, hold, deny
POL=$(dirname "$0")/../../examples/policy/default.yaml
if [ -f "$POL" ]; then
	printf 'From: a@x.example\nSubject: s\nContent-Type: multipart/mixed; boundary=B\n\n--B\n\nhi\n--B\nContent-Type: text/csv\nContent-Disposition: attachment; filename=a.csv\n\na,b\n--B--\n' > "$T/p.eml"
	"$SEKISHO" mail --policy "$POL" --from internet --to lgwan < "$T/p.eml" > "$T/p.out" 2>/dev/null
	ok "$([ $? -eq 0 ] && grep -q '^X-Mail-Sanitized: SANITIZE_ATTACH' "$T/p.out" && grep -q 'filename' "$T/p.out"; echo $?)" "policy internet→lgwan: profile mail-standard (attachments: sanitize) re-attaches the CSV"
	"$SEKISHO" mail --policy "$POL" --from internet --to mynumber < "$T/p.eml" > "$T/p.out" 2> "$T/p.err"
	ok "$([ $? -eq 1 ] && grep -q 'reason=policy-deny' "$T/p.err" && grep -q '^X-Mail-Sanitized: HELD' "$T/p.out"; echo $?)" "policy internet→mynumber: denied, held with policy-deny"
	"$SEKISHO" mail --policy "$POL" --from lgwan --to internet < "$T/p.eml" > /dev/null 2> "$T/p.err"
	ok "$([ $? -eq 1 ] && grep -q 'reason=held' "$T/p.err"; echo $?)" "policy lgwan→internet: held for approval"
	"$SEKISHO" mail --policy "$POL" --from internet --to nowhere < "$T/p.eml" > /dev/null 2>&1
	ok "$([ $? -eq 2 ]; echo $?)" "policy with an unknown zone: exit 2"
	# DLP on the delivered text: a valid 個人番号 (check digit right) in the body going out
	# lgwan→internet: the flow's DLP action (default.yaml: mynumber: block) blocks it
	n_before=$("$SEKISHO" audit --state "$T/dlp" list --json 2>/dev/null | grep -c '"action":"mail"')
	printf 'From: staff@city.lg.example\nTo: x@example.com\nSubject: list\nContent-Type: text/plain; charset=UTF-8\n\n申請者 山田\n個人番号: 3847-5629-1044\n' > "$T/mn.eml"
	"$SEKISHO" mail --state "$T/dlp" --policy "$POL" --from lgwan --to internet < "$T/mn.eml" > "$T/mn.out" 2> "$T/mn.err"
	rc=$?
	ok "$([ $rc -eq 1 ] && grep -q 'reason=dlp' "$T/mn.err" && grep -q '^X-Mail-Sanitized: HELD' "$T/mn.out"; echo $?)" "policy lgwan→internet with a 個人番号 in the body: blocked by DLP (exit 1, the held notice)"
	no_number "$T/mn.out"
	ok $? "the blocked message's number is not in the notice"
	n_after=$("$SEKISHO" audit --state "$T/dlp" list --json 2>/dev/null | grep -c '"action":"mail"')
	ok "$([ $((n_after - n_before)) -eq 1 ]; echo $?)" "one audit record for the message ($n_before → $n_after)"
	"$SEKISHO" audit --state "$T/dlp" list --json 2>/dev/null | grep '"action":"mail"' | tail -1 | grep -q 'blocked dlp'
	ok $? "the record says blocked dlp"
	# the same number inside a text attachment of a sanitize flow (internet→lgwan: record):
	# delivered, the finding on record
	printf 'From: a@x.example\nSubject: s\nContent-Type: multipart/mixed; boundary=B\n\n--B\n\nsee the list\n--B\nContent-Type: text/plain; charset=UTF-8\nContent-Disposition: attachment; filename=list.txt\n\n個人番号: 3847-5629-1044\n--B--\n' > "$T/mn2.eml"
	"$SEKISHO" mail --state "$T/dlp" --policy "$POL" --from internet --to lgwan < "$T/mn2.eml" > "$T/mn2.out" 2> "$T/mn2.err"
	rc=$?
	ok "$([ $rc -eq 0 ] && "$SEKISHO" audit --state "$T/dlp" list --json 2>/dev/null | grep '"action":"mail"' | tail -1 | grep -q 'mynumber'; echo $?)" "internet→lgwan (dlp: record): delivered, the finding in the attachment on record"
	n_final=$("$SEKISHO" audit --state "$T/dlp" list --json 2>/dev/null | grep -c '"action":"mail"')
	ok "$([ $((n_final - n_after)) -eq 1 ]; echo $?)" "a message with an attachment: still one audit record"
else
	skip "mail --policy" "no examples/policy/default.yaml"
fi

# phishing tells (through the sandboxed worker): a link whose text shows another domain, a
# homograph From (punycode of Cyrillic с), a one-character Reply-To, an lg.jp imitation in
# a link, the receiving MTA's Authentication-Results (not the sender's own below it)
cat > "$T/ph.eml" <<'EOM'
From: info@xn--ity-3ed.example.lg.jp
Reply-To: help@city.examp1e.lg.jp
To: staff@city.example.lg.jp
Subject: login
Authentication-Results: mx.city.example.lg.jp; spf=fail smtp.mailfrom=evil.example;
  dkim=none; dmarc=fail (p=reject) header.from=xn--ity-3ed.example.lg.jp
Authentication-Results: evil.example; spf=pass; dmarc=pass
Content-Type: text/html; charset=UTF-8

<p><a href="https://evil.example/x">https://www.city.example.lg.jp/login</a>
<a href="https://city.example.lg-jp.com/">こちら</a></p>
EOM
"$SEKISHO" mail --state "$T/ph" --internal city.example.lg.jp < "$T/ph.eml" > "$T/ph.out" 2>/dev/null
ok $? "phishing tells: delivered"
text=$(/usr/bin/python3 -c 'import email,sys,email.policy;m=email.message_from_binary_file(open(sys.argv[1],"rb"),policy=email.policy.default);print(m.get_body().get_content())' "$T/ph.out")
r=0
for want in "<hxxps://evil[.]example/x> 【注意: 表示と異なるリンク先】" "[注意] 表示と異なるリンク先が 1 件あります" \
	"差出人 сity[.]example[.]lg[.]jp (xn--ity-3ed[.]example[.]lg[.]jp) は city.example.lg.jp ではありません (紛らわしい文字)" \
	"返信先 city[.]examp1e[.]lg[.]jp は city.example.lg.jp ではありません (1 文字違い)" \
	"リンク city[.]example[.]lg-jp[.]com は city.example.lg.jp ではありません (lg.jp などの偽装)" \
	"[注意] 送信ドメイン認証: SPF 失敗 (fail)、DMARC 失敗 (fail)。"; do
	case $text in *"$want"*) ;; *) r=1; diag "missing: $want" ;; esac
done
[ $r -eq 0 ] || diag "$text"
ok $r "the notice warns of the link, the look-alikes (From, Reply-To, link) and the failed SPF/DMARC"
"$SEKISHO" audit --state "$T/ph" list --json 2>/dev/null | grep '"action":"mail"' | tail -1 > "$T/ph.json"
/usr/bin/python3 - "$T/ph.json" <<'EOP'
import json, sys
rec = json.loads(open(sys.argv[1]).read())
acts = json.loads(rec["detail"])["actions"]
noted = lambda w: [a for a in acts if a["action"] == "noted" and a["what"] == w]
assert [a["count"] for a in noted("link-mismatch")] == [1], acts
assert len(noted("lookalike-domain")) == 3, acts
assert noted("lookalike-domain")[0]["detail"] == "xn--ity-3ed.example.lg.jp ~ city.example.lg.jp homograph from", acts
assert [a["detail"] for a in noted("auth-fail")] == ["spf=fail dmarc=fail"], acts
EOP
ok $? "the audit record carries link-mismatch ×1, three lookalike-domain and auth-fail spf=fail dmarc=fail"
"$SEKISHO" mail --profile en --internal city.example.lg.jp < "$T/ph.eml" 2>/dev/null |
	/usr/bin/python3 -c 'import email,sys,email.policy;m=email.message_from_binary_file(sys.stdin.buffer,policy=email.policy.default);print(m.get_body().get_content())' > "$T/ph.en"
grep -q '^\[WARNING\] Sender authentication: SPF failed (fail), DMARC failed (fail). The sender may be forged.$' "$T/ph.en" &&
	grep -q 'is not city.example.lg.jp (one character different)' "$T/ph.en" && ! grep -q '注意' "$T/ph.en"
ok $? "profile en: the warnings in English"

# the milter on a loopback TCP port
PORT=$((30000 + $$ % 20000))
"$SEKISHO" milter --socket "inet:$PORT@127.0.0.1" 2> "$T/milter.err" &
mp=$!
up=1
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && { up=0; break; }; sleep 0.1; done
ok $up "milter listens on inet:$PORT@127.0.0.1"
kill "$mp" 2>/dev/null
wait "$mp" 2>/dev/null
"$SEKISHO" milter > /dev/null 2>&1
ok "$([ $? -eq 2 ]; echo $?)" "milter without --socket: exit 2"
"$SEKISHO" milter --socket unix:$T/s --on-error maybe > /dev/null 2>&1
ok "$([ $? -eq 2 ]; echo $?)" "milter with a bad --on-error: exit 2"
done_testing
