#!/usr/bin/env python3
"""Outlook .msg files for the tests, independently of sekisho's C code: a compound file
(OLE2/CFB) reader and writer written here from [MS-CFB], MAPI properties from [MS-OXMSG],
compressed RTF (literals only) from [MS-OXRTFCP].

  msg_tool.py read FILE.msg         the message as JSON: subject, body, sender, recipients,
                                    attachments (name, size, sha256), embedded messages
  msg_tool.py japanese OUT.msg [front]   a Japanese message (Unicode and CP932 strings,
                                    a CP932 HTML body copy, attachments: a CSV, an
                                    executable, an embedded message with its own
                                    attachment); front: the FAT and directory first
  msg_tool.py seeds DIR             small messages for the fuzz harnesses
"""
import hashlib
import json
import struct
import sys
import zlib

ENDOFCHAIN, FREESECT, FATSECT, DIFSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFC, 0xFFFFFFFF


# ---- reading ----------------------------------------------------------------------------

class Cfb:
    """A whole compound file in memory; raises ValueError on anything inconsistent."""

    def __init__(self, data):
        if data[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise ValueError("not a compound file")
        self.d = data
        self.ssz = 1 << struct.unpack_from("<H", data, 0x1E)[0]
        nfat, dir0 = struct.unpack_from("<II", data, 0x2C)
        self.mfat0, nmfat, dif0, ndif = struct.unpack_from("<IIII", data, 0x3C)
        per = self.ssz // 4
        difat = list(struct.unpack_from("<109I", data, 0x4C))
        s, seen = dif0, set()
        while len(difat) < nfat and s < 0xFFFFFFFA:
            if s in seen:
                raise ValueError("DIFAT loop")
            seen.add(s)
            v = struct.unpack_from("<%dI" % per, self.sector(s))
            difat += v[:-1]
            s = v[-1]
        self.fat = []
        for s in difat[:nfat]:
            self.fat += struct.unpack_from("<%dI" % per, self.sector(s))
        dirdata = b"".join(self.sector(s) for s in self.chain(dir0))
        self.ents = []
        for i in range(len(dirdata) // 128):
            e = dirdata[i * 128:(i + 1) * 128]
            nl = struct.unpack_from("<H", e, 0x40)[0]
            name = e[:max(nl - 2, 0)].decode("utf-16-le", "replace")
            typ = e[0x42]
            left, right, child = struct.unpack_from("<III", e, 0x44)
            start = struct.unpack_from("<I", e, 0x74)[0]
            size = struct.unpack_from("<Q", e, 0x78)[0]
            if self.ssz == 512:
                size &= 0xFFFFFFFF
            self.ents.append(dict(name=name, type=typ, left=left, right=right, child=child,
                                  start=start, size=size))
        root = self.ents[0]
        self.ministream = b"".join(self.sector(s) for s in self.chain(root["start"]))[:root["size"]]
        mf = b"".join(self.sector(s) for s in self.chain(self.mfat0)) if nmfat else b""
        self.minifat = list(struct.unpack_from("<%dI" % (len(mf) // 4), mf))

    def sector(self, s):
        off = (s + 1) * self.ssz
        if off >= len(self.d):
            raise ValueError("sector %d outside the file" % s)
        return self.d[off:off + self.ssz]

    def chain(self, s, table=None):
        table = self.fat if table is None else table
        out, seen = [], set()
        while s not in (ENDOFCHAIN, FREESECT):
            if s in seen or s >= len(table):
                raise ValueError("bad chain")
            seen.add(s)
            out.append(s)
            s = table[s]
        return out

    def children(self, idx):
        """{name: index} of the entries in storage idx's tree."""
        out, stack, seen = {}, [self.ents[idx]["child"]], set()
        while stack:
            i = stack.pop()
            if i == NOSTREAM:
                continue
            if i in seen or i >= len(self.ents):
                raise ValueError("bad tree")
            seen.add(i)
            e = self.ents[i]
            out[e["name"]] = i
            stack += [e["left"], e["right"]]
        return out

    def read(self, idx):
        e = self.ents[idx]
        if e["size"] < 4096:
            data = b"".join(self.ministream[m * 64:(m + 1) * 64]
                            for m in self.chain(e["start"], self.minifat))
        else:
            data = b"".join(self.sector(s) for s in self.chain(e["start"]))
        if len(data) < e["size"]:
            raise ValueError("stream cut short")
        return data[:e["size"]]


CODEPAGES = {932: "cp932", 936: "gbk", 949: "cp949", 950: "big5", 1250: "cp1250", 1251: "cp1251",
             1252: "cp1252", 1253: "cp1253", 1254: "cp1254", 1255: "cp1255", 1256: "cp1256",
             1257: "cp1257", 1258: "cp1258", 65001: "utf-8", 20127: "ascii", 28591: "latin-1",
             50220: "iso2022_jp", 51932: "euc_jp", 20866: "koi8_r"}


class Message:
    def __init__(self, cfb, idx=0, hdr=32):
        self.c, self.idx = cfb, idx
        self.kids = cfb.children(idx)
        self.props = {}
        if "__properties_version1.0" in self.kids:
            p = cfb.read(self.kids["__properties_version1.0"])
            for off in range(hdr, len(p) - 15, 16):
                tag, _flags, val = struct.unpack_from("<IIQ", p, off)
                self.props[tag] = val
        cp = self.props.get(0x3FFD0003) or self.props.get(0x3FDE0003)
        self.codepage = CODEPAGES.get(cp & 0xFFFFFFFF if cp else 0)

    def string(self, pid, kids=None):
        kids = self.kids if kids is None else kids
        u = "__substg1.0_%04X001F" % pid
        if u in kids:
            return self.c.read(kids[u]).decode("utf-16-le", "replace").split("\0")[0]
        a = "__substg1.0_%04X001E" % pid
        if a in kids:
            raw = self.c.read(kids[a]).split(b"\0")[0]
            for enc in ([self.codepage] if self.codepage else []) + ["utf-8", "cp932", "cp1252"]:
                try:
                    return raw.decode(enc)
                except UnicodeDecodeError:
                    pass
        return None

    def binary(self, pid, kids=None):
        kids = self.kids if kids is None else kids
        n = "__substg1.0_%04X0102" % pid
        return self.c.read(kids[n]) if n in kids else None

    def summary(self):
        out = dict(subject=self.string(0x0037), body=self.string(0x1000),
                   message_class=self.string(0x001A),
                   sender=self.string(0x0042) or self.string(0x0C1A),
                   html=self.binary(0x1013) is not None, rtf=self.binary(0x1009) is not None,
                   recipients=[], attachments=[])
        for name in sorted(self.kids):
            if name.startswith("__recip_version1.0_#"):
                k = self.c.children(self.kids[name])
                out["recipients"].append(dict(name=self.string(0x3001, k),
                                              smtp=self.string(0x39FE, k)))
            if name.startswith("__attach_version1.0_#"):
                k = self.c.children(self.kids[name])
                a = dict(name=self.string(0x3707, k) or self.string(0x3704, k)
                         or self.string(0x3001, k))
                data = self.binary(0x3701, k)
                if data is not None:
                    a.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
                elif "__substg1.0_3701000D" in k:
                    obj = k["__substg1.0_3701000D"]
                    if "__properties_version1.0" in self.c.children(obj):
                        a["message"] = Message(self.c, obj, 24).summary()
                out["attachments"].append(a)
        return out


# ---- writing ----------------------------------------------------------------------------

def _cfb_key(name):
    return (len(name), name.upper())


def cfb_write(tree, front=False):
    """tree: {name: bytes (a stream) or dict (a storage)} → version 3 compound file bytes.
    The FAT and the directory come last, or first with front (then cutting the file's
    end cuts a stream, not the tables)."""
    ents = [dict(name="Root Entry", type=5, kids=[], data=None)]

    def add(t, parent):
        for name, v in t.items():
            e = dict(name=name, type=1 if isinstance(v, dict) else 2, kids=[],
                     data=None if isinstance(v, dict) else bytes(v))
            ents.append(e)
            ents[parent]["kids"].append(len(ents) - 1)
            if isinstance(v, dict):
                add(v, len(ents) - 1)
    add(tree, 0)
    for e in ents:
        e["left"] = e["right"] = e["child"] = NOSTREAM
    for e in ents:
        kids = sorted(e["kids"], key=lambda i: _cfb_key(ents[i]["name"]))

        def bal(ids):
            if not ids:
                return NOSTREAM
            m = len(ids) // 2
            ents[ids[m]]["left"], ents[ids[m]]["right"] = bal(ids[:m]), bal(ids[m + 1:])
            return ids[m]
        e["child"] = bal(kids)
    ssz = 512
    big, mini = b"", b""
    fat_chains, mini_chains = [], []
    for e in ents[1:]:
        d = e["data"]
        if d is None:
            e["start"], e["size"] = 0, 0
        elif len(d) >= 4096:
            n = -(-len(d) // ssz)
            e["start"], e["size"] = len(big) // ssz, len(d)  # relative to the big area
            fat_chains.append((e, n))
            big += d + b"\0" * (n * ssz - len(d))
        elif d:
            n = -(-len(d) // 64)
            e["start"], e["size"] = len(mini) // 64, len(d)
            mini_chains.append((e["start"], n))
            mini += d + b"\0" * (n * 64 - len(d))
        else:
            e["start"], e["size"] = ENDOFCHAIN, 0
    nbig, nms = len(big) // ssz, -(-len(mini) // ssz)
    nmf, ndir = -(-(len(mini) // 64) * 4 // ssz), -(-len(ents) * 128 // ssz)
    other = nbig + nms + nmf + ndir
    nfat = 1
    while other + nfat > nfat * (ssz // 4):
        nfat += 1
    if nfat > 109:
        raise ValueError("too large for this writer")
    order = (["fat", "dir", "mf", "ms", "big"] if front else ["big", "ms", "mf", "dir", "fat"])
    size = dict(fat=nfat, dir=ndir, mf=nmf, ms=nms, big=nbig)
    pos, s = {}, 0
    for k in order:
        pos[k] = s
        s += size[k]
    fat = [FREESECT] * (nfat * ssz // 4)

    def chain(table, first, n):
        for k in range(n):
            table[first + k] = first + k + 1 if k + 1 < n else ENDOFCHAIN
    for e, n in fat_chains:
        e["start"] += pos["big"]
        chain(fat, e["start"], n)
    chain(fat, pos["ms"], nms)
    chain(fat, pos["mf"], nmf)
    chain(fat, pos["dir"], ndir)
    for k in range(nfat):
        fat[pos["fat"] + k] = FATSECT
    minifat = [FREESECT] * (nmf * ssz // 4)
    for first, n in mini_chains:
        chain(minifat, first, n)
    ents[0]["start"], ents[0]["size"] = (pos["ms"] if nms else ENDOFCHAIN), len(mini)
    h = bytearray(512)
    h[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", h, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", h, 0x28, 0, nfat, pos["dir"], 0, 4096,
                     pos["mf"] if nmf else ENDOFCHAIN, nmf, ENDOFCHAIN, 0)
    struct.pack_into("<109I", h, 0x4C,
                     *([pos["fat"] + k for k in range(nfat)] + [FREESECT] * (109 - nfat)))
    dirb = bytearray(ndir * ssz)
    for i, e in enumerate(ents):
        o = i * 128
        nm = e["name"].encode("utf-16-le")
        dirb[o:o + len(nm)] = nm
        struct.pack_into("<HBB", dirb, o + 0x40, len(nm) + 2, e["type"], 1)
        struct.pack_into("<III", dirb, o + 0x44, e["left"], e["right"], e["child"])
        struct.pack_into("<IQ", dirb, o + 0x74, e["start"], e["size"])
    for i in range(len(ents), ndir * ssz // 128):
        struct.pack_into("<III", dirb, i * 128 + 0x44, NOSTREAM, NOSTREAM, NOSTREAM)
    mini += b"\0" * (nms * ssz - len(mini))
    area = dict(fat=struct.pack("<%dI" % len(fat), *fat), dir=bytes(dirb),
                mf=struct.pack("<%dI" % len(minifat), *minifat), ms=mini, big=big)
    return bytes(h) + b"".join(area[k] for k in order)


def lzfu_literal(raw):
    """Compressed RTF of raw: literals only, then the end marker."""
    out, i, end = bytearray(), 0, False
    while not end:
        pos = len(out)
        out.append(0)
        ctl = 0
        for bit in range(8):
            if i < len(raw):
                out.append(raw[i])
                i += 1
            else:
                off = (207 + len(raw)) & 4095
                ctl |= 1 << bit
                out += bytes([off >> 4, (off << 4) & 0xFF])
                end = True
                break
        out[pos] = ctl
    crc = zlib.crc32(bytes(out), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return struct.pack("<II4sI", len(out) + 12, len(raw), b"LZFu", crc) + bytes(out)


def _props(hdr, fixed):
    out = bytearray(hdr)
    for pid, typ, val in fixed:
        out += struct.pack("<IIQ", pid << 16 | typ, 6, val)
    return bytes(out)


def _u(s):
    return s.encode("utf-16-le") + b"\0\0"


def make_message(subject, body=None, body8=None, codepage=None, sender=None, sender_smtp=None,
                 recipients=(), attachments=(), html=None, rtf=None, submit=None, hdr=32,
                 message_class="IPM.Note"):
    """The storage of one message as a tree for cfb_write. attachments: (name, bytes) or
    (name, dict) for an embedded message (a tree made by make_message(hdr=24))."""
    t = {}
    fixed = []
    if codepage:
        fixed.append((0x3FFD, 3, codepage))
    if submit:
        fixed.append((0x0039, 0x40, (submit + 11644473600) * 10000000))
    t["__substg1.0_001A001F"] = _u(message_class)
    if subject is not None:
        t["__substg1.0_0037001F"] = _u(subject)
    if body is not None:
        t["__substg1.0_1000001F"] = _u(body)
    if body8 is not None:
        t["__substg1.0_1000001E"] = body8 + b"\0"
    if html is not None:
        t["__substg1.0_10130102"] = html
    if rtf is not None:
        t["__substg1.0_10090102"] = lzfu_literal(rtf)
    if sender:
        t["__substg1.0_0C1A001F"] = _u(sender)
    if sender_smtp:
        t["__substg1.0_5D01001F"] = _u(sender_smtp)
    for i, (name, smtp, kind) in enumerate(recipients):
        t["__recip_version1.0_#%08X" % i] = {
            "__properties_version1.0": _props(8, [(0x0C15, 3, kind)]),
            "__substg1.0_3001001F": _u(name), "__substg1.0_39FE001F": _u(smtp)}
    for i, (name, data) in enumerate(attachments):
        a = {"__substg1.0_3707001F": _u(name)}
        if isinstance(data, dict):
            a["__properties_version1.0"] = _props(8, [(0x3705, 3, 5)])
            a["__substg1.0_3701000D"] = data
        else:
            a["__properties_version1.0"] = _props(8, [(0x3705, 3, 1)])
            a["__substg1.0_37010102"] = data
        t["__attach_version1.0_#%08X" % i] = a
    head = bytearray(hdr)
    if hdr >= 24:
        struct.pack_into("<II", head, 16, len(recipients), len(attachments))
    t["__properties_version1.0"] = bytes(head) + _props(0, fixed)
    return t


JP_SUBJECT = "【至急】髙橋様 住民票の写しの交付について ①"
JP_BODY = ("各位\r\n\r\n情報政策課の山田です。\r\n住民票の写しの交付申請書を添付します。"
           "㈱関所システムの件も併せてご確認ください。\r\n"
           "詳細: https://www.city.example.lg.jp/koufu.html\r\n")
JP_INNER_SUBJECT = "転送: 会議資料"
JP_INNER_BODY = "会議資料を送ります。よろしくお願いします。\r\n"
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\0" * 48 + b"PE\0\0"


def japanese(front=False):
    inner = make_message(JP_INNER_SUBJECT, body8=JP_INNER_BODY.encode("cp932"), codepage=932,
                         sender="総務課 鈴木", sender_smtp="suzuki@city.example.lg.jp",
                         attachments=[("議事録.txt", "第1回 会議の議事録\r\n".encode("cp932"))],
                         hdr=24, submit=1743469200)
    return cfb_write(make_message(
        JP_SUBJECT, body=JP_BODY, codepage=932, sender="情報政策課 山田",
        sender_smtp="yamada@city.example.lg.jp",
        recipients=[("住民課 佐藤", "sato@city.example.lg.jp", 1),
                    ("総務課", "soumu@city.example.lg.jp", 2)],
        html=("<html><head><meta charset=shift_jis></head><body><p>" + JP_BODY + "</p></body></html>")
        .encode("cp932"),
        attachments=[("申請書一覧.csv", "氏名,住所\r\n山田太郎,東京都\r\n=cmd|' /c calc'!A1,x\r\n".encode("cp932")),
                     ("setup.exe", MZ),
                     ("会議資料.msg", inner)],
        submit=1743469200), front=front)


def seeds(d):
    import os
    os.makedirs(d, exist_ok=True)
    small = [
        ("plain", make_message("subject", body="body text http://example.jp/")),
        ("cp932", make_message(None, body8="本文".encode("cp932"), codepage=932)),
        ("html", make_message("h", html=b"<p>a<b>b</b></p>")),
        ("rtf", make_message("r", rtf=b"{\\rtf1\\ansi\\ansicpg932 \\'93\\'fa\\par}")),
        ("rtfhtml", make_message("r", rtf=b"{\\rtf1\\fromhtml1 {\\*\\htmltag64 <p>}x}")),
        ("attach", make_message("a", body="b", recipients=[("n", "a@b.jp", 1)],
                                attachments=[("a.txt", b"text"),
                                             ("m.msg", make_message("i", body="x", hdr=24))])),
    ]
    for name, tree in small:
        open(os.path.join(d, name), "wb").write(cfb_write(tree))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "read":
        c = Cfb(open(sys.argv[2], "rb").read())
        print(json.dumps(Message(c).summary(), ensure_ascii=False))
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "japanese":
        open(sys.argv[2], "wb").write(japanese(front=sys.argv[3:] == ["front"]))
    elif len(sys.argv) == 3 and sys.argv[1] == "seeds":
        seeds(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
