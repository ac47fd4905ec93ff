"""Engine.IO tuning applied by the server entry point (app.py), the same in every
async mode: one shared ping task (here), and bounded queues per connection (RATE4,
below).

One ping task per server instead of one per connection. python-engineio sends each
socket's heartbeat from a task of its own that sleeps `ping_interval` and sends one
PING; so every idle connection kept a sleeping green thread (eventlet, gevent) or a
whole OS thread (threading), with its stack, as long as it lived: about a third of
the memory of an idle connection (bench/ idle). Here one task wakes every `tick`
(0.1 s), or sooner when a ping falls due before that, and sends the pings that are
due: each ping leaves on time, `ping_interval` after it was scheduled, as
engine.io's own task sends it.
"""
import collections
import logging
import struct
import threading
import time

from engineio import packet as eio_packet
from engineio import socket as eio_socket


class SharedPinger:
    """Sends each socket's next PING `ping_interval` after it was scheduled, and
    closes a socket whose PING went `ping_timeout` without an answer at that time
    (engine.io's own service task looks only every `ping_timeout`, so a dead
    session outlived its timeout by up to that much: the protocol suites' polling
    ping-timeout tests, tests/conformance)."""

    GRACE = 0.001     # s past the timeout: engine.io closes only when it is exceeded

    def __init__(self, server, tick=0.1, clock=time.monotonic):
        self.server = server
        self.tick = tick
        self.clock = clock
        self.due = {}                 # engine.io Socket -> monotonic time its ping is due
        self.answer_by = {}           # engine.io Socket -> monotonic time its PONG is due
        self._lock = threading.Lock()
        self._task = None

    def schedule(self, sock):
        with self._lock:
            self.due[sock] = self.clock() + self.server.ping_interval
            self.answer_by.pop(sock, None)        # (scheduled once its PONG came)
            start = self._task is None
            if start:
                self._task = True
        if start:
            self._task = self.server.start_background_task(self._run)

    def send_due(self):
        """Send every ping that is due; returns how many were sent."""
        now = self.clock()
        with self._lock:
            ready = [s for s, t in self.due.items() if t <= now]
            for s in ready:
                del self.due[s]
            silent = [s for s, t in self.answer_by.items() if t <= now]
            for s in silent:
                del self.answer_by[s]
        for s in silent:
            self._close_silent(s)
        sent = 0
        for s in ready:
            if not s.closing and not s.closed:
                with self._lock:
                    self.answer_by[s] = self.clock() + self.server.ping_timeout + self.GRACE
                s.last_ping = time.time()     # what engine.io's own ping task records
                s.send(eio_packet.Packet(eio_packet.PING))
                sent += 1
        return sent

    def _close_silent(self, sock):
        """engine.io's own check closes `sock` if its last PING is still unanswered
        (and, with cap_queues, hangs up); an answer since leaves it open."""
        try:
            if not sock.closing and not sock.closed:
                sock.check_ping_timeout()
        except Exception:     # closed meanwhile: nothing to do; the other pings go on
            self.server.logger.info("ping timeout check of a closing socket failed")

    def wait(self):
        """Seconds to sleep before the next look: until the earliest ping or answer is
        due, and never more than `tick`. (Sleeping a whole tick sent each ping up to a tick
        after its time: with the conformance suites' 300 ms interval and 200 ms
        timeout, a session outlived its ping timeout, tests/conformance.)"""
        with self._lock:
            first = min((*self.due.values(), *self.answer_by.values()), default=None)
        if first is None:       # a ping scheduled meanwhile is due an interval later
            return min(self.tick, self.server.ping_interval)
        return min(self.tick, max(0.0, first - self.clock()))

    def _run(self):
        while True:
            self.server.sleep(self.wait())
            try:
                self.send_due()
            except Exception:   # a broken socket must not stop every heartbeat
                self.server.logger.exception("sending pings failed")


def share_pings(tick=0.1):
    """Make engine.io's sockets use one SharedPinger per server (idempotent)."""
    if getattr(eio_socket.Socket.schedule_ping, "shared", False):
        return

    def schedule_ping(self):
        # Same rule as engine.io's: a new ping only once the last one was answered.
        if self.last_ping:
            self.last_ping = None
            pinger = self.server.__dict__.get("_playroom_pinger")
            if pinger is None:
                pinger = self.server.__dict__.setdefault("_playroom_pinger",
                                                         SharedPinger(self.server, tick))
            pinger.schedule(self)

    schedule_ping.shared = True
    eio_socket.Socket.schedule_ping = schedule_ping


