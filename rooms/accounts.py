"""Therapist accounts: register, sign in, sign out (Flask-Login + Flask-WTF forms).

Passwords are hashed with Werkzeug's scrypt default; every form carries a CSRF token.
"""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in first."


class Therapist(UserMixin):
    def __init__(self, rec):
        self.id = rec["id"]
        self.email = rec["email"]
        self.name = rec["name"]

    @property
    def participant_id(self):
        """The therapist's identity inside rooms (ops, presence, undo stacks)."""
        return f"th-{self.id}"


@login_manager.user_loader
def _load_user(user_id):
    try:
        rec = current_app.extensions["playroom"].storage.get_therapist(int(user_id))
    except ValueError:
        return None
    return Therapist(rec) if rec else None


def _email_ok(form, field):
    """Email() needs the email_validator package; a light check is enough here."""
    value = (field.data or "").strip()
    if "@" not in value or "." not in value.rsplit("@", 1)[-1] or " " in value:
        from wtforms import ValidationError
        raise ValidationError("Please enter a valid email address.")


class RegisterForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=80)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=200), _email_ok])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField("Repeat password", validators=[EqualTo("password", "Passwords differ.")])


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=200)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST buttons (sign out, delete, revoke)."""


def _storage():
    return current_app.extensions["playroom"].storage


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    form = RegisterForm()
    if form.validate_on_submit():
        rec = _storage().create_therapist(form.email.data.strip().lower(), form.name.data.strip(),
                                          generate_password_hash(form.password.data))
        if rec is None:
            form.email.errors.append("An account with this email exists. Sign in instead.")
        else:
            login_user(Therapist(rec))
            return redirect(url_for("web.dashboard"))
    return render_template("register.html", form=form), (400 if request.method == "POST" else 200)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        rec = _storage().get_therapist_by_email(form.email.data.strip().lower())
        if rec and check_password_hash(rec["password_hash"], form.password.data):
            login_user(Therapist(rec))
            return redirect(url_for("web.dashboard"))
        form.password.errors.append("Email or password is not right.")
    return render_template("login.html", form=form), (400 if request.method == "POST" else 200)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if EmptyForm().validate_on_submit():
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("web.index"))
