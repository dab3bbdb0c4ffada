#!/bin/bash
# Every message of the MIME corpus through `sekisho mail` (both profiles): each gives a
# parseable message with no text/html part and no attachment that was not sanitised, or
# is held with a reason; never a crash or a hang (10 s per message). The mail engine runs
# in a sandboxed worker; the same message with --in-process gives the same bytes and the
# same exit status (the sandbox changes nothing but where the parsing happens).
# usage: mail_corpus.sh SEKISHO CORPUS_ROOT
set -u
. "$(dirname "$0")/tap.sh"
SEKISHO=$(realpath "$1")
CORPUS=$2/mime
[ -d "$CORPUS" ] || CORPUS=/work/shared/corpus/mime
if [ ! -d "$CORPUS" ]; then
	skip "mail corpus" "no corpus at $2/mime or /work/shared/corpus/mime"
	done_testing
	exit 0
fi
T=$(mktemp -d /tmp/sk-mailcorpus-XXXXXX)
trap 'rm -rf "$T"' EXIT
for profile in default sanitize; do
	n=0 delivered=0 held=0 bad=0 differ=0
	: > "$T/list"
	while IFS= read -r -d '' f; do
		n=$((n + 1))
		timeout 10 "$SEKISHO" mail --profile "$profile" < "$f" > "$T/out.eml" 2> "$T/err"
		rc=$?
		timeout 10 "$SEKISHO" mail --in-process --profile "$profile" < "$f" > "$T/inp.eml" 2> "$T/inp.err"
		rc2=$?
		if [ $rc -ne $rc2 ] || ! cmp -s "$T/out.eml" "$T/inp.eml"; then
			differ=$((differ + 1))
			diag "$profile: worker and --in-process differ on $f (rc $rc / $rc2): $(head -c 200 "$T/err")"
		fi
		case $rc in
		0) delivered=$((delivered + 1)); echo "D $f" >> "$T/list"; cp "$T/out.eml" "$T/d$n.eml" ;;
		1) held=$((held + 1)); echo "H $f $(cat "$T/err")" >> "$T/list"; cp "$T/out.eml" "$T/h$n.eml" ;;
		*) bad=$((bad + 1)); diag "$profile: rc=$rc on $f: $(head -c 300 "$T/err")" ;;
		esac
	done < <(find "$CORPUS" -type f -print0 | sort -z)
	ok "$bad" "$profile: $n messages, $delivered delivered, $held held, no crash/hang/error ($bad)"
	ok "$differ" "$profile: the worker's output is the in-process output, byte for byte ($differ differ)"
	/usr/bin/python3 - "$T" "$profile" <<'PY'
import email, email.policy, glob, os, sys
T, profile = sys.argv[1], sys.argv[2]
bad = 0
for f in sorted(glob.glob(os.path.join(T, 'd*.eml')) + glob.glob(os.path.join(T, 'h*.eml'))):
    with open(f, 'rb') as fh:
        raw = fh.read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    why = None
    if m.defects or not m['X-Mail-Sanitized']:
        why = 'defects %r / no X-Mail-Sanitized' % (m.defects,)
    types = [p.get_content_type() for p in m.walk()]
    if 'text/html' in types:
        why = 'text/html part'
    atts = [p for p in m.walk() if p.get_filename()]
    if profile == 'default' and atts:
        why = 'attachment left in DEL_ATTACH'
    text = m.get_body(preferencelist=('plain',))
    try:
        t = text.get_content() if text else None
    except Exception as e:
        t = None
    if t is None or not t.startswith(('【sekisho】', '[sekisho]')):
        why = 'no readable notice'
    if os.path.basename(f).startswith('h') and m['X-Mail-Sanitized'] != 'HELD':
        why = 'held without HELD'
    if why:
        bad += 1
        print('# %s: %s' % (os.path.basename(f), why))
sys.exit(1 if bad else 0)
PY
	ok $? "$profile: every output parses, has a notice, no text/html, no unsanitised attachment"
	if [ "$held" -gt 0 ]; then
		grep '^H' "$T/list" | sed 's/^/# /' | head -20
	fi
	rm -f "$T"/d*.eml "$T"/h*.eml
done
done_testing