# ---------------------------------------------------------------- queue caps (RATE4)
#
# python-engineio and simple-websocket queue without bound on both sides of a
# connection: simple-websocket's reader task reads the TCP socket as fast as data
# comes and appends every message to `input_buffer` (gevent, threading), and each
# engine.io Socket keeps what it is asked to send in `Socket.queue` until its
# writer task gets it onto the wire, which under WebSocket blocks for as long as
# the client does not read. One socket that floods without reading its answers
# (or a tablet that stops reading a busy room) thus took memory and time from
# every room. The caps below close such a socket instead; its browser reconnects
# and syncs (JOIN1). eventlet reads each message only when engine.io asks for the
# next one, so TCP itself holds a fast sender back there.

_COUNT_LOCK = threading.Lock()
log = logging.getLogger("playroom.transport")


class QueueCaps:
    """The bounds of RATE4, per connection (default: activities.contract.protocol.LIMITS)."""

    def __init__(self, in_packets=None, in_bytes=None, out_packets=None, out_bytes=None):
        from activities.contract.protocol import LIMITS
        self.in_packets = in_packets or LIMITS["in_packets"]
        self.in_bytes = in_bytes or LIMITS["in_bytes"]
        self.out_packets = out_packets or LIMITS["out_packets"]
        self.out_bytes = out_bytes or LIMITS["out_bytes"]


def _size(pkt):
    data = getattr(pkt, "data", None)
    return len(data) if isinstance(data, (str, bytes, bytearray)) else 0


def check_patchable(socket_class=None, ws_base=None):
    """Fail at start-up, not under load, if the library internals the caps hook
    into are not what they were written against (python-engineio 4.x,
    simple-websocket 1.x: pyproject.toml pins both ranges). The classes default
    to the installed ones (arguments: for the test of this check)."""
    import inspect
    import simple_websocket.ws as sws
    socket_class = socket_class or eio_socket.Socket
    ws_base = ws_base or sws.Base
    problems = []
    for owner, name in ((socket_class, "send"), (socket_class, "poll"),
                        (socket_class, "close"), (socket_class, "_websocket_handler"),
                        (socket_class, "check_ping_timeout"),
                        (ws_base, "_handle_events"), (ws_base, "_thread")):
        if not callable(getattr(owner, name, None)):
            problems.append(f"{owner.__module__}.{owner.__name__}.{name} is gone")
    if not problems:
        expected = (
            (socket_class._websocket_handler, "ws.wait()", "engine.io's websocket handler reads ws.wait()"),
            (socket_class._websocket_handler, "self.poll()", "engine.io's websocket writer uses self.poll()"),
            (socket_class.send, "self.queue.put(pkt)", "engine.io's Socket.send puts into self.queue"),
            (socket_class.check_ping_timeout, "return False",
             "engine.io's check_ping_timeout answers False when it closed the socket"),
            (ws_base._thread, "self.connected = self._handle_events()",
             "simple-websocket's reader stops when _handle_events is false"),
            (ws_base._handle_events, "self.input_buffer.append",
             "simple-websocket buffers messages in input_buffer"),
        )
        for func, text, what in expected:
            if text not in inspect.getsource(getattr(func, "original", func)):
                problems.append(f"no longer true: {what}")
    if problems:
        raise RuntimeError("cannot cap the transport queues (RATE4): " + "; ".join(problems))


