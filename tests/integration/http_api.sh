#!/bin/bash
# sekishod's http role through its API (TAP): two HTTPS listeners on loopback (an
# internet-zone one and the LGWAN console), users made with `sekisho user add`, TOTP codes
# from oathtool; the checks are in http_api.py (login, cookie flags, lockout, session
# fixation, CSRF, zone-bound sessions, the role × route matrix from `sekishod --routes`,
# upload → sanitise → download across the zones, names shown as data, release requests
# and the two-person rule, static files).
# usage: http_api.sh BUILD_DIR SOURCE_DIR
B=$(cd "$1" && pwd)
S=$(cd "$2" && pwd)
. "$S/tests/integration/tap.sh" # wait_for

for tool in oathtool openssl curl unzip; do
	if ! command -v $tool >/dev/null; then
		echo "1..0 # SKIP $tool is missing (dev/packages.txt)"
		exit 0
	fi
done
if ! "$B/sekisho" user --help >/dev/null 2>&1; then
	echo "1..0 # SKIP sekisho user (the auth service's CLI) is not built"
	exit 0
fi

T=$(mktemp -d /tmp/sekisho-http.XXXXXX)
MASTER=
cleanup() {
	[ -n "$MASTER" ] && kill "$MASTER" 2>/dev/null && wait "$MASTER" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
# as root the roles run as sekisho: it must reach the test's folder
[ "$(id -u)" -eq 0 ] && chmod 0755 "$T"
USER_OPT=()
[ "$(id -u)" -eq 0 ] && USER_OPT=(--user sekisho)

# a free port on loopback (the listeners are 127.0.0.2 and 127.0.0.3)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2",0)); print(s.getsockname()[1])')

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=sekisho-test -addext subjectAltName=IP:127.0.0.2,IP:127.0.0.3 \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
chmod 0644 "$T/key.pem" "$T/cert.pem"

mkdir -p "$T/web/js"
printf '<!doctype html><title>sekisho</title>\n' >"$T/web/index.html"
printf 'export const x = 1;\n' >"$T/web/js/app.mjs"
printf 'secret\n' >"$T/outside.txt"
ln -s ../outside.txt "$T/web/leak.txt"

cat >"$T/policy.yaml" <<'EOF'
version: 1
name: http api test
organization: テスト市
zones:
  mynumber: { networks: [192.0.2.0/25], gateway: { interface: sk-myn, address: 192.0.2.1 } }
  lgwan: { networks: [198.51.100.0/24], gateway: { interface: sk-lgwan, address: 198.51.100.1 } }
  internet: { networks: [203.0.113.0/24], gateway: { interface: sk-inet, address: 203.0.113.1 } }
sections:
  somu: { name: 総務課 }
users:
  - { id: kacho1, name: 総務課長, roles: [security-manager], section: somu }
auth:
  lockout_after: 3
release:
  approvers: 2
flows:
  - { from: internet, to: lgwan, channel: file, action: sanitize }
  - { from: lgwan, to: internet, channel: file, action: { hold: security-manager }, dlp: { mynumber: block } }
gateway:
  events: stderr
EOF

# notices: a fake sendmail keeping each message (and its recipients) in $T/mail; it fails
# while $T/mail/fail exists
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
cat >>"$T/policy.yaml" <<EOF
  sendmail: $T/sendmail
  console_url: https://127.0.0.3:$PORT/
EOF

ST="$T/state"
adduser() { # NAME ROLE: prints the TOTP secret
	local pw
	pw="Hq7$(printf '%s' "$1" | sha256sum | cut -c1-12)!vZ"
	printf '%s\n' "$pw" >"$T/pw.$1"
	"$B/sekisho" user add "$1" --role "$2" --section somu --state "$ST" \
		--policy "$T/policy.yaml" --password-file "$T/pw.$1" --mail "$1@example.lg.jp" 2>>"$T/useradd.err" |
		awk -F'\t' '$1 == "totp-secret" { print $2 }'
}
: >"$T/users.tsv"
for spec in staff:staff staff2:staff kacho1:security-manager kacho2:security-manager \
	kacho3:security-manager director:security-director admin:sysadmin audit:auditor \
	ciso:ciso locked:staff fix:staff csrf:staff; do
	name=${spec%%:*}
	role=${spec#*:}
	# one user per listener for the matrix (a TOTP code is never used twice)
	for z in "" i; do
		case $name in staff | kacho1 | kacho2 | kacho3 | director | admin | audit | ciso) ;; *) [ -n "$z" ] && continue ;; esac
		secret=$(adduser "$name$z" "$role")
		printf '%s\t%s\t%s\n' "$name$z" "$role" "$secret" >>"$T/users.tsv"
	done
done
n=$(awk -F'\t' '$3 != ""' "$T/users.tsv" | wc -l)
if [ "$n" -ne "$(wc -l <"$T/users.tsv")" ]; then
	sed 's/^/# /' "$T/useradd.err"
	echo "Bail out! sekisho user add did not print a TOTP secret for every user"
	exit 1
fi

# an asset of 機密性3A in the ledger (uploads marked asset=AS-0001)
"$B/sekisho" ledger --state "$ST" --policy "$T/policy.yaml" add assets --field name=住民記録 \
	--field 種別=システム --field section=総務課 --field manager=山田 --field 機密性=3A \
	--field 完全性=2 --field 可用性=2 --field zone=lgwan >"$T/asset.id" 2>>"$T/useradd.err"

"$B/sekishod" --policy "$T/policy.yaml" --state "$ST" --workers 1 "${USER_OPT[@]}" \
	--http "internet=127.0.0.2:$PORT" --http "lgwan=127.0.0.3:$PORT" \
	--tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --web "$T/web" 2>"$T/events.log" &
MASTER=$!
if ! wait_for 30 curl -s --cacert "$T/cert.pem" -o /dev/null "https://127.0.0.3:$PORT/api/session" ||
	! wait_for 30 curl -s --cacert "$T/cert.pem" -o /dev/null "https://127.0.0.2:$PORT/"; then
	sed 's/^/# /' "$T/events.log"
	echo "Bail out! sekishod does not serve HTTPS"
	exit 1
fi

"$B/sekishod" --routes >"$T/routes.tsv"
# the checks (TAP) are in python; it needs the state folder and the audit CLI afterwards
python3 "$S/tests/integration/http_api.py" "$T" "$PORT" "$S/docs/api.md" "$B"
