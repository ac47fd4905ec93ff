"""HTTP pages: dashboard, rooms and invites, the guest join page, the room page,
pictures, vendored browser modules, the server-rendered PNG export and activities'
downloads (e.g. a story as PDF)."""
import io
import os
import re
import time

import segno
from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   send_file, session, url_for)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField
from wtforms.validators import DataRequired, Length

from activities.contract import DownloadContext
from activities.contract.i18n import LANGUAGES, N_, supported

from rooms.core import control as room_control
from rooms.core import invites
from rooms.records.service import merge_safety
from rooms.assets import pictures
from rooms.web import audit, i18n, services
from rooms.assets.pictures import Assets
from rooms.assets.firstpaint import png_of
from rooms.assets import uploads
from rooms.web.accounts import EmptyForm, plain_text
from activities.contract.protocol import (CHILD, DEFAULT_SETTINGS, E_AUTH, E_ENDED, E_REVOKED, GUEST_ROLES, PARENT,
                       THERAPIST, client_config)

bp = Blueprint("web", __name__)

# Browser modules installed by npm at set-up time, served under /vendor/<name>.
VENDOR = {
    "socket.io-client.js": "socket.io-client/dist/socket.io.esm.min.js",
    "perfect-freehand.js": "perfect-freehand/dist/esm/index.mjs",
}
_IMPORT = re.compile(r"""^\s*(?:import|export)\b[^'"]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']""",
                     re.M)
# The name a guest gets when they skip it, in the language they join in.
DEFAULT_NAMES = {CHILD: N_("Friend"), PARENT: N_("Grown-up")}
ROLE_LABELS = {THERAPIST: N_("Therapist"), CHILD: N_("Child"), PARENT: N_("Parent")}
# The dashboard's words per guest link (whole phrases: word order differs per language).
LINK_LABELS = {CHILD: N_("Child link"), PARENT: N_("Parent link")}
QR_LABELS = {CHILD: N_("QR code for the child link"), PARENT: N_("QR code for the parent link")}


def role_labels(tr=None):
    """{role: label} in the reader's language (the request's, when `tr` is None)."""
    tr = tr or i18n.translator()
    return {role: tr.gettext(label) for role, label in ROLE_LABELS.items()}


