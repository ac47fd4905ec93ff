"""Two-step sign-in (issue 15, AUTH11): a time-based code (TOTP, RFC 6238, pyotp)
from an authenticator app, or one of ten single-use recovery codes.

- Enrolment shows the secret as a QR code (segno, inline SVG: no request leaves the
  app) and as text for typing in; it is switched on only when a code made from it
  is typed back, and the ten recovery codes are shown then, once. They are stored as
  SHA-256 hashes (each is 50 random bits, so a slow hash adds nothing).
- After the right password, a therapist with two-step sign-in is not signed in yet:
  the session remembers "password checked" for PENDING_MINUTES, and the code page
  completes the sign-in. A code works once (its time step must be later than the last
  one used) and ±1 step of clock drift is allowed. Wrong codes count as failed sign-ins
  (AUTH6), so guessing codes meets the same back-off.
- The code field is paste-friendly (WCAG 3.3.8): autocomplete="one-time-code",
  inputmode numeric, spaces and dashes are ignored.
- REQUIRE_2FA (`PLAYROOM_REQUIRE_2FA=1`) sends a signed-in therapist without it to
  enrolment before any other page.
"""
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_required
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from activities.contract.i18n import N_
from rooms.web import audit, i18n, throttle
from rooms.web.forms import FlaskForm, _

bp = Blueprint("two_step", __name__)
PENDING = "two_step_pending"      # session: {"id", "at"} after the right password
ENROLLING = "two_step_secret"     # session: the secret being enrolled
PENDING_MINUTES = 5
RECOVERY_CODES = 10
ISSUER = "Playroom"


def _storage():
    return current_app.extensions["playroom"].storage


def _digits(text):
    return "".join(ch for ch in (text or "") if not ch.isspace() and ch != "-")


def code_hash(code):
    return hashlib.sha256(_digits(code).lower().encode()).hexdigest()


