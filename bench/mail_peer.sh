#!/bin/bash
# Peer ratio, one process per message on the same messages: `sekisho mail` (DEL_ATTACH,
# the whole sanitiser) against altermime --removeall (attachments removed only).
# usage: bench/mail_peer.sh SEKISHO [CORPUS_DIR] [ROUNDS]
set -u
SEKISHO=$1
CORPUS=${2:-/work/shared/corpus/mime}
ROUNDS=${3:-3}
T=$(mktemp -d /tmp/sk-mailpeer-XXXXXX)
trap 'rm -rf "$T"' EXIT
mapfile -d '' files < <(find "$CORPUS" -type f -print0 | sort -z)
n=$((${#files[@]} * ROUNDS))
now() { date +%s.%N; }
t0=$(now)
for _ in $(seq "$ROUNDS"); do
	for f in "${files[@]}"; do "$SEKISHO" mail < "$f" > "$T/o" 2>/dev/null; done
done
t1=$(now)
sk=$(echo "$n / ($t1 - $t0)" | bc -l)
printf 'sekisho mail (process per message): %d messages, %.1f messages/s\n' "$n" "$sk"
if command -v altermime >/dev/null; then
	t0=$(now)
	for _ in $(seq "$ROUNDS"); do
		for f in "${files[@]}"; do
			cp "$f" "$T/a.eml"
			(cd "$T" && altermime --input=a.eml --removeall >/dev/null 2>&1)
		done
	done
	t1=$(now)
	# the copy costs the same for both; measured alone and taken off
	t2=$(now)
	for _ in $(seq "$ROUNDS"); do for f in "${files[@]}"; do cp "$f" "$T/a.eml"; done; done
	t3=$(now)
	al=$(echo "$n / (($t1 - $t0) - ($t3 - $t2))" | bc -l)
	printf 'altermime --removeall (process per message): %d messages, %.1f messages/s\n' "$n" "$al"
	printf 'ratio sekisho/altermime: %.2f\n' "$(echo "$sk / $al" | bc -l)"
else
	echo "altermime not installed (apt-get install altermime)"
fi
