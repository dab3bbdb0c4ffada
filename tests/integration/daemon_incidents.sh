#!/bin/bash
# The gate opens incidents by itself through sekishod's milter, with a REAL Postfix (the
# shared lab of postfix_lab.sh on 127.0.0.1) and a REAL clamd (started here on a unix
# socket with a signature database written here, as clamd.sh does: no download). The
# milter's mail goes lgwan -> internet under the demo policy (DLP: 個人番号 block):
#  - a mail with an EICAR attachment is blocked `malware` and opens one incident, severity
#    high;
#  - a mail with a valid 個人番号 in its body is blocked `dlp` and opens one, severity
#    medium;
#  - a clean mail opens none;
# each incident's `item` is the quarantined message's id (sekisho quarantine list), found
# by sekisho (`found_by`), open. Then the asset marking in a mail body: a mail marked
# 「資産番号: AS-0001」 (an asset of 機密性3A in the ledger) is denied by the classification
# (policy-deny, the rule naming the asset) where the same mail unmarked is only held.
# usage: daemon_incidents.sh SEKISHOD SEKISHO SOURCE_ROOT
set -u
SEKISHOD=$1
SEKISHO=$2
ROOT=$3
CLAMD=${CLAMD:-/usr/sbin/clamd}
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/postfix_lab.sh"
export LC_ALL=C.UTF-8
if ! pf_usable || ! getent passwd sekisho >/dev/null || [ ! -x "$CLAMD" ]; then
	skip "incidents through the milter" "needs root, postfix, swaks, clamd and the users postfix and sekisho"
	done_testing
	exit 0
