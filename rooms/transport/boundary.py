"""The transport boundary: what a client's packets may reach (WIRE1, WIRE2).

python-socketio hands every event packet to `_trigger_event` by the name the client
chose, and some names are special there: an ordinary event named `disconnect` ran the
server's disconnect handler while the socket stayed open (and in its room's
broadcasts), `connect` re-ran the connect handler, `message`, `json` and the
catch-all `*` are Flask-SocketIO's. Extra arguments, a payload that is not a list, or
a packet that does not decode raised inside the library: a traceback in the log and
no answer. So the gate below stands between the decoded packet and the dispatcher:

- a second Socket.IO CONNECT on a connection already connected is refused (the
  socket stays bound to its one participant, AUTH1);
- an event reaches a handler only if its name is one of the app's own (registered
  on the default namespace, not reserved) and it carries at most one argument;
  anything else is refused before dispatch, as a value, through `refuse` (the app
  sends `bad_event` and counts it towards RATE2) and, when the client asked for an
  ack, with a negative ack;
- a Socket.IO packet that does not decode (bad JSON, nesting too deep, a number
  too large for a double, a stray or missing binary attachment, a placeholder that
  names no attachment) is refused the same way, with a negative ack when its header
  names an ack id, and one short log line (rate-limited, never a traceback); before
  the Socket.IO connect there is nobody to answer, so the connection is closed;
- an Engine.IO frame that is no Engine.IO packet at all is garbage no Socket.IO
  client sends: one short log line and the connection is closed at once.
"""
import logging
import re
import threading

from engineio import exceptions as eio_exceptions
from engineio import socket as eio_socket
from socketio import packet as sio_packet

from rooms.core.ratelimit import TokenBucket
from rooms.transport.polling import answer_closed_sessions

log = logging.getLogger("playroom.boundary")

# Names python-socketio or Flask-SocketIO treat specially when an event carries them.
RESERVED = frozenset({"connect", "disconnect", "connect_error", "message", "json", "*"})
NAMESPACE = "/"
# A Socket.IO EVENT on the default namespace with no ack id: its JSON array follows.
_PLAIN_EVENT = str(sio_packet.EVENT) + "["


class Undecodable(ValueError):
    """A packet that does not decode (bad JSON, nesting too deep, a huge number …).
    `id`: the ack id its header asked for, when that much could be read."""

    def __init__(self, what, id=None):
        super().__init__(what)
        self.id = id


# A Socket.IO packet's header: type, attachment count, namespace, ack id (the JSON
# payload follows). Read by hand when the payload does not decode, so the client
# that asked for an ack still gets one (a refusal).
_HEADER = re.compile(r"[0-6](?:\d{1,10}-)?(?:/[^,]*,)?(\d{1,99})?")


def ack_id_of(encoded):
    """The ack id in an encoded packet's header, or None."""
    m = _HEADER.match(encoded) if isinstance(encoded, str) else None
    return int(m.group(1)) if m and m.group(1) else None


def checked_packets(base):
    """A packet class like `base` whose decoding failures are all `Undecodable` (json
    raises RecursionError for deep nesting, ValueError for a 101-digit integer; a
    binary attachment whose placeholder names no attachment raises IndexError or
    TypeError when the event is put together)."""
    def decode(self, encoded_packet):
        try:
            return base.decode(self, encoded_packet)
        except Exception as e:
            raise Undecodable(f"{type(e).__name__}: {str(e)[:40]}", ack_id_of(encoded_packet)) from None

    def add_attachment(self, attachment):
        try:
            return base.add_attachment(self, attachment)
        except Exception as e:
            raise Undecodable(f"{type(e).__name__}: {str(e)[:40]}", self.id) from None
    return type("Checked" + base.__name__, (base,), {"decode": decode, "add_attachment": add_attachment})


