#!/usr/bin/env bash
# ZIP archives through `sekisho sanitize`, made and checked with independent tools:
# Info-ZIP zip (symlinks, UTF-8 names without the UTF-8 flag, a password), Python's
# zipfile (hostile names), then unzip -t / unzip -Z1 / zipfile on the output.
# Usage: zip_cli.sh PATH-TO-sekisho. Output: TAP.
set -u
sekisho=$(readlink -f "$1") # meson passes it relative to the build folder
if [ ! -x "$sekisho" ]; then
	echo "Bail out! no sekisho at $1"
	exit 1
fi
py=/usr/bin/python3
[ -x "$py" ] || py=python3
export LC_ALL=C.UTF-8
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { # description, command...
	local d=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$d"; else nok "$d"; fi
}

if ! command -v zip >/dev/null || ! command -v unzip >/dev/null; then
	echo "1..0 # SKIP zip/unzip not installed"
	exit 0
fi
echo "1..14"

# --- an ordinary archive made by Info-ZIP -------------------------------------------
mkdir -p src/sub src/inner
(cd src/inner && mkdir d && zip -qr ../inner.zip d)
rm -rf src/inner
cp src/inner.zip "src/資料.zip"
printf 'MZ\x90\0\3\0\0\0' >src/evil.exe
echo "meeting at 10" >src/notes.txt
ln -s /etc/passwd src/link
(cd src && zip -qry ../in.zip sub inner.zip 資料.zip evil.exe notes.txt link)

"$sekisho" sanitize --json -o out in.zip >in.json
check "ordinary archive: delivered (exit 0)" test $? -eq 0
check "ordinary archive: verdict sanitized" grep -q '"verdict": *"sanitized"' in.json
check "unzip -t accepts the rebuilt archive" unzip -tq out/in.zip
unzip -Z1 out/in.zip >in.list 2>/dev/null
check "nested zip, UTF-8 name and directory kept" \
	bash -c 'grep -qx inner.zip in.list && grep -qx "資料.zip" in.list && grep -qx sub/ in.list'
check "symlink and executable dropped" bash -c '! grep -q -e "^link$" -e "evil.exe" in.list'
check "dropped entries listed in the report" \
	bash -c 'grep -q "\"detail\": *\"symlink\"" in.json && grep -q "\"detail\": *\"executable\"" in.json'
check "UTF-8 name written by Info-ZIP without the UTF-8 flag: kept, and flagged in the output" \
	"$py" - <<'EOF'
import zipfile, sys
z = zipfile.ZipFile("out/in.zip")
i = z.getinfo("資料.zip")
sys.exit(0 if i.flag_bits & 0x800 else 1)
EOF

# --- PPAP: a password zip --------------------------------------------------------------
(cd src && zip -qP secret ../enc.zip notes.txt)
"$sekisho" sanitize --json -o out enc.zip >enc.json
check "password zip: blocked (exit 1)" test $? -eq 1
check "password zip: reason encrypted" grep -q '"reason": *"encrypted"' enc.json
check "password zip: no output written" test ! -e out/enc.zip

# --- hostile names written by Python's zipfile ----------------------------------------
"$py" - <<'EOF'
import zipfile
inner = open("src/inner.zip", "rb").read()
with zipfile.ZipFile("hostile.zip", "w") as z:
    z.writestr("../../escape.zip", inner)
    z.writestr("/etc/abs.zip", inner)
    z.writestr("report\u202egpj.zip", inner)
EOF
"$sekisho" sanitize --json -o out hostile.zip >hostile.json
check "hostile names: unzip -t accepts the output" unzip -tq out/hostile.zip
unzip -Z1 out/hostile.zip >hostile.list 2>/dev/null
check "hostile names: no .., no absolute path, no RTLO" \
	bash -c '! grep -q -e "\.\." -e "^/" -e $'"'"'\xe2\x80\xae'"'"' hostile.list && grep -qx escape.zip hostile.list && grep -qx etc/abs.zip hostile.list && grep -qx reportgpj.zip hostile.list'
mkdir -p x/y
(cd x/y && unzip -q ../../out/hostile.zip)
check "hostile names: extraction stays inside its folder" \
	bash -c '[ -z "$(ls -A x | grep -vx y)" ] && [ -e x/y/escape.zip ]'
check "hostile names: renames reported" \
	bash -c '[ "$(grep -o "\"renamed\"" hostile.json | wc -l)" -eq 3 ]'

exit $((fails > 0))
