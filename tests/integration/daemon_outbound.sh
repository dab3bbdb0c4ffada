#!/bin/bash
# The outbound path (LGWAN → internet) through ONE sekishod milter with a REAL Postfix on
# loopback (postfix_lab.sh): the policy's zones map the SMTP clients' addresses — lgwan
# 127.0.0.0/24 (the LGWAN client is 127.0.0.20), internet 127.0.1.0/24 (127.0.1.20),
# 127.0.3.20 in no zone — and gateway.milter has both directions. Mailboxes are Maildirs
# in the test folder (u, kikaku and kacho @lg.test.example inside; partner@partner.example
# outside), read back with python3's email module. The console is sekishod's http role on
# 127.0.0.1 (users made with `sekisho user add`, TOTP codes from oathtool).
#  (a) a mail with a valid 個人番号 from the LGWAN client to an outside recipient is not
#      delivered: its sender (a console user) gets a notice in Japanese and English naming
#      the rule, without the number, its approver a request notice; the sender cannot
#      approve it; approved through the HTTP API by the approver, the released (sanitised)
#      message reaches the outside mailbox with its envelope (Return-Path, Delivered-To),
#      handed to the MTA without the milter seeing it again;
#  (b) another one refused: the sender gets a bounce in Japanese naming the rule;
#  (b2) the MTA does not take an approved message: the API answer says so, an event, and
#      POST /api/requests/{id}/send sends it later — through the console's approve screen
#      in chromium (outbound_browser.mjs: the card shows the envelope and the masked
#      findings, the failure and "send again") when chromium and web/node_modules are
#      there, else through the API;
#  (c) an inbound held message (every recipient internal) still gets today's notice;
#  (d) a client in no zone is refused (550 5.7.1) with an event.
# The gateway's sendmail: the system's /usr/sbin/sendmail cannot submit into a private
# Postfix instance for an unprivileged user (postdrop refuses a configuration directory
# not named in /etc/postfix/main.cf), so the test's sendmail is a stand-in with the same
# arguments (-oi [-f SENDER] -- RCPT…) that hands the message to the same Postfix on a
# second smtpd port WITHOUT the milter — the path sendmail's pickup takes in production.
# usage: daemon_outbound.sh SEKISHOD SEKISHO SOURCE_ROOT
set -u
SEKISHOD=$1
SEKISHO=$2
ROOT=$3
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/postfix_lab.sh"
. "$(dirname "$0")/browser_env.sh" # run_walk (the approve screen in chromium, when there)
export LC_ALL=C.UTF-8
for tool in oathtool openssl curl; do
	command -v $tool >/dev/null || { skip "outbound mail through the milter" "$tool is missing"; done_testing; exit 0; }
done
if ! pf_usable || ! getent passwd sekisho >/dev/null || [ ! -x /usr/bin/python3 ]; then
	skip "outbound mail through the milter" "needs root, postfix, swaks, /usr/bin/python3 and the users postfix and sekisho"
	done_testing
	exit 0
fi
T=$(mktemp -d /tmp/sk-dout-XXXXXX)
chmod 755 "$T"
PORT=$(pf_ports)
BARE=$((PORT + 1))
HPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MASTER=
trap 'lab_stop "$T"' EXIT
trap 'exit 1' INT TERM

LG=127.0.0.20 INET=127.0.1.20 NOZONE=127.0.3.20
SOCK=$T/msock/milter.sock
ST=$T/state
MYN='3847-5629-1044' # a valid 個人番号 (check digit)

# ---- the gateway's sendmail (see above); it fails while $T/sendmail.fail exists
cat > "$T/sendmail" <<EOF
#!/usr/bin/python3
import json, os, smtplib, sys
args = sys.argv[1:]
sender, rcpt, i = None, None, 0
while i < len(args):
    if args[i] == "-oi":
        i += 1
    elif args[i] == "-f" and i + 1 < len(args):
        sender, i = args[i + 1], i + 2
    elif args[i] == "--":
        rcpt = args[i + 1:]
        break
    else:
        sys.exit(64)
data = sys.stdin.buffer.read()
if not rcpt or os.path.exists("$T/sendmail.fail"):
    sys.exit(75)
with open("$T/sendmail.log", "a") as f:
    f.write(json.dumps(args) + "\n")
