#!/usr/bin/env bash
# sekishod's scheduler role sends the ledgers' reminders by mail (TAP): at start (and once a
# day), through a fake sendmail that keeps each message and its recipients; to the policy's
# users whose roles carry ledger-all and have a mail address, and for an exception also its
# requester when they are a user with mail; Japanese with English below; each reminder once
# (a restart sends nothing again), again when its date changes, and a failed one again later.
#   daemon_remind.sh SEKISHOD SEKISHO SOURCE_ROOT
# As root the roles run as the user sekisho. Everything started here is stopped on exit.
set -u
SEKISHOD=$1
SEKISHO=$2
ROOT=$3
. "$(dirname "$0")/tap.sh"
export LC_ALL=C.UTF-8

T=$(mktemp -d /tmp/sekishod-remind.XXXXXX)
chmod 755 "$T"
MASTER=""
stop() {
	if [ -n "$MASTER" ] && kill -0 "$MASTER" 2>/dev/null; then
		kill -TERM "$MASTER" 2>/dev/null
		wait "$MASTER" 2>/dev/null
	fi
	MASTER=""
}
cleanup() {
	if [ -n "$MASTER" ] && kill -0 "$MASTER" 2>/dev/null; then
		kill -9 "$MASTER" 2>/dev/null
		wait "$MASTER" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
USEROPT=()
[ "$(id -u)" -eq 0 ] && getent passwd sekisho >/dev/null && USEROPT=(--user sekisho)

EV=$T/events.jsonl
ST=$T/state
# the fake sendmail: each message in $T/mail (m.N.eml and its recipients m.N.rcpt); it
# fails while $T/mail/fail exists
mkdir -p "$T/mail"
chmod 0777 "$T/mail"
cat >"$T/sendmail" <<EOF
#!/bin/sh
[ -e "$T/mail/fail" ] && exit 75
f=\$(mktemp "$T/mail/m.XXXXXX") || exit 75
[ "\$1" = -oi ] && [ "\$2" = -- ] || exit 64
shift 2
printf '%s\n' "\$@" >"\$f.rcpt"
cat >"\$f.eml"
chmod 0644 "\$f.rcpt" "\$f.eml"
EOF
chmod 0755 "$T/sendmail"

sed '/^gateway:/,$d; /^users:/,/^$/d' "$ROOT/examples/policy/default.yaml" >"$T/policy.yaml"
cat >>"$T/policy.yaml" <<EOF
users:
  - { id: kacho, name: 情報政策課長, roles: [security-director], section: johoseisaku, mail: kacho@city.example.lg.jp }
  - { id: ciso01, roles: [ciso], mail: ciso@city.example.lg.jp }
  - { id: tanto, name: システム担当, roles: [sysadmin], mail: tanto@city.example.lg.jp }
  - { id: nomail, roles: [security-director] }
gateway:
  workers: 1
  sendmail: $T/sendmail
  console_url: https://console.example.lg.jp/
EOF

L() { "$SEKISHO" ledger --state "$ST" --policy "$T/policy.yaml" --by tanaka "$@" >/dev/null 2>>"$T/cli.err"; }
start() {
	"$SEKISHOD" --foreground --policy "$T/policy.yaml" --state "$ST" "${USEROPT[@]}" \
		--events "json:$EV" >>"$T/stderr" 2>&1 &
	MASTER=$!
}
# events NAME: how many events of that name
events() { python3 - "$EV" "$1" <<'PY'
import json, sys
try:
    ev = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
except FileNotFoundError:
    ev = []
print(sum(1 for e in ev if e.get("event") == sys.argv[2]))
PY
}
rounds_are() { [ "$(events reminders)" -eq "$1" ]; }
mails() { ls "$T/mail" | grep -c '\.eml$'; }
# the mails as "RECIPIENTS<TAB>SUBJECT<TAB>BODY" lines (decoded), oldest first
decode() { python3 - "$T/mail" <<'PY'
import email, email.header, email.policy, glob, os, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.eml"), key=os.path.getmtime):
    m = email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default)
    rcpt = ",".join(sorted(open(f[:-4] + ".rcpt").read().split()))
    body = m.get_content().replace("\n", "\\n")
    print(f"{rcpt}\t{m['subject']}\t{body}")
PY
}

# the ledgers before the daemon starts (the master gives the state folder to its user)
printf '%s\n' 'Kx9#vq2!Lm7@pz' | "$SEKISHO" user --state "$ST" --policy "$T/policy.yaml" add yamada \
	--role staff --section somu --mail yamada@city.example.lg.jp --by admin >/dev/null 2>&1
