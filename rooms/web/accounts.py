"""Therapist accounts: register, sign in, sign out (Flask-Login + Flask-WTF forms).

Passwords are hashed with Werkzeug's scrypt default; every form carries a CSRF token.

Account safety (issue 7):
- Sign-out after inactivity: the time of the therapist's last request is kept in the
  (signed) session; a request after INACTIVITY_MINUTES without one signs out and
  redirects to the sign-in page with a plain message. Socket events do not pass
  through here, so a page that is used only over its socket (the room) keeps the
  sign-in alive by fetching /account/alive now and then.
- Sign-in back-off (AUTH6, rooms/web/throttle.py, issue 15): failed sign-ins are counted
  in storage (so every process sees them) per address, per account and per pair; over
  a limit the guesser waits a growing time (HTTP 429), but an address that has not
  failed on an account is never held back by that account's count, so the owner is
  not locked out.
- Issue 15: sign-up is closed unless OPEN_SIGNUP or an invitation (AUTH10); new
  passwords are scored by zxcvbn (AUTH8); a sign-in is a server-side row (AUTH7,
  rooms/web/signins.py) and may need a second step (AUTH11, rooms/web/two_step.py).

Sessions and strangers (issue 12):
- Flask's session is a signed cookie kept by the browser, so signing out must end it
  on the server too (AUTH4): each account has a `session_epoch`, copied into the
  session at sign-in and compared by the user loader on every request (and socket
  connect); sign-out moves it on, which ends every session of that therapist, on
  every device and every copy of the cookie.
- Sign-in and sign-up do not tell whether an email has an account (AUTH5): an unknown
  email is checked against a dummy hash of the same cost, and a sign-up with a taken
  email gets a neutral refusal that counts as a failed attempt of the client address,
  so probing emails through either form runs into the same 429.
"""
import secrets
import time

