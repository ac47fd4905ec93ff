"""The therapist's pages and the guests' last pages in the reader's language (issue 16):
the dashboard and its messages, the records pages and PDFs in the therapist's
language; the goodbye and broken-link pages in the language the guest chose for
their invite, whatever the browser says next."""
import pytest

from activities.contract.protocol import DEFAULT_SETTINGS
from tests.conftest import link_path
from tests.pdftools import pdf_text
from tests.support import csrf
from tests.unit.record_session import scripted_session

ES = {"Accept-Language": "es-MX,es;q=0.9"}
EN = {"Accept-Language": "en-US"}


def text(resp):
    return resp.get_data(as_text=True)


@pytest.fixture
def spanish_account(pr, monkeypatch):
    """Every therapist's account language is Spanish (storage.get_language, issue 16)."""
    monkeypatch.setattr(type(pr.storage), "get_language", lambda self, tid: "es", raising=False)


def test_the_dashboard_and_its_messages_in_spanish(therapist, room, post_form, pr):
    # The account's language decides a therapist's pages (the browser's only at sign-up).
    pr.storage.set_language(therapist.therapist_id, "es")
    page = text(therapist.get("/dashboard", headers=EN))
    assert '<html lang="es">' in page
    for words in ("Mis salas", "¿Para quién es esta sala?", "Crear sala", "Enlace del niño o la niña",
                  "Abrir sala", "Registros de sesión", "Borrar sala"):
        assert words in page, words
    assert "<h1>My rooms</h1>" not in page and "Create room" not in page
    r = post_form(therapist, "/dashboard", f"/rooms/{room.id}/invites/parent/revoke", {},
                  headers=ES, follow_redirects=True)
    assert "El enlace de la madre o el padre para Sam, 7 está desactivado." in text(r)
    assert "Desactivado" in text(r)
    r = post_form(therapist, "/dashboard", "/rooms", {"name": "Leo, 5", "waiting_room": "y"},
                  headers=ES, follow_redirects=True)
    assert "La sala “Leo, 5” está lista." in text(r)
    assert 'alt="Código QR del enlace del niño o la niña"' in text(r)
    pr.storage.set_language(therapist.therapist_id, "en")
    english = text(therapist.get("/dashboard", headers=ES))
    assert "My rooms" in english and "Child link" in english and "Mis salas" not in english


def test_goodbye_is_in_the_language_the_guest_chose_for_their_invite(app, room, join):
    guest = app.test_client()
    guest.get(link_path(room.links["child"]) + "?lang=es", headers=EN)
    assert join(guest, room.links["child"], name="Ana", avatar="fox").status_code == 302
    page = text(guest.get("/bye", headers=EN))
    assert '<html lang="es">' in page and "¡Hasta la próxima!" in page
    assert "See you next time" not in page
    assert "See you next time!" in text(app.test_client().get("/bye", headers=EN))


def test_a_switched_off_link_says_so_in_the_guests_language(app, room, therapist, post_form):
    guest = app.test_client()
    guest.get(link_path(room.links["parent"]) + "?lang=es", headers=EN)
    post_form(therapist, "/dashboard", f"/rooms/{room.id}/invites/parent/revoke", {})
    r = guest.get(link_path(room.links["parent"]), headers=EN)
    assert r.status_code == 410
    assert "Este enlace fue desactivado" in text(r) and "Pida a su terapeuta" in text(r)
    stranger = app.test_client().get(link_path(room.links["parent"]), headers=EN)
    assert "This link was switched off" in text(stranger)


@pytest.fixture
def owner(make_therapist):
    return make_therapist(name="Dra. Ruiz")


@pytest.fixture
def rec(owner, pr):
    storage = pr.storage
    room = storage.create_room(owner.therapist_id, "Sam, 7", dict(DEFAULT_SETTINGS))
    child = storage.create_participant(room["id"], "child", "Sam", "fox")
    parent = storage.create_participant(room["id"], "parent", "Alex", "owl")
    people = {"therapist": f"th-{owner.therapist_id}", "child": child["id"], "parent": parent["id"]}
    s = scripted_session(storage, room["id"], pr.registry, people)
    return pr.records.close_session(room["id"], 1, storage.last_seq(room["id"]), s.states)


def test_a_spanish_speaking_therapists_record_pages_and_pdfs(spanish_account, owner, rec, pr):
    assert rec["timeline"][0]["text"] == "Comenzó la sesión"      # written in their language
    page = text(owner.get(f"/records/{rec['id']}", headers=EN))
    assert '<html lang="es">' in page
    for words in ("Cronología", "Notas privadas", "Descargar PDF", "Comenzó la sesión", "Sam entró",
                  "Sam · Niño o niña", "jun 2025"):
        assert words in page, words
    assert "Timeline" not in page and "Session started" not in page
    token = csrf(page)
    r = owner.post(f"/records/{rec['id']}/notes", data={"csrf_token": token, "text": "Muy valiente"},
                   follow_redirects=True)
    assert "Nota guardada." in text(r) and "Muy valiente" in text(r)
    pdf = " ".join(pdf_text(owner.get(f"/records/{rec['id']}/record.pdf").data).split())
    assert "Registro de sesión — Sam, 7" in pdf and "Cronología" in pdf and "Muy valiente" in pdf
    listing = text(owner.get(f"/rooms/{rec['room_id']}/records"))
    assert "Registros de sesión: Sam, 7" in listing and "Semana a semana" in listing
    assert "Estados de ánimo de la última sesión" in listing
    sheet = " ".join(pdf_text(owner.get(f"/rooms/{rec['room_id']}/checkins.pdf").data).split())
    assert "Estados de ánimo — Sam, 7" in sheet


def test_an_english_therapist_keeps_english_records(owner, rec):
    assert rec["timeline"][0]["text"] == "Session started"
    page = text(owner.get(f"/records/{rec['id']}", headers=EN))
    assert "Timeline" in page and "Cronología" not in page


def test_retention_choices_and_the_access_log_labels_in_spanish(spanish_account, owner, rec, post_form):
    page = text(owner.get("/account/settings"))
    assert "Guardar los registros hasta que yo los borre" in page
    assert "Borrar los registros después de 1 año" in page and "Delete records after" not in page
    r = post_form(owner, "/account/settings", "/account/settings", {"days": "365"}, follow_redirects=True)
    assert "Guardado: Borrar los registros después de 1 año." in text(r)
    owner.get(f"/records/{rec['id']}")
    assert "Visto" in text(owner.get("/account/audit"))