def new_recovery_codes():
    """Ten codes like "3f9a1-0c2be" (50 random bits each)."""
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def matching_step(secret, code, now=None):
    """The time step `code` belongs to (this one or a neighbour), or None."""
    code = _digits(code)
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp, now = pyotp.TOTP(secret), time.time() if now is None else now
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        if hmac.compare_digest(totp.at(at), code):
            return int(at // totp.interval)
    return None


# ------------------------------------------------------------------ sign-in

def required_for(rec):
    return _storage().get_totp(rec["id"]) is not None


def ask(rec):
    """The password was right: ask for the second step before signing in."""
    session[PENDING] = {"id": rec["id"], "at": int(time.time())}
    return redirect(url_for("two_step.code"))


def _pending():
    p = session.get(PENDING)
    if not isinstance(p, dict) or type(p.get("id")) is not int or \
            not isinstance(p.get("at"), int) or time.time() - p["at"] > PENDING_MINUTES * 60:
        return None
    return _storage().get_therapist(p["id"])


class CodeForm(FlaskForm):
    code = StringField(N_("Code from your authenticator app"),
                       validators=[DataRequired(), Length(max=20)])


class RecoveryForm(FlaskForm):
    recovery = StringField(N_("Recovery code"), validators=[DataRequired(), Length(max=40)])


@bp.route("/login/code", methods=["GET", "POST"])
def code():
    rec = _pending()
    if rec is None:
        session.pop(PENDING, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form, recovery = CodeForm(), RecoveryForm()
    used = "recovery" if "recovery" in request.form else "code"
    chosen = recovery if used == "recovery" else form
    if request.method == "POST" and chosen.validate_on_submit():
        address = request.remote_addr or "-"
        wait = throttle.wait_seconds(_storage(), address, rec["email"])     # AUTH6
        if wait:
            chosen[used].errors.append(throttle.message(wait))
            return render_template("login_code.html", form=form, recovery=recovery), 429, \
                {"Retry-After": str(wait)}
        if _second_step_ok(rec, used, chosen[used].data):
            throttle.succeeded(_storage(), address, rec["email"])
            return _complete(rec, used)
        throttle.failed(_storage(), address, rec["email"])
        audit.record("sign-in-failed", f"{rec['email']} (wrong {used})", therapist_id=rec["id"])
        chosen[used].errors.append(_("This code is not right, or was used already."))
    return render_template("login_code.html", form=form, recovery=recovery), \
        (400 if request.method == "POST" else 200)


def _second_step_ok(rec, used, value):
    if used == "recovery":
        return _storage().use_recovery_code(rec["id"], code_hash(value))
    totp = _storage().get_totp(rec["id"])
    step = matching_step(totp["secret"], value) if totp else None
    return step is not None and _storage().use_totp_step(rec["id"], step)


def _complete(rec, used):
    from rooms.web import accounts      # accounts imports this module
    session.pop(PENDING, None)
    accounts._sign_in(_storage().get_therapist(rec["id"]))
    if used == "recovery":
        audit.record("recovery-code-used")                     # AUDIT1
    left = _storage().count_recovery_codes(rec["id"])
    if used == "recovery":
        flash(i18n.translator().ngettext(
            "You used a recovery code; {n} left. Each works once. You can make new ones under "
            "Password and sign-ins.",
            "You used a recovery code; {n} left. Each works once. You can make new ones under "
            "Password and sign-ins.", left), "info")
    return redirect(url_for("web.dashboard"))


# ------------------------------------------------------------------ enrolment

class EnrolForm(FlaskForm):
    code = StringField(N_("Code from your authenticator app"),
                       validators=[DataRequired(), Length(max=20)])


class PasswordCheckForm(FlaskForm):
    password = PasswordField(N_("Your password"), validators=[DataRequired(), Length(max=200)])


def _qr_svg(uri):
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=3)


@bp.route("/account/two-step", methods=["GET", "POST"])
@login_required
def settings():
    totp = _storage().get_totp(current_user.id)
    if totp is not None:
        return render_template("two_step.html", enabled=True, form=PasswordCheckForm(),
                               left=_storage().count_recovery_codes(current_user.id),
                               required=current_app.config["REQUIRE_2FA"])
    secret = session.get(ENROLLING)
    if not isinstance(secret, str):     # kept until enrolled, so a reload shows the same
        secret = session[ENROLLING] = pyotp.random_base32()
    form = EnrolForm()
    if form.validate_on_submit():
        step = matching_step(secret, form.code.data)
        if step is not None:
            return _turn_on(secret, step)
        form.code.errors.append(_("This code is not right. Check the time on your phone and "
                                  "type the code shown now."))
    uri = pyotp.TOTP(secret).provisioning_uri(name=current_user.email, issuer_name=ISSUER)
    return render_template("two_step.html", enabled=False, form=form, qr=_qr_svg(uri),
                           secret=" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
                           required=current_app.config["REQUIRE_2FA"]), \
        (400 if request.method == "POST" else 200)


def _turn_on(secret, step):
    tid = current_user.id
    codes = new_recovery_codes()
    _storage().set_totp(tid, secret)
    _storage().use_totp_step(tid, step)         # the code typed to enrol is used
    _storage().set_recovery_codes(tid, [code_hash(c) for c in codes])
    session.pop(ENROLLING, None)
    audit.record("two-step-on")
    return render_template("two_step_codes.html", codes=codes)


def _password_checked():
    form = PasswordCheckForm()
    if not form.validate_on_submit():
        abort(400)
    rec = _storage().get_therapist(current_user.id)
    return check_password_hash(rec["password_hash"], form.password.data)


@bp.route("/account/two-step/recovery-codes", methods=["POST"])
@login_required
def renew_codes():
    if _storage().get_totp(current_user.id) is None:
        abort(404)
    if not _password_checked():
        flash(_("That is not your password."), "error")
        return redirect(url_for("two_step.settings"))
    codes = new_recovery_codes()
    _storage().set_recovery_codes(current_user.id, [code_hash(c) for c in codes])
    audit.record("recovery-codes-new")
    return render_template("two_step_codes.html", codes=codes)


@bp.route("/account/two-step/off", methods=["POST"])
@login_required
def turn_off():
    if current_app.config["REQUIRE_2FA"]:
        abort(403)
    if not _password_checked():
        flash(_("That is not your password."), "error")
        return redirect(url_for("two_step.settings"))
    _storage().set_totp(current_user.id, None)
    audit.record("two-step-off")
    flash(_("Two-step sign-in is off."), "info")
    return redirect(url_for("two_step.settings"))


# Endpoints a therapist without two-step sign-in may reach under REQUIRE_2FA.
_BEFORE_ENROLMENT = {"two_step.settings", "auth.logout", "static", "web.picture", "web.vendor",
                     "auth.alive"}


def enforce():
    """before_request: REQUIRE_2FA sends a therapist without it to enrolment."""
    if not current_app.config["REQUIRE_2FA"] or request.endpoint in _BEFORE_ENROLMENT \
            or not current_user.is_authenticated \
            or _storage().get_totp(current_user.id) is not None:
        return None
    flash(_("This Playroom asks every therapist to use two-step sign-in. Please set it up."),
          "info")
    return redirect(url_for("two_step.settings"))
