"""rooms/transport/tuning.py: one ping task per server instead of one per socket; and
rooms/web.room_modules, the room page's module preload list."""
import logging

import pytest

from engineio import packet as eio_packet
from engineio import socket as eio_socket

from rooms.transport import tuning as transport
from rooms.web.pages import room_modules


class FakeServer:
    ping_interval = 10
    ping_timeout = 5
    logger = logging.getLogger("test")

    def __init__(self):
        self.tasks = []

    def start_background_task(self, fn):
        self.tasks.append(fn)
        return object()


class FakeSocket:
    def __init__(self, closed=False, clock=lambda: None):
        self.clock = clock
        self.closing = False
        self.closed = closed
        self.last_ping = 1.0
        self.sent = []
        self.checked = []             # clock times of engine.io's ping-timeout check

    def send(self, pkt):
        self.sent.append(pkt.packet_type)

    def check_ping_timeout(self):
        self.checked.append(self.clock())


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_ping_is_sent_once_its_interval_has_passed():
    srv, clock = FakeServer(), Clock()
    p = transport.SharedPinger(srv, clock=clock)
    a, b = FakeSocket(), FakeSocket()
    p.schedule(a)
    clock.now += 4
    p.schedule(b)
    assert len(srv.tasks) == 1                      # one task for every socket
    clock.now += 5.9
    assert p.send_due() == 0 and a.sent == [] and b.sent == []
    clock.now += 0.2                                 # a: 10.1 s after scheduling
    assert p.send_due() == 1
    assert a.sent == [eio_packet.PING] and b.sent == []
    assert a.last_ping is not None
    clock.now += 4
    assert p.send_due() == 1 and b.sent == [eio_packet.PING]
    clock.now += 60
    assert p.send_due() == 0                         # each schedule gives one ping
    assert a.sent == [eio_packet.PING]


def test_closed_socket_gets_no_ping_and_is_forgotten():
    srv, clock = FakeServer(), Clock()
    p = transport.SharedPinger(srv, clock=clock)
    s = FakeSocket()
    p.schedule(s)
    s.closed = True
    clock.now += 11
    assert p.send_due() == 0 and s.sent == []
    assert p.due == {}


def test_engineio_sockets_schedule_on_the_shared_pinger(monkeypatch):
    # (monkeypatch puts engine.io's own schedule_ping back after the test)
    monkeypatch.setattr(eio_socket.Socket, "schedule_ping", eio_socket.Socket.schedule_ping)
    transport.share_pings()
    transport.share_pings()                          # idempotent
    srv = FakeServer()
    sock = eio_socket.Socket.__new__(eio_socket.Socket)
    sock.server = srv
    sock.last_ping = 5.0                             # the last ping was answered
    sock.schedule_ping()
    assert sock.last_ping is None
    pinger = srv.__dict__["_playroom_pinger"]
    assert list(pinger.due) == [sock] and len(srv.tasks) == 1
    sock.schedule_ping()                             # not answered yet: nothing new
    assert len(pinger.due) == 1


def test_room_modules_follow_every_import(tmp_path):
    (tmp_path / "canvas").mkdir()
    (tmp_path / "canvas" / "main.js").write_text(
        'import {a} from "./a.js";\nimport {\n  b,\n  c,\n} from "./sub/b.js";\nimport "./side.js";\n')
    (tmp_path / "canvas" / "a.js").write_text('import {x} from "vendor-lib";\nexport const a = 1;\n')
    (tmp_path / "canvas" / "sub").mkdir()
    (tmp_path / "canvas" / "sub" / "b.js").write_text('export {a} from "../a.js";\n')
    (tmp_path / "canvas" / "side.js").write_text("// import nothing\n")
    found = room_modules(str(tmp_path), entry="canvas/main.js")
    assert found[0] == "canvas/main.js"
    assert sorted(found) == ["canvas/a.js", "canvas/main.js", "canvas/side.js", "canvas/sub/b.js",
                             "vendor-lib"]


class Stop(BaseException):
    """Ends SharedPinger's endless loop in a test (not an Exception: the loop logs
    and survives those)."""


def test_ping_leaves_when_due_not_a_tick_later():
    # engine.io sends a ping `ping_interval` after the last pong; the shared task
    # must too (the protocol suites' 300 ms interval + 200 ms timeout close a
    # session at 500 ms, tests/conformance): not at its next 0.1 s tick.
    srv, clock = FakeServer(), Clock()
    sent_at = []

    def sleep(seconds):
        if len(sent_at) == 1 or clock.now > 120:
            raise Stop
        clock.now += seconds
    srv.sleep = sleep
    p = transport.SharedPinger(srv, tick=0.1, clock=clock)
    s = FakeSocket()
    s.send = lambda pkt: sent_at.append(clock.now)
    clock.now += 0.05                               # scheduled between two ticks
    p.schedule(s)
    try:
        p._run()
    except Stop:
        pass
    assert len(sent_at) == 1 and abs(sent_at[0] - (100.05 + srv.ping_interval)) < 1e-6


def test_unanswered_ping_closes_the_socket_at_its_timeout():
    # engine.io's service task checks each socket only every ping_timeout, so a
    # dead session lived on up to that much longer (the suites' polling ping-timeout
    # tests ask at exactly interval + timeout). An answer in time keeps it open.
    srv, clock = FakeServer(), Clock()
    p = transport.SharedPinger(srv, clock=clock)
    silent, answering = FakeSocket(clock=clock), FakeSocket(clock=clock)
    p.schedule(silent)
    p.schedule(answering)
    clock.now += srv.ping_interval
    assert p.send_due() == 2
    assert p.wait() == p.tick                        # (next look within a tick)
    clock.now += 1
    p.send_due()
    p.schedule(answering)                            # its PONG came
    clock.now += srv.ping_timeout - 1
    assert 0 < p.wait() <= 0.0011                    # wakes for the timeout itself
    clock.now += p.wait()
    p.send_due()
    assert silent.checked == [pytest.approx(100 + srv.ping_interval + srv.ping_timeout, abs=0.002)]
    assert answering.checked == []
