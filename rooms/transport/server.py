"""Running the server: the WSGI server of each async mode on a listener we create, and
the patches of library internals the transport relies on (each checked at start-up
against the pinned versions in pyproject.toml). Called by the entry point (app.py
main) only; nothing else imports eventlet or gevent.
"""
import os

from rooms.core import fastjson
from rooms.transport import boundary, receive
from rooms.transport import tuning as transport


def _xor_mask(data, mask, length=None, offset=0):
    """RFC 6455 unmasking as one integer XOR. eventlet's own version builds
    a bytes object per byte in Python and was the largest single cost of
    receiving a stroke preview (bench/)."""
    if length is None:
        length = len(data)
    key = bytes(mask[(offset + i) % 4] for i in range(4))
    key = (key * (length // 4 + 1))[:length]
    return (int.from_bytes(data[:length], "big") ^ int.from_bytes(key, "big")).to_bytes(length, "big")


def fast_eventlet_unmask():
    """Replace eventlet's per-byte WebSocket unmasking (called by the entry point right
    after eventlet.monkey_patch())."""
    import eventlet.websocket
    eventlet.websocket.RFC6455WebSocket._apply_mask = staticmethod(_xor_mask)


def few_malloc_arenas(arenas=2):
    """At most `arenas` glibc malloc arenas for the whole process. glibc gives each
    thread that allocates at once an arena of its own (up to 8 per core) and keeps
    freed memory in it: the worker threads that decode pictures (WORK1) each held on
    to their last decode, and the server's memory grew with every upload until each
    worker had its own (bench/ noisy, eventlet). The same as MALLOC_ARENA_MAX, which
    is read only at start-up. Elsewhere than glibc this does nothing."""
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, arenas)        # M_ARENA_MAX (malloc.h)
    except (OSError, AttributeError):
        pass


def tune_gc():
    """Fewer and shorter full garbage collections. A full collection stops the
    server for as long as it takes to scan every object; with 100 rooms (300
    sockets, ~140k objects) that was 50-65 ms every few seconds, and those pauses
    alone set the relay's preview p99 (bench/). The objects that exist after start-up
    (modules, the app) are frozen, so no collection scans them again, and a
    collection of the young generation runs every 10,000 new objects instead of
    700, which makes full collections about 14 times rarer."""
    if os.environ.get("PLAYROOM_GC_DEFAULT") == "1":     # A/B switch for bench/ only
        return
    import gc
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def _no_delay(sock):
    """Disable Nagle's algorithm on the listener (Linux hands it to every accepted
    socket). Without it an op's ack waits ~40 ms behind the op broadcast sent just
    before it, for the client's delayed ACK."""
    import socket
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _no_websocket_compression(mode):
    """Refuse the permessage-deflate WebSocket extension (as Node's socket.io does by
    default). With it, every message was compressed once per recipient (CPU on each
    relayed stroke preview, ~50 ms for a joiner's 2.6 MB state) and each connection
    kept a zlib compressor and decompressor, ~200 KiB of its idle memory (bench/)."""
    if os.environ.get("PLAYROOM_WS_DEFLATE") == "1":   # A/B switch for bench/ only
        return
    if mode == "eventlet":
        import eventlet.websocket
        eventlet.websocket.WebSocketWSGI._negotiate_permessage_deflate = lambda self, extensions: None
    else:
        import simple_websocket.ws
        from wsproto.extensions import PerMessageDeflate

        class _Refused(PerMessageDeflate):
            def accept(self, offer):
                return None                 # wsproto then answers without the extension

        simple_websocket.ws.PerMessageDeflate = _Refused


class _HandshakeDone:
    """What wsproto's WSConnection still asks of a finished handshake: its events."""
    @staticmethod
    def events():
        return iter(())


# An environ key holding a list, where the WebSocket of the request is put (the
# environ is copied on its way to the app; the list is shared by the copies).
_WEBSOCKET = "playroom.websocket"


class _WholeWrites:
    """A WebSocket's socket whose every write goes out whole (WIRE3). simple-websocket
    writes each frame with one `sock.send`, which may take only part of it: under
    gevent a state of several MB never arrived (the rest of the frame was dropped and
    the connection stalled). `sendall` finishes the write; the lock keeps two tasks'
    frames (the engine.io writer, the reader answering a ping or close) from
    interleaving while one of them waits for the network."""
    __slots__ = ("_sock", "_lock")
    whole = True        # tuning._frame_writer writes shared frames (FRAME1) only through this

    def __init__(self, sock):
        import threading                          # (gevent's, once patched)
        self._sock = sock
        self._lock = threading.Lock()

    def send(self, data):
        with self._lock:
            self._sock.sendall(data)
        return len(data)

    def __getattr__(self, name):                  # recv, fileno, close ... as they are
        return getattr(self._sock, name)


def _expect(ok, what):
    """Start-up check of a library internal that a patch here relies on."""
    if not ok:
        raise RuntimeError(f"library changed, patch in rooms/transport/server.py no longer fits: {what}")


def _check_simple_websocket():
    """Start-up check for `_patch_simple_websocket` (simple-websocket 1.x, pinned in
    pyproject.toml): frames are written with `self.sock.send`, and only after the
    handshake, which `Base.__init__` runs before its reader task starts."""
    import inspect
    import simple_websocket.ws
    _expect("self.sock.send(out_data)" in inspect.getsource(simple_websocket.ws.Base.send),
            "simple_websocket Base.send writes with self.sock.send")
    init = inspect.getsource(simple_websocket.ws.Base.__init__)
    _expect("self.handshake()" in init and "self.thread.start()" in init
            and init.index("self.handshake()") < init.index("self.thread.start()"),
            "simple_websocket Base.__init__ shakes hands before its reader starts")


def _patch_simple_websocket():
    """simple-websocket (gevent, threading) after each handshake: every write of the
    connection goes out whole (`_WholeWrites`); drop the HTTP handshake machinery it
    kept for the connection's life (an h11 connection and its buffers, ~2 KiB;
    wsproto only consults it while the handshake is unfinished, bench/ idle); parse
    the common incoming frame without wsproto (RECV1, rooms/transport/receive.py); and
    put the WebSocket where `_ended` finds it."""
    import simple_websocket.ws

    _check_simple_websocket()
    fast = os.environ.get("PLAYROOM_FAST_RECEIVE") != "0"    # A/B switch for bench/ only
    if fast:
        receive.check_receive()
    shake = simple_websocket.ws.Server.handshake

    def handshake(self):
        shake(self)
        self.sock = _WholeWrites(self.sock)
        ws = self.ws
        if ws.connection is not None and not getattr(ws.handshake, "_events", True):
            ws.handshake = _HandshakeDone
        if fast and ws.connection is not None:
            self.ws = receive.FastReceive(ws)   # RECV1: common frames without wsproto
        holder = self.environ.get(_WEBSOCKET)   # put there by our servers (serve)
        if holder is not None:
            holder.append(self)
    simple_websocket.ws.Server.handshake = handshake


def _ended(environ, sock):
    """After a WebSocket request: let simple-websocket's reader finish (it answers the
    client's close frame; with threads it may still be doing so), then send FIN now,
    for every descriptor of the connection (the reader uses a dup of it under
    gevent): a client closing its WebSocket waits for the TCP close."""
    import socket
    for ws in environ.get(_WEBSOCKET, ()):
        thread = getattr(ws, "thread", None)
        if thread is not None:
            thread.join(1)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass                                    # already gone


OFFLOAD_THREADS = 4     # worker threads for heavy work (WORK1); the GIL is shared anyway


def _install_offload(app, mode):
    """WORK1: heavy work (snapshots, records, picture decoding, exports) runs on real
    OS threads, so the one event loop of gevent or eventlet keeps serving every other
    room meanwhile. Under threading each handler has its own thread already."""
    if os.environ.get("PLAYROOM_OFFLOAD") == "0":       # A/B switch for bench/ only
        return
    spawn = app.extensions["socketio"].start_background_task
    run = None
    if mode == "gevent":
        import gevent
        pool = gevent.get_hub().threadpool
        pool.maxsize = OFFLOAD_THREADS

        def run(fn, *args):
            return pool.apply(fn, args)
    elif mode == "eventlet":
        from eventlet import tpool
        # eventlet's default is 20 threads; each keeps the memory its last picture
        # decode used (bench/ noisy: 2 GiB after a few 30 MP uploads, 0.5 with 4).
        tpool.set_num_threads(OFFLOAD_THREADS)
        run = tpool.execute
    app.extensions["playroom"].offload.install(run, spawn)


def serve(app, host, port, mode):
    """Run the WSGI server of `mode` on a listener we create, so we can set its options."""
    _no_websocket_compression(mode)
    _install_offload(app, mode)
    if mode != "eventlet":
        _patch_simple_websocket()
    if os.environ.get("PLAYROOM_PING_TASKS") != "1":     # A/B switch for bench/ only
        transport.share_pings()
    boundary.screen_engineio(app.extensions["socketio"].server.eio)   # WIRE2
    transport.cap_queues()                # RATE4: bounded queues per connection
    if os.environ.get("PLAYROOM_SHARED_FRAMES") != "0":  # A/B switch for bench/ only
        # FRAME1: one WebSocket frame per emit; DIRECT1: written by the emitter
        transport.share_frames(mode, direct=os.environ.get("PLAYROOM_DIRECT_WRITES") != "0")
    if os.environ.get("PLAYROOM_FAST_JSON") == "0":       # A/B switch for bench/ only
        fastjson.use_standard_library()                    # JSON1 off
    if os.environ.get("PLAYROOM_DIRECT_EVENTS") == "0":   # A/B switch for bench/ only
        app.extensions["playroom"].hub.gate.fast = False   # RECV2 off
    if os.environ.get("PLAYROOM_FIRST_PICTURES") == "0":  # A/B switch for bench/ only
        app.extensions["playroom"].pictures.enabled = False   # PAINT1 off: "none" each time
    if mode == "eventlet":
        import eventlet.wsgi

        class Protocol(eventlet.wsgi.HttpProtocol):
            # Each connection keeps its HTTP read and write buffers as long as it
            # lives, a WebSocket too, which never uses them after the upgrade:
            # 8 + 16 KiB by default (bench/ idle). A larger write goes out
            # directly; a longer line is read in pieces.
            rbufsize = 1024
            wbufsize = 1024

        sock = _no_delay(eventlet.listen((host, port)))
        # debug=False: eventlet's default (True) answered a request whose handler
        # raised with the Python traceback, to any client (WIRE3).
        eventlet.wsgi.server(sock, app, log_output=False, protocol=Protocol, debug=False)
    elif mode == "gevent":
        import socket
        from gevent import pywsgi
        # `socket` is gevent's here: main() runs after monkey.patch_all().
        sock = _no_delay(socket.create_server((host, port), backlog=1024))

        class Handler(pywsgi.WSGIHandler):
            # After a WebSocket had ended, pywsgi went on reading the connection
            # for another HTTP request: it parsed the client's closing frames as
            # one and answered "400 Bad Request" into the socket, and the client
            # waited for a TCP close that never came (python-socketio's client:
            # 3 s per close) while the server kept a task for the dead socket.
            # Close the connection then, as eventlet does.
            def __init__(self, sock, address, server):
                # The request reader's buffer lives as long as the connection, a
                # WebSocket too, which never reads through it after the upgrade:
                # 8 KiB by default, 1 KiB as for eventlet (bench/ idle). Longer
                # lines are read in pieces; large bodies bypass the buffer.
                super().__init__(sock, address, server)
                self.rfile = sock.makefile("rb", 1024)

            def get_environ(self):
                env = super().get_environ()
                env[_WEBSOCKET] = []
                return env

            def run_application(self):
                try:
                    super().run_application()
                finally:
                    if self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                        self.close_connection = True
                        _ended(self.environ, self.socket)

        pywsgi.WSGIServer(sock, app, log=None, handler_class=Handler).serve_forever()
    else:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class RequestHandler(WSGIRequestHandler):
            # The same for werkzeug: it read the closing frames as a bad request.
            rbufsize = 1024              # and a small request buffer, as above

            def make_environ(self):
                env = super().make_environ()
                env[_WEBSOCKET] = []
                return env

            def run_wsgi(self):
                try:
                    super().run_wsgi()
                finally:
                    if self.headers.get("Upgrade", "").lower() == "websocket":
                        self.close_connection = True
                        _ended(self.environ, self.connection)

        server = make_server(host, port, app, threaded=True, request_handler=RequestHandler)
        _no_delay(server.socket)
        server.serve_forever()