class _Guarded:
    """The WebSocket as engine.io's handler sees it: once the engine.io socket is
    closed (the server cut it, or sent a flooder away), it reads nothing more, so
    messages still waiting behind the cut are never handled."""

    def __init__(self, eio_sock, ws):
        self._eio_sock = eio_sock
        self._ws = ws
        self._out = _frame_writer(ws)             # one frame per broadcast (FRAME1)
        # DIRECT1: the simple-websocket reader's buffer, when there is one (`wait`).
        self._inner = _simple_websocket(ws)

    def wait(self):
        # Let other tasks run between two messages: with a client whose messages
        # are always there to read, eventlet never switched away from this
        # connection (one flooding socket froze every room). simple-websocket's
        # reader is a task of its own: when its buffer is empty, `wait` blocks (the
        # other tasks run) and the yield would only be one more trip through the loop.
        inner = self._inner
        if inner is None or inner.input_buffer:
            self._eio_sock.server.sleep(0)
        if self._eio_sock.closed:
            return None
        return self._ws.wait()

    def send(self, message):
        # What engine.io's writer took from this socket's queue, in its order.
        try:
            kind, out = type(message), self._out
            if kind is SharedFrame and out is not None and out.write(message.frame()):
                # An emit's shared text (FRAME1): its WebSocket frame was built once
                # for every recipient.
                return None
            if kind is _Rest:
                out.write_raw(message)      # the end of a frame begun by `direct`
                return None
            return self._ws.send(message)
        finally:
            sock = self._eio_sock
            if sock._playroom_flight:
                with _COUNT_LOCK:
                    sock._playroom_flight = max(0, sock._playroom_flight - 1)

    def direct(self, shared):
        """DIRECT1: write an emit's shared frame now, from the emitting task, when
        nothing of this socket is waiting to be written (its queue is empty and its
        writer holds nothing it took): the frame is then next in this socket's order
        either way, and the hand-over to the writer task (a queue, a task switch, a
        poll) is saved. The write never waits: if another task is writing to this
        socket, or the network takes none of it, the packet goes to the queue as
        before (False); if it takes part, the rest goes to the queue, first, and the
        writer finishes the frame before anything else."""
        out = self._out
        if out is None or out.try_write is None:
            return False
        sock = self._eio_sock
        if sock._playroom_flight or sock.queue.qsize() or not sock.upgraded or sock.closed:
            return False
        if not sock.check_ping_timeout():
            return True         # as engine.io's send: nothing for a client that stopped answering
        frame = shared.frame()
        sent = out.try_write(frame)
        if not sent:                        # None (busy, closed) or 0 (buffer full)
            return False
        if sent < len(frame):
            _enqueue(sock, _RestPacket(_Rest(frame[sent:])))
        return True

    def close(self):
        from simple_websocket import ConnectionClosed
        from wsproto.utilities import LocalProtocolError
        try:
            return self._ws.close()
        except (OSError, ConnectionClosed, LocalProtocolError):
            pass        # already closing: hung up on (RATE4) or closed by the client

    def __getattr__(self, name):
        return getattr(self._ws, name)

    def raw_socket(self):
        """The TCP socket: eventlet's WebSocket has `socket`; simple-websocket's
        wrapper a Server in `ws` with `sock`."""
        sock = getattr(self._ws, "socket", None)
        if sock is None:
            sock = getattr(getattr(self._ws, "ws", None), "sock", None)
        return sock


def _cut(eio_sock, why):
    """Close a socket that went past its queue caps: engine.io first (the
    disconnect handler runs, the socket leaves its rooms), then the TCP connection."""
    log.warning("closing socket %s: %s (RATE4)", eio_sock.sid, why)
    try:
        eio_sock.close(wait=False, abort=True, reason=eio_sock.server.reason.TRANSPORT_ERROR)
    finally:
        _hang_up(eio_sock)


def _hang_up(eio_sock):
    """Shut the TCP connection under a WebSocket: a writer blocked on a client
    that does not read, and the reader waiting for its next message, both end."""
    import socket
    ws = eio_sock._playroom_ws
    raw = ws.raw_socket() if ws is not None else None
    if raw is not None:
        try:
            raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass                    # already gone


def drop_connection(eio_server, eio_sid, why, grace):
    """Stop reading from an engine.io connection now (nothing more it sent is
    handled) and let its writer send what is queued (a `bye`); hang up the TCP
    connection after `grace` seconds if the client has not taken it by then (a
    flood that does not read: RATE3)."""
    sock = getattr(eio_server, "sockets", {}).get(eio_sid)
    if sock is None or sock.closed:
        return
    log.warning("closing socket %s: %s", eio_sid, why)
    sock.close(wait=False, abort=True, reason=eio_server.reason.TRANSPORT_ERROR)
    if getattr(sock, "_playroom_ws", None) is not None:      # (cap_queues installed)
        eio_server.start_background_task(_hang_up_after, sock, grace)


