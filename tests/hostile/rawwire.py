"""A raw Engine.IO v4 / Socket.IO v5 client without our client's manners.

python-socketio's client only sends what a polite client sends: well-formed packets,
JSON it encoded itself, one handshake. An attacker is not bound by that, so the
hostile suite speaks the wire itself: it can send any text or binary frame, packets
with or without ack ids, binary attachments, reserved event names, extra arguments,
garbage; it can stop answering pings, stop reading, or drop the TCP connection.

`RawSocket` (WebSocket transport) keeps what the server sent: Socket.IO events in
arrival order, acks by id, and whether and how the connection ended. A reader
thread answers pings (unless `answer_pings=False`); `read=False` starts no reader at
all (a client that never reads: the server's buffers for it fill up).
"""
import base64
import json
import threading
import time

import requests
import websocket

# Engine.IO packet types (text frames start with the digit).
EIO_OPEN, EIO_CLOSE, EIO_PING, EIO_PONG, EIO_MESSAGE = "0", "1", "2", "3", "4"
# Socket.IO packet types (after the Engine.IO "4").
SIO_CONNECT, SIO_DISCONNECT, SIO_EVENT, SIO_ACK = "0", "1", "2", "3"
SIO_CONNECT_ERROR, SIO_BINARY_EVENT, SIO_BINARY_ACK = "4", "5", "6"


class Refused(Exception):
    """The server refused the Socket.IO connect (`44{...}`); `.data` is its payload."""

    def __init__(self, data):
        super().__init__(f"connect refused: {data!r}")
        self.data = data


class Closed(Exception):
    """The connection ended before the expected answer."""


def encode(value):
    """JSON the way a hostile client may write it: lone surrogates escaped (\\ud800),
    NaN/Infinity as bare tokens, any size of integer. A `Raw` inside goes in
    verbatim (deep nesting past Python's own recursion limit)."""
    raws = []

    def mark(obj):
        if isinstance(obj, Raw):
            raws.append(obj.text)
            return f"\x00raw{len(raws) - 1}\x00"
        raise TypeError(f"not JSON: {type(obj).__name__}")
    text = json.dumps(value, default=mark)
    for i, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x00raw{i}\x00"), raw, 1)
    return text


class Raw:
    """JSON text inserted as is by `encode` (e.g. `[[[[...]]]]` 5,000 deep)."""
    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return f"Raw({self.text[:40]!r}{'...' if len(self.text) > 40 else ''})"


def event_packet(args, ack_id=None, attachments=0):
    """The Socket.IO text of an event: `2[...]`, `2<id>[...]`, or with binary
    attachments `5<n>-<id>[...]` (the attachments follow as binary frames)."""
    head = f"{SIO_BINARY_EVENT}{attachments}-" if attachments else SIO_EVENT
    return head + ("" if ack_id is None else str(ack_id)) + encode(list(args))


