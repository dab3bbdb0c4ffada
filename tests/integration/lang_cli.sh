#!/bin/sh
# Every message of the sekisho command in the user's language (TAP). The same commands —
# usage and help, mistakes of every kind, lists, explanations, a tampered audit log —
# run in Japanese (LANG=ja_JP.UTF-8, and --lang ja) and in English (--lang en, LANG=C).
# Japanese output must hold no English sentence (a checker in Python looks for runs of
# English words with a common English word among them, between the Japanese text);
# English output no kana. Plus the places the issue named: quarantine list columns and
# values, the second line of audit verify, the policy's "unknown destination zone".
set -u
S=$(readlink -f "${SEKISHO:?}")
SRC=${SK_SOURCE_ROOT:?}
POL="$SRC/examples/policy/default.yaml"
T=$(mktemp -d /tmp/sk-lang-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }
unset LC_ALL LC_MESSAGES LANGUAGE TZ

cat >"$T/english.py" <<'PY'
# stdin: text that must be Japanese. Prints each line holding an English sentence: an
# ASCII stretch (between non-ASCII characters) with three or more words of letters in a
# row, one of them a common English word. Commands, options, codes and file names are
# not sentences ("sekisho policy check", "--lang en", "E-FLOW-ALLOW-CROSS").
import re, sys
STOP = set("""a an the is are was were be been not no of to in for with and or cannot can
could does do did has have this that it its by from on at must only unknown invalid bad
failed missing give needs need takes than there these those when nothing none every any
would should will may into out too yet already""".split())
bad = 0
for line in sys.stdin.read().splitlines():
    for seg in re.split(r"[^\x00-\x7f]+", line):
        for run in re.finditer(r"(?:\b[A-Za-z]+\b[ ,]+){2,}\b[A-Za-z]+\b", seg):
            if any(w.lower() in STOP for w in re.findall(r"[A-Za-z]+", run.group(0))):
                print("# English: " + line)
                bad += 1
                break
sys.exit(1 if bad else 0)
PY
# stdin: text that must be English: prints the lines with kana (hiragana, katakana)
kana() { python3 -c 'import re,sys
bad=[l for l in sys.stdin.read().splitlines() if re.search("[\u3040-\u30ff]", l)]
[print("# kana: " + l) for l in bad]
sys.exit(1 if bad else 0)'; }

# a state folder with items of every verdict, a user, and a tampered copy of its log
W="$T/w"
mkdir -p "$W"
cd "$W" || exit 2
printf 'hello\n' >a.txt
printf 'MZ\220\000 x' >b.exe
printf 'a,b\n1,=1+1\n' >c.csv
printf 'pw-Kx9#vq2!Lm7@pz\n' >pw
printf 'From: a@example.com\r\nTo: b@example.lg.jp\r\nSubject: test\r\nContent-Type: text/html\r\n\r\n<p>hello</p>\r\n' >m.eml
"$S" sanitize --state "$T/st" a.txt b.exe c.csv >/dev/null 2>&1
"$S" sanitize --state "$T/st" --policy "$POL" --from lgwan --to internet --channel file a.txt >/dev/null 2>&1
"$S" user add kanri --state "$T/st" --policy "$POL" --role sysadmin --password-file pw >/dev/null 2>&1
ID=$("$S" quarantine --state "$T/st" --json list | head -1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
check "set-up: items of four verdicts, a console user" '[ -n "$ID" ] && [ "$("$S" quarantine --state "$T/st" --lang en list | grep -c .)" -eq 5 ]'
cp -r "$T/st" "$T/bad"
sqlite3 "$T/bad/audit.db" "UPDATE records SET leaf = CAST(replace(CAST(leaf AS TEXT), 'a.txt', 'x.txt') AS BLOB) WHERE seq = 0"
printf 'version: 1\nzones: {}\nflows:\n  - { from: internet, to: lgwan, action: allow }\n' >bad.yaml

# the commands: one a line, run with sh -c (in $W; $S, $POL, $T, $ID set)
export S POL T ID
cat >"$T/cmds" <<'EOF'
$S
$S nosuch
$S --help
$S sanitize a.txt b.exe c.csv
$S sanitize --lang xx a.txt
$S sanitize --profile nope a.txt
$S sanitize nofile.txt
$S sanitize --policy $POL --from internet --to intenet a.txt
$S sanitize --policy $POL --from lgwan --to internet --class 機密性9 a.txt
$S sanitize --policy $POL --from lgwan --to internet --channel file a.txt
$S sanitize --policy $POL --from lgwan a.txt
$S sanitize --help
$S quarantine --state $T/st list
$S quarantine --state $T/st show $ID
$S quarantine --state $T/st show nosuch
$S quarantine --state $T/st approve $ID
$S quarantine --state $T/st request $ID --reason x --by nobody
$S quarantine --state $T/st request $ID --reason x --by kanri --kind bogus
$S quarantine --state $T/st purge --older-than x
$S quarantine --state $T/st frob
$S quarantine --help
$S audit --state $T/st list --since yesterday
$S audit --state $T/st list --until 2026-13-01
$S audit --state $T/st verify
$S audit --state $T/bad verify
$S audit --state $T/st proof inclusion 99999
$S audit --state $T/st proof consistency 5 99999
$S audit --state $T/st append --actor a
$S audit --help
$S policy check bad.yaml
$S policy check nofile.yaml
$S policy check $POL --today 2026-02-30
$S policy explain $POL --from internet --to intenet --channel mail
$S policy explain $POL --from internet --to lgwan --channel fax
$S policy explain $POL --from lgwan --to internet --channel file --class 機密性9
$S policy explain $POL --from lgwan --to internet --channel file
$S policy explain $POL --from mynumber --to internet --channel mail
$S policy explain $POL --from lgwan
$S policy nosuch
$S dlp scan a.txt
$S dlp scan nofile
$S dlp --help
$S user --state $T/st list
$S user --state $T/st add x
$S user --state $T/st --policy $POL add kanri --role sysadmin --password-file pw
$S user --state $T/st --policy $POL add weak --role staff --password-file a.txt
$S user --help
$S ledger list assets
$S ledger list assets --policy $POL --state $T/st
$S ledger list nosuch --policy $POL --state $T/st
$S ledger add assets --policy $POL --state $T/st --field nosuch=1
$S report
$S report --policy $POL --state $T/st --year abc -o x.xlsx
$S mail --profile nope
$S mail < m.eml
$S mail --policy $POL --from internet --to mynumber < m.eml
$S quarantine --state $T/st unlock nosuch -o x.out
$S ledger show assets AS-0099 --policy $POL --state $T/st
$S ledger remind --dry-run --policy $POL --state $T/st
$S milter
EOF

i=0
while IFS= read -r cmd; do
	i=$((i + 1))
	for mode in ja jaopt en C; do
		case $mode in
		ja) out=$(LANG=ja_JP.UTF-8 sh -c "$cmd" </dev/null 2>&1) ;;
		jaopt) out=$(LANG=C sh -c "$cmd --lang ja" </dev/null 2>&1) ;;
		en) out=$(LANG=ja_JP.UTF-8 sh -c "$cmd --lang en" </dev/null 2>&1) ;;
		C) out=$(LANG=C sh -c "$cmd" </dev/null 2>&1) ;;
		esac
		printf '%s\n' "$out" >"$T/out.$i.$mode"
	done
	# the bare command takes no --lang: LANG decides
	case "$cmd" in
	'$S' | '$S nosuch' | '$S --help') jaopt_ok=0 ;;
	*) jaopt_ok=1 ;;
	esac
	label=$(echo "$cmd" | sed -e "s|\\\$S|sekisho|" -e "s|\\\$POL|POLICY|g" -e "s|\\\$T/|/|g")
	check "$label: ran and said something in each language" '! grep -q "^sh: " "$T/out.$i".* && [ -s "$T/out.$i.ja" ] && [ "$(wc -c <"$T/out.$i.C")" -gt 1 ]'
	check "ja (LANG=ja_JP.UTF-8): $label: no English sentence" 'python3 "$T/english.py" <"$T/out.$i.ja"'
	if [ $jaopt_ok -eq 1 ]; then
		check "ja (--lang ja, LANG=C): $label: no English sentence" 'python3 "$T/english.py" <"$T/out.$i.jaopt"'
		check "en (--lang en, LANG=ja_JP.UTF-8): $label: no Japanese" 'kana <"$T/out.$i.en"'
	fi
	check "en (LANG=C): $label: no Japanese" 'kana <"$T/out.$i.C"'
done <"$T/cmds"

# what the issue named, by content
o() { cat "$T/out.$(grep -n -x -F -- "$1" "$T/cmds" | cut -d: -f1).$2"; }
check "quarantine list: Japanese columns and values (承認待ち, 無害化済み, 遮断, 問題なし; reasons in words)" \
	'o "\$S quarantine --state \$T/st list" ja | head -1 | grep -q "^# ID	受付	状態	判定	理由	名前$" && (for v in 承認待ち 無害化済み 遮断 問題なし; do o "\$S quarantine --state \$T/st list" ja | cut -f4 | grep -qx "$v" || exit 1; done) && o "\$S quarantine --state \$T/st list" ja | cut -f5 | grep -q "実行形式"'
check "quarantine list in English keeps the codes (held, sanitized, blocked, clean)" \
	'(for v in held sanitized blocked clean; do o "\$S quarantine --state \$T/st list" C | cut -f4 | grep -qx "$v" || exit 1; done)'
check "audit verify of a tampered log: both lines Japanese (記録 0 の内容が…)" \
	'o "\$S audit --state \$T/bad verify" ja | sed -n 1p | grep -q "^異常: " && o "\$S audit --state \$T/bad verify" ja | sed -n 2p | grep -q "^  記録 0 "'
check "audit verify in English: the library's detail on the second line" \
	'o "\$S audit --state \$T/bad verify" C | sed -n 2p | grep -q "^  record 0 "'
check "policy explain: 送信先のゾーン「intenet」はポリシーにありません (English: unknown destination zone)" \
	'o "\$S policy explain \$POL --from internet --to intenet --channel mail" ja | grep -q "判定できません: 送信先のゾーン「intenet」はポリシーにありません" && o "\$S policy explain \$POL --from internet --to intenet --channel mail" C | grep -q "cannot decide: unknown destination zone .intenet."'
check "sanitize --class 機密性9: refused before anything runs, in Japanese (exit 2)" \
	'o "\$S sanitize --policy \$POL --from lgwan --to internet --class 機密性9 a.txt" ja | grep -q "分類「機密性」に段階「9」はありません"'
check "a library failure in Japanese names its kind (ファイルまたはフォルダがありません)" \
	'o "\$S policy check nofile.yaml" ja | grep -q "ポリシーファイルを読めません: nofile.yaml: ファイルまたはフォルダがありません"'

echo "1..$n"
[ $fails -eq 0 ]
