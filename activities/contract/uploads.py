"""How an activity names a therapist's uploaded picture: "upload:<id>".

Ids are random and only ever letters, digits, "-" and "_", so a reference can never
name a path. The files, the sanitiser and the limits on pixels live in
rooms/assets/uploads.py; activities only check references and tell the browser the
largest upload it may send.
"""
import re

MAX_BYTES = 8 * 1024 * 1024       # bytes of one upload
PREFIX = "upload:"
ID_RE = re.compile(r"[A-Za-z0-9_-]{16,43}")


def is_upload_id(uid):
    return isinstance(uid, str) and ID_RE.fullmatch(uid) is not None


def upload_ref(uid):
    return PREFIX + uid


def parse_ref(value):
    """The upload id of a picture reference "upload:<id>", or None."""
    if isinstance(value, str) and value.startswith(PREFIX) and is_upload_id(value[len(PREFIX):]):
        return value[len(PREFIX):]
    return None
