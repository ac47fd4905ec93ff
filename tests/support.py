"""Test harness shared by the integration, browser and benchmark code.

`ServerProcess` runs the real app (`python app.py`) in a subprocess on a free
loopback port, logging to a file (an unread pipe would block it). `Actions` does
what a person does over HTTP — register, create a room, open an invite link — and
`SocketUser` is a python-socketio client bound to that person's cookies.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import requests
import socketio

from rooms.protocol import PROTOCOL_VERSION

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    def __init__(self, instance_dir, mode="eventlet", port=None, env=None):
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
               "PYTHONUNBUFFERED": "1", **self.env}
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
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc:
            self._log.close()
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

    def __init__(self, workdir, port=None):
        self.workdir = str(workdir)
        self.port = port or free_port()
        self.proc = None
        self.log_path = os.path.join(self.workdir, f"redis-{self.port}.log")

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        import redis
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.workdir],
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

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc:
            self._log.close()
        self.proc = None

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

    def create_room(self, name="Sam, 7"):
        """Creates a room; returns (room_id, {"child": link, "parent": link})."""
        r = self.post_form("/dashboard", "/rooms", {"name": name})
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


class SocketUser:
    """A python-socketio client acting for one person, recording what it receives."""

    def __init__(self, actions, room_id):
        self.actions = actions
        self.room_id = room_id
        self.sio = socketio.Client(reconnection=False)
        # python-engineio's client runs each incoming message on a new thread, so
        # handlers could record ops out of the order they arrived in. A browser
        # handles them one by one in arrival order; so do we (SEQ1 tests rely on it).
        dispatch = self.sio.eio._trigger_event
        self.sio.eio._trigger_event = lambda *a, **kw: dispatch(*a, **{**kw, "run_async": False})
        self.events = []                 # (event, data) in arrival order
        self.ops = []                    # "op" events
        self.state = None
        self.seq = -1
        self.lock = threading.Lock()
        for ev in ("op", "eph", "presence", "room", "error", "bye", "state"):
            self.sio.on(ev, self._recorder(ev))

    def _recorder(self, ev):
        def record(data=None):
            with self.lock:
                self.events.append((ev, data))
                if ev == "op":
                    self.ops.append(data)
                elif ev == "state":
                    self.state = data
        return record

    def connect(self, version=PROTOCOL_VERSION, room=None, sync=True, since=-1):
        auth = {"v": version, "room": room or self.room_id}
        self.sio.connect(self.actions.base, headers={"Cookie": self.actions.cookie_header()},
                         auth=auth, transports=["websocket"], wait_timeout=10)
        if sync:
            ack = self.call("sync", {"since": since})
            assert ack["ok"], ack
            self.seq = ack["seq"]
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


def stroke(page="p1", sid=None, n=10, color="#e53935", tool="pen", size=8):
    """A plausible stroke payload with n points."""
    pts = []
    for i in range(n):
        pts += [100 + i * 5, 200 + i * 3, 0.5]
    return {"page": page, "id": sid or f"s{time.monotonic_ns() % 10**12}", "tool": tool,
            "color": color, "size": size, "pts": pts}
