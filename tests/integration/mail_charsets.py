#!/usr/bin/python3
"""Japanese (and Big5) mail as real mailers write it, through `sekisho mail`, read back with
Python's email package (policy=email.policy.default, an independent parser): the subject,
the sender's display name, the text and the attachments' names must come out as the
original characters, exactly (TAP output).

Each message is built here the way its mailer formats it (header folding, encoded-word
style and charset, transfer encodings, how attachment names are written):
  - Outlook: CP932 text sent as ISO-2022-JP (CP50221: ①② NEC row 13, 髙 NEC-selected IBM
    row 92, ㈱), one self-contained encoded word per chunk, names as quoted encoded words;
  - Thunderbird: UTF-8, 8bit, format=flowed, names in RFC 2231 continuations;
  - Gmail: UTF-8 encoded words split in the middle of a character, base64 text, QP HTML;
  - iPhone: UTF-8 with emoji, Q-encoded subject, quoted-printable text, RFC 2231 name;
  - Becky!: ISO-2022-JP, names in RFC 2231 with charset ISO-2022-JP cut mid-sequence;
  - an old Shift_JIS mailer: raw 8-bit Shift_JIS subject, display name and file name;
  - Big5 with an empty Content-Transfer-Encoding and a raw Big5 subject;
  - a reply mixing ISO-2022-JP and UTF-8 words, and a `?=` glued to the next text.
Usage: mail_charsets.py SEKISHO"""
import base64
import email
import email.policy
import quopri
import subprocess
import sys
import tempfile

from api_tap import done, ok

SEKISHO = sys.argv[1]
SEP = "-" * 70 + "\n"


# ---- encoders as the mailers use them ---------------------------------------------------

def nec_selected(ch):
    """The NEC-selected IBM extension (CP932 rows 0xED/0xEE) of a character that CP932
    encodes in the IBM extension rows (0xFA-0xFC): what CP50221 writes for it."""
    for lead in (0xED, 0xEE):
        for trail in list(range(0x40, 0x7F)) + list(range(0x80, 0xFD)):
            b = bytes([lead, trail])
            try:
                if b.decode("cp932") == ch:
                    return b
            except UnicodeDecodeError:
                pass
    raise ValueError(ch)


def cp50221(text):
    """ISO-2022-JP as Windows writes it (CP50221): JIS X 0208 plus NEC row 13 and the
    NEC-selected IBM rows 89-92, half-width katakana by ESC ( I."""
    out = bytearray()
    mode = "ascii"
    for ch in text:
        if ord(ch) < 0x80:
            if mode != "ascii":
                out += b"\x1b(B"
                mode = "ascii"
            out += ch.encode()
            continue
        b = ch.encode("cp932")
        if len(b) == 1:  # half-width katakana
            if mode != "kana":
                out += b"\x1b(I"
                mode = "kana"
            out.append(b[0] - 0x80)
            continue
        if 0xFA <= b[0] <= 0xFC:
            b = nec_selected(ch)
        s1, s2 = b
        if s1 >= 0xE0:
            s1 -= 0x40
        j1 = (s1 - 0x81) * 2 + 0x21
        if s2 >= 0x9F:
            j1 += 1
            j2 = s2 - 0x7E
        else:
            j2 = s2 - (0x20 if s2 >= 0x80 else 0x1F)
        if mode != "kanji":
            out += b"\x1b$B"
            mode = "kanji"
        out += bytes([j1, j2])
    if mode != "ascii":
        out += b"\x1b(B"
    return bytes(out)


def b_word(cs, data):
    return "=?%s?B?%s?=" % (cs, base64.b64encode(data).decode())


def q_word(cs, data):
    s = ""
    for c in data:
        if c == 0x20:
            s += "_"
        elif 0x21 <= c <= 0x7E and chr(c) not in "=?_":
            s += chr(c)
        else:
            s += "=%02X" % c
    return "=?%s?Q?%s?=" % (cs, s)


def chunks(text, k):
    return [text[i:i + k] for i in range(0, len(text), k)]


def fold(words, nl):
    return (nl + " ").join(words)


def pct(data):
    return "".join(chr(c) if (chr(c).isalnum() and c < 0x80) or chr(c) in "-._~" else "%%%02X" % c
                   for c in data)


# ---- the messages -----------------------------------------------------------------------

CASES = []


def case(name, raw, subject, sender, text, attachments):
    CASES.append((name, raw, subject, sender, text, attachments))


