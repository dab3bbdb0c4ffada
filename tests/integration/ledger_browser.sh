#!/usr/bin/env bash
# The ledger screens (台帳) in a real browser (TAP): Debian's chromium driven by
# playwright-core (ledger_browser.mjs) against a real sekishod with an LGWAN-zone HTTPS
# listener on a loopback address (a self-signed certificate made here), the demo policy
# (its incident chain: staff → sysadmin → security-director → ciso).
#   ledger_browser.sh SEKISHOD SEKISHO SOURCE_ROOT SHOTS_DIR
# The walk: an incident reported by a staff user and signed step by step by four users; a
# 400 shown at its field, a 409 explained; checklists generated, a self-inspection answered
# by two sections and the chart that results; an auditor without edit buttons; a text with
# HTML in it shown as text; the English switch; the Excel and yearly-report downloads. A
# screenshot of each screen goes to SHOTS_DIR. Skipped (with the reason) only when chromium
# or web/node_modules is missing: dev/setup installs both.
set -u
SEKISHOD=$1
SEKISHO=$2
ROOT=$3
SHOTS=$4
. "$(dirname "$0")/tap.sh"
export LC_ALL=C.UTF-8
WEB=$ROOT/web

if [ ! -x /usr/bin/chromium ]; then
	echo "1..0 # SKIP /usr/bin/chromium is not installed (dev/setup installs it: dev/packages.txt)"
	exit 0
fi
if [ ! -f "$WEB/node_modules/playwright-core/package.json" ] || [ ! -f "$WEB/vendor/lit.js" ]; then
	echo "1..0 # SKIP web/node_modules or web/vendor is missing (dev/setup runs npm ci and web/vendor.mjs)"
	exit 0
fi
for c in node oathtool openssl python3; do
	if ! command -v "$c" >/dev/null; then
		echo "1..0 # SKIP $c is not installed (dev/setup installs dev/packages.txt)"
		exit 0
	fi
done

T=$(mktemp -d /tmp/sekisho-lbrowser.XXXXXX)
chmod 755 "$T"
MASTER=""
cleanup() {
	if [ -n "$MASTER" ] && kill -0 "$MASTER" 2>/dev/null; then
		kill "$MASTER" 2>/dev/null
		wait_for 10 eval '! kill -0 '"$MASTER"
		kill -9 "$MASTER" 2>/dev/null
		wait "$MASTER" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

AS_ROOT=0
[ "$(id -u)" -eq 0 ] && getent passwd sekisho >/dev/null && AS_ROOT=1
USEROPT=()
[ $AS_ROOT -eq 1 ] && USEROPT=(--user sekisho)

LG_ADDR=127.0.0.3
LG_PORT=$(python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' $LG_ADDR)
STATE=$T/state
POL=$T/policy.yaml
PASSWORD='Hq7#vMt2-Lp9xWz4-Rk'

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/CN=sekisho ledger browser test" -addext "subjectAltName=IP:$LG_ADDR" \
	-keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.out" 2>&1
ok $? "a self-signed certificate for $LG_ADDR (openssl)"
chmod 644 "$T/cert.pem"
if [ $AS_ROOT -eq 1 ]; then chgrp sekisho "$T/key.pem" && chmod 640 "$T/key.pem"; fi

# the demo policy (its sections, roles and incident chain) with one console listener
sed '/^gateway:/,$d' "$ROOT/examples/policy/default.yaml" >"$POL"
cat >>"$POL" <<EOF2
gateway:
  workers: 1
  http:
    - { zone: lgwan, listen: "$LG_ADDR:$LG_PORT" }
  tls: { cert: $T/cert.pem, key: $T/key.pem }
EOF2
"$SEKISHO" policy check "$POL" >"$T/check.out" 2>&1
st=$?
ok $st "the test policy passes sekisho policy check"
[ $st -eq 0 ] || sed 's/^/# /' "$T/check.out"
grep -q 'chain: \[staff, sysadmin, security-director, ciso\]' "$POL"
ok $? "the policy's incident chain is staff → sysadmin → security-director → ciso"

declare -A SECRET
add_user() { # add_user NAME SECTION ROLE...
	local name=$1 section=$2
	shift 2
	local roles=()
	for r in "$@"; do roles+=(--role "$r"); done
	printf '%s\n' "$PASSWORD" | "$SEKISHO" user add "$name" "${roles[@]}" --section "$section" \
		--state "$STATE" --policy "$POL" >"$T/user-$name.out" 2>&1 || return 1
	SECRET[$name]=$(grep -o 'secret=[A-Z2-7]*' "$T/user-$name.out" | head -n1 | cut -d= -f2)
	[ -n "${SECRET[$name]}" ]
}
for spec in "yamada somu staff" "joho johoseisaku sysadmin" "bucho johoseisaku security-director" \
	"ciso johoseisaku ciso" "kacho somu security-manager" "jkacho johoseisaku security-manager" \
	"kansa johoseisaku auditor"; do
	# shellcheck disable=SC2086
	add_user $spec
	st=$?
	ok $st "sekisho user add ${spec% *} (${spec##* })"
	[ $st -eq 0 ] || sed 's/^/# /' "$T/user-${spec%% *}.out"
done
[ $AS_ROOT -eq 1 ] && chown -R sekisho: "$STATE" 2>/dev/null

"$SEKISHOD" --foreground --policy "$POL" --state "$STATE" "${USEROPT[@]}" --web "$WEB" \
	--events "json:$T/events.jsonl" >>"$T/sekishod.out" 2>&1 &
MASTER=$!
listening() { curl -ksS -o /dev/null "https://$1:$2/"; }
wait_for 30 listening $LG_ADDR "$LG_PORT"
st=$?
ok $st "sekishod listens on https://$LG_ADDR:$LG_PORT (lgwan)"
[ $st -eq 0 ] || sed 's/^/# /' "$T/sekishod.out"

users=""
for u in "${!SECRET[@]}"; do users+="$u:${SECRET[$u]},"; done
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
WEB=$WEB LGWAN="https://$LG_ADDR:$LG_PORT" USERS="${users%,}" PASSWORD="$PASSWORD" SHOTS="$SHOTS" \
	TAP_START=$_tap_n TAP_OUT="$T/tap" timeout 600 node "$(dirname "$0")/ledger_browser.mjs"
rc=$?
if [ -s "$T/tap" ]; then
	read -r n f <"$T/tap"
	_tap_n=$n
	_tap_fail=$((_tap_fail + f))
else
	ok 1 "ledger_browser.mjs ended before its end (exit $rc)"
fi
kill -0 "$MASTER" 2>/dev/null
st=$?
ok $st "sekishod still running after the walk"
[ $st -eq 0 ] || sed 's/^/# /' "$T/sekishod.out"
done_testing
