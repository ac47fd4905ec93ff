"""Account security pages and commands (issue 15): closed sign-up with invitations,
the first therapist from the command line, change and reset password, the list of
sign-ins with "sign out" per row and everywhere else.

Rules (docs/PROTOCOL.md): AUTH6 throttling (rooms/web/throttle.py), AUTH7 sign-ins that
end (rooms/web/signins.py), AUTH8 password strength and AUTH9 reset links
(rooms/web/passwords.py), AUTH10 closed sign-up, AUTH11 two-step sign-in (rooms/web/two_step.py).
"""
import logging
import time

import click
from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask.cli import with_appcontext
from flask_login import current_user, login_required
from flask_mailman import EmailMessage, Mail
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from activities.contract.i18n import LANGUAGES, N_
from rooms.web import audit, forms, i18n, passwords, signins, two_step
from rooms.web.secure_cookies import AutoSecureSessionInterface
from rooms.web.accounts import EmptyForm, FlaskForm, _email_ok
from rooms.web.forms import _

bp = Blueprint("account", __name__)
log = logging.getLogger("playroom.accounts")

def init_app(app):
    """Mail, blueprints, commands, the kick announcement; settings: rooms/config.py."""
    if app.config["SMTP_HOST"]:
        security = app.config["SMTP_SECURITY"]
        app.config.update(MAIL_SERVER=app.config["SMTP_HOST"], MAIL_PORT=app.config["SMTP_PORT"],
                          MAIL_USERNAME=app.config["SMTP_USER"],
                          MAIL_PASSWORD=app.config["SMTP_PASSWORD"],
                          MAIL_USE_TLS=security == "starttls", MAIL_USE_SSL=security == "ssl",
                          MAIL_DEFAULT_SENDER=app.config["MAIL_FROM"], MAIL_TIMEOUT=10,
                          MAIL_BACKEND="smtp")   # also under TESTING: tests run a real SMTP sink
        Mail().init_app(app)
    app.session_interface = AutoSecureSessionInterface()     # Secure over HTTPS by itself
    app.register_blueprint(bp)
    app.register_blueprint(two_step.bp)
    app.add_template_filter(signins.browser_label, "browser_label")
    app.add_template_filter(forms.translated, "tr")      # issue 16: labels, form messages
    app.before_request(two_step.enforce)
    app.cli.add_command(create_therapist)
    app.cli.add_command(reset_password)
    audit.init_app(app)                 # flask verify-audit (AUDIT2)
    pr = app.extensions["playroom"]
    pr.announcement_hooks[signins.KICK] = lambda tid: signins.kick_here(app, tid)

    @app.context_processor
    def _signup():
        admin = lambda: current_user.is_authenticated and _storage().is_admin(current_user.id)  # noqa: E731
        return {"signup_open": app.config["OPEN_SIGNUP"], "account_admin": admin}


def first_run_hint(app):
    """A fresh install has no account and sign-up is closed: say how to make one."""
    if not app.extensions["playroom"].storage.list_therapists():
        log.warning("No therapist account yet. Create the first (an administrator) with: "
                    ".venv/bin/flask --app app create-therapist")


def _storage():
    return current_app.extensions["playroom"].storage


def mail_configured():
    return bool(current_app.config["SMTP_HOST"])


def send_mail(to, subject, body):
    EmailMessage(subject, body, to=[to]).send()


# ------------------------------------------------------------------ forms

def _mine():
    """What zxcvbn should know about the signed-in therapist (AUTH8)."""
    return [current_user.email, current_user.name]


