#!/bin/sh
# sekisho user (TAP): add with the TOTP secret and its otpauth:// URI, the refusals (a
# guessable password, one containing the name, an undefined role or section, a bad name),
# list, disable, enable, reset-totp (the old secret's code stops working), passwd, and the
# audit records, free of the password and the secrets. TOTP codes come from oathtool (an
# independent implementation), logins through tests/integration/auth_login.c.
set -u
S=${SEKISHO:?}
L=${SK_AUTH_LOGIN:?}
T=$(mktemp -d /tmp/sk-user-XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }
U() { "$S" user --state "$T/st" --policy "$T/p.yaml" "$@"; }
field() { awk -F '\t' -v k="$1" '$1 == k { print $2 }' "$2"; }

cat >"$T/p.yaml" <<'YAML'
version: 1
organization: 相模原市
zones:
  mynumber: { networks: [192.0.2.0/25], gateway: { interface: sk-myn, address: 192.0.2.1 } }
  lgwan: { networks: [198.51.100.0/24], gateway: { interface: sk-lgwan, address: 198.51.100.1 } }
  internet: { networks: [203.0.113.0/24], gateway: { interface: sk-inet, address: 203.0.113.1 } }
sections:
  somu: { name: 総務課 }
roles:
  staff: { name: 職員 }
  security-manager: { name: 情報セキュリティ管理者 }
YAML
PW='Kx9#vq2!Lm7@pz'
PW2='Rw4$hn8%Tb3^ky'
printf '%s\n' "$PW" >"$T/pw"
printf '%s\n' "$PW2" >"$T/pw2"

printf '%s\n' "$PW" | U add tanaka --role staff --section somu --mail tanaka@city.example.lg.jp --by admin >"$T/add" 2>"$T/err"
check "user add tanaka (password on stdin) exits 0" '[ $? -eq 0 ]'
SECRET=$(field totp-secret "$T/add")
URI=$(field otpauth-uri "$T/add")
check "the TOTP secret is 32 base32 characters" 'echo "$SECRET" | grep -Eq "^[A-Z2-7]{32}$"'
check "the otpauth URI carries the secret and the issuer" \
  'case "$URI" in otpauth://totp/*:tanaka\?secret=$SECRET\&issuer=*) true;; *) false;; esac'
printf '%s\n' "$PW2" | LANG=ja_JP.UTF-8 LC_ALL= U add suzuki --role security-manager >/dev/null 2>"$T/err"
check "the notice is Japanese under a Japanese locale" 'grep -q "利用者 suzuki を追加しました" "$T/err"'

CODE=$(oathtool --totp -b "$SECRET")
check "a login with oathtool's code and the password is accepted" '"$L" "$T/st" tanaka "$T/pw" "$CODE" lgwan >/dev/null'
check "the same code again is refused (no replay)" '[ "$("$L" "$T/st" tanaka "$T/pw" "$CODE" lgwan)" = bad ]'
check "a wrong password with a right code is refused" \
  '[ "$("$L" "$T/st" tanaka "$T/pw2" "$(oathtool --totp -b "$SECRET" -N "now + 30 seconds")" lgwan)" = bad ]'

# refusals (exit 1), in English and Japanese
printf 'password1234\n' | U --lang en add sato --role staff >/dev/null 2>"$T/err"
check "a guessable password is refused (exit 1, says why)" '[ $? -eq 1 ] && grep -q "easy to guess" "$T/err"'
printf 'x9#Sato!q2Lmvv\n' | LANG=ja_JP.UTF-8 LC_ALL= U add sato --role staff >/dev/null 2>"$T/err"
check "a password containing the name is refused (Japanese message)" '[ $? -eq 1 ] && grep -q "利用者名" "$T/err"'
printf 'x9#相模原市!q2Lm\n' | U --lang en add sato --role staff >/dev/null 2>"$T/err"
check "a password containing the organization is refused" '[ $? -eq 1 ] && grep -q "organization" "$T/err"'
printf 'Kx9#vq2!Lm7\n' | U --lang en add sato --role staff >/dev/null 2>"$T/err"
check "a short password is refused" '[ $? -eq 1 ] && grep -q "shorter" "$T/err"'
printf '%s\n' "$PW" | U --lang en add sato --role ciso >/dev/null 2>"$T/err"
check "an undefined role is refused" '[ $? -eq 1 ] && grep -q "role not defined" "$T/err"'
printf '%s\n' "$PW" | U --lang en add sato --role staff --section jinji >/dev/null 2>"$T/err"
check "an undefined section is refused" '[ $? -eq 1 ] && grep -q "section not defined" "$T/err"'
printf '%s\n' "$PW" | U --lang en add Sato --role staff >/dev/null 2>"$T/err"
check "an upper-case login name is refused, not folded" '[ $? -eq 1 ] && grep -q "invalid login name" "$T/err"'
printf '%s\n' "$PW" | U --lang en add tanaka --role staff >/dev/null 2>"$T/err"
check "the same name twice is refused" '[ $? -eq 1 ] && grep -q "exists" "$T/err"'
U --lang en add sato --role staff --password-file "$T/pw2" >"$T/add2" 2>/dev/null
check "user add sato with --password-file" '[ $? -eq 0 ] && [ -n "$(field totp-secret "$T/add2")" ]'
check "without --policy, add is refused (exit 2)" \
  '! printf "%s\n" "$PW" | "$S" user --state "$T/st" add kato --role staff >/dev/null 2>&1'

