"""Therapist-only pages of session records (issue 7): a room's records, one record
(timeline, pictures, private notes), PDF and ZIP exports, deleting a record, the
audit log and the retention setting.

Only the therapist who owns the room sees anything. Everyone else — another
therapist, a guest, nobody signed in — gets a 404 that does not say whether the
record exists, and the refusal is logged. Private notes exist only in these pages
and their exports: nothing here is ever sent over a socket. Every view, export and
deletion of a record is written to the therapist's audit log (who, when, what).
"""
import io
import logging
import time

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   send_file, url_for)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from activities.contract import printable
from activities.contract.i18n import ENGLISH, N_
from activities.contract.pdfdoc import FontsMissing

from rooms.records import service as records
from rooms.records import charts, documents, trends

from rooms.records import retention
from rooms.web.accounts import EmptyForm, plain_text
from rooms.web import services as _pr
from rooms.web import audit as security_audit
from rooms.web import i18n
from rooms.web.pages import role_labels

bp = Blueprint("records", __name__)
log = logging.getLogger("playroom.records_web")

NOTE_CHARS = 5000
ACTION_LABELS = {"view": N_("Viewed"), "export": N_("Exported"), "delete": N_("Deleted"),
                 "retention": N_("Deleted (retention)")}


class NoteForm(FlaskForm):
    text = TextAreaField("Private note", validators=[DataRequired(), Length(max=NOTE_CHARS),
                                                     plain_text(lines=True)])


