#!/usr/bin/env bash
# The shared corpus (files from other projects): every file is delivered or blocked with a
# reason — never a crash — and every delivered image decodes and keeps its pixel size.
set -u
. "$(dirname "$0")/tap.sh"
SK=$(readlink -f "${1:?path to sekisho}")
CORPUS=${2:?corpus folder}
if [ ! -d "$CORPUS/office/mat2" ]; then
	skip "corpus office/mat2" "no corpus at $CORPUS"
	done_testing
	exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

"$SK" sanitize --json -o "$T/out" "$CORPUS/office/mat2" > "$T/jl" 2> "$T/err"
rc=$?
ok $([ $rc -le 1 ]; echo $?) "office/mat2: exit status 0 or 1 (got $rc), no crash"
n_in=$(find "$CORPUS/office/mat2" -type f | wc -l)
n_out=$(wc -l < "$T/jl")
ok $([ "$n_in" -eq "$n_out" ]; echo $?) "office/mat2: one verdict per file ($n_out of $n_in)"

# per file: delivered with an output that exists, or blocked with a reason
/usr/bin/python3 - "$T/jl" <<'PY' > "$T/per-file"
import json, os, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    name = os.path.basename(o["input"])
    if o["verdict"] == "blocked":
        good = bool(o["reason"]) and o["output"] is None
        print(("0" if good else "1"), f"{name}: blocked ({o['reason']})")
    else:
        good = o["output"] is not None and os.path.isfile(o["output"])
        print(("0" if good else "1"), f"{name}: {o['verdict']} -> output exists")
PY
while read -r st desc; do ok "$st" "$desc"; done < "$T/per-file"

# delivered images decode (PIL, not our decoder) with the same size as the original
/usr/bin/python3 - "$T/jl" <<'PY' > "$T/images"
import json, os, sys
from PIL import Image
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["verdict"] == "blocked" or o["type"] not in ("png", "jpeg", "gif", "bmp"):
        continue
    name = os.path.basename(o["input"])
    try:
        a = Image.open(o["input"]); b = Image.open(o["output"]); b.load()
        same = a.size == b.size
        print(("0" if same else "1"), f"{name}: output decodes, {b.size[0]}x{b.size[1]} (original {a.size[0]}x{a.size[1]})")
    except Exception as e:
        print("1", f"{name}: output does not decode: {e}")
PY
if [ -s "$T/images" ]; then
	while read -r st desc; do ok "$st" "$desc"; done < "$T/images"
else
	skip "delivered images decode" "no image was delivered"
fi
done_testing
