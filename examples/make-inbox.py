#!/usr/bin/python3
"""Writes the demo inbox (examples/inbox/) that ./dev/run sanitises: the kinds of files a
municipality receives from outside, some harmless, some not. Run it again to re-create
the inbox; the files are committed so that ./dev/run needs nothing but the build."""
import io
import os
import shutil
import struct
import subprocess
import sys
import zipfile

from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
inbox = os.path.join(here, "inbox")
shutil.rmtree(inbox, ignore_errors=True)
os.makedirs(inbox)


def put(name, data):
    with open(os.path.join(inbox, name), "wb") as f:
        f.write(data)


# 1. A Shift_JIS (CP932) CSV from Excel, CRLF, with two formula-injection cells.
csv = (
    "番号,氏名,住所,備考\r\n"
    "1,山田太郎,東京都千代田区,=HYPERLINK(\"http://evil.example/\",\"詳細はこちら\")\r\n"
    "2,鈴木花子,群馬県前橋市,\"=cmd|' /C calc'!A0\"\r\n"
    "3,佐藤①,神奈川県相模原市,-5\r\n"
)
put("住民一覧.csv", csv.encode("cp932"))

# 2. UTF-8 notice with stray control characters (NUL, BEL, ESC).
put("お知らせ.txt", "庁内ネットワークのお知らせ\n\x00停止予定:\x07 12月1日\x1b\n".encode("utf-8"))

# 3. An ISO-2022-JP text (as old mail clients save it).
put("議事録.txt", "議事録\n出席者: 情報政策課\n".encode("iso2022_jp"))

# 4. A photo with EXIF (camera, GPS-like comment) and bytes after the image end.
img = Image.new("RGB", (64, 48), (200, 120, 40))
exif = Image.Exif()
exif[0x010F] = "ExampleCam"       # Make
exif[0x0110] = "Model 1"          # Model
exif[0x9286] = "secret location"  # UserComment
buf = io.BytesIO()
img.save(buf, "JPEG", exif=exif.tobytes(), comment=b"taken at home", quality=90)
put("写真.jpg", buf.getvalue() + b"TRAILING-PAYLOAD")

# 5. A PNG with a text chunk and trailing data.
from PIL import PngImagePlugin
meta = PngImagePlugin.PngInfo()
meta.add_text("Author", "someone")
buf = io.BytesIO()
Image.new("RGBA", (32, 32), (0, 128, 255, 200)).save(buf, "PNG", pnginfo=meta)
put("図.png", buf.getvalue() + b"\x00hidden")

# 6. A GIF with a comment, and a BMP.
buf = io.BytesIO()
frames = [Image.new("P", (16, 16), i) for i in (1, 2)]
frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0,
               comment=b"gif comment")
put("anim.gif", buf.getvalue())
buf = io.BytesIO()
Image.new("RGB", (10, 7), (1, 2, 3)).save(buf, "BMP")
put("scan.bmp", buf.getvalue())

# 7. A ZIP with a Japanese (CP932, no UTF-8 flag) name, a text, and an executable.
def zip_entry_raw(zf, raw_name, data):
    zi = zipfile.ZipInfo("x")
    zi.filename = raw_name.decode("cp437")  # zipfile writes cp437 names without the flag
    zi.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(zi, data)

buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as zf:
    zip_entry_raw(zf, "資料.txt".encode("cp932"), "資料の本文です\r\n".encode("cp932"))
    zf.writestr("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff")
    zf.writestr("images/logo.png", open(os.path.join(inbox, "図.png"), "rb").read())
put("資料一式.zip", buf.getvalue())

# 8. An executable disguised as a text file.
put("請求書.txt", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48)

# 9. A password-protected ZIP (the "PPAP" mail attachment).
tmp = os.path.join(here, ".ppap-tmp")
os.makedirs(tmp, exist_ok=True)
with open(os.path.join(tmp, "見積書.txt"), "wb") as f:
    f.write("見積書\r\n".encode("cp932"))
out = os.path.join(inbox, "見積書_パスワード付き.zip")
subprocess.run(["zip", "-q", "-j", "-P", "password", out, os.path.join(tmp, "見積書.txt")], check=True)
shutil.rmtree(tmp)

# 10. A shortcut-like text and an unknown binary.
put("リンク.url", b"[InternetShortcut]\r\nURL=file://server/share/run.exe\r\n")
put("data.bin", bytes(range(256)) * 4)

print("wrote", len(os.listdir(inbox)), "files to", inbox)