fi
T=$(mktemp -d /tmp/sk-dinc-XXXXXX)
chmod 755 "$T"
PORT=$(pf_ports)
MASTER=
CLAMD_PID=
cleanup() {
	if [ -n "$CLAMD_PID" ]; then
		kill "$CLAMD_PID" 2>/dev/null
		wait "$CLAMD_PID" 2>/dev/null
	fi
	lab_stop "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- clamd: only our signatures (EICAR by its MD5 and by its bytes), a socket the
# sekisho user may use ----
e1='X5O!P%@AP[4\PZX54(P^)7CC)'
e2='7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
mkdir -p "$T/clam/db" "$T/clam/tmp"
printf '%s%s' "$e1" "$e2" > "$T/eicar.txt"
echo "$(md5sum < "$T/eicar.txt" | cut -d' ' -f1):$(wc -c < "$T/eicar.txt"):Sekisho.Test.EICAR" \
	> "$T/clam/db/sekisho-test.hdb"
echo "Sekisho.Test.EICAR.Bytes:0:*:$(od -An -tx1 < "$T/eicar.txt" | tr -d ' \n')" \
	> "$T/clam/db/sekisho-test.ndb"
cat > "$T/clam/clamd.conf" <<EOF
LocalSocket $T/clam/clamd.sock
LocalSocketMode 666
FixStaleSocket yes
DatabaseDirectory $T/clam/db
TemporaryDirectory $T/clam/tmp
LogFile $T/clam/clamd.log
LogSyslog no
Foreground yes
ScanMail yes
SelfCheck 0
EOF
chmod 755 "$T/clam"
"$CLAMD" --config-file="$T/clam/clamd.conf" > "$T/clam/clamd.out" 2>&1 &
CLAMD_PID=$!
wait_for 60 test -S "$T/clam/clamd.sock"
ok $? "clamd started with only the test database"

SOCK=$T/msock/milter.sock
sed '/^gateway:/,$d' "$ROOT/examples/policy/default.yaml" > "$T/policy.yaml"
cat >> "$T/policy.yaml" <<EOF
gateway:
  workers: 1
  clamd: unix:$T/clam/clamd.sock
  milter: {socket: unix:$SOCK, from: lgwan, to: internet, group: postfix}
EOF
"$SEKISHO" policy check "$T/policy.yaml" > "$T/check.out" 2>&1
ok $? "the policy (milter lgwan -> internet, clamd) checks clean"
STATE=$T/state
# an asset of 機密性3A in the ledger, for the marking below
"$SEKISHO" ledger --state "$STATE" --policy "$T/policy.yaml" add assets --field name=住民記録 \
	--field 種別=システム --field section=総務課 --field manager=山田 --field 機密性=3A \
	--field 完全性=2 --field 可用性=2 --field zone=lgwan > "$T/asset.id" 2> "$T/asset.err"
ok $? "an asset of 機密性3A is in the ledger ($(cat "$T/asset.id"))"
chown -R sekisho "$STATE"

"$SEKISHOD" --foreground --policy "$T/policy.yaml" --state "$STATE" --user sekisho \
	--events "json:$T/events.jsonl" > "$T/sekishod.err" 2>&1 &
MASTER=$!
wait_for 30 test -S "$SOCK"
ok $? "sekishod's milter role listens"

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

send() { # send NAME FILE: through Postfix (and so the milter)
	swaks --server 127.0.0.1:$PORT --from staff@lg.test.example --to u@lg.test.example \
		--data "$2" > "$T/swaks-$1.log" 2>&1
}
decisions() { # the milter's decision events so far
	[ -f "$T/events.jsonl" ] && grep -c '"event":"decision".*"channel":"mail"' "$T/events.jsonl"
}
at_least() { [ "$(decisions)" -ge "$1" ]; }

# a mail with the EICAR test file attached (as text: clamd matches its bytes or its MD5)
{
	printf 'From: staff@lg.test.example\nTo: u@lg.test.example\nSubject: eicar\n'
	printf 'Message-ID: <inc1@lg.test.example>\nMIME-Version: 1.0\n'
	printf 'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\n'
	printf 'Content-Type: text/plain; charset=UTF-8\n\n資料を送ります。\n--b1\n'
	printf 'Content-Type: text/plain; name="eicar.txt"\n'
	printf 'Content-Disposition: attachment; filename="eicar.txt"\n\n'
	cat "$T/eicar.txt"
	printf '\n--b1--\n'
} > "$T/m-eicar.eml"
# a mail with a valid 個人番号 in its body
printf 'From: staff@lg.test.example\nTo: u@lg.test.example\nSubject: mynumber\nMessage-ID: <inc2@lg.test.example>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n申請者 山田\n個人番号: 3847-5629-1044\n' > "$T/m-myn.eml"
# a clean one
printf 'From: staff@lg.test.example\nTo: u@lg.test.example\nSubject: clean\nMessage-ID: <inc3@lg.test.example>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n会議は10時からです。\n' > "$T/m-clean.eml"
send eicar "$T/m-eicar.eml"
ok $? "swaks: the EICAR mail accepted by Postfix"
wait_for 60 at_least 1
send myn "$T/m-myn.eml"
ok $? "swaks: the 個人番号 mail accepted"
wait_for 60 at_least 2
send clean "$T/m-clean.eml"
ok $? "swaks: the clean mail accepted"
wait_for 60 at_least 3
ok $? "three decisions by the milter ($(decisions))"

"$SEKISHO" quarantine list --state "$STATE" --json > "$T/q.jsonl" 2> "$T/q.err"
"$SEKISHO" ledger list incidents --state "$STATE" --policy "$T/policy.yaml" --json > "$T/inc.jsonl" 2> "$T/inc.err"
sed 's/^/# quarantine: /' "$T/q.jsonl" | cut -c1-300
sed 's/^/# incident: /' "$T/inc.jsonl" | cut -c1-300
# check WHAT REASON SEVERITY: the quarantined message blocked REASON and its one incident
python3 - "$T/q.jsonl" "$T/inc.jsonl" > "$T/check.out" <<'PY'
import json, sys
def rows(p):
    out = []
    for l in open(p, encoding="utf-8"):
        l = l.strip()
        if not l:
            continue
        v = json.loads(l)
        out.extend(v if isinstance(v, list) else [v])
    return out
q = rows(sys.argv[1])
inc = rows(sys.argv[2])
def item(reason):
    m = [r for r in q if r.get("reason") == reason]
    return m[0]["id"] if len(m) == 1 else None
res = {}
for reason, sev in (("malware", "high"), ("dlp", "medium")):
    qid = item(reason)
    linked = [i for i in inc if qid and i.get("item") == qid]
    ok = (qid is not None and len(linked) == 1 and linked[0].get("severity") == sev and
          linked[0].get("found_by") == "sekisho" and linked[0].get("state") == "open")
    print("%s %s %s %d" % (reason, "ok" if ok else "bad", qid, len(linked)))
print("incidents %d items %d" % (len(inc), len(q)))
PY
sed 's/^/# /' "$T/check.out"
grep -q '^malware ok ' "$T/check.out"
ok $? "the EICAR mail: quarantined (malware) and one incident, severity high, its item the quarantine id"
grep -q '^dlp ok ' "$T/check.out"
ok $? "the 個人番号 mail: quarantined (dlp) and one incident, severity medium, its item the quarantine id"
grep -q '^incidents 2 ' "$T/check.out"
ok $? "two incidents in all: the clean mail opened none"

# ---- the asset marking in a mail body: 機密性3A denies lgwan -> internet; unmarked: held
printf 'From: staff@lg.test.example\nTo: u@lg.test.example\nSubject: marked\nMessage-ID: <inc4@lg.test.example>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n資料を送ります。\n資産番号: AS-0001\n' > "$T/m-asset.eml"
send asset "$T/m-asset.eml"
ok $? "swaks: the mail marked 資産番号: AS-0001 accepted"
wait_for 60 at_least 4
"$SEKISHO" quarantine list --state "$STATE" --json > "$T/q2.jsonl" 2>/dev/null
# the new row, and the clean (unmarked) mail's row
python3 - "$T/q.jsonl" "$T/q2.jsonl" > "$T/asset.out" <<'PY'
import json, sys
def rows(p):
    out = []
    for l in open(p, encoding="utf-8"):
        if l.strip():
            v = json.loads(l)
            out.extend(v if isinstance(v, list) else [v])
    return out
before = {r["id"] for r in rows(sys.argv[1])}
for r in rows(sys.argv[2]):
    if r["id"] not in before:
        print("marked", r["id"], r.get("verdict"), r.get("reason"))
    elif r.get("reason") not in ("malware", "dlp"):
        print("unmarked", r["id"], r.get("verdict"), r.get("reason"))
PY
sed 's/^/# /' "$T/asset.out"
MID=$(awk '$1 == "marked" {print $2}' "$T/asset.out")
grep -q '^marked .* policy-deny$' "$T/asset.out" &&
	"$SEKISHO" quarantine --state "$STATE" --lang en show "$MID" 2>/dev/null |
	grep -q 'classification 機密性 >= 3A (asset AS-0001: 機密性:3A'
ok $? "the marked mail: blocked policy-deny, the rule naming the asset and its class ($MID)"
grep -q '^unmarked .* held$' "$T/asset.out"
ok $? "the same flow unmarked (the clean mail): held for approval (機密性2 by default): the marking changed the verdict"
"$SEKISHO" audit --state "$STATE" list --json 2>/dev/null | grep '"action":"mail"' | grep -q 'asset AS-0001'
ok $? "the audit record of the marked mail names the asset"

sekishod_term
rc=$?
ok $rc "SIGTERM: sekishod exits 0"
"$SEKISHO" audit --state "$STATE" verify > /dev/null 2>&1
ok $? "the audit log verifies"
done_testing
