"""The picture set: avatars, stamps and icons, served by the app and drawn by the server.

Pictures are Twemoji SVGs (graphics CC-BY 4.0, Twitter/X and contributors; the npm
package @twemoji/svg is MIT), installed from the npm registry at set-up time. Every
device shows the same picture (no emoji from the device's font) and the server
renderer rasterises the same file with resvg, so exports match the screen.

A picture id is a short, stable name; the catalog maps it to a Twemoji file. Only
ids in the catalog are ever served or accepted in ops.
"""
import io
import os
from functools import lru_cache

from PIL import Image

SOURCE = "@twemoji/svg"
CREDIT = ("Pictures: Twemoji by Twitter/X and contributors, licensed CC-BY 4.0 "
          "(https://creativecommons.org/licenses/by/4.0/).")

# id -> (Twemoji codepoint file, label a screen reader speaks)
CATALOG = {
    # avatars
    "cat": ("1f431", "cat"), "dog": ("1f436", "dog"), "fox": ("1f98a", "fox"),
    "lion": ("1f981", "lion"), "panda": ("1f43c", "panda"), "rabbit": ("1f430", "rabbit"),
    "unicorn": ("1f984", "unicorn"), "frog": ("1f438", "frog"), "owl": ("1f989", "owl"),
    "turtle": ("1f422", "turtle"), "octopus": ("1f419", "octopus"), "bear": ("1f43b", "bear"),
    "monkey": ("1f435", "monkey"), "penguin": ("1f427", "penguin"), "koala": ("1f428", "koala"),
    "tiger": ("1f42f", "tiger"),
    # stamps
    "star": ("2b50", "star"), "heart": ("2764", "heart"), "smile": ("1f60a", "smiling face"),
    "sun": ("2600", "sun"), "rainbow": ("1f308", "rainbow"), "flower": ("1f33c", "flower"),
    "butterfly": ("1f98b", "butterfly"), "dragon": ("1f409", "dragon"),
    "house": ("1f3e0", "house"), "tree": ("1f333", "tree"), "balloon": ("1f388", "balloon"),
    "rocket": ("1f680", "rocket"), "thumbsup": ("1f44d", "thumbs up"),
    "sparkles": ("2728", "sparkles"), "cloud": ("2601", "cloud"), "ladybug": ("1f41e", "ladybug"),
    # icons used by the room shell
    "palette": ("1f3a8", "drawing"), "crayon": ("1f58d", "crayon"),
}

AVATARS = ["cat", "dog", "fox", "lion", "panda", "rabbit", "unicorn", "frog", "owl",
           "turtle", "octopus", "bear", "monkey", "penguin", "koala", "tiger"]
STAMPS = ["star", "heart", "smile", "sun", "rainbow", "flower", "butterfly", "dragon",
          "house", "tree", "balloon", "rocket", "thumbsup", "sparkles", "cloud", "ladybug"]


def svg_dir(root):
    return os.path.join(root, "node_modules", "@twemoji", "svg")


def svg_path(root, pid):
    """Path of the SVG for picture id `pid`, or None when it is not in the catalog."""
    entry = CATALOG.get(pid) if isinstance(pid, str) else None
    return os.path.join(svg_dir(root), entry[0] + ".svg") if entry else None


def url(pid):
    return f"/pictures/{pid}.svg"


def client_config():
    return {pid: {"url": url(pid), "label": label} for pid, (_, label) in CATALOG.items()}


@lru_cache(maxsize=256)
def raster(root, pid, size):
    """The picture as an RGBA image of size×size pixels (cached; callers must copy
    before drawing on it)."""
    import resvg_py  # imported lazily: only renderers need it

    path = svg_path(root, pid)
    png = resvg_py.svg_to_bytes(svg_path=path, width=size, height=size)
    with Image.open(io.BytesIO(bytes(png))) as im:
        return im.convert("RGBA")
