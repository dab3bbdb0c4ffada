#!/bin/sh
# The audit log through the command line (TAP): append/list/verify, tamper through the
# SQLite file with the sqlite3 tool, anchors (file, and syslog RFC 5424 over a unix
# socket this test makes), and an independent check in Python of the proofs (RFC 9162
# algorithms) and of the checkpoint signature (C2SP signed note, Ed25519).
set -u
S=${SEKISHO:?}
T=$(mktemp -d /tmp/sk-acli-XXXXXX)
trap 'kill "$lpid" 2>/dev/null; rm -rf "$T"' EXIT
lpid=
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }
A() { "$S" audit --state "$T/st" "$@"; }

i=0
while [ $i -lt 30 ]; do
	A append --actor "op$i" --action manual --object "room-$i" --detail "entry $i" --checkpoint-every 8 >/dev/null || break
	i=$((i + 1))
done
check "30 manual records appended" '[ $i -eq 30 ]'
check "list shows them (English header)" '[ "$(A --lang en list | grep -c "	manual	")" -eq 30 ] && A --lang en list | head -1 | grep -q "^# seq"'
check "list is Japanese by default" 'LANG=ja_JP.UTF-8 LC_ALL= A list | head -1 | grep -q "実行者"'
check "list --since a future date is empty" '[ "$(A --lang en list --since 2999-01-01 | wc -l)" -eq 1 ]'
check "list --since 2000-01-01 has all" '[ "$(A --lang en list --since 2000-01-01 | wc -l)" -eq 31 ]'

# times: shown in the local zone (TZ; JST without it) with the zone written; --since and
# --until without a zone are local times. The records' instants come from the JSON (UTC).
unset TZ
T0=$(A list --json | head -1 | python3 -c 'import json,sys,datetime; print(int(datetime.datetime.strptime(json.loads(sys.stdin.readline())["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()))')
TN=$(A list --json | tail -1 | python3 -c 'import json,sys,datetime; print(int(datetime.datetime.strptime(json.loads(sys.stdin.readline())["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()))')
wall() { TZ=$1 date -d "@$2" +%Y-%m-%dT%H:%M:%S; } # ZONE EPOCH: the wall clock there
day() { TZ=$1 date -d "@$2" +%Y-%m-%d; }
count() { A --lang en list "$@" | grep -c "	manual	"; }
if [ -e /usr/share/zoneinfo/Asia/Tokyo ] && [ -e /usr/share/zoneinfo/UTC ]; then
	check "TZ=Asia/Tokyo: list shows the first record's time in JST" '[ "$(TZ=Asia/Tokyo A --lang en list | sed -n 2p | cut -f2)" = "$(TZ=Asia/Tokyo date -d "@$T0" "+%Y-%m-%d %H:%M:%S") JST" ]'
	check "TZ=UTC: list shows it in UTC, with the zone written" '[ "$(TZ=UTC A --lang en list | sed -n 2p | cut -f2)" = "$(date -u -d "@$T0" "+%Y-%m-%d %H:%M:%S") UTC" ]'
	for z in Asia/Tokyo UTC; do
		check "TZ=$z: --since a local time a minute before the first record lists all 30" '[ "$(TZ=$z count --since "$(wall $z $((T0 - 60)))")" -eq 30 ]'
		check "TZ=$z: --since a local time a minute after the last lists none" '[ "$(TZ=$z count --since "$(wall $z $((TN + 60)))")" -eq 0 ]'
		check "TZ=$z: --until a minute after the last lists all, a minute before the first none" '[ "$(TZ=$z count --until "$(wall $z $((TN + 60)))")" -eq 30 ] && [ "$(TZ=$z count --until "$(wall $z $((T0 - 60)))")" -eq 0 ]'
		check "TZ=$z: --until the local date includes that day, the day before does not" '[ "$(TZ=$z count --until "$(day $z "$TN")")" -eq 30 ] && [ "$(TZ=$z count --until "$(day $z $((T0 - 86400)))")" -eq 0 ]'
	done
	check "a time with its zone is that instant whatever TZ says" '[ "$(TZ=Asia/Tokyo count --since "$(date -u -d "@$((T0 - 60))" +%Y-%m-%dT%H:%M:%SZ)")" -eq 30 ] && [ "$(TZ=UTC count --since "$(TZ=Asia/Tokyo date -d "@$((TN + 60))" +%Y-%m-%dT%H:%M:%S+09:00)")" -eq 0 ]'