class LogBudget:
    """Log lines about one kind of abuse: at most `rate` a second (burst `burst`), so
    1,000 bad packets write a handful of short lines, not megabytes."""

    def __init__(self, logger, rate=1.0, burst=10):
        self.logger = logger
        self.bucket = TokenBucket(rate, burst)
        self.suppressed = 0

    def warning(self, msg, *args):
        if not self.bucket.take():
            self.suppressed += 1
            return
        if self.suppressed:
            msg += " (%d similar lines suppressed)"
            args = (*args, self.suppressed)
            self.suppressed = 0
        self.logger.warning(msg, *args)


def event_label(name):
    """What an error event may echo of a refused event's name."""
    if isinstance(name, str) and len(name) <= 40 and name.isprintable():
        return name
    return "unknown"


_HANDLING = threading.local()     # (eio_sid, characters) of the packet being handled


def packet_chars(eio_sid):
    """How many characters the Socket.IO packet had whose event is being handled now
    for `eio_sid`, or None when not known. Handlers run in the task that read the
    packet (async_handlers=False, app.py), before it reads another one."""
    packet = getattr(_HANDLING, "packet", None)
    return packet[1] if packet is not None and packet[0] == eio_sid else None


class Gate:
    """Installed on one python-socketio Server (see the module docstring).

    `refuse(sid, label, reason)` reports a refused event; returns the negative ack."""
    fast = True         # RECV2 (False: bench/'s A/B switch PLAYROOM_DIRECT_EVENTS=0)

    def __init__(self, server, refuse):
        check_library(server)
        self.server = server
        self.refuse = refuse
        self.log = LogBudget(log)
        self._dispatch = server._handle_event
        self._on_message = server._handle_eio_message
        server.packet_class = checked_packets(server.packet_class)
        server._handle_event = self.on_event
        server.eio.on("message", self.on_message)

    def ours(self, data):
        """WIRE1/WIRE2: an app event name and at most one argument."""
        if type(data) is not list or not 1 <= len(data) <= 2:
            return False
        name = data[0]
        return (type(name) is str and name not in RESERVED
                and name in self.server.handlers.get(NAMESPACE, ()))

    def on_event(self, eio_sid, namespace, id, data):
        """In place of python-socketio's `_handle_event`: dispatch only our events."""
        if self.ours(data) and (namespace or NAMESPACE) == NAMESPACE:
            return self._dispatch(eio_sid, namespace, id, data)
        sid = self.server.manager.sid_from_eio_sid(eio_sid, NAMESPACE)
        if sid is None or not self.server.manager.is_connected(sid, NAMESPACE):
            return      # not connected: nobody to answer (python-socketio drops it too)
        name = data[0] if type(data) is list and data else None
        reason = ("unknown namespace" if (namespace or NAMESPACE) != NAMESPACE
                  else "one argument at most" if self.ours([name]) else "unknown event")
        ack = self.refuse(sid, event_label(name), reason)
        if id is not None and self.server.manager.is_connected(sid, NAMESPACE):
            self.server._send_packet(eio_sid, self.server.packet_class(
                sio_packet.ACK, namespace=NAMESPACE, id=id, data=[ack]))

    def on_message(self, eio_sid, data):
        """Engine.IO's `message` handler: python-socketio's, minus its tracebacks."""
        if self.second_connect(eio_sid, data):
            return
        pending = self.server._binary_packet.get(eio_sid)
        if pending is not None and not isinstance(data, (bytes, bytearray)):
            # Attachments are binary messages: a text message here means the event
            # that announced them never gets them. Refuse that one; this message is
            # a packet of its own (python-socketio took it as an attachment, and the
            # events behind a bogus count went unanswered).
            self.undecodable(eio_sid, "binary attachments missing", pending.id)
        # The packet's length, for a handler of this very packet (packet_chars).
        _HANDLING.packet = (eio_sid, len(data)) if isinstance(data, str) else None
        try:
            if data[:2] == _PLAIN_EVENT and pending is None and self.fast and not self.server.async_handlers \
                    and self.dispatched(eio_sid, data):
                return None
            return self._on_message(eio_sid, data)
        except ValueError as e:   # Undecodable, or the library's protocol errors
            self.undecodable(eio_sid, f"{type(e).__name__}: {str(e)[:60]}", getattr(e, "id", None))
        finally:
            _HANDLING.packet = None

    def dispatched(self, eio_sid, data):
        """RECV2: an event on "/" that asks for no ack (`2[...]`: every stroke
        preview and cursor), handed to its handler as python-socketio would hand it
        (`handler(sid, *args)`, in this task: async_handlers is off), without the
        packet object, the two dispatch layers and their log calls per message.
        Returns False, having done nothing, for anything else — a packet that does
        not decode, an event that is not ours, a socket not connected — which the
        library's path then decodes and refuses as before."""
        try:
            event = self.server.packet_class.json.loads(data[1:])
        except Exception:             # noqa: BLE001 (ValueError, RecursionError: the library's path refuses it)
            return False
        if not self.ours(event):
            return False
        manager = self.server.manager
        sid = manager.sid_from_eio_sid(eio_sid, NAMESPACE)
        if sid is None or not manager.is_connected(sid, NAMESPACE):
            return False
        self.server.handlers[NAMESPACE][event[0]](sid, *event[1:])
        return True

    def second_connect(self, eio_sid, data):
        """WIRE1/AUTH1: a Socket.IO CONNECT on a connection already connected to that
        namespace is refused (`bad_event`), never handed on: python-socketio bound a
        second sid to the connection (or, when it was refused, unbound the first),
        so the socket's later events went unanswered. Returns True if refused."""
        if not isinstance(data, str) or data[:1] != str(sio_packet.CONNECT):
            return False
        namespace = NAMESPACE
        if data[1:2] == "/":
            namespace = data[1:].split(",", 1)[0].split("?", 1)[0]
        sid = self.server.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is None:
            return False
        self.log.warning("refused a second connect on socket %s", eio_sid)
        if namespace == NAMESPACE and self.server.manager.is_connected(sid, NAMESPACE):
            self.refuse(sid, "connect", "already connected")
        return True

    def undecodable(self, eio_sid, what, id=None):
        """Refuse a packet that does not decode; with the ack id its header named,
        the client gets its negative ack too."""
        self.server._binary_packet.pop(eio_sid, None)   # a half-received binary event
        if eio_sid not in self.server.eio.sockets:
            return                                       # closed already
        self.log.warning("refused an undecodable Socket.IO packet from %s (%s)", eio_sid, what)
        sid = self.server.manager.sid_from_eio_sid(eio_sid, NAMESPACE)
        if sid is None or not self.server.manager.is_connected(sid, NAMESPACE):
            close_engineio(self.server.eio.sockets.get(eio_sid))
            return
        ack = self.refuse(sid, "unknown", "undecodable packet")
        if id is not None and self.server.manager.is_connected(sid, NAMESPACE):
            self.server._send_packet(eio_sid, self.server.packet_class(
                sio_packet.ACK, namespace=NAMESPACE, id=id, data=[ack]))


