"""The security audit log through the real app, on SQLite and on Redis: real actions
append to one hash chain, `flask verify-audit` checks it and names the first broken
row, and `/account/audit` shows each therapist their own events (an administrator
everyone's; guests and strangers nothing)."""
import re
import time

import pyotp
import pytest

from rooms.store import audit_store
from tests.unit.store.test_audit_store_contract import alter, delete

PASSWORD = "correct horse battery"
NEW_PASSWORD = "violet lantern orchard 42"


@pytest.fixture(params=["sqlite", "redis"])
def app_config(request):
    """Each test here runs on both stores."""
    return {"REDIS_URL": request.getfixturevalue("redis_url")} if request.param == "redis" else {}


def text(resp):
    return resp.get_data(as_text=True)


def cli(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def kinds(pr, therapist_id=None):
    return [e["kind"] for e in reversed(pr.storage.list_security_events(therapist_id))]


def page_kinds(browser):
    return re.findall(r'<tr data-kind="([a-z-]+)">', text(browser.get("/account/audit")))


@pytest.fixture
def acted(app, pr, therapist, create_room, post_form):
    """A therapist's real day: a wrong password from another browser, a room made, its
    child link renewed and switched off, two-step sign-in on and off, the password
    changed, the room deleted, signed out."""
    stranger = app.test_client()
    r = post_form(stranger, "/login", "/login", {"email": therapist.email, "password": "wrong one!"})
    assert r.status_code == 400
    room = create_room(therapist)
    assert post_form(therapist, "/dashboard", f"/rooms/{room.id}/invites/child", {}).status_code == 302
    assert post_form(therapist, "/dashboard", f"/rooms/{room.id}/invites/child/revoke",
                     {}).status_code == 302
    page = text(therapist.get("/account/two-step"))
    secret = re.search(r"data-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    r = post_form(therapist, "/account/two-step", "/account/two-step",
                  {"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200
    assert post_form(therapist, "/account/two-step", "/account/two-step/off",
                     {"password": PASSWORD}).status_code == 302
    assert post_form(therapist, "/account/password", "/account/password",
                     {"current": PASSWORD, "password": NEW_PASSWORD,
                      "confirm": NEW_PASSWORD}).status_code == 302
    assert post_form(therapist, "/dashboard", f"/rooms/{room.id}/delete", {}).status_code == 302
    return room


DAY = ["therapist-created", "sign-in", "sign-in-failed", "room-created", "invite-new",
       "invite-revoked", "two-step-on", "two-step-off", "password-changed", "room-deleted"]


def test_AUDIT1_real_actions_append_to_one_chain_that_verifies(app, pr, therapist, acted):
    assert kinds(pr, therapist.therapist_id) == DAY
    rows = pr.storage.list_security_events(therapist.therapist_id)[::-1]
    failed = rows[2]
    assert failed["actor"] == "anonymous" and failed["target"] == therapist.email
    assert failed["address"] == "127.0.0.1"
    assert rows[3]["actor"] == f"therapist:{therapist.therapist_id}"
    assert rows[3]["target"] == f"room {acted.id}, waiting room off"
    r = cli(app, "verify-audit")
    assert r.exit_code == 0 and f"OK: {len(DAY)} rows" in r.output, r.output
    assert rows[-1]["hash"] in r.output


def test_AUDIT1_sign_out_and_the_cli_commands_are_recorded(app, pr, therapist, post_form):
    assert post_form(therapist, "/dashboard", "/logout", {}).status_code == 302
    assert cli(app, "reset-password", therapist.email).exit_code == 0
    rows = pr.storage.list_security_events(therapist.therapist_id)
    assert [(e["kind"], e["actor"]) for e in rows[:2]] == [
        ("password-reset-link", "cli"), ("sign-out", f"therapist:{therapist.therapist_id}")]


def wrong_code(secret):
    """Six digits that are none of the codes accepted now (±1 step)."""
    now = time.time()
    good = {pyotp.TOTP(secret).at(now + 30 * k) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in good)


def test_AUDIT1_second_steps_and_ended_sign_ins_are_recorded(app, pr, therapist, post_form):
    page = text(therapist.get("/account/two-step"))
    secret = re.search(r"data-secret>([A-Z2-7 ]+)<", page).group(1).replace(" ", "")
    r = post_form(therapist, "/account/two-step", "/account/two-step",
                  {"code": pyotp.TOTP(secret).now()})
    recovery = re.findall(r"<code data-recovery-code>([0-9a-f-]+)</code>", text(r))[0]
    laptop = app.test_client()
    creds = {"email": therapist.email, "password": PASSWORD}
    assert post_form(laptop, "/login", "/login", creds).status_code == 302
    assert post_form(laptop, "/login/code", "/login/code", {"code": wrong_code(secret)}).status_code == 400
    assert post_form(laptop, "/login/code", "/login/code",
                     {"recovery": recovery}).status_code == 302
    assert post_form(therapist, "/account/sign-ins", "/account/sign-ins/end-others",
                     {}).status_code == 302
    rows = pr.storage.list_security_events(therapist.therapist_id)[::-1][-5:]
    assert [(e["kind"], e["target"]) for e in rows] == [
        ("two-step-on", ""), ("sign-in-failed", f"{therapist.email} (wrong code)"),
        ("sign-in", ""), ("recovery-code-used", ""), ("sign-ins-ended", "")]


def test_AUDIT1_invitations_reset_links_and_an_ended_sign_in_are_recorded(app, pr, therapist,
                                                                          post_form):
    pr.storage.set_admin(therapist.therapist_id)
    assert post_form(therapist, "/account/therapists", "/account/therapists",
                     {"email": "lee@example.org"}).status_code == 200
    laptop = app.test_client()
    assert post_form(laptop, "/login", "/login", {"email": therapist.email,
                                                  "password": PASSWORD}).status_code == 302
    listed = re.findall(r'data-sign-in="([^"]+)"( data-here="1")?',
                        text(therapist.get("/account/sign-ins")))
    other = next(sid for sid, here in listed if not here)          # the laptop's
    assert post_form(therapist, "/account/sign-ins", f"/account/sign-ins/{other}/end",
                     {}).status_code == 302
    out = cli(app, "reset-password", therapist.email).output
    path = re.search(r"http://[^/\s]+(/reset/\S+)", out).group(1)
    assert post_form(app.test_client(), path, path, {"password": NEW_PASSWORD,
                                                     "confirm": NEW_PASSWORD}).status_code == 302
    rows = pr.storage.list_security_events(therapist.therapist_id)[::-1][-5:]
    assert [(e["kind"], e["actor"]) for e in rows] == [
        ("therapist-invited", f"therapist:{therapist.therapist_id}"),
        ("sign-in", f"therapist:{therapist.therapist_id}"),
        ("sign-in-ended", f"therapist:{therapist.therapist_id}"),
        ("password-reset-link", "cli"), ("password-reset", "anonymous")]
    assert rows[0]["target"] == "lee@example.org"


def test_AUDIT1_record_exports_are_in_the_chain(app, pr, therapist, room):
    r = therapist.get(f"/rooms/{room.id}/checkins.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    event = pr.storage.list_security_events(therapist.therapist_id)[0]
    assert (event["kind"], event["target"]) == ("record-export",
                                                f"room {room.id}: check-in trend sheet (PDF)")


def test_AUDIT2_verify_audit_names_an_altered_row(app, pr, acted):
    alter(pr.storage, 4, target="room somewhere-else")
    r = cli(app, "verify-audit")
    assert r.exit_code == 1 and "BROKEN at row 4: row 4 was altered" in r.output, r.output


def test_AUDIT2_verify_audit_names_the_row_after_a_deleted_one(app, pr, acted):
    delete(pr.storage, 3)                       # the failed sign-in, wiped
    r = cli(app, "verify-audit")
    assert r.exit_code == 1 and "BROKEN at row 4: row 4 follows row 2" in r.output, r.output


def test_AUDIT2_the_page_shows_a_therapist_only_their_own_events(app, pr, therapist, acted,
                                                               make_therapist):
    assert page_kinds(therapist) == DAY[::-1]
    page = text(therapist.get("/account/audit"))
    assert '<td data-label="By">Not signed in</td>' in page          # the wrong password
    assert page.count('<td data-label="By">You</td>') == len(DAY) - 2
    other = make_therapist(name="Dr. Lee")
    assert page_kinds(other) == ["sign-in", "therapist-created"]
    assert therapist.email not in text(other.get("/account/audit"))
    pr.storage.set_admin(other.therapist_id)                   # an administrator sees all
    assert len(page_kinds(other)) == len(DAY) + 2
    assert therapist.email in text(other.get("/account/audit"))


def test_AUDIT2_guests_and_strangers_get_no_log(client, make_guest, room, therapist):
    guest = make_guest(room.links["child"])
    for browser in (client, guest):
        r = browser.get("/account/audit")
        assert r.status_code == 404 and "data-kind" not in text(r)


def test_AUDIT3_export_and_import_carry_the_chain(app, pr, acted, tmp_path):
    out = tmp_path / "all.jsonl"
    assert cli(app, "export-data", str(out)).exit_code == 0
    chain = pr.storage.security_chain()
    assert chain[-1]["kind"] == "export-data" and chain[-1]["actor"] == "cli"
    from app import create_app
    from tests.support import ROOT
    target = create_app({"INSTANCE_PATH": str(tmp_path / "target"), "ASYNC_MODE": "threading",
                         "TESTING": True, "ASSETS_ROOT": ROOT})
    try:
        r = cli(target, "import-data", str(out))
        assert r.exit_code == 0, r.output
        there = target.extensions["playroom"].storage.security_chain()
        assert there[:-1] == chain[:-1]                # as exported, hashes and all
        assert (there[-1]["kind"], there[-1]["actor"]) == ("import-data", "cli")
        assert audit_store.verify(there) == (len(chain), None)
        again = cli(target, "import-data", str(out))
        assert again.exit_code != 0 and "security audit log of its own" in again.output
    finally:
        target.extensions["playroom"].storage.close()
