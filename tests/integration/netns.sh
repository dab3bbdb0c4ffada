#!/usr/bin/env bash
# The generated nftables ruleset with real packets. Four network namespaces: a gateway
# (routing between three veth links, IPv4 forwarding on) and one host in each zone
# (internet 203.0.113.0/24, lgwan 198.51.100.0/24, mynumber 192.0.2.0/25 — documentation
# ranges that exist only inside these namespaces). Listeners run on every gateway address
# and on the hosts; the test shows which connections get through before and after the
# ruleset from `sekisho policy nft` is loaded into the gateway namespace.
# The policy's management section is replaced by the test's own: SSH from one lgwan address
# (198.51.100.20) and not from another; DNS and NTP out to the named servers (198.51.100.53
# and .123), not to another one (.99); UDP round trips by a small echo server.
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

for tool in ip nft nc python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "network test" "$tool is not installed (dev/packages.txt: iproute2 nftables netcat-openbsd python3)"
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
# on the lgwan host: an administrator's address, the DNS and NTP servers the policy names,
# and a server it does not name
for a in 198.51.100.20 198.51.100.53 198.51.100.123 198.51.100.99; do
	ip -n "$LG" addr add "$a/24" dev eth0 || break
done
ok $? "lgwan host: administrator 198.51.100.20, DNS .53, NTP .123, unnamed server .99"

# the policy under test: the example's, with this test's management section
awk '/^management:/ { skip = 1; next } skip && /^[^ #]/ { skip = 0 } !skip' "$POLICY" > "$T/policy.yaml"
cat >> "$T/policy.yaml" <<'Y'
management:
  admins: [198.51.100.20]
  ssh: [22]
  services:
    dns: { to: [198.51.100.53] }
    ntp: { to: [198.51.100.123] }
Y
"$SK" policy check --lang en "$T/policy.yaml" > "$T/check" 2>&1
ok $? "the test's policy passes policy check"
grep -q ': 0 errors, 0 warnings' "$T/check" || sed 's/^/# /' "$T/check"
POLICY=$T/policy.yaml

# listeners: every port on every gateway address, mail and https on the hosts
listen() { # NS ADDR PORT
	ip netns exec "$1" nc -lk "$2" "$3" </dev/null >/dev/null 2>&1 &
	PIDS+=($!)
}
for a in 203.0.113.1 198.51.100.1 192.0.2.1; do
	for port in 25 443 3128; do listen "$GW" "$a" "$port"; done
done
listen "$GW" 0.0.0.0 22 # sshd's port, on every address
for h in "$IN 203.0.113.10" "$LG 198.51.100.10" "$MY 192.0.2.10"; do
	set -- $h
	listen "$1" "$2" 25
	listen "$1" "$2" 443
done
# DNS over TCP on the named server and on the other one
listen "$LG" 198.51.100.53 53
listen "$LG" 198.51.100.99 53
# UDP: an echo server on the DNS and NTP ports of both servers; the client sends one
# datagram and succeeds when the answer comes back within a second. ICMP echo too ("ping
# DST [SRC]", a raw socket: no ping program needed)
cat > "$T/probe.py" <<'PY'
import os, select, socket, struct, sys, time
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xFFFF)
    t += t >> 16
    return ~t & 0xFFFF
if sys.argv[1] == "ping":
    dst = sys.argv[2]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    if len(sys.argv) > 3:
        s.bind((sys.argv[3], 0))
    ident = os.getpid() & 0xFFFF
    body = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"sekisho!"
    s.sendto(body[:2] + struct.pack("!H", csum(body)) + body[4:], (dst, 0))
    end = time.time() + 1.0
    while time.time() < end:
        if not select.select([s], [], [], max(0, end - time.time()))[0]:
            break
        data, peer = s.recvfrom(1500)
        icmp = data[(data[0] & 15) * 4:]
        if peer[0] == dst and icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
            sys.exit(0)
    sys.exit(1)
if sys.argv[1] == "serve":
    socks = []
    for spec in sys.argv[2:]:
        addr, port = spec.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, int(port)))
        socks.append(s)
    print("ready", flush=True)
    while True:
        for s in select.select(socks, [], [])[0]:
            data, peer = s.recvfrom(512)
            s.sendto(b"re:" + data, peer)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.sendto(b"probe", (sys.argv[2], int(sys.argv[3])))
    try:
        data, _ = s.recvfrom(512)
    except OSError:
        sys.exit(1)
    sys.exit(0 if data == b"re:probe" else 1)
PY
ip netns exec "$LG" python3 "$T/probe.py" serve 198.51.100.53:53 198.51.100.123:123 \
	198.51.100.99:53 198.51.100.99:123 > "$T/udp.ready" 2>&1 &
