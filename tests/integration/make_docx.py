#!/usr/bin/env python3
"""Writes a minimal Word document (docx) whose body is the given paragraphs.

usage: make_docx.py OUT.docx PARAGRAPH...   (a paragraph may be split in runs with '|')"""
import sys
import zipfile
from xml.sax.saxutils import escape

R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
      '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
      '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
      '<Default Extension="xml" ContentType="application/xml"/>'
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
      'officedocument.wordprocessingml.document.main+xml"/></Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="%s/officeDocument" Target="word/document.xml"/>'
        '</Relationships>' % R)


def para(text):
    runs = "".join('<w:r><w:t xml:space="preserve">%s</w:t></w:r>' % escape(t)
                   for t in text.split("|"))
    return "<w:p>%s</w:p>" % runs


def main():
    out, paras = sys.argv[1], sys.argv[2:]
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<w:document xmlns:w="%s" xmlns:r="%s"><w:body>%s</w:body></w:document>'
           % (W, R, "".join(para(p) for p in paras)))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr("_rels/.rels", RELS)
        z.writestr("word/document.xml", doc)


main()
