"""RATE3 / RATE4 / RATE5: budgets per participant and per connection. Every event
counts, dropped ones too; a socket's queues in and out are bounded; one person
gets a bounded number of sockets and knocks. The hostile clients here are raw
WebSocket clients that do what a browser never does: flood, and never read."""
import json
import socket
import threading

import pytest
import websocket

from activities.contract.protocol import E_RATE, LIMITS, PROTOCOL_VERSION
from tests.support import SocketUser, stroke, wait_for

from .conftest import Room, assert_alive, connect_error, new_id, send_op, wait_op

TABS = 8            # sockets one participant may have open (RATE5)


class RawSocket:
    """A Socket.IO client without manners, over a bare WebSocket (a local helper:
    another suite has its own). It connects as the person of `actions`, then sends
    whatever it is told and reads only when asked."""

    def __init__(self, actions, room_id, rcvbuf=None):
        url = actions.base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        opts = ((socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf),) if rcvbuf else ()
        self.ws = websocket.create_connection(url, header=[f"Cookie: {actions.cookie_header()}"],
                                              sockopt=opts, timeout=10)
        assert self.ws.recv().startswith("0{")          # Engine.IO open
        self.ws.send("40" + json.dumps({"v": PROTOCOL_VERSION, "room": room_id}))
        answer = self.ws.recv()
        assert answer.startswith("40{"), answer          # Socket.IO connect accepted

    def frames(self, text, n):
        """`n` copies of one masked WebSocket frame carrying `text`, as one buffer."""
        return websocket.ABNF.create_frame(text, websocket.ABNF.OPCODE_TEXT).format() * n

    def flood(self, text, total, batch=500):
        """Send `text` `total` times as fast as the socket takes it. Returns how
        many went out before the server closed the connection (or `total`)."""
        chunk = self.frames(text, batch)
        self.ws.sock.settimeout(10)
        sent = 0
        while sent < total:
            try:
                self.ws.sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                return sent
            sent += batch
        return sent

    def drain(self, quiet=3.0, limit=256 * 1024 * 1024):
        """Read what the server sent until it closes the connection: returns
        (bytes read, closed). `closed` is False when nothing came for `quiet`
        seconds while the connection stayed open."""
        self.ws.sock.settimeout(quiet)
        got = 0
        while got < limit:
            try:
                data = self.ws.sock.recv(1 << 20)
            except socket.timeout:
                return got, False
            except (ConnectionResetError, OSError):
                return got, True
            if not data:
                return got, True
            got += len(data)
        return got, False

    def close(self):
        try:
            self.ws.sock.close()
        except Exception:
            pass


def rss_kib(srv):
    with open(f"/proc/{srv.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture
def raw_sockets():
    opened = []

    def open_(*args, **kw):
        s = RawSocket(*args, **kw)
        opened.append(s)
        return s
    yield open_
    for s in opened:
        s.close()


def test_RATE3_clock_flood_without_reading_is_cut_off_and_other_rooms_go_on(
        server, room, room_factory, raw_sockets):
    other = room_factory(server)
    therapist = other.user("therapist")
    child = other.user("child")
    before = rss_kib(server)
    flooder = raw_sockets(room.child, room.id)
    total = 200_000
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("sent", flooder.flood('421["clock",{}]', total)))
    t.start()
    try:
        # Meanwhile another room is served as usual.
        ack = send_op(therapist, "stroke", stroke(sid="other-room"), op_id="other-room")
        assert ack["ok"], ack
        wait_op(child, "other-room")
    finally:
        t.join(120)
    got, closed = flooder.drain()
    assert closed, f"the flooding socket was never closed ({result['sent']} sent, {got} bytes back)"
    assert rss_kib(server) - before < 64 * 1024, "the flood took the server's memory"
    assert send_op(therapist, "stroke", stroke(sid="after-flood"), op_id="after-flood")["ok"]
    assert_alive(server)


def test_RATE3_signal_flood_far_past_the_limit_gets_bye(room, trio):
    therapist, child, parent = trio
    for k in range(1000):
        child.sio.emit("eph", {"a": "canvas", "k": "cursor", "page": "p1", "x": k % 1600, "y": 1})
    bye = wait_for(lambda: child.received("bye"), timeout=30, what="bye")[0]
    assert bye["code"] == E_RATE and bye["reason"]
    wait_for(lambda: not child.sio.connected, what="flooder disconnected")
    assert therapist.sio.connected and parent.sio.connected
    assert therapist.received("bye") == parent.received("bye") == []
    marker = new_id("m-")
    assert send_op(therapist, "stroke", stroke(sid=marker), op_id=marker)["ok"]
    wait_op(parent, marker)


def test_RATE3_events_before_sync_count_too(room):
    early = room.user("child", sync=False)
    for k in range(600):
        early.sio.emit("eph", {"a": "canvas", "k": "cursor", "page": "p1", "x": 1, "y": 1})
    bye = wait_for(lambda: early.received("bye"), timeout=30, what="bye")[0]
    assert bye["code"] == E_RATE
    wait_for(lambda: not early.sio.connected, what="flooder disconnected")


