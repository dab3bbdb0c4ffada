# Tiny TAP helpers for the shell integration tests: source it, call ok/skip, then done_testing.
_tap_n=0
_tap_fail=0
ok() { # ok CONDITION-EXIT-STATUS DESCRIPTION   (use: cmd; ok $? "desc")
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_fail=$((_tap_fail + 1))
	fi
}
check() { # check DESCRIPTION CMD...   runs CMD, ok when it exits 0
	local d=$1
	shift
	"$@" >/dev/null 2>&1
	ok $? "$d"
}
skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n - $1 # SKIP ${2:-}"
}
diag() { echo "# $*"; }
done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_fail" -eq 0 ]
}
# json_get FILE KEY: the KEY of the first JSON line in FILE ("null" for null)
json_get() {
	python3 -c 'import json,sys
o=json.loads(open(sys.argv[1]).readline())
v=o
for k in sys.argv[2].split("."):
    v=v[int(k)] if isinstance(v,list) else v.get(k)
print("null" if v is None else v)' "$1" "$2"
}
# no_number FILE: 0 when the test 個人番号 3847-5629-1044 is not in FILE, whole or one group
# standing alone ("****-5629-****"); a group inside a longer run of letters and digits (a
# hash, an item id, a port) is not the number
no_number() { ! grep -Eq '3847[- ]?5629[- ]?1044|(^|[^0-9A-Za-z])(3847|5629|1044)([^0-9A-Za-z]|$)' "$1"; }
# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds (a ceiling, not a
# timing test); 1 when it never did
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
# role_pid NAME: the pid of sekishod's ($MASTER's) child running role NAME
role_pid() {
	local p
	for p in $(pgrep -P "$MASTER"); do
		if [ "$(cat /proc/"$p"/comm 2>/dev/null)" = "sk-$1" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}
