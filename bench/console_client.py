#!/usr/bin/env python3
"""The client of bench/console.sh (python3 standard library only).

  console_client.py make DIR N        writes N files of about 100 KB into DIR, a quarter
                                      each docx, xlsx, pdf, png (generated, random content)
  console_client.py login CERT PORT TOTP_SECRET PASSWORD
                                      logs in as user `bench` on both listeners (internet
                                      127.0.0.2, LGWAN 127.0.0.3); prints the sessions
  console_client.py run DIR CERT PORT SESSIONS CLIENTS
                                      with the sessions printed by login, CLIENTS threads,
                                      each with its own keep-alive HTTPS connections,
                                      upload every file of DIR (POST /api/items on the
                                      internet listener) and download the result (GET
                                      /api/items/ID/content on the LGWAN listener); prints
                                      one line: files wall_s files_per_s p50_ms p99_ms bad
The latency of a file is from the start of its upload to the end of its download."""
import http.client
import io
import json
import os
import random
import re
import ssl
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from urllib.parse import quote

SIZE = 100 * 1024


def noise(n, rnd):
    return bytes(rnd.getrandbits(8) for _ in range(n))


def png(w, h, rnd):
    raw = b"".join(b"\0" + noise(w * 3, rnd) for _ in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"tEXt", b"Author\0bench") + chunk(b"IDAT", zlib.compress(raw, 6))
            + chunk(b"IEND", b""))


def docx(rnd):
    W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Default Extension="png" ContentType="image/png"/>'
          '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
          '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
          '</Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="%s/officeDocument" Target="word/document.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '</Relationships>' % R)
    drels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
             '<Relationship Id="rId5" Type="%s/image" Target="media/image1.png"/></Relationships>' % R)
    core = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>山田 太郎</dc:creator></cp:coreProperties>')
    paras = "".join('<w:p><w:r><w:t>第%d条 住民基本台帳事務の取扱いについて、別紙のとおり通知します。%d</w:t></w:r></w:p>'
                    % (i, rnd.randrange(10 ** 9)) for i in range(400))
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="%s" xmlns:r="%s">'
           '<w:body>%s</w:body></w:document>' % (W, R, paras))
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("docProps/core.xml", core)
        z.writestr("word/document.xml", doc)
        z.writestr("word/_rels/document.xml.rels", drels)
        z.writestr("word/media/image1.png", png(160, 185, rnd))
    return b.getvalue()


def xlsx(rnd):
    ct = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
          '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          '</Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>')
    wb = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
          '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
          '<sheets><sheet name="集計" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wrels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
             '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
             '</Relationships>')
    rows = []
    for r in range(1, 1850):
        cells = "".join('<c r="%s%d"><v>%d</v></c>' % (c, r, rnd.randrange(10 ** 9)) for c in "ABCDEF")
        rows.append('<row r="%d">%s</row>' % (r, cells))
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             '<sheetData>%s</sheetData></worksheet>' % "".join(rows))
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", wb)
        z.writestr("xl/_rels/workbook.xml.rels", wrels)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return b.getvalue()


def pdf(rnd):
    pages = 21
    objs = {1: b"<< /Type /Catalog /Pages 2 0 R >>",
            3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            4: b"<< /Producer (bench) /Author (Yamada Taro) >>"}
    kids = []
    for i in range(pages):
        lines = "".join("BT /F1 9 Tf 40 %d Td (Line %d: %d %d) Tj ET\n"
                        % (800 - 11 * k, k, rnd.randrange(10 ** 12), rnd.randrange(10 ** 12))
                        for k in range(70)).encode()
        pn, cn = 10 + 2 * i, 11 + 2 * i
        objs[cn] = b"<< /Length %d >>\nstream\n" % len(lines) + lines + b"\nendstream"
        objs[pn] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                    b"/Resources << /Font << /F1 3 0 R >> >> >>" % cn)
        kids.append(b"%d 0 R" % pn)
    objs[2] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % pages
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offs = {}
    for n in sorted(objs):
        offs[n] = len(out)
        out += b"%d 0 obj\n" % n + objs[n] + b"\nendobj\n"
    xref = len(out)
    top = max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % top
    for n in range(1, top):
        out += (b"%010d 00000 n \n" % offs[n]) if n in offs else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (top, xref)
    return bytes(out)


