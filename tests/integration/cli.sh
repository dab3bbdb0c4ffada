#!/usr/bin/env bash
# The sekisho command end to end: arguments, exit codes, JSON Lines, languages, folders,
# and that nothing half-written is left when the output cannot be written.
set -u
. "$(dirname "$0")/tap.sh"
SK=$(readlink -f "${1:?path to sekisho}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

"$SK" >/dev/null 2>&1; ok $([ $? -eq 2 ]; echo $?) "no arguments: exit 2"
"$SK" sanitize --profile nosuch x >/dev/null 2>&1; ok $([ $? -eq 2 ]; echo $?) "unknown profile: exit 2"
env -u LANG -u LC_ALL -u LC_MESSAGES "$SK" sanitize -o out does-not-exist >/dev/null 2>err; rc=$?
ok $([ $rc -eq 2 ]; echo $?) "missing input: exit 2"
grep -q '見つかりません' err; ok $? "missing input: Japanese message"

# an executable named .txt is blocked, nothing delivered
printf 'MZ\x90\x00\x03\x00\x00\x00\x04\x00' > readme.txt
"$SK" sanitize -o out --json readme.txt > j 2>/dev/null; rc=$?
ok $([ $rc -eq 1 ]; echo $?) "PE named .txt: exit 1"
[ "$(json_get j verdict)" = blocked ] && [ "$(json_get j reason)" = executable ]
ok $? "PE named .txt: blocked as executable in JSON"
[ "$(json_get j output)" = null ] && [ ! -e out/readme.txt ]
ok $? "PE named .txt: no output file"
[ "$(json_get j sha256)" = "$(sha256sum readme.txt | cut -d' ' -f1)" ]
ok $? "JSON sha256 matches sha256sum"
[ -z "$(ls -A out)" ]; ok $? "no temporary file left in the output folder"

# language of the one-line verdict
env -u LANG -u LC_ALL -u LC_MESSAGES "$SK" sanitize readme.txt > ja.txt 2>/dev/null
grep -q '^遮断' ja.txt; ok $? "default line is Japanese (遮断)"
LANG=C LC_ALL= "$SK" sanitize readme.txt > en.txt 2>/dev/null
grep -q '^blocked' en.txt; ok $? "LANG=C gives English"
"$SK" sanitize --lang en readme.txt > en2.txt 2>/dev/null
grep -q '^blocked.*executable' en2.txt; ok $? "--lang en gives English"

# folders: recursive, same relative names, one JSON line per input
mkdir -p in/sub/deeper
printf 'hello\r\n' > in/a.txt
printf 'x,y\r\n1,2\r\n' > in/sub/b.csv
printf '\x7fELF\x02\x01\x01\x00' > in/sub/deeper/tool
"$SK" sanitize -o out2 --json in > jl 2>/dev/null; rc=$?
ok $([ $rc -eq 1 ]; echo $?) "folder with one executable: exit 1"
[ "$(wc -l < jl)" -eq 3 ]; ok $? "one JSON line per file"
[ -f out2/a.txt ] && [ -f out2/sub/b.csv ] && [ ! -e out2/sub/deeper/tool ]
ok $? "delivered files keep their relative names; the blocked one is absent"
cmp -s in/a.txt out2/a.txt; ok $? "clean text delivered byte-identical"
python3 -c 'import json,sys
lines=open(sys.argv[1]).readlines()
assert lines
for l in lines:
    o=json.loads(l)
    assert set(o)>={"input","sha256","type","verdict","reason","actions","output"}, o
    for a in o["actions"]: assert set(a)>={"action","what","where"}, a' jl
ok $? "every JSON line has the documented fields"

# a full output disk: clear message, exit 2, nothing left that looks delivered
if mkdir -p full && mount -t tmpfs -o size=64k tmpfs full 2>/dev/null; then
	head -c 300000 /dev/zero | tr '\0' 'a' > big.txt
	env -u LANG -u LC_ALL -u LC_MESSAGES "$SK" sanitize -o full big.txt >/dev/null 2>err; rc=$?
	ok $([ $rc -eq 2 ]; echo $?) "full disk: exit 2"
	[ -z "$(ls -A full)" ]; ok $? "full disk: no output and no temporary file left"
	grep -q '書き込めません' err; ok $? "full disk: clear message"
	umount full
else
	skip "full disk: exit 2" "cannot mount a small tmpfs here"
	skip "full disk: nothing left" "cannot mount a small tmpfs here"
	skip "full disk: message" "cannot mount a small tmpfs here"
fi
done_testing
