#!/usr/bin/env python3
"""Independent checks of 画像化 outputs (render.sh, bench/render.sh).

  render_check.py recall REF.txt GOT.txt
      prints "recall ORDERED": the share of REF's characters (whitespace ignored) found in
      GOT counted as a multiset, and the share found in the same order (longest matching
      blocks, difflib) — the second one shows reading order (vertical text).
  render_check.py structure OUT.qdf.pdf
      OUT written by `qpdf --qdf --object-streams=disable`: prints what is wrong (nothing
      when all is well): an XObject that is not an image, a font that is not Type 3, any
      annotation, action, outline, metadata, /Info, JavaScript, form or link, a text object
      without render mode 3.
  render_check.py notext IN.qdf.pdf OUT.qdf.pdf
      the same document with every text object (BT … ET) removed from the page contents,
      for `fix-qdf` and a render to compare with the original.
"""
import collections
import difflib
import re
import sys


def chars(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return [c for c in f.read() if not c.isspace()]


def recall(ref, got):
    a, b = chars(ref), chars(got)
    if not a:
        return 0.0, 0.0
    bag = sum((collections.Counter(a) & collections.Counter(b)).values()) / len(a)
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    ordered = sum(m.size for m in sm.get_matching_blocks()) / len(a)
    return bag, ordered


FORBIDDEN = [b"/Annots", b"/Info", b"/Metadata", b"/Outlines", b"/AA", b"/OpenAction", b"/JS",
             b"/JavaScript", b"/AcroForm", b"/URI", b"/Link", b"/Names", b"/EmbeddedFile",
             b"/Launch", b"/Dests", b"/StructTreeRoot", b"/PieceInfo", b"/Producer",
             b"/Creator", b"/Title", b"/Author", b"/CreationDate"]


def structure(path):
    data = open(path, "rb").read()
    problems = []
    for key in FORBIDDEN:
        if re.search(re.escape(key) + rb"(?![A-Za-z])", data):
            problems.append("has " + key.decode())
    # objects: "N 0 obj ... endobj"
    objs = re.findall(rb"\n(\d+) 0 obj\n(.*?)\nendobj", data, re.S)
    xobjects = fonts = images = 0
    for num, body in objs:
        head = body.split(b"stream\n", 1)[0]
        if re.search(rb"/Type /XObject", head) or re.search(rb"/Subtype /(Image|Form|PS)\b", head):
            xobjects += 1
            if not re.search(rb"/Subtype /Image\b", head):
                problems.append("object %s: an XObject that is not an image" % num.decode())
            else:
                images += 1
        if re.search(rb"/Type /Font\b", head):
            fonts += 1
            if not re.search(rb"/Subtype /Type3\b", head):
                problems.append("object %s: a font that is not Type 3" % num.decode())
    # page contents (qdf marks them "%% Contents for page N")
    contents = re.findall(rb"%% Contents for page \d+\n%% Original object ID: [^\n]*\n\d+ 0 obj\n.*?stream\n(.*?)endstream", data, re.S)
    if not contents:
        problems.append("no page contents found")
    bt = tr = 0
    for c in contents:
        bt += len(re.findall(rb"(?<![A-Za-z])BT(?![A-Za-z])", c))
        tr += len(re.findall(rb"(?<![A-Za-z])BT\s+3 Tr(?![A-Za-z])", c))
        if re.search(rb"(?<![A-Za-z])[0-24-7] Tr(?![A-Za-z])", c):
            problems.append("a text render mode other than 3")
    if bt != tr:
        problems.append("%d text objects, %d of them with render mode 3" % (bt, tr))
    if not images:
        problems.append("no image")
    print("\n".join(problems))
    sys.stderr.write("images=%d fonts=%d text-objects=%d\n" % (images, fonts, bt))


def notext(src, dst):
    data = open(src, "rb").read()

    def strip(m):
        return m.group(1) + re.sub(rb"(?<![A-Za-z])BT(?![A-Za-z]).*?(?<![A-Za-z])ET(?![A-Za-z])",
                                   b"", m.group(2), flags=re.S) + m.group(3)

    out = re.sub(rb"(%% Contents for page \d+\n.*?stream\n)(.*?)(endstream)", strip, data, flags=re.S)
    open(dst, "wb").write(out)


def main():
    cmd = sys.argv[1]
    if cmd == "recall":
        bag, ordered = recall(sys.argv[2], sys.argv[3])
        print("%.3f %.3f" % (bag, ordered))
    elif cmd == "structure":
        structure(sys.argv[2])
    elif cmd == "notext":
        notext(sys.argv[2], sys.argv[3])
    else:
        sys.exit("usage: render_check.py recall|structure|notext …")


if __name__ == "__main__":
    main()
