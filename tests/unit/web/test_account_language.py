"""The therapist's account language (issue 16 part 3): chosen on the settings page,
first set at sign-up from the browser, and every account page, form message and mail
in it whatever the browser says later; the account pages' Spanish catalog reaches the
reader."""
import re

import pytest

from rooms.store.sealed import SealedStorage
from rooms.web import throttle
from tests.mailsink import smtp_sink  # noqa: F401 (a fixture)
from tests.unit.web.accounts_helpers import PASSWORD, login, text  # noqa: F401 (login: a fixture)

EN = {"Accept-Language": "en-US,en;q=0.9"}


def spanish_browser(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-MX,es;q=0.9"
    return client


def set_language(client, post_form, code):
    return post_form(client, "/account/settings", "/account/language", {"lang": code})


@pytest.fixture
def mail_app_config(smtp_sink):  # noqa: F811
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_sink[1], "SMTP_SECURITY": "none",
            "MAIL_FROM": "playroom@clinic.example"}


@pytest.fixture
def app_config(request):
    if "smtp_sink" in request.fixturenames:
        return request.getfixturevalue("mail_app_config")
    return {}


def test_spanish_chosen_in_settings_is_kept_whatever_the_browser_says(app, therapist, post_form, pr):
    page = text(therapist.get("/account/settings", headers=EN))
    assert '<html lang="en">' in page and "Session records" in page
    # Each language offered in its own name; English (the browser's at sign-up) chosen.
    assert re.search(r'<option value="en" lang="en" selected>English</option>', page)
    assert '<option value="es" lang="es">Español</option>' in page
    r = set_language(therapist, post_form, "es")
    assert r.status_code == 302 and r.location.endswith("/account/settings")
    # Through the encryption-at-rest wrapper, like every page reads it.
    assert isinstance(pr.storage, SealedStorage) and pr.storage.get_language(therapist.therapist_id) == "es"
    settings = text(therapist.get("/account/settings", headers=EN))
    assert '<html lang="es">' in settings
    assert "Guardado: ahora las páginas están en Español." in settings        # the flash
    assert "Registros de sesión" in settings and "Mis salas" in settings
    assert "Cerrar sesión" in settings and "Session records" not in settings
    assert re.search(r'<option value="es" lang="es" selected>Español</option>', settings)
    dash = text(therapist.get("/dashboard", headers=EN))
    assert '<html lang="es">' in dash and "Mis salas" in dash and "Cerrar sesión" in dash
    sign_ins = text(therapist.get("/account/sign-ins", headers=EN))
    assert "Dónde tiene la sesión iniciada" in sign_ins and "Este navegador" in sign_ins
    audit = text(therapist.get("/account/audit", headers=EN))
    assert "Registro de seguridad y acceso" in audit
    assert "Cuenta de terapeuta creada" in audit and "Usted" in audit        # labels, actor
    # And back: English again with a Spanish browser.
    set_language(therapist, post_form, "en")
    page = text(therapist.get("/account/settings", headers={"Accept-Language": "es"}))
    assert '<html lang="en">' in page and "Saved: the pages are now in English." in page


def test_a_language_playroom_does_not_speak_is_refused(therapist, post_form, pr):
    assert set_language(therapist, post_form, "xx").status_code == 400
    assert set_language(therapist, post_form, "").status_code == 400
    assert pr.storage.get_language(therapist.therapist_id) == "en"
    r = therapist.post("/account/language", data={"lang": "es"})     # no CSRF token
    assert r.status_code == 400 and pr.storage.get_language(therapist.therapist_id) == "en"