# Outlook 2016 (Windows, Japanese): CP50221, CRLF
subj = "【重要】①②の件 髙橋様 ㈱テスト商事 御見積"
name = "髙橋 一郎"
text = "髙橋様\r\n\r\nいつもお世話になっております。㈱テスト商事です。\r\n①見積書\r\n②請求書\r\nをお送りします。\r\n"
att = "御見積①㈱テスト.csv"
att_data = "品名,数量\r\n髙級紙,1\r\n".encode("cp932")
html = "<html><body><p>" + text.replace("\r\n", "<br>") + "</p></body></html>"
bnd0, bnd1 = "----=_NextPart_000_0001_01DA1234.56789ABC", "----=_NextPart_001_0002_01DA1234.56789ABC"
raw = ("From: " + b_word("iso-2022-jp", cp50221(name)) + " <ichiro.takahashi@example.co.jp>\r\n"
       "To: <hanako@city.example.lg.jp>\r\n"
       "Subject: " + fold([b_word("iso-2022-jp", cp50221(c)) for c in chunks(subj, 8)], "\r\n") + "\r\n"
       "Date: Mon, 1 Dec 2025 10:00:00 +0900\r\n"
       "Message-ID: <000001da1234$56789abc$def01234@example.co.jp>\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: multipart/mixed;\r\n\tboundary=\"" + bnd0 + "\"\r\n"
       "X-Mailer: Microsoft Outlook 16.0\r\n"
       "Thread-Index: AdokXWlOTm9ZbmhMR0VrUkNhSW9oVGw=\r\n"
       "Content-Language: ja\r\n\r\n"
       "This is a multipart message in MIME format.\r\n\r\n"
       "--" + bnd0 + "\r\n"
       "Content-Type: multipart/alternative;\r\n\tboundary=\"" + bnd1 + "\"\r\n\r\n\r\n"
       "--" + bnd1 + "\r\n"
       "Content-Type: text/plain;\r\n\tcharset=\"iso-2022-jp\"\r\n"
       "Content-Transfer-Encoding: 7bit\r\n\r\n").encode() + cp50221(text) + (
       "\r\n--" + bnd1 + "\r\n"
       "Content-Type: text/html;\r\n\tcharset=\"iso-2022-jp\"\r\n"
       "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode() + \
    quopri.encodestring(cp50221(html)).replace(b"\n", b"\r\n") + (
       "\r\n--" + bnd1 + "--\r\n\r\n"
       "--" + bnd0 + "\r\n"
       "Content-Type: text/csv;\r\n\tname=\"" + b_word("iso-2022-jp", cp50221(att)) + "\"\r\n"
       "Content-Transfer-Encoding: base64\r\n"
       "Content-Disposition: attachment;\r\n\tfilename=\"" + b_word("iso-2022-jp", cp50221(att)) + "\"\r\n\r\n"
       + base64.encodebytes(att_data).decode().replace("\n", "\r\n") +
       "\r\n--" + bnd0 + "--\r\n").encode()
case("Outlook (CP932 as ISO-2022-JP)", raw, subj, name, text, [att])

# Thunderbird 115: UTF-8, 8bit, format=flowed, RFC 2231 continuations
subj = "Re: 来週の打ち合わせについて（資料送付）"
name = "佐藤 花子"
text = "佐藤です。\n\n来週の打ち合わせの資料をお送りします。\nよろしくお願いいたします。\n"
att = "打ち合わせ資料_令和7年度第3四半期_最終版.txt"
data = att.encode()
secs = [data[i:i + 21] for i in range(0, len(data), 21)]  # cut inside characters
cont = ";\n".join(" filename*%d*=%s%s" % (i, "UTF-8''" if i == 0 else "", pct(s)) for i, s in enumerate(secs))
tb_words = []
for c in chunks(subj, 10):
    tb_words.append(b_word("UTF-8", c.encode()))
raw = ("Message-ID: <0f3c9a2e-1b2c-4d5e-8f90-abcdef012345@example.jp>\n"
       "Date: Tue, 2 Dec 2025 09:15:00 +0900\n"
       "MIME-Version: 1.0\n"
       "User-Agent: Mozilla Thunderbird\n"
       "Content-Language: ja\n"
       "To: hanako@city.example.lg.jp\n"
       "From: " + b_word("UTF-8", name.encode()) + " <hanako.sato@example.jp>\n"
       "Subject: " + fold(tb_words, "\n") + "\n"
       "Content-Type: multipart/mixed; boundary=\"------------tb0123456789abcdef\"\n\n"
       "This is a multi-part message in MIME format.\n"
       "--------------tb0123456789abcdef\n"
       "Content-Type: text/plain; charset=UTF-8; format=flowed\n"
       "Content-Transfer-Encoding: 8bit\n\n" + text + "\n"
       "--------------tb0123456789abcdef\n"
       "Content-Type: text/plain; charset=UTF-8; name=\"" + b_word("UTF-8", att.encode()) + "\"\n"
       "Content-Disposition: attachment;\n" + cont + "\n"
       "Content-Transfer-Encoding: base64\n\n" + base64.encodebytes("資料の本文\n".encode()).decode() + "\n"
       "--------------tb0123456789abcdef--\n").encode()
