"""Reading our PDFs the way a person's tools do: poppler's `pdftotext` (the text a
screen reader or a search gets) and `pdftoppm` (what the page looks like). Debian's
poppler-utils, installed by `make test` (test-deps)."""
import io
import re
import shutil
import subprocess

import pytest
from PIL import Image


def _tool(name):
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: install Debian's poppler-utils (make test-deps)")
    return path


def pdf_text(data, *args):
    """The PDF's text layer as pdftotext extracts it."""
    return subprocess.run([_tool("pdftotext"), *args, "-", "-"], input=data,
                          capture_output=True, check=True).stdout.decode()


def pdf_words(data):
    """[(word, xMin, xMax, page width)] from pdftotext -bbox: where each word sits."""
    html = pdf_text(data, "-bbox")
    out = []
    for page in re.finditer(r'<page width="([\d.]+)".*?</page>', html, re.S):
        width = float(page.group(1))
        for m in re.finditer(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)</word>',
                             page.group(0)):
            out.append((m.group(3), float(m.group(1)), float(m.group(2)), width))
    return out


def pdf_page_png(data, page=1, dpi=50):
    """Page `page` rendered by pdftoppm as an RGB Pillow image."""
    png = subprocess.run([_tool("pdftoppm"), "-png", "-r", str(dpi), "-f", str(page),
                          "-l", str(page), "-"], input=data, capture_output=True,
                         check=True).stdout
    with Image.open(io.BytesIO(png)) as img:
        return img.convert("RGB")


def colourful_pixels(img, box):
    """How many pixels in `box` are clearly coloured (not black, grey or white): text
    is black or grey, an emoji picture is not."""
    region = img.crop(box).convert("HSV")
    return sum(1 for _, s, v in region.get_flattened_data() if s > 80 and v > 60)
