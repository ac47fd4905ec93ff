"""A language per person (issue 16 part 3) through the HTTP pages: the join page in
the guest's language (from the browser, or picked), remembered for that invite, the
room page's configuration in that language; the therapist's pages stay theirs."""
import json
import re

from tests.conftest import link_path

ES = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}


def text(resp):
    return resp.get_data(as_text=True)


def config_of(resp):
    m = re.search(r'<script type="application/json" id="playroom-config">(.*?)</script>', text(resp), re.S)
    return json.loads(m.group(1))


def test_the_join_page_speaks_the_browsers_language(app, room):
    c = app.test_client()
    body = text(c.get(link_path(room.links["child"]), headers=ES))
    assert '<html lang="es">' in body and "¡Hola!" in body and "Elige tu dibujo" in body
    assert "Pick your picture" not in body
    # Every language is offered in its own name, the current one marked.
    assert re.search(r'data-lang="es"[^>]*aria-current="true"', body)
    assert "English" in body and "Español" in body
    en = text(app.test_client().get(link_path(room.links["child"]),
                                     headers={"Accept-Language": "en-US"}))
    assert '<html lang="en">' in en and "Pick your picture" in en and "Español" in en


def test_a_language_picked_on_the_join_page_is_kept_for_that_invite(app, room, join, pr):
    c = app.test_client()
    path = link_path(room.links["parent"])
    body = text(c.get(path + "?lang=es", headers={"Accept-Language": "en"}))
    assert '<html lang="es">' in body and "¡A jugar!" in body
    # Next visit with an English browser: still Spanish for this invite.
    assert '<html lang="es">' in text(c.get(path, headers={"Accept-Language": "en"}))
    r = join(c, room.links["parent"], name="", avatar="bear")
    assert r.status_code == 302
    (part,) = pr.storage.list_participants(room.id)
    assert part["name"] == "Adulto"            # the default name, in their language
    page = c.get(f"/room/{room.id}", headers={"Accept-Language": "en"})
    assert '<html lang="es">' in text(page)
    assert config_of(page)["i18n"]["lang"] == "es"


def test_the_therapist_keeps_english_while_the_guests_have_spanish(app, room, therapist, join):
    guest = app.test_client()
    guest.get(link_path(room.links["child"]) + "?lang=es")
    join(guest, room.links["child"], name="Ana", avatar="fox")
    assert config_of(guest.get(f"/room/{room.id}"))["i18n"]["lang"] == "es"
    th = config_of(therapist.get(f"/room/{room.id}", headers={"Accept-Language": "en"}))
    assert th["i18n"] == {"lang": "en", "messages": {}}


def test_a_language_nobody_speaks_falls_back_to_english(app, room):
    c = app.test_client()
    body = text(c.get(link_path(room.links["child"]) + "?lang=xx", headers={"Accept-Language": "fr"}))
    assert '<html lang="en">' in body and "Pick your picture" in body


def test_a_guest_in_the_room_changes_language_through_their_link(app, room, join):
    """Their link with ?lang= takes a guest who already joined back to the room, now
    in the language they picked (kept for that invite)."""
    c = app.test_client()
    c.get(link_path(room.links["child"]) + "?lang=es")
    join(c, room.links["child"], name="Ana", avatar="fox")
    assert config_of(c.get(f"/room/{room.id}"))["i18n"]["lang"] == "es"
    r = c.get(link_path(room.links["child"]) + "?lang=en")
    assert r.status_code == 302 and r.location.endswith(f"/room/{room.id}")
    assert config_of(c.get(f"/room/{room.id}", headers=ES))["i18n"]["lang"] == "en"