else
	ok "TZ=Asia/Tokyo and TZ=UTC # SKIP tzdata not installed"
fi
check "no TZ: JST, the project's zone" '[ "$(A --lang en list | sed -n 2p | cut -f2)" = "$(TZ=JST-9 date -d "@$T0" "+%Y-%m-%d %H:%M:%S") JST" ] && [ "$(count --since "$(wall JST-9 $((T0 - 60)))")" -eq 30 ] && [ "$(count --since "$(wall JST-9 $((TN + 60)))")" -eq 0 ]'
check "a POSIX zone without tzdata (TZ=XYZ5): its name and its wall clock" '[ "$(TZ=XYZ5 A --lang en list | sed -n 2p | cut -f2)" = "$(TZ=XYZ5 date -d "@$T0" "+%Y-%m-%d %H:%M:%S") XYZ" ] && [ "$(TZ=XYZ5 count --since "$(wall XYZ5 $((T0 - 60)))")" -eq 30 ]'
check "a bad --until is refused in both languages (exit 2)" 'A --lang en list --until 2026-13-01 2>"$T/e" >/dev/null; [ $? -eq 2 ] && grep -q "bad time" "$T/e" && A --lang ja list --until yesterday 2>"$T/e" >/dev/null; [ $? -eq 2 ] && grep -q "日時が不正です" "$T/e"'
check "untouched log verifies" 'A --lang en verify | grep -q "^OK: 30 records"'
check "append without --object is a usage error (exit 2)" 'A append --actor a --action b >/dev/null 2>&1; [ $? -eq 2 ]'
check "key file is 0600" '[ "$(stat -c %a "$T/st/audit.key")" = 600 ]'

# a checkpoint, its signature checked by Python's cryptography package
A checkpoint >"$T/cp"
A key >"$T/vkey"
cat >"$T/note.py" <<'PY'
import base64, hashlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
note = open(sys.argv[1], "rb").read()
vkey = open(sys.argv[2]).read().strip()
name, keyid, key = vkey.split("+", 2)
raw = base64.b64decode(key)
assert raw[0] == 1
pub = raw[1:]
assert hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4].hex() == keyid
text, sigs = note.rsplit(b"\n\n", 1)
text += b"\n"
line = sigs.decode().strip()
assert line.startswith("\u2014 " + name + " ")
blob = base64.b64decode(line.split(" ")[2])
assert blob[:4].hex() == keyid
Ed25519PublicKey.from_public_bytes(pub).verify(blob[4:], text)
lines = text.decode().split("\n")
assert lines[0] == name
print(lines[1], lines[2])
PY
check "checkpoint signature verifies independently (Python cryptography)" 'python3 "$T/note.py" "$T/cp" "$T/vkey" >"$T/cpv"'
size=$(cut -d' ' -f1 "$T/cpv") root=$(cut -d' ' -f2 "$T/cpv")
check "checkpoint covers the 30 records" '[ "$size" = 30 ]'

# proofs, checked with the RFC 9162 algorithms written again in Python
cat >"$T/proof.py" <<'PY'
import base64, hashlib, sys
def node(l, r): return hashlib.sha256(b"\x01" + l + r).digest()
def incl(leaf, index, size, path, root):
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while fn and not fn & 1: fn >>= 1; sn >>= 1
        else: r = node(r, p)
        fn >>= 1; sn >>= 1
    return sn == 0 and r == root