def _retention_label(days, tr=ENGLISH):
    if days is None:
        return tr.gettext("Keep records until I delete them")
    if days % 365:
        return tr.ngettext("Delete records after {n} day", "Delete records after {n} days", days)
    return tr.ngettext("Delete records after {n} year", "Delete records after {n} years", days // 365)


class RetentionForm(FlaskForm):
    days = SelectField(N_("Keep session records"), choices=[
        SelectChoice("forever" if d is None else str(d), _retention_label(d))
        for d in retention.CHOICES])

    def translate(self, tr):
        """The label and choices in the reader's language (the class holds English)."""
        self.days.label.text = tr.gettext(self.days.label.text)
        self.days.choices = [SelectChoice("forever" if d is None else str(d), _retention_label(d, tr))
                             for d in retention.CHOICES]
        return self


# ------------------------------------------------------------------ access

def _refuse(what):
    who = f"therapist {current_user.id}" if current_user.is_authenticated else "anonymous"
    log.warning("refused %s to %s from %s", what, who, request.remote_addr)
    abort(404)


def _signed_in():
    if not current_user.is_authenticated:
        _refuse(request.path)


def _own_room(room_id):
    _signed_in()
    room = _pr().storage.get_room(room_id)
    if room is None or room["therapist_id"] != current_user.id:
        _refuse(f"room {room_id!r}")
    return room


def _own_record(record_id):
    """(record, room) when the signed-in therapist owns both; 404 otherwise."""
    _signed_in()
    storage = _pr().storage
    rec = storage.get_record(record_id) if len(record_id) <= 64 else None
    room = storage.get_room(rec["room_id"]) if rec else None
    if rec is None or room is None or rec["therapist_id"] != current_user.id or \
            room["therapist_id"] != current_user.id:
        _refuse(f"record {record_id!r}")
    # SAFE2: where the child was and whom to call, for the owner's page, PDF and ZIP.
    rec["safety"] = records.session_safety(storage, rec["room_id"], rec["first_seq"])
    rec["safety_lines"] = records.safety_lines(rec["safety"], i18n.translator())
    return rec, room


def _what(rec):
    """How the audit log names a record (no child's name: the log outlives the room)."""
    return f"Session of {records.day(rec['started_at'])}, {records.clock_time(rec['started_at'])}"


def _audit(action, rec, detail=""):
    """The record access log (this page's history) and the security chain (AUDIT1)."""
    what = _what(rec) + (f" — {detail}" if detail else "")
    _pr().storage.add_audit(current_user.id, action, what, record_id=rec["id"], room_id=rec["room_id"])
    security_audit.record(f"record-{action}", f"record {rec['id']}: {what}")


def _download_name(rec, ext, what=None):
    safe = "".join(c for c in rec["room_name"] if c.isalnum() or c in " -_").strip() or "room"
    what = what or i18n.translator().gettext(
        "session {when}", when=time.strftime("%Y-%m-%d %H%M", time.localtime(rec["started_at"])))
    return f"{safe} - {what}.{ext}"


def _pictures(rec):
    storage = _pr().storage
    return [{**p, "png": storage.get_record_picture(rec["id"], p["idx"])}
            for p in storage.list_record_pictures(rec["id"])]


# ------------------------------------------------------------------ template helpers

@bp.app_template_filter("clock")
def _clock(ts):
    return records.clock_time(ts, i18n.translator().locale)


@bp.app_template_filter("entry_time")
def _entry_time(ts, start):
    """A timeline line's time; with its day when not the session's (home practice)."""
    return records.entry_time(ts, start, i18n.translator().locale)


@bp.app_template_filter("daytime")
def _daytime(ts):
    """A day and time in the reader's language ("Mon 07 Dec 2026, 10:05")."""
    loc = i18n.translator().locale
    return f"{records.day(ts, loc)}, {records.clock_time(ts, loc)}"


@bp.app_template_filter("dayonly")
def _dayonly(ts):
    """A date in the reader's language ("07 Dec 2026", "7 dic 2026")."""
    from babel.dates import format_date
    import datetime
    loc = i18n.translator().locale
    pattern = "dd MMM yyyy" if loc.language == "en" else "d MMM yyyy"
    return format_date(datetime.datetime.fromtimestamp(ts).date(), pattern, locale=loc)


@bp.app_template_filter("duration")
def _duration(seconds):
    return records.duration(seconds)


# ------------------------------------------------------------------ pages

@bp.route("/rooms/<room_id>/records")
def room_records(room_id):
    room = _own_room(room_id)
    recs = _pr().storage.list_records(room_id)
    return render_template("records.html", room=room, records=recs, role_labels=role_labels(),
                           **_trends(room_id, recs))


def _trends(room_id, recs):
    """The trend charts of the records page (issue 17 part 4): check-ins per session
    from the check-in state (the answers that stand) and prompt levels per step from
    the records' timelines of the last sessions, drawn as inline SVG."""
    pr = _pr()
    _, state = pr.engine.state(room_id, "checkin")
    checkins = trends.checkin_series(state["entries"] + _more_checkins(room_id), recs)
    practice = {name: pr.registry.get(name).practice_tasks() for name in pr.registry.names()
                if hasattr(pr.registry.get(name), "practice_tasks")}
    full = [pr.storage.get_record(r["id"]) for r in trends.recent(recs)]
    grids = trends.prompt_grids([r for r in full if r], practice)
    tr = i18n.translator()
    # The tables show the tasks, steps and levels in the reader's language (the charts
    # translate their own words); the grids keep the source ids the charts index by.
    shown = [{**g, "title": tr.gettext(g["title"]), "steps": [tr.gettext(s) for s in g["steps"]],
              "cells": [[tr.gettext(lv) if lv else lv for lv in row] for row in g["cells"]]}
             for g in grids]
    return {"checkins": checkins, "grids": shown, "words": charts.words(tr),
            "checkin_svg": charts.checkin_chart(checkins, tr=tr) if checkins else None,
            "grid_svgs": [charts.prompt_chart({**g, "title": s["title"]}, f"prompts-{i}", tr=tr)
                          for i, (g, s) in enumerate(zip(grids, shown))],
            "limit": trends.LIMIT}


def _more_checkins(room_id):
    """Check-ins other activities add to the chart (`trend_checkins`: the home ones)."""
    pr, out = _pr(), []
    for name in pr.registry.names():
        hook = getattr(pr.registry.get(name), "trend_checkins", None)
        if hook is not None:
            out.extend(hook(pr.engine.state(room_id, name)[1]))
    return out


@bp.route("/rooms/<room_id>/records/session/<int:first_seq>")
def session_record(room_id, first_seq):
    """Where "End session" sends the therapist (issue 17): the record of the session
    that began at `first_seq`, once written (it is built in the background after the
    end), meanwhile a page that looks again every second."""
    room = _own_room(room_id)
    for rec in _pr().storage.list_records(room_id):
        if rec["first_seq"] == first_seq:
            return redirect(url_for("records.record", record_id=rec["id"]))
    return render_template("record_pending.html", room=room), 202


@bp.route("/records/<record_id>")
def record(record_id):
    rec, room = _own_record(record_id)
    storage = _pr().storage
    _audit("view", rec)
    # Text stored before TEXT1 may not encode: the page shows it, never fails on it.
    rec, room, notes, pictures = printable((rec, room, storage.list_notes(rec["id"]),
                                            storage.list_record_pictures(rec["id"])))
    return render_template("record.html", rec=rec, room=room, notes=notes, pictures=pictures,
                           note_form=NoteForm(formdata=None), action=EmptyForm(),
                           role_labels=role_labels(), note_chars=NOTE_CHARS,
                           entry_line=records.entry_line)


@bp.route("/records/<record_id>/pictures/<int:idx>.png")
def picture(record_id, idx):
    rec, _ = _own_record(record_id)
    data = _pr().storage.get_record_picture(rec["id"], idx)
    if data is None:
        abort(404)
    resp = send_file(io.BytesIO(data), mimetype="image/png", max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.route("/records/<record_id>/record.pdf")
def export_pdf(record_id):
    rec, _ = _own_record(record_id)
    data = _pr().offload.run(records.record_pdf, rec, _pictures(rec),   # WORK1
                             _pr().storage.list_notes(rec["id"]), current_app.config["ASSETS_ROOT"],
                             i18n.translator())
    _audit("export", rec, "PDF")
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=_download_name(rec, "pdf"), max_age=0)


@bp.route("/rooms/<room_id>/checkins.pdf")
def checkin_sheet(room_id):
    """The check-in trend sheet: the room's check-ins across its sessions as a PDF
    (rooms/records/documents.py). Audited like a record export: it is the child's data."""
    room = _own_room(room_id)
    pr = _pr()
    _, state = pr.engine.state(room_id, "checkin")
    data = pr.offload.run(documents.checkin_sheet_pdf, room["name"],   # WORK1
                          state["entries"] + _more_checkins(room_id),
                          pr.storage.list_records(room_id), current_app.config["ASSETS_ROOT"],
                          i18n.translator())
    pr.storage.add_audit(current_user.id, "export", "Check-in trend sheet (PDF)", room_id=room_id)
    security_audit.record("record-export", f"room {room_id}: check-in trend sheet (PDF)")
    return send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=_download_name({"room_name": room["name"]}, "pdf",
                                                 i18n.translator().gettext("check-ins")),
                     max_age=0)


