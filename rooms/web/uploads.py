"""HTTP routes for therapists' own pictures (rooms/assets/uploads.py cleans and keeps them).

    GET    /uploads                         the signed-in therapist's uploads and a CSRF
                                            token for the calls below (JSON)
    POST   /uploads                         multipart field "file"; header X-CSRFToken
    DELETE /uploads/<id>                    the owner only; header X-CSRFToken
    GET    /rooms/<room>/uploads/<id>.webp  the picture; .../<id>/thumb.webp its thumbnail

A picture is served to the room's therapist when the upload is theirs, and to a guest
of the room (their participant session, as for the room page) only while one of the
room's activities shows it (`activity.uploads_used(state)`) and the upload belongs to
the room's therapist. Everyone else gets 404, which never says whether the picture
exists; a write without a therapist login gets 403 and stores nothing. Pictures are
served as image/webp with `X-Content-Type-Options: nosniff`.

The byte limit holds while the body is read: the upload view sets
request.max_content_length before anything touches the body, so Flask-WTF's automatic
CSRF check (which would parse the whole form first) is switched off for that one view,
which checks the header token itself before reading the body.
"""
import hashlib
import io
import logging
import os

from flask import Blueprint, abort, current_app, jsonify, request, send_file
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import ValidationError

from rooms.assets import uploads
from activities.contract.protocol import THERAPIST
from activities.contract.i18n import N_
from rooms.web import i18n, services as _pr
from rooms.web.pages import participant_for, visit_closed

log = logging.getLogger(__name__)
bp = Blueprint("uploads", __name__)
ENVELOPE = 64 * 1024      # room for the multipart headers around the file


@bp.record_once
def _exempt_upload_from_auto_csrf(state):
    state.app.extensions["csrf"].exempt(f"{__name__}.upload")


def _files():
    return uploads.UploadStore(os.path.join(current_app.config["INSTANCE_PATH"], "uploads"),
                               getattr(_pr().storage, "keyring", None))


def _error(message, status, code, **params):
    """A refusal as JSON; `error` is shown to the therapist, in their language."""
    return jsonify({"ok": False, "code": code,
                    "error": i18n.translator().gettext(message, **params)}), status


# The sanitiser's refusals (rooms/assets/uploads.py), said in the therapist's language.
REFUSALS = {"not_image": N_("This file is not a picture (PNG, JPEG, WebP or GIF)."),
            "too_large": N_("The picture is too big (at most {mb} MB)."),
            "too_many_pixels": N_("This picture has too many pixels (at most {mp} megapixels)."),
            "broken": N_("This picture is damaged or incomplete.")}


def _refused(e):
    message = REFUSALS.get(e.code)
    if message is None:           # a refusal this page has no words for: as it was said
        return jsonify({"ok": False, "code": e.code, "error": str(e)}), e.status
    return _error(message, e.status, e.code, mb=uploads.MAX_BYTES // (1024 * 1024),
                  mp=uploads.MAX_PIXELS // 1_000_000)


def _therapist_id():
    return current_user.id if current_user.is_authenticated else None


def public(rec):
    """What the browser learns about an upload."""
    return {"id": rec["id"], "ref": uploads.upload_ref(rec["id"]), "width": rec["width"],
            "height": rec["height"], "bytes": rec["bytes"], "created_at": rec["created_at"]}


@bp.route("/uploads", methods=["GET"])
def list_uploads():
    tid = _therapist_id()
    if tid is None:
        return _error(N_("Please sign in as a therapist."), 403, "forbidden")
    return jsonify({"ok": True, "uploads": [public(u) for u in _pr().storage.list_uploads(tid)],
                    "csrf": generate_csrf(),
                    "limits": {"bytes": uploads.MAX_BYTES, "count": uploads.MAX_UPLOADS,
                               "megapixels": uploads.MAX_PIXELS // 1_000_000}})


@bp.route("/uploads", methods=["POST"])
def upload():
    tid = _therapist_id()
    if tid is None:
        return _error(N_("Please sign in as a therapist."), 403, "forbidden")
    # Before anything reads the body: Werkzeug refuses a longer body (413) while reading.
    request.max_content_length = uploads.MAX_BYTES + ENVELOPE
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except (ValidationError, CSRFError):
            return _error(N_("The page is out of date: please reload it."), 400, "csrf")
    try:
        f = request.files.get("file")
        data = f.stream.read(uploads.MAX_BYTES + 1) if f else b""
    except RequestEntityTooLarge:
        return _error(N_("The picture is too big (at most {mb} MB)."), 413, "too_large",
                      mb=uploads.MAX_BYTES // (1024 * 1024))
    if not data:
        return _error(N_("No picture was sent."), 400, "not_image")
    storage = _pr().storage
    if storage.count_uploads(tid) >= uploads.MAX_UPLOADS:
        return _error(N_("You have too many pictures: delete some first."), 409, "full")
    try:
        clean = _pr().offload.run(uploads.sanitise, data)    # decoding: off the loop (WORK1)
    except uploads.UploadError as e:
        return _refused(e)
    uid = uploads.new_upload_id()
    files = _files()
    try:
        files.save(uid, clean)       # files first: a record never names a missing file
        rec = storage.create_upload(uid, tid, clean.width, clean.height, len(clean.data))
    except Exception:
        log.exception("storing an upload failed")
        files.delete(uid)
        return _error(N_("Could not save the picture, please try again."), 500, "internal_error")
    return jsonify({"ok": True, "upload": public(rec)}), 201


@bp.route("/uploads/<upload_id>", methods=["DELETE"])
def delete_upload(upload_id):
    tid = _therapist_id()
    if tid is None:
        return _error(N_("Please sign in as a therapist."), 403, "forbidden")
    storage = _pr().storage
    rec = storage.get_upload(upload_id) if uploads.is_upload_id(upload_id) else None
    if rec is None or rec["therapist_id"] != tid:
        return _error(N_("No such picture."), 404, "not_found")
    storage.delete_upload(upload_id)
    _files().delete(upload_id)
    return jsonify({"ok": True})


def _shown_in_room(room_id, upload_id):
    """Does one of the room's activities show this upload now (in its state)?"""
    pr = _pr()
    for name in pr.registry.names():
        used = getattr(pr.registry.get(name), "uploads_used", None)
        if used is not None and upload_id in used(pr.engine.state(room_id, name)[1]):
            return True
    return False


@bp.route("/rooms/<room_id>/uploads/<upload_id>.webp")
@bp.route("/rooms/<room_id>/uploads/<upload_id>/thumb.webp", defaults={"thumb": True})
def room_picture(room_id, upload_id, thumb=False):
    room, me = participant_for(room_id)
    rec = _pr().storage.get_upload(upload_id) if uploads.is_upload_id(upload_id) else None
    if room is None or me is None or rec is None or rec["therapist_id"] != room["therapist_id"] \
            or visit_closed(room_id, me):
        abort(404)
    if me["role"] != THERAPIST and not _shown_in_room(room_id, upload_id):
        abort(404)
    data = _files().read(upload_id, thumb)        # sealed at rest: opened here
    if data is None:
        abort(404)
    resp = send_file(io.BytesIO(data), mimetype=uploads.STORED_MIME, max_age=0,
                     conditional=True, etag=hashlib.sha256(data).hexdigest())
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp
