#!/usr/bin/env bash
# Image throughput: sekisho sanitize vs mat2 on the same files.
#   bench/image.sh [BUILD_DIR]        (default build/; needs mat2, /usr/bin/python3 with Pillow)
# Sets: (1) the mat2 corpus images (dirty.png/jpg/gif/bmp, control_chars.jpg), copied 20
# times; (2) generated larger images: 4000x3000 JPEG with EXIF, 2000x1500 PNG,
# 800x600 10-frame GIF, 2000x1500 24-bit BMP, 5 copies each.
# sekisho runs once per set (one process for the folder); mat2 runs once per set with all
# files as arguments (its start-up paid once) and, for the corpus set, once per file.
# Prints files/s and MB/s of input for each (best of 3 runs), by wall time and by CPU time
# (user+sys: fairer on a loaded machine).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
sekisho=$build/sekisho
corpus=/work/shared/corpus/office/mat2
[ -d ../shared/corpus/office/mat2 ] && corpus=../shared/corpus/office/mat2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/corpus" "$work/large"
for i in $(seq -w 1 20); do
	for f in dirty.png dirty.jpg dirty.gif dirty.bmp control_chars.jpg; do
		cp "$corpus/$f" "$work/corpus/$i-$f"
	done
done
/usr/bin/python3 - "$work/large" <<'PY'
import io, os, random, sys
from PIL import Image
d = sys.argv[1]
random.seed(1)
def photo(w, h):
    # smooth gradients plus noise: compresses like a photograph, not like a flat test card
    base = Image.linear_gradient("L").resize((w, h))
    noise = Image.effect_noise((w, h), 40)
    return Image.merge("RGB", (base, noise, base.rotate(90).resize((w, h))))
exif = Image.Exif(); exif[0x010F] = "camera"; exif[0x0112] = 1
big = photo(4000, 3000)
mid = photo(2000, 1500)
for i in range(5):
    big.save(os.path.join(d, f"{i}-large.jpg"), quality=90, exif=exif.tobytes())
    mid.save(os.path.join(d, f"{i}-large.png"))
    mid.save(os.path.join(d, f"{i}-large.bmp"))
    fr = [photo(800, 600).quantize(64) for _ in range(10)]
    fr[0].save(os.path.join(d, f"{i}-anim.gif"), save_all=True, append_images=fr[1:], loop=0,
               duration=100)
PY

best() { # best of 3 runs of "$@": prints "wall cpu" in seconds (cpu = user + sys)
	local b=""
	for _ in 1 2 3; do
		local t
		/usr/bin/time -o "$work/time" -f "%e %U %S" "$@" >/dev/null 2>&1 || true
		t=$(tail -1 "$work/time")
		b=$(echo "$t $b" | awk '{w=$1; c=$2+$3; if ($4=="" || w<$4) print w, c; else print $4, $5}')
	done
	echo "$b"
}
report() { # label files bytes "wall cpu"
	set -- "$1" "$2" "$3" $4
	awk -v l="$1" -v n="$2" -v b="$3" -v w="$4" -v c="$5" 'BEGIN {
		printf "%-38s %4d files %7.1f MB  wall %7.2f s %7.1f files/s %6.2f MB/s  cpu %7.2f s %6.2f MB/s\n",
			l, n, b/1e6, w, n/w, b/1e6/w, c, b/1e6/c}'
}
for set in corpus large; do
	files=("$work/$set"/*)
	n=${#files[@]}
	bytes=$(cat "${files[@]}" | wc -c)
	out=$work/out-$set
	t=$(best bash -c "rm -rf '$out'; '$sekisho' sanitize -o '$out' '$work/$set'")
	report "sekisho $set" "$n" "$bytes" "$t"
	# mat2 writes FILE.cleaned.EXT beside each file; it does not handle BMP
	m2=("$work/$set"/*.png "$work/$set"/*.jpg "$work/$set"/*.gif)
	mb=$(cat "${m2[@]}" | wc -c)
	t=$(best mat2 "${m2[@]}")
	report "mat2 $set (one process, no bmp)" "${#m2[@]}" "$mb" "$t"
	rm -f "$work/$set"/*.cleaned.*
	t=$(best bash -c "rm -rf '$out'; '$sekisho' sanitize -o '$out' ${m2[*]}")
	report "sekisho $set (same files)" "${#m2[@]}" "$mb" "$t"
	if [ "$set" = corpus ]; then
		t=$(best bash -c "for f in ${m2[*]}; do mat2 \"\$f\"; done")
		report "mat2 corpus (one process per file)" "${#m2[@]}" "$mb" "$t"
		rm -f "$work/$set"/*.cleaned.*
		t=$(best bash -c "for f in ${m2[*]}; do '$sekisho' sanitize -o '$out' \"\$f\"; done")
		report "sekisho corpus (one process per file)" "${#m2[@]}" "$mb" "$t"
	fi
done
