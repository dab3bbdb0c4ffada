#!/usr/bin/env bash
# sekishod with full disks (TAP): the delivery folder and then the state folder on small
# tmpfs mounts. Nothing accepted is lost: a file that cannot be finished stays in the drop
# folder (its original in quarantine, the failure on record) and is finished once there is
# room again. Also: the spool role's engine runs in a live sandboxed worker.
#   daemon_disk.sh SEKISHOD SEKISHO SOURCE_ROOT
set -u
SEKISHOD=$1
SEKISHO=$2
ROOT=$3
. "$(dirname "$0")/tap.sh"
export LC_ALL=C.UTF-8

if [ "$(id -u)" -ne 0 ] || ! getent passwd sekisho >/dev/null; then
	echo "1..0 # SKIP needs root (tmpfs mounts) and the user sekisho"
	exit 0
fi

T=$(mktemp -d /tmp/sekishod-disk.XXXXXX)
chmod 755 "$T"
MASTER=""
MOUNTS=()
cleanup() {
	if [ -n "$MASTER" ] && kill -0 "$MASTER" 2>/dev/null; then
		kill -9 "$MASTER" 2>/dev/null
		wait "$MASTER" 2>/dev/null
	fi
	for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap "" EXIT

EV=$T/events.jsonl
STATE=$T/state
IN=$T/spool/in
mkdir -p "$IN/drop" "$IN/deliver" "$STATE"
# an operator's drop folder that sekishod's user cannot write: refused with a flow-error
chmod 755 "$IN/drop"
SU=$(id -u sekisho) SG=$(id -g sekisho)
mount -t tmpfs -o "size=1m,mode=0755,uid=$SU,gid=$SG" tmpfs "$IN/deliver" && MOUNTS+=("$IN/deliver")
ok $? "the delivery folder is a 1 MiB tmpfs"

sed '/^gateway:/,$d' "$ROOT/examples/policy/default.yaml" >"$T/policy.yaml"
cat >>"$T/policy.yaml" <<EOF
gateway:
  workers: 1
  spool:
    - {id: in, from: internet, to: lgwan, drop: $IN/drop, deliver: $IN/deliver}
EOF

count_events() { # count_events KEY=VALUE...
	python3 - "$EV" "$@" <<'PY'
import json, sys
want = dict(a.split("=", 1) for a in sys.argv[2:])
n = 0
for l in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(l)
    n += all(str(e.get(k)) == v for k, v in want.items())
print(n)
PY
}
has_events() { [ "$(count_events "$@")" -gt 0 ]; }

"$SEKISHOD" --foreground --policy "$T/policy.yaml" --state "$STATE" --user sekisho \
	--events "json:$EV" >>"$T/stderr" 2>&1 &
MASTER=$!
wait_for 20 role_pid spool
ok $? "sekishod started"
SPOOL=$(role_pid spool)
wait_for 20 has_events event=flow-error flow=in
ok $? "a drop folder sekishod's user cannot write: flow-error (nothing processed twice)"
printf 'a,b\n1,2\n' >"$IN/drop/early.csv"
sleep 1
[ ! -e "$IN/deliver/early.csv" ]
ok $? "... no file is processed from it"
chown sekisho:sekisho "$IN/drop"
wait_for 30 test -e "$IN/deliver/early.csv"
ok $? "writable: the flow starts (retry) and the waiting file is delivered"
wait_for 10 test ! -e "$IN/drop/early.csv"
ok $? "... and removed from the drop folder"

# the live sandbox: the spool role's worker
printf 'a,b\n1,2\n' >"$IN/drop/first.csv"
wait_for 20 test -e "$IN/deliver/first.csv"
ok $? "a small file is delivered"
W=$(pgrep -P "$SPOOL" | head -n 1)
[ -n "$W" ] && [ "$(cat /proc/"$W"/comm)" = "sekisho-worker" ] &&
	grep -q '^Seccomp:[[:space:]]*2' /proc/"$W"/status &&
	grep -q '^NoNewPrivs:[[:space:]]*1' /proc/"$W"/status &&
	[ "$(awk '/^Uid:/ {print $2}' /proc/"$W"/status)" != 0 ]
ok $? "the spool role's engine is a sandboxed worker (Seccomp 2, NoNewPrivs 1, not root)"

# ---- a full delivery folder
python3 -c '
import sys
with open(sys.argv[1], "w") as f:
    for i in range(60000): f.write("行 %d,本文です,=1+2\n" % i)
' "$T/big.csv"
cp "$T/big.csv" "$IN/drop/.big.csv.part" && mv "$IN/drop/.big.csv.part" "$IN/drop/big.csv"
wait_for 30 has_events event=spool-error name=big.csv
ok $? "a file too big for the delivery folder: spool-error (will retry)"
[ -e "$IN/drop/big.csv" ] && [ ! -e "$IN/deliver/big.csv" ] &&
	[ -z "$(find "$IN/deliver" -name '*.sekisho-tmp.*')" ]
ok $? "... it stays in the drop folder; nothing partial in the delivery folder"
"$SEKISHO" audit list --state "$STATE" --json >"$T/audit.json" 2>/dev/null
grep -q 'blocked internal-error.*No space left on device' "$T/audit.json"
ok $? "... the failed attempt is on record in the audit log (blocked, no space left)"
mount -o remount,size=20m "$IN/deliver"
wait_for 60 test -e "$IN/deliver/big.csv"
ok $? "room again: the file is delivered on the retry"
wait_for 10 test ! -e "$IN/drop/big.csv"
ok $? "... and removed from the drop folder"
[ "$(wc -l <"$IN/deliver/big.csv")" -eq 60000 ] && grep -q "^行 5,本文です,'=1+2" "$IN/deliver/big.csv"
ok $? "... whole (60,000 lines) and sanitised (formula cells neutralised)"

# ---- a full state folder: stop, move the state onto a small tmpfs, start again
kill -TERM "$MASTER"
wait "$MASTER"
ok $? "SIGTERM: clean stop"
MASTER=""
mv "$STATE" "$T/state.old"
mkdir "$STATE"
mount -t tmpfs -o "size=2m,mode=0700,uid=$SU,gid=$SG" tmpfs "$STATE" && MOUNTS+=("$STATE")
cp -a "$T/state.old/." "$STATE/"
ok $? "the state folder is now a 2 MiB tmpfs holding the state"
"$SEKISHOD" --foreground --policy "$T/policy.yaml" --state "$STATE" --user sekisho \
	--events "json:$EV" >>"$T/stderr" 2>&1 &
MASTER=$!
wait_for 20 role_pid spool
ok $? "sekishod started again"
# fill what is left of the state folder
dd if=/dev/zero of="$STATE/filler" bs=64k 2>/dev/null
printf 'x,y\n3,4\n' >"$IN/drop/late.csv"
wait_for 30 has_events event=spool-error name=late.csv
ok $? "a file arriving on a full state folder: not finished (spool-error, will retry)"
[ -e "$IN/drop/late.csv" ] && [ ! -e "$IN/deliver/late.csv" ]
ok $? "... it stays in the drop folder and nothing is delivered unrecorded"
rm -f "$STATE/filler"
wait_for 60 test -e "$IN/deliver/late.csv"
ok $? "room again: it is delivered on the retry"
wait_for 10 test ! -e "$IN/drop/late.csv"
ok $? "... and removed from the drop folder"
kill -TERM "$MASTER"
wait "$MASTER"
ok $? "SIGTERM: clean stop"
MASTER=""
"$SEKISHO" audit verify --state "$STATE" --json >"$T/verify.json" 2>/dev/null
grep -q '"verdict":"ok"' "$T/verify.json" && grep -q '"unsigned_records":0' "$T/verify.json"
ok $? "audit verify: ok, every record signed"
"$SEKISHO" audit list --state "$STATE" --json >"$T/audit2.json" 2>/dev/null
n=$(grep -c '"action":"sanitize"' "$T/audit2.json")
[ "$n" -ge 3 ]
ok $? "decisions on record for every file ($n sanitize records)"
done_testing
