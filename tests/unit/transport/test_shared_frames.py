"""FRAME1 in-process: the shared frame is the bytes the libraries would write, it is
written by the socket's writer only when the connection is a plain open WebSocket
(else the library's send runs), each emit's packet is framed once, and the start-up
check refuses internals that changed (fakes)."""
import pytest
import socketio
from engineio import packet as eio_packet
from engineio import socket as eio_socket
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage
from wsproto.frame_protocol import FrameProtocol

from rooms.transport import tuning
from rooms.transport.boundary import ScreenedFrames
from rooms.transport.tuning import SharedFrame, _Guarded, check_shareable, text_frame

TEXTS = ["", "4", "42[\"op\",{}]", "x" * 125, "x" * 126, "é" * 63, "y" * 0xFFFF, "z" * 0x10000,
         "42[\"eph\",{\"name\":\"Zoë 👋\"}]" * 300]


@pytest.mark.parametrize("text", TEXTS, ids=lambda t: f"{len(t.encode())}B")
def test_text_frame_is_what_wsproto_writes(text):
    assert text_frame(text) == bytes(FrameProtocol(client=False, extensions=[]).send_data(text, True))


@pytest.mark.parametrize("text", TEXTS, ids=lambda t: f"{len(t.encode())}B")
def test_text_frame_is_what_eventlet_writes(text):
    websocket = pytest.importorskip("eventlet.websocket")
    ws = websocket.RFC6455WebSocket(FakeSock(), {}, 13)
    assert text_frame(text) == ws._pack_message(text)


def test_shared_frame_is_a_str_framed_once():
    s = SharedFrame("42[\"op\",1]")
    assert isinstance(s, str) and s == "42[\"op\",1]" and "" + s == s
    assert s.frame() is s.frame() == text_frame(s)


class FakeSock:
    whole = True

    def __init__(self):
        self.written = []

    def send(self, data):
        self.written.append(bytes(data))
        return len(data)

    def sendall(self, data):
        self.written.append(bytes(data))


def open_server_connection(extensions=()):
    client, server = WSConnection(ConnectionType.CLIENT), WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(host="h", target="/", extensions=list(extensions))))
    for ev in server.events():
        if isinstance(ev, Request):
            client.receive_data(server.send(AcceptConnection(extensions=list(extensions))))
    return server


class FakeSimpleWebSocket:          # simple_websocket.Server, as far as FRAME1 looks
    def __init__(self, conn, sock):
        self.ws = conn
        self.sock = sock
        self.connected = True


class FakeWSGI:                     # engine.io's SimpleWebSocketWSGI
    def __init__(self, inner):
        self.ws = inner
        self.sent = []

    def send(self, message):
        self.sent.append(message)


class FakeEio:
    closed = False
    _playroom_flight = 0


def guarded(extensions=(), whole=True):
    sock = FakeSock()
    if not whole:
        sock.whole = False
    inner = FakeSimpleWebSocket(open_server_connection(extensions), sock)
    outer = FakeWSGI(inner)
    return _Guarded(FakeEio(), ScreenedFrames(outer)), inner, outer, sock


def test_shared_text_is_written_as_its_frame_other_text_the_library_way():
    g, inner, outer, sock = guarded()
    shared = SharedFrame("42[\"op\",{\"seq\":1}]")
    g.send(shared)
    g.send("3")                                         # not shared: the library's send
    assert sock.written == [inner.ws.send(TextMessage(data=str(shared)))]
    assert outer.sent == ["3"]


def test_closed_connection_goes_the_library_way():
    g, inner, outer, sock = guarded()
    inner.connected = False
    g.send(SharedFrame("42[1]"))
    assert sock.written == [] and outer.sent == ["42[1]"]


def test_compressed_or_partial_write_connections_go_the_library_way():
    from wsproto.extensions import PerMessageDeflate
    for g, _, outer, sock in (guarded(extensions=[PerMessageDeflate()]), guarded(whole=False)):
        g.send(SharedFrame("42[1]"))
        assert sock.written == [] and outer.sent == ["42[1]"]


def test_eventlet_websocket_writes_the_shared_frame_under_its_lock():
    websocket = pytest.importorskip("eventlet.websocket")
    sock = FakeSock()
    ws = websocket.RFC6455WebSocket(sock, {}, 13)
    g = _Guarded(FakeEio(), ScreenedFrames(ws))
    g.send(SharedFrame("42[\"eph\",{}]"))
    assert sock.written == [ws._pack_message("42[\"eph\",{}]")]
    deflating = websocket.RFC6455WebSocket(FakeSock(), {}, 13,
                                           extensions={"permessage-deflate": {}})
    assert tuning._frame_writer(deflating) is None


class Recorder:
    def __init__(self):
        self.eio = self
        self.got = []

    def send_packet(self, eio_sid, pkt):
        self.got.append((eio_sid, pkt))


