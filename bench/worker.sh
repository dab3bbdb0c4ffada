#!/usr/bin/env bash
# The cost of the sandbox: `sekisho sanitize` through its workers (the default) against
# `--in-process`, on small files: the demo inbox and the shared corpus, copied COPIES times
# into one folder, sanitised with -o in one command per mode. Best of RUNS runs each, wall
# time and CPU (user+sys, the workers included: time(1) counts reaped children).
#   bench/worker.sh [COPIES [RUNS]]      (default 10 copies, 5 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-10}
runs=${2:-5}
ninja -C build >/dev/null
SK=$PWD/build/sekisho
# inputs and outputs in memory (/dev/shm): the figure is the sandbox's cost, not the disk's
# (ext4's inode allocation after many deletions varies by more than the difference)
tmp=/dev/shm
[ -d "$tmp" ] && [ -w "$tmp" ] || tmp=/tmp
W=$(mktemp -d "$tmp/sekisho-bench-worker.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/in"
for i in $(seq 1 "$copies"); do
	cp -r examples/inbox "$W/in/inbox$i"
	[ -d ../shared/corpus ] && cp -r ../shared/corpus "$W/in/corpus$i"
done
files=$(find "$W/in" -type f | wc -l)
bytes=$(du -sb "$W/in" | cut -f1)
echo "inputs: $files files, $bytes bytes ($copies copies of examples/inbox and ../shared/corpus)"

# best wall and CPU seconds of $runs runs of: sanitize ARGS
measure() {
	local best_wall=999999 best_cpu=999999 w c
	for _ in $(seq 1 "$runs"); do
		rm -rf "$W/out"
		/usr/bin/time -f "%e %U %S" -o "$W/t" "$SK" sanitize -o "$W/out" "$@" "$W/in" \
			>/dev/null 2>&1 || true
		read -r w u s < <(tail -n 1 "$W/t")
		c=$(echo "$u + $s" | bc -l)
		best_wall=$(echo "if ($w < $best_wall) $w else $best_wall" | bc -l)
		best_cpu=$(echo "if ($c < $best_cpu) $c else $best_cpu" | bc -l)
	done
	echo "$best_wall $best_cpu"
}
read -r iw ic < <(measure --in-process)
read -r pw pc < <(measure)
read -r p2w p2c < <(measure --workers 2)
rate() { echo "scale=0; $files / $1" | bc -l; }
pct() { echo "scale=1; ($1 - $2) * 100 / $2" | bc -l; }
printf '%-22s %8s %8s %10s\n' mode wall_s cpu_s files/s
printf '%-22s %8.3f %8.3f %10s\n' "--in-process" "$iw" "$ic" "$(rate "$iw")"
printf '%-22s %8.3f %8.3f %10s\n' "workers (default 1)" "$pw" "$pc" "$(rate "$pw")"
printf '%-22s %8.3f %8.3f %10s\n' "--workers 2" "$p2w" "$p2c" "$(rate "$p2w")"
echo "sandbox cost (1 worker): wall +$(pct "$pw" "$iw") %, CPU +$(pct "$pc" "$ic") % (aim: under 10 %)"
