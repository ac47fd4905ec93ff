"""Home practice (issue 17 part 3): the therapist sends a home pack and gets a home link;
the family opens it with no account and no live session, and what they do comes back
as ops of the home activity (activities/home).

Therapist (signed in, own room only; 404 otherwise):
    GET  /rooms/<room>/home              what is in the pack, what was done, the form
    POST /rooms/<room>/home              send a new pack (a `home.pack` op); the first
                                         time, or after "switch off", a new home link
    POST /rooms/<room>/home/link         a new home link (the old one stops at once)
    POST /rooms/<room>/home/revoke       switch the home link off

Family (the home link's token is the only authority: no cookie, no session):
    GET  /h/<token>/                     the page (static/canvas/home/home.js)
    GET  /h/<token>/pack.json            the pack and what was done, fresh
    POST /h/<token>/ops                  what was done, a batch of ops (applied once each)
    GET  /h/<token>/sw.js                the service worker, scoped to /h/<token>/
    GET  /h/<token>/uploads/<id>.webp    a therapist's picture the pack shows

A home link follows the invite rules (rooms/core/invites.py: 192 random bits, stored
hashed, expiring, revocable; role HOME, never usable as a room invite, and a room
invite never opens a home page). A switched-off or expired link answers 410 with the
friendly page (or JSON for the page's requests), so the family's service worker drops
its copy the moment it is online again.
"""
import hashlib
import io
import logging
import os
import secrets
import threading

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, send_file, session, url_for)
from flask_login import current_user, login_required
from wtforms import BooleanField, RadioField, SelectChoice, SelectField

from activities.contract import home as home_kinds, uploads as upload_refs
from activities.contract.i18n import LANGUAGES, N_, supported
from activities.contract.protocol import CHILD, HOME, THERAPIST

from rooms.assets import pictures, uploads
from rooms.core import invites
from rooms.core.ratelimit import TokenBucket
from rooms.web import audit, i18n
from rooms.web import services as _pr
from rooms.web.accounts import EmptyForm
from rooms.web.pages import _own_room, _qr, module_urls
from rooms.web.uploads import _files

log = logging.getLogger("playroom.home")
bp = Blueprint("home", __name__)

ACTIVITY = "home"
MAX_BATCH = 50                    # ops per POST (a day offline is a few dozen)
MAX_BODY = 64 * 1024
# What one home link may send (per process): a day offline is a few dozen actions, sent
# at once when back online; a script posting batch after batch meets 429 (the page
# keeps its queue and tries again later). State stays bounded by the activity's BOUND.
OPS_PER_SECOND = 1.0
OPS_BURST = 200
_BUCKETS = {}
_BUCKETS_LOCK = threading.Lock()
MAX_BUCKETS = 10_000
KIND_ORDER = ("story", "steps", "breathe", "checkin")
KIND_LABELS = {"story": N_("A story to read"), "steps": N_("Steps to tick"),
               "breathe": N_("Breathing"), "checkin": N_("How do I feel? (check-in)")}
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


@bp.record_once
def _exempt_ops_from_csrf(state):
    """The family's ops carry no CSRF token: the secret home token in the URL is the
    authority (no cookie or session grants anything here, so a forged cross-site
    request cannot act for anyone), and a page reopened offline days later holds no
    fresh CSRF token."""
    state.app.extensions["csrf"].exempt(f"{__name__}.ops")


# ------------------------------------------------------------------ building a pack

def choices(states, registry, tr):
    """{kind: [(value "activity|key", title)]} of what may go home, from every
    activity's `home_items`, titles in `tr`'s language."""
    out = {k: [] for k in KIND_ORDER}
    for name in registry.names():
        hook = getattr(registry.get(name), "home_items", None)
        if hook is None:
            continue
        try:
            for key, item in hook(states[name], tr):
                out[item["kind"]].append((f"{name}|{key}", item["title"]))
        except Exception:
            log.exception("home_items of %s failed", name)
    return out


def build_items(states, registry, picked, tr):
    """The chosen "activity|key" values -> validated pack items (ids i0, i1 …), in
    `tr`'s language; KeyError for a value no activity offers."""
    items = []
    for value in picked:
        name, _, key = value.partition("|")
        hook = getattr(registry.get(name), "home_items", None)
        found = dict(hook(states[name], tr)) if hook else {}
        if key not in found:
            raise KeyError(value)
        items.append({"id": f"i{len(items)}", **home_kinds.validate_item(found[key])})
    return items