def cons(m, n, path, r1, r2):
    if m == n: return not path and r1 == r2
    if m & (m - 1) == 0: path = [r1] + path
    fn, sn = m - 1, n - 1
    while fn & 1: fn >>= 1; sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while fn and not fn & 1: fn >>= 1; sn >>= 1
        else: sr = node(sr, c)
        fn >>= 1; sn >>= 1
    return sn == 0 and fr == r1 and sr == r2
out = open(sys.argv[1]).read().split("\n")
head = out[0].split()
vals = {}
path = []
for l in out[1:]:
    if not l: continue
    k, v = l.split(" ")
    if k == "proof": path.append(base64.b64decode(v))
    else: vals[k] = base64.b64decode(v)
want_root = base64.b64decode(sys.argv[2]) if len(sys.argv) > 2 else vals["root"]
if head[0] == "inclusion":
    ok = incl(vals["leaf"], int(head[1]), int(head[2]), path, want_root)
else:
    ok = cons(int(head[1]), int(head[2]), path, vals["old-root"], want_root)
sys.exit(0 if ok else 1)
PY
allp=0
for s in 0 1 7 8 13 29; do
	A proof inclusion $s >"$T/p" && python3 "$T/proof.py" "$T/p" "$root" || allp=1
done
check "inclusion proofs verify against the signed root (Python, RFC 9162)" '[ $allp -eq 0 ]'
# the leaf hash is SHA-256(0x00 || canonical record bytes) of the stored record
lh=$(A proof inclusion 13 | awk '$1 == "leaf" { print $2 }')
sqlite3 "$T/st/audit.db" "SELECT hex(leaf) FROM records WHERE seq = 13" >"$T/leafhex"
check "leaf hash is SHA-256(0x00 || record bytes)" '[ "$(python3 -c "import hashlib,base64,sys; print(base64.b64encode(hashlib.sha256(b\"\\x00\" + bytes.fromhex(open(sys.argv[1]).read().strip())).digest()).decode())" "$T/leafhex")" = "$lh" ]'
allc=0
for pair in "1 30" "8 30" "29 30" "30 30"; do
	A proof consistency $pair >"$T/p" && python3 "$T/proof.py" "$T/p" "$root" || allc=1
done
# between two older sizes: against the root the proof states, which must be the one of
# the older checkpoint signed at 16
A proof consistency 9 16 >"$T/p" && python3 "$T/proof.py" "$T/p" || allc=1
r16=$(sqlite3 "$T/st/audit.db" "SELECT note FROM checkpoints WHERE size = 17" | sed -n 3p)
A proof consistency 9 17 >"$T/p" && python3 "$T/proof.py" "$T/p" "$r16" || allc=1
check "consistency proofs verify (Python, RFC 9162)" '[ $allc -eq 0 ]'
check "a proof beyond the log is refused" '! A proof inclusion 30 >/dev/null 2>&1'

# anchors: a file, and syslog over a unix datagram socket
sock="$T/syslog.sock"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2], "wb").write(s.recv(65536))
' "$sock" "$T/syslog.msg" &
lpid=$!
k=0
while [ ! -S "$sock" ] && [ $k -lt 50 ]; do sleep 0.1; k=$((k + 1)); done
check "checkpoint anchored to a file and to syslog" 'A checkpoint --anchor-file "$T/anchor.txt" --anchor-syslog "unix:$sock" >/dev/null'
wait "$lpid" 2>/dev/null
lpid=
check "syslog message is RFC 5424 with the checkpoint" 'head -c 8 "$T/syslog.msg" | grep -q "^<109>1 " && grep -q "sekisho [0-9]* checkpoint \[checkpoint@32473 origin=\"[^\"]*\" size=\"30\" root=\"$root\"\]" "$T/syslog.msg"'
python3 -c '
import sys
m = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(m.split(b"\xef\xbb\xbf", 1)[1])
' "$T/syslog.msg" "$T/from-syslog.txt"
check "the note from syslog is the anchor file's" 'cmp -s "$T/from-syslog.txt" "$T/anchor.txt"'
check "verify --anchor passes on the intact log" 'A --lang en verify --anchor "$T/from-syslog.txt" | grep -q "anchor included"'