def _hang_up_after(eio_sock, grace):
    eio_sock.server.sleep(grace)
    _hang_up(eio_sock)


def _over_in(ws, caps):
    waiting = ws.input_buffer
    if len(waiting) > caps.in_packets:
        return True
    return ws.incoming_message_len + sum(map(len, waiting)) > caps.in_bytes


def cap_queues(caps=None):
    """Patch engine.io's Socket and simple-websocket's reader with `caps`
    (idempotent). Invariants: an engine.io socket never holds more than
    `out_packets` packets or (a packet more than) `out_bytes` bytes to send; a
    simple-websocket connection never holds more than `in_packets` messages or
    `in_bytes` bytes it has read but engine.io has not taken."""
    import simple_websocket.ws as sws
    from wsproto.events import CloseConnection
    from wsproto.frame_protocol import CloseReason
    if getattr(eio_socket.Socket.send, "capped", False):
        return
    check_patchable()
    caps = caps or QueueCaps()
    Socket = eio_socket.Socket
    send, poll, handler = Socket.send, Socket.poll, Socket._websocket_handler
    check_ping = Socket.check_ping_timeout
    handle_events = sws.Base._handle_events
    Socket._playroom_out = 0          # bytes queued in self.queue (under _COUNT_LOCK)
    Socket._playroom_sizes = ()       # their sizes, oldest first (a deque once used)
    Socket._playroom_cut = False      # True once past a cap: nothing more is queued
    Socket._playroom_ws = None
    Socket._playroom_flight = 0       # packets the WebSocket writer took, not yet written

    def capped_send(self, pkt):
        if self._playroom_cut:
            return
        shared, ws = pkt.encode_cache, self._playroom_ws
        if type(shared) is SharedFrame and ws is not None and _DIRECT[0] and ws.direct(shared):
            return                  # DIRECT1: written (an emit's frame, nothing waiting)
        size = _size(pkt)
        with _COUNT_LOCK:
            queued = self.queue.qsize()
            sizes = self._playroom_sizes
            # Bytes behind the oldest queued packet: that one is next to be written,
            # so one large message (a joiner's state) followed by its ack is no
            # backlog; a client that does not read is.
            behind = self._playroom_out - (sizes[0] if sizes else 0)
            over = queued and (queued >= caps.out_packets or behind > caps.out_bytes)
            if over:
                self._playroom_cut = True
            else:
                if not sizes:
                    sizes = self._playroom_sizes = collections.deque()
                sizes.append(size)
                self._playroom_out += size
        if over:
            why = f"{queued} packets, {self._playroom_out} bytes waiting to be sent"
            self.server.start_background_task(_cut, self, why)
            return
        send(self, pkt)

    def counted_poll(self):
        packets = poll(self)
        with _COUNT_LOCK:
            if self.upgraded and self._playroom_ws is not None:
                # taken by the WebSocket writer: in flight until it wrote them (DIRECT1)
                self._playroom_flight += len(packets)
            sizes = self._playroom_sizes
            for _ in packets:
                if sizes:
                    self._playroom_out -= sizes.popleft()
            self._playroom_out = max(0, self._playroom_out) if sizes else 0
        return packets

    def checked_ping(self):
        # engine.io closes a socket whose client stopped answering pings, but its
        # writer may be blocked on that very client forever: hang up as well.
        alive = check_ping(self)
        if not alive:
            self.server.start_background_task(_hang_up, self)
        return alive

    def guarded_handler(self, ws):
        self._playroom_ws = _Guarded(self, ws)
        return handler(self, self._playroom_ws)

    def bounded_events(self):
        keep = handle_events(self)
        if keep and _over_in(self, caps):
            self.connected = False      # first: no other task sends a close of its own
            log.warning("closing a WebSocket: %d messages waiting to be handled (RATE4)",
                        len(self.input_buffer))
            self.input_buffer.clear()
            self.incoming_message = None
            try:
                self.sock.send(self.ws.send(CloseConnection(CloseReason.POLICY_VIOLATION,
                                                            "too much unread input")))
            except Exception:           # the connection is being dropped anyway
                pass
            self.event.set()            # wake engine.io's reader: it finds the end
            return False
        return keep

    capped_send.capped = True
    capped_send.original, counted_poll.original = send, poll
    guarded_handler.original, bounded_events.original = handler, handle_events
    checked_ping.original = check_ping
    Socket.send = capped_send
    Socket.check_ping_timeout = checked_ping
    Socket.poll = counted_poll
    Socket._websocket_handler = guarded_handler
    sws.Base._handle_events = bounded_events