def picture_src(ref, token, tr):
    """A picture reference -> {src, alt} for the family's page."""
    uid = upload_refs.parse_ref(ref)
    if uid is not None:
        return {"src": url_for("home.upload", token=token, upload_id=uid), "alt": ""}
    entry = pictures.CATALOG.get(ref)
    return {"src": url_for("web.picture", pid=ref), "alt": tr.gettext(entry[1]) if entry else ""}


def shown_pack(pack, token, tr):
    """The pack as the page reads it: pictures as {src, alt}."""
    items = []
    for it in pack["items"]:
        it = dict(it)
        if it["kind"] == "story":
            it["pages"] = [{"text": p["text"], "pics": [picture_src(x, token, tr) for x in p["pics"]]}
                           for p in it["pages"]]
        elif it["kind"] == "steps":
            it["steps"] = [{"text": s["text"], "pic": picture_src(s["pic"], token, tr)}
                           for s in it["steps"]]
        elif it["kind"] == "checkin":
            it["faces"] = [{**f, "pic": picture_src(f["pic"], token, tr)} for f in it["faces"]]
        items.append(it)
    return {"id": pack["id"], "at": pack["at"], "lang": pack["lang"], "items": items}


def _assets(pack, token, tr):
    """Every URL the family's page needs offline: its modules (the import tree of
    home.js), style sheets, and the pictures of the pack."""
    urls = [url for url in module_urls("canvas/home/home.js") if url.startswith("/static/")]
    urls += [url_for("static", filename="css/site.css"),
             url_for("static", filename="canvas/home/home.css"),
             url_for("web.picture", pid="palette")]
    refs = []
    for it in pack["items"]:
        for ref in home_kinds.item_pictures(it):
            if ref not in refs:
                refs.append(ref)
    urls += [picture_src(ref, token, tr)["src"] for ref in refs]
    if any(it["kind"] == "breathe" and it["visual"] == "flower" for it in pack["items"]):
        urls.append(url_for("web.picture", pid="calm-tulip"))     # calm/visuals.js draws it
    return urls


# ------------------------------------------------------------------ therapist

class PackForm(EmptyForm):
    story = RadioField(choices=[], validate_choice=False)
    steps = RadioField(choices=[], validate_choice=False)
    breathe = RadioField(choices=[], validate_choice=False)
    checkin = BooleanField()
    lang = SelectField(choices=[SelectChoice(code, LANGUAGE_NAMES.get(code, code))
                                for code in LANGUAGES])


def _states(room_id):
    pr = _pr()
    return {name: pr.engine.state(room_id, name)[1] for name in pr.registry.names()}


def _home_invite(room_id):
    return invites.current(_pr().storage, room_id).get(HOME)


def _family_lang(room_id):
    """The language a pack is made in by default: the child's link's, else the page's."""
    child = invites.current(_pr().storage, room_id).get(CHILD)
    return (child and i18n.invite_lang(child["id"])) or i18n.lang()


def _issue_link(room_id):
    ttl = current_app.config["INVITE_TTL_DAYS"] * 86400
    token, _ = invites.issue(_pr().storage, room_id, HOME, ttl)
    url = url_for("home.page", token=token, _external=True)
    fresh = session.get("fresh_home", {})
    fresh[room_id] = url
    session["fresh_home"] = fresh
    audit.record("invite-new", f"room {room_id}, home link")


@bp.route("/rooms/<room_id>/home")
@login_required
def manage(room_id):
    room = _own_room(room_id)
    pr = _pr()
    states = _states(room_id)
    tr = i18n.translator()
    state = states[ACTIVITY]
    inv = _home_invite(room_id)
    fresh = session.get("fresh_home", {}).pop(room_id, None)
    session.modified = True
    recs = pr.storage.list_records(room_id)
    last_end = max((r["ended_at"] for r in recs), default=0.0)
    home_mod = pr.registry.get(ACTIVITY)
    form = PackForm(formdata=None, lang=_family_lang(room_id))
    return render_template(
        "home_manage.html", room=room, form=form, action=EmptyForm(),
        choices=choices(states, pr.registry, tr), kinds=KIND_ORDER,
        kind_labels={k: tr.gettext(v) for k, v in KIND_LABELS.items()},
        pack=state["pack"], progress=home_mod.progress(state["pack"], state["log"]),
        visits=home_mod.visits_since(state, last_end), since_session=bool(recs),
        link=inv, link_status=invites.status(inv) if inv else None,
        fresh={"url": fresh, "qr": _qr(fresh)} if fresh else None)


