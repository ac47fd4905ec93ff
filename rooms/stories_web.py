"""Therapist-only HTTP routes of the stories activity: the PDF of a story for home.

Only the therapist who owns the room gets anything; everyone else gets the login
page or a 404 that does not say whether the room or story exists (STORY5)."""
import io
import os

from flask import Blueprint, abort, current_app, send_file
from flask_login import login_required

from activities import stories

from . import uploads
from .web import _own_room, _pr

bp = Blueprint("stories", __name__)


def _upload_images(therapist_id):
    """upload_image(id, size) for the PDF: only the room therapist's own uploads."""
    files = uploads.UploadStore(os.path.join(current_app.config["INSTANCE_PATH"], "uploads"))
    storage = _pr().storage

    def image(upload_id, size):
        rec = storage.get_upload(upload_id)
        if rec is None or rec["therapist_id"] != therapist_id:
            return None
        return files.open_image(upload_id, size)
    return image


@bp.route("/rooms/<room_id>/stories/<story_id>.pdf")
@login_required
def story_pdf(room_id, story_id):
    """The story as it is now in the room (a ready one or the room's own copy), one
    PDF page per story page, built by Pillow from the authoritative state."""
    room = _own_room(room_id)
    _, state = _pr().engine.state(room_id, stories.NAME)
    try:
        data = stories.pdf(state, story_id, current_app.config["ASSETS_ROOT"],
                           _upload_images(room["therapist_id"]))
    except KeyError:
        abort(404)
    title = stories.story(state, story_id)["title"]
    safe = "".join(c for c in title if c.isalnum() or c in " -_").strip() or "story"
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{safe}.pdf", max_age=0)
