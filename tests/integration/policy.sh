#!/usr/bin/env bash
# The policy and dlp commands end to end: exit codes, file:line:column output in both
# languages, explain, nft (checked with nft -c), dlp scan masking, sanitize --policy JSON.
# Usage: policy.sh SEKISHO DEFAULT-POLICY
set -u
. "$(dirname "$0")/tap.sh"
SK=$(readlink -f "${1:?path to sekisho}")
POL=$(readlink -f "${2:?policy file}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
unset LANG LC_ALL LC_MESSAGES

"$SK" policy check --today 2025-01-01 "$POL" > out 2>&1
ok $? "default policy: check exits 0"
grep -q 'エラー 0 件、警告 0 件' out; ok $? "default policy: no errors, no warnings (Japanese summary)"

cat > bad.yaml <<'Y'
version: 1
zones:
  mynumber: { networks: [192.0.2.0/25], gateway: { interface: a0, address: 192.0.2.1 } }
  lgwan: { networks: [198.51.100.0/24], gateway: { interface: b0, address: 198.51.100.1 } }
  internet: { networks: [203.0.113.0/24], gateway: { interface: c0, address: 203.0.113.1 } }
flows:
  - id: leak
    from: mynumber
    to: internet
    action: { sanitize: default }
  - id: open
    from: internet
    to: lgwan
    action: allow
Y
"$SK" policy check bad.yaml > out 2>&1; rc=$?
ok $([ $rc -eq 1 ]; echo $?) "errors: exit 1"
grep -q '^bad.yaml:10:13: E-FLOW-MYNUMBER-NO-EXCEPTION: .*例外措置' out
ok $? "mynumber flow without exception at 10:13, Japanese message"
grep -q '^bad.yaml:14:13: E-FLOW-INTERNET-LGWAN-ACTION: ' out
ok $? "internet -> lgwan allow at 14:13"
"$SK" policy check --lang en bad.yaml > out 2>&1
grep -q '^bad.yaml:10:13: E-FLOW-MYNUMBER-NO-EXCEPTION: a flow involving mynumber' out && grep -q '2 errors, 0 warnings' out
ok $? "--lang en gives English messages and summary"
"$SK" policy check does-not-exist.yaml >/dev/null 2>&1; rc=$?
ok $([ $rc -eq 2 ]; echo $?) "missing file: exit 2"
"$SK" policy nft bad.yaml > out 2>/dev/null; rc=$?
ok $([ $rc -eq 1 ] && [ ! -s out ]; echo $?) "nft refuses a policy with errors (no output)"

# management: its problems with their places, in both languages
{ cat bad.yaml | sed '/^flows:/,$d'; cat <<'Y'
management:
  admins: [0.0.0.0/0]
  services:
    backup: { to: [198.51.100.40] }
Y
} > mg.yaml
"$SK" policy check mg.yaml > out 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q '^mg.yaml:7:12: E-MANAGEMENT-ANY: management.admins の 0.0.0.0/0 はすべてのアドレスです' out &&
	grep -q '^mg.yaml:9:5: E-MANAGEMENT-SERVICE: サービス「backup」のポートがありません' out
ok $? "management: every address as admins and a service without ports, at their places (Japanese)"
"$SK" policy check --lang en mg.yaml > out 2>&1
grep -q '^mg.yaml:7:12: E-MANAGEMENT-ANY: management.admins: 0.0.0.0/0 is every address' out &&
	grep -q "^mg.yaml:9:5: E-MANAGEMENT-SERVICE: service 'backup' has no ports" out
ok $? "management: the same in English"

"$SK" policy explain "$POL" --from internet --to lgwan --channel mail --today 2025-01-01 > out
grep -q '^判定: 無害化 (プロファイル mail-standard) \[sanitize\]' out && grep -q '^規則: flows\[2\] internet-lgwan-mail (.*default.yaml:[0-9]*:5)' out
ok $? "explain internet->lgwan mail: sanitize, rule with its place"
"$SK" policy explain "$POL" --from lgwan --to internet --channel file --class 機密性3A --lang en > out
grep -q '^decision: deny \[deny\]' out && grep -q '^rule: classification 機密性 >= 3A' out
ok $? "explain 機密性3A outbound: deny by the class rule (English)"
"$SK" policy explain "$POL" --from lgwan --to internet --channel fax >/dev/null 2>&1; rc=$?
ok $([ $rc -eq 2 ]; echo $?) "explain with an unknown channel: exit 2"

"$SK" policy nft "$POL" > rules.nft
ok $? "nft: generated"
if command -v nft >/dev/null && [ "$(id -u)" -eq 0 ]; then
	nft -c -f rules.nft; ok $? "nft: passes nft -c -f"
else
	skip "nft: passes nft -c -f" "nft not installed or not root"
fi

printf '申請者 山田\n個人番号: 3847-5629-1044\n法人番号 T7000012050002\n' > secret.txt
printf '会議は10時からです。電話 03-1234-5678\n' > plain.txt
"$SK" dlp scan plain.txt > out; rc=$?
ok $([ $rc -eq 0 ]; echo $?) "dlp scan: nothing found, exit 0"
"$SK" dlp scan secret.txt > out; rc=$?
ok $([ $rc -eq 1 ]; echo $?) "dlp scan: found, exit 1"
grep -q '^secret.txt:2:7: 個人番号 (mynumber): \*\*\*\*-\*\*\*\*-\*\*\*\*' out && grep -q '^secret.txt:3:7: 法人番号 (corporate)' out
ok $? "dlp scan: kind and position, masked"
! grep -q '3847\|5629\|1044\|7000012050002' out
ok $? "dlp scan: the numbers never appear in the output"
iconv -f UTF-8 -t CP932 secret.txt > sjis.txt
"$SK" dlp scan --json sjis.txt > out
[ "$(json_get out encoding)" = CP932 ] && [ "$(json_get out line)" = 2 ]
ok $? "dlp scan: Shift_JIS read as CP932, same position"

"$SK" sanitize --json --policy "$POL" --from mynumber --to lgwan plain.txt > j 2>/dev/null; rc=$?
[ $rc -eq 1 ] && [ "$(json_get j reason)" = policy-deny ] && [ "$(json_get j policy.decision)" = deny ] && [ "$(json_get j policy.rule)" = "flows[0] mynumber-out" ]
ok $? "sanitize mynumber->lgwan: policy-deny with the rule in JSON"
"$SK" sanitize --json --policy "$POL" --from lgwan --to internet --channel file plain.txt > j 2>/dev/null
[ "$(json_get j reason)" = held ] && [ "$(json_get j policy.hold_role)" = security-manager ]
ok $? "sanitize lgwan->internet file: held for security-manager"
"$SK" sanitize --json --policy "$POL" --from lgwan --to internet --channel mail --class 機密性1 secret.txt > j 2>/dev/null
[ "$(json_get j reason)" = dlp ] && [ "$(json_get j actions.0.what)" = mynumber ]
ok $? "sanitize 機密性1 mail with a 個人番号: blocked by DLP"
mkdir out1
"$SK" sanitize -o out1 --json --policy "$POL" --from internet --to lgwan --channel mail secret.txt > j 2>/dev/null
[ "$(json_get j policy.decision)" = sanitize ] && [ "$(json_get j policy.profile)" = mail-standard ] && [ "$(json_get j actions.0.what)" = mynumber ]
ok $? "sanitize internet->lgwan: DLP recorded, sanitised with the flow's profile"
"$SK" sanitize --policy "$POL" --from internet plain.txt >/dev/null 2>&1; rc=$?
ok $([ $rc -eq 2 ]; echo $?) "sanitize --policy without --to: exit 2"
"$SK" sanitize --policy "$POL" --from internet --to moon plain.txt >/dev/null 2>&1; rc=$?
ok $([ $rc -eq 2 ]; echo $?) "sanitize --policy with an unknown zone: exit 2"
done_testing
