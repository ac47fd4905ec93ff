"""Passwords and signed account links (issue 15).

- Strength (AUTH8): zxcvbn, the estimator Dropbox wrote for exactly this, scores a
  password 0–4 against dictionaries, keyboard patterns, dates and the person's own
  email and name; below PASSWORD_MIN_SCORE (3) it is refused with zxcvbn's own
  warning and suggestion as the reason. Checked on the server for every new
  password (sign-up, change, reset, the CLI).
- Reset links and therapist invitations are itsdangerous tokens signed with the
  app's secret key, each with its own salt, and expire (RESET_LINK_MINUTES,
  THERAPIST_INVITE_DAYS). A reset link carries a fingerprint of the password hash it
  was made for, so it works once: using it changes the hash, and every older link
  stops matching too (AUTH9). An invitation names one email; once that email has an
  account a second use is refused like any taken email.
"""
import hashlib

from flask import current_app, has_request_context
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import ValidationError
from zxcvbn import zxcvbn

from activities.contract.i18n import ENGLISH
from rooms.web import i18n

# zxcvbn's time grows with the length; the first 100 characters decide the score.
SCORED_CHARS = 100
RESET_SALT = "playroom-password-reset"
INVITE_SALT = "playroom-therapist-invite"


def _tr():
    """The reader's translator; English for a command (`flask create-therapist`)."""
    return i18n.translator() if has_request_context() else ENGLISH


def weakness(password, user_inputs=()):
    """None for a strong enough password, else a plain reason to show the person."""
    inputs = [str(v) for v in user_inputs if v]
    inputs += [part for v in inputs for part in v.replace("@", " ").replace(".", " ").split()]
    result = zxcvbn(password[:SCORED_CHARS], user_inputs=inputs)
    if result["score"] >= current_app.config["PASSWORD_MIN_SCORE"]:
        return None
    feedback = result["feedback"]
    # zxcvbn's own warnings and suggestions are English only (it has no Spanish): they
    # stay as it says them; ours are in the reader's language.
    tr = _tr()
    parts = [feedback.get("warning") or tr.gettext("This password is too easy to guess.")]
    parts += feedback.get("suggestions") or [
        tr.gettext("Add another word or two. Uncommon words are better.")]
    return " ".join(p if p.endswith(".") else p + "." for p in parts if p)


def strong(*input_fields, inputs=None):
    """WTForms validator: refuse a weak password (AUTH8). `input_fields` name fields of
    the same form (email, name) and `inputs()` gives more (the signed-in therapist's)."""
    def check(form, field):
        values = [getattr(form, name).data for name in input_fields]
        values += list(inputs() if inputs else ())
        reason = weakness(field.data or "", values)
        if reason:
            raise ValidationError(_tr().gettext(
                "Please choose a stronger password. {reason}", reason=reason))
    return check


def _serializer(salt):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _fingerprint(password_hash):
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def reset_token(therapist):
    return _serializer(RESET_SALT).dumps({"id": therapist["id"],
                                          "h": _fingerprint(therapist["password_hash"])})


def therapist_for_reset(token, storage):
    """The therapist a reset link is for, or None when it is forged, expired or used."""
    max_age = current_app.config["RESET_LINK_MINUTES"] * 60
    try:
        data = _serializer(RESET_SALT).loads(token, max_age=max_age)
    except BadSignature:
        return None
    if not isinstance(data, dict) or type(data.get("id")) is not int:
        return None
    rec = storage.get_therapist(data["id"])
    if rec is None or data.get("h") != _fingerprint(rec["password_hash"]):
        return None
    return rec


def invite_token(email, admin_id):
    return _serializer(INVITE_SALT).dumps({"email": email, "by": admin_id})


def invited_email(token, storage):
    """The email an invitation is for, or None (forged, expired, inviter no admin)."""
    if not isinstance(token, str) or not token:
        return None
    max_age = current_app.config["THERAPIST_INVITE_DAYS"] * 86400
    try:
        data = _serializer(INVITE_SALT).loads(token, max_age=max_age)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("email"), str) \
            or type(data.get("by")) is not int or not storage.is_admin(data["by"]):
        return None
    return data["email"]