def room_modules(static_dir, entry="canvas/room/main.js"):
    """Every module the room page imports, directly or not, in the order found:
    static paths ("canvas/x.js") and vendor names ("socket.io-client"). The page
    preloads them all at once: a module's imports are otherwise only requested
    once it has arrived, one round of requests per level of the import tree
    (bench/: a big share of the time to first paint)."""
    order, seen, todo = [], {entry}, [entry]
    while todo:
        rel = todo.pop(0)
        order.append(rel)
        try:
            with open(os.path.join(static_dir, rel), encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue
        for m in _IMPORT.finditer(text):
            spec = m.group(1) or m.group(2)
            if spec.startswith("."):
                dep = os.path.normpath(os.path.join(os.path.dirname(rel), spec)).replace(os.sep, "/")
            else:
                dep = spec                     # a bare name from the page's import map
            if dep not in seen:
                seen.add(dep)
                (todo.append(dep) if spec.startswith(".") else order.append(dep))
    return order


_MODULES = {}


def module_urls(entry="canvas/room/main.js"):
    """URLs of the modules a page's entry module imports (computed once per static
    folder and entry): the room page preloads them, the home page keeps them offline."""
    static = current_app.static_folder
    if (static, entry) not in _MODULES:
        _MODULES[(static, entry)] = room_modules(static, entry)
    urls = []
    for m in _MODULES[(static, entry)]:
        if m.endswith(".js") and "/" in m:
            urls.append(url_for("static", filename=m))
        elif m + ".js" in VENDOR:
            urls.append(url_for("web.vendor", name=m + ".js"))
    return urls


_pr = services


class RoomForm(FlaskForm):
    name = StringField(N_("Who is this room for?"),
                       validators=[DataRequired(), Length(max=60), plain_text()])
    # CTL1: on by default in the page; a form post without it lets guests straight in.
    waiting_room = BooleanField(N_("Guests wait until I let them in"), default=True)

    def translate(self, tr):
        """Labels in the reader's language (the class holds the English source)."""
        for f in (self.name, self.waiting_room):
            f.label.text = tr.gettext(f.label.text)
        return self


class JoinForm(FlaskForm):
    name = StringField("Your name", validators=[Length(max=24), plain_text()])
    # The owl is the therapist's (pictures.THERAPIST_AVATAR): refused here, not only hidden.
    avatar = RadioField("Pick a picture", choices=pictures.GUEST_AVATARS,
                        default=pictures.GUEST_AVATARS[0])
    # SAFE2: a parent confirms where the child is (optional; only the therapist sees it).
    location = StringField("Where is your child right now?",
                           validators=[Length(max=200), plain_text()])


def _own_room(room_id):
    """The room when the signed-in therapist owns it; 404 otherwise (no hint that
    someone else's room exists)."""
    room = _pr().storage.get_room(room_id)
    if room is None or room["therapist_id"] != current_user.id:
        current_app.logger.warning("refused %s %s for therapist %s (not their room)",
                                   request.method, request.path, current_user.id)
        abort(404)
    return room


def _qr(url):
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


@bp.route("/")
def index():
    return render_template("index.html")


@bp.route("/bye")
def goodbye():
    """Where a guest goes on leaving: a friendly goodbye, never the therapists'
    sign-up page (a child's "OK" must not land on a form for grown-ups)."""
    i18n.use_lang(_guest_lang())
    return render_template("goodbye.html")


def _guest_lang(room_id=None):
    """The language of the guest on this browser (issue 16): what they chose for the
    invite they came into `room_id` through, else their only choice, else lang()."""
    langs = session.get("langs", {})
    pid = session.get("guests", {}).get(room_id) if isinstance(room_id, str) else None
    part = _pr().storage.get_participant(pid) if isinstance(pid, str) else None
    if part and part.get("invite_id"):
        chosen = i18n.invite_lang(part["invite_id"])
        if chosen:
            return chosen
    chosen = {supported(v) for v in langs.values()} - {None}
    return chosen.pop() if len(chosen) == 1 else i18n.lang()


@bp.route("/about")
def about():
    return render_template("about.html", credit=pictures.CREDIT)


@bp.route("/dashboard")
@login_required
def dashboard():
    storage = _pr().storage
    rooms = storage.list_rooms(current_user.id)
    fresh = session.pop("fresh_links", {})
    for room in rooms:
        room["invites"] = {role: (inv, invites.status(inv) if inv else None)
                           for role, inv in invites.current(storage, room["id"]).items()}
        room["links"] = {role: {"url": url, "qr": _qr(url)}
                         for role, url in fresh.get(room["id"], {}).items()}
    tr = i18n.translator()
    return render_template("dashboard.html", rooms=rooms, form=RoomForm().translate(tr),
                           action=EmptyForm(), roles=GUEST_ROLES, role_labels=role_labels(tr),
                           link_labels={r: tr.gettext(t) for r, t in LINK_LABELS.items()},
                           qr_labels={r: tr.gettext(t) for r, t in QR_LABELS.items()})


def _remember_links(room_id, links):
    fresh = session.get("fresh_links", {})
    fresh.setdefault(room_id, {}).update(links)
    session["fresh_links"] = fresh


def _issue(room_id, role):
    ttl = current_app.config["INVITE_TTL_DAYS"] * 86400
    token, _ = invites.issue(_pr().storage, room_id, role, ttl)
    return url_for("web.join", token=token, _external=True)


@bp.route("/rooms", methods=["POST"])
@login_required
def create_room():
    form = RoomForm()
    if not form.validate_on_submit():
        flash(i18n.translator().gettext("Please give the room a name (up to 60 characters)."),
              "error")
        return redirect(url_for("web.dashboard"))
    settings = {**DEFAULT_SETTINGS, "auto_admit": not form.waiting_room.data}
    room = _pr().storage.create_room(current_user.id, form.name.data.strip(), settings)
    _remember_links(room["id"], {role: _issue(room["id"], role) for role in GUEST_ROLES})
    audit.record("room-created", f"room {room['id']}, waiting room "   # AUDIT1
                 f"{'off' if settings['auto_admit'] else 'on'}")
    flash(i18n.translator().gettext(
        "Room “{room}” is ready. Copy the links now: they are shown only once.",
        room=room["name"]), "ok")
    return redirect(url_for("web.dashboard") + f"#room-{room['id']}")


@bp.route("/rooms/<room_id>/invites/<role>", methods=["POST"])
@login_required
def regenerate_invite(room_id, role):
    room = _own_room(room_id)
    if role not in GUEST_ROLES or not EmptyForm().validate_on_submit():
        abort(400)
    old = invites.current(_pr().storage, room_id)[role]
    _remember_links(room_id, {role: _issue(room_id, role)})
    audit.record("invite-new", f"room {room_id}, {role} link")
    if old:
        _pr().kick_invite(old["id"])
    tr = i18n.translator()
    flash(tr.gettext("New child link for {room}. The old link no longer works.", room=room["name"])
          if role == CHILD else
          tr.gettext("New parent link for {room}. The old link no longer works.", room=room["name"]),
          "ok")
    return redirect(url_for("web.dashboard") + f"#room-{room_id}")


@bp.route("/rooms/<room_id>/invites/<role>/revoke", methods=["POST"])
@login_required
def revoke_invite(room_id, role):
    room = _own_room(room_id)
    if role not in GUEST_ROLES or not EmptyForm().validate_on_submit():
        abort(400)
    inv = invites.current(_pr().storage, room_id)[role]
    if inv and _pr().storage.revoke_invite(inv["id"]):
        _pr().kick_invite(inv["id"])
        audit.record("invite-revoked", f"room {room_id}, {role} link")
    tr = i18n.translator()
    flash(tr.gettext("The child link for {room} is switched off.", room=room["name"])
          if role == CHILD else
          tr.gettext("The parent link for {room} is switched off.", room=room["name"]), "ok")
    return redirect(url_for("web.dashboard") + f"#room-{room_id}")


@bp.route("/rooms/<room_id>/delete", methods=["POST"])
@login_required
def delete_room(room_id):
    room = _own_room(room_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    _pr().delete_room(room_id)
    audit.record("room-deleted", f"room {room_id}")
    flash(i18n.translator().gettext("Room “{room}” and everything in it is deleted.",
                                    room=room["name"]), "ok")
    return redirect(url_for("web.dashboard"))


# ------------------------------------------------------------------ guests

def _bad_link(reason, invite=None):
    """The join-error page, in the guest's language (their invite's, when known)."""
    if invite is not None:
        i18n.use_lang(i18n.invite_lang(invite["id"]) or i18n.lang())
    status = 410 if reason in ("revoked", "expired") else 403 if reason == "used_up" else 404
    return render_template("join_error.html", reason=reason), status


@bp.route("/j/<token>", methods=["GET", "POST"])
def join(token):
    storage = _pr().storage
    invite, reason = invites.resolve(storage, token)
    if invite is not None and invite["role"] not in GUEST_ROLES:
        return _bad_link("unknown")       # a home link never lets anyone into the room
    if reason:
        return _bad_link(reason, invite)
    room = storage.get_room(invite["room_id"])
    # A language per person (issue 16): the guest's choice for this invite, picked
    # here (?lang=es) or pre-selected from the browser.
    chosen = supported(request.args.get("lang"))
    if chosen:
        i18n.remember_invite_lang(invite["id"], chosen)
    i18n.use_lang(i18n.invite_lang(invite["id"]) or i18n.lang())
    known = session.get("guests", {}).get(room["id"])
    if request.method == "GET" and known:
        part = storage.get_participant(known)
        if part and part["invite_id"] == invite["id"]:
            return redirect(url_for("web.room", room_id=room["id"]))
    if invites.is_used_up(storage, invite):
        return _bad_link("used_up")
    form = JoinForm()
    tr = i18n.translator()
    if form.validate_on_submit():
        i18n.remember_invite_lang(invite["id"], i18n.lang())
        name = (form.name.data or "").strip() or tr.gettext(DEFAULT_NAMES[invite["role"]])
        part = storage.create_participant(room["id"], invite["role"], name, form.avatar.data,
                                          invite["id"])
        if invite["role"] == PARENT:
            _parent_confirms(room["id"], form.location.data or "")
        guests = session.get("guests", {})
        guests[room["id"]] = part["id"]
        session["guests"] = guests
        session.permanent = True
        return redirect(url_for("web.room", room_id=room["id"]))
    return render_template("join.html", form=form, role=invite["role"], avatars=pictures.GUEST_AVATARS,
                           default_name=tr.gettext(DEFAULT_NAMES[invite["role"]]),
                           lang_links={code: url_for("web.join", token=token, lang=code)
                                       for code in LANGUAGES},
                           picture_names={a: tr.gettext(pictures.CATALOG[a][1])
                                          for a in pictures.GUEST_AVATARS},
                           ask_location=invite["role"] == PARENT and current_session(room["id"]) is not None,
                           therapist=storage.get_therapist(room["therapist_id"])["name"]), \
        (400 if request.method == "POST" else 200)


def current_session(room_id):
    """The seq of the open session's start op (what a session's record and safety
    details are keyed by), or None when no session is open."""
    state = _pr().engine.room_state(room_id)
    session_ = state[1].get("session") if state else None
    return session_["start"] if session_ else None


def _parent_confirms(room_id, location):
    """SAFE2: the parent's answer on the join page (optional), kept beside the
    therapist's details of the open session and shown to the therapist only. Nothing
    when no session is open (the page asks only while one is) or it is empty."""
    first = current_session(room_id)
    if first is not None and location.strip():
        merge_safety(_pr().storage, room_id, first, {"parent_location": location.strip(),
                                                     "parent_confirmed_at": time.time()})


def participant_for(room_id):
    """Who the current browser is in `room_id`: the owning therapist, a guest whose
    signed session names a participant of this room (invite still usable), or None."""
    pr = _pr()
    room = pr.storage.get_room(room_id) if isinstance(room_id, str) else None
    if room is None:
        return None, None
    if current_user.is_authenticated and room["therapist_id"] == current_user.id:
        return room, {"id": current_user.participant_id, "role": THERAPIST,
                      "name": current_user.name, "avatar": pictures.THERAPIST_AVATAR,
                      "invite_id": None}
    pid = session.get("guests", {}).get(room_id)
    part = pr.storage.get_participant(pid) if isinstance(pid, str) else None
    if part is None or part["room_id"] != room_id:
        return room, None
    invite = pr.storage.get_invite(part["invite_id"]) if part["invite_id"] else None
    if invite is None or invites.status(invite) != "active":
        return room, None
    return room, part


def visit_closed(room_id, me):
    """Has the therapist closed this guest's visit for the rest of the session (CTL4
    `remove`: them, or anyone on their invite)? Then their room page and the pictures
    shown there are closed too until the next session (AUTH3), not only their socket."""
    if me is None or me["role"] == THERAPIST:
        return False
    state = _pr().engine.room_state(room_id)
    return state is not None and room_control.entry(state[1], me) == "removed"


@bp.route("/room/<room_id>")
def room(room_id):
    room, me = participant_for(room_id)
    if room is None or me is None:
        if not current_user.is_authenticated and room is not None:
            i18n.use_lang(_guest_lang(room_id))
            return render_template("join_error.html", reason="no_session"), 403
        abort(404)
    if visit_closed(room_id, me):
        i18n.use_lang(i18n.invite_lang(me["invite_id"]) or _guest_lang(room_id))
        return render_template("join_error.html", reason="removed"), 403
    pr = _pr()
    if me["role"] != THERAPIST:
        i18n.use_lang(i18n.invite_lang(me["invite_id"]) or i18n.lang())
    config = {
        "i18n": i18n.client_i18n(),
        "protocol": client_config(),
        "room": {"id": room["id"], "name": room["name"]},
        "me": {k: me[k] for k in ("id", "role", "name", "avatar")},
        "activities": pr.registry.client_config(i18n.translator()),
        "pictures": pictures.client_config(i18n.translator()),
        # "{activity}", "{key}" (and "{fmt}") are filled in by the browser.
        "urls": {"export": (url_for("web.export_png", room_id=room_id, activity="ACT", key="KEY")
                            .replace("ACT", "{activity}").replace("KEY", "{key}")
                            if me["role"] == THERAPIST else None),
                 "download": (url_for("web.download", room_id=room_id, activity="ACT", key="KEY",
                                      fmt="FMT")
                              .replace("ACT", "{activity}").replace("KEY", "{key}")
                              .replace("FMT", "{fmt}")
                              if me["role"] == THERAPIST else None),
                 "leave": url_for("web.index" if me["role"] == THERAPIST else "web.goodbye"),
                 # Issue 17: "End session" links to the record of the session that began
                 # at seq {first} (rooms/records_web.py).
                 "record": (url_for("records.session_record", room_id=room_id, first_seq=0)
                            .rsplit("/", 1)[0] + "/{first}" if me["role"] == THERAPIST else None),
                 # The crisis card (SAFE2): over HTTP, never the room's socket.
                 "safety": (url_for("safety.show", room_id=room_id)
                            if me["role"] == THERAPIST else None),
                 # The therapist's sign-in stays alive while they are in the room.
                 "alive": url_for("auth.alive") if me["role"] == THERAPIST else None},
    }
    return render_template("room.html", config=config, room=room, preloads=module_urls())


@bp.route("/rooms/<room_id>/export/<activity>/<key>.png")
@login_required
def export_png(room_id, activity, key):
    """A picture of an activity's current state, rendered on the server from the
    stored state by the activity's own `render(state, key, assets)` (what `key`
    names is the activity's business: a canvas page, a saved tray …)."""
    room = _own_room(room_id)
    act = _pr().registry.get(activity)
    if act is None or not hasattr(act, "render"):
        abort(404)
    _, state = _pr().engine.state(room_id, activity)
    try:        # rendering and encoding: off the serving loop (WORK1)
        png = _pr().offload.run(png_of, act, state, key, current_app.config["ASSETS_ROOT"])
    except KeyError:
        abort(404)
    safe = "".join(c for c in room["name"] if c.isalnum() or c in " -_").strip() or "room"
    return send_file(io.BytesIO(png), mimetype="image/png", as_attachment=True,
                     download_name=f"{safe} - {activity} {key}.png", max_age=0)


def _upload_image(therapist_id):
    """upload_image(id, size) for a download: only the room therapist's own uploads."""
    storage = _pr().storage
    files = uploads.UploadStore(os.path.join(current_app.config["INSTANCE_PATH"], "uploads"),
                                getattr(storage, "keyring", None))

    def image(upload_id, size):
        rec = storage.get_upload(upload_id) if uploads.is_upload_id(upload_id) else None
        if rec is None or rec["therapist_id"] != therapist_id:
            return None
        return files.open_image(upload_id, size)
    return image


@bp.route("/rooms/<room_id>/download/<activity>/<key>.<fmt>")
@login_required
def download(room_id, activity, key, fmt):
    """A file of an activity's current state for the therapist who owns the room (a
    story as PDF …), made from the stored state by the activity's own optional
    `download(state, key, fmt, ctx) -> (bytes, mimetype, filename)` (activities/contract/__init__.py).
    Anyone else, an activity without `download`, or an unknown key or format: 404."""
    room = _own_room(room_id)
    act = _pr().registry.get(activity)
    if act is None or not hasattr(act, "download"):
        abort(404)
    _, state = _pr().engine.state(room_id, activity)
    ctx = DownloadContext(Assets(current_app.config["ASSETS_ROOT"], _upload_image(room["therapist_id"])),
                          tr=i18n.translator())
    try:
        data, mimetype, filename = act.download(state, key, fmt, ctx)
    except KeyError:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=filename, max_age=0)


# ------------------------------------------------------------------ static assets

@bp.route("/pictures/<pid>.svg")
def picture(pid):
    path = pictures.svg_path(current_app.config["ASSETS_ROOT"], pid)
    if path is None or not os.path.exists(path):
        abort(404)
    return send_file(path, mimetype="image/svg+xml", max_age=86400)


@bp.route("/vendor/<name>")
def vendor(name):
    rel = VENDOR.get(name)
    if rel is None:
        abort(404)
    path = os.path.join(current_app.config["ASSETS_ROOT"], "node_modules", rel)
    if not os.path.exists(path):
        abort(404)
    return send_file(path, mimetype="text/javascript", max_age=3600)


def socket_identity(room_id):
    """For the socket connect handler: the participant, or a refusal code."""
    room, me = participant_for(room_id)
    if me is not None:
        return me
    pid = session.get("guests", {}).get(room_id)
    if not isinstance(pid, str):
        return E_AUTH
    if room is None:
        return E_ENDED      # the guest was here, and the room has been deleted
    return E_REVOKED if _pr().storage.get_participant(pid) else E_AUTH
