"""Shared fixtures, smallest first; each builds on the one before it.

    tmp_path -> storage                      a bare SQLiteStorage (no app)
    redis_server -> redis_url                a real redis-server (session), emptied per test
    tmp_path -> app -> client                the real app (CSRF on), one anonymous browser
                app -> make_therapist()      a browser signed in through the real forms
                       therapist             ... one of them
    therapist -> room                        a room made on the dashboard: Room(id, links, ...)
                 make_guest(link)            a browser that opened an invite link and joined

Helpers that act like a person (post a form, read the dashboard) are fixtures
returning small functions, so test modules never import from this file.
Integration and browser suites override `room`/`server` in their own conftest.
"""
import itertools
import os
import re
import shutil
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from activities.contract.protocol import DEFAULT_SETTINGS

from app import create_app
from rooms.store.sqlite_store import SQLiteStorage
from tests.support import ROOT, RedisServer, csrf

PASSWORD = "correct horse battery"
_emails = itertools.count(1)


# ----------------------------------------------------------------- storage / app

@pytest.fixture
def storage(tmp_path):
    store = SQLiteStorage(str(tmp_path / "unit.sqlite3"))
    yield store
    store.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """Debian's redis-server on a free loopback port for the whole session (started on
    first use). Missing binary: a failure under CI=true, a skip otherwise."""
    if shutil.which("redis-server") is None:
        msg = "redis-server not found: install Debian's redis-server package (`make test` does)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + "; CI=true, so the Redis backend may not be skipped", pytrace=False)
        pytest.skip(msg)
    srv = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield srv
    srv.stop()


@pytest.fixture
def redis_url(redis_server):
    """The URL of an empty Redis database (FLUSHDB before each test)."""
    import redis
    client = redis.Redis.from_url(redis_server.url)
    try:
        client.flushdb()
    finally:
        client.close()
    return redis_server.url


@pytest.fixture
def room_id(storage):
    """A room (with its therapist) straight in storage, for engine-level tests."""
    th = storage.create_therapist("kim@example.org", "Dr. Kim", "not-a-real-hash")
    return storage.create_room(th["id"], "Sam, 7", dict(DEFAULT_SETTINGS))["id"]


@pytest.fixture
def app_config():
    """Extra config for `app`; override in a module or with parametrize."""
    return {}


@pytest.fixture
def app(tmp_path, app_config):
    app = create_app({
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "ASYNC_MODE": "threading",
        "WTF_CSRF_ENABLED": True,        # kept on: tests fetch tokens from the forms
        "TESTING": True,                 # a server error raises in the test instead of a 500
        "ASSETS_ROOT": ROOT,
        "OPEN_SIGNUP": True,             # tests register through /register (AUTH10 tests close it)
        **app_config,
    })
    yield app
    app.extensions["playroom"].storage.close()


@pytest.fixture
def pr(app):
    """The app's services (storage, engine, registry, hub)."""
    return app.extensions["playroom"]


@pytest.fixture
def client(app):
    return app.test_client()


# ----------------------------------------------------------------- acting like a person

def _post_form(client, page, action, data, **kw):
    """Open `page` for its CSRF token, then POST `data` to `action`."""
    page_resp = client.get(page)
    token = csrf(page_resp.get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data}, **kw)


@pytest.fixture
def post_form():
    return _post_form


@pytest.fixture
def register():
    """register(client, email, password=..., name=...) -> the POST response."""
    def do(client, email, password=PASSWORD, name="Dr. Kim", confirm=None):
        return _post_form(client, "/register", "/register",
                          {"name": name, "email": email, "password": password,
                           "confirm": password if confirm is None else confirm})
    return do


@pytest.fixture
def make_therapist(app, register, pr):
    """A new browser with a freshly registered, signed-in therapist. The client gets
    `.email`, `.therapist_id` and `.participant` (their identity inside rooms)."""
    def make(email=None, name="Dr. Kim"):
        c = app.test_client()
        email = email or f"therapist{next(_emails)}@example.org"
        r = register(c, email, name=name)
        assert r.status_code == 302 and r.location.endswith("/dashboard"), r.status_code
        rec = pr.storage.get_therapist_by_email(email)
        c.email, c.therapist_id = email, rec["id"]
        c.participant = {"id": f"th-{rec['id']}", "role": "therapist"}
        return c
    return make


@pytest.fixture
def therapist(make_therapist):
    return make_therapist()


# ----------------------------------------------------------------- the dashboard

LINK_RE = re.compile(r'value="([^"]+/j/[^"]+)" data-link="(\w+)"')
QR_RE = re.compile(r'<img class="qr" src="([^"]+)"')


@dataclass
class Dashboard:
    """The dashboard as a person reads it: one section per room, newest first."""
    html: str
    sections: dict = field(default_factory=dict)   # room id -> section html

    @classmethod
    def parse(cls, html):
        sections = {}
        for part in html.split('data-room="')[1:]:
            room_id, rest = part.split('"', 1)
            sections[room_id] = rest
        return cls(html, sections)

    def links(self, room_id):
        """{role: url} of the links shown (only right after they are made)."""
        return {role: url for url, role in LINK_RE.findall(self.sections[room_id])}

    def qr_codes(self, room_id):
        return QR_RE.findall(self.sections[room_id])


@pytest.fixture
def read_dashboard():
    def read(client):
        r = client.get("/dashboard")
        assert r.status_code == 200, r.status_code
        return Dashboard.parse(r.get_data(as_text=True))
    return read


@dataclass
class Room:
    id: str
    links: dict          # role -> full invite URL (shown once)
    dashboard: Dashboard  # the dashboard load that showed them


@pytest.fixture
def create_room(read_dashboard):
    """create_room(client, name) -> Room, through the dashboard form."""
    def create(client, name="Sam, 7"):
        r = _post_form(client, "/dashboard", "/rooms", {"name": name})
        assert r.status_code == 302 and "#room-" in r.location, (r.status_code, r.location)
        room_id = r.location.rsplit("#room-", 1)[1]
        board = read_dashboard(client)
        return Room(room_id, board.links(room_id), board)
    return create


@pytest.fixture
def room(therapist, create_room):
    return create_room(therapist)


def link_path(link):
    return urlsplit(link).path


@pytest.fixture
def join():
    """join(client, link, name=..., avatar=..., **more fields) -> the POST response of
    the join form."""
    def do(client, link, name="Sam", avatar="fox", **more):
        path = link_path(link)
        return _post_form(client, path, path, {"name": name, "avatar": avatar, **more})
    return do


@pytest.fixture
def make_guest(app, join):
    """A new browser that opened `link` and pressed "Let's play". The client gets
    `.room_id` and `.participant_id`."""
    def make(link, name="Sam", avatar="fox"):
        c = app.test_client()
        r = join(c, link, name=name, avatar=avatar)
        assert r.status_code == 302 and "/room/" in r.location, (r.status_code, r.location)
        c.room_id = r.location.rsplit("/room/", 1)[1]
        with c.session_transaction() as s:
            c.participant_id = s["guests"][c.room_id]
        return c
    return make