def test_RATE3_the_therapists_control_gets_through_after_an_op_burst(room, trio):
    therapist, child, parent = trio
    acks, n = {}, LIMITS["op_burst"] + 40
    for k in range(n):
        therapist.sio.emit("op", {"op_id": f"b{k}", "a": "canvas", "t": "stroke", "d": stroke(sid=f"b{k}")},
                           callback=lambda ack, k=k: acks.__setitem__(k, ack))
    # Right behind the burst on the same socket (handled in order): the op
    # allowance is spent when the freeze arrives.
    therapist.sio.emit("control", {"op_id": "freeze", "action": "settings", "changes": {"freeze": True}},
                       callback=lambda ack: acks.__setitem__("freeze", ack))
    wait_for(lambda: len(acks) == n + 1, what="acks of the burst and the freeze")
    assert acks[n - 1].get("code") == E_RATE, "the op allowance was not spent"
    assert acks["freeze"]["ok"], acks["freeze"]
    assert child.op("stroke", stroke(sid="frozen"))["code"] == "frozen"


def _big_stroke(sid):
    """A stroke of 1500 points whose numbers are long (~69 KB as JSON)."""
    pts = []
    for i in range(1500):
        pts += [100.123456789 + i * 0.987654321, 200.123456789 + (i % 700) * 0.987654321, 0.123456789]
    return {"page": "p1", "id": sid, "tool": "pen", "color": "#e53935", "size": 8, "pts": pts}


def test_RATE4_a_socket_that_does_not_read_a_busy_room_is_cut_off(server, room, raw_sockets):
    therapist = room.user("therapist")
    strokes = 30                                        # a page of about 2 MB
    for k in range(strokes):
        assert send_op(therapist, "stroke", _big_stroke(f"big{k}"))["ok"]
    # The parent's tablet joins, then stops reading (a tiny receive window).
    reader = raw_sockets(room.parent, room.id, rcvbuf=4096)
    reader.ws.send('420["sync",{"since":-1}]')
    # The therapist clears the page and undoes it, again and again: each undo is
    # a broadcast of the whole page to everyone in the room.
    rounds = 8
    for k in range(rounds):
        assert send_op(therapist, "clear", {"page": "p1"}, op_id=f"clear{k}")["ok"]
        ack = therapist.call("history", {"op_id": f"undo{k}", "a": "canvas", "action": "undo"})
        assert ack["ok"], ack
    # What the reader finds: at most the cap (and TCP's buffers), then the end.
    got, closed = reader.drain()
    assert closed, f"the non-reading socket stayed open ({got} bytes waiting for it)"
    assert got < (rounds + 1) * 2_000_000, "everything was queued for the non-reader"
    # The therapist got every broadcast, and the room goes on.
    wait_op(therapist, f"undo{rounds - 1}", timeout=30)
    assert len(room.item_ids()) == strokes
    assert_alive(server)


def test_RATE5_a_ninth_socket_of_one_person_is_refused(room):
    tabs = [room.user("child", sync=False) for _ in range(TABS)]
    assert all(t.sio.connected for t in tabs)
    assert connect_error(room.child, room.id) == E_RATE
    # Not a ban: one tab closes, another may open.
    tabs[0].close()
    wait_for(lambda: _can_connect(room), what="a socket once a tab closed")


def test_RATE5_a_therapist_with_full_tabs_in_one_room_still_opens_another_room(room):
    """Sockets are counted per person and room: the therapist is one participant in
    every room of theirs (bench/'s relay, one therapist in 20 rooms, was refused)."""
    tabs = [room.user("therapist", sync=False) for _ in range(TABS)]
    assert all(t.sio.connected for t in tabs)
    assert connect_error(room.therapist, room.id) == E_RATE
    other_id, _ = room.therapist.create_room(name="Robin, 6")
    other = SocketUser(room.therapist, other_id)
    room.users.append(other)
    other.connect()
    assert other.sio.connected


def _can_connect(room):
    u = SocketUser(room.child, room.id)
    try:
        u.connect(sync=False)
        return True
    except Exception:
        return False
    finally:
        room.users.append(u)


def test_RATE5_fifty_waiting_sockets_knock_only_a_few_times(server):
    wroom = Room(server, waiting_room=True)
    try:
        therapist = wroom.user("therapist")
        answers = []
        for _ in range(50):
            u = SocketUser(wroom.child, wroom.id)
            wroom.users.append(u)
            try:
                u.connect(sync=False)
            except Exception:
                continue                # past the sockets of one person (RATE5)
            answers.append(u.call("sync", {"since": -1}))
        assert answers and all(a["code"] == "waiting" for a in answers)
        # Knocks were sent before each answer; a round trip of the therapist's
        # socket after the last one has every knock in front of it.
        therapist.call("clock", {})
        knocks = therapist.received("lobby")
        assert 1 <= len(knocks) <= 2, f"{len(knocks)} knocks"
    finally:
        wroom.close()
