"""Pictures a therapist uploads for stories and schedules: the sanitiser and the files.

An upload is untrusted bytes from a browser. `sanitise(data)` turns them into a clean
WebP picture and a WebP thumbnail, or raises `UploadError` (a sentence for the person
who uploaded it, and the HTTP status to answer with):

- only real PNG, JPEG, WebP and GIF files, identified by their content (Pillow's
  format detection restricted to those four), never by name or the client's MIME
  type: an SVG or HTML page renamed .png is "not a picture";
- at most `max_bytes` bytes (the web layer also stops reading there);
- at most `max_pixels` pixels, checked from the header before any pixel is decoded,
  with Pillow's DecompressionBombWarning turned into an error and its
  DecompressionBombError caught, so the global Image.MAX_IMAGE_PIXELS is never the
  only guard;
- `verify()`, then a fresh open and a full `load()`, so a truncated or corrupt file is
  refused (LOAD_TRUNCATED_IMAGES is never set);
- the EXIF orientation is applied, then the pixels are copied into a new image (whose
  `info` is empty) and that is encoded: no EXIF (so no GPS), no ICC profile, no XMP,
  no text chunks or comments survive; only the first frame of an animation is kept;
- the picture is scaled down to `max_edge` pixels on its longer side, and a thumbnail
  of `thumb_edge` pixels is made.

`UploadStore` keeps the files under the instance folder (<root>/<id>.webp and
<root>/thumbs/<id>.webp); the metadata (id, therapist_id, width, height, bytes,
created_at) is in the storage backend (`create_upload` and friends).

A story page or schedule step names an upload as "upload:<id>" (`upload_ref`,
`parse_ref`). Ids are random (`new_upload_id`, 128 bits) and only ever letters, digits,
"-" and "_", so a reference can never name a path.
"""
import io
import os
import secrets
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

# The reference format is the contract's: activities check references, this module
# keeps the files.
from activities.contract.uploads import MAX_BYTES, ID_RE, PREFIX, is_upload_id, parse_ref, upload_ref  # noqa: F401

MAX_PIXELS = 30_000_000           # width × height of one upload (30 megapixels)
MAX_EDGE = 1600                   # px, longer side of the stored picture
THUMB_EDGE = 320                  # px, longer side of the thumbnail
MAX_UPLOADS = 500                 # pictures one therapist keeps
FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
STORED_MIME = "image/webp"
STORED_EXT = ".webp"
QUALITY = 88                      # WebP quality of the stored picture (thumbnails: 80)



class UploadError(Exception):
    """A refused upload: str(e) is the sentence to show, `status` the HTTP status,
    `code` one of not_image, too_large, too_many_pixels, broken."""

    def __init__(self, message, status=400, code="invalid"):
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Clean:
    data: bytes         # the stored picture (WebP)
    thumb: bytes        # its thumbnail (WebP)
    width: int
    height: int


# ---------------------------------------------------------------- ids and references

def new_upload_id():
    return secrets.token_urlsafe(16)


# ---------------------------------------------------------------- the sanitiser

NOT_IMAGE = "This file is not a picture (PNG, JPEG, WebP or GIF)."


def _too_many(max_pixels):
    return UploadError(f"This picture has too many pixels (at most {max_pixels // 1_000_000} "
                       "megapixels).", 400, "too_many_pixels")