PIDS+=($!)
# wait (at most 10 s) until every listener is up: 10 on the gateway, 2 on each host (and
# 2 more for DNS over TCP on the lgwan host), the UDP servers
listening() { [ "$(ip netns exec "$1" ss -Hltn 2>/dev/null | wc -l)" -ge "$2" ]; }
for _ in $(seq 100); do
	listening "$GW" 10 && listening "$IN" 2 && listening "$LG" 4 && listening "$MY" 2 &&
		grep -q ready "$T/udp.ready" && break
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
# from a chosen source address: can_from NS SRC ADDR PORT
can_from() { x "$1" nc -z -w 1 -s "$2" "$3" "$4" >/dev/null 2>&1; }
# a UDP round trip: udp NS ADDR PORT
udp() { x "$1" python3 "$T/probe.py" ask "$2" "$3"; }
# an ICMP echo and its answer: pings NS DST [SRC]
pings() { x "$1" python3 "$T/probe.py" ping "$2" ${3:+"$3"}; }

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
can_from "$LG" 198.51.100.10 198.51.100.1 22 || bad="$bad ssh-from-.10"
can "$IN" 203.0.113.1 22 || bad="$bad ssh-from-internet"
can "$GW" 198.51.100.99 53 || bad="$bad tcp-dns-.99"
udp "$GW" 198.51.100.99 53 || bad="$bad udp-dns-.99"
udp "$GW" 198.51.100.99 123 || bad="$bad ntp-.99"
[ -z "$bad" ]
ok $? "no rules: every target the ruleset must block is reachable${bad:+ (not:$bad)}"
udp "$GW" 198.51.100.53 53 && udp "$GW" 198.51.100.123 123
ok $? "no rules: UDP round trips to the DNS and NTP servers work"
pings "$MY" 192.0.2.1 && pings "$IN" 198.51.100.10 && pings "$LG" 198.51.100.1 198.51.100.10
ok $? "no rules: ICMP echo gets its answer (mynumber -> gateway, internet -> lgwan host, lgwan .10 -> gateway)"

# the operator's rules in force before (a table of their own), saved as docs/policy.md says
# ("Loading without locking yourself out"), to be restored at the end
x "$GW" nft add table inet operator && x "$GW" nft add chain inet operator keep &&
	x "$GW" sh -c "{ echo 'flush ruleset'; nft list ruleset; } > '$T/before.nft'"
ok $? "the rules in force are saved in the documented restorable form"

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
pings "$MY" 192.0.2.1
ok $([ $? -ne 0 ]; echo $?) "mynumber host cannot even ping the gateway"
pings "$IN" 198.51.100.10
ok $([ $? -ne 0 ]; echo $?) "internet host cannot ping the lgwan host"
# management: SSH from the administrator's address only; DNS and NTP to the named servers
can_from "$LG" 198.51.100.20 198.51.100.1 22
ok $? "ssh: the administrator (198.51.100.20) reaches the gateway's port 22"
can_from "$LG" 198.51.100.10 198.51.100.1 22
ok $([ $? -ne 0 ]; echo $?) "ssh: another lgwan address (198.51.100.10) is refused"
blocked "ssh: the internet host is refused (203.0.113.1:22)" "$IN" 203.0.113.1 22
blocked "ssh: the mynumber host is refused (192.0.2.1:22)" "$MY" 192.0.2.1 22
pings "$LG" 198.51.100.1 198.51.100.20
ok $? "the administrator can ping the gateway"
pings "$LG" 198.51.100.1 198.51.100.10
ok $([ $? -ne 0 ]; echo $?) "another lgwan address cannot ping the gateway"
udp "$GW" 198.51.100.53 53
ok $? "dns: a UDP query to the named server (198.51.100.53:53) gets its answer back"
reach "dns: TCP to the named server (198.51.100.53:53)" "$GW" 198.51.100.53 53
udp "$GW" 198.51.100.123 123
ok $? "ntp: a UDP packet to the named server (198.51.100.123:123) gets its answer back"
udp "$GW" 198.51.100.99 53
ok $([ $? -ne 0 ]; echo $?) "dns: UDP to a server the policy does not name (198.51.100.99:53) is dropped"
blocked "dns: TCP to the unnamed server (198.51.100.99:53)" "$GW" 198.51.100.99 53
udp "$GW" 198.51.100.99 123
ok $([ $? -ne 0 ]; echo $?) "ntp: UDP to the unnamed server (198.51.100.99:123) is dropped"
udp "$GW" 198.51.100.53 123
ok $([ $? -ne 0 ]; echo $?) "the DNS server is reached only on the DNS port (198.51.100.53:123 dropped)"

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

# the documented rollback: one file, one transaction, the old rules back
x "$GW" nft -f "$T/before.nft"
ok $? "rollback: the saved rules load"
x "$GW" nft list tables > "$T/tables" 2>&1
grep -q 'table inet operator' "$T/tables" && ! grep -q 'table inet sekisho' "$T/tables"
ok $? "rollback: the operator's table is back, sekisho's is gone"
can_from "$LG" 198.51.100.10 198.51.100.1 22
ok $? "rollback: ssh from any address again (198.51.100.10)"

done_testing