# ---------------------------------------------------------------- one frame per broadcast (FRAME1)
#
# python-socketio already encodes an emit without an ack callback once: one
# Socket.IO packet and one Engine.IO packet object go into the queue of every
# recipient (socketio.Manager.emit, "generated once and reused"). What was left per
# recipient is the WebSocket frame: each socket's writer task handed the packet's text
# to simple-websocket (wsproto: UTF-8 encoding, a frame object, header and payload
# copies) or to eventlet's framing. A server's frames are not masked (RFC 6455 5.1), so
# one emit's frame is the same bytes for every recipient: it is built once here and
# each writer writes those bytes, from that socket's own queue, so it keeps its place
# among the socket's other packets (acks, errors, pings). A packet that leaves by
# long-polling (or before an upgrade finished) is encoded into the polling payload as
# before: the shared text is an ordinary `str`. With a Redis message queue the
# published message is unchanged; each process (the publisher too) delivers it
# through Manager.emit, so the frame is built once per process for its own sockets.

_TEXT_FIN = 0x81            # FIN + text opcode


def text_frame(text):
    """The unmasked, unfragmented, uncompressed RFC 6455 text frame of `text`: what
    wsproto and eventlet write for a server's text message (tests/unit/transport)."""
    data = text.encode("utf-8")
    n = len(data)
    if n <= 125:
        head = bytes((_TEXT_FIN, n))
    elif n <= 0xFFFF:
        head = struct.pack("!BBH", _TEXT_FIN, 126, n)
    else:
        head = struct.pack("!BBQ", _TEXT_FIN, 127, n)
    return head + data


class SharedFrame(str):
    """The encoded Engine.IO packet of one emit (a `str`, so every other path treats it
    as the library would), with its WebSocket frame built on first use, once."""
    _frame = None

    def frame(self):
        frame = self._frame
        if frame is None:
            frame = self._frame = text_frame(self)
        return frame


class _Rest(bytes):
    """The part of a shared frame that a direct write (DIRECT1) could not write."""


class _RestPacket:
    """The queue's item for a `_Rest`: engine.io's writer sends `pkt.encode()`."""
    __slots__ = ("data",)
    encode_cache = None

    def __init__(self, rest):
        self.data = rest

    def encode(self):
        return self.data


def _enqueue(eio_sock, pkt):
    """Put `pkt` in the socket's queue with the bookkeeping of `capped_send` (its
    size counted until the writer takes it), without engine.io's send."""
    with _COUNT_LOCK:
        sizes = eio_sock._playroom_sizes
        if not sizes:
            sizes = eio_sock._playroom_sizes = collections.deque()
        sizes.append(len(pkt.data))
        eio_sock._playroom_out += len(pkt.data)
    eio_sock.queue.put(pkt)


# DIRECT1 on/off (share_frames; PLAYROOM_DIRECT_WRITES=0 is the bench's A/B switch).
_DIRECT = [False]


def _unwrap(ws):
    from rooms.transport.boundary import ScreenedFrames
    while isinstance(ws, ScreenedFrames):    # (WIRE2's reader; it sends as the ws does)
        ws = ws._ws
    return ws


def _simple_websocket(ws):
    """simple-websocket's connection under engine.io's wrapper (SimpleWebSocketWSGI),
    or None (eventlet's own WebSocket)."""
    inner = getattr(_unwrap(ws), "ws", None)
    if inner is not None and hasattr(inner, "connected") and hasattr(inner, "sock"):
        return inner
    return None


def _nonblocking(sock):
    """The OS socket under a green socket when it never blocks (gevent: `_sock`,
    eventlet: `fd`), else None (threading: a blocking socket; no direct writes)."""
    import _socket                          # (the C type: `socket.socket` may be green)
    for name in ("_sock", "fd"):
        raw = getattr(sock, name, None)
        if isinstance(raw, _socket.socket) and raw.gettimeout() == 0.0:
            return raw
    return None


