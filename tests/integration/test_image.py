#!/usr/bin/python3
"""Images through `sekisho sanitize`, checked with tools that share no code with us
(TAP output).

For every image of the mat2 corpus (/work/shared/corpus/office/mat2) and a few made here
with Pillow (EXIF, XMP, ICC, comments, animation, alpha BMP, trailing bytes):
  - the item is delivered;
  - Pillow opens the output and sees the same size, mode, frame count, frame durations,
    loop count and pixels as in the original;
  - exiftool (when installed) finds no EXIF, XMP, ICC, IPTC, comment or text tag left.
Usage: test_image.py SEKISHO SOURCE_ROOT"""
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    from PIL import Image, ImageCms, PngImagePlugin
except ImportError:  # pragma: no cover
    print("1..0 # SKIP Pillow is not installed")
    sys.exit(0)

SEKISHO, ROOT = sys.argv[1], sys.argv[2]
CORPUS = None
for c in (os.path.join(ROOT, "..", "shared", "corpus", "office", "mat2"),
          "/work/shared/corpus/office/mat2"):
    if os.path.isdir(c):
        CORPUS = c
        break
EXIFTOOL = shutil.which("exiftool")

# Tags that must not survive (exiftool -G1 group:name, matched by substring).
BAD_GROUPS = ("IFD0", "ExifIFD", "GPS", "XMP", "ICC", "IPTC", "Photoshop", "MakerNotes")
BAD_NAMES = ("Comment", "Author", "Description", "ModifyDate", "Software", "Copyright")

n = 0
failed = 0


def ok(cond, what, why=""):
    global n, failed
    n += 1
    if cond:
        print(f"ok {n} - {what}")
    else:
        failed += 1
        print(f"not ok {n} - {what}")
        for line in str(why).splitlines():
            print(f"# {line}")


def frames(img):
    out = []
    for i in range(getattr(img, "n_frames", 1)):
        img.seek(i)
        out.append((img.convert("RGBA").tobytes(), img.info.get("duration")))
    img.seek(0)
    return out


def leftovers(path):
    if not EXIFTOOL:
        return []
    r = subprocess.run([EXIFTOOL, "-j", "-a", "-G1", path], capture_output=True, text=True)
    tags = json.loads(r.stdout)[0] if r.stdout.strip() else {}
    bad = []
    for k in tags:
        group, _, name = k.partition(":")
        if group in ("ExifTool", "System", "File", "Composite") and name != "Comment":
            continue
        if any(g in group for g in BAD_GROUPS) or any(b in name for b in BAD_NAMES):
            bad.append(f"{k}={tags[k]}")
    return bad


def check(src, label):
    with tempfile.TemporaryDirectory() as out:
        r = subprocess.run([SEKISHO, "sanitize", "--json", "--lang", "en", "-o", out, src],
                           capture_output=True, text=True)
        try:
            res = json.loads(r.stdout.splitlines()[0])
        except (IndexError, ValueError):
            ok(False, f"{label}: sanitize ran", r.stdout + r.stderr)
            return
        ok(res["verdict"] != "blocked", f"{label}: delivered ({res['verdict']})",
           json.dumps(res, ensure_ascii=False))
        if res["verdict"] == "blocked":
            return
        dst = res["output"]
        try:
            a, b = Image.open(src), Image.open(dst)
            b.load()
        except Exception as e:  # noqa: BLE001 - any failure to open is the finding
            ok(False, f"{label}: Pillow opens the output", e)
            return
        ok(a.size == b.size and a.format == b.format,
           f"{label}: same size and format {b.size} {b.format}", f"{a.size} {a.format}")
        ok(a.mode == b.mode or (a.format == "BMP" and b.mode in ("RGB", "RGBA")),
           f"{label}: same mode {b.mode}", a.mode)
        fa, fb = frames(a), frames(b)
        ok(len(fa) == len(fb), f"{label}: same frame count {len(fb)}", len(fa))
        ok([d for _, d in fa] == [d for _, d in fb], f"{label}: same frame durations")
        ok(a.info.get("loop") == b.info.get("loop"), f"{label}: same loop count")
        ok(all(x == y for (x, _), (y, _) in zip(fa, fb)), f"{label}: same pixels")
        if EXIFTOOL:
            bad = leftovers(dst)
            ok(not bad, f"{label}: exiftool finds no metadata", "\n".join(bad))
        with open(dst, "rb") as f:
            data = f.read()
        ok(b"secret" not in data, f"{label}: no secret bytes in the output")


def made(dirname):
    """Images with metadata, made by Pillow (not by our code)."""
    def grad(mode, w, h):
        img = Image.new("RGB", (w, h))
        img.putdata([((x * 7) % 256, (y * 5) % 256, (x * y) % 256) for y in range(h) for x in range(w)])
        return img.convert(mode)
    files = {}
    exif = Image.Exif()
    exif[0x010F] = "secret-camera"     # Make
    exif[0x0131] = "secret-software"   # Software
    exif[0x0112] = 1
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    b = io.BytesIO()
    grad("RGB", 120, 80).save(b, "JPEG", quality=90, exif=exif.tobytes(), comment=b"secret-comment",
                              icc_profile=icc)
    files["exif-icc.jpg"] = b.getvalue() + b"secret-trailer"
    b = io.BytesIO()
    grad("RGB", 64, 48).save(b, "JPEG", progressive=True, quality=80, exif=exif.tobytes())
    files["progressive.jpg"] = b.getvalue()
    b = io.BytesIO()
    grad("CMYK", 40, 30).save(b, "JPEG", quality=80)
    files["cmyk.jpg"] = b.getvalue()
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "secret-author")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret-xmp</x:xmpmeta>")
    b = io.BytesIO()
    grad("RGBA", 50, 40).save(b, "PNG", pnginfo=info, exif=exif.tobytes())
    files["text.png"] = b.getvalue() + b"secret-trailer"
    b = io.BytesIO()
    grad("RGB", 30, 20).quantize(16).save(b, "PNG", transparency=3)
    files["palette.png"] = b.getvalue()
    fr = [grad("RGB", 32, 24).rotate(a).quantize(8) for a in (0, 90, 180)]
    b = io.BytesIO()
    fr[0].save(b, "GIF", save_all=True, append_images=fr[1:], loop=3, duration=[50, 100, 150],
               comment=b"secret-comment")
    files["anim.gif"] = b.getvalue() + b"secret-trailer"
    b = io.BytesIO()
    grad("RGBA", 17, 9).save(b, "BMP")
    files["rgba.bmp"] = b.getvalue()
    b = io.BytesIO()
    grad("RGB", 17, 9).quantize(16).save(b, "BMP")
    files["pal.bmp"] = b.getvalue() + b"secret-trailer"
    paths = []
    for name, data in files.items():
        p = os.path.join(dirname, name)
        with open(p, "wb") as f:
            f.write(data)
        paths.append(p)
    return paths


with tempfile.TemporaryDirectory() as gen:
    inputs = []
    if CORPUS:
        inputs += [os.path.join(CORPUS, f) for f in sorted(os.listdir(CORPUS))
                   if f.rsplit(".", 1)[-1].lower() in ("png", "jpg", "jpeg", "gif", "bmp")]
    inputs += made(gen)
    for p in inputs:
        check(p, os.path.basename(p))

print(f"1..{n}")
if not CORPUS:
    print("# the mat2 corpus was not found: only generated images were checked")
if not EXIFTOOL:
    print("# exiftool not installed: metadata left-overs not checked")
sys.exit(1 if failed else 0)
