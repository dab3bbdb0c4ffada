#!/usr/bin/python3
"""Writes srgb-lcms.icc: the sRGB profile Little CMS builds (through Pillow's ImageCms), an
sRGB ICC profile written by a tool other than ours, for test_image's sRGB check."""
import sys
from PIL import ImageCms

out = sys.argv[1] if len(sys.argv) > 1 else "srgb-lcms.icc"
with open(out, "wb") as f:
    f.write(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