@bp.route("/rooms/<room_id>/home", methods=["POST"])
@login_required
def send_pack(room_id):
    room = _own_room(room_id)
    form = PackForm()
    tr = i18n.translator()
    if not form.validate_on_submit():
        abort(400)
    lang = supported(form.lang.data) or "en"
    picked = [v for v in (form.story.data, form.steps.data, form.breathe.data) if v]
    if form.checkin.data:
        picked.append("checkin|checkin")
    if not picked:
        flash(tr.gettext("Pick at least one thing to practise at home."), "error")
        return redirect(url_for("home.manage", room_id=room_id))
    pr = _pr()
    try:
        items = build_items(_states(room_id), pr.registry, picked,
                            i18n.catalogs().translator(lang))
    except (KeyError, ValueError):
        abort(400)
    except Exception as e:           # an item that does not validate (Invalid)
        log.warning("a home pack for room %s did not validate: %s", room_id, e)
        abort(400)
    me = {"id": f"th-{current_user.id}", "role": THERAPIST}
    ack = pr.engine.submit(room_id, me, {
        "op_id": "home-" + secrets.token_hex(8), "a": ACTIVITY, "t": "pack",
        "d": {"id": "p" + secrets.token_hex(6), "lang": lang, "items": items}})
    if not ack.get("ok"):
        flash(tr.gettext("Could not send the home pack, please try again."), "error")
        return redirect(url_for("home.manage", room_id=room_id))
    inv = _home_invite(room_id)
    if inv is None or invites.status(inv) != "active":
        _issue_link(room_id)
        flash(tr.gettext("The home pack is ready. Copy the home link now: it is shown only once."),
              "ok")
    else:
        flash(tr.gettext("The home pack is updated: the family's home link shows it now."), "ok")
    audit.record("home-pack", f"room {room_id}, {len(items)} item(s)")
    return redirect(url_for("home.manage", room_id=room["id"]))


