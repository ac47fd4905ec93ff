"""FRAME1 (issue 18 part 1): an emit's WebSocket frame is built once and the same bytes
are written to every recipient's WebSocket, by that socket's own writer, in its order
with the socket's other packets; a long-polling socket in the same room gets the same
packets the library's way. Checked on the wire in every async mode: a bare WebSocket
client sees the exact frame bytes, a bare long-polling client the exact packet text the
normal path produces, python-socketio clients decode what they receive."""
import base64
import json
import os
import socket
import threading
import time

import pytest
import requests
from socketio import packet as sio_packet
from wsproto.frame_protocol import FrameProtocol

from activities.contract.protocol import PROTOCOL_VERSION
from tests.support import ServerProcess, stroke, wait_for

from .conftest import Room, assert_no_crash_in_log, new_id, wait_op

MODES = ["gevent", "eventlet", "threading"]
SEP = "\x1e"


def masked(text):
    """A masked client text frame (RFC 6455) of any length."""
    data = text.encode()
    n = len(data)
    if n <= 125:
        head = bytes([0x81, 0x80 | n])
    elif n <= 0xFFFF:
        head = bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x81, 0x80 | 127]) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def plain_frame(text):
    """What the library path (wsproto, as simple-websocket uses it) writes for a server's
    text message: the reference the shared frame must equal byte for byte."""
    return bytes(FrameProtocol(client=False, extensions=[]).send_data(text, True))


