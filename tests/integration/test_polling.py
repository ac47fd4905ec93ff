"""WIRE2 over HTTP long-polling: a request the server cannot serve is answered at
once with 400 Bad Request — never left hanging, never a traceback.

The long fuzz run (tests/hostile) found both: an Engine.IO packet of a type no
client sends (NOOP `6`, PING `2`, OPEN `0`, an unknown digit) in a POST closed the
session through python-engineio's `disconnect`, which waits for a GET to carry the
session's queue away; none came, so the POST never got an answer (a request task or,
in threading mode, an OS thread held for good per such POST). And a request for a
session the server had just closed, but not yet forgotten (a flooder sent away,
RATE3), raised `KeyError: 'Session is disconnected'` out of python-engineio: a
traceback in the log and an HTTP 500.
"""
import json

import pytest
import requests

from tests.support import ServerProcess

from .conftest import Room, assert_no_crash_in_log, full_log

MODES = ["gevent", "eventlet", "threading"]
SEP = "\x1e"            # packets in one long-polling body (Engine.IO v4)
ANSWER = 10             # seconds a request may take before we call it hanging


class Polling:
    """A bare long-polling Engine.IO session, one request at a time: nothing is
    fetched unless the test asks (so the server's view of the session only changes
    by what the test sends)."""

    def __init__(self, base, cookie=None):
        self.base = base
        self.http = requests.Session()
        if cookie:
            self.http.headers["Cookie"] = cookie
        opened = self.http.get(self.url(), timeout=ANSWER)
        assert opened.status_code == 200, opened.text
        self.sid = json.loads(opened.text.split(SEP)[0][1:])["sid"]

    def url(self):
        sid = f"&sid={self.sid}" if getattr(self, "sid", None) else ""
        return f"{self.base}/socket.io/?EIO=4&transport=polling{sid}"

    def post(self, *packets):
        return self.http.post(self.url(), data=SEP.join(packets).encode(), timeout=ANSWER)

    def get(self):
        return self.http.get(self.url(), timeout=ANSWER)

    def close(self):
        self.http.close()


@pytest.fixture(params=MODES)
def mode_server(request, tmp_path):
    if request.param != "threading":
        pytest.importorskip(request.param)
    srv = ServerProcess(tmp_path, mode=request.param).start()
    yield srv
    srv.stop()
    assert_no_crash_in_log(srv)


@pytest.mark.parametrize("packet", ["6", "2", "0", "9"], ids=["noop", "ping", "open", "unknown"])
def test_WIRE2_a_packet_type_no_client_sends_gets_400_at_once_over_long_polling(server, packet):
    before = len(full_log(server))
    p = Polling(server.url)
    try:
        r = p.post(packet)            # hung for good before: requests raised ReadTimeout
        assert r.status_code == 400, r.text
        assert p.get().status_code == 400          # the session is over
    finally:
        p.close()
    grown = full_log(server)[before:]
    assert "Traceback" not in grown, grown[:3000]


def test_WIRE2_a_packet_type_no_client_sends_leaves_other_polling_sessions_alone(server):
    """Closing the offender's session is all it does."""
    other = Polling(server.url)
    bad = Polling(server.url)
    try:
        assert bad.post("6").status_code == 400
        assert other.post("3").status_code == 200      # a PONG nobody asked for: harmless
    finally:
        bad.close()
        other.close()


def test_WIRE2_requests_for_a_session_just_closed_get_400_without_a_traceback(mode_server):
    """A socket sent away for flooding (RATE3) is closed but still known to
    python-engineio until its next GET or its sweep: a POST (and a GET) for it
    then is a plain bad request in every mode."""
    room = Room(mode_server)
    p = Polling(mode_server.url, room.actions("child").cookie_header())
    try:
        assert p.post('40{"v":1,"room":"%s"}' % room.id).status_code == 200
        assert '40{"sid"' in p.get().text
        # Refused events past the allowance (RATE3), at most 16 packets a body: the
        # first POST after the one that got the socket sent away finds it closed.
        answers = [p.post(*['42["no such event"]'] * 15) for _ in range(30)]
        codes = [r.status_code for r in answers]
        assert set(codes) <= {200, 400}, codes           # (500 and a traceback before)
        first = codes.index(400) if 400 in codes else 0
        assert first > 0 and 200 not in codes[first:], codes
        assert p.get().status_code == 400
    finally:
        p.close()
    text = full_log(mode_server)
    assert "flooding (RATE3)" in text, text[-2000:]   # (the close this test is about)
    assert "Traceback" not in text, text[text.find("Traceback") - 300:][:3000]