def test_sign_up_keeps_the_browsers_language(app, register, pr):
    c = spanish_browser(app.test_client())
    form = text(c.get("/register"))
    assert '<html lang="es">' in form and "Crear una cuenta de terapeuta" in form
    assert "Su nombre" in form and "Repita la contraseña" in form          # field labels
    r = register(c, "ana@example.org", name="Dra. Ana")
    assert r.status_code == 302
    rec = pr.storage.get_therapist_by_email("ana@example.org")
    assert pr.storage.get_language(rec["id"]) == "es"
    assert '<html lang="es">' in text(c.get("/dashboard", headers=EN))
    en = app.test_client()
    register(en, "bo@example.org", name="Dr. Bo")
    assert pr.storage.get_language(pr.storage.get_therapist_by_email("bo@example.org")["id"]) == "en"


def test_form_messages_reach_a_spanish_reader(app, register, post_form, therapist):
    c = spanish_browser(app.test_client())
    r = post_form(c, "/login", "/login", {"email": "", "password": ""})
    body = text(r)
    assert r.status_code == 400 and "Correo electrónico" in body and "Contraseña" in body
    assert "Este campo es obligatorio." in body                   # WTForms' own, in Spanish
    assert "This field is required." not in body
    r = post_form(c, "/login", "/login", {"email": therapist.email, "password": "wrong one"})
    assert "El correo o la contraseña no son correctos." in text(r)
    r = register(spanish_browser(app.test_client()), "x@example.org", confirm="something else")
    assert r.status_code == 400 and "Las contraseñas no coinciden." in text(r)
    r = register(spanish_browser(app.test_client()), "y@example.org", password="password")
    assert "Elija una contraseña más segura, por favor." in text(r)
    assert "El campo debe tener entre 10 y 200 caracteres." in text(r)   # WTForms' Length
    # English readers see what they always saw.
    r = post_form(app.test_client(), "/login", "/login", {"email": "", "password": ""})
    assert "This field is required." in text(r) and "Email or password" not in text(r)


def test_the_wait_after_failed_sign_ins_is_said_in_spanish_with_plurals(app):
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert "espere 1 segundo e inténtelo" in throttle.message(1)
        assert "espere 30 segundos e inténtelo" in throttle.message(30)
        assert "espere 3 minutos e inténtelo" in throttle.message(150)
    with app.test_request_context(headers=EN):
        assert "please wait 30 seconds and try again" in throttle.message(30)
        assert "please wait 1 second and try again" in throttle.message(1)


def test_the_reset_mail_is_in_the_accounts_language(app, therapist, post_form, smtp_sink):  # noqa: F811
    sink, _ = smtp_sink
    set_language(therapist, post_form, "es")
    r = post_form(app.test_client(), "/forgot", "/forgot", {"email": therapist.email})
    assert "If this email has an account" in text(r)         # the page: the asker's browser
    (mail,) = sink.messages
    assert mail["Subject"] == "Restablezca su contraseña de Playroom"
    body = mail.get_body(("plain",)).get_content()
    assert "Alguien pidió restablecer la contraseña" in body and "/reset/" in body


def test_labels_and_form_messages_are_translated_as_plain_text(app):
    """The `tr` filter (templates/_form.html): a catalog id in the reader's language, a
    message that is no catalog id as it is, escaped either way and never %-formatted."""
    from flask import render_template_string
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert render_template_string("{{ m|tr }}", m="Passwords differ.") == "Las contraseñas no coinciden."
        assert render_template_string("{{ m|tr }}", m="<b>100%</b>") == "&lt;b&gt;100%&lt;/b&gt;"


def test_a_page_looks_up_the_account_language_once(therapist, pr, monkeypatch):
    """Every message a page says asks for the reader's language: the account's is read
    from the store once per request, not once per string."""
    pr.storage.set_language(therapist.therapist_id, "es")
    calls = []
    store = getattr(pr.storage, "inner", pr.storage)      # under the encryption wrapper
    real = store.get_language
    monkeypatch.setattr(store, "get_language", lambda tid: calls.append(tid) or real(tid))
    page = text(therapist.get("/dashboard", headers=EN))
    assert '<html lang="es">' in page and "Mis salas" in page
    assert len(calls) == 1, len(calls)
