"""The common incoming WebSocket frame, parsed in a few C calls (RECV1, issue 18 part 1).

Profiled under the bench's relay load (gevent, 60 rooms; py-spy): 17 % of the
server's CPU went to wsproto parsing what browsers send, one small masked text
frame per stroke preview, through a pure-Python generator per frame (buffer,
header, unmasking, UTF-8 check, event objects). `FastReceive` wraps a server
connection's wsproto `WSConnection` after the handshake (rooms/transport/server.py)
and parses the one frame shape that every Playroom message is:

    FIN, text, no RSV bits (no extension), masked, at most FAST_MAX bytes

as one slice, one big-integer XOR for the mask, one `decode("utf-8")`, and yields
wsproto's own `TextMessage` event for it, the event wsproto yields for that frame.
Anything else — a ping, pong or close, a fragment, a binary or unmasked frame, bytes
that are not UTF-8, a frame above FAST_MAX — and everything after it on that
connection goes to wsproto as before (`slow`), so its protocol handling (answers to
pings, close codes, limits) is untouched. `send` and every other attribute are the
wrapped connection's. simple-websocket and wsproto are pinned (pyproject.toml);
`check_receive` refuses to start on internals this was not written against;
PLAYROOM_FAST_RECEIVE=0 is the A/B switch (bench/).
"""
from wsproto.events import TextMessage

FAST_MAX = 1 << 20          # larger frames stream through wsproto (its size limits)
_TEXT_FIN = 0x81            # FIN + text opcode, no RSV bits


def unmask(mask, payload):
    """RFC 6455 5.3: payload XOR the 4-byte mask repeated."""
    n = len(payload)
    if not n:
        return b""
    key = (mask * ((n >> 2) + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


class FastReceive:
    """A server `wsproto.WSConnection` whose common incoming frames skip wsproto."""
    __slots__ = ("_ws", "_buf", "slow")

    def __init__(self, ws):
        self._ws = ws
        self._buf = b""
        self.slow = False

    def __getattr__(self, name):
        return getattr(self._ws, name)

    def send(self, event):
        return self._ws.send(event)

    def receive_data(self, data):
        if self.slow or data is None:          # None: the peer closed (wsproto's call)
            if self._buf:
                self._hand_over()
            self._ws.receive_data(data)
        else:
            self._buf += data

    def _hand_over(self):
        """From here on wsproto parses everything, starting with what is buffered."""
        self.slow = True
        rest, self._buf = self._buf, b""
        if rest:
            self._ws.receive_data(rest)

    def events(self):
        if not self.slow:
            buf, pos, end = self._buf, 0, len(self._buf)
            while end - pos >= 2:
                b1 = buf[pos + 1]
                if buf[pos] != _TEXT_FIN or not b1 & 0x80:
                    break                       # not a plain text frame, or unmasked
                n, head = b1 & 0x7F, pos + 2
                if n == 126:
                    if end - head < 2:
                        break
                    n, head = int.from_bytes(buf[head:head + 2], "big"), head + 2
                elif n == 127:
                    if end - head < 8:
                        break
                    n, head = int.from_bytes(buf[head:head + 8], "big"), head + 8
                if n > FAST_MAX:
                    break
                stop = head + 4 + n
                if stop > end:                  # the rest of the frame is on its way
                    self._buf = buf[pos:]
                    return
                try:
                    text = unmask(buf[head:head + 4], buf[head + 4:stop]).decode("utf-8")
                except UnicodeDecodeError:
                    break                       # wsproto fails the connection (1007)
                pos = stop
                self._buf = buf[pos:]
                yield TextMessage(data=text, frame_finished=True, message_finished=True)
            else:
                self._buf = buf[pos:]
                return
            self._buf = buf[pos:]
            self._hand_over()
        yield from self._ws.events()


def check_receive(ws_base=None, conn_class=None):
    """Start-up check for RECV1: simple-websocket's reader feeds `self.ws.receive_data`
    and reads `self.ws.events()` only, and wsproto's TextMessage takes the fields used
    here. Raises RuntimeError otherwise (arguments: for the test of this check)."""
    import inspect
    import simple_websocket.ws as sws
    from wsproto import WSConnection
    ws_base = ws_base or sws.Base
    conn_class = conn_class or WSConnection
    thread = inspect.getsource(ws_base._thread)
    handle = inspect.getsource(ws_base._handle_events)
    problems = []
    if "self.ws.receive_data(in_data)" not in thread:
        problems.append("simple_websocket Base._thread feeds self.ws.receive_data")
    if "self.ws.events()" not in handle:
        problems.append("simple_websocket Base._handle_events reads self.ws.events()")
    for name in ("receive_data", "events", "send"):
        if not callable(getattr(conn_class, name, None)):
            problems.append(f"wsproto WSConnection.{name}")
    params = inspect.signature(TextMessage).parameters
    if not {"data", "frame_finished", "message_finished"} <= set(params):
        problems.append("wsproto TextMessage(data, frame_finished, message_finished)")
    if problems:
        raise RuntimeError("RECV1 was written for other library internals: " + "; ".join(problems))
