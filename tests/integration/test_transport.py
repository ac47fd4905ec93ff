"""Transport choices of the server entry point (app.py), checked on the wire in
every async mode: WebSocket messages are not compressed (no permessage-deflate,
bench/: CPU per relayed message and ~150 KiB per idle connection), and the room
page preloads every module it imports."""
import base64
import os
import socket
import threading
import time

import pytest

from tests.support import Actions, ServerProcess

from rooms.web.pages import room_modules


def upgrade(url, extensions):
    """Open a WebSocket to Engine.IO the way a browser does; returns the response head."""
    host, port = url.split("//")[1].split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
           f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
           f"Sec-WebSocket-Extensions: {extensions}\r\n\r\n")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
    return head.split(b"\r\n\r\n")[0].decode("latin-1")


@pytest.fixture(scope="module", params=["eventlet", "gevent", "threading"])
def any_server(request, tmp_path_factory):
    pytest.importorskip(request.param) if request.param != "threading" else None
    srv = ServerProcess(tmp_path_factory.mktemp(f"transport-{request.param}"), mode=request.param).start()
    yield srv
    srv.stop()


def test_websocket_offer_of_compression_is_declined(any_server):
    head = upgrade(any_server.url, "permessage-deflate; client_max_window_bits")
    assert head.startswith("HTTP/1.1 101"), head
    assert "sec-websocket-extensions" not in head.lower(), head


def test_compression_switch_for_the_benchmark_still_negotiates(tmp_path):
    """PLAYROOM_WS_DEFLATE=1 (bench/ A/B only) keeps the libraries' behaviour."""
    srv = ServerProcess(tmp_path, mode="eventlet", env={"PLAYROOM_WS_DEFLATE": "1"}).start()
    try:
        head = upgrade(srv.url, "permessage-deflate; client_max_window_bits")
        assert head.startswith("HTTP/1.1 101"), head
        assert "permessage-deflate" in head.lower(), head
    finally:
        srv.stop()


def test_room_page_preloads_every_module(any_server):
    th = Actions(any_server.url)
    th.register()
    room_id, _ = th.create_room()
    html = th.get(f"/room/{room_id}").text
    static = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "static")
    for mod in room_modules(static):
        url = f"/static/{mod}" if mod.endswith(".js") else f"/vendor/{mod}.js"
        assert f'<link rel="modulepreload" href="{url}">' in html, mod
    for folder, _, files in os.walk(os.path.join(static, "canvas")):
        # Every module under static/canvas is part of the room page (none is orphaned),
        # but the home practice page's own (tests/unit/web/test_home.py checks those).
        if os.path.relpath(folder, static).replace(os.sep, "/").startswith("canvas/home"):
            continue
        for f in files:
            if f.endswith(".js"):
                rel = os.path.relpath(os.path.join(folder, f), static).replace(os.sep, "/")
                assert f'/static/{rel}"' in html, rel


def ws_frame(text):
    """A masked client text frame (RFC 6455), for payloads under 126 bytes."""
    data = text.encode()
    mask = os.urandom(4)
    return bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def read_frame(s):
    head = s.recv(2, socket.MSG_WAITALL)
    n = head[1] & 127
    if n == 126:
        n = int.from_bytes(s.recv(2, socket.MSG_WAITALL), "big")
    elif n == 127:
        n = int.from_bytes(s.recv(8, socket.MSG_WAITALL), "big")
    return s.recv(n, socket.MSG_WAITALL).decode() if n else ""


def engineio_socket(url, timeout):
    """A bare Engine.IO WebSocket on `url`, its upgrade and OPEN packet read."""
    host, port = url.split("//")[1].split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    opened = read_frame(s)
    assert opened.startswith("0{"), opened
    return s


def two_pings(url, out):
    """Open a bare Engine.IO WebSocket, answer two server PINGs; record the gaps."""
    try:
        with engineio_socket(url, 30) as s:
            t0 = time.monotonic()
            for _ in range(2):
                msg = read_frame(s)
                out.append((msg, time.monotonic() - t0))
                s.sendall(ws_frame("3"))                # PONG
                t0 = time.monotonic()
    except Exception as e:  # reported by the test
        out.append((repr(e), None))


def test_heartbeat_keeps_coming_from_the_shared_ping_task(tmp_path):
    """rooms/transport/tuning.py replaced engine.io's ping task per socket: the server still
    pings every socket every ping_interval (10 s) after each pong, in every mode.
    (Inherently time-based: ~20 s, the three servers in parallel.)"""
    modes = [m for m in ("eventlet", "gevent", "threading")
             if m == "threading" or __import__("importlib").util.find_spec(m)]
    servers = [ServerProcess(tmp_path / m, mode=m) for m in modes]
    for srv, m in zip(servers, modes):
        os.makedirs(tmp_path / m)
        srv.start()
    try:
        results = {m: [] for m in modes}
        threads = [threading.Thread(target=two_pings, args=(srv.url, results[m]))
                   for srv, m in zip(servers, modes)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for m in modes:
            got = results[m]
            assert [msg for msg, _ in got] == ["2", "2"], (m, got)
            for _, gap in got:
                # Not before ping_interval (10 s), and before a client gives up
                # (ping_interval + ping_timeout = 20 s).
                assert 9.5 <= gap < 20.0, (m, got)
    finally:
        for srv in servers:
            srv.stop()


def close_frame():
    mask = os.urandom(4)
    body = (1000).to_bytes(2, "big")
    return bytes([0x88, 0x80 | len(body)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(body))


def test_server_closes_the_connection_when_a_websocket_ends(any_server):
    """A client leaving sends Engine.IO's CLOSE and a WebSocket close frame: the server
    answers with its close frame and then ends the TCP connection. gevent's and
    werkzeug's servers used to keep it open and read the client's last frames as a
    new HTTP request ("400 Bad Request" into the socket, an error in the log), while
    python-socketio's client waited 3 s for the close on every disconnect."""
    with engineio_socket(any_server.url, 10) as s:
        s.sendall(ws_frame("1") + close_frame())         # Engine.IO CLOSE, then the close frame
        rest = b""
        while True:                                      # until the server's FIN (timeout: 10 s)
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
    assert b"HTTP/" not in rest, rest
    assert rest.startswith(b"\x88"), rest                # its close frame, nothing after it
    time.sleep(0.2)
    with open(any_server.log_path, errors="replace") as f:
        log = f.read()
    for bad in ("Bad request", "Invalid HTTP method", "Traceback"):
        assert bad not in log, log[-3000:]
