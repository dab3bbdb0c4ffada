#!/bin/bash
# sekishod's milter role with a REAL Postfix on 127.0.0.1 (own config, queue and Maildir in
# a temp folder, as postfix.sh): the policy's gateway.milter names the socket, the MTA's
# group and the zones of the mail; mail sent with swaks is delivered sanitised (the MIME
# walk in the role's sandboxed workers) with one audit record each; kill -9 of the milter
# role: the master restarts it and the next mail goes through.
# usage: daemon_mail.sh SEKISHOD SEKISHO SOURCE_ROOT
set -u
SEKISHOD=$1
SEKISHO=$2
ROOT=$3
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/postfix_lab.sh"
export LC_ALL=C.UTF-8
if ! pf_usable || ! getent passwd sekisho >/dev/null; then
	skip "sekishod milter with postfix" "needs root, postfix, swaks and the users postfix and sekisho"
	done_testing
	exit 0
fi
T=$(mktemp -d /tmp/sk-dmail-XXXXXX)
chmod 755 "$T"
PORT=$(pf_ports)
MASTER=
trap 'lab_stop "$T"' EXIT
delivered() { pf_delivered "$T"; }
at_least() { [ "$(delivered)" -ge "$1" ]; }

SOCK=$T/msock/milter.sock
# the demo policy with a gateway section: the milter's socket, its MTA group, its zones
sed '/^gateway:/,$d' "$ROOT/examples/policy/default.yaml" > "$T/policy.yaml"
cat >> "$T/policy.yaml" <<EOF
gateway:
  workers: 1
  milter: {socket: unix:$SOCK, from: internet, to: lgwan, group: postfix}
EOF
"$SEKISHO" policy check "$T/policy.yaml" > "$T/check.out" 2>&1
ok $? "the policy with gateway.milter checks clean"
# a milter socket without zones: a line-numbered error
sed '/^gateway:/,$d' "$ROOT/examples/policy/default.yaml" > "$T/nozones.yaml"
printf 'gateway:\n  milter: unix:%s\n' "$SOCK" >> "$T/nozones.yaml"
line=$(grep -n '^  milter:' "$T/nozones.yaml" | cut -d: -f1)
"$SEKISHOD" --foreground --policy "$T/nozones.yaml" --state "$T/state0" > "$T/nozones.out" 2>&1
rc=$?
ok "$([ $rc -eq 2 ] && grep -q "nozones.yaml:$line:11: E-GATEWAY-MILTER-ZONES" "$T/nozones.out"; echo $?)" "milter without zones: refused with the line (E-GATEWAY-MILTER-ZONES at $line:11)"

"$SEKISHOD" --foreground --policy "$T/policy.yaml" --state "$T/state" --user sekisho \
	--events "json:$T/events.jsonl" > "$T/sekishod.err" 2>&1 &
MASTER=$!
wait_for 30 test -S "$SOCK"
ok $? "sekishod's milter role listens on $SOCK"
mpid=$(role_pid milter)
ok "$([ -n "$mpid" ] && [ "$(awk '/^Uid:/ {print $2}' /proc/$mpid/status)" = "$(id -u sekisho)" ]; echo $?)" "the milter role runs as sekisho"
st=$(stat -c '%a %G' "$SOCK")
ok "$([ "$st" = "660 postfix" ]; echo $?)" "the socket is 0660, group postfix ($st)"
wpid=$(pgrep -P "$mpid" | head -1)
ok "$([ -n "$wpid" ] && grep -q '^Seccomp:[[:space:]]*2' /proc/$wpid/status; echo $?)" "the milter role's worker is sandboxed (Seccomp: 2)"

pf_setup "$T" "$PORT" "unix:$SOCK" test.example
pf_start "$T"
rc=$?
ok $rc "postfix started (port $PORT)"
if [ $rc -ne 0 ]; then
	sed 's/^/# /' "$T/start.log"
	done_testing
	exit 1
fi
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"

