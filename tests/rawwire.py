"""A raw Engine.IO v4 / Socket.IO v5 client over WebSocket, without python-socketio's
manners: it sends whatever text or bytes a test gives it, so tests (and fuzzers) can
play a hostile client. Frames it receives are kept in order; `events()` decodes the
Socket.IO events among them.

    w = RawSocket(srv.url, cookie=actions.cookie_header()).open()
    w.connect({"v": 1, "room": room_id})      # 40{...}, waits for 40{"sid":...}
    w.send('42["disconnect"]')
    w.wait_event("error")
"""
import json
import threading
import time

import websocket

# Engine.IO packet types (text): 0 open, 2 ping, 3 pong, 4 message; Socket.IO inside a
# message: 0 connect, 1 disconnect, 2 event, 3 ack, 4 connect error.
EIO_MESSAGE = "4"


class RawSocket:
    def __init__(self, base_url, cookie=None, timeout=10.0):
        self.url = base_url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.cookie = cookie
        self.timeout = timeout
        self.frames = []             # every frame received, in order (str or bytes)
        self.closed = threading.Event()
        self.handshake = None        # the Engine.IO open packet's data
        self.sid = None              # the Socket.IO sid once connected
        self._lock = threading.Lock()
        self._ws = None
        self._reader = None

    # -------------------------------------------------------------- connection
    def open(self):
        """Open the WebSocket and read Engine.IO's open packet."""
        headers = [f"Cookie: {self.cookie}"] if self.cookie else []
        # (websocket-client checks UTF-8 in pure Python, ~1 s per MB: skipped)
        self._ws = websocket.create_connection(self.url, header=headers, timeout=self.timeout,
                                               enable_multithread=True, skip_utf8_validation=True)
        first = self._ws.recv()
        assert isinstance(first, str) and first.startswith("0"), first
        self.handshake = json.loads(first[1:])
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def connect(self, auth):
        """Socket.IO connect to the default namespace with `auth`; returns the sid."""
        self.send("40" + json.dumps(auth))
        frame = self.wait_frame(lambda f: isinstance(f, str) and f[:2] in ("40", "44"),
                                what="Socket.IO connect answer")
        assert frame.startswith("40"), frame
        self.sid = json.loads(frame[2:])["sid"]
        return self.sid

    def _read(self):
        try:
            while True:
                frame = self._ws.recv()
                if frame in ("", b"") and not self._ws.connected:
                    break
                if frame == "2":                    # Engine.IO ping: answer as a client must
                    self._send_quietly("3")
                    continue
                with self._lock:
                    self.frames.append(frame)
        except Exception:                           # closed (either side) or timed out
            pass
        finally:
            self.closed.set()

    def _send_quietly(self, frame):
        try:
            self._ws.send(frame)
        except Exception:
            pass

    def send(self, frame):
        """Send one WebSocket frame: text for str, binary for bytes."""
        if isinstance(frame, bytes):
            self._ws.send_binary(frame)
        else:
            self._ws.send(frame)

    def emit(self, event, *args, ack_id=None):
        """A Socket.IO event packet `42[event, *args]` (with an ack id if given)."""
        self.send("42" + ("" if ack_id is None else str(ack_id)) + json.dumps([event, *args]))

    def close(self):
        if self._ws is not None:
            try:
                self._ws.close(timeout=1)
            except Exception:
                pass
            finally:
                self._ws.shutdown()             # the socket, whatever close() managed
        if self._reader is not None:
            self._reader.join(5)

    # -------------------------------------------------------------- reading
    def wait_frame(self, predicate, timeout=None, what="frame"):
        deadline = time.monotonic() + (timeout or self.timeout)
        seen = 0
        while True:
            with self._lock:
                frames = self.frames[seen:]
            for f in frames:
                if predicate(f):
                    return f
            seen += len(frames)
            if self.closed.is_set() and not frames:
                raise AssertionError(f"connection closed while waiting for {what}: {self.frames[-5:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}: {self.frames[-5:]}")
            time.sleep(0.01)

    def events(self):
        """[(event, args...)] of every Socket.IO event received so far."""
        out = []
        with self._lock:
            frames = list(self.frames)
        for f in frames:
            if isinstance(f, str) and f.startswith("42"):
                out.append(tuple(json.loads(f[2:])))
        return out

    def acks(self):
        """{ack id: [args]} of every Socket.IO ack received so far."""
        out = {}
        with self._lock:
            frames = list(self.frames)
        for f in frames:
            if isinstance(f, str) and f.startswith("43"):
                i = 2
                while i < len(f) and f[i].isdigit():
                    i += 1
                out[int(f[2:i])] = json.loads(f[i:])
        return out

    def wait_event(self, name, predicate=lambda *args: True, timeout=None):
        """The args of the first event `name` (whose args match `predicate`)."""
        def found():
            return next((e[1:] for e in self.events() if e[0] == name and predicate(*e[1:])), None)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            hit = found()
            if hit is not None:
                return hit
            if time.monotonic() > deadline or (self.closed.is_set() and found() is None):
                raise AssertionError(f"no {name} event: {self.frames[-5:]}")
            time.sleep(0.01)

    def wait_ack(self, ack_id, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            got = self.acks()
            if ack_id in got:
                return got[ack_id]
            if time.monotonic() > deadline or self.closed.is_set():
                raise AssertionError(f"no ack {ack_id}: {self.frames[-5:]}")
            time.sleep(0.01)

    def ended(self):
        """The server has ended the session: closed the connection, or sent Engine.IO
        CLOSE (`1`) or Socket.IO DISCONNECT (`41`), as a server-side disconnect does
        (a browser then closes the connection itself)."""
        with self._lock:
            frames = list(self.frames)
        return self.closed.is_set() or any(f in ("1", "41") for f in frames)

    def wait_closed(self, timeout=None):
        """Wait until the server has ended the session (see `ended`)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.ended():
            assert time.monotonic() < deadline, f"the connection is still open: {self.frames[-5:]}"
            time.sleep(0.01)


# ------------------------------------------------------------------ below WebSocket

def tcp_websocket(base_url, timeout=10.0):
    """A plain TCP socket that has done the WebSocket upgrade to Engine.IO (the 101
    head read, nothing else): for frames no WebSocket library would send, and to see
    every byte the server writes back."""
    import base64
    import os
    import socket
    host, port = base_url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def masked_frame(payload, opcode=0x1):
    """A masked client frame (RFC 6455) of `payload` bytes, any length."""
    import os
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_until_closed(s, limit=1 << 20):
    """Every byte the server writes until it closes the connection (or times out)."""
    import socket
    out = b""
    try:
        while len(out) < limit:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, OSError):
        pass
    return out
