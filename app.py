"""Playroom: app factory and server entry point.

`python app.py` serves on HOST:PORT (default 127.0.0.1:5000) with the async mode
from PLAYROOM_ASYNC_MODE (default gevent, chosen by bench/: README "Performance").
Only this entry point imports or monkey-patches eventlet/gevent; everything else
uses Flask-SocketIO's `start_background_task`/`sleep`, so the mode is a config switch.
"""
import os
import sys

DEFAULT_ASYNC_MODE = "gevent"

if __name__ == "__main__":  # monkey-patching must precede every other import
    _MODE = os.environ.get("PLAYROOM_ASYNC_MODE", DEFAULT_ASYNC_MODE)
    if _MODE == "eventlet":
        import warnings
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet
        eventlet.monkey_patch()
        import eventlet.websocket

        def _xor_mask(data, mask, length=None, offset=0):
            """RFC 6455 unmasking as one integer XOR. eventlet's own version builds
            a bytes object per byte in Python and was the largest single cost of
            receiving a stroke preview (bench/)."""
            if length is None:
                length = len(data)
            key = bytes(mask[(offset + i) % 4] for i in range(4))
            key = (key * (length // 4 + 1))[:length]
            return (int.from_bytes(data[:length], "big") ^ int.from_bytes(key, "big")).to_bytes(length, "big")

        eventlet.websocket.RFC6455WebSocket._apply_mask = staticmethod(_xor_mask)
    elif _MODE == "gevent":
        import gevent
        # Greenlets need not remember who spawned them (a debugging aid that keeps
        # the spawning call stack: ~2.5 KiB for each socket's two tasks, bench/ idle).
        gevent.config.track_greenlet_tree = False
        from gevent import monkey
        monkey.patch_all()

import logging
import secrets
import time
from datetime import timedelta

from flask import Flask, g
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

from activities import build_registry
from rooms import transfer
from rooms import accounts, boundary, transport, web
from rooms import records_web
from rooms import uploads_web
from rooms import account_pages
from rooms.engine import Engine
from rooms.faults import one_line, store_down
from rooms.offload import Offload
from rooms.protocol import E_ENDED, E_REVOKED, LIMITS
from rooms.sockets import Hub, room_key
from rooms.redis_storage import RedisStorage
from rooms.storage import SQLiteStorage

HERE = os.path.dirname(os.path.abspath(__file__))
# Seconds after a gap in a process's announcements during which ops it applies from
# announcements also go to its own sockets directly (FAULT2): python-socketio's
# message-queue listener waits up to 60 s between its attempts to reconnect.
RECOVERY_S = 60

# Every config key, its unit and default. Tests override them via create_app(config).
DEFAULTS = {
    "INSTANCE_PATH": os.path.join(HERE, "instance"),  # folder for the database and secret key
    "DATABASE": None,                 # SQLite file path; default INSTANCE_PATH/playroom.sqlite3
    "REDIS_URL": None,                # redis://host:port/db: keep all data in Redis instead of
                                      # SQLite, and use it as the Socket.IO message queue (env REDIS_URL)
    "MESSAGE_QUEUE": None,            # Socket.IO message queue URL for several processes; None: REDIS_URL
                                      # when set, else none (one process); False: never a queue
    "MESSAGE_QUEUE_CHANNEL": "playroom",  # pub/sub channel; Redis pub/sub ignores the db number, so two
                                      # deployments on one redis-server need different channels
    "SECRET_KEY": None,               # default: generated once into INSTANCE_PATH/secret_key
    "ASYNC_MODE": "threading",        # eventlet | gevent | threading (the entry point passes its own)
    "INVITE_TTL_DAYS": 30,            # days an invite link stays valid
    "SNAPSHOT_EVERY": 200,            # ops between room snapshots
    "ASSETS_ROOT": HERE,              # folder holding node_modules (pictures, browser modules)
    "SESSION_COOKIE_SECURE": False,   # set True when served over HTTPS (PLAYROOM_SECURE_COOKIES=1)
    "BEHIND_PROXY": False,            # trust one reverse proxy's X-Forwarded-For/-Proto/-Host, so links
                                      # and origin checks use the public https URL (PLAYROOM_BEHIND_PROXY=1)
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": timedelta(days=30),
    "WTF_CSRF_TIME_LIMIT": None,      # tokens live as long as the session
    "INACTIVITY_MINUTES": 30,         # a therapist is signed out after this long without a request (0: never)
    "LOGIN_MAX_FAILURES": 5,          # failed sign-ins per email within LOGIN_WINDOW_MINUTES before HTTP 429
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 20,  # the same per client address (a clinic may share one)
    "LOGIN_WINDOW_MINUTES": 15,       # minutes failed sign-ins are counted for
    "SESSION_IDLE_MINUTES": 60,       # an open session nobody has been in for this long ends by itself
    "RETENTION_INTERVAL_MINUTES": 60,  # minutes between runs of the record retention task (0: never)
}


class Playroom:
    """The app's services, reachable as app.extensions["playroom"]."""

    def __init__(self, app, socketio):
        self.storage = make_storage(app.config)
        self.registry = build_registry()
        # Heavy work off the serving loop (WORK1): inline until serve() installs a pool.
        self.offload = Offload()
        self.engine = Engine(self.storage, self.registry, self._broadcast,
                             snapshot_every=app.config["SNAPSHOT_EVERY"],
                             session_idle_s=app.config["SESSION_IDLE_MINUTES"] * 60,
                             offload=self.offload)
        self.hub = Hub(socketio, self.engine, self.registry, web.socket_identity,
                       participant_of=self._participant_of, on_revoke=self._revoke,
                       on_session_end=self._session_ended)
        # Called after a session ends, outside the room lock: hook(room_id, first_seq, last_seq).
        self.session_end_hooks = []
        self._recovering_until = 0.0    # monotonic time; see _after_gap (FAULT2)
        self.announcement_hooks = {}    # kind -> handler(*args), e.g. rooms/signins.py
        if self.storage.shared:
            # SCALE1: apply other processes' ops as they are announced, so settings,
            # presence, removals and the end of a session take effect here too.
            socketio.start_background_task(self.storage.listen, self._announced)

    def _announced(self, kind, args):
        """Another process said something (SCALE1): a room's new seq, or a kick; or
        our listener missed what was said while its link was down ("gap")."""
        try:
            if kind == "seq":
                ops = self.engine.catch_up(args[0])
                if ops and time.monotonic() < self._recovering_until:
                    self._deliver_here(args[0], ops)
            elif kind == "gap":
                self._after_gap()
            elif kind == "kick-invite":
                self._kick_invite_here(args[0])
            elif kind == "kick-room":
                self._kick_room_here(args[0])
            elif kind in self.announcement_hooks:
                self.announcement_hooks[kind](*args)
        except Exception as e:
            if not store_down(e):
                logging.getLogger("playroom").exception("handling announcement %s failed", kind)
            else:   # the next gap in announcements re-reads every room (FAULT2)
                logging.getLogger("playroom").warning("handling announcement %s failed (%s)",
                                                      kind, one_line(e))

    def _after_gap(self):
        """FAULT2: announcements (and op broadcasts through the message queue, which
        shares the link's fate) published while the link was down are gone. Re-read
        every loaded room and hand this process's sockets its latest op: a client
        that missed ops sees the gap and syncs (SEQ1). The message queue's own
        listener may come back later than ours (it backs off up to a minute), so
        until then ops applied from announcements are delivered here too (clients
        ignore an op they already have)."""
        self._recovering_until = time.monotonic() + RECOVERY_S
        for room_id in self.engine.loaded():
            self._deliver_here(room_id, self.engine.catch_up(room_id, last=True))

    def _deliver_here(self, room_id, ops):
        """Send `ops` to this process's sockets of the room only (not through the queue)."""
        for op in ops:
            self.hub.socketio.server.emit("op", op, to=room_key(room_id), namespace="/",
                                          ignore_queue=True)

    def _participant_of(self, room_id, pid):
        part = self.storage.get_participant(pid)
        return part if part is not None and part["room_id"] == room_id else None

    def _revoke(self, invite_id):
        """CTL4: removing a guest with "switch off their link" revokes the invite."""
        self.storage.revoke_invite(invite_id)
        self.kick_invite(invite_id)

    def _session_ended(self, room_id, first_seq, last_seq):
        for hook in self.session_end_hooks:
            hook(room_id, first_seq, last_seq)

    def _broadcast(self, room_id, event, data):
        self.hub.broadcast(room_id, event, data)

    def kick_invite(self, invite_id):
        """A revoked link disconnects everyone who came in through it, on every
        process."""
        self._kick_invite_here(invite_id)
        self.storage.announce("kick-invite", invite_id)

    def _kick_invite_here(self, invite_id):
        self.hub.kick(lambda c: c.participant.get("invite_id") == invite_id,
                      E_REVOKED, "This link was switched off by the therapist.")

    def delete_room(self, room_id):
        self._kick_room_here(room_id)
        self.storage.delete_room(room_id)
        self.storage.announce("kick-room", room_id)

    def _kick_room_here(self, room_id):
        self.hub.kick(lambda c: c.room_id == room_id, E_ENDED, "This room was closed.")
        self.engine.forget(room_id)


def make_storage(config):
    """RedisStorage when REDIS_URL is set, else SQLite in DATABASE."""
    if config.get("REDIS_URL"):
        return RedisStorage(config["REDIS_URL"])
    return SQLiteStorage(config["DATABASE"])


def message_queue(config):
    """SocketIO arguments for the message queue that lets several processes share
    rooms (broadcasts reach the sockets of every process): the Redis of REDIS_URL
    unless MESSAGE_QUEUE says otherwise. python-socketio's Redis manager needs a
    monkey-patched socket module under eventlet and gevent; the entry point patches
    before any import (threading needs nothing). No queue: {} (one process)."""
    url = config.get("MESSAGE_QUEUE")
    if url is None:
        url = config.get("REDIS_URL")
    if not url:
        return {}
    return {"message_queue": url, "channel": config["MESSAGE_QUEUE_CHANNEL"]}


def _secret_key(instance):
    path = os.path.join(instance, "secret_key")
    if not os.path.exists(path):
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(secrets.token_hex(32))
    with open(path) as f:
        return f.read().strip()


def create_app(config=None):
    """The app. Without `config` (as `flask --app app <command>` calls it) the settings
    come from the environment, with no message queue (a command serves no sockets)."""
    if config is None:
        config = {**env_config(), "MESSAGE_QUEUE": False}
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config)
    instance = app.config["INSTANCE_PATH"]
    os.makedirs(instance, exist_ok=True)
    app.config["DATABASE"] = app.config["DATABASE"] or os.path.join(instance, "playroom.sqlite3")
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or _secret_key(instance)

    CSRFProtect(app)
    accounts.login_manager.init_app(app)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(uploads_web.bp)      # therapists' pictures (issue 6)

    # async_handlers=False: each client's events are handled in order on that
    # client's own reader task (other clients are not blocked), so one socket's
    # ops can never overtake each other, and no task is spawned per message.
    socketio = SocketIO(app, async_mode=app.config["ASYNC_MODE"],
                        max_http_buffer_size=LIMITS["packet_bytes"],
                        ping_interval=10, ping_timeout=10, async_handlers=False,
                        manage_session=False, **message_queue(app.config))
    app.extensions["playroom"] = Playroom(app, socketio)
    records_web.init_app(app, socketio)   # session records, retention (issue 7)
    account_pages.init_app(app)       # sign-up, passwords, sign-ins (issue 15)
    transfer.register_cli(app)        # flask export-data / import-data (moving between stores)
    if app.config["BEHIND_PROXY"]:
        # Outside Socket.IO's middleware, so its same-origin check sees the public URL too.
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    @app.template_filter("datetimeformat")
    def _datetimeformat(ts):
        return time.strftime("%d %b %Y", time.localtime(ts))

    @app.before_request
    def _nonce():
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.context_processor
    def _inject():
        return {"csp_nonce": g.get("csp_nonce", "")}

    @app.after_request
    def _headers(resp):
        # No page may load anything from another host (SAFE1).
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            f"script-src 'self' 'nonce-{g.get('csp_nonce', '')}'; connect-src 'self'; "
            "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'; "
            "form-action 'self'")
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp

    return app


