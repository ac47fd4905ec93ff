"""Clinical safety in the room (issue 15 part 7, SAFE2): where the child is this
session, an emergency contact, and the practice's crisis lines, for the therapist only.

Why HTTP and not a room op: room ops are broadcast to everyone in the room and replayed
to guests who join; this is the one thing in the room a guest must never receive. So
it is stored per room session (keyed by the seq of the session's start op, like the
session record) through the storage contract, sealed at rest (rooms/store/sealed.py),
and served only to the room's owner — everyone else gets 404, as for any room they do
not own. The session record page and its PDF/ZIP read it back by the same key.
"""
import time

from flask import Blueprint, current_app, jsonify, request
from flask_login import login_required
from flask_wtf.csrf import generate_csrf

from activities.contract import Invalid, text
from rooms.records.service import merge_safety, session_safety
from rooms.web import audit, i18n, services as _pr
from rooms.web.pages import _own_room, current_session as _current_session

bp = Blueprint("safety", __name__)

# Field: (most characters, label). A phone number is free text too ("+1 (555) 010-2030
# ext. 4"): a clinic calls it, no software dials it.
FIELDS = {"location": (200, "Where the child is"),
          "contact_name": (80, "Emergency contact"),
          "contact_phone": (40, "Emergency contact's phone")}


def validate(body):
    """The stored form of a posted body: each field TEXT1 text within its length,
    trimmed; unknown keys and non-objects refused (Invalid), never clamped."""
    if not isinstance(body, dict) or set(body) - set(FIELDS):
        raise Invalid("send location, contact_name and contact_phone")
    out = {}
    for key, (most, label) in FIELDS.items():
        out[key] = text(body.get(key, ""), most, label).strip()
    return out


def crisis_lines(config):
    """The practice's crisis lines, one per line of CRISIS_LINES (README)."""
    lines = str(config["CRISIS_LINES"]).replace("|", "\n").split("\n")
    return [line.strip() for line in lines if line.strip()]


def _answer(room_id, first, details, status=200):
    return jsonify({"session": first, **{k: details.get(k, "") for k in FIELDS},
                    "updated_at": details.get("updated_at"),
                    "parent_location": details.get("parent_location", ""),
                    "crisis_lines": crisis_lines(current_app.config),
                    "csrf": generate_csrf()}), status


@bp.route("/rooms/<room_id>/safety", methods=["GET"])
@login_required
def show(room_id):
    """The crisis card's contents for the open session (owner only, else 404)."""
    _own_room(room_id)
    first = _current_session(room_id)
    details = session_safety(_pr().storage, room_id, first) if first is not None else {}
    return _answer(room_id, first, details)


@bp.route("/rooms/<room_id>/safety", methods=["POST"])
@login_required
def save(room_id):
    """Record where the child is and the emergency contact for the open session
    (JSON body, X-CSRFToken header). 400 with the reason for bad input, 409 when no
    session is open (nothing is stored)."""
    _own_room(room_id)
    try:
        details = validate(request.get_json(silent=True))
    except Invalid as e:
        return jsonify({"error": "invalid", "message": str(e)}), 400
    first = _current_session(room_id)
    if first is None:
        return jsonify({"error": "no_session",
                        "message": i18n.translator().gettext(
                            "Open the room first: nobody is in a session.")}), 409
    details["updated_at"] = time.time()
    details = merge_safety(_pr().storage, room_id, first, details)
    audit.record("safety-details-saved", f"room:{room_id}")
    return _answer(room_id, first, details)

