#!/bin/bash
# The ledgers (台帳) through sekishod's API (TAP): one HTTPS console listener on loopback,
# users of two sections made with `sekisho user add`, TOTP codes from oathtool; the checks
# are in ledger_api.py (the schema; add, list, get, update and history, each audited with
# the user; the rights of staff, section heads, ledger-all and auditors; an incident walked
# through its chain by four users; version conflicts; search, sort and filters; CSV import
# with a bad row; the xlsx download; user text escaped; the import's size limit).
# usage: ledger_api.sh BUILD_DIR SOURCE_DIR
B=$(cd "$1" && pwd)
S=$(cd "$2" && pwd)
. "$S/tests/integration/tap.sh" # wait_for

for tool in oathtool openssl curl; do
	if ! command -v $tool >/dev/null; then
		echo "1..0 # SKIP $tool is missing (dev/packages.txt)"
		exit 0
	fi
done

T=$(mktemp -d /tmp/sekisho-lapi.XXXXXX)
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

HOST=127.0.0.4
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.4",0)); print(s.getsockname()[1])')

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=sekisho-test -addext subjectAltName=IP:$HOST \
	-keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
chmod 0644 "$T/key.pem" "$T/cert.pem"
mkdir -p "$T/web"
printf '<!doctype html><title>sekisho</title>\n' >"$T/web/index.html"

cat >"$T/policy.yaml" <<'EOF'
version: 1
name: ledger api test
organization: テスト市
zones:
  mynumber: { networks: [192.0.2.0/25], gateway: { interface: sk-myn, address: 192.0.2.1 } }
  lgwan: { networks: [198.51.100.0/24], gateway: { interface: sk-lgwan, address: 198.51.100.1 } }
  internet: { networks: [203.0.113.0/24], gateway: { interface: sk-inet, address: 203.0.113.1 } }
sections:
  somu: { name: 総務課, name_en: General Affairs }
  johoseisaku: { name: 情報政策課, name_en: Information Policy }
users:
  - { id: somu-kacho, name: 総務課長, roles: [security-manager], section: somu }
flows:
  - { from: internet, to: lgwan, channel: file, action: sanitize }
gateway:
  events: stderr
EOF

ST="$T/state"
: >"$T/users.tsv"
for spec in staff1:staff:somu staff2:staff:somu kacho:security-manager:somu \
	kacho2:security-manager:johoseisaku admin:sysadmin:johoseisaku \
	director:security-director:johoseisaku ciso:ciso:johoseisaku audit:auditor:johoseisaku; do
	IFS=: read -r name role section <<<"$spec"
	pw="Lg7$(printf '%s' "$name" | sha256sum | cut -c1-12)!qW"
	printf '%s\n' "$pw" >"$T/pw.$name"
	secret=$("$B/sekisho" user add "$name" --role "$role" --section "$section" --state "$ST" \
		--policy "$T/policy.yaml" --password-file "$T/pw.$name" 2>>"$T/useradd.err" |
		awk -F'\t' '$1 == "totp-secret" { print $2 }')
	printf '%s\t%s\t%s\n' "$name" "$role" "$secret" >>"$T/users.tsv"
done
if awk -F'\t' '$3 == ""' "$T/users.tsv" | grep -q .; then
	sed 's/^/# /' "$T/useradd.err"
	echo "Bail out! sekisho user add did not print a TOTP secret for every user"
	exit 1
fi

# an export folder a killed http role left behind (owned by the role's user): gone at start
mkdir -p "$ST/.ledger-export-left" && echo partial >"$ST/.ledger-export-left/report.xlsx"
[ "$(id -u)" -eq 0 ] && chown -R sekisho: "$ST/.ledger-export-left"

"$B/sekishod" --policy "$T/policy.yaml" --state "$ST" --workers 1 "${USER_OPT[@]}" \
	--http "lgwan=$HOST:$PORT" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" \
	--web "$T/web" 2>"$T/events.log" &
MASTER=$!
if ! wait_for 30 curl -s --cacert "$T/cert.pem" -o /dev/null "https://$HOST:$PORT/api/session"; then
	sed 's/^/# /' "$T/events.log"
	echo "Bail out! sekishod does not serve HTTPS"
	exit 1
fi

python3 "$S/tests/integration/ledger_api.py" "$T" "$HOST" "$PORT" "$B"
rc=$?
if [ $rc -ne 0 ]; then
	grep -i 'error\|fail' "$T/events.log" | tail -20 | sed 's/^/# /'
fi
exit $rc