def env_config():
    """The settings the environment gives (README, Configuration), without ASYNC_MODE."""
    config = {}
    if os.environ.get("PLAYROOM_INSTANCE"):
        config["INSTANCE_PATH"] = os.environ["PLAYROOM_INSTANCE"]
    if os.environ.get("REDIS_URL"):
        config["REDIS_URL"] = os.environ["REDIS_URL"]
    if os.environ.get("PLAYROOM_SECURE_COOKIES") == "1":
        config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = True
    if os.environ.get("PLAYROOM_BEHIND_PROXY") == "1":
        config["BEHIND_PROXY"] = True
    config.update(account_pages.env_config())
    # Every whole-number setting can be given as PLAYROOM_<KEY>, e.g.
    # PLAYROOM_INACTIVITY_MINUTES=45 or PLAYROOM_SESSION_IDLE_MINUTES=90.
    for key, default in DEFAULTS.items():
        raw = os.environ.get(f"PLAYROOM_{key}")
        if raw is not None and isinstance(default, int) and not isinstance(default, bool):
            try:
                config[key] = int(raw)
            except ValueError:
                raise SystemExit(f"PLAYROOM_{key} must be a whole number, not {raw!r}")
    return config


def main():
    mode = os.environ.get("PLAYROOM_ASYNC_MODE", DEFAULT_ASYNC_MODE)
    logging.basicConfig(level=os.environ.get("PLAYROOM_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _few_malloc_arenas()
    app = create_app({"ASYNC_MODE": mode, **env_config()})
    account_pages.first_run_hint(app)
    _tune_gc()
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    print(f"Playroom serving on http://{host}:{port} ({mode})", flush=True)
    serve(app, host, port, mode)


def _few_malloc_arenas(arenas=2):
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


def _tune_gc():
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
        raise RuntimeError(f"library changed, patch in app.py no longer fits: {what}")


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
    wsproto only consults it while the handshake is unfinished, bench/ idle), and put
    the WebSocket where `_ended` finds it."""
    import simple_websocket.ws

    _check_simple_websocket()
    shake = simple_websocket.ws.Server.handshake

    def handshake(self):
        shake(self)
        self.sock = _WholeWrites(self.sock)
        ws = self.ws
        if ws.connection is not None and not getattr(ws.handshake, "_events", True):
            ws.handshake = _HandshakeDone
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


if __name__ == "__main__":
    sys.exit(main())
