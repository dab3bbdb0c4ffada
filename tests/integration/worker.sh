#!/bin/bash
# sekisho sanitize through its sandboxed workers (TAP): the same results as --in-process,
# the options, and what happens when a worker misbehaves, using the test-only hostile
# worker ($SEKISHO_WORKER=…/sekisho-worker-hostile, built from the same sandbox and serve
# loop): a forbidden system call, and kill -9 of a worker mid-job with --state (the
# item blocked worker-crash, its original in quarantine, the audit log verifying).
set -u
S=$1
HOSTILE=$2
SRC=$3
. "$(dirname "$0")/tap.sh"
T=$(mktemp -d /tmp/sk-worker-XXXXXX)
bgpid=
cleanup() {
	[ -n "$bgpid" ] && kill "$bgpid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export LC_ALL=C.UTF-8

# help: --in-process is for debugging, in Japanese and in English
"$S" sanitize --lang ja --help 2>"$T/help.ja"
"$S" sanitize --lang en --help 2>"$T/help.en"
check "help (ja) says --in-process is for debugging only" grep -q -- "--in-process.*サンドボックスを使わず" "$T/help.ja"
check "help (ja): デバッグ専用" grep -q "デバッグ専用" "$T/help.ja"
check "help (en) says --in-process is for debugging only" grep -q "for debugging only" "$T/help.en"
check "help (en) names --workers" grep -q -- "--workers N" "$T/help.en"

# the same report and the same bytes with and without the sandbox
same() { # same NAME DIR...
	local name=$1
	shift
	"$S" sanitize --json -o "$T/$name.pool" "$@" 2>/dev/null | sed "s|$T/$name.pool|OUT|g" >"$T/$name.pool.json"
	"$S" sanitize --json --in-process -o "$T/$name.inproc" "$@" 2>/dev/null |
		sed "s|$T/$name.inproc|OUT|g" >"$T/$name.inproc.json"
	check "$name: the JSON report is the same through workers and in process" \
		cmp "$T/$name.pool.json" "$T/$name.inproc.json"
	check "$name: the outputs are the same bytes" diff -r "$T/$name.pool" "$T/$name.inproc"
	check "$name: no worker crashed" bash -c "! grep -q worker-crash '$T/$name.pool.json'"
	check "$name: something was delivered" test -n "$(ls -A "$T/$name.pool")"
}
same inbox "$SRC/examples/inbox"
if [ -d "$SRC/../shared/corpus" ]; then
	# without LibreOffice: its conversions are not byte-for-byte repeatable (legacy.sh and
	# test_worker's convert_through_the_gate cover converting through a worker)
	same corpus --no-office "$SRC/../shared/corpus"
else
	skip "corpus: same results" "no ../shared/corpus"
fi
"$S" sanitize --workers 2 --json "$SRC/examples/inbox" >"$T/w2.json" 2>/dev/null
check "--workers 2 gives the same report" bash -c "sed 's|\"output\":\"[^\"]*\"|\"output\":null|' '$T/inbox.pool.json' | cmp -s - '$T/w2.json'"

# option errors
"$S" sanitize --workers 0 "$SRC/examples/inbox" >/dev/null 2>&1
ok $([ $? -eq 2 ] && echo 0 || echo 1) "--workers 0 is a usage error (exit 2)"
"$S" sanitize --workers 2 --in-process "$SRC/examples/inbox" >/dev/null 2>&1
ok $([ $? -eq 2 ] && echo 0 || echo 1) "--workers with --in-process is a usage error (exit 2)"
SEKISHO_WORKER=/nonexistent/sekisho-worker "$S" sanitize --lang en "$SRC/examples/inbox" >/dev/null 2>"$T/err"
ok $([ $? -eq 2 ] && grep -q "cannot start the workers" "$T/err" && echo 0 || echo 1) \
	"a missing worker executable: exit 2, said so"

# a forbidden system call: the worker is killed, the item blocked, nothing delivered
printf 'plain text\n' >"$T/forbidden-open.txt"
SEKISHO_WORKER=$HOSTILE "$S" sanitize --json -o "$T/fout" "$T/forbidden-open.txt" >"$T/f.json" 2>/dev/null
ok $([ $? -eq 1 ] && echo 0 || echo 1) "forbidden system call: exit 1 (blocked)"
check "forbidden system call: worker-crash" grep -q '"reason":"worker-crash"' "$T/f.json"
check "forbidden system call: killed by SIGSYS (seccomp)" grep -q 'signal SYS' "$T/f.json"
check "forbidden system call: nothing in the output folder" test -z "$(ls -A "$T/fout")"

# kill -9 of a worker mid-job, with --state
printf 'a,b\n1,2\n' >"$T/spin.txt"
SEKISHO_WORKER=$HOSTILE "$S" sanitize --json --state "$T/st" -o "$T/kout" "$T/spin.txt" \
	>"$T/k.json" 2>"$T/k.err" &
bgpid=$!
wpid=
for _ in $(seq 1 200); do
	wpid=$(sed -n 's/^sekisho-test-worker: spinning pid \([0-9]*\)$/\1/p' "$T/k.err")
	[ -n "$wpid" ] && break
	sleep 0.05
done
check "the worker took the job ($wpid)" test -n "$wpid"
if [ -n "$wpid" ]; then
	check "the spinning worker is sandboxed (Seccomp 2, NoNewPrivs 1)" bash -c \
		"grep -q '^Seccomp:	2' /proc/$wpid/status && grep -q '^NoNewPrivs:	1' /proc/$wpid/status"
	if [ "$(id -u)" = 0 ]; then
		check "the spinning worker does not run as root" bash -c \
			"awk '/^Uid:/ { exit (\$2 == 0 || \$3 == 0) }' /proc/$wpid/status"
	else
		skip "the worker does not run as root" "tests not run as root"
	fi
	kill -9 "$wpid"
fi
wait "$bgpid"
st=$?
bgpid=
ok $([ $st -eq 1 ] && echo 0 || echo 1) "kill -9 mid-job: exit 1 (blocked)"
check "kill -9 mid-job: worker-crash" grep -q '"reason":"worker-crash"' "$T/k.json"
check "kill -9 mid-job: signal KILL named" grep -q 'signal KILL' "$T/k.json"
check "kill -9 mid-job: nothing delivered" test -z "$(ls -A "$T/kout")"
id=$("$S" quarantine --state "$T/st" --lang en list | awk -F '\t' 'NR == 2 { print $1 }')
check "kill -9 mid-job: the original is in quarantine ($id)" test -n "$id"
sha=$(sha256sum "$T/spin.txt" | cut -d' ' -f1)
check "kill -9 mid-job: the stored original is the submitted file" \
	cmp -s "$T/st/objects/$(echo "$sha" | cut -c1-2)/$sha" "$T/spin.txt"
check "kill -9 mid-job: quarantine shows worker-crash" bash -c \
	"'$S' quarantine --state '$T/st' --lang en show '$id' | grep -q '^reason	worker-crash'"
check "kill -9 mid-job: the decision is audited" bash -c \
	"'$S' audit --state '$T/st' --lang en list | grep -q 'blocked worker-crash'"
check "kill -9 mid-job: the audit log verifies" "$S" audit --state "$T/st" verify

done_testing
