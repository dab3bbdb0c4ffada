#!/usr/bin/env python3
"""Japanese test documents for 画像化 (render.sh, bench/render.sh).

usage: render_make.py KIND OUT.fodt [PAGES] [--numbered]
       render_make.py damaged OUT.pdf [--no-xref]
  KIND  horizontal | vertical
  --numbered: each page starts with its own line 「第N頁」 (N its number), so that the
  order of the pages can be checked in an output
  damaged: a one-page PDF (Helvetica "Damaged sekisho") whose page tree holds itself in its
  /Kids: qpdf refuses it ("Loop detected in /Pages structure"), poppler skips the loop and
  renders the page; --no-xref: without its cross-reference table and startxref too (a
  transfer cut short), which both rebuild before they meet the loop
  Writes a flat ODF text document (LibreOffice opens .fodt directly): A4, Noto Serif CJK JP
  12 pt, PAGES pages (default 1) of Japanese prose (a page break before each further page);
  vertical: the page layout's writing mode is tb-rl (縦書き, columns right to left).
  The text of the whole document (one paragraph a line) goes to OUT.txt beside it, for
  the recall check.
"""
import sys
from xml.sax.saxutils import escape

# Prose in the register of a municipal notice; every page gets all of it (about 560
# characters, which fills most of an A4 page at 12 pt).
PARAGRAPHS = [
    "令和六年度の住民税の申告について",
    "市では、住民税の申告書の受付を二月十六日から三月十五日まで、市役所本庁舎一階の市民課窓口で行います。"
    "申告が必要な方には、一月下旬に申告書をお送りしますので、必要事項を記入のうえ期限までに提出してください。",
    "給与所得のみの方で、勤務先から市へ給与支払報告書が提出されている場合は、申告の必要はありません。"
    "ただし、医療費控除や寄附金控除を受ける方は、領収書や証明書を添えて申告してください。",
    "郵送で提出する場合は、返信用封筒に切手を貼り、控えが必要な方は申告書の写しを同封してください。"
    "窓口は大変混雑しますので、できるだけ郵送または電子申告をご利用ください。",
    "障害者手帳をお持ちの方、ひとり親の方、寡婦の方は、所得控除を受けられる場合があります。"
    "詳しくは税務課市民税係までお問い合わせください。電話番号は代表番号からおつなぎします。",
    "個人情報の取扱いについて、申告書に記載された情報は、地方税法に基づく課税事務のほかには使用しません。",
]


def page_body(first, number=None):
    out = []
    paras = ([u"第%d頁" % number] if number else []) + PARAGRAPHS
    for i, p in enumerate(paras):
        style = "PB" if (i == 0 and not first) else "P"
        out.append('<text:p text:style-name="%s">%s</text:p>' % (style, escape(p)))
    return "\n".join(out)


def damaged(out, xref):
    content = b"BT /F1 24 Tf 20 100 Td (Damaged sekisho) Tj ET"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 1 >>",  # the tree holds itself
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
            b"/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"]
    body = bytearray(b"%PDF-1.4\n")
    offs = []
    for i, o in enumerate(objs):
        offs.append(len(body))
        body += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    x = len(body)
    if xref:
        body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
        body += b"".join(b"%010d 00000 n \n" % o for o in offs)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objs) + 1)
    if xref:
        body += b"startxref\n%d\n" % x
    body += b"%%EOF\n"
    with open(out, "wb") as f:
        f.write(body)


def main():
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "damaged":
        damaged(out, "--no-xref" not in sys.argv)
        return
    numbered = "--numbered" in sys.argv
    args = [a for a in sys.argv if a != "--numbered"]
    pages = int(args[3]) if len(args) > 3 else 1
    if kind not in ("horizontal", "vertical"):
        sys.exit("kind: horizontal | vertical")
    mode = "tb-rl" if kind == "vertical" else "lr-tb"
    body = "\n".join(page_body(i == 0, i + 1 if numbered else None) for i in range(pages))
    doc = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
<office:font-face-decls>
 <style:font-face style:name="Noto Serif CJK JP" svg:font-family="'Noto Serif CJK JP'"
  xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"/>
</office:font-face-decls>
<office:styles>
 <style:default-style style:family="paragraph">
  <style:paragraph-properties fo:margin-bottom="0.2cm"/>
  <style:text-properties style:font-name="Noto Serif CJK JP" fo:font-size="12pt"
   style:font-name-asian="Noto Serif CJK JP" style:font-size-asian="12pt"
   fo:language="ja" fo:country="JP" style:language-asian="ja" style:country-asian="JP"/>
 </style:default-style>
</office:styles>
<office:automatic-styles>
 <style:style style:name="P" style:family="paragraph"/>
 <style:style style:name="PB" style:family="paragraph">
  <style:paragraph-properties fo:break-before="page"/>
 </style:style>
 <style:page-layout style:name="L">
  <style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm"
   fo:margin-top="2cm" fo:margin-bottom="2cm" fo:margin-left="2cm" fo:margin-right="2cm"
   style:writing-mode="{mode}"/>
 </style:page-layout>
</office:automatic-styles>
<office:master-styles>
 <style:master-page style:name="Standard" style:page-layout-name="L"/>
</office:master-styles>
<office:body><office:text>
{body}
</office:text></office:body>
</office:document>
"""
    with open(out, "w", encoding="utf-8") as f:
        f.write(doc)
    base = out[:-5] if out.endswith(".fodt") else out
    with open(base + ".txt", "w", encoding="utf-8") as f:
        for i in range(pages):
            if numbered:
                f.write(u"第%d頁\n" % (i + 1))
            f.write("\n".join(PARAGRAPHS) + "\n")


if __name__ == "__main__":
    main()
