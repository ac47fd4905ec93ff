"""Test harness shared by the integration, browser and benchmark code.

`ServerProcess` runs the real app (`python app.py`) in a subprocess on a free
loopback port, logging to a file (an unread pipe would block it). `Actions` does
what a person does over HTTP — register, create a room, open an invite link — and
`SocketUser` is a python-socketio client bound to that person's cookies.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlencode

import requests
import socketio

from app import DEFAULT_ASYNC_MODE
from activities.contract.protocol import PROTOCOL_VERSION
from rooms.assets.pictures import Assets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The assets service the server hands to activities (the contract's Assets).
ASSETS = Assets(ROOT)
# The async mode the socket and browser tests run their servers on: the app's default
# (app.py), or PLAYROOM_TEST_MODE to run them all on another one. Tests that need
# every mode (test_relay, test_transport) or eventlet too (multiprocess, faults) say so.
DEFAULT_MODE = os.environ.get("PLAYROOM_TEST_MODE") or DEFAULT_ASYNC_MODE


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def end_process(proc, log=None, sig=signal.SIGTERM):
    """Stop `proc` with `sig` (SIGKILL after 10 s) if it still runs; close its log."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if log is not None:
        log.close()


def with_undo(module, ops):
    """`ops`, then the inverse of each that had one, newest first (undo all the way
    back to the start), as the activity `module` gives them from its initial state."""
    state, inverses = module.initial_state(), []
    for t, d in ops:
        state, inv = module.apply(state, t, d)
        if inv:
            inverses.append(tuple(inv))
    return [tuple(op) for op in ops] + inverses[::-1]


def run_node(tmp_path, modules, script, payload):
    """Run `script` (an ES module) under node in tmp_path, with the browser modules
    {file name in tmp_path: file in static/canvas} beside it and `payload` as JSON on
    standard input; returns what it writes to standard output, parsed as JSON. For
    the tests that check a browser module against its Python twin."""
    import shutil
    for name, src in modules.items():
        shutil.copy(os.path.join(ROOT, "static", "canvas", src), os.path.join(tmp_path, name))
    path = os.path.join(tmp_path, "run.mjs")
    with open(path, "w") as f:
        f.write(script)
    res = subprocess.run(["node", path], input=json.dumps(payload), capture_output=True, text=True,
                         timeout=60, check=True)
    return json.loads(res.stdout)


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Poll until predicate() is truthy; waits on state, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


class ServerProcess:
    def __init__(self, instance_dir, mode=DEFAULT_MODE, port=None, env=None):
        self.instance_dir = str(instance_dir)
        self.mode = mode
        self.port = port or free_port()
        self.env = env or {}
        self.proc = None
        self.log_path = os.path.join(self.instance_dir, f"server-{self.port}.log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        env = {**os.environ, "PORT": str(self.port), "HOST": "127.0.0.1",
               "PLAYROOM_ASYNC_MODE": self.mode, "PLAYROOM_INSTANCE": self.instance_dir,
               "PYTHONUNBUFFERED": "1",
               # Tests register therapists through /register (closed by default, AUTH10).
               "PLAYROOM_OPEN_SIGNUP": "1", **self.env}
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "app.py")], cwd=ROOT,
                                     env=env, stdout=self._log, stderr=subprocess.STDOUT)
        wait_for(self._up, timeout=20, what=f"server on port {self.port} (log {self.log_path})")
        return self

    def _up(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"server exited: {self.log()}")
        try:
            return requests.get(self.url + "/", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self, sig=signal.SIGTERM):
        end_process(self.proc, self._log if self.proc else None, sig)
        self.proc = None

    def restart(self, sig=signal.SIGTERM):
        self.stop(sig)
        return self.start()

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]