# list
U --lang en list >"$T/list"
check "list shows tanaka with role, section, mail, active" \
  'grep -q "^tanaka	1	staff	somu	tanaka@city.example.lg.jp	active$" "$T/list"'
check "list --json gives one object per user" \
  '[ "$(U list --json | python3 -c "import json,sys; print(sorted(json.loads(l)[\"name\"] for l in sys.stdin))")" = "['"'"'sato'"'"', '"'"'suzuki'"'"', '"'"'tanaka'"'"']" ]'

# disable / enable
U disable tanaka --by admin 2>/dev/null
check "disable tanaka" '[ $? -eq 0 ] && U --lang en list | grep -q "^tanaka.*disabled$"'
check "a disabled user cannot log in" \
  '[ "$("$L" "$T/st" tanaka "$T/pw" "$(oathtool --totp -b "$SECRET" -N "now + 30 seconds")" lgwan)" = disabled ]'
U enable tanaka --by admin 2>/dev/null
check "enable tanaka" '[ $? -eq 0 ] && U --lang en list | grep -q "^tanaka.*active$"'
check "disable of an unknown user exits 1" '! U disable nobody 2>/dev/null'

# reset-totp: the old secret's code stops working, the new one's works
U reset-totp tanaka --by admin >"$T/reset" 2>/dev/null
NEW=$(field totp-secret "$T/reset")
check "reset-totp prints a new secret" '[ -n "$NEW" ] && [ "$NEW" != "$SECRET" ]'
check "the old secret's code is refused" '[ "$("$L" "$T/st" tanaka "$T/pw" "$(oathtool --totp -b "$SECRET")" lgwan)" = bad ]'
check "the new secret's code is accepted" '"$L" "$T/st" tanaka "$T/pw" "$(oathtool --totp -b "$NEW")" lgwan >/dev/null'

# passwd: history refuses the current password, a new one works
U --lang en passwd tanaka --password-file "$T/pw" >/dev/null 2>"$T/err"
check "passwd to the current password is refused (history)" '[ $? -eq 1 ] && grep -q "used recently" "$T/err"'
check "passwd to a new password" 'U passwd tanaka --password-file "$T/pw2" 2>/dev/null'
check "the new password logs in" \
  '"$L" "$T/st" tanaka "$T/pw2" "$(oathtool --totp -b "$NEW" -N "now + 30 seconds")" lgwan >/dev/null'

# the audit records, free of passwords and secrets
"$S" audit --state "$T/st" --lang en list >"$T/audit"
for a in auth.user-add auth.user-disable auth.user-enable auth.totp-reset auth.password-set auth.login auth.logout; do
  check "audit has $a" 'grep -q "	$a	" "$T/audit"'
done
check "the add record names the actor (admin) and the user" 'grep -q "	admin	auth.user-add	user:tanaka	ok" "$T/audit"'
check "the audit log verifies" '"$S" audit --state "$T/st" verify >/dev/null 2>&1'
check "no password in any file of the state folder" \
  '! grep -rqaF "$PW" "$T/st" && ! grep -rqaF "$PW2" "$T/st"'
check "no TOTP secret in the audit log" \
  '! cat "$T/st"/audit.db* | grep -qaF "$SECRET" && ! cat "$T/st"/audit.db* | grep -qaF "$NEW"'
check "auth.db is 0600" '[ "$(stat -c %a "$T/st/auth.db")" = 600 ]'

echo "1..$n"
[ "$fails" -eq 0 ]