@bp.app_errorhandler(FontsMissing)
def _fonts_missing(exc):
    """A PDF without its fonts cannot be made: say what to install (503), never a traceback."""
    log.error("%s", exc)
    return str(exc), 503, {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/records/<record_id>/record.zip")
def export_zip(record_id):
    rec, _ = _own_record(record_id)
    data = _pr().offload.run(records.record_zip, rec, _pictures(rec),   # WORK1
                             _pr().storage.list_notes(rec["id"]))
    _audit("export", rec, "ZIP")
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True,
                     download_name=_download_name(rec, "zip"), max_age=0)


@bp.route("/records/<record_id>/delete", methods=["POST"])
def delete(record_id):
    rec, room = _own_record(record_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if _pr().storage.delete_record(rec["id"]):
        _audit("delete", rec)
    flash(i18n.translator().gettext("The record of the session on {when} is deleted.",
                                    when=_daytime(rec["started_at"])), "ok")
    return redirect(url_for("records.room_records", room_id=room["id"]))


# ------------------------------------------------------------------ private notes

@bp.route("/records/<record_id>/notes", methods=["POST"])
def add_note(record_id):
    rec, _ = _own_record(record_id)
    form = NoteForm()
    if not form.validate_on_submit():
        flash(i18n.translator().gettext("A note needs some text (up to {n} characters).",
                                        n=NOTE_CHARS), "error")
    else:
        _pr().storage.add_note(rec["id"], form.text.data)
        flash(i18n.translator().gettext("Note saved."), "ok")
    return redirect(url_for("records.record", record_id=rec["id"]) + "#notes")


def _own_note(rec, note_id):
    note = _pr().storage.get_note(note_id) if len(note_id) <= 64 else None
    if note is None or note["record_id"] != rec["id"]:
        _refuse(f"note {note_id!r}")
    return note


@bp.route("/records/<record_id>/notes/<note_id>", methods=["POST"])
def edit_note(record_id, note_id):
    rec, _ = _own_record(record_id)
    note = _own_note(rec, note_id)
    form = NoteForm()
    if not form.validate_on_submit():
        flash(i18n.translator().gettext("A note needs some text (up to {n} characters).",
                                        n=NOTE_CHARS), "error")
    else:
        _pr().storage.update_note(note["id"], form.text.data)
        flash(i18n.translator().gettext("Note changed."), "ok")
    return redirect(url_for("records.record", record_id=rec["id"]) + "#notes")


@bp.route("/records/<record_id>/notes/<note_id>/delete", methods=["POST"])
def delete_note(record_id, note_id):
    rec, _ = _own_record(record_id)
    note = _own_note(rec, note_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    _pr().storage.delete_note(note["id"])
    flash(i18n.translator().gettext("Note deleted."), "ok")
    return redirect(url_for("records.record", record_id=rec["id"]) + "#notes")


# ------------------------------------------------------------------ account pages

@bp.route("/account/audit")
def audit():
    _signed_in()
    storage = _pr().storage
    rooms = {r["id"]: r["name"] for r in storage.list_rooms(current_user.id)}
    entries = storage.list_audit(current_user.id)
    admin = storage.is_admin(current_user.id)        # AUDIT2: an administrator sees everyone's
    events = storage.list_security_events(None if admin else current_user.id)
    tr = i18n.translator()
    return render_template("account_audit.html", entries=entries, rooms=rooms,
                           labels={k: tr.gettext(v) for k, v in ACTION_LABELS.items()},
                           events=events, admin=admin,
                           event_labels=security_audit.LABELS,
                           actor_label=security_audit.actor_label(storage, current_user.id))


@bp.route("/account/settings", methods=["GET", "POST"])
def settings():
    _signed_in()
    storage = _pr().storage
    days = storage.get_retention_days(current_user.id)
    tr = i18n.translator()
    form = RetentionForm(data={"days": "forever" if days is None else str(days)}).translate(tr)
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(tr.gettext("Please pick one of the choices."), "error")
            return render_template("account_settings.html", form=form, days=days), 400
        choice = form.days.data
        days = None if choice == "forever" else int(choice)
        storage.set_retention_days(current_user.id, days)
        flash(tr.gettext("Saved: {choice}.", choice=_retention_label(days, tr)), "ok")
        return redirect(url_for("records.settings"))
    return render_template("account_settings.html", form=form, days=days)


# ------------------------------------------------------------------ wiring

def _cli_storage(app):
    """The storage the server uses: PLAYROOM_INSTANCE / REDIS_URL as app.main() reads
    them (the CLI builds the app with its defaults)."""
    import os
    from rooms.store.redis_store import RedisStorage
    from rooms.store.sqlite_store import SQLiteStorage
    if os.environ.get("REDIS_URL"):
        return RedisStorage(os.environ["REDIS_URL"])
    if os.environ.get("PLAYROOM_INSTANCE"):
        return SQLiteStorage(os.path.join(os.environ["PLAYROOM_INSTANCE"], "playroom.sqlite3"))
    return app.extensions["playroom"].storage


def init_app(app, socketio):
    """Register the pages, the record service (app.extensions["playroom"].records, also
    hooked to the end of a session), the `flask retention` command and the periodic
    retention task (RETENTION_INTERVAL_MINUTES; not in the test app)."""
    import click

    app.register_blueprint(bp)
    pr = app.extensions["playroom"]
    engine, registry = pr.engine, pr.registry

    def states_of(room_id):
        try:
            return {name: engine.state(room_id, name)[1] for name in registry.names()}
        except Exception:          # the room was deleted meanwhile: nothing to picture
            return {}

    # The record is written in the therapist's account language (issue 16).
    catalogs = app.extensions.get("playroom_i18n")
    service = records.RecordService(pr.storage, registry, app.config["ASSETS_ROOT"],
                                    states_of=states_of, offload=getattr(pr, "offload", None),
                                    translator=catalogs.translator if catalogs else None)
    pr.records = service
    hooks = getattr(pr, "session_end_hooks", None)
    if hooks is not None:
        # Pictures take a moment: never in the handler that ended the session.
        hooks.append(lambda room_id, first_seq, last_seq, states=None: socketio.start_background_task(
            service.close_session, room_id, first_seq, last_seq, states))

    @app.cli.command("retention")
    def retention_command():
        """Delete session records older than each therapist's retention setting."""
        storage = _cli_storage(app)
        n = retention.apply_retention(storage)
        click.echo(f"Deleted {n} session record(s) older than their therapist's setting.")

    minutes = app.config["RETENTION_INTERVAL_MINUTES"]
    if minutes and not app.testing:
        socketio.start_background_task(retention.retention_loop, pr.storage, socketio.sleep,
                                       minutes * 60)
