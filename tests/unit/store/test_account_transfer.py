"""export-data / import-data carry the administrator mark and two-step sign-in
(issue 15): a moved therapist still needs their second step, a used code stays used,
and a damaged account line is refused before anything is written."""
import io
import json

import pytest

from rooms.store import transfer
from rooms.web.two_step import code_hash
from tests.unit.store.test_transfer import move, redis_store, sqlite_factory  # noqa: F401

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def two_step_therapist(store, email="kim@example.org"):
    th = store.create_therapist(email, "Dr. Kim", "hash")
    store.set_admin(th["id"])
    store.set_totp(th["id"], SECRET)
    store.use_totp_step(th["id"], 1000)
    store.set_recovery_codes(th["id"], [code_hash("aaaaa-bbbbb"), code_hash("ccccc-ddddd")])
    store.use_recovery_code(th["id"], code_hash("aaaaa-bbbbb"))
    return th


def test_AUTH11_a_move_sqlite_redis_sqlite_keeps_two_step_and_the_admin_mark(
        sqlite_factory, redis_store):  # noqa: F811
    src = sqlite_factory("a")
    th = two_step_therapist(src)
    plain = src.create_therapist("lee@example.org", "Dr. Lee", "hash")
    move(src, redis_store)
    back = sqlite_factory("b")
    _, counts = move(redis_store, back)
    assert counts["account"] == 1
    for store in (redis_store, back):
        assert store.is_admin(th["id"]) and not store.is_admin(plain["id"])
        assert store.get_totp(th["id"]) == {"secret": SECRET, "last_step": 1000}
        assert store.use_totp_step(th["id"], 1000) is False            # used before the move
        assert store.use_recovery_code(th["id"], code_hash("aaaaa-bbbbb")) is False
        assert store.use_recovery_code(th["id"], code_hash("ccccc-ddddd")) is True
        assert store.get_totp(plain["id"]) is None


def test_importing_the_same_account_again_reuses_it(sqlite_factory):  # noqa: F811
    src, dst = sqlite_factory("a"), sqlite_factory("b")
    two_step_therapist(src)
    move(src, dst)
    _, counts = move(src, dst)
    assert "account" not in counts


@pytest.mark.parametrize("field,value", [
    ("admin", "yes"), ("totp_secret", "not base32!"), ("totp_last_step", None),
    ("recovery", ["plain-code"]), ("lang", "xx"), ("lang", 7),
])
def test_a_damaged_account_line_writes_nothing(sqlite_factory, field, value):  # noqa: F811
    src, dst = sqlite_factory("a"), sqlite_factory("b")
    two_step_therapist(src)
    buf = io.StringIO()
    transfer.export_data(src, buf)
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    for obj in lines:
        if obj.get("kind") == "account":
            obj["record"][field] = value
    bad = "\n".join(json.dumps(obj) for obj in lines) + "\n"
    with pytest.raises(transfer.TransferError):
        transfer.import_data(dst, io.StringIO(bad))
    assert dst.list_therapists() == []


def test_a_move_sqlite_redis_sqlite_keeps_the_account_language(sqlite_factory, redis_store):  # noqa: F811
    """Issue 16 part 3: the account language moves; a therapist with nothing but a
    language still gets an account line; files without "lang" still import."""
    src = sqlite_factory("a")
    two = two_step_therapist(src)
    src.set_language(two["id"], "es")
    only = src.create_therapist("lee@example.org", "Dr. Lee", "hash")
    src.set_language(only["id"], "es")
    plain = src.create_therapist("ray@example.org", "Dr. Ray", "hash")
    move(src, redis_store)
    back = sqlite_factory("b")
    text, counts = move(redis_store, back)
    assert counts["account"] == 2
    for store in (redis_store, back):
        assert store.get_language(two["id"]) == "es" and store.get_language(only["id"]) == "es"
        assert store.get_language(plain["id"]) is None
        assert store.get_totp(two["id"])["secret"] == SECRET
    # A file written before issue 16 (no "lang") imports as before.
    old = sqlite_factory("c")
    two_step_therapist(old)
    buf = io.StringIO()
    transfer.export_data(old, buf)
    assert '"lang"' not in buf.getvalue()
    fresh = sqlite_factory("d")
    transfer.import_data(fresh, io.StringIO(buf.getvalue()))
    assert fresh.get_language(1) is None and fresh.get_totp(1)["secret"] == SECRET