class RawSocketIO:
    """A Socket.IO client over a bare WebSocket that keeps every frame's exact bytes."""

    def __init__(self, base, cookie, room_id):
        host, port = base.split("//")[1].split(":")
        key = base64.b64encode(os.urandom(16)).decode()
        self.s = socket.create_connection((host, int(port)), timeout=20)
        self.s.sendall((f"GET /socket.io/?EIO=4&transport=websocket&room={room_id} HTTP/1.1\r\n"
                        f"Host: {host}:{port}\r\nCookie: {cookie}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.s.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        self.frames = []            # (raw bytes, text), in arrival order
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        wait_for(lambda: self.texts("0{"), what="engine.io OPEN")
        self.send("40" + json.dumps({"v": PROTOCOL_VERSION, "room": room_id}))
        wait_for(lambda: self.texts("40{"), what="socket.io CONNECT")
        self.send('420["sync",{"since":-1}]')
        wait_for(lambda: self.texts("430["), what="sync ack")

    def send(self, text):
        self.s.sendall(masked(text))

    def _recv(self, n):
        data = b""
        while len(data) < n:
            chunk = self.s.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _read(self):
        try:
            while True:
                head = self._recv(2)
                n = head[1] & 127
                ext = b""
                if n == 126:
                    ext = self._recv(2)
                    n = int.from_bytes(ext, "big")
                elif n == 127:
                    ext = self._recv(8)
                    n = int.from_bytes(ext, "big")
                body = self._recv(n)
                text = body.decode() if head[0] & 0x0F == 1 else None
                with self.lock:
                    self.frames.append((head + ext + body, text))
                if text == "2":
                    self.send("3")
                if head[0] & 0x0F == 8:
                    return
        except (OSError, EOFError):
            return

    def texts(self, prefix):
        with self.lock:
            return [(raw, t) for raw, t in self.frames if t is not None and t.startswith(prefix)]

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class RawPolling:
    """A Socket.IO client over bare long-polling: every packet text exactly as sent."""

    def __init__(self, base, cookie, room_id):
        self.http = requests.Session()
        self.http.headers["Cookie"] = cookie
        self.base = f"{base}/socket.io/?EIO=4&transport=polling&room={room_id}"
        opened = self.http.get(self.base, timeout=20)
        self.sid = json.loads(opened.text.split(SEP)[0][1:])["sid"]
        self.packets = []
        self.lock = threading.Lock()
        self.stop = False
        self.post("40" + json.dumps({"v": PROTOCOL_VERSION, "room": room_id}))
        self.poller = threading.Thread(target=self._poll, daemon=True)
        self.poller.start()
        wait_for(lambda: self.texts("40{"), what="socket.io CONNECT (polling)")
        self.post('420["sync",{"since":-1}]')
        wait_for(lambda: self.texts("430["), what="sync ack (polling)")

    def url(self):
        return f"{self.base}&sid={self.sid}"

    def post(self, *packets):
        r = self.http.post(self.url(), data=SEP.join(packets).encode(), timeout=20)
        assert r.status_code == 200, r.text

    def _poll(self):
        while not self.stop:
            try:
                r = self.http.get(self.url(), timeout=30)
            except requests.RequestException:
                return
            if r.status_code != 200:
                return
            got = r.text.split(SEP)
            with self.lock:
                self.packets += got
            if "2" in got:
                self.post("3")

    def texts(self, prefix):
        with self.lock:
            return [t for t in self.packets if t.startswith(prefix)]

    def close(self):
        self.stop = True
        try:
            self.post("1")
        except Exception:
            pass
        self.http.close()


@pytest.fixture(scope="module", params=MODES)
def mode_server(request, tmp_path_factory):
    if request.param != "threading":
        pytest.importorskip(request.param)
    srv = ServerProcess(tmp_path_factory.mktemp(f"frames-{request.param}"), mode=request.param).start()
    yield srv
    srv.stop()
    assert_no_crash_in_log(srv)


def normal_text(event, data):
    """The Engine.IO text python-socketio's normal path builds for an emit of `data`."""
    return "4" + sio_packet.Packet(sio_packet.EVENT, namespace="/", data=[event, data]).encode()


def test_FRAME1_every_recipient_gets_the_bytes_of_a_normal_emit(mode_server):
    room = Room(mode_server)
    raw = poll = None
    try:
        cookie = room.therapist.cookie_header()
        raw = RawSocketIO(mode_server.url, cookie, room.id)
        poll = RawPolling(mode_server.url, cookie, room.id)
        parent = room.user("parent")
        parent_poll = room.user("parent", transports=("polling",))
        child = room.user("child")
        sid = new_id()
        # An op (durable broadcast, hub.broadcast) and a stroke preview (the ephemeral
        # relay, skip_sid: everybody but the child).
        op_id = new_id("op-")
        ack = child.op("stroke", stroke(sid=sid), op_id=op_id)
        assert ack["ok"], ack
        preview = {"a": "canvas", "k": "cursor", "page": "p1", "x": 10, "y": 40}
        child.sio.emit("eph", preview)

        wait_for(lambda: [t for _, t in raw.texts('42["op",') if op_id in t], what="op on the bare WebSocket")
        wait_for(lambda: [t for t in poll.texts('42["op",') if op_id in t], what="op on bare polling")
        wait_for(lambda: raw.texts('42["eph",'), what="eph on the bare WebSocket")
        wait_for(lambda: poll.texts('42["eph",'), what="eph on bare polling")
        for user in (parent, parent_poll):
            wait_op(user, op_id)
            wait_for(lambda: user.received("eph"), what="eph to python-socketio")
        for event, key in (("op", op_id), ("eph", '"cursor"')):
            (frame, text), = [(b, t) for b, t in raw.texts(f'42["{event}",') if key in t]
            polled, = [t for t in poll.texts(f'42["{event}",') if key in t]
            # The exact bytes: the WebSocket frame the library would write of the very
            # text the long-polling client got the library's way.
            assert text == polled
            assert frame == plain_frame(polled)
            # Decoded by python-socketio (WebSocket and polling), it is the same event,
            # and re-encoded the normal way it is the same text.
            decoded = json.loads(text[2:])[1]
            if event == "op":
                got = [o for o in parent.received("op") if o.get("op_id") == op_id]
                got_poll = [o for o in parent_poll.received("op") if o.get("op_id") == op_id]
            else:
                got = [e for e in parent.received("eph") if e == decoded]
                got_poll = [e for e in parent_poll.received("eph") if e == decoded]
            assert got == [decoded] and got_poll == [decoded], (event, got, got_poll, decoded)
            assert text == normal_text(event, decoded)
        # skip_sid: the sender does not get its own preview.
        time.sleep(0.3)
        assert child.received("eph") == []
    finally:
        for c in (raw, poll):
            if c is not None:
                c.close()
        room.close()


def test_FRAME1_large_broadcast_frames_keep_their_length_encoding(mode_server):
    """Frames over 125 bytes (the 16-bit length form; a broadcast cannot reach the
    64-bit form, an op being far smaller: that one is in tests/unit/transport)."""
    room = Room(mode_server)
    raw = None
    try:
        raw = RawSocketIO(mode_server.url, room.therapist.cookie_header(), room.id)
        child = room.user("child")
        for n in (60, 250):
            op_id = new_id("op-")
            ack = child.op("stroke", stroke(sid=new_id(), n=n), op_id=op_id)
            assert ack["ok"], ack
            wait_for(lambda: [t for _, t in raw.texts('42["op",') if op_id in t], what=f"op of {n} points")
            (frame, text), = [(b, t) for b, t in raw.texts('42["op",') if op_id in t]
            assert frame == plain_frame(text)
            assert len(text.encode()) > 125, len(text)
    finally:
        if raw is not None:
            raw.close()
        room.close()


def test_FRAME1_order_kept_with_own_acks_and_errors_under_concurrent_emits(mode_server):
    """Two people draw at once without waiting for acks, one of them also sends
    refused ops: each socket gets the broadcasts in seq order with no gap, and each ack
    of its own op after that op's broadcast (the server broadcasts, then acks)."""
    room = Room(mode_server)
    try:
        a, b = room.user("child"), room.user("therapist")
        watcher = room.user("parent")
        for u in (a, b):
            def ack_of(op_id, u=u):
                def got(ack):
                    with u.lock:
                        u.events.append(("ack", ack | {"_op_id": op_id}))
                return got
            u.ack_of = ack_of
        n = 25

        def draw(u, bad):
            for i in range(n):
                op_id = new_id("op-")
                u.sio.emit("op", {"op_id": op_id, "a": "canvas", "t": "stroke",
                                  "d": stroke(sid=new_id(), n=5)}, callback=u.ack_of(op_id))
                if bad:
                    u.sio.emit("op", {"op_id": new_id("op-"), "a": "canvas", "t": "no-such-type",
                                      "d": {}}, callback=u.ack_of("bad"))
                time.sleep(0.01)
        threads = [threading.Thread(target=draw, args=(a, True)), threading.Thread(target=draw, args=(b, False))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)

        def acks(u):
            with u.lock:
                return [d for e, d in u.events if e == "ack"]
        for u in (a, b):
            wait_for(lambda: len(acks(u)) >= (2 * n if u is a else n), timeout=60, what="every ack")
        total = sum(1 for x in acks(a) + acks(b) if x.get("ok"))
        for u in (a, b, watcher):
            wait_for(lambda: len(u.received("op")) >= total, timeout=60, what="every broadcast")
            with u.lock:
                events = list(u.events)
            seqs = [d["seq"] for e, d in events if e == "op"]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
            position = {d["op_id"]: i for i, (e, d) in enumerate(events) if e == "op"}
            for i, (e, d) in enumerate(events):
                if e == "ack" and d.get("ok"):
                    assert position[d["_op_id"]] < i, (d, "ack overtook its broadcast")
        assert [e for e, _ in a.events].count("error") + sum(1 for x in acks(a) if not x.get("ok")) >= n
    finally:
        room.close()


def test_FRAME1_switch_off_for_the_benchmark_still_relays(tmp_path):
    """PLAYROOM_SHARED_FRAMES=0 (bench/ A/B only) runs the library's path."""
    srv = ServerProcess(tmp_path, env={"PLAYROOM_SHARED_FRAMES": "0"}).start()
    room = None
    try:
        room = Room(srv)
        raw = RawSocketIO(srv.url, room.therapist.cookie_header(), room.id)
        child = room.user("child")
        op_id = new_id("op-")
        assert child.op("stroke", stroke(sid=new_id()), op_id=op_id)["ok"]
        wait_for(lambda: [t for _, t in raw.texts('42["op",') if op_id in t], what="op")
        (frame, text), = [(b, t) for b, t in raw.texts('42["op",') if op_id in t]
        assert frame == plain_frame(text)
        raw.close()
    finally:
        if room:
            room.close()
        srv.stop()
    assert_no_crash_in_log(srv)



def test_FRAME1_a_socket_upgrading_mid_stream_misses_nothing(mode_server):
    """A python-socketio client that starts on long-polling and upgrades to WebSocket
    while ops are broadcast: the packets queued during the upgrade leave the library's
    way or as shared frames, in order, with no gap and no repeat."""
    room = Room(mode_server)
    try:
        child = room.user("child")
        stop = threading.Event()
        sent = []

        def draw():
            while not stop.is_set() and len(sent) < 60:
                ack = child.op("stroke", stroke(sid=new_id(), n=5))
                if ack.get("ok"):
                    sent.append(ack["seq"])
                time.sleep(0.02)
        t = threading.Thread(target=draw)
        t.start()
        time.sleep(0.2)
        upgrader = room.user("parent", transports=("polling", "websocket"))
        wait_for(lambda: upgrader.sio.transport() == "websocket", what="the upgrade")
        time.sleep(0.3)
        stop.set()
        t.join(30)
        last = sent[-1]
        wait_for(lambda: any(o["seq"] == last for o in upgrader.received("op")), what="the last op")
        seqs = [o["seq"] for o in upgrader.received("op") if o["seq"] > upgrader.seq]
        assert seqs == list(range(upgrader.seq + 1, last + 1)), seqs
    finally:
        room.close()


def test_FRAME1_with_a_redis_queue_each_process_delivers_once_the_same_bytes(tmp_path, redis_url):
    """Two processes on one Redis: the emit is published as before and each process
    (the publisher too) frames it once for its own sockets. A bare WebSocket on each
    process and a bare long-polling client on the other get the same text once, each
    frame the library's framing of it; the sender's own preview never comes back."""
    from tests.support import ServerCluster
    cluster = ServerCluster(tmp_path, redis_url, n=2).start()
    room = clients = None
    try:
        room = Room(cluster[0])
        cookie = room.therapist.cookie_header()
        clients = [RawSocketIO(cluster[0].url, cookie, room.id), RawSocketIO(cluster[1].url, cookie, room.id)]
        poll = RawPolling(cluster[1].url, cookie, room.id)
        clients.append(poll)
        child = user_on(room, "child", cluster[0].url)
        op_id = new_id("op-")
        assert child.op("stroke", stroke(sid=new_id()), op_id=op_id)["ok"]
        child.sio.emit("eph", {"a": "canvas", "k": "cursor", "page": "p1", "x": 10, "y": 40})
        for key, prefix in ((op_id, '42["op",'), ('"cursor"', '42["eph",')):
            for ws in clients[:2]:
                wait_for(lambda: [t for _, t in ws.texts(prefix) if key in t], what=f"{prefix} on a process")
            wait_for(lambda: [t for t in poll.texts(prefix) if key in t], what=f"{prefix} by polling")
            time.sleep(0.3)                       # a duplicate would have come by now
            polled, = [t for t in poll.texts(prefix) if key in t]
            for ws in clients[:2]:
                (frame, text), = [(b, t) for b, t in ws.texts(prefix) if key in t]
                assert text == polled and frame == plain_frame(polled)
        assert child.received("eph") == []
    finally:
        for c in clients or ():
            c.close()
        if room:
            room.close()
        cluster.stop()
    for srv in cluster.servers:
        assert_no_crash_in_log(srv)


def user_on(room, role, url):
    """room.user(role) connected to the process at `url`."""
    u = room.user(role, connect=False)
    u.connect(url=url)
    return u