class RawSocket:
    """One raw WebSocket connection to a Playroom server."""

    def __init__(self, base_url, cookie=None, *, answer_pings=True, read=True, timeout=10.0):
        self.url = base_url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.cookie = cookie
        self.answer_pings = answer_pings
        self.read = read
        self.timeout = timeout
        self.ws = None
        self.sid = None
        self.handshake = None
        self.events = []            # (name, data) of every Socket.IO event, in arrival order
        self.acks = {}              # ack id -> list of the ack's arguments
        self.frames = 0             # frames received
        self.closed = False         # the connection is over (either side)
        self.closed_by_us = False
        self.close_reason = None    # what ended it, for reports
        self.refused = None         # the `44` connect-error payload, if refused
        self.bad_frames = []        # frames from the server we could not parse
        self._next_id = 0
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self._reader = None

    # ---------------------------------------------------------------- connecting
    def open(self, auth, wait=True):
        """WebSocket upgrade, Engine.IO open, Socket.IO connect with `auth`.
        Returns the connect payload ({"sid": ...}); raises Refused on `44`."""
        header = [f"Cookie: {self.cookie}"] if self.cookie else []
        self.ws = websocket.create_connection(self.url, header=header, timeout=self.timeout,
                                              enable_multithread=True, skip_utf8_validation=True)
        opcode, data = self.ws.recv_data()
        text = data.decode("utf-8", "replace")
        if not text.startswith(EIO_OPEN):
            raise Closed(f"no Engine.IO open packet: {text[:80]!r}")
        self.handshake = json.loads(text[1:])
        self.send_frame(EIO_MESSAGE + SIO_CONNECT + encode(auth))
        if not self.read:
            return None
        self._reader = threading.Thread(target=self._read_loop, daemon=True, name="rawwire-reader")
        self._reader.start()
        if not wait:
            return None
        with self._cond:
            ok = self._cond.wait_for(lambda: self.sid is not None or self.refused is not None
                                     or self.closed, self.timeout)
        if self.refused is not None:
            raise Refused(self.refused)
        if not ok or self.sid is None:
            raise Closed(f"no Socket.IO connect answer ({self.close_reason})")
        return {"sid": self.sid}

    # ---------------------------------------------------------------- sending
    def send_frame(self, data):
        """Send one WebSocket frame as is: text (str) or binary (bytes)."""
        with self._send_lock:
            if isinstance(data, bytes):
                self.ws.send_binary(data)
            else:
                self.ws.send(data)

    def new_ack_id(self):
        with self._cond:
            self._next_id += 1
            return self._next_id

    def emit(self, *args, ack=True, binary=()):
        """Send `42[args...]` (with a fresh ack id unless ack=False) and the binary
        attachments, if any, as `45<n>-...` plus one binary frame each. Returns the
        ack id (or None)."""
        ack_id = self.new_ack_id() if ack else None
        text = event_packet(args, ack_id, len(binary))
        with self._send_lock:
            self.ws.send(EIO_MESSAGE + text)
            for blob in binary:
                # Engine.IO v4 over WebSocket: attachments are plain binary frames.
                self.ws.send_binary(bytes(blob))
        return ack_id

    def send_packet(self, sio_text):
        """Send an Engine.IO message carrying this Socket.IO text as is."""
        self.send_frame(EIO_MESSAGE + sio_text)

    # ---------------------------------------------------------------- receiving
    def _read_loop(self):
        while not self.closed:
            try:
                opcode, data = self.ws.recv_data()
            except websocket.WebSocketTimeoutException:
                continue            # quiet for a while: fine (the server pings every 10 s)
            except Exception as e:  # connection gone: the answer is the close
                self._end(f"{type(e).__name__}: {e}"[:200])
                return
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                self._end("close frame from the server")
                return
            self.frames += 1
            if opcode == websocket.ABNF.OPCODE_TEXT:
                # (binary frames: the server sends no attachments)
                self._on_text(data.decode("utf-8", "replace"))

    def _on_text(self, text):
        kind, body = text[:1], text[1:]
        if kind == EIO_PING:
            if self.answer_pings:
                try:
                    self.send_frame(EIO_PONG + body)
                except Exception as e:
                    self._end(f"pong failed: {e}")
            return
        if kind == EIO_CLOSE:
            self._end("Engine.IO close packet")
            return
        if kind != EIO_MESSAGE or not body:
            return
        self._on_socketio(body)

    def _on_socketio(self, body):
        try:
            self._on_packet(body)
        except (ValueError, IndexError, AttributeError, TypeError):
            # Not what the server should send: kept for the report, never fatal here.
            with self._cond:
                self.bad_frames.append(body[:200])

    def _on_packet(self, body):
        kind, rest = body[0], body[1:]
        with self._cond:
            if kind == SIO_CONNECT:
                self.sid = json.loads(rest or "{}").get("sid", "")
            elif kind == SIO_CONNECT_ERROR:
                self.refused = {"raw": rest}
                self.refused = json.loads(rest) if rest else {}
            elif kind == SIO_DISCONNECT:
                self.close_reason = "Socket.IO disconnect from the server"
            elif kind == SIO_EVENT:
                args = json.loads(_after_id(rest))
                self.events.append((args[0], args[1] if len(args) > 1 else None))
            elif kind == SIO_ACK:
                digits = rest[:len(rest) - len(rest.lstrip("0123456789"))]
                self.acks[int(digits)] = json.loads(rest[len(digits):])
            self._cond.notify_all()

    def _end(self, reason):
        with self._cond:
            if not self.closed:
                self.closed = True
                self.close_reason = self.close_reason or reason
            self._cond.notify_all()

    # ---------------------------------------------------------------- waiting
    def wait(self, predicate, timeout=None):
        """Wait until predicate() (called under the lock) is true, or the connection
        ended, or `timeout`; returns predicate()."""
        with self._cond:
            self._cond.wait_for(lambda: predicate() or self.closed, timeout or self.timeout)
            return predicate()

    def ack(self, ack_id, timeout=None):
        """The ack's arguments; Closed if the connection ended first, TimeoutError if
        it did not come in time."""
        if self.wait(lambda: ack_id in self.acks, timeout):
            return self.acks[ack_id]
        if self.closed:
            raise Closed(self.close_reason)
        raise TimeoutError(f"no ack {ack_id}")

    def received(self, name):
        with self._cond:
            return [d for e, d in self.events if e == name]

    def bye(self):
        """The server's `bye` (it closes this socket on purpose), or None."""
        byes = self.received("bye")
        return byes[-1] if byes else None

    # ---------------------------------------------------------------- ending
    def close(self, abrupt=False):
        """Close politely (Socket.IO disconnect, then the WebSocket close handshake)
        or abruptly (drop the TCP connection, no goodbye at all). Idempotent; the
        socket is released whatever state the connection is in."""
        self.closed_by_us = self.closed_by_us or not self.closed
        if self.ws is not None:
            try:
                if not abrupt and not self.closed:
                    self.send_frame(EIO_MESSAGE + SIO_DISCONNECT)
                    self.ws.close(timeout=1)
            except Exception:
                pass
            finally:
                try:
                    self.ws.shutdown()
                except Exception:
                    pass
        self._end("closed by the client")
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(5)