# tamper through the SQLite file with the sqlite3 tool
cp -r "$T/st" "$T/orig"
restore() { rm -rf "$T/st" && cp -r "$T/orig" "$T/st"; }
sqlite3 "$T/st/audit.db" "UPDATE records SET leaf = CAST(replace(CAST(leaf AS TEXT), 'entry 12', 'entry 13') AS BLOB) WHERE seq = 12"
A --lang en verify >"$T/v"
check "one changed byte: verify fails (exit 1) and names record 12" '[ $? -eq 1 ] && grep -q "^FAILED: record modified: record 12$" "$T/v"'
restore
sqlite3 "$T/st/audit.db" "DELETE FROM records WHERE seq = 4"
check "a deleted record is named" 'A --lang en verify | grep -q "^FAILED: record deleted: record 4$"'
restore
sqlite3 "$T/st/audit.db" "UPDATE records SET seq = -1 WHERE seq = 20; UPDATE records SET seq = 20 WHERE seq = 21; UPDATE records SET seq = 21 WHERE seq = -1"
check "two swapped records are named" 'A --lang en verify | grep -q "^FAILED: record moved or swapped: record 20$"'
restore
sqlite3 "$T/st/audit.db" "DELETE FROM records WHERE seq >= 25; DELETE FROM checkpoints WHERE size > 25"
check "truncated log: consistent on its own" 'A verify >/dev/null'
check "truncated below the anchored checkpoint: verify --anchor names record 25" 'A --lang en verify --anchor "$T/anchor.txt" | grep -q "^FAILED: log truncated: records 25..29$"'
check "truncation in Japanese" 'LANG=ja_JP.UTF-8 LC_ALL= A verify --anchor "$T/anchor.txt" | grep -q "^異常: ログの末尾が削除されています: 記録 25〜29$"'
restore
# every `audit append` signs a checkpoint before it exits: the one of size 17 vouches for
# record 16 alone (the one of size 16 covers the rest)
sqlite3 "$T/st/audit.db" "UPDATE checkpoints SET note = replace(note, substr(note, length(note) - 20, 8), 'AAAAAAAA') WHERE size = 17"
check "a replaced checkpoint signature is named" 'A --lang en verify | grep -q "^FAILED: checkpoint signature invalid: record 16$"'
restore
sqlite3 "$T/st/audit.db" "DELETE FROM checkpoints WHERE size >= 9 AND size <= 16; UPDATE checkpoints SET note = replace(note, substr(note, length(note) - 20, 8), 'AAAAAAAA') WHERE size = 17"
check "a replaced signature names the records only it vouched for" 'A --lang en verify | grep -q "^FAILED: checkpoint signature invalid: records 8..16$"'
restore
check "the restored copy verifies again" 'A verify --anchor "$T/anchor.txt" >/dev/null'

# ---- the unsigned tail ----
# rewrite.py DB SEQ OLD NEW: changes a record in place (same length) and recomputes its
# leaf hash and every stored subtree hash, as someone with write access to the file can
cat >"$T/rewrite.py" <<'PY'
import hashlib, sqlite3, sys
db, seq, old, new = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4].encode()
c = sqlite3.connect(db)
leaf = bytes(c.execute("SELECT leaf FROM records WHERE seq=?", (seq,)).fetchone()[0])
assert old in leaf and len(old) == len(new)
leaf = leaf.replace(old, new)
c.execute("UPDATE records SET leaf=?, hash=? WHERE seq=?",
          (leaf, hashlib.sha256(b"\x00" + leaf).digest(), seq))
