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