class PollingSocket(RawSocket):
    """The same client over HTTP long-polling (`transport=polling`): each send is a
    POST, a reader thread keeps one GET open; several packets travel in one body,
    separated by \\x1e, binary ones as "b" + base64 (Engine.IO v4)."""

    SEP = "\x1e"

    def __init__(self, base_url, cookie=None, **kw):
        super().__init__(base_url, cookie, **kw)
        self.url = base_url + "/socket.io/?EIO=4&transport=polling"
        self.http = requests.Session()
        if cookie:
            self.http.headers["Cookie"] = cookie

    def _url(self):
        return f"{self.url}&sid={self.eio_sid}&t={time.monotonic_ns()}"

    def open(self, auth, wait=True):
        r = self.http.get(self.url, timeout=self.timeout)
        first = r.text.split(self.SEP)[0]
        if r.status_code != 200 or not first.startswith(EIO_OPEN):
            raise Closed(f"no Engine.IO open packet: {r.status_code} {r.text[:80]!r}")
        self.handshake = json.loads(first[1:])
        self.eio_sid = self.handshake["sid"]
        self.send_frame(EIO_MESSAGE + SIO_CONNECT + encode(auth))
        self._reader = threading.Thread(target=self._read_loop, daemon=True, name="rawwire-poller")
        self._reader.start()
        if not wait:
            return None
        with self._cond:
            self._cond.wait_for(lambda: self.sid is not None or self.refused is not None
                                or self.closed, self.timeout)
        if self.refused is not None:
            raise Refused(self.refused)
        if self.sid is None:
            raise Closed(f"no Socket.IO connect answer ({self.close_reason})")
        return {"sid": self.sid}

    def _post(self, parts):
        body = self.SEP.join("b" + base64.b64encode(p).decode() if isinstance(p, bytes) else p
                             for p in parts)
        with self._send_lock:
            r = self.http.post(self._url(), data=body.encode("utf-8", "surrogatepass"),
                               timeout=self.timeout)
        if r.status_code != 200:
            self._end(f"POST answered {r.status_code}")
            raise Closed(f"POST answered {r.status_code}")

    def send_frame(self, data):
        self._post([data])

    def emit(self, *args, ack=True, binary=()):
        ack_id = self.new_ack_id() if ack else None
        self._post([EIO_MESSAGE + event_packet(args, ack_id, len(binary)), *map(bytes, binary)])
        return ack_id

    def _read_loop(self):
        while not self.closed:
            try:
                r = self.http.get(self._url(), timeout=self.timeout + 30)
            except Exception as e:
                self._end(f"poll failed: {type(e).__name__}: {e}"[:200])
                return
            if r.status_code != 200:
                self._end(f"poll answered {r.status_code}")
                return
            self.frames += 1
            for part in r.text.split(self.SEP):
                if part and not part.startswith("b"):
                    self._on_text(part)

    def close(self, abrupt=False):
        self.closed_by_us = self.closed_by_us or not self.closed
        if not abrupt and not self.closed:
            try:
                self._post([EIO_MESSAGE + SIO_DISCONNECT, EIO_CLOSE])
            except Exception:
                pass
        self._end("closed by the client")
        self.http.close()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(1)


def _after_id(rest):
    """Skip the ack id (digits) in front of a Socket.IO payload."""
    i = 0
    while i < len(rest) and rest[i].isdigit():
        i += 1
    return rest[i:]


def connect(base_url, cookie, room_id, *, version=1, **kw):
    """A RawSocket connected to `room_id` with the usual auth (VER1, AUTH1)."""
    sock = RawSocket(base_url, cookie, **kw)
    try:
        sock.open({"v": version, "room": room_id})
    except Exception:
        sock.close()
        raise
    return sock


def sync(sock, since=-1, timeout=None):
    """`sync {since}` and its ack (JOIN1)."""
    return sock.ack(sock.emit("sync", {"since": since}), timeout)[0]