class RedisServer:
    """A real `redis-server` (Debian's package) on a free loopback port, nothing saved
    to disk, its working directory and log in `workdir`."""

    def __init__(self, workdir, port=None, appendfsync=None):
        """appendfsync None: nothing saved (tests of logic). "always" or "everysec":
        AOF on (appendonly yes) with that fsync policy, for restart tests."""
        self.workdir = str(workdir)
        self.port = port or free_port()
        self.appendfsync = appendfsync
        self.proc = None
        self.log_path = os.path.join(self.workdir, f"redis-{self.port}.log")

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        import redis
        self._log = open(self.log_path, "ab")
        aof = ["--appendonly", "yes", "--appendfsync", self.appendfsync] if self.appendfsync \
            else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", *aof, "--dir", self.workdir],
            cwd=self.workdir, stdout=self._log, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url, socket_timeout=1)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited: {self.log()}")
            try:
                return client.ping()
            except redis.RedisError:
                return False
        try:
            wait_for(up, timeout=10, what=f"redis-server on port {self.port} (log {self.log_path})")
        finally:
            client.close()
        return self

    def stop(self, sig=signal.SIGTERM):
        end_process(self.proc, self._log if self.proc else None, sig)
        self.proc = None

    def restart(self, sig=signal.SIGTERM):
        """Stop (SIGKILL: a crash) and start again on the same port and folder."""
        self.stop(sig)
        return self.start()

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf(html):
    m = CSRF_RE.search(html)
    assert m, "no CSRF token in page"
    return m.group(1) or m.group(2)


class Actions:
    """What a person does over HTTP. One instance = one browser (cookie jar)."""

    def __init__(self, base_url):
        self.base = base_url
        self.http = requests.Session()

    def get(self, path, **kw):
        return self.http.get(self.base + path, timeout=10, **kw)

    def post_form(self, page_path, action_path, data, **kw):
        """Load `page_path` for its CSRF token, then POST `data` to `action_path`."""
        token = csrf(self.get(page_path).text)
        return self.http.post(self.base + action_path, data={"csrf_token": token, **data},
                              timeout=10, **kw)

    def register(self, email=None, password="correct horse battery", name="Dr. Kim"):
        email = email or f"t{time.monotonic_ns()}@example.org"
        r = self.post_form("/register", "/register",
                           {"name": name, "email": email, "password": password, "confirm": password})
        assert r.ok and r.url.endswith("/dashboard"), r.status_code
        return email

    def create_room(self, name="Sam, 7", waiting_room=False):
        """Creates a room; returns (room_id, {"child": link, "parent": link}). Guests
        come straight in unless `waiting_room` (CTL1)."""
        form = {"name": name, **({"waiting_room": "y"} if waiting_room else {})}
        r = self.post_form("/dashboard", "/rooms", form)
        assert r.ok, r.status_code
        room_id = re.search(r'data-room="([^"]+)"', r.text).group(1)
        links = dict(re.findall(r'value="([^"]+/j/[^"]+)" data-link="(\w+)"', r.text))
        return room_id, {role: url for url, role in links.items()}

    def join(self, link, name="Sam", avatar="fox"):
        """Open an invite link and press "Let's play". Returns the room id."""
        path = link.replace(self.base, "")
        r = self.post_form(path, path, {"name": name, "avatar": avatar}, allow_redirects=False)
        where = r.headers.get("Location", "")
        assert r.status_code == 302 and "/room/" in where, (r.status_code, where)
        return where.rsplit("/room/", 1)[1]

    def cookie_header(self):
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)


def routed_url(base, room_id):
    """The Socket.IO server URL with the room as a query argument: python-socketio
    keeps it on every Engine.IO request (polls and the upgrade), as socket.io-client
    does with its `query` option, so nginx's `hash $arg_room` sees it (ROUTE1)."""
    return f"{base}?{urlencode({'room': room_id})}"


