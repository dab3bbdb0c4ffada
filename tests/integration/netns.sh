#!/usr/bin/env bash
# The generated nftables ruleset with real packets. Four network namespaces: a gateway
# (routing between three veth links, IPv4 forwarding on) and one host in each zone
# (internet 203.0.113.0/24, lgwan 198.51.100.0/24, mynumber 192.0.2.0/25 — documentation
# ranges that exist only inside these namespaces). Listeners run on every gateway address
# and on the hosts; the test shows which connections get through before and after the
# ruleset from `sekisho policy nft` is loaded into the gateway namespace.
# Usage: netns.sh SEKISHO POLICY.yaml
set -u
. "$(dirname "$0")/tap.sh"
SK=$(readlink -f "${1:?path to sekisho}")
POLICY=$(readlink -f "${2:?policy file}")
T=$(mktemp -d)
P="skp$$"
GW=${P}gw IN=${P}in LG=${P}lg MY=${P}my
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	# anything else still running inside our namespaces (only ours)
	for ns in $GW $IN $LG $MY; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
	done
	wait 2>/dev/null
	for ns in $GW $IN $LG $MY; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

for tool in ip nft nc; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "network test" "$tool is not installed (dev/packages.txt: iproute2 nftables netcat-openbsd)"
		done_testing
		exit 0
	fi
done
if ! ip netns add "$GW" 2>"$T/err"; then
	skip "network test" "cannot create network namespaces here ($(head -c 200 "$T/err"))"
	done_testing
	exit 0
fi
ip netns add "$IN" && ip netns add "$LG" && ip netns add "$MY"
ok $? "four network namespaces created"

x() { ip netns exec "$@"; }
# link NAME-IN-GATEWAY HOST-NS GW-ADDR/LEN HOST-ADDR/LEN
link() {
	ip -n "$GW" link add "$1" type veth peer name eth0 netns "$2" || return 1
	ip -n "$GW" addr add "$3" dev "$1" && ip -n "$GW" link set "$1" up &&
		ip -n "$2" addr add "$4" dev eth0 && ip -n "$2" link set eth0 up &&
		ip -n "$2" link set lo up && ip -n "$2" route add default via "${3%/*}"
}
ip -n "$GW" link set lo up
link sk-inet "$IN" 203.0.113.1/24 203.0.113.10/24 &&
	link sk-lgwan "$LG" 198.51.100.1/24 198.51.100.10/24 &&
	link sk-myn "$MY" 192.0.2.1/25 192.0.2.10/25 &&
	x "$GW" sysctl -qw net.ipv4.ip_forward=1
ok $? "veth links, addresses, routes; the gateway forwards IPv4"

# listeners: every port on every gateway address, mail and https on the hosts
listen() { # NS ADDR PORT
	ip netns exec "$1" nc -lk "$2" "$3" </dev/null >/dev/null 2>&1 &
	PIDS+=($!)
}
for a in 203.0.113.1 198.51.100.1 192.0.2.1; do
	for port in 25 443 3128; do listen "$GW" "$a" "$port"; done
done
for h in "$IN 203.0.113.10" "$LG 198.51.100.10" "$MY 192.0.2.10"; do
	set -- $h
	listen "$1" "$2" 25
	listen "$1" "$2" 443
done
# wait (at most 10 s) until every listener is up: 9 on the gateway, 2 on each host
listening() { [ "$(ip netns exec "$1" ss -Hltn 2>/dev/null | wc -l)" -ge "$2" ]; }
for _ in $(seq 100); do
	listening "$GW" 9 && listening "$IN" 2 && listening "$LG" 2 && listening "$MY" 2 && break
	sleep 0.1
done

can() { x "$1" nc -z -w 1 "$2" "$3" >/dev/null 2>&1; }
reach() { # DESCRIPTION NS ADDR PORT
	can "$2" "$3" "$4"
	ok $? "$1"
}
blocked() {
	can "$2" "$3" "$4"
	ok $([ $? -ne 0 ]; echo $?) "$1"
}

# before the ruleset: the plumbing works, so what fails later fails because of the rules
reach "no rules: internet host reaches the lgwan host directly (routing works)" "$IN" 198.51.100.10 443
reach "no rules: mynumber host reaches the internet host directly" "$MY" 203.0.113.10 25
reach "no rules: mynumber host reaches the gateway" "$MY" 192.0.2.1 443
# every target the rules must block answers without rules (so a later "blocked" is the rules')
bad=""
for t in "$IN 203.0.113.1 3128" "$IN 198.51.100.1 443" "$IN 192.0.2.1 443" "$IN 198.51.100.10 25" \
	"$IN 192.0.2.10 443" "$LG 198.51.100.1 3128" "$LG 203.0.113.1 25" "$LG 203.0.113.10 443" \
	"$LG 192.0.2.10 25" "$MY 192.0.2.1 25" "$MY 198.51.100.10 443" "$GW 198.51.100.10 443" \
	"$GW 192.0.2.10 25"; do
	set -- $t
	can "$1" "$2" "$3" || bad="$bad ${1#$P}:$2:$3"
done
[ -z "$bad" ]
ok $? "no rules: every target the ruleset must block is reachable${bad:+ (not:$bad)}"