class _FrameOut:
    """How pre-built frames reach one WebSocket (FRAME1, DIRECT1):
    `write(frame)` writes it whole under the connection's write lock (False once
    the connection is no longer open: the library's own send then fails as it
    would); `write_raw(data)` the same for the rest of a frame; `try_write(frame)`,
    when this mode has a socket that never blocks (gevent, eventlet; None under
    threading), writes what the network takes now and returns its length, or None
    when the connection is closed or another task holds the write lock."""
    __slots__ = ("write", "write_raw", "try_write")

    def __init__(self, write, write_raw, try_write):
        self.write, self.write_raw, self.try_write = write, write_raw, try_write


def _try_writer(lock, raw, is_open):
    if raw is None:
        return None

    def try_write(frame):
        if not is_open() or not lock.acquire(False):
            return None
        try:
            return raw.send(frame)
        except BlockingIOError:
            return 0
        except OSError:
            return None                     # the library's send fails as it would
        finally:
            lock.release()
    return try_write


def _frame_writer(ws):
    """A `_FrameOut` for `ws` (as engine.io's handler sees it); None when this
    connection's frames are not plain (permessage-deflate, the A/B switch
    PLAYROOM_WS_DEFLATE) or its writes might be partial, so its packets go the
    library's way."""
    inner = _simple_websocket(ws)
    if inner is not None:
        from wsproto.connection import ConnectionState
        conn = getattr(inner.ws, "connection", None)
        proto = getattr(conn, "_proto", None)
        if proto is None or proto.extensions or proto.client:
            return None
        if not getattr(inner.sock, "whole", False):   # server._WholeWrites (WIRE3)
            return None
        opened = ConnectionState.OPEN
        sock = inner.sock

        def is_open():
            return inner.connected and conn.state is opened

        def write(frame):
            if not is_open():
                return False
            sock.send(frame)
            return True
        lock = getattr(sock, "_lock", None)
        raw = _nonblocking(getattr(sock, "_sock", None)) if lock is not None else None
        return _FrameOut(write, sock.send, _try_writer(lock, raw, is_open))
    ws = _unwrap(ws)
    if type(ws).__module__ == "eventlet.websocket":
        import eventlet.websocket
        if not isinstance(ws, eventlet.websocket.RFC6455WebSocket) or ws.client \
                or (ws.extensions or {}).get("permessage-deflate") is not None \
                or ws.version not in (8, 13):     # (as eventlet decides to compress)
            return None
        send = ws._send                      # sendall under the socket's send lock

        def write(frame):
            send(frame)
            return True

        def is_open():
            return not ws.websocket_closed
        return _FrameOut(write, send, _try_writer(ws._sendlock, _nonblocking(ws.socket), is_open))
    return None