def test_one_packet_to_many_recipients_is_shared_once(monkeypatch):
    monkeypatch.setattr(socketio.Server, "_send_eio_packet", socketio.Server._send_eio_packet)
    tuning.share_frames()
    server = Recorder()
    pkt = eio_packet.Packet(eio_packet.MESSAGE, "2[\"op\",{}]")
    for sid in ("a", "b", "c"):
        socketio.Server._send_eio_packet(server, sid, pkt)
    firsts = {id(p.encode()) for _, p in server.got}
    assert len(firsts) == 1 and type(pkt.encode()) is SharedFrame and pkt.encode() == "42[\"op\",{}]"
    binary = eio_packet.Packet(eio_packet.MESSAGE, b"\x01\x02")
    socketio.Server._send_eio_packet(server, "a", binary)
    assert binary.encode() == b"\x01\x02"                  # attachments as they were
    ping = eio_packet.Packet(eio_packet.PING)
    socketio.Server._send_eio_packet(server, "a", ping)
    assert type(ping.encode()) is str


def test_installed_libraries_pass_the_check():
    check_shareable()
    pytest.importorskip("eventlet.websocket")
    check_shareable(mode="eventlet")


def fake(name, **methods):
    return type(name, (), {k: v for k, v in methods.items()})


def test_check_refuses_a_manager_that_no_longer_shares_one_packet():
    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, **kw):
        for sid, eio_sid in self.get_participants(namespace, room):
            self.server._send_packet(eio_sid, self.server.packet_class(2, data=[event, data]))
    with pytest.raises(RuntimeError, match="Manager.emit builds one Engine.IO packet"):
        check_shareable(manager_class=fake("Manager", emit=emit))


def test_check_refuses_a_packet_without_its_encode_cache():
    def encode(self, b64=False):
        return str(self.packet_type) + self.data
    with pytest.raises(RuntimeError, match="encode returns its encode_cache"):
        check_shareable(eio_packet_class=fake("Packet", encode=encode,
                                              __init__=eio_packet.Packet.__init__))


def test_check_refuses_a_writer_that_no_longer_sends_the_encoded_packet():
    def _websocket_handler(self, ws):
        for pkt in self.poll():
            ws.send_bytes(pkt.to_frame())
    sock = fake("Socket", _websocket_handler=_websocket_handler, send=eio_socket.Socket.send)
    with pytest.raises(RuntimeError, match="websocket writer sends pkt.encode"):
        check_shareable(socket_class=sock)


def test_check_refuses_a_missing_internal():
    with pytest.raises(RuntimeError, match="_send_eio_packet is gone"):
        check_shareable(server_class=fake("Server"))
    with pytest.raises(RuntimeError, match="simple-websocket writes each frame"):
        check_shareable(ws_base=fake("Base", send=lambda self, data: self.sock.sendall(data)))


# ---------------------------------------------------------------- DIRECT1
# The emitting task writes an emit's shared frame itself when nothing of the socket is
# waiting to be written; else (queue, writer's hands, another writer, a full network
# buffer) the packet goes the queue's way, and a frame the network took only part of is
# finished by the writer before anything else.

class GreenLike:
    """A green socket as far as DIRECT1 looks: the OS socket, non-blocking, in `_sock`
    (gevent's layout); `sendall` waits as a green socket would."""

    def __init__(self, raw):
        raw.setblocking(False)
        self._sock = raw

    def sendall(self, data):
        import select
        view = memoryview(data)
        while view:
            try:
                view = view[self._sock.send(view):]
            except BlockingIOError:
                select.select([], [self._sock], [], 5)


class DirectEio:
    """engine.io's Socket as far as `_Guarded.direct` looks."""

    def __init__(self):
        import queue
        self.queue = queue.Queue()
        self.upgraded = True
        self.closed = False
        self._playroom_flight = 0
        self._playroom_sizes = ()
        self._playroom_out = 0
        self.answering = True

    def check_ping_timeout(self):
        return self.answering


@pytest.fixture
def direct_guarded():
    """`make(sndbuf=None)` -> (_Guarded, its engine.io socket, the _WholeWrites, the
    peer's OS socket); every socket is closed after the test."""
    import socket
    from rooms.transport.server import _WholeWrites
    opened = []

    def make(sndbuf=None):
        here, there = socket.socketpair()
        opened.extend((here, there))
        if sndbuf:
            here.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
            there.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, sndbuf)
        sock = _WholeWrites(GreenLike(here))
        inner = FakeSimpleWebSocket(open_server_connection(), sock)
        inner.input_buffer = []
        eio = DirectEio()
        return _Guarded(eio, ScreenedFrames(FakeWSGI(inner))), eio, sock, there
    yield make
    for s in opened:
        s.close()


def read_all(peer, n):
    import select
    got = b""
    while len(got) < n:
        select.select([peer], [], [], 5)
        got += peer.recv(1 << 20)
    return got