# the ruleset
"$SK" policy nft "$POLICY" > "$T/rules.nft" 2>"$T/err"
ok $? "sekisho policy nft generates a ruleset"
nft -c -f "$T/rules.nft" >/dev/null 2>&1
ok $? "the ruleset passes nft -c -f"
x "$GW" nft -f "$T/rules.nft" 2>"$T/err"
ok $? "the ruleset loads into the gateway namespace"
x "$GW" nft list table inet sekisho > "$T/loaded" 2>&1
grep -q 'hook forward priority filter; policy drop;' "$T/loaded"
ok $? "the forward chain drops by default"

# internet zone
reach "internet -> its gateway listener mail (203.0.113.1:25)" "$IN" 203.0.113.1 25
reach "internet -> its gateway listener file (203.0.113.1:443)" "$IN" 203.0.113.1 443
blocked "internet -> gateway web listener not needed by any flow (203.0.113.1:3128)" "$IN" 203.0.113.1 3128
blocked "internet -> the gateway's lgwan address (198.51.100.1:443)" "$IN" 198.51.100.1 443
blocked "internet -> the gateway's mynumber address (192.0.2.1:443)" "$IN" 192.0.2.1 443
blocked "internet host cannot reach the lgwan host (198.51.100.10:443)" "$IN" 198.51.100.10 443
blocked "internet host cannot reach the lgwan host (198.51.100.10:25)" "$IN" 198.51.100.10 25
blocked "internet host cannot reach the mynumber host (192.0.2.10:443)" "$IN" 192.0.2.10 443
# lgwan zone
reach "lgwan -> its gateway listener mail (198.51.100.1:25)" "$LG" 198.51.100.1 25
reach "lgwan -> its gateway listener file (198.51.100.1:443)" "$LG" 198.51.100.1 443
blocked "lgwan -> gateway web listener (198.51.100.1:3128)" "$LG" 198.51.100.1 3128
blocked "lgwan -> the gateway's internet address (203.0.113.1:25)" "$LG" 203.0.113.1 25
blocked "lgwan host cannot reach the internet host (203.0.113.10:443)" "$LG" 203.0.113.10 443
blocked "lgwan host cannot reach the mynumber host (192.0.2.10:25)" "$LG" 192.0.2.10 25
# mynumber zone: nothing
blocked "mynumber -> gateway mail (192.0.2.1:25)" "$MY" 192.0.2.1 25
blocked "mynumber -> gateway file (192.0.2.1:443)" "$MY" 192.0.2.1 443
blocked "mynumber host cannot reach the lgwan host (198.51.100.10:443)" "$MY" 198.51.100.10 443
blocked "mynumber host cannot reach the internet host (203.0.113.10:25)" "$MY" 203.0.113.10 25
x "$MY" ping -c 1 -W 1 192.0.2.1 >/dev/null 2>&1
ok $([ $? -ne 0 ]; echo $?) "mynumber host cannot even ping the gateway"
x "$IN" ping -c 1 -W 1 198.51.100.10 >/dev/null 2>&1
ok $([ $? -ne 0 ]; echo $?) "internet host cannot ping the lgwan host"
# the gateway delivers onward only what the flows need
reach "gateway delivers mail into lgwan (198.51.100.10:25)" "$GW" 198.51.100.10 25
reach "gateway delivers mail into internet (203.0.113.10:25)" "$GW" 203.0.113.10 25
blocked "gateway opens nothing else into lgwan (198.51.100.10:443)" "$GW" 198.51.100.10 443
blocked "gateway opens nothing into mynumber (192.0.2.10:25)" "$GW" 192.0.2.10 25

# an exception for mynumber -> lgwan files opens exactly the mynumber file listener
sed '/^  - id: mynumber-out/i\
  - id: mynumber-lgwan-file\
    from: mynumber\
    to: lgwan\
    channel: file\
    action: { sanitize: file-standard }\
    exception: { id: EX-NETNS, reason: test, approver: ciso, expires: 2099-12-31 }' "$POLICY" > "$T/exc.yaml"
"$SK" policy nft "$T/exc.yaml" > "$T/exc.nft" 2>"$T/err" && x "$GW" nft -f "$T/exc.nft"
ok $? "ruleset with a mynumber exception loads"
reach "with the exception: mynumber -> gateway file (192.0.2.1:443)" "$MY" 192.0.2.1 443
blocked "with the exception: still not gateway mail (192.0.2.1:25)" "$MY" 192.0.2.1 25
blocked "with the exception: still not the lgwan host directly (198.51.100.10:443)" "$MY" 198.51.100.10 443
# the same exception, expired: the generator refuses (the checker's E-EXCEPTION-EXPIRED);
# the library leaves an expired exception's flow closed (unit test "nftables")
"$SK" policy nft --today 2100-01-01 "$T/exc.yaml" > "$T/exp.nft" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q E-EXCEPTION-EXPIRED "$T/err" && [ ! -s "$T/exp.nft" ]
ok $? "after the exception expires, policy nft refuses with E-EXCEPTION-EXPIRED"
x "$GW" nft -f "$T/rules.nft"
blocked "default ruleset again: mynumber -> gateway file (192.0.2.1:443)" "$MY" 192.0.2.1 443

done_testing
