"""The picture set's files: served by the app and drawn by the server.

The vocabulary (ids, labels, figures) is the contract's (activities/contract/pictures.py,
re-exported here for the web layer). `Assets` is the service activities get for
drawing: pictures by id and the room therapist's uploads, so no activity reads files
or imports rooms/.
"""
import io
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from PIL import Image

from activities.contract.pictures import (AVATARS, CATALOG, CREDIT, FIGURE_CATEGORIES,  # noqa: F401
                                          GUEST_AVATARS, THERAPIST_AVATAR,
                                          FIGURE_LICENCE, FIGURES, SOURCE, STAMPS, client_config,
                                          url)


def svg_dir(root):
    return os.path.join(root, "node_modules", "@twemoji", "svg")


def svg_path(root, pid):
    """Path of the SVG for picture id `pid`, or None when it is not in the catalog."""
    entry = CATALOG.get(pid) if isinstance(pid, str) else None
    return os.path.join(svg_dir(root), entry[0] + ".svg") if entry else None


@lru_cache(maxsize=256)
def raster(root, pid, size):
    """The picture as an RGBA image of size×size pixels (cached; callers must copy
    before drawing on it)."""
    import resvg_py  # imported lazily: only renderers need it

    path = svg_path(root, pid)
    png = resvg_py.svg_to_bytes(svg_path=path, width=size, height=size)
    with Image.open(io.BytesIO(bytes(png))) as im:
        return im.convert("RGBA")


@dataclass(frozen=True)
class Assets:
    """The assets service of the activity contract (activities/contract, `Assets`):
    `raster(pid, size)` a catalog picture as RGBA size×size (cached: copy before
    drawing on it), `upload_image(upload_id, size)` an uploaded picture of the room's
    therapist fitting size×size, or None when it is gone or someone else's."""
    root: str
    uploads: Callable = None

    def raster(self, pid, size):
        return raster(self.root, pid, size)

    def upload_image(self, upload_id, size):
        return self.uploads(upload_id, size) if self.uploads else None

    def svg_path(self, pid):
        return svg_path(self.root, pid)

    def twemoji_dir(self):
        return svg_dir(self.root)
