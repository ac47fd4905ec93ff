"""Sign-ins that can be listed and ended (issue 15, AUTH7).

Flask's session is a cookie the browser keeps, so the server keeps a row per sign-in
(rooms/store/account_store.py) and puts only its random id into the cookie. A request's
sign-in counts only while the row exists *and* the account's session epoch is the
one in the cookie (AUTH4): deleting a row ends one browser; moving the epoch on
(sign-out, a new password) ends all of them at once.

Ending sessions must reach open sockets too, not only the next page load: a socket
was authenticated once, at connect. `kick_therapist` looks at every socket of the
therapist in this process, decodes the session cookie it connected with (from the
socket's WSGI environ) and closes those whose sign-in is no longer valid with `bye`
(`not_authenticated`), the same path a revoked invite link takes (AUTH2); it is
announced so every process does the same for its own sockets (SCALE1, Redis).
"""
import secrets
import time

from flask import current_app, request, session
from itsdangerous import BadSignature
from ua_parser import parse as ua_parse
from werkzeug.http import parse_cookie

from activities.contract.protocol import E_AUTH
from rooms.web.i18n import translator

SIGN_IN = "sign_in"          # session key: the sign-in's id
EPOCH = "epoch"              # session key: the account's session epoch at sign-in (AUTH4)
KICK = "kick-therapist"      # announcement: re-check that therapist's sockets
AGENT_CHARS = 200
TOUCH_EVERY_S = 60


def _storage():
    return current_app.extensions["playroom"].storage


def start(rec):
    """Record a new sign-in of `rec` for this request's browser; its id goes into the
    session."""
    sign_in_id = secrets.token_urlsafe(16)
    agent = (request.user_agent.string or "unknown browser")[:AGENT_CHARS]
    _storage().add_sign_in(rec["id"], sign_in_id, request.remote_addr or "-", agent)
    session[SIGN_IN] = sign_in_id
    session[EPOCH] = rec["session_epoch"]


def valid(storage, rec, data):
    """Does session `data` hold a live sign-in of therapist `rec`?"""
    if rec is None or type(data.get(EPOCH)) is not int or data[EPOCH] != rec["session_epoch"]:
        return False
    return _row_of(storage, rec, data)


def _row_of(storage, rec, data):
    """Is the sign-in named in session `data` still there? For an open socket this is
    the whole check: a password change moves the epoch on but keeps the browser that
    made it, whose other tabs' sockets connected with the cookie of the old epoch.
    Every way of ending a sign-in deletes its row."""
    sign_in_id = data.get(SIGN_IN)
    row = storage.get_sign_in(sign_in_id) if isinstance(sign_in_id, str) else None
    return row is not None and row["therapist_id"] == rec["id"]


def touch():
    """Keep the sign-in's "last seen" roughly current (a write a minute at most)."""
    now = time.time()
    last = session.get("sign_in_seen")
    if isinstance(session.get(SIGN_IN), str) and \
            (not isinstance(last, (int, float)) or now - last >= TOUCH_EVERY_S):
        _storage().touch_sign_in(session[SIGN_IN], now)
        session["sign_in_seen"] = int(now)


def browser_label(agent):
    """ "Chrome on Android", "Mobile Safari on iPad" for the list of sign-ins (ua-parser,
    the maintained port of Browserscope's rules); the raw string when it knows neither."""
    found = ua_parse(agent or "")
    browser = found.user_agent.family if found.user_agent else None
    where = (found.device.family if found.device and found.device.family != "Other" else None) \
        or (found.os.family if found.os and found.os.family != "Other" else None)
    if not browser or browser == "Other":
        return agent or translator().gettext("unknown browser")
    # Translators: a browser and the device or system it runs on, "Chrome on Android".
    return translator().gettext("{browser} on {device}", browser=browser, device=where) \
        if where else browser


def active(therapist_id, now=None):
    """The therapist's sign-ins that can still be used. A browser idle for longer than
    INACTIVITY_MINUTES (or the cookie lifetime) is signed out at its next request
    anyway; its row is deleted here so the list shows only live sign-ins."""
    now = time.time() if now is None else now
    minutes = current_app.config["INACTIVITY_MINUTES"]
    idle_s = minutes * 60 + TOUCH_EVERY_S if minutes else \
        current_app.permanent_session_lifetime.total_seconds()
    rows = _storage().list_sign_ins(therapist_id)
    for row in rows:
        if now - row["seen_at"] > idle_s and row["id"] != current_id():
            _storage().end_sign_in(therapist_id, row["id"])
    return [r for r in rows if now - r["seen_at"] <= idle_s or r["id"] == current_id()]


def current_id():
    return session.get(SIGN_IN)


def end_one(therapist_id, sign_in_id):
    """End one of the therapist's sign-ins (its browser and its sockets)."""
    ended = _storage().end_sign_in(therapist_id, sign_in_id)
    if ended:
        kick_therapist(therapist_id)
    return ended


def end_others(therapist_id, new_epoch=None):
    """End every sign-in of the therapist but this browser's. With `new_epoch` (a
    password change already moved the epoch on) this browser keeps its sign-in."""
    if new_epoch is None:
        new_epoch = _storage().end_sessions(therapist_id)
    session[EPOCH] = new_epoch
    _storage().end_sign_ins(therapist_id, keep=current_id())
    kick_therapist(therapist_id)


def end_all(therapist_id):
    """Sign out everywhere: every sign-in and every copy of every cookie (AUTH4)."""
    _storage().end_sessions(therapist_id)
    _storage().end_sign_ins(therapist_id)
    kick_therapist(therapist_id)


# ------------------------------------------------------------------ sockets

def kick_therapist(therapist_id, app=None):
    """Close the therapist's sockets whose sign-in ended, here and in every process."""
    app = app or current_app._get_current_object()
    kick_here(app, therapist_id)
    app.extensions["playroom"].storage.announce(KICK, str(therapist_id))


def kick_here(app, therapist_id):
    pr = app.extensions["playroom"]
    rec = pr.storage.get_therapist(int(therapist_id))
    pid = f"th-{int(therapist_id)}"
    server = pr.hub.socketio.server

    def ended(conn):
        if conn.participant.get("id") != pid:
            return False
        data = _socket_session(app, server.get_environ(conn.sid) or {})
        return data is None or str(data.get("_user_id")) != str(therapist_id) \
            or rec is None or not _row_of(pr.storage, rec, data)
    pr.hub.kick(ended, E_AUTH, "You were signed out. Please sign in again.")


def _socket_session(app, environ):
    """The Flask session a socket connected with, read from its handshake's cookie."""
    value = parse_cookie(environ.get("HTTP_COOKIE", "")).get(app.config["SESSION_COOKIE_NAME"])
    serializer = app.session_interface.get_signing_serializer(app)
    if not value or serializer is None:
        return None
    try:
        data = serializer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds()))
    except BadSignature:
        return None
    return data if isinstance(data, dict) else None