class SocketUser:
    """A python-socketio client acting for one person, recording what it receives."""

    def __init__(self, actions, room_id):
        self.actions = actions
        self.room_id = room_id
        self.events = []                 # (event, data) in arrival order
        self.ops = []                    # "op" events
        self.state = None
        self.seq = -1
        self.lock = threading.Lock()
        self.sio = self._new_client()

    def _new_client(self):
        sio = socketio.Client(reconnection=False)
        # python-engineio's client runs each incoming message on a new thread, so
        # handlers could record ops out of the order they arrived in. A browser
        # handles them one by one in arrival order; so do we (SEQ1 tests rely on it).
        dispatch = sio.eio._trigger_event
        sio.eio._trigger_event = lambda *a, **kw: dispatch(*a, **{**kw, "run_async": False})
        for ev in ("op", "eph", "presence", "room", "error", "bye", "state", "lobby", "picture"):
            sio.on(ev, self._recorder(ev))
        return sio

    def _recorder(self, ev):
        def record(data=None):
            with self.lock:
                self.events.append((ev, data))
                if ev == "op":
                    self.ops.append(data)
                elif ev == "state":
                    self.state = data
        return record

    def connect(self, version=PROTOCOL_VERSION, room=None, sync=True, since=-1, url=None,
                transports=("websocket",), route=None):
        """Connect (to `url`, default the person's own server: any process of a
        cluster takes the same cookies) and, unless sync=False, sync from `since`.
        The URL carries `?room=` (`route`, default the auth's room; False: none) as
        the browser's does: nginx routes on it (ROUTE1)."""
        auth = {"v": version, "room": room or self.room_id}
        base = url or self.actions.base
        if route is not False:           # False: an old page's URL, without the argument
            base = routed_url(base, route or auth["room"])
        self.sio.connect(base, headers={"Cookie": self.actions.cookie_header()},
                         auth=auth, transports=list(transports), wait_timeout=10)
        if sync:
            ack = self.call("sync", {"since": since})
            assert ack["ok"], ack
            self.seq = ack["seq"]
            self.sync_ack = ack
        return self

    def call(self, event, data=None, timeout=10):
        return self.sio.call(event, data, timeout=timeout)

    def op(self, t, d, a="canvas", op_id=None):
        op_id = op_id or f"op-{time.monotonic_ns()}"
        return self.call("op", {"op_id": op_id, "a": a, "t": t, "d": d})

    def received(self, event):
        with self.lock:
            return [d for e, d in self.events if e == event]

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()

    def reconnect(self, url=None, since=-1, **connect):
        """A new connection (a new Socket.IO client, as after a reload or a lost
        server), to `url` or the same server; what was received so far is kept."""
        old = self.sio
        try:
            self.close()
        except Exception:
            pass
        ws = getattr(old.eio, "ws", None)     # left open when the server died under it
        if ws is not None:
            try:
                ws.shutdown()
            except Exception:
                pass
        self.sio = self._new_client()
        return self.connect(url=url, since=since, **connect)


def stroke(page="p1", sid=None, n=10, color="#e53935", tool="pen", size=8):
    """A plausible stroke payload with n points."""
    pts = []
    for i in range(n):
        pts += [100 + i * 5, 200 + i * 3, 0.5]
    return {"page": page, "id": sid or f"s{time.monotonic_ns() % 10**12}", "tool": tool,
            "color": color, "size": size, "pts": pts}


# ------------------------------------------------------------------ several processes

class ServerCluster:
    """N real server processes (`python app.py`, one worker each) on one Redis: REDIS_URL
    makes it their storage and Socket.IO message queue. Each listens on its own port;
    all share one instance folder, so they sign cookies with one secret key and a
    person signed in on one process is signed in on all of them."""

    def __init__(self, workdir, redis_url, n=2, mode=DEFAULT_MODE, env=None):
        self.workdir = str(workdir)
        self.redis_url = redis_url
        self.mode = mode
        self.env = {"REDIS_URL": redis_url, **(env or {})}
        self.servers = []
        for _ in range(n):
            self.servers.append(ServerProcess(self.workdir, mode=mode, env=self.env))

    def start(self):
        for srv in self.servers:      # one after the other: the first writes the secret key
            if srv.proc is None:
                srv.start()
        return self

    def add(self):
        """Start one more process; returns it."""
        srv = ServerProcess(self.workdir, mode=self.mode, env=self.env).start()
        self.servers.append(srv)
        return srv

    def __getitem__(self, i):
        return self.servers[i]

    def __len__(self):
        return len(self.servers)

    @property
    def urls(self):
        return [s.url for s in self.servers]

    def stop(self):
        for srv in self.servers:
            srv.stop()


