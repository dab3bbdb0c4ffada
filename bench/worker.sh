#!/usr/bin/env bash
# The cost of the sandbox, sandboxed against in-process in one command, the modes taking
# turns in every repetition (the machine is shared: a burst of other work hits both):
#  1. small files: `sekisho sanitize -o` of the demo inbox and the shared corpus (mime and
#     office, without the legacy formats), copied
#     COPIES times into one folder in /dev/shm, through its worker (the default) and with
#     --in-process; wall time and CPU (user+sys, the workers included: time(1) counts
#     reaped children);
#  2. mail: build/bench/mail_bench on the corpus mime ×10 rounds, one worker against
#     --in-process and --in-process --init (the libraries set up once, as in a worker).
# Prints the median and the spread (min–max) of each figure over RUNS repetitions and
# the median of the per-repetition ratios sandboxed / in-process.
#   bench/worker.sh [COPIES [RUNS]]      (default 10 copies, 7 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
copies=${1:-10}
runs=${2:-7}
ninja -C build >/dev/null
SK=$PWD/build/sekisho
corpus=../shared/corpus
[ -d "$corpus" ] || corpus=/work/shared/corpus
# inputs and outputs in memory (/dev/shm): the figure is the sandbox's cost, not the disk's
# (ext4's inode allocation after many deletions varies by more than the difference)
tmp=/dev/shm
[ -d "$tmp" ] && [ -w "$tmp" ] || tmp=/tmp
W=$(mktemp -d "$tmp/sekisho-bench-worker.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/in"
for i in $(seq 1 "$copies"); do
	cp -r examples/inbox "$W/in/inbox$i"
	# the corpus without its legacy formats (.doc .xls .ppt .rtf .odt …): those go to
	# LibreOffice in a sekisho-office worker in both modes, a cost of its own
	# (bench/office.sh)
	for d in mime office; do
		[ -d "$corpus/$d" ] && mkdir -p "$W/in/corpus$i" && cp -r "$corpus/$d" "$W/in/corpus$i/$d"
	done
done
find "$W/in" -type f \( -name '*.odt' -o -name '*.doc' -o -name '*.xls' -o -name '*.ppt' -o -name '*.rtf' -o -name '*.xlsb' \) -delete
files=$(find "$W/in" -type f | wc -l)
bytes=$(du -sb "$W/in" | cut -f1)
echo "small files: $files files, $bytes bytes ($copies copies of examples/inbox and the corpus), $runs runs"

# median and min-max of the numbers on stdin
stats() { sort -g | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.3f (%.3f–%.3f)", m, v[1], v[NR]}'; }
median() { sort -g | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.3f", m}'; }

# one sanitize run: prints "wall cpu"
one() {
	rm -rf "$W/out"
	/usr/bin/time -f "%e %U %S" -o "$W/t" "$SK" sanitize -o "$W/out" "$@" "$W/in" \
		>/dev/null 2>&1 || true
	read -r w u s < <(tail -n 1 "$W/t")
	echo "$w $(echo "$u + $s" | bc -l)"
}
: >"$W/f"
for _ in $(seq 1 "$runs"); do
	read -r iw ic < <(one --in-process)
	read -r pw pc < <(one)
	echo "$iw $ic $pw $pc" >>"$W/f"
done
col() { awk -v c="$1" '{print $c}' "$W/f"; }
ratio() { awk -v a="$1" -v b="$2" '{print $a / $b}' "$W/f"; }
printf '%-26s %-28s %-28s %s\n' mode "wall s: median (min–max)" "CPU s: median (min–max)" "files/s (median wall)"
printf '%-26s %-28s %-28s %s\n' "--in-process" "$(col 1 | stats)" "$(col 2 | stats)" \
	"$(echo "$files / $(col 1 | median)" | bc)"
printf '%-26s %-28s %-28s %s\n' "worker (default)" "$(col 3 | stats)" "$(col 4 | stats)" \
	"$(echo "$files / $(col 3 | median)" | bc)"
echo "small files, sandboxed / in-process per run: wall $(ratio 3 1 | stats), CPU $(ratio 4 2 | stats) (aim: under 1.10)"

# mail: "messages/s" and the CPU of the gate and of the worker from mail_bench
mb() {
	build/bench/mail_bench --rounds 10 "$@" "$corpus/mime" |
		sed -E 's/.* ([0-9]+) messages\/s.*gate ([0-9.]+), workers ([0-9.]+).*/\1 \2 \3/'
}
: >"$W/m"
for _ in $(seq 1 "$runs"); do
	read -r ir ig _ < <(mb --in-process)
	read -r jr jg _ < <(mb --in-process --init)
	read -r wr wg ww < <(mb)
	echo "$ir $ig $jr $jg $wr $(echo "$wg + $ww" | bc -l)" >>"$W/m"
done
mcol() { awk -v c="$1" '{print $c}' "$W/m"; }
mratio() { awk -v a="$1" -v b="$2" '{print $a / $b}' "$W/m"; }
echo "mail: corpus mime ×10 rounds, one thread, no quarantine/audit, $runs runs (CPU includes the start and a warm-up pass)"
printf '%-26s %-28s %s\n' mode "messages/s: median (min–max)" "CPU s: median (min–max)"
printf '%-26s %-28s %s\n' "--in-process" "$(mcol 1 | stats)" "$(mcol 2 | stats)"
printf '%-26s %-28s %s\n' "--in-process --init" "$(mcol 3 | stats)" "$(mcol 4 | stats)"
printf '%-26s %-28s %s\n' "worker" "$(mcol 5 | stats)" "$(mcol 6 | stats)"
echo "mail, throughput worker / in-process per run: $(mratio 5 1 | stats); / in-process --init: $(mratio 5 3 | stats) (aim: over 0.90)"