hs = [bytes(r[0]) for r in c.execute("SELECT hash FROM records ORDER BY seq")]
c.execute("DELETE FROM nodes")
level = 1
while len(hs) >= 2:
    hs = [hashlib.sha256(b"\x01" + hs[2 * i] + hs[2 * i + 1]).digest() for i in range(len(hs) // 2)]
    c.executemany("INSERT INTO nodes(level, idx, hash) VALUES(?,?,?)",
                  [(level, i, h) for i, h in enumerate(hs)])
    level += 1
c.commit()
PY
jf() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print("null" if v is None else v)' "$@"; }
B() { "$S" audit --state "$T/tail" "$@"; }
for i in 0 1 2 3 4; do B append --actor clerk --action manual --object "door-$i" --detail "opened by $i" >/dev/null; done
B verify --json >"$T/vj"
check "verify --json after CLI appends: verdict ok, 5 records, signed through record 4" '[ "$(jf "$T/vj" verdict)" = ok ] && [ "$(jf "$T/vj" records)" = 5 ] && [ "$(jf "$T/vj" signed_through)" = 4 ] && [ "$(jf "$T/vj" unsigned_records)" = 0 ]'
check "verify --json counts the checkpoints (one per append)" '[ "$(jf "$T/vj" checkpoints)" = 5 ] && [ "$(jf "$T/vj" problem)" = null ]'
check "the text says every record is signed" 'B --lang en verify | grep -q "^OK: 5 records, 5 checkpoints verified; every record is covered" && LANG=ja_JP.UTF-8 LC_ALL= B verify | grep -q "^未署名: 0 件$"'
# a record rewritten after a CLI run, hashes recomputed: the CLI had signed it
cp -r "$T/tail" "$T/tail0"
python3 "$T/rewrite.py" "$T/tail/audit.db" 4 "opened by 4" "opened by 9"
B --lang en verify >"$T/v"
check "rewriting the newest record (hashes recomputed) after a CLI run is detected (exit 1)" '[ $? -eq 1 ] && grep -q "^FAILED: records differ from a signed checkpoint: record 4$" "$T/v"'
B verify --json >"$T/vj"
check "verify --json names the problem" '[ "$(jf "$T/vj" verdict)" = failed ] && python3 -c "import json,sys; p=json.load(open(sys.argv[1]))[\"problem\"]; sys.exit(not (p[\"code\"] == \"root\" and p[\"first_record\"] == 4))" "$T/vj"'
rm -rf "$T/tail" && cp -r "$T/tail0" "$T/tail"
# a tail no checkpoint covers (a process killed before it signed; here the newest
# checkpoints are removed): reported as unsigned, and a rewrite there is not "proven"
sqlite3 "$T/tail/audit.db" "DELETE FROM checkpoints WHERE size > 2"
python3 "$T/rewrite.py" "$T/tail/audit.db" 3 "opened by 3" "opened by 8"
B verify --json >"$T/vj"
check "verify --json reports the unsigned tail: signed through 1, 3 unsigned" '[ "$(jf "$T/vj" verdict)" = unsigned-tail ] && [ "$(jf "$T/vj" signed_through)" = 1 ] && [ "$(jf "$T/vj" unsigned_records)" = 3 ] && [ "$(jf "$T/vj" records)" = 5 ]'
LANG=ja_JP.UTF-8 LC_ALL= B verify >"$T/v"
check "Japanese: 署名済み 2 件目まで / 未署名 3 件, and no plain 正常" 'grep -q "^署名済み: 2 件目まで (記録 0〜1)$" "$T/v" && grep -q "^未署名: 3 件 (記録 2〜4 は" "$T/v" && grep -q "証明できません" "$T/v" && ! grep -q "^正常" "$T/v"'
check "English: unsigned records are NOT proven" 'B --lang en verify | grep -q "^unsigned: 3 records (2..4): .*NOT proven unchanged$"'
sqlite3 "$T/tail/audit.db" "DELETE FROM checkpoints"
check "no checkpoint at all: signed_through is null" 'B verify --json >"$T/vj"; [ "$(jf "$T/vj" signed_through)" = null ] && [ "$(jf "$T/vj" unsigned_records)" = 5 ]'

echo "1..$n"
[ "$fails" -eq 0 ]
