# The set-up the console's browser tests share (sourced after tap.sh by browser.sh and
# ledger_browser.sh): the prerequisites (a SKIP line when one is missing), a temporary
# folder removed at exit with sekishod stopped, free loopback ports, a self-signed
# certificate, console users made with `sekisho user add`, starting sekishod, and running a
# playwright walk whose TAP lines join this script's.
#   needs: SEKISHOD SEKISHO WEB set; defines T AS_ROOT USEROPT STATE POL PASSWORD SECRET MASTER

browser_prereqs() { # browser_prereqs COMMAND...: exits with a SKIP line when one is missing
	if [ ! -x /usr/bin/chromium ]; then
		echo "1..0 # SKIP /usr/bin/chromium is not installed (dev/setup installs it: dev/packages.txt)"
		exit 0
	fi
	if [ ! -f "$WEB/node_modules/playwright-core/package.json" ] || [ ! -f "$WEB/vendor/lit.js" ]; then
		echo "1..0 # SKIP web/node_modules or web/vendor is missing (dev/setup runs npm ci and web/vendor.mjs)"
		exit 0
	fi
	for c in node oathtool openssl python3 curl "$@"; do
		if ! command -v "$c" >/dev/null; then
			echo "1..0 # SKIP $c is not installed (dev/setup installs dev/packages.txt)"
			exit 0
		fi
	done
}

MASTER=""
browser_cleanup() {
	if [ -n "$MASTER" ] && kill -0 "$MASTER" 2>/dev/null; then
		kill "$MASTER" 2>/dev/null
		wait_for 10 eval '! kill -0 '"$MASTER"
		kill -9 "$MASTER" 2>/dev/null
		wait "$MASTER" 2>/dev/null
	fi
	rm -rf "$T"
}

browser_begin() { # browser_begin NAME: the temporary folder and the common settings
	T=$(mktemp -d "/tmp/sekisho-$1.XXXXXX")
	chmod 755 "$T"
	trap browser_cleanup EXIT
	AS_ROOT=0
	[ "$(id -u)" -eq 0 ] && getent passwd sekisho >/dev/null && AS_ROOT=1
	USEROPT=()
	[ $AS_ROOT -eq 1 ] && USEROPT=(--user sekisho)
	STATE=$T/state
	POL=$T/policy.yaml
	PASSWORD='Hq7#vMt2-Lp9xWz4-Rk'
}

free_port() { # free_port ADDR
	python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"
}

self_signed() { # self_signed CN ADDR...: $T/cert.pem and $T/key.pem for the addresses
	local cn=$1 san="" a
	shift
	for a in "$@"; do san+="${san:+,}IP:$a"; done
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=$cn" -addext "subjectAltName=$san" \
		-keyout "$T/key.pem" -out "$T/cert.pem" >"$T/openssl.out" 2>&1
	ok $? "a self-signed certificate for $* (openssl)"
	chmod 644 "$T/cert.pem"
	if [ $AS_ROOT -eq 1 ]; then chgrp sekisho "$T/key.pem" && chmod 640 "$T/key.pem"; fi
}

declare -A SECRET
add_user() { # add_user NAME SECTION ROLE...: a console user with PASSWORD, its TOTP secret in SECRET
	local name=$1 section=$2
	shift 2
	local roles=()
	for r in "$@"; do roles+=(--role "$r"); done
	printf '%s\n' "$PASSWORD" | "$SEKISHO" user add "$name" "${roles[@]}" --section "$section" \
		--state "$STATE" --policy "$POL" >"$T/user-$name.out" 2>&1 || return 1
	SECRET[$name]=$(grep -o 'secret=[A-Z2-7]*' "$T/user-$name.out" | head -n1 | cut -d= -f2)
	[ -n "${SECRET[$name]}" ] && oathtool --totp -b "${SECRET[$name]}" >/dev/null
}
user_ok() { # user_ok STATUS NAME DESCRIPTION
	ok "$1" "$3"
	[ "$1" -eq 0 ] || sed 's/^/# /' "$T/user-$2.out"
}

start_sekishod() { # start_sekishod ADDR:PORT...: sekishod with POL and the console, until each listens
	[ $AS_ROOT -eq 1 ] && chown -R sekisho: "$STATE" 2>/dev/null
	"$SEKISHOD" --foreground --policy "$POL" --state "$STATE" "${USEROPT[@]}" --web "$WEB" \
		--events "json:$T/events.jsonl" >>"$T/sekishod.out" 2>&1 &
	MASTER=$!
	local st=0 a
	for a in "$@"; do
		wait_for 30 curl -ksS -o /dev/null "https://$a/" || st=1
	done
	ok $st "sekishod listens on $(printf 'https://%s ' "$@")"
	[ $st -eq 0 ] || sed 's/^/# /' "$T/sekishod.out"
}

run_walk() { # run_walk SCRIPT.mjs: node with the caller's environment; its TAP lines join ours
	local users="" u rc n f
	for u in "${!SECRET[@]}"; do users+="$u:${SECRET[$u]},"; done
	rm -rf "$SHOTS"
	mkdir -p "$SHOTS"
	WEB=$WEB USERS="${users%,}" PASSWORD="$PASSWORD" SHOTS="$SHOTS" \
		TAP_START=$_tap_n TAP_OUT="$T/tap" timeout 600 node "$(dirname "$0")/$1"
	rc=$?
	if [ -s "$T/tap" ]; then
		read -r n f <"$T/tap"
		_tap_n=$n
		_tap_fail=$((_tap_fail + f))
	else
		ok 1 "$1 ended before its end (exit $rc)"
	fi
	kill -0 "$MASTER" 2>/dev/null
	local st=$?
	ok $st "sekishod still running after the walk"
	[ $st -eq 0 ] || sed 's/^/# /' "$T/sekishod.out"
}