printf 'From: Sender <s@evil.example>\nTo: u@lg.test.example\nSubject: hello\nMessage-ID: <d1@evil.example>\nX-Evil: 1\nMIME-Version: 1.0\nContent-Type: text/html; charset=UTF-8\n\n<p>see <a href="https://evil.example/x">here</a></p><script>x()</script>\n' > "$T/m1.eml"
swaks --server 127.0.0.1:$PORT --from s@evil.example --to u@lg.test.example --data "$T/m1.eml" > "$T/swaks1.log" 2>&1
ok $? "swaks: the first mail accepted"
wait_for 30 at_least 1
ok $? "delivered to the Maildir ($(delivered))"
f=$(ls "$T/mail/u/new" | head -1)
m="$T/mail/u/new/$f"
[ -n "$f" ] && grep -q '^X-Mail-Sanitized: CHG_TEXT REP_LINK TEXT_ONLY' "$m" && ! grep -qi '^X-Evil' "$m" && ! grep -q '<script' "$m"
ok $? "delivered sanitised (X-Mail-Sanitized, header dropped, no HTML)"

# kill -9 of the milter role: restarted by the master, the next mail goes through
kill -9 "$mpid"
wait_for 30 bash -c "p=\$(for c in \$(pgrep -P $MASTER); do [ \"\$(cat /proc/\$c/comm)\" = sk-milter ] && echo \$c; done); [ -n \"\$p\" ] && [ \"\$p\" != $mpid ] && [ -S $SOCK ]"
ok $? "the milter role was restarted after kill -9"
sleep 0.5 # the new role's libmilter to take the socket it just created
printf 'From: s@evil.example\nTo: u@lg.test.example\nSubject: second\nMessage-ID: <d2@evil.example>\n\nplain text after the restart\n' > "$T/m2.eml"
for _ in 1 2 3; do
	swaks --server 127.0.0.1:$PORT --from s@evil.example --to u@lg.test.example --data "$T/m2.eml" > "$T/swaks2.log" 2>&1 && break
	sleep 1
done
ok $? "swaks: the mail after the restart accepted"
wait_for 30 at_least 2
ok $? "the mail after the restart delivered ($(delivered))"
/usr/bin/python3 - "$T/mail/u/new" <<'PY'
import email, email.policy, os, sys
d = sys.argv[1]
for f in os.listdir(d):
    m = email.message_from_binary_file(open(os.path.join(d, f), 'rb'), policy=email.policy.default)
    if str(m['Subject']) == 'second' and m['X-Mail-Sanitized'] and \
       'plain text after the restart' in m.get_body(preferencelist=('plain',)).get_content():
        sys.exit(0)
sys.exit(1)
PY
ok $? "... sanitised (notice, X-Mail-Sanitized, the text kept)"

# stop, then the audit log: one record per delivered message, verified
sekishod_term
rc=$?
ok $rc "SIGTERM: sekishod exits 0"
n=$("$SEKISHO" audit --state "$T/state" list --json 2>/dev/null | grep -c '"action":"mail"')
ok "$([ "$n" -eq 2 ]; echo $?)" "one audit record per message ($n for 2)"
"$SEKISHO" audit --state "$T/state" list --json 2>/dev/null | grep '"action":"mail"' | grep -q '"actor":"milter".*"result":"sanitized"'
ok $? "the records: actor milter, sanitized"
"$SEKISHO" audit --state "$T/state" verify > /dev/null 2>&1
ok $? "the audit log verifies"
# one decision event per message, with what matches the maillog: queue ID, Message-ID, sender
qid=$(sed -n 's/.*postfix\/cleanup\[[0-9]*\]: \([0-9A-F]*\): message-id=<d1@evil.example>.*/\1/p' "$T/maillog" | head -1)
python3 - "$T/events.jsonl" "$qid" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
d = [e for e in ev if e.get("event") == "decision" and e.get("channel") == "mail"]
one = [e for e in d if e.get("message_id") == "<d1@evil.example>"]
ok = (len(d) == 2 and len(one) == 1 and one[0].get("sender") == "<s@evil.example>"
      and one[0].get("verdict") == "sanitized" and one[0].get("quarantine_id")
      and sys.argv[2] and one[0].get("queue_id") == sys.argv[2])
sys.exit(0 if ok else 1)
PY
ok $? "one decision event per message, with the maillog's queue ID ($qid), Message-ID and sender"
done_testing
