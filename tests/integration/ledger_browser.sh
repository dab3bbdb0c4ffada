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

. "$(dirname "$0")/browser_env.sh"
browser_prereqs
browser_begin lbrowser
LG_ADDR=127.0.0.3
LG_PORT=$(free_port $LG_ADDR)

self_signed "sekisho ledger browser test" $LG_ADDR

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

for spec in "yamada somu staff" "joho johoseisaku sysadmin" "bucho johoseisaku security-director" \
	"ciso johoseisaku ciso" "kacho somu security-manager" "jkacho johoseisaku security-manager" \
	"kansa johoseisaku auditor"; do
	# shellcheck disable=SC2086
	add_user $spec
	user_ok $? "${spec%% *}" "sekisho user add ${spec% *} (${spec##* })"
done

start_sekishod "$LG_ADDR:$LG_PORT"
LGWAN="https://$LG_ADDR:$LG_PORT" run_walk ledger_browser.mjs
done_testing