case("Thunderbird (UTF-8, RFC 2231 continuations)", raw, subj, name, text, [att])

# Gmail: encoded words split in the middle of a character, base64 text, QP HTML
subj = "【ご案内】説明会の日程変更のお知らせ（第２回）"
name = "鈴木 次郎"
text = "各位\r\n\r\n説明会の日程が変更になりました。\r\n詳細は添付をご覧ください。\r\n"
att = "日程表（改訂）.csv"
sb = subj.encode()
words = [b_word("UTF-8", sb[i:i + 25]) for i in range(0, len(sb), 25)]
raw = ("MIME-Version: 1.0\r\n"
       "From: " + b_word("UTF-8", name.encode()) + " <jiro.suzuki@gmail.com>\r\n"
       "Date: Wed, 3 Dec 2025 14:02:11 +0900\r\n"
       "Message-ID: <CAF=abc123DEF456ghi789@mail.gmail.com>\r\n"
       "Subject: " + fold(words, "\r\n") + "\r\n"
       "To: hanako@city.example.lg.jp\r\n"
       "Content-Type: multipart/mixed; boundary=\"000000000000a1b2c3d4e5f6\"\r\n\r\n"
       "--000000000000a1b2c3d4e5f6\r\n"
       "Content-Type: multipart/alternative; boundary=\"000000000000a1b2c3d4e5f7\"\r\n\r\n"
       "--000000000000a1b2c3d4e5f7\r\n"
       "Content-Type: text/plain; charset=\"UTF-8\"\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\n"
       + base64.encodebytes(text.encode()).decode().replace("\n", "\r\n") + "\r\n"
       "--000000000000a1b2c3d4e5f7\r\n"
       "Content-Type: text/html; charset=\"UTF-8\"\r\n"
       "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
       + quopri.encodestring(("<div dir=\"ltr\">" + text.replace("\r\n", "<br>") + "</div>").encode()).decode() + "\r\n"
       "--000000000000a1b2c3d4e5f7--\r\n"
       "--000000000000a1b2c3d4e5f6\r\n"
       "Content-Type: text/csv; charset=\"UTF-8\"; \r\n\tname=\"" + b_word("UTF-8", att.encode()) + "\"\r\n"
       "Content-Disposition: attachment; \r\n\tfilename=\"" + b_word("UTF-8", att.encode()) + "\"\r\n"
       "Content-Transfer-Encoding: base64\r\n"
       "X-Attachment-Id: f_lq1x2y3z0\r\n"
       "Content-ID: <f_lq1x2y3z0>\r\n\r\n"
       + base64.encodebytes("日付,会場\r\n12/10,本庁舎\r\n".encode()).decode().replace("\n", "\r\n") +
       "--000000000000a1b2c3d4e5f6--\r\n").encode()
case("Gmail (UTF-8 words split inside characters)", raw, subj, name, text, [att])

# iPhone Mail (iOS 17): UTF-8 with emoji, Q-encoded subject, QP text, RFC 2231 name
subj = "写真送ります📷 ありがとう🙏"
name = "たかし🍣"
text = "昨日はありがとうございました😊\n写真を送ります📷\n\niPhoneから送信\n"
att = "写真🌸メモ.txt"
raw = ("Content-Type: multipart/mixed; boundary=Apple-Mail-1A2B3C4D-5E6F-7A8B-9C0D-1E2F3A4B5C6D\n"
       "Content-Transfer-Encoding: 7bit\n"
       "From: " + b_word("utf-8", name.encode()) + " <takashi@icloud.com>\n"
       "Mime-Version: 1.0 (1.0)\n"
       "Date: Thu, 4 Dec 2025 20:31:45 +0900\n"
       "Subject: " + fold([q_word("utf-8", c.encode()) for c in chunks(subj, 7)], "\n") + "\n"
       "Message-Id: <A1B2C3D4-E5F6-4789-ABCD-EF0123456789@icloud.com>\n"
       "To: hanako@city.example.lg.jp\n"
       "X-Mailer: iPhone Mail (21A360)\n\n\n"
       "--Apple-Mail-1A2B3C4D-5E6F-7A8B-9C0D-1E2F3A4B5C6D\n"
       "Content-Type: text/plain;\n\tcharset=utf-8\n"
       "Content-Transfer-Encoding: quoted-printable\n\n"
       + quopri.encodestring(text.encode()).decode() + "\n"
       "--Apple-Mail-1A2B3C4D-5E6F-7A8B-9C0D-1E2F3A4B5C6D\n"
       "Content-Type: text/plain;\n\tname=\"" + b_word("utf-8", att.encode()) + "\"\n"
       "Content-Disposition: attachment;\n\tfilename*=utf-8''" + pct(att.encode()) + "\n"
       "Content-Transfer-Encoding: base64\n\n"
       + base64.encodebytes("メモ\n".encode()).decode() + "\n"
       "--Apple-Mail-1A2B3C4D-5E6F-7A8B-9C0D-1E2F3A4B5C6D--\n").encode()
