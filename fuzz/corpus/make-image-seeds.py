#!/usr/bin/python3
"""Writes the seed inputs of the image fuzz harnesses into png/, jpeg/, gif/ and bmp/
(each a few hundred bytes): the kinds each codec handles, with metadata to remove.
Run from fuzz/corpus: /usr/bin/python3 make-image-seeds.py"""
import io
import os
import struct
import zlib

from PIL import Image, PngImagePlugin


def save(folder, name, data):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def pil(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def gradient(mode, w, h):
    img = Image.new("RGB", (w, h))
    img.putdata([((x * 37) % 256, (y * 53) % 256, ((x + y) * 11) % 256)
                 for y in range(h) for x in range(w)])
    return img.convert(mode) if mode != "RGB" else img


def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))


# PNG
info = PngImagePlugin.PngInfo()
info.add_text("Comment", "seed")
info.add_itxt("XML:com.adobe.xmp", "<x/>")
save("png", "rgb-text.png", pil(gradient("RGB", 9, 7), "PNG", pnginfo=info) + b"TRAIL")
p = gradient("RGB", 12, 5).quantize(8)
save("png", "palette-trns.png", pil(p, "PNG", transparency=2))
save("png", "rgba.png", pil(gradient("RGBA", 6, 6), "PNG"))
save("png", "grey16.png", pil(gradient("L", 5, 4).convert("I").point(lambda v: v * 200), "PNG"))
save("png", "bw.png", pil(gradient("1", 17, 3), "PNG"))
# interlaced, hand-made: 3x3 grey, Adam7, zlib of the 7 passes' filtered rows
raw = b"".join(b"\0" + bytes(r) for r in ([1], [2], [3, 4], [5], [6], [7, 8, 9]))
ihdr = struct.pack(">IIBBBBB", 3, 3, 8, 0, 0, 0, 1)
save("png", "adam7.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
     chunk(b"eXIf", b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0") +
     chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

# JPEG
exif = b"Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0"
save("jpeg", "baseline.jpg", pil(gradient("RGB", 16, 16), "JPEG", quality=50, exif=exif,
                                 comment=b"seed") + b"TRAIL")
save("jpeg", "progressive.jpg", pil(gradient("RGB", 24, 8), "JPEG", quality=40, progressive=True))
save("jpeg", "grey.jpg", pil(gradient("L", 8, 8), "JPEG", quality=30))
save("jpeg", "cmyk.jpg", pil(gradient("CMYK", 8, 8), "JPEG", quality=30))
save("jpeg", "subsampled.jpg", pil(gradient("RGB", 17, 9), "JPEG", quality=30, subsampling=2))

# GIF
frames = [gradient("RGB", 6, 5).quantize(4), gradient("RGB", 6, 5).rotate(180).quantize(4)]
save("gif", "anim.gif", pil(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0,
                            duration=[10, 20], comment=b"seed", transparency=1) + b"TRAIL")
save("gif", "interlaced.gif", pil(gradient("RGB", 5, 9).quantize(16), "GIF", interlace=True))
save("gif", "87a.gif", pil(gradient("L", 4, 4).quantize(2), "GIF"))


# BMP: 40-byte header; pixels given as file rows
def bmp(w, h, bpp, comp, pixels, palette=b"", hsize=40, extra=b""):
    off = 14 + hsize + len(extra) + len(palette)
    hdr = struct.pack("<IiiHHIIiiII", hsize, w, h, 1, bpp, comp, len(pixels), 2835, 2835,
                      len(palette) // 4, 0) + b"\0" * (hsize - 40)
    return (b"BM" + struct.pack("<IHHI", off + len(pixels), 0, 0, off) + hdr + extra +
            palette + pixels)


pal16 = b"".join(bytes((i * 16, 255 - i * 16, i * 3, 0)) for i in range(16))
save("bmp", "rgb24.bmp", pil(gradient("RGB", 5, 3), "BMP"))
save("bmp", "pal8.bmp", pil(gradient("RGB", 7, 3).quantize(16), "BMP"))
save("bmp", "bw1.bmp", pil(gradient("1", 9, 2), "BMP"))
save("bmp", "rle8.bmp", bmp(6, 3, 8, 1, bytes((3, 1, 0, 3, 2, 3, 4, 0, 0, 0, 0, 2, 1, 1,
                                                 2, 5, 0, 1)), pal16))
save("bmp", "rle4.bmp", bmp(5, 2, 4, 2, bytes((5, 0x12, 0, 0, 0, 3, 0x45, 0x60, 2, 0x78,
                                                 0, 1)), pal16))
save("bmp", "bitfields565.bmp", bmp(2, 2, 16, 3, bytes(range(8)),
                                    extra=struct.pack("<III", 0xF800, 0x7E0, 0x1F)))
save("bmp", "bgra-v4.bmp", bmp(2, -2, 32, 3, bytes(range(16)), hsize=108)[:54] +
     struct.pack("<IIII", 0xFF0000, 0xFF00, 0xFF, 0xFF000000) + b"BGRs" + b"\0" * 48 +
     bytes(range(16)))
