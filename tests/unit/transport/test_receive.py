"""RECV1: the common incoming WebSocket frame parsed without wsproto
(rooms/transport/receive.py) gives what wsproto gives, for every byte stream: the
same stream is fed to a plain wsproto server connection and to the wrapped one, in
the same chunks, and the messages and other events they yield are compared (wsproto
may hand a text message over in pieces as its bytes arrive, as simple-websocket
reassembles them; the wrapped one hands a common frame over whole)."""
import os
import random

import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage

from rooms.transport import receive
from rooms.transport.receive import FastReceive, check_receive, unmask


def client_frames(*events):
    """What a browser sends: masked frames, as wsproto's client writes them."""
    c = Connection(ConnectionType.CLIENT)
    return b"".join(c.send(e) for e in events)


def events_of(conn, chunks):
    """Whole messages (pieces joined, as simple-websocket does) and the other events."""
    out, piece = [], None
    for chunk in chunks:
        conn.receive_data(chunk)
        for ev in conn.events():
            if isinstance(ev, (TextMessage, BytesMessage)):
                piece = ev.data if piece is None else piece + ev.data
                if ev.message_finished:
                    out.append((type(ev).__name__, piece))
                    piece = None
            else:
                out.append((type(ev).__name__, getattr(ev, "payload", None), getattr(ev, "code", None)))
    return out


def same(stream, chunk_sizes=None):
    """Events of a plain and of a wrapped server connection fed `stream`."""
    chunks = [stream] if chunk_sizes is None else []
    if chunk_sizes is not None:
        i = 0
        for n in chunk_sizes:
            chunks.append(stream[i:i + n])
            i += n
        chunks.append(stream[i:])
    plain = events_of(Connection(ConnectionType.SERVER), chunks)
    fast_conn = FastReceive(Connection(ConnectionType.SERVER))
    fast = events_of(fast_conn, chunks)
    assert fast == plain
    return fast, fast_conn


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 300_000])
def test_RECV1_text_frames_of_every_length_form_decode_as_wsproto_does(size):
    text = ("é" + "x" * 9) * (size // 11) + "a" * (size % 11)
    events, conn = same(client_frames(TextMessage(data=text), TextMessage(data="42[\"eph\",{}]")))
    assert [e[1] for e in events] == [text, "42[\"eph\",{}]"] and not conn.slow


def test_RECV1_a_stream_split_at_every_byte_gives_the_same_messages():
    stream = client_frames(*(TextMessage(data=f'42["eph",{{"k":{i}}}]' * (i * 20)) for i in range(1, 8)))
    for cut in range(1, len(stream), 37):
        same(stream, [cut, 3, 1, 500])
    rnd = random.Random(4)
    for _ in range(50):
        same(stream, [rnd.randint(1, 200) for _ in range(20)])


@pytest.mark.parametrize("other", [
    Ping(payload=b"hi"), Pong(payload=b"x"), CloseConnection(code=1000, reason="bye"),
    BytesMessage(data=b"\x00\x01"), TextMessage(data="half", message_finished=False)],
    ids=["ping", "pong", "close", "binary", "fragment"])
def test_RECV1_anything_else_and_all_after_it_goes_to_wsproto(other):
    follow = [TextMessage(data="rest")] if not isinstance(other, CloseConnection) else []
    if isinstance(other, TextMessage):
        follow = [TextMessage(data=" and more")]
    events, conn = same(client_frames(TextMessage(data="first"), other, *follow))
    assert events[0] == ("TextMessage", "first") and conn.slow


def test_RECV1_bad_utf8_unmasked_and_oversized_frames_are_wsproto_s_to_refuse():
    masked_bad = bytes((0x81, 0x80 | 2)) + b"\x01\x02\x03\x04" + unmask(b"\x01\x02\x03\x04", b"\xff\xfe")
    _, conn = same(client_frames(TextMessage(data="ok")) + masked_bad)
    assert conn.slow
    unmasked = bytes((0x81, 5)) + b"hello"
    _, conn = same(unmasked)
    assert conn.slow
    big = receive.FAST_MAX + 1
    head = bytes((0x81, 0x80 | 127)) + big.to_bytes(8, "big") + b"\x00\x00\x00\x00"
    conn = FastReceive(Connection(ConnectionType.SERVER))
    conn.receive_data(head + b"a" * 1000)
    list(conn.events())
    assert conn.slow and conn._buf == b"", "a frame above FAST_MAX is not buffered here"


def test_RECV1_unmask_is_the_rfc_xor():
    mask = os.urandom(4)
    data = os.urandom(1001)
    assert unmask(mask, data) == bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    assert unmask(mask, b"") == b""


def test_RECV1_sends_and_everything_else_are_the_wrapped_connection_s():
    inner = Connection(ConnectionType.SERVER)
    conn = FastReceive(inner)
    assert conn.send(TextMessage(data="x")) == inner.send(TextMessage(data="x"))
    assert conn.state is inner.state


def test_RECV1_the_start_up_check_refuses_other_internals():
    check_receive()                                  # the pinned libraries pass

    class Reader:
        def _thread(self):
            self.ws.feed(b"")

        def _handle_events(self):
            return self.ws.events()
    with pytest.raises(RuntimeError, match="receive_data"):
        check_receive(ws_base=Reader)


def test_RECV1_a_real_simple_websocket_server_reads_through_the_fast_path(monkeypatch):
    """The server's patch (rooms/transport/server.py) puts FastReceive under a real
    simple-websocket connection after its handshake, and messages a browser sends
    arrive through it (without it, or with PLAYROOM_FAST_RECEIVE=0, they do not)."""
    import socket
    import simple_websocket.ws as sws
    from rooms.transport import server

    monkeypatch.setattr(sws.Server, "handshake", sws.Server.handshake)   # restored afterwards
    server._patch_simple_websocket()
    near, far = socket.socketpair()
    # The browser's handshake request, as the WSGI server would have parsed it.
    environ = {"werkzeug.socket": near, "REQUEST_METHOD": "GET", "PATH_INFO": "/socket.io/",
               "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "localhost",
               "HTTP_CONNECTION": "Upgrade", "HTTP_UPGRADE": "websocket",
               "HTTP_SEC_WEBSOCKET_VERSION": "13", "HTTP_SEC_WEBSOCKET_KEY": "dGhlIHNhbXBsZSBub25jZQ=="}
    ws = sws.Server(environ)
    try:
        assert isinstance(ws.ws, FastReceive)
        assert far.recv(4096).startswith(b"HTTP/1.1 101")    # the handshake's answer
        far.sendall(client_frames(TextMessage(data='42["eph",{"k":"cursor"}]'),
                                  TextMessage(data="x" * 70_000)))
        assert ws.receive(timeout=5) == '42["eph",{"k":"cursor"}]'
        assert ws.receive(timeout=5) == "x" * 70_000
        assert not ws.ws.slow, "both came the fast way"
    finally:
        ws.close()
        far.close()