def make(d, n):
    os.makedirs(d, exist_ok=True)
    rnd = random.Random(20261207)
    kinds = [("docx", docx), ("xlsx", xlsx), ("pdf", pdf), ("png", lambda r: png(180, 190, r))]
    for i in range(n):
        ext, fn = kinds[i % 4]
        open(os.path.join(d, "file%04d.%s" % (i, ext)), "wb").write(fn(rnd))


def totp(secret, step):
    return subprocess.check_output(["oathtool", "--totp", "-b", secret, "--now", "@%d" % (step * 30 + 1)],
                                   text=True).strip()


def login(ctx, host, port, password, code):
    c = http.client.HTTPSConnection(host, port, context=ctx, timeout=300)
    c.request("POST", "/api/session", json.dumps({"user": "bench", "password": password, "totp": code}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    body = json.loads(r.read())
    c.close()
    if r.status != 200:
        sys.exit("login on %s: %d %s" % (host, r.status, body))
    tok = re.match(r"sk_session=([^;]+);", r.headers["Set-Cookie"]).group(1)
    return tok, body["csrf"]


def login_both(cert, port, secret, password):
    ctx = ssl.create_default_context(cafile=cert)
    # a code is never accepted twice: the second login takes the next step's code
    step = int(time.time()) // 30
    itok, icsrf = login(ctx, "127.0.0.2", port, password, totp(secret, step))
    ltok, _ = login(ctx, "127.0.0.3", port, password, totp(secret, step + 1))
    print(itok, icsrf, ltok)


def run(d, cert, port, sessions, clients):
    ctx = ssl.create_default_context(cafile=cert)
    itok, icsrf, ltok = open(sessions).read().split()
    files = sorted(os.listdir(d))
    data = [(f, open(os.path.join(d, f), "rb").read()) for f in files]
    lock = threading.Lock()
    nxt = [0]
    lat, bad = [], []

    def worker():
        up = http.client.HTTPSConnection("127.0.0.2", port, context=ctx, timeout=300)
        down = http.client.HTTPSConnection("127.0.0.3", port, context=ctx, timeout=300)
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= len(data):
                break
            name, body = data[i]
            t0 = time.monotonic()
            up.request("POST", "/api/items?name=" + quote(name, safe=""), body,
                       {"Cookie": "sk_session=" + itok, "X-CSRF-Token": icsrf,
                        "Content-Type": "application/octet-stream"})
            r = up.getresponse()
            j = json.loads(r.read())
            if r.status != 201 or not j.get("has_content"):
                with lock:
                    bad.append((name, r.status, j.get("verdict"), j.get("reason")))
                continue
            down.request("GET", "/api/items/%s/content" % j["id"], headers={"Cookie": "sk_session=" + ltok})
            r = down.getresponse()
            out = r.read()
            t1 = time.monotonic()
            with lock:
                if r.status == 200 and out:
                    lat.append(t1 - t0)
                else:
                    bad.append((name, r.status, "download", ""))
        up.close()
        down.close()

    t0 = time.monotonic()
    th = [threading.Thread(target=worker) for _ in range(clients)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    wall = time.monotonic() - t0
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else 0
    for b in bad[:5]:
        print("# not delivered: %s" % (b,), file=sys.stderr)
    print("%d %.3f %.1f %.1f %.1f %d" % (len(lat), wall, len(lat) / wall, pct(0.50), pct(0.99), len(bad)))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "login":
        login_both(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    else:
        run(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