def check_shareable(manager_class=None, server_class=None, eio_packet_class=None,
                    socket_class=None, ws_base=None, mode=None):
    """Fail at start-up if the internals that FRAME1 relies on are not what it was
    written against (python-socketio 5.x, python-engineio 4.x, simple-websocket 1.x,
    wsproto 1.x, eventlet's RFC6455WebSocket: pinned in pyproject.toml). The classes
    default to the installed ones (arguments: for the test of this check)."""
    import inspect
    import socketio
    import simple_websocket.ws as sws
    manager_class = manager_class or socketio.Manager
    server_class = server_class or socketio.Server
    eio_packet_class = eio_packet_class or eio_packet.Packet
    socket_class = socket_class or eio_socket.Socket
    ws_base = ws_base or sws.Base

    def source(func):
        try:
            return inspect.getsource(getattr(func, "original", func))
        except (OSError, TypeError):
            return ""
    problems = []
    expected = [
        (manager_class, "emit", "eio_packet.Packet(eio_packet.MESSAGE, p)",
         "Manager.emit builds one Engine.IO packet per emit"),
        (manager_class, "emit", "self.server._send_eio_packet(eio_sid, p)",
         "Manager.emit hands that one packet to every recipient"),
        (server_class, "_send_eio_packet", "self.eio.send_packet(eio_sid, eio_pkt)",
         "Server._send_eio_packet queues the packet on the engine.io socket"),
        (eio_packet_class, "encode", "return self.encode_cache",
         "an Engine.IO packet's encode returns its encode_cache"),
        (eio_packet_class, "__init__", "self.encode_cache = None",
         "an Engine.IO packet has an encode_cache"),
        (socket_class, "_websocket_handler", "ws.send(pkt.encode())",
         "engine.io's websocket writer sends pkt.encode() to the ws"),
        (ws_base, "send", "if not self.connected:",
         "simple-websocket refuses to send once not connected"),
        (ws_base, "send", "self.sock.send(out_data)",
         "simple-websocket writes each frame with self.sock.send"),
        # DIRECT1: a WebSocket takes direct writes once upgraded, when its queue is
        # empty and its writer holds nothing it took with poll.
        (socket_class, "_websocket_handler", "self.upgraded = True",
         "engine.io marks a socket upgraded before its WebSocket writer starts"),
        (socket_class, "_websocket_handler", "packets = self.poll()",
         "engine.io's websocket writer takes its packets with self.poll()"),
        (socket_class, "handle_get_request", "if self.upgrading or self.upgraded:",
         "an upgraded socket's polling requests take nothing from the queue"),
        (socket_class, "poll", "self.queue.get(",
         "engine.io's poll takes packets from self.queue"),
        (ws_base, "receive", "while self.connected and not self.input_buffer:",
         "simple-websocket's receive waits only while input_buffer is empty"),
    ]
    if mode == "eventlet":
        import eventlet.websocket
        ws6455 = eventlet.websocket.RFC6455WebSocket
        expected += [
            (ws6455, "send", "self._send(payload)", "eventlet's send writes its frame with _send"),
            (ws6455, "_send", "self.socket.sendall(frame)", "eventlet's _send writes the whole frame"),
            (ws6455, "_pack_message", "compressor = self._get_permessage_deflate_enc()",
             "eventlet compresses only with permessage-deflate"),
            (ws6455, "_get_permessage_deflate_enc", 'options = self.extensions.get("permessage-deflate")',
             "eventlet's permessage-deflate is on when its options are not None"),
            (eventlet.websocket.WebSocket, "__init__", "self._sendlock = semaphore.Semaphore()",
             "eventlet's WebSocket writes under its _sendlock (DIRECT1)"),
            (eventlet.websocket.WebSocket, "__init__", "self.websocket_closed = False",
             "eventlet's WebSocket says when it is closed (DIRECT1)"),
        ]
    for owner, name, text, what in expected:
        func = getattr(owner, name, None)
        if not callable(func):
            problems.append(f"{owner.__module__}.{owner.__name__}.{name} is gone")
        elif text not in source(func):
            problems.append(f"no longer true: {what}")
    try:
        from wsproto import WSConnection
        from wsproto.connection import Connection, ConnectionState
        from wsproto.frame_protocol import FrameProtocol
        if not hasattr(ConnectionState, "OPEN") or "self._proto = FrameProtocol" not in source(Connection.__init__) \
                or "self.extensions" not in source(FrameProtocol.__init__) \
                or "self.connection" not in source(WSConnection.__init__):
            problems.append("no longer true: wsproto's WSConnection.connection frames through _proto.extensions")
    except ImportError:
        problems.append("wsproto is gone")
    if problems:
        raise RuntimeError("cannot share broadcast frames (FRAME1): " + "; ".join(problems))


def share_frames(mode=None, direct=True):
    """Build each emit's WebSocket frame once (FRAME1; idempotent). Needs cap_queues,
    whose `_Guarded` writes the shared frame. `direct`: the emitting task writes it
    itself to a WebSocket with nothing waiting (DIRECT1; False: the A/B switch
    PLAYROOM_DIRECT_WRITES=0 of bench/)."""
    import socketio
    server_class = socketio.Server
    _DIRECT[0] = bool(direct)
    if getattr(server_class._send_eio_packet, "shared", False):
        return
    check_shareable(mode=mode)
    send = server_class._send_eio_packet
    MESSAGE = eio_packet.MESSAGE

    def shared_send(self, eio_sid, eio_pkt):
        # Called by Manager.emit once per recipient with the same packet: the first
        # call makes its encoding a SharedFrame (before any queue holds the packet).
        if type(eio_pkt.encode_cache) is not SharedFrame and eio_pkt.packet_type == MESSAGE \
                and not eio_pkt.binary:
            eio_pkt.encode_cache = SharedFrame(eio_pkt.encode())
        send(self, eio_sid, eio_pkt)

    shared_send.shared = True
    shared_send.original = send
    server_class._send_eio_packet = shared_send
