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