case("iPhone (UTF-8 with emoji, Q words)", raw, subj, name, text, [att])

# Becky! 2.81: ISO-2022-JP, RFC 2231 names in ISO-2022-JP cut in the middle of sequences
subj = "議事録の送付（１２月定例会）"
name = "田中 三郎"
text = "田中です。\n\n１２月定例会の議事録を送付します。\nご確認ください。\n"
att = "議事録_１２月定例会.txt"
jb = cp50221(att)
secs = [jb[i:i + 13] for i in range(0, len(jb), 13)]
cont = ";\r\n".join(" filename*%d*=%s%s" % (i, "ISO-2022-JP''" if i == 0 else "", pct(s)) for i, s in enumerate(secs))
raw = ("Date: Fri, 05 Dec 2025 11:20:33 +0900\r\n"
       "From: " + b_word("ISO-2022-JP", cp50221(name)) + " <saburo@example.ne.jp>\r\n"
       "To: hanako@city.example.lg.jp\r\n"
       "Subject: " + b_word("ISO-2022-JP", cp50221(subj)) + "\r\n"
       "Message-Id: <20251205112033.0A1B.SABURO@example.ne.jp>\r\n"
       "MIME-Version: 1.0\r\n"
       "Content-Type: multipart/mixed; boundary=\"------_6572A1B2C3D4E5F60000_MULTIPART_MIXED_\"\r\n"
       "Content-Transfer-Encoding: 7bit\r\n"
       "X-Mailer: Becky! ver. 2.81.04 [ja]\r\n\r\n"
       "--------_6572A1B2C3D4E5F60000_MULTIPART_MIXED_\r\n"
       "Content-Type: text/plain; charset=\"ISO-2022-JP\"\r\n"
       "Content-Transfer-Encoding: 7bit\r\n\r\n").encode() + cp50221(text.replace("\n", "\r\n")) + (
       "\r\n--------_6572A1B2C3D4E5F60000_MULTIPART_MIXED_\r\n"
       "Content-Type: text/plain;\r\n name=\"" + b_word("ISO-2022-JP", jb) + "\"\r\n"
       "Content-Disposition: attachment;\r\n" + cont + "\r\n"
       "Content-Transfer-Encoding: base64\r\n\r\n"
       + base64.encodebytes("議事録\r\n".encode("utf-8")).decode().replace("\n", "\r\n") +
       "\r\n--------_6572A1B2C3D4E5F60000_MULTIPART_MIXED_--\r\n").encode()
case("Becky! (ISO-2022-JP, RFC 2231 in ISO-2022-JP)", raw, subj, name, text.replace("\n", "\r\n"), [att])

# an old Shift_JIS mailer: raw 8-bit headers and name, half-width katakana, ①
subj = "ｶﾀｶﾅの件名と①番"
name = "山本 四郎"
text = "山本です。\r\nﾃｽﾄ送信です。①②③\r\n"
att = "報告書ﾃｽﾄ①.txt"
raw = (b"From: " + name.encode("cp932") + b" <shiro@example.or.jp>\r\n"
       b"To: hanako@city.example.lg.jp\r\n"
       b"Subject: " + subj.encode("cp932") + b"\r\n"
       b"Date: Sat, 6 Dec 2025 08:00:00 +0900\r\n"
       b"X-Mailer: Old Mailer 1.0\r\n"
       b"MIME-Version: 1.0\r\n"
       b"Content-Type: multipart/mixed; boundary=\"BOUNDARY_SJIS\"\r\n\r\n"
       b"--BOUNDARY_SJIS\r\n"
       b"Content-Type: text/plain; charset=Shift_JIS\r\n"
       b"Content-Transfer-Encoding: 8bit\r\n\r\n" + text.encode("cp932") +
       b"\r\n--BOUNDARY_SJIS\r\n"
       b"Content-Type: application/octet-stream; name=\"" + att.encode("cp932") + b"\"\r\n"
       b"Content-Disposition: attachment; filename=\"" + att.encode("cp932") + b"\"\r\n"
       b"Content-Transfer-Encoding: base64\r\n\r\n"
       + base64.encodebytes("報告\r\n".encode("cp932")).replace(b"\n", b"\r\n") +
       b"\r\n--BOUNDARY_SJIS--\r\n")