s = smtplib.SMTP("127.0.0.1", $BARE)
s.sendmail("" if sender == "<>" else (sender or "sekisho@test.example"), rcpt, data)
s.quit()
EOF
chmod 755 "$T/sendmail"
: > "$T/sendmail.log"
chmod 666 "$T/sendmail.log"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=sekisho-test -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
chmod 0644 "$T/key.pem" "$T/cert.pem"
WEB=$ROOT/web
BROWSER=0
[ -x /usr/bin/chromium ] && [ -f "$WEB/node_modules/playwright-core/package.json" ] &&
	[ -f "$WEB/vendor/lit.js" ] && command -v node >/dev/null && BROWSER=1

cat > "$T/policy.yaml" <<EOF
version: 1
name: outbound test
organization: テスト市
internal_domains: [lg.test.example]
zones:
  mynumber: { networks: [127.0.2.0/24], gateway: { interface: sk-myn, address: 127.0.2.1 } }
  lgwan: { networks: [127.0.0.0/24], gateway: { interface: sk-lgwan, address: 127.0.0.1 } }
  internet: { networks: [127.0.1.0/24], gateway: { interface: sk-inet, address: 127.0.1.1 } }
sections:
  kikaku: { name: 企画課 }
  joho: { name: 情報政策課 }
classification:
  dimensions:
    機密性: { levels: ["2", "1"], default: "1" }
dlp: { hold_role: security-manager }
flows:
  - id: internet-lgwan-mail
    from: internet
    to: lgwan
    channel: mail
    action: { sanitize: default }
    dlp: { mynumber: hold, corporate: record, pattern: record, unscannable: record }
  - id: lgwan-internet-mail
    from: lgwan
    to: internet
    channel: mail
    action: { sanitize: default }
    dlp: { mynumber: hold, corporate: record, pattern: record, unscannable: record }
gateway:
  workers: 1
  milter:
    socket: unix:$SOCK
    group: postfix
    directions:
      - { from: internet, to: lgwan }
      - { from: lgwan, to: internet }
  sendmail: $T/sendmail
  console_url: https://127.0.0.1:$HPORT/
EOF
"$SEKISHO" policy check "$T/policy.yaml" > "$T/check.out" 2>&1
ok $? "the policy with both milter directions and internal_domains checks clean"
# two directions from one zone: a line-numbered error
sed 's/{ from: lgwan, to: internet }/{ from: internet, to: mynumber }/' "$T/policy.yaml" > "$T/dup.yaml"
"$SEKISHO" policy check "$T/dup.yaml" > "$T/dup.out" 2>&1
line=$(grep -n 'from: internet, to: mynumber' "$T/dup.yaml" | cut -d: -f1)
[ $? -eq 0 ] && grep -q "dup.yaml:$line:17: E-GATEWAY-MILTER-DUPLICATE" "$T/dup.out"
ok $? "two directions from one zone: E-GATEWAY-MILTER-DUPLICATE at $line:17"

# ---- console users: the sender (staff and security-manager: the role, not the right to
# approve their own mail) and the approver
adduser() { # NAME MAIL ROLE...
	local name=$1 mail=$2 pw
	shift 2
	pw="Hq7$(printf '%s' "$name" | sha256sum | cut -c1-12)!vZ"
	printf '%s\n' "$pw" > "$T/pw.$name"
	local roles=()
	for r in "$@"; do roles+=(--role "$r"); done
	"$SEKISHO" user add "$name" "${roles[@]}" --section joho --state "$ST" --policy "$T/policy.yaml" \
		--password-file "$T/pw.$name" --mail "$mail" 2>> "$T/useradd.err" |
		awk -F'\t' '$1 == "totp-secret" { print $2 }' > "$T/totp.$name"
	[ -s "$T/totp.$name" ]
}
adduser kikaku kikaku@lg.test.example staff security-manager &&
	adduser kacho kacho@lg.test.example security-manager &&
	adduser kacho2 kacho2@lg.test.example security-manager
ok $? "console users: kikaku (the sender), kacho and kacho2 (approvers), each with a mail address"
chown -R sekisho "$ST"

mkdir -p "$T/mail/kikaku" "$T/mail/kacho" "$T/mail/kacho2" "$T/mail/partner"
PF_EXTRA="virtual_mailbox_domains = lg.test.example, partner.example
virtual_mailbox_maps = inline:{ u@lg.test.example=u/, kikaku@lg.test.example=kikaku/, kacho@lg.test.example=kacho/, kacho2@lg.test.example=kacho2/, partner@partner.example=partner/ }" \
	pf_setup "$T" "$PORT" "unix:$SOCK" test.example "$BARE"