L add exceptions --field "what=USB メモリの使用" --field why=災害対応 --field requested_by=yamada \
	--field approved_by=情報政策課長 --field from=2026-01-01 --field "until=$(date -d '+5 days' +%F)" &&
	L add exceptions --field what=私物端末 --field why=試行 --field requested_by=システム担当 \
		--field approved_by=情報政策課長 --field from=2025-01-01 --field until=2025-02-01 &&
	L add exceptions --field what=遠い先 --field why=試行 --field requested_by=yamada \
		--field approved_by=情報政策課長 --field from=2025-01-01 --field "until=$(date -d '+60 days' +%F)" &&
	L add inspections/findings --field finding=入退室の記録がない --field owner=総務課長 \
		--field "due=$(date -d '-3 days' +%F)" --field state=open &&
	L add assets --field name=住民記録システム --field kind=system --field section=somu --field manager=山田 \
		--field confidentiality=3A --field integrity=2 --field availability=2 --field zone=mynumber \
		--field "review=$(date -d '-1 days' +%F)"
ok $? "the ledgers: three exceptions, an overdue finding, an asset past review"

start
wait_for 30 rounds_are 1
ok $? "the scheduler's first round at start"
[ "$(mails)" -eq 4 ]
ok $? "four reminders sent (the exception 60 days ahead not yet)"
decode >"$T/mails.txt"
grep -q "^ciso@city.example.lg.jp,kacho@city.example.lg.jp,yamada@city.example.lg.jp	\[sekisho\] 台帳: 例外措置の期限が近づいています (EX-0001) / Ledger: an exception expires soon	" "$T/mails.txt"
ok $? "the expiring exception: to the ledger-all users with mail and its requester (a console user)"
grep -q "^ciso@city.example.lg.jp,kacho@city.example.lg.jp,tanto@city.example.lg.jp	\[sekisho\] 台帳: 例外措置の期限が切れました (EX-0002)" "$T/mails.txt"
ok $? "the expired exception: its requester found by the policy's user name"
grep -q "^ciso@city.example.lg.jp,kacho@city.example.lg.jp	\[sekisho\] 台帳: 指摘事項が期限を過ぎています (IF-0001)" "$T/mails.txt" &&
	grep -q "^ciso@city.example.lg.jp,kacho@city.example.lg.jp	\[sekisho\] 台帳: 情報資産の見直し日を過ぎています (AS-0001)" "$T/mails.txt"
ok $? "the finding and the asset: to the ledger-all users with mail only"
! grep -q "nomail" "$T/mails.txt" && [ "$(grep -c "tanto@" "$T/mails.txt")" -eq 1 ]
ok $? "nobody else (a ledger-section role, a user without mail)"
grep "EX-0001" "$T/mails.txt" >"$T/m1"
grep -q "例外措置 EX-0001「USB メモリの使用」の期限 $(date -d '+5 days' +%F) が近づいています (あと 5 日)。" "$T/m1" &&
	grep -q '\\n-* English\\n.*Exception EX-0001 "USB メモリの使用" expires on' "$T/m1" &&
	grep -q "画面: https://console.example.lg.jp/#/ledgers/exceptions/EX-0001" "$T/m1"
ok $? "the body: Japanese first, English below, the console's address"

# a restart: the round at start finds nothing new
stop
start
wait_for 30 rounds_are 2
ok $? "the round after a restart"
[ "$(mails)" -eq 4 ]
ok $? "each reminder was sent once (nothing again)"

# a changed date reminds again; a failed mail is sent the next time
stop
L update exceptions EX-0001 --field "until=$(date -d '+7 days' +%F)" &&
	L add inspections/findings --field finding=研修の未実施 --field owner=総務課長 \
		--field "due=$(date -d '-1 days' +%F)" --field state=open
ok $? "EX-0001 extended; a new overdue finding"
touch "$T/mail/fail"
start
wait_for 30 rounds_are 3
ok $? "a round while sendmail fails"
[ "$(mails)" -eq 4 ] && [ "$(events remind-error)" -ge 2 ]
ok $? "nothing delivered, each failure an event"
"$SEKISHO" audit list --state "$ST" --json 2>/dev/null | grep -q '"actor":"sekisho","action":"notify","object":"inspections/findings/IF-0002","result":"failed"'
ok $? "the failure is in the audit log"
stop
rm -f "$T/mail/fail"
start
wait_for 30 rounds_are 4
ok $? "the next round"
decode >"$T/mails.txt"
[ "$(mails)" -eq 6 ] && [ "$(grep -c "(EX-0001)" "$T/mails.txt")" -eq 2 ] &&
	[ "$(grep -c "(IF-0002)" "$T/mails.txt")" -eq 1 ]
ok $? "the extended exception reminded again, the failed one sent now (once each)"
stop
[ -z "$(pgrep -f "sekishod.*$T" || true)" ]
ok $? "the daemon stopped"
done_testing