def test_direct_write_to_an_idle_websocket_is_the_frame_and_queues_nothing(direct_guarded):
    g, eio, _, peer = direct_guarded()
    shared = SharedFrame("42[\"eph\",{\"x\":1}]")
    assert g.direct(shared) is True
    assert read_all(peer, len(shared.frame())) == text_frame(shared)
    assert eio.queue.qsize() == 0


def test_direct_write_waits_its_turn_behind_anything_queued_or_in_the_writers_hands(direct_guarded):
    g, eio, _, peer = direct_guarded()
    eio.queue.put("an ack")
    assert g.direct(SharedFrame("42[1]")) is False
    eio.queue.get()
    eio._playroom_flight = 1                 # the writer took a packet, not written yet
    assert g.direct(SharedFrame("42[1]")) is False
    g.send(SharedFrame("42[0]"))             # ... now it has
    assert eio._playroom_flight == 0 and g.direct(SharedFrame("42[2]")) is True
    for eio.upgraded, eio.closed in ((False, False), (True, True)):
        assert g.direct(SharedFrame("42[3]")) is False     # upgrading, or closed
    want = text_frame("42[0]") + text_frame("42[2]")
    assert read_all(peer, len(want)) == want


def test_nothing_is_written_to_a_client_that_stopped_answering_pings(direct_guarded):
    g, eio, _, peer = direct_guarded()
    eio.answering = False                    # (engine.io closes it: send drops the packet too)
    assert g.direct(SharedFrame("42[1]")) is True and eio.queue.qsize() == 0
    peer.setblocking(False)
    with pytest.raises(BlockingIOError):
        peer.recv(10)


def test_direct_write_never_interleaves_with_a_writer_holding_the_lock(direct_guarded):
    g, eio, sock, peer = direct_guarded()
    with sock._lock:                         # another task is writing to this socket
        assert g.direct(SharedFrame("42[1]")) is False
    assert g.direct(SharedFrame("42[1]")) is True


def test_a_frame_the_network_takes_part_of_is_finished_first_by_the_writer(direct_guarded):
    import threading
    g, eio, _, peer = direct_guarded(sndbuf=4096)
    big = SharedFrame("42[\"op\",\"" + "x" * 300_000 + "\"]")
    assert g.direct(big) is True
    assert eio.queue.qsize() == 1            # the rest, ahead of anything sent later
    later = SharedFrame("42[\"eph\",{}]")
    assert g.direct(later) is False          # it waits behind the rest, in the queue
    rest = eio.queue.get()
    assert isinstance(rest, tuning._RestPacket) and list(eio._playroom_sizes) == [len(rest.data)]
    got = []
    reader = threading.Thread(target=lambda: got.append(read_all(peer, len(big.frame()) + len(later.frame()))))
    reader.start()
    g.send(rest.encode())                    # what engine.io's writer does with them,
    g.send(later)                            # in the queue's order
    reader.join(10)
    assert got == [big.frame() + later.frame()]


def test_a_full_network_buffer_sends_the_packet_the_queues_way(direct_guarded):
    g, eio, sock, peer = direct_guarded(sndbuf=4096)
    raw = sock._sock._sock
    try:
        while True:
            raw.send(b"\0" * 4096)           # (no reader: fill the buffers)
    except BlockingIOError:
        pass
    assert g.direct(SharedFrame("42[1]")) is False and eio.queue.qsize() == 0


def test_no_direct_writes_on_a_blocking_socket_threading_mode():
    import socket
    from rooms.transport.server import _WholeWrites
    here, there = socket.socketpair()
    with here, there:
        inner = FakeSimpleWebSocket(open_server_connection(), _WholeWrites(here))
        out = tuning._frame_writer(FakeWSGI(inner))
        assert out is not None and out.try_write is None


def test_green_sockets_of_gevent_and_eventlet_take_direct_writes():
    """The OS socket is found under each library's green socket, non-blocking (in a
    child process: monkey-patching is for the server entry point only)."""
    import subprocess
    import sys
    for lib, make in (("gevent", "from gevent import socket"), ("eventlet", "from eventlet.green import socket")):
        pytest.importorskip(lib)
        code = (f"{make}\nfrom rooms.transport.tuning import _nonblocking\n"
                "a, b = socket.socketpair()\nraw = _nonblocking(a)\n"
                "assert raw is not None and raw.send(b'x') == 1 and b.recv(1) == b'x'\n")
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_check_refuses_a_polling_request_that_takes_from_an_upgraded_socket():
    def handle_get_request(self, environ, start_response):
        return self.poll()
    sock = fake("Socket", _websocket_handler=eio_socket.Socket._websocket_handler,
                send=eio_socket.Socket.send, poll=eio_socket.Socket.poll,
                handle_get_request=handle_get_request)
    with pytest.raises(RuntimeError, match="upgraded socket's polling requests take nothing"):
        check_shareable(socket_class=sock)