from flask import (Blueprint, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField, StringField, ValidationError
from wtforms.validators import DataRequired, EqualTo, Length

from activities.contract import is_text
from activities.contract.i18n import DEFAULT, LANGUAGES, N_
from rooms.web import audit, i18n, passwords, signins, throttle, two_step
from rooms.web.forms import FlaskForm, _

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = N_("Please sign in first.")
login_manager.localize_callback = lambda message: _(message)


class Therapist(UserMixin):
    def __init__(self, rec):
        self.id = rec["id"]
        self.email = rec["email"]
        self.name = rec["name"]

    @property
    def participant_id(self):
        """The therapist's identity inside rooms (ops, presence, undo stacks)."""
        return f"th-{self.id}"


EPOCH = signins.EPOCH    # session key: the account's session_epoch at sign-in (AUTH4)


@login_manager.user_loader
def _load_user(user_id):
    """The signed-in therapist, unless the session was ended by a sign-out since it
    was made (its epoch is not the account's any more)."""
    try:
        rec = current_app.extensions["playroom"].storage.get_therapist(int(user_id))
    except ValueError:
        return None
    if not signins.valid(current_app.extensions["playroom"].storage, rec, session):
        return None     # AUTH4 (epoch moved on) or AUTH7 (this sign-in was ended)
    return Therapist(rec)


def _email_ok(form, field):
    """Email() needs the email_validator package; a light check is enough here."""
    value = (field.data or "").strip()
    if "@" not in value or "." not in value.rsplit("@", 1)[-1] or " " in value or \
            not is_text(value):
        raise ValidationError(_("Please enter a valid email address."))


def plain_text(lines=False):
    """Form validator for text a person types (TEXT1): names, room names, notes. A
    multi-line field (a textarea) may hold the line breaks and tabs browsers send."""
    def check(form, field):
        value = field.data or ""
        if lines:
            value = value.replace("\r", "\n").replace("\t", " ")
        if not is_text(value, newlines=lines):
            raise ValidationError(_("Please use plain text (no control characters)."))
    return check


class RegisterForm(FlaskForm):
    name = StringField(N_("Your name"), validators=[DataRequired(), Length(max=80), plain_text()])
    email = EmailField(N_("Email"), validators=[DataRequired(), Length(max=200), _email_ok])
    password = PasswordField(N_("Password"), validators=[DataRequired(), Length(min=10, max=200),
                                                         passwords.strong("email", "name")])
    confirm = PasswordField(N_("Repeat password"),
                            validators=[EqualTo("password", N_("Passwords differ."))])


class LoginForm(FlaskForm):
    email = EmailField(N_("Email"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(N_("Password"), validators=[DataRequired(), Length(max=200)])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST buttons (sign out, delete, revoke)."""


def _storage():
    return current_app.extensions["playroom"].storage


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    invited = passwords.invited_email(request.args.get("invite"), _storage())
    if not current_app.config["OPEN_SIGNUP"] and invited is None:
        return render_template("signup_closed.html"), 403        # AUTH10
    form = RegisterForm()
    if invited is not None:
        form.email.data = invited          # an invitation is for one address
    if form.validate_on_submit():
        address = request.remote_addr or "-"
        wait = throttle.wait_seconds(_storage(), address)          # AUTH5, AUTH6
        if wait:
            form.email.errors.append(throttle.message(wait))
            return render_template("register.html", form=form, invited=invited), 429, \
                {"Retry-After": str(wait)}
        rec = _storage().create_therapist(form.email.data.strip().lower(), form.name.data.strip(),
                                          generate_password_hash(form.password.data))
        if rec is None:
            # AUTH5: never "this email has an account"; probing counts as a failure.
            throttle.failed(_storage(), address)
            form.email.errors.append(_(NOT_CREATED))
        else:
            audit.record("therapist-created", rec["email"], therapist_id=rec["id"])
            # Issue 16: the account speaks what the browser asked for at sign-up.
            _storage().set_language(rec["id"], i18n.lang() if i18n.lang() in LANGUAGES
                                    else DEFAULT)
            _sign_in(rec)
            return redirect(url_for("web.dashboard"))
    return render_template("register.html", form=form, invited=invited), \
        (400 if request.method == "POST" else 200)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        address = request.remote_addr or "-"
        wait = throttle.wait_seconds(_storage(), address, email)       # AUTH6
        if wait:
            form.password.errors.append(throttle.message(wait))
            return render_template("login.html", form=form), 429, {"Retry-After": str(wait)}
        rec = _storage().get_therapist_by_email(email)
        if _password_ok(rec, form.password.data):
            throttle.succeeded(_storage(), address, email)
            if two_step.required_for(rec):
                return two_step.ask(rec)         # AUTH11: not signed in before the code
            _sign_in(rec)
            return redirect(url_for("web.dashboard"))
        throttle.failed(_storage(), address, email)
        audit.record("sign-in-failed", email, therapist_id=rec and rec["id"])   # AUDIT1
        form.password.errors.append(_("Email or password is not right."))
    return render_template("login.html", form=form), (400 if request.method == "POST" else 200)


# ------------------------------------------------------------------ account safety

NOT_CREATED = N_("We could not create an account with these details. Please check them, "
                  "or sign in if you have an account.")


def _sign_in(rec):
    login_user(Therapist(rec))
    signins.start(rec)           # AUTH7: a sign-in row, its id and the epoch in the session
    audit.record("sign-in")      # AUDIT1
    session["last_active"] = int(time.time())


def _password_ok(rec, password):
    """Is `password` the account's? Without an account it is checked against a dummy
    hash of the same cost, so the answer takes as long either way (AUTH5)."""
    ok = check_password_hash(rec["password_hash"] if rec else _dummy_hash(), password)
    return ok and rec is not None


def _dummy_hash():
    """A hash of a random password made like real ones (Werkzeug's default method and
    cost), once per app, on first need."""
    ext = current_app.extensions
    if "playroom.dummy_hash" not in ext:
        ext["playroom.dummy_hash"] = generate_password_hash(secrets.token_urlsafe(16))
    return ext["playroom.dummy_hash"]


# Requests that do not count as activity and never redirect (files a page loads).
_PASSIVE = {"static", "web.picture", "web.vendor"}


@bp.before_app_request
def _sign_out_when_inactive():
    """Sign a therapist out after INACTIVITY_MINUTES without a request (0: never)."""
    if request.endpoint in _PASSIVE or not current_user.is_authenticated:
        return None
    now = time.time()
    minutes = current_app.config["INACTIVITY_MINUTES"]
    last = session.get("last_active")
    if minutes and isinstance(last, (int, float)) and now - last > minutes * 60:
        _storage().end_sign_in(current_user.id, signins.current_id())
        logout_user()
        session.pop("last_active", None)
        session.pop("fresh_links", None)
        flash(i18n.translator().ngettext(
            "You were signed out because nothing happened for {n} minute. Please sign in again.",
            "You were signed out because nothing happened for {n} minutes. Please sign in again.",
            minutes), "info")
        return redirect(url_for("auth.login"))
    if not isinstance(last, (int, float)) or now - last >= 10:
        session["last_active"] = int(now)       # written at most every 10 s
    signins.touch()
    return None


@bp.route("/account/alive")
@login_required
def alive():
    """Nothing but activity: the room page calls it while the therapist works there."""
    return "", 204


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if EmptyForm().validate_on_submit():
        signins.end_all(current_user.id)     # AUTH4: every copy of the cookie, every socket
        audit.record("sign-out")
        logout_user()
        session.pop("last_active", None)
        session.pop(EPOCH, None)
        flash(_("You are signed out on every device and browser."), "info")
    return redirect(url_for("web.index"))