def check_library(server):
    """Start-up check: the library internals the gate replaces still look as it
    expects (python-socketio 5.x; pyproject.toml pins the range)."""
    import inspect
    params = list(inspect.signature(server._handle_event).parameters)
    if params != ["eio_sid", "namespace", "id", "data"]:
        raise RuntimeError(f"python-socketio Server._handle_event changed: {params}")
    if not callable(getattr(server, "_send_packet", None)) or \
            not isinstance(getattr(server, "_binary_packet", None), dict) or \
            server.eio.handlers.get("message") != server._handle_eio_message:
        raise RuntimeError("python-socketio no longer handles Engine.IO messages itself")
    if not isinstance(getattr(server, "handlers", None), dict) or \
            not isinstance(getattr(server, "async_handlers", None), bool):
        raise RuntimeError("python-socketio keeps its event handlers elsewhere (RECV2)")
    if not isinstance(getattr(server, "reserved_events", None), list) or \
            not set(server.reserved_events) <= RESERVED:
        raise RuntimeError(f"python-socketio reserves other names: {server.reserved_events}")


# ------------------------------------------------------------------ Engine.IO frames

def close_engineio(sock):
    """Close an Engine.IO socket now. Not `eio.disconnect`: that waits until the
    socket's queue is sent, which for long-polling needs a GET that may never come
    (a hostile client's request then hung for good)."""
    if sock is not None and not sock.closed:
        sock.close(wait=False, abort=False, reason=sock.server.reason.SERVER_DISCONNECT)