class Replica(SocketUser):
    """A client that keeps the room the way the browser does (static/canvas/room/connection.js),
    so tests can compare what every client ends up with:

    - ops are applied strictly in seq order through the activities' own reducers;
      an op ahead of seq+1 waits in `buffer`, one at or below seq is ignored, and a
      gap that does not fill is closed with `sync {since: seq}` (`catch_up`);
    - every op it sends stays in `pending` until acknowledged and is resent with the
      same op_id after a (re)connect, to whatever process it reaches (`resume`);
    - `applied` lists (seq, by, op_id) in the order applied, `arrivals` the seqs in
      the order they arrived (broadcasts from different processes may cross),
      `acked` maps op_id -> seq, `refused` op_id -> the negative ack."""

    RETRY = ("rate_limited", "internal_error", "unavailable")

    def __init__(self, actions, room_id, registry, tag):
        super().__init__(actions, room_id)
        self.registry = registry
        self.tag = tag                   # prefix of this client's op ids
        self.states = None               # {activity: state} once the first state arrived
        self.applied_seq = -1
        self.buffer = {}
        self.applied = []
        self.arrivals = []
        self.snapshots = []              # seqs at which a full snapshot replaced the state
        self.pending = {}                # op_id -> msg, in send order (dicts keep it)
        self.inflight = set()
        self.retry = set()
        self.acked = {}
        self.duplicate_acks = set()      # op_ids acknowledged with duplicate: true
        self.refused = {}
        self.sent = 0
        self.url = None
        self.gap_since = None            # when ops started waiting behind a gap
        self.gap_syncs = 0

    # -- receiving
    def _recorder(self, ev):
        record = super()._recorder(ev)

        def handle(data=None):
            record(data)
            with self.lock:
                if ev == "op":
                    self._on_op(data)
                elif ev == "state":
                    self._on_state(data)
        return handle

    def _on_state(self, data):
        if data["mode"] == "snapshot":
            self.states = json.loads(json.dumps(data["activities"]))
            self.applied_seq = data["seq"]
            self.snapshots.append(data["seq"])
        else:
            for op in data["ops"]:
                if op["seq"] > self.applied_seq:
                    self.buffer[op["seq"]] = op
        self._drain()

    def _on_op(self, op):
        self.arrivals.append(op["seq"])
        if op["seq"] > self.applied_seq:
            self.buffer[op["seq"]] = op
            self._drain()

    def _drain(self):
        if self.states is None:
            return
        while self.applied_seq + 1 in self.buffer:
            op = self.buffer.pop(self.applied_seq + 1)
            act = self.registry.get(op["a"])
            if act is not None:      # room ops (presence, settings ...) are not activity state
                self.states[op["a"]], _ = act.apply(self.states[op["a"]], op["t"], op["d"],
                                                    by=op["by"])
            self.applied_seq = op["seq"]
            self.applied.append((op["seq"], op["by"], op["op_id"]))
        for s in [s for s in self.buffer if s <= self.applied_seq]:
            del self.buffer[s]

    def state_json(self):
        """The client's state as JSON text (sorted keys), for comparisons."""
        with self.lock:
            return json.dumps(self.states, sort_keys=True)

    # -- connecting
    def resume(self, url=None, transports=("websocket",)):
        """(Re)connect to `url`, sync from the last applied seq (-1 before any state),
        then resend every unacknowledged op with its op_id, in order."""
        self.url = url or self.url
        with self.lock:
            since = self.applied_seq if self.states is not None else -1
            self.inflight.clear()
            self.retry.clear()
        self.reconnect(self.url, since=since, transports=transports)
        with self.lock:
            again = list(self.pending.items())
        for op_id, msg in again:
            self._emit(op_id, msg)
        return self

    def catch_up(self, seq, timeout=30.0):
        """Wait until everything up to `seq` is applied; a gap that does not fill
        within a second is closed with a sync from the last applied seq (SEQ1)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return wait_for(lambda: self.applied_seq >= seq, timeout=1.0,
                                what=f"{self.tag} to apply up to seq {seq}")
            except AssertionError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.tag} stuck at seq {self.applied_seq} of {seq} "
                                         f"(buffered {sorted(self.buffer)[:5]}...)")
                ack = self.call("sync", {"since": self.applied_seq})
                assert ack["ok"], ack

    def mend(self, after=0.3):
        """Like the browser: ops waiting behind a gap that has not filled for `after`
        seconds (a broadcast lost with a crashed process, or still on its way) ->
        sync from the last applied seq. Call it from a driver thread, never from a
        handler. Returns True if it synced."""
        with self.lock:
            if not self.buffer:
                self.gap_since = None
                return False
            now = time.monotonic()
            if self.gap_since is None:
                self.gap_since = now
                return False
            if now - self.gap_since < after:
                return False
            self.gap_since = None
            since = self.applied_seq
        try:
            ack = self.call("sync", {"since": since}, timeout=5)
        except Exception:         # not connected: resume() syncs anyway
            return False
        self.gap_syncs += 1
        return bool(ack.get("ok"))

    # -- sending
    def send(self, t, d, a="canvas"):
        op_id = f"{self.tag}-{self.sent}"
        self.sent += 1
        msg = {"op_id": op_id, "a": a, "t": t, "d": d}
        with self.lock:
            self.pending[op_id] = msg
        self._emit(op_id, msg)
        return op_id

    def _emit(self, op_id, msg):
        with self.lock:
            self.inflight.add(op_id)
            self.retry.discard(op_id)
        try:
            self.sio.emit("op", msg, callback=lambda ack, op_id=op_id: self._on_ack(op_id, ack))
        except Exception:          # not connected: stays pending, resent by resume()
            with self.lock:
                self.inflight.discard(op_id)

    def _on_ack(self, op_id, ack):
        with self.lock:
            self.inflight.discard(op_id)
            if op_id not in self.pending:
                return
            if ack.get("ok"):
                self.acked[op_id] = ack["seq"]
                if ack.get("duplicate"):
                    self.duplicate_acks.add(op_id)
                del self.pending[op_id]
            elif ack.get("code") in self.RETRY:
                self.retry.add(op_id)
            else:
                self.refused[op_id] = ack
                del self.pending[op_id]

    def retry_refused(self):
        """Resend the ops refused for a passing reason (rate limit, a storage error)."""
        with self.lock:
            again = [(i, self.pending[i]) for i in self.pending if i in self.retry]
        for op_id, msg in again:
            self._emit(op_id, msg)
        return len(again)

    def in_flight(self):
        with self.lock:
            return len(self.inflight)

    def outstanding(self):
        with self.lock:
            return len(self.pending)

    def draw(self, n, window=16, page="p1", failover=None, timeout=90.0):
        """Commit n strokes, up to `window` of them unacknowledged at a time (a
        socket's events are handled in order, so they keep their order). Ops refused
        for a passing reason are resent after a short pause. When the connection is
        lost, `failover()` names the URL to resume on (None: fail)."""
        deadline = time.monotonic() + timeout
        done = 0
        last_retry = 0.0
        while done < n or self.outstanding():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.tag}: {self.outstanding()} ops still unacknowledged")
            if not self.sio.connected:
                if failover is None:
                    raise AssertionError(f"{self.tag} lost its connection")
                self.resume(failover())
                continue
            if done < n and self.in_flight() < window:
                self.send("stroke", stroke(page=page, sid=f"{self.tag}-s{done}"))
                done += 1
                continue
            if self.retry and time.monotonic() - last_retry > 0.1:
                last_retry = time.monotonic()
                self.retry_refused()
            time.sleep(0.005)
