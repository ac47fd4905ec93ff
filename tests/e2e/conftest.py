"""Browser fixtures: Debian's chromium driven by Playwright's sync API.

pytest-playwright cannot point at a system browser, so the browser is a plain
session fixture. Never `playwright install`: the browser comes from apt.
"""
import os
import shutil

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.people import Person, child_joins, therapist_creates_room
from tests.support import DEFAULT_MODE, ROOT, ServerProcess

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = os.path.join(ROOT, "test-artifacts")


def chromium_path():
    path = shutil.which("chromium") or "/usr/bin/chromium"
    assert os.path.exists(path), "Debian's chromium is required: `make test` installs it"
    return path


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def server(tmp_path):
    srv = ServerProcess(tmp_path, mode=DEFAULT_MODE).start()
    yield srv
    srv.stop()


@pytest.fixture
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def session_for(browser, server):
    """A therapist (desktop) and a child on a tablet of the given viewport, both in
    the therapist's new room. Yields (therapist, child)."""
    people = []

    def make(child_viewport):
        t = Person(browser, server.url, viewport={"width": 1366, "height": 768})
        c = Person(browser, server.url, viewport=child_viewport, has_touch=True)
        people.extend((t, c))
        child_joins(c, therapist_creates_room(t))
        t.page.click('[data-action="open-room"]')
        t.wait_connected()
        return t, c

    yield make
    for p in people:
        p.close()