class ChangePasswordForm(FlaskForm):
    current = PasswordField(N_("Current password"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(N_("New password"), validators=[
        DataRequired(), Length(min=10, max=200), passwords.strong(inputs=_mine)])
    confirm = PasswordField(N_("Repeat new password"),
                            validators=[EqualTo("password", N_("Passwords differ."))])


class ForgotForm(FlaskForm):
    email = EmailField(N_("Email"), validators=[DataRequired(), Length(max=200)])


class InviteForm(FlaskForm):
    email = EmailField(N_("Their email"), validators=[DataRequired(), Length(max=200), _email_ok])


def reset_form(rec):
    class ResetForm(FlaskForm):
        password = PasswordField(N_("New password"), validators=[
            DataRequired(), Length(min=10, max=200),
            passwords.strong(inputs=lambda: [rec["email"], rec["name"]])])
        confirm = PasswordField(N_("Repeat new password"),
                                validators=[EqualTo("password", N_("Passwords differ."))])
    return ResetForm()


# ------------------------------------------------------------------ password

@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Asks the current password; the new one ends every other sign-in (AUTH7)."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        rec = _storage().get_therapist(current_user.id)
        if not check_password_hash(rec["password_hash"], form.current.data):
            form.current.errors.append(_("This is not your current password."))
        else:
            epoch = _storage().set_password(rec["id"], generate_password_hash(form.password.data))
            signins.end_others(rec["id"], new_epoch=epoch)
            audit.record("password-changed")                       # AUDIT1
            flash(_("Your password is changed. Every other sign-in has been ended."), "info")
            return redirect(url_for("account.sign_ins"))
    return render_template("change_password.html", form=form), \
        (400 if request.method == "POST" else 200)


@bp.route("/forgot", methods=["GET", "POST"])
def forgot():
    """Mail a reset link; the answer never says whether the email has an account (AUTH5)."""
    form = ForgotForm()
    if form.validate_on_submit():
        rec = _storage().get_therapist_by_email(form.email.data.strip().lower())
        if rec is not None and mail_configured() and _may_mail_reset(rec["email"]):
            link = url_for("account.reset", token=passwords.reset_token(rec), _external=True)
            # In the account's language (issue 16), else the one the form was read in.
            tr = i18n.translator(_storage().get_language(rec["id"]))
            send_mail(rec["email"], tr.gettext("Reset your Playroom password"),
                      tr.ngettext("Someone asked to reset the password of your Playroom account."
                                  "\n\nTo choose a new password, open this link within {n} "
                                  "minute (it works once):\n{link}\n\nIf it was not you, "
                                  "ignore this message.",
                                  "Someone asked to reset the password of your Playroom account."
                                  "\n\nTo choose a new password, open this link within {n} "
                                  "minutes (it works once):\n{link}\n\nIf it was not you, "
                                  "ignore this message.",
                                  current_app.config["RESET_LINK_MINUTES"], link=link))
        return render_template("forgot.html", form=form, sent=True, mail=mail_configured())
    return render_template("forgot.html", form=form, sent=False, mail=mail_configured()), \
        (400 if request.method == "POST" else 200)


RESET_MAILS_PER_WINDOW = 3


def _may_mail_reset(email):
    """At most RESET_MAILS_PER_WINDOW reset mails per account per LOGIN_WINDOW_MINUTES,
    so the form cannot be used to flood someone's inbox (the page answers the same)."""
    key = f"reset-mail:{email}"
    since = time.time() - current_app.config["LOGIN_WINDOW_MINUTES"] * 60
    if _storage().count_login_failures(key, since) >= RESET_MAILS_PER_WINDOW:
        return False
    _storage().add_login_failure(key)
    return True


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token):
    """A single-use, expiring, signed link (AUTH9); using it ends every sign-in."""
    rec = passwords.therapist_for_reset(token, _storage())
    if rec is None:
        return render_template("reset.html", form=None), 410
    form = reset_form(rec)
    if form.validate_on_submit():
        _storage().set_password(rec["id"], generate_password_hash(form.password.data))
        _storage().end_sign_ins(rec["id"])
        signins.kick_therapist(rec["id"])
        audit.record("password-reset", rec["email"], therapist_id=rec["id"])
        flash(_("Your password is changed. Please sign in with it."), "info")
        return redirect(url_for("auth.login"))
    return render_template("reset.html", form=form), (400 if request.method == "POST" else 200)


# ------------------------------------------------------------------ language

@bp.route("/account/language", methods=["POST"])
@login_required
def language():
    """The account language (issue 16 part 3): every page of this therapist, and their
    session records, in it, whatever the browser says. Shown on the settings page."""
    if not EmptyForm().validate_on_submit() or request.form.get("lang") not in LANGUAGES:
        abort(400)
    _storage().set_language(current_user.id, request.form["lang"])
    # Said in the language just chosen.
    flash(i18n.translator(request.form["lang"]).gettext("Saved: the pages are now in {language}.",
                                    language=LANGUAGES[request.form["lang"]]), "ok")
    return redirect(url_for("records.settings"))


# ------------------------------------------------------------------ sign-ins

@bp.route("/account/sign-ins")
@login_required
def sign_ins():
    return render_template("sign_ins.html", sign_ins=signins.active(current_user.id),
                           here=signins.current_id(), form=EmptyForm())


@bp.route("/account/sign-ins/<sign_in_id>/end", methods=["POST"])
@login_required
def end_sign_in(sign_in_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    if sign_in_id == signins.current_id():
        abort(400)              # this browser signs out with "Sign out"
    if not signins.end_one(current_user.id, sign_in_id):
        abort(404)
    audit.record("sign-in-ended")
    flash(_("That sign-in has been ended."), "info")
    return redirect(url_for("account.sign_ins"))


@bp.route("/account/sign-ins/end-others", methods=["POST"])
@login_required
def end_other_sign_ins():
    if not EmptyForm().validate_on_submit():
        abort(400)
    signins.end_others(current_user.id)
    audit.record("sign-ins-ended")
    flash(_("You are signed out everywhere else."), "info")
    return redirect(url_for("account.sign_ins"))


# ------------------------------------------------------------------ invitations

@bp.route("/account/therapists", methods=["GET", "POST"])
@login_required
def therapists():
    """An administrator invites another therapist (AUTH10): a signed link for one email."""
    if not _storage().is_admin(current_user.id):
        abort(403)
    form, link = InviteForm(), None
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        link = url_for("auth.register", invite=passwords.invite_token(email, current_user.id),
                       _external=True)
        audit.record("therapist-invited", email)
        if mail_configured():
            tr = i18n.translator()        # the inviter's language: they know the invitee
            send_mail(email, tr.gettext("You are invited to Playroom"),
                      tr.ngettext("{name} invites you to create a therapist account on Playroom. "
                                  "The link works for {n} day:\n{link}\n",
                                  "{name} invites you to create a therapist account on Playroom. "
                                  "The link works for {n} days:\n{link}\n",
                                  current_app.config["THERAPIST_INVITE_DAYS"],
                                  name=current_user.name, link=link))
    return render_template("therapists.html", form=form, link=link, mail=mail_configured())


# ------------------------------------------------------------------ commands

def _checked_password(password, email, name):
    reason = passwords.weakness(password, [email, name])
    if reason:
        raise click.ClickException(f"Please choose a stronger password. {reason}")
    if len(password) < 10:
        raise click.ClickException("The password needs at least 10 characters.")


@click.command("create-therapist")
@click.option("--email", prompt=True, help="their sign-in email")
@click.option("--name", prompt="Name", help="their name as shown to them")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="PLAYROOM_NEW_PASSWORD",
              help="(or the environment variable PLAYROOM_NEW_PASSWORD; asked when missing)")
@click.option("--admin/--no-admin", default=None,
              help="may invite therapists (default: only the first therapist)")
@with_appcontext
def create_therapist(email, name, password, admin):
    """Create a therapist account (the first one is an administrator)."""
    email = email.strip().lower()
    _checked_password(password, email, name)
    storage = current_app.extensions["playroom"].storage
    first = not storage.list_therapists()
    rec = storage.create_therapist(email, name.strip(), generate_password_hash(password))
    if rec is None:
        raise click.ClickException("There is an account with this email already.")
    if admin or (admin is None and first):
        storage.set_admin(rec["id"])
    audit.record("therapist-created", email, therapist_id=rec["id"], actor="cli")
    click.echo(f"Created {email}{' (administrator)' if storage.is_admin(rec['id']) else ''}.")


@click.command("reset-password")
@click.argument("email")
@with_appcontext
def reset_password(email):
    """Print a single-use password reset link for EMAIL (where no mail is configured)."""
    storage = current_app.extensions["playroom"].storage
    rec = storage.get_therapist_by_email(email.strip().lower())
    if rec is None:
        raise click.ClickException("No account has this email.")
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        link = url_for("account.reset", token=passwords.reset_token(rec), _external=True)
    audit.record("password-reset-link", rec["email"], therapist_id=rec["id"], actor="cli")
    click.echo(f"Reset link (works once, for {current_app.config['RESET_LINK_MINUTES']} minutes):")
    click.echo(link)
