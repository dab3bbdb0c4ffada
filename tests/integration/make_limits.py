#!/usr/bin/env python3
"""Inputs for the limit tests and benchmarks (tests/integration/limits.sh, bench/limits.sh).

  make_limits.py dde-xlsx OUT ROWS        xlsx: a sheet of ROWS rows, then a DDE formula cell
  make_limits.py sst-xlsx OUT MBYTES      xlsx: sharedStrings.xml of MBYTES MB of <si><t>x</t></si>
  make_limits.py html-eml OUT MBYTES      mail: a text/html body of MBYTES MB of <p>x
  make_limits.py text-zip OUT ENTRIES MB  zip: ENTRIES text entries of MB MB each (compressible)
"""
import sys, zipfile, random

X = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
OD = "application/vnd.openxmlformats-officedocument."


def rels(rs):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
            "".join('<Relationship Id="%s" Type="%s/%s" Target="%s"/>' % (i, R, t, g) for i, t, g in rs) +
            '</Relationships>')


def xlsx(out, sheet_writer, sst_writer=None):
    ovr = [("/xl/workbook.xml", "sheet.main+xml"), ("/xl/worksheets/sheet1.xml", "worksheet+xml")]
    if sst_writer:
        ovr.append(("/xl/sharedStrings.xml", "sharedStrings+xml"))
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>' +
          "".join('<Override PartName="%s" ContentType="%sspreadsheetml.%s"/>' % (p, OD, c) for p, c in ovr) +
          '</Types>')
    wbrels = [("rId1", "worksheet", "worksheets/sheet1.xml")]
    if sst_writer:
        wbrels.append(("rId2", "sharedStrings", "sharedStrings.xml"))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels([("rId1", "officeDocument", "xl/workbook.xml")]))
        z.writestr("xl/workbook.xml",
                   '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="%s" xmlns:r="%s">'
                   '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>' % (X, R))
        z.writestr("xl/_rels/workbook.xml.rels", rels(wbrels))
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            sheet_writer(f)
        if sst_writer:
            with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
                sst_writer(f)


def dde_xlsx(out, rows):
    def sheet(f):
        f.write(('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="%s"><sheetData>' % X).encode())
        row = '<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d" t="inlineStr"><is><t>x</t></is></c></row>'
        buf = []
        for i in range(1, rows + 1):
            buf.append(row % (i, i, i, i))
            if len(buf) == 10000:
                f.write("".join(buf).encode())
                buf = []
        f.write("".join(buf).encode())
        n = rows + 1
        f.write(('<row r="%d"><c r="A%d"><f>cmd|\' /C calc\'!A0</f><v>0</v></c></row>' % (n, n)).encode())
        f.write(b'</sheetData></worksheet>')
    xlsx(out, sheet)


def sst_xlsx(out, mbytes):
    def sheet(f):
        f.write(('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="%s"><sheetData>'
                 '<row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>' % X).encode())

    def sst(f):
        f.write(('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="%s">' % X).encode())
        # tiny strings, varied enough that the part compresses about 13:1 (as Excel's do)
        rnd = random.Random(13)
        alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        si = ["<si><t>%s</t></si>" % rnd.choice(alpha) for _ in range(1 << 16)]
        left = mbytes * (1 << 20)
        while left > 0:
            rnd.shuffle(si)
            block = "".join(si).encode()
            f.write(block)
            left -= len(block)
        f.write(b"</sst>")
    xlsx(out, sheet, sst)


def html_eml(out, mbytes):
    with open(out, "wb") as f:
        f.write(b"From: a@evil.example\r\nTo: u@lg.example\r\nSubject: big html\r\n"
                b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=UTF-8\r\n"
                b"Content-Transfer-Encoding: 8bit\r\n\r\n")
        line = b"<p>x" * 19 + b"\r\n"  # 78 bytes a line
        f.write(line * (mbytes * (1 << 20) // len(line)))


def text_zip(out, entries, mb):
    # lines of 24 random hex digits and a fixed Japanese phrase: about 5:1 under deflate
    import os
    tail = " 住民票の写しの交付申請について、区役所の窓口で受け付けます。\n"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as z:
        for e in range(entries):
            with z.open("docs/file%04d.txt" % e, "w", force_zip64=True) as f:
                left = mb * (1 << 20)
                while left > 0:
                    h = os.urandom(1 << 16).hex()
                    block = "".join(h[i:i + 24] + tail for i in range(0, len(h), 24)).encode()
                    block = block[:left]
                    # keep whole UTF-8 characters at a cut
                    while block and (block[-1] & 0xC0) == 0x80:
                        block = block[:-1]
                    if block and block[-1] >= 0xC0:
                        block = block[:-1]
                    f.write(block)
                    left -= len(block)
                    if len(block) == 0:
                        f.write(b"\n" * left)
                        left = 0


if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    args = [int(a) for a in sys.argv[3:]]
    {"dde-xlsx": dde_xlsx, "sst-xlsx": sst_xlsx, "html-eml": html_eml, "text-zip": text_zip}[kind](out, *args)