_ENGINEIO_TYPES = frozenset("0123456")
_eio_log = LogBudget(log)


def engineio_frame_ok(frame):
    """An Engine.IO packet python-engineio can decode (text: a packet type digit
    first; binary frames are binary messages). `b…` (base64 binary, polling only)
    is garbage over WebSocket."""
    if isinstance(frame, (bytes, bytearray)):
        return True
    return isinstance(frame, str) and frame[:1] in _ENGINEIO_TYPES


class ScreenedFrames:
    """The WebSocket engine.io's reader loop gets: `wait()` ends the connection
    (returns None, as for a closed one) at an undecodable frame, instead of raising
    out of the loop. Everything else is the WebSocket's own."""
    __slots__ = ("_ws",)

    def __init__(self, ws):
        self._ws = ws

    def wait(self):
        frame = self._ws.wait()
        if frame is None or engineio_frame_ok(frame):
            return frame
        _eio_log.warning("closed a WebSocket: undecodable Engine.IO frame %r", frame[:20])
        return None

    def __getattr__(self, name):
        return getattr(self._ws, name)


def screened_websocket(base):
    """A subclass of engine.io's WebSocket driver class `base` (simple-websocket's or
    eventlet's) that hands engine.io's handler the WebSocket as ScreenedFrames."""
    def __init__(self, handler, server, **kwargs):
        base.__init__(self, lambda ws: handler(ScreenedFrames(ws)), server, **kwargs)
    return type("Screened" + base.__name__, (base,), {"__init__": __init__, "screened": True})


def screen_engineio(eio_server):
    """WIRE2 for Engine.IO packets, in every async mode: an undecodable WebSocket
    frame or long-polling body closes the connection with one short log line (a
    polling POST gets 400 Bad Request) instead of a traceback."""
    ws = eio_server._async.get("websocket")
    if ws is not None and not getattr(ws, "screened", False):
        eio_server._async = {**eio_server._async, "websocket": screened_websocket(ws)}
    _screen_polling()
    answer_closed_sessions(eio_server)


def _screen_polling():
    post = eio_socket.Socket.handle_post_request
    if getattr(post, "screened", False):
        return

    def handle_post_request(self, environ):
        try:
            return post(self, environ)
        except eio_exceptions.EngineIOError as e:
            # A packet type no client sends (NOOP, PING, OPEN, an unknown digit), a
            # body over the limit: engine.io answers 400 after its `disconnect`,
            # which waited for a GET to take the queue away, so this POST hung for
            # good. Closed here first, its `disconnect` finds nothing left to wait for.
            _eio_log.warning("closed a long-polling session: %s", type(e).__name__)
            close_engineio(self)
            raise
        except (ValueError, IndexError) as e:   # (Socket.IO messages are gated above)
            _eio_log.warning("refused an undecodable long-polling body (%s)", type(e).__name__)
            close_engineio(self)
            raise eio_exceptions.EngineIOError() from None  # engine.io answers 400

    handle_post_request.screened = True
    eio_socket.Socket.handle_post_request = handle_post_request