case("old Shift_JIS mailer (raw 8-bit headers)", raw, subj, name, text, [att])

# Big5: a declared charset with an empty Content-Transfer-Encoding, a raw Big5 subject
subj = "會議通知"
name = "陳大文"
text = "各位同仁：\n本週五下午兩點召開會議，請準時出席。\n"
raw = (b"From: " + name.encode("big5") + b" <chan@example.com.tw>\n"
       b"To: hanako@city.example.lg.jp\n"
       b"Subject: " + subj.encode("big5") + b"\n"
       b"MIME-Version: 1.0\n"
       b"Content-Type: text/plain; charset=\"big5\"\n"
       b"Content-Transfer-Encoding: \n\n" + text.encode("big5"))
case("Big5 (empty Content-Transfer-Encoding, raw subject)", raw, subj, name, text, [])

# a reply that mixes ISO-2022-JP and UTF-8 words, and a `?=` glued to the next text
subj = "Re: 会議の件(2)について😀"
name = "高橋, 五郎"
text = "了解しました。\n"
raw = ("From: " + b_word("UTF-8", "高橋, ".encode()) + " " + b_word("ISO-2022-JP", cp50221("五郎")) +
       " <goro@example.jp>\n"
       "To: hanako@city.example.lg.jp\n"
       "Subject: Re: " + b_word("ISO-2022-JP", cp50221("会議の件")) + "(2)" +
       b_word("UTF-8", "について😀".encode()) + "\n"
       "MIME-Version: 1.0\n"
       "Content-Type: text/plain; charset=UTF-8\n"
       "Content-Transfer-Encoding: 8bit\n\n" + text).encode()
case("mixed ISO-2022-JP/UTF-8 words, ?= glued to text", raw, subj, name, text, [])


# ---- through sekisho, read back -----------------------------------------------------------

def run(raw, profile):
    p = subprocess.run([SEKISHO, "mail", "--profile", profile], input=raw, capture_output=True)
    return p.returncode, p.stdout, p.stderr


def body_text(m):
    part = m.get_body(preferencelist=("plain",))
    t = part.get_content() if part is not None else ""
    return t.split(SEP, 1)[1] if SEP in t else None


for name_, raw, subj, sender, text, atts in CASES:
    rc, out, err = run(raw, "default")
    ok(rc == 0, name_ + ": delivered", err.decode(errors="replace"))
    m = email.message_from_bytes(out, policy=email.policy.default)
    ok(all(b < 0x80 for b in out.split(b"\n\n", 1)[0]), name_ + ": the header block is 7-bit")
    long_lines = [l for l in out.split(b"\n\n", 1)[0].split(b"\n") if len(l) > 78]
    ok(not long_lines, name_ + ": header lines of at most 78 columns", long_lines)
    ok(str(m["subject"]) == subj, name_ + ": subject", "%r != %r" % (str(m["subject"]), subj))
    addrs = m["from"].addresses if m["from"] is not None else ()
    got = addrs[0].display_name if addrs else None
    ok(got == sender, name_ + ": sender's display name", "%r != %r" % (got, sender))
    want = text.replace("\r\n", "\n")
    got = body_text(m)
    ok(got == want, name_ + ": text", "%r\n!=\n%r" % (got, want))
    if atts:
        notice = m.get_body(preferencelist=("plain",)).get_content()
        for a in atts:
            ok("削除: " + a + " (" in notice, name_ + ": attachment listed as " + a, notice)
        rc, out, err = run(raw, "sanitize")
        m = email.message_from_bytes(out, policy=email.policy.default)
        names = [p.get_filename() for p in m.iter_attachments()]
        ok(rc == 0 and names == atts, name_ + ": re-attached under its name (sanitize)",
           "%r != %r\n%s" % (names, atts, err.decode(errors="replace")))

done()