def _open(data, max_pixels):
    """Open `data` as one of FORMATS and refuse an oversized picture from its header,
    before a pixel is decoded. The caller closes the image."""
    try:
        im = Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError:
        raise _too_many(max_pixels) from None
    except (Image.UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise UploadError(NOT_IMAGE, 400, "not_image") from None
    w, h = im.size
    if im.format not in FORMATS or w < 1 or h < 1:
        im.close()
        raise UploadError(NOT_IMAGE, 400, "not_image")
    if w * h > max_pixels:
        im.close()
        raise _too_many(max_pixels)
    return im


def _flat_copy(im):
    """The pixels of `im`, orientation applied, in a new RGB/RGBA image with no metadata."""
    im = ImageOps.exif_transpose(im)
    alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    mode = "RGBA" if alpha else "RGB"
    if im.mode != mode:
        im = im.convert(mode)
    return Image.frombytes(mode, im.size, im.tobytes())


def _webp(im, quality):
    buf = io.BytesIO()
    im.save(buf, "WEBP", quality=quality, method=4)
    return buf.getvalue()


def sanitise(data, *, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, max_edge=MAX_EDGE,
             thumb_edge=THUMB_EDGE):
    """The clean picture and thumbnail of uploaded bytes, or UploadError."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise UploadError("No picture was sent.", 400, "not_image")
    if len(data) > max_bytes:
        raise UploadError(f"The picture is too big (at most {max_bytes // (1024 * 1024)} MB).",
                          413, "too_large")
    data = bytes(data)
    with warnings.catch_warnings():
        # Pillow only warns between 1× and 2× its global limit: for uploads it is an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with _open(data, max_pixels) as im:
                im.verify()              # structure and checksums; unusable afterwards
            with _open(data, max_pixels) as im:
                im.load()                # every pixel: a truncated file fails here
                if max(im.size) > max_edge:
                    # Down to the stored size first, in place: the copies below are
                    # then of 1600 px, not of up to 30 MP (each ~120 MB; bench/ noisy
                    # saw ~440 MiB per upload). The orientation turns with the size.
                    im.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
                clean = _flat_copy(im)
        except UploadError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many(max_pixels) from None
        except Exception:   # noqa: BLE001 - any decoder failure on untrusted bytes
            raise UploadError("This picture is damaged or incomplete.", 400, "broken") from None
    thumb = clean.copy()
    thumb.thumbnail((thumb_edge, thumb_edge), Image.Resampling.LANCZOS)
    return Clean(_webp(clean, QUALITY), _webp(thumb, 80), clean.width, clean.height)


# ---------------------------------------------------------------- files

class UploadStore:
    """The clean files under `root`: <root>/<id>.webp and <root>/thumbs/<id>.webp.
    Only ids that pass `is_upload_id` ever become paths. With a `keyring`
    (rooms/store/crypto.py) the files are sealed at rest, each bound to its upload
    id and kind (a child's picture is a child's picture): read them with `read`."""

    def __init__(self, root, keyring=None):
        self.root = root
        self.keyring = keyring
        os.makedirs(os.path.join(root, "thumbs"), exist_ok=True)

    @staticmethod
    def aad(uid, thumb=False):
        return f"uploads|{uid}|{'thumb' if thumb else 'picture'}"

    def seal(self, uid, thumb, data):
        """The bytes to keep on disk for `data` (sealed when there is a keyring)."""
        return data if self.keyring is None else self.keyring.seal(data, self.aad(uid, thumb))

    def unseal(self, uid, thumb, data):
        return data if self.keyring is None else self.keyring.open(data, self.aad(uid, thumb))

    def read(self, uid, thumb=False):
        """The file's picture bytes (WebP), or None when it is gone."""
        p = self.path(uid, thumb)
        try:
            with open(p, "rb") as f:
                return self.unseal(uid, thumb, f.read())
        except (FileNotFoundError, TypeError):
            return None

    def path(self, uid, thumb=False):
        if not is_upload_id(uid):
            return None
        if thumb:
            return os.path.join(self.root, "thumbs", uid + STORED_EXT)
        return os.path.join(self.root, uid + STORED_EXT)

    def save(self, uid, clean):
        """Write both files; each appears whole or not at all (renamed into place)."""
        if not is_upload_id(uid):
            raise ValueError("bad upload id")
        for thumb, data in ((True, clean.thumb), (False, clean.data)):
            path = self.path(uid, thumb)
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(self.seal(uid, thumb, data))
            os.replace(tmp, path)

    def delete(self, uid):
        for thumb in (False, True):
            p = self.path(uid, thumb)
            if p is not None:
                try:
                    os.remove(p)
                except FileNotFoundError:
                    pass

    def open_image(self, uid, size):
        """The stored picture as RGBA, scaled to fit size×size (proportions kept), or
        None when it is gone or unreadable."""
        data = self.read(uid) if size >= 1 else None
        if data is None:
            return None
        try:
            with Image.open(io.BytesIO(data), formats=("WEBP",)) as im:
                im.load()
                out = im.convert("RGBA")
        except (OSError, ValueError, SyntaxError):
            return None
        scale = min(size / out.width, size / out.height)
        w, h = max(1, round(out.width * scale)), max(1, round(out.height * scale))
        return out.resize((w, h), Image.Resampling.LANCZOS)