"$SEKISHOD" --foreground --policy "$T/policy.yaml" --state "$ST" --user sekisho \
	--http "lgwan=127.0.0.1:$HPORT" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --web "$WEB" \
	--events "json:$T/events.jsonl" > "$T/sekishod.err" 2>&1 &
MASTER=$!
wait_for 30 test -S "$SOCK" &&
	wait_for 30 curl -s --cacert "$T/cert.pem" -o /dev/null "https://127.0.0.1:$HPORT/api/session"
rc=$?
ok $rc "sekishod: the milter role listens, the console answers"
if [ $rc -ne 0 ]; then # nothing below can pass: say why, and stop
	sed 's/^/# /' "$T/sekishod.err" | tail -40
	done_testing
	exit 1
fi
pf_start "$T"
rc=$?
ok $rc "postfix started (port $PORT with the milter, $BARE without)"
if [ $rc -ne 0 ]; then
	sed 's/^/# /' "$T/start.log"
	done_testing
	exit 1
fi

# ---- helpers
box() { ls "$T/mail/$1/new" 2>/dev/null | wc -l; }
at_least() { [ "$(box "$1")" -ge "$2" ]; }
events() { grep -c "\"event\":\"$1\"" "$T/events.jsonl" 2>/dev/null; }
events_at_least() { [ "$(events "$1")" -ge "$2" ]; }
send() { # send NAME CLIENT FROM TO FILE
	swaks --server 127.0.0.1:$PORT --local-interface "$2" --from "$3" --to "$4" --data "@$5" \
		> "$T/swaks-$1.log" 2>&1
}
mymail() { # mymail FILE SUBJECT FROM TO
	printf 'From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s@lg.test.example>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n申請者 山田\n個人番号: %s\nよろしくお願いします。\n' \
		"$3" "$4" "$2" "$2" "$MYN" > "$1"
}
# the newest message of a mailbox as JSON: headers we check, the decoded text
read_box() { # read_box BOX [N-th newest, default 1]
	/usr/bin/python3 - "$T/mail/$1/new" "${2:-1}" <<'PY'
import email, email.policy, json, os, sys
d, n = sys.argv[1], int(sys.argv[2])
fs = sorted(os.listdir(d), key=lambda f: os.stat(os.path.join(d, f)).st_mtime_ns)
m = email.message_from_binary_file(open(os.path.join(d, fs[-n]), "rb"), policy=email.policy.default)
body = m.get_body(preferencelist=("plain",))
print(json.dumps({"subject": str(m["subject"] or ""), "from": str(m["from"] or ""),
                  "to": str(m["to"] or ""), "return_path": str(m["return-path"] or ""),
                  "delivered_to": str(m["delivered-to"] or ""),
                  "sanitized": str(m["x-mail-sanitized"] or ""),
                  "text": body.get_content() if body else ""}, ensure_ascii=False))
PY
}
jq_() { /usr/bin/python3 -c "import json,sys; o=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }
CURL=(curl -s --cacert "$T/cert.pem")
login() { # login NAME
	local code
	code=$(oathtool --totp -b "$(cat "$T/totp.$1")")
	"${CURL[@]}" -c "$T/jar.$1" -H 'Content-Type: application/json' \
		-d "{\"user\":\"$1\",\"password\":\"$(cat "$T/pw.$1")\",\"totp\":\"$code\"}" \
		"https://127.0.0.1:$HPORT/api/session" > "$T/login.$1.json"
	json_get "$T/login.$1.json" csrf > "$T/csrf.$1"
	[ "$(json_get "$T/login.$1.json" user)" = "$1" ]
}
api() { # api NAME METHOD PATH [JSON]: the answer to stdout, its status in $T/status
	local data=()
	[ $# -ge 4 ] && data=(-d "$4")
	"${CURL[@]}" -b "$T/jar.$1" -H "X-CSRF-Token: $(cat "$T/csrf.$1")" -H 'Content-Type: application/json' \
		-X "$2" "${data[@]}" -o "$T/api.out" -w '%{http_code}' "https://127.0.0.1:$HPORT$3" > "$T/status"
	cat "$T/api.out"
}
# the pending request of the item whose envelope sender and subject … (its id and item)
pending_of() { # pending_of NAME ITEM → request id
	api "$1" GET "/api/requests?state=pending" |
		jq_ "[r['id'] for r in o['requests'] if r['item'] == '$2'][0]"
}
# the item id of the newest outbound decision event
last_outbound_item() {
	/usr/bin/python3 -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
d = [e for e in ev if e.get("event") == "decision" and e.get("outbound") == "yes"]
print(d[-1]["quarantine_id"] if d else "")' "$T/events.jsonl"
}

# held_out NAME N: one more 個人番号 mail from kikaku to the outside, until kikaku's Nth
# notice arrives; ID and RID: its item and the pending request the gate opened
held_out() {
	mymail "$T/$1.eml" "outbound-$1" kikaku@lg.test.example partner@partner.example
	send "$1" "$LG" kikaku@lg.test.example partner@partner.example "$T/$1.eml"
	wait_for 60 at_least kikaku "$2"
	ID=$(last_outbound_item)
	RID=$(pending_of kacho "$ID")
}

# ---- (a) held, approved, delivered
mymail "$T/a.eml" outbound-a kikaku@lg.test.example partner@partner.example
send a "$LG" kikaku@lg.test.example partner@partner.example "$T/a.eml"
ok $? "(a) swaks from the LGWAN client: the 個人番号 mail accepted by Postfix"
wait_for 60 at_least kikaku 1
ok $? "(a) the sender's notice arrived in kikaku's mailbox"
wait_for 30 at_least kacho 1
ok $? "(a) the approver's request notice arrived in kacho's mailbox"
ID_A=$(last_outbound_item)
diag "item $ID_A"
read_box kikaku > "$T/a-notice.json"
jq_ "o['text']" < "$T/a-notice.json" > "$T/a-notice.txt"
jq_ "o['subject']" < "$T/a-notice.json" | grep -q '保留' &&
	grep -q '送信前の確認のため保留しました' "$T/a-notice.txt" &&
	grep -q 'The mail you sent is held for approval' "$T/a-notice.txt" &&
	[ "$(grep -n '保留しました' "$T/a-notice.txt" | head -1 | cut -d: -f1)" -lt \
	  "$(grep -n 'held for approval' "$T/a-notice.txt" | head -1 | cut -d: -f1)" ]
ok $? "(a) the notice: Japanese first, then English"
grep -q 'dlp mynumber (flows\[1\] lgwan-internet-mail)' "$T/a-notice.txt" &&
	grep -q '個人番号' "$T/a-notice.txt" && grep -q "$ID_A" "$T/a-notice.txt" &&
	grep -q 'partner@partner.example' "$T/a-notice.txt" && [ -n "$ID_A" ]
ok $? "(a) ... names the rule (dlp mynumber, the flow), the detector, the recipient and the item id"
no_number "$T/a-notice.txt"
ok $? "(a) ... and not the number itself (masked: ****-****-****)"
read_box kacho | jq_ "o['subject'] + '\n' + o['text']" > "$T/a-approver.txt"
grep -q '取り出し申請の承認依頼' "$T/a-approver.txt" && grep -q "$ID_A" "$T/a-approver.txt" &&
	grep -q 'partner@partner.example' "$T/a-approver.txt" && no_number "$T/a-approver.txt"
ok $? "(a) the approver's notice: the request, the item, the envelope, no number"
sleep 1
[ "$(box partner)" -eq 0 ]
ok $? "(a) nothing reached the outside mailbox"
python3 - "$T/events.jsonl" "$ID_A" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
d = [e for e in ev if e.get("event") == "decision" and e.get("quarantine_id") == sys.argv[2]]
sys.exit(0 if len(d) == 1 and d[0]["from"] == "lgwan" and d[0]["to"] == "internet"
         and d[0]["reason"] == "held" and d[0]["outbound"] == "yes" else 1)
PY
ok $? "(a) the decision event: lgwan -> internet (the client's zone), held, outbound"

login kacho && login kikaku
ok $? "login as the approver and as the sender"
RID_A=$(pending_of kacho "$ID_A")
api kacho GET "/api/items/$ID_A" > "$T/a-item.json"
jq_ "(o['envelope']['from'], o['envelope']['to'], o['envelope']['sent'])" < "$T/a-item.json" |
	grep -qx "('kikaku@lg.test.example', \['partner@partner.example'\], None)"
ok $? "(a) the approver sees the held message's envelope (request $RID_A)"
jq_ "[a['detail'] for a in o['actions']['actions'] if a['what'] == 'mynumber']" < "$T/a-item.json" > "$T/a-findings"
grep -q '\*\*\*\*-\*\*\*\*-\*\*\*\*' "$T/a-findings" && no_number "$T/a-item.json"
ok $? "(a) ... and its DLP findings, masked ($(cat "$T/a-findings"))"
api kikaku GET "/api/requests?state=pending" | jq_ "[r['by'] for r in o['requests'] if r['item'] == '$ID_A']" |
	grep -qx "\['kikaku'\]"
ok $? "(a) the request's requester is the sender's console user"
api kikaku POST "/api/requests/$RID_A/approve" '{"comment":"自分で承認"}' > "$T/a-self.json"
[ "$(cat "$T/status")" = 403 ] && grep -q 'self-approval' "$T/a-self.json"
ok $? "(a) the sender cannot approve their own mail (403 self-approval)"
before=$(events decision)
api kacho POST "/api/requests/$RID_A/approve" '{"comment":"確認しました"}' > "$T/a-approve.json"
[ "$(cat "$T/status")" = 200 ] && jq_ "(o['state'], o['mail']['sent'])" < "$T/a-approve.json" | grep -qx "('approved', True)"
ok $? "(a) approved by the approver: the answer says the mail was sent"
wait_for 60 at_least partner 1
ok $? "(a) the released message reached the outside mailbox"
read_box partner > "$T/a-out.json"
jq_ "(o['return_path'], o['delivered_to'], o['to'], o['from'])" < "$T/a-out.json" |
	grep -qx "('<kikaku@lg.test.example>', 'partner@partner.example', 'partner@partner.example', 'kikaku@lg.test.example')"
ok $? "(a) ... with its envelope kept (Return-Path, Delivered-To) and its headers"
jq_ "o['sanitized']" < "$T/a-out.json" | grep -q 'TEXT_ONLY' &&
	jq_ "o['text']" < "$T/a-out.json" | grep -q 'よろしくお願いします'
ok $? "(a) ... sanitised by the flow's profile (X-Mail-Sanitized), the text kept"
grep -q '^\["-oi", "-f", "kikaku@lg.test.example", "--", "partner@partner.example"\]$' "$T/sendmail.log"
ok $? "(a) handed to the MTA as sendmail -oi -f SENDER -- RCPT"
sleep 1
[ "$(events decision)" -eq "$before" ]
ok $? "(a) the milter did not see the released message again (no new decision)"
"$SEKISHO" quarantine --state "$ST" list --json 2>/dev/null | grep -q "\"$ID_A\""
ok $? "(a) the item is in the quarantine list"

# ---- (b) held, refused, bounced
held_out b 2
ID_B=$ID RID_B=$RID
api kacho POST "/api/requests/$RID_B/refuse" '{"comment":"個人番号は外部に送れません"}' > "$T/b-refuse.json"
[ "$(cat "$T/status")" = 200 ] && [ "$(jq_ "o['state']" < "$T/b-refuse.json")" = refused ]
ok $? "(b) the second one refused by the approver (request $RID_B)"
wait_for 60 at_least kikaku 3
ok $? "(b) the bounce arrived in the sender's mailbox"
read_box kikaku | jq_ "o['subject'] + '\n' + o['text']" > "$T/b-bounce.txt"
grep -q '送信メールの送信は却下されました' "$T/b-bounce.txt" &&
	grep -q 'The release of your mail was refused' "$T/b-bounce.txt" &&
	grep -q '個人番号は外部に送れません' "$T/b-bounce.txt" &&
	grep -q 'dlp mynumber' "$T/b-bounce.txt" && grep -q "$ID_B" "$T/b-bounce.txt" &&
	no_number "$T/b-bounce.txt"
ok $? "(b) the bounce: Japanese and English, the rule and the comment, no number"
sleep 1
[ "$(box partner)" -eq 1 ]
ok $? "(b) nothing more reached the outside mailbox"

# ---- (b2) the MTA does not take the approved message: visible, sent again later
held_out c 4
ID_C=$ID RID_C=$RID
touch "$T/sendmail.fail"
if [ $BROWSER -eq 1 ]; then
	SECRET[kacho2]=$(cat "$T/totp.kacho2")
	PASSWORD=$(cat "$T/pw.kacho2") SHOTS=${SHOTS_DIR:-$T/shots} BASE="https://127.0.0.1:$HPORT" \
		APPROVER=kacho2 REQUEST=$RID_C FAIL="$T/sendmail.fail" run_walk outbound_browser.mjs
	rm -f "$T/sendmail.fail"
	wait_for 10 events_at_least mail-send-error 1
	ok $? "(b2) the failed send was an event (mail-send-error)"
else
	diag "(b2) through the API: chromium or web/node_modules is missing"
	api kacho POST "/api/requests/$RID_C/approve" '{}' > "$T/c-approve.json"
	[ "$(cat "$T/status")" = 200 ] && jq_ "(o['state'], o['mail']['sent'], 'status 75' in o['mail']['error'])" < "$T/c-approve.json" |
		grep -qx "('approved', False, True)"
	ok $? "(b2) approved while the MTA refuses: the answer says it was not sent, and why"
	wait_for 10 events_at_least mail-send-error 1 &&
		jq_ "o['envelope']['error'] is not None and o['envelope']['sent'] is None" < <(api kacho GET "/api/items/$ID_C") | grep -qx True
	ok $? "(b2) ... an event (mail-send-error) and the item says so"
	rm -f "$T/sendmail.fail"
	api kacho POST "/api/requests/$RID_C/send" '{}' > "$T/c-send.json"
	[ "$(cat "$T/status")" = 200 ] && jq_ "o['mail']['sent']" < "$T/c-send.json" | grep -qx True
	ok $? "(b2) POST /api/requests/$RID_C/send: sent"
fi
wait_for 60 at_least partner 2
ok $? "(b2) ... it reached the outside mailbox"
jq_ "o['envelope']['sent'] is not None and o['envelope']['error'] is None" < <(api kacho GET "/api/items/$ID_C") | grep -qx True
ok $? "(b2) the item says it was sent"
api kacho POST "/api/requests/$RID_C/send" '{}' > /dev/null
[ "$(cat "$T/status")" = 409 ]
ok $? "(b2) never twice (409)"

# ---- (c) inbound held: today's notice to the (internal) recipient
mymail "$T/in.eml" inbound s@evil.example u@lg.test.example
send in "$INET" s@evil.example u@lg.test.example "$T/in.eml"
ok $? "(c) swaks from the internet client: the inbound mail accepted"
wait_for 60 at_least u 1
ok $? "(c) the inbound held mail: a notice delivered to its recipient"
read_box u > "$T/in.json"
jq_ "o['sanitized']" < "$T/in.json" | grep -q 'HELD' && no_number "$T/in.json"
ok $? "(c) ... the held notice (X-Mail-Sanitized: HELD), not the message"
python3 - "$T/events.jsonl" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
d = [e for e in ev if e.get("event") == "decision" and e.get("message_id") == "<inbound@lg.test.example>"]
sys.exit(0 if len(d) == 1 and d[0]["from"] == "internet" and d[0]["to"] == "lgwan"
         and d[0]["outbound"] == "no" else 1)
PY
ok $? "(c) its decision: internet -> lgwan (the client's zone), not outbound"

# ---- (d) a client in no zone
mymail "$T/d.eml" nozone s@evil.example u@lg.test.example
send d "$NOZONE" s@evil.example u@lg.test.example "$T/d.eml"
rc=$?
sed -n 's/^ *<\*\{0,2\} *\(5[0-9][0-9].*\)/# \1/p' "$T/swaks-d.log" | head -3
[ $rc -ne 0 ] && grep -q '550.5\.7\.1' "$T/swaks-d.log" && grep -q 'in no zone' "$T/swaks-d.log"
ok $? "(d) a client in no zone: refused 550 5.7.1 with the reason"
wait_for 10 events_at_least milter-refused 1 &&
	grep '"event":"milter-refused"' "$T/events.jsonl" | grep -q "\"client\":\"$NOZONE\""
ok $? "(d) ... and an event naming the client"

# ---- stop; the record
sekishod_term
rc=$?
ok $rc "SIGTERM: sekishod exits 0"
"$SEKISHO" audit --state "$ST" list --json > "$T/audit.jsonl" 2>/dev/null
[ "$(grep -c '"action":"mail-send".*"result":"sent"' "$T/audit.jsonl")" -eq 2 ] &&
	[ "$(grep -c '"action":"mail-send".*"result":"failed"' "$T/audit.jsonl")" -eq 1 ] &&
	grep -q '"action":"mail-notice".*"result":"sent refused"' "$T/audit.jsonl" &&
	grep -q '"action":"mail-notice".*"result":"sent held"' "$T/audit.jsonl"
ok $? "audited: the sends (2 sent, 1 failed) and the sender's notices (held, refused)"
no_number "$T/audit.jsonl"
ok $? "the audit log has no number in clear"
"$SEKISHO" audit --state "$ST" verify > /dev/null 2>&1
ok $? "the audit log verifies"
done_testing