@bp.route("/rooms/<room_id>/home/link", methods=["POST"])
@login_required
def new_link(room_id):
    _own_room(room_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    _issue_link(room_id)
    flash(i18n.translator().gettext("New home link. The old one no longer works."), "ok")
    return redirect(url_for("home.manage", room_id=room_id))


@bp.route("/rooms/<room_id>/home/revoke", methods=["POST"])
@login_required
def revoke(room_id):
    _own_room(room_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    inv = _home_invite(room_id)
    if inv and _pr().storage.revoke_invite(inv["id"]):
        audit.record("invite-revoked", f"room {room_id}, home link")
    flash(i18n.translator().gettext("The home link is switched off."), "ok")
    return redirect(url_for("home.manage", room_id=room_id))


# ------------------------------------------------------------------ family

def _resolve(token):
    """(invite, pack, None) for a working home link, else (invite | None, None, reason)."""
    invite, reason = invites.resolve(_pr().storage, token)
    if invite is not None and invite["role"] != HOME:
        return None, None, "unknown"       # a room invite never opens a home page
    if reason:
        return invite, None, reason
    state = _pr().engine.state(invite["room_id"], ACTIVITY)[1]
    if state["pack"] is None:
        return invite, None, "unknown"
    return invite, state, None


def _status(reason):
    return 410 if reason in ("revoked", "expired") else 404


def _pid(invite):
    return f"home-{invite['id']}"


def _no_store(resp):
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _config(token, state):
    pack = state["pack"]
    tr = i18n.catalogs().translator(pack["lang"])
    return {"lang": pack["lang"],
            "urls": {"page": url_for("home.page", token=token),
                     "pack": url_for("home.pack", token=token),
                     "ops": url_for("home.ops", token=token),
                     "sw": url_for("home.worker", token=token),
                     "scope": url_for("home.page", token=token)},
            "pack": shown_pack(pack, token, tr), "log": state["log"],
            "assets": _assets(pack, token, tr)}


@bp.route("/h/<token>")
def bare(token):
    return redirect(url_for("home.page", token=token))


@bp.route("/h/<token>/")
def page(token):
    invite, state, reason = _resolve(token)
    if reason:
        if invite is not None:
            i18n.use_lang(i18n.invite_lang(invite["id"]) or i18n.lang())
        return _no_store(current_app.make_response(
            (render_template("join_error.html", reason=reason), _status(reason))))
    lang = state["pack"]["lang"]
    i18n.use_lang(lang)
    config = {**_config(token, state), "i18n": i18n.client_i18n(lang)}
    return _no_store(current_app.make_response(render_template("home.html", config=config)))


@bp.route("/h/<token>/pack.json")
def pack(token):
    invite, state, reason = _resolve(token)
    if reason:
        return _no_store(_refusal(reason))
    return _no_store(jsonify(_config(token, state)))


def _refusal(reason):
    tr = i18n.translator()
    message = {"revoked": tr.gettext("This link was switched off"),
               "expired": tr.gettext("This link is too old")}.get(
        reason, tr.gettext("We could not find this room"))
    resp = jsonify({"error": reason, "message": message})
    resp.status_code = _status(reason)
    return resp


@bp.route("/h/<token>/ops", methods=["POST"])
def ops(token):
    request.max_content_length = MAX_BODY
    invite, state, reason = _resolve(token)
    if reason:
        return _no_store(_refusal(reason))
    body = request.get_json(silent=True)
    batch = body.get("ops") if isinstance(body, dict) and set(body) == {"ops"} else None
    if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_BATCH:
        return jsonify({"error": "invalid",
                        "message": f"send {{\"ops\": [...]}} with 1-{MAX_BATCH} ops"}), 400
    if not _allowance(invite["id"], len(batch)):
        resp = jsonify({"error": "rate_limited",
                        "message": i18n.translator().gettext("Slow down a little.")})
        resp.status_code = 429
        resp.headers["Retry-After"] = str(max(1, round(len(batch) / OPS_PER_SECOND)))
        return _no_store(resp)
    engine, room_id = _pr().engine, invite["room_id"]
    me = {"id": _pid(invite), "role": HOME}
    results = []
    for op in batch:
        if not isinstance(op, dict) or set(op) != {"op_id", "d"}:
            results.append({"op_id": op.get("op_id") if isinstance(op, dict) else None,
                            "ok": False, "code": "bad_event",
                            "reason": "an op is {op_id, d}"})
            continue
        ack = engine.submit(room_id, me, {"op_id": op["op_id"], "a": ACTIVITY, "t": "done",
                                          "d": op["d"]})
        results.append({"op_id": op["op_id"], **{k: v for k, v in ack.items() if k != "op_id"}})
    state = engine.state(room_id, ACTIVITY)[1]
    return _no_store(jsonify({"results": results, "log": state["log"]}))


def _allowance(link_id, n):
    """Take `n` ops from the link's bucket; False (and nothing taken) when it has fewer."""
    with _BUCKETS_LOCK:
        bucket = _BUCKETS.get(link_id)
        if bucket is None:
            if len(_BUCKETS) >= MAX_BUCKETS:
                _BUCKETS.clear()          # idle links' buckets were full anyway
            bucket = _BUCKETS[link_id] = TokenBucket(OPS_PER_SECOND, OPS_BURST)
        return bucket.take(n=n)           # a whole batch, or none of it


@bp.route("/h/<token>/sw.js")
def worker(token):
    """The service worker, from this URL so that its scope is this home link's."""
    path = os.path.join(current_app.static_folder, "canvas", "home", "sw.js")
    resp = send_file(path, mimetype="text/javascript", max_age=0)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.route("/h/<token>/uploads/<upload_id>.webp")
def upload(token, upload_id):
    """A therapist's picture that the pack shows (and nothing else of theirs)."""
    invite, state, reason = _resolve(token)
    if reason or not uploads.is_upload_id(upload_id):
        abort(404)
    shown = {upload_refs.parse_ref(ref) for it in state["pack"]["items"]
             for ref in home_kinds.item_pictures(it)}
    room = _pr().storage.get_room(invite["room_id"])
    rec = _pr().storage.get_upload(upload_id)
    if upload_id not in shown or rec is None or room is None or \
            rec["therapist_id"] != room["therapist_id"]:
        abort(404)
    data = _files().read(upload_id, False)
    if data is None:
        abort(404)
    resp = send_file(io.BytesIO(data), mimetype=uploads.STORED_MIME, max_age=0,
                     conditional=True, etag=hashlib.sha256(data).hexdigest())
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp
