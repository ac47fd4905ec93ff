"""Fixtures for the socket integration tests: a real `python app.py` server and rooms
with a therapist, a child and a parent, each driven through python-socketio.

`server` is one eventlet server shared by the whole session (fast); tests that stop,
kill or restart the server take `fresh_server` instead. `room` registers a therapist,
creates a room and opens both invite links; `room.user(role)` gives a connected,
synced `SocketUser` that is closed after the test.
"""
import time

import pytest
import requests
import socketio

from tests.support import DEFAULT_MODE, Actions, ServerProcess, SocketUser, stroke, wait_for

from activities.contract.protocol import E_AUTH, E_ENDED, E_RATE, E_REVOKED, E_VERSION, PROTOCOL_VERSION


def assert_no_crash_in_log(srv):
    """ERR2: bad input never produces an unhandled exception in the server."""
    text = full_log(srv)
    assert "Traceback" not in text, text[max(0, text.index("Traceback") - 300):][:4000]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    srv = ServerProcess(tmp_path_factory.mktemp("server"), mode=DEFAULT_MODE).start()
    yield srv
    srv.stop()
    assert_no_crash_in_log(srv)


@pytest.fixture
def fresh_server(tmp_path):
    """A server of its own, for tests that stop, kill or restart it."""
    srv = ServerProcess(tmp_path, mode=DEFAULT_MODE).start()
    yield srv
    srv.stop()
    assert_no_crash_in_log(srv)


def assert_alive(srv):
    assert srv.proc is not None and srv.proc.poll() is None, srv.log()
    assert requests.get(srv.url + "/", timeout=5).status_code == 200


def full_log(srv):
    """The server's whole log (support.ServerProcess.log() keeps only the tail)."""
    with open(srv.log_path, errors="replace") as f:
        return f.read()


class Room:
    """One room on `srv`: its therapist, child and parent (Actions, one cookie jar
    each) and every SocketUser opened for it (closed by the fixture)."""

    def __init__(self, srv, waiting_room=False):
        self.srv = srv
        self.base = srv.url
        self.therapist = Actions(self.base)
        self.therapist.register()
        self.id, self.links = self.therapist.create_room(waiting_room=waiting_room)
        self.child = Actions(self.base)
        assert self.child.join(self.links["child"], name="Sam", avatar="fox") == self.id
        self.parent = Actions(self.base)
        assert self.parent.join(self.links["parent"], name="Alex", avatar="bear") == self.id
        self.users = []

    def actions(self, role):
        return {"therapist": self.therapist, "child": self.child, "parent": self.parent}[role]

    def user(self, role, **connect):
        """A SocketUser for `role`, connected and synced unless connect=False."""
        do_connect = connect.pop("connect", True)
        u = SocketUser(self.actions(role), self.id)
        self.users.append(u)
        u.role = role
        u.me = None
        if do_connect:
            u.connect(**connect)
            if connect.get("sync", True):
                u.me = self.my_id(u)
        return u

    def my_id(self, user):
        """A participant's id, as the room's presence list names it (it arrives
        before the sync ack: the server broadcasts presence before acking)."""
        def find():
            for ev in reversed(user.received("presence")):
                for p in ev["participants"]:
                    if p["role"] == user.role:
                        return p["id"]
        return wait_for(find, what="own presence entry")

    def snapshot(self):
        """What a brand-new late joiner sees: the therapist opens a fresh socket."""
        u = SocketUser(self.therapist, self.id)
        try:
            u.connect(since=-1)
            wait_for(lambda: u.state is not None, what="state")
            assert u.state["mode"] == "snapshot", u.state["mode"]
            return u.state
        finally:
            u.close()

    def canvas(self):
        return self.snapshot()["activities"]["canvas"]

    def item_ids(self, page="p1"):
        for p in self.canvas()["pages"]:
            if p["id"] == page:
                return [it["id"] for it in p["items"]]
        raise AssertionError(f"no page {page}")

    def close_users(self):
        """Close every socket opened so far (a person may hold at most 8 sockets at
        once, RATE5: tests that share one room across many cases close theirs)."""
        users, self.users = self.users, []
        for u in users:
            try:
                u.close()
            except Exception:
                pass

    def close(self):
        self.close_users()
        for who in (self.therapist, self.child, self.parent):
            who.http.close()


@pytest.fixture
def room(server):
    r = Room(server)
    yield r
    r.close()


@pytest.fixture
def trio(room):
    """Therapist, child and parent sockets, connected and synced."""
    return room.user("therapist"), room.user("child"), room.user("parent")


@pytest.fixture
def room_factory():
    rooms = []

    def make(srv):
        r = Room(srv)
        rooms.append(r)
        return r
    yield make
    for r in rooms:
        r.close()


# ------------------------------------------------------------------ helpers

def new_id(prefix="s"):
    return f"{prefix}{time.monotonic_ns() % 10**13}"


def send_op(user, t, d, op_id=None, a="canvas", patience=10.0):
    """Send one op; when the socket's rate limit refuses it, wait and resend the same
    op_id (the test is about something else). Returns the ack."""
    op_id = op_id or new_id("op-")
    deadline = time.monotonic() + patience
    while True:
        ack = user.op(t, d, a=a, op_id=op_id)
        if ack.get("ok") or ack.get("code") != E_RATE or time.monotonic() > deadline:
            return ack
        time.sleep(0.06)


def draw_strokes(room, role, n, page="p1", per_socket=50):
    """`role` commits n strokes. Each fresh socket (a new per-connection burst
    allowance keeps this fast) sends up to `per_socket` ops without waiting for each
    ack, then collects the acks. Returns [(seq, stroke id)] in seq order."""
    out = []
    for start in range(0, n, per_socket):
        u = room.user(role)
        acks = {}
        ids = [new_id() + f"-{k}" for k in range(start, min(n, start + per_socket))]
        for sid in ids:
            u.sio.emit("op", {"op_id": "op-" + sid, "a": "canvas", "t": "stroke",
                              "d": stroke(page=page, sid=sid)},
                       callback=lambda ack, sid=sid: acks.__setitem__(sid, ack))
        wait_for(lambda: len(acks) == len(ids), what="acks for the strokes")
        for sid in ids:
            ack = acks[sid]
            if not ack["ok"]:
                ack = send_op(u, "stroke", stroke(page=page, sid=sid), op_id="op-" + sid)
            assert ack["ok"], ack
            out.append((ack["seq"], sid))
        u.close()
    return sorted(out)


def ops_with(user, op_id):
    return [o for o in user.received("op") if o["op_id"] == op_id]


ROOM_ACTIVITY = "room"   # the reserved `a` of the room's own ops (session, presence, settings...)


def activity_ops(user):
    """The activity ops `user` received, in arrival order: without the room's own ops
    (session start, presence, settings, ...) that interleave with them in the log."""
    return [o for o in user.received("op") if o["a"] != ROOM_ACTIVITY]


def assert_seqs_follow_state(user):
    """Every op `user` received (room ops included) continues its state's seq one by
    one: no gap, no duplicate, no reordering. Returns the last seq it knows."""
    seqs = [o["seq"] for o in user.received("op")]
    first = user.state["seq"] + 1
    assert seqs == list(range(first, first + len(seqs))), "gap, duplicate or reordering in seq"
    return seqs[-1] if seqs else user.state["seq"]


def room_settings(**changes):
    """The full settings of a room the helpers create (no waiting room, so guests are
    admitted at once) with `changes` applied."""
    from activities.registry import build_registry
    from rooms.core.control import default_settings
    return {**default_settings(build_registry().names()), "auto_admit": True, **changes}


def wait_op(user, op_id, timeout=10):
    return wait_for(lambda: ops_with(user, op_id), timeout=timeout,
                    what=f"op {op_id} to reach the client")[0]


def connect_refusal(actions, room_id, version=PROTOCOL_VERSION):
    """Try to connect; returns what the client's connect_error handler received (the
    Socket.IO CONNECT_ERROR data: {"message": str, "data"?: ...}). Fails if accepted."""
    u = SocketUser(actions, room_id)
    refused = []
    u.sio.on("connect_error", lambda *data: refused.append(data[0] if data else None))
    with pytest.raises(socketio.exceptions.ConnectionError):
        u.connect(version=version, sync=False)
    u.close()
    assert refused, "no connect_error data"
    return refused[0]


def refusal_code(err):
    """The refusal code the way the browser reads it (static/canvas/room/connection.js
    connectErrorCode): data.code, else an error code found in the message."""
    data = err.get("data") if isinstance(err, dict) else None
    if isinstance(data, dict) and isinstance(data.get("code"), str):
        return data["code"]
    text = str(err.get("message", "")) if isinstance(err, dict) else str(err)
    for code in (E_VERSION, E_AUTH, E_REVOKED, E_ENDED):
        if code in text:
            return code
    return None


def connect_error(actions, room_id, version=PROTOCOL_VERSION):
    """The refusal code of a refused connect attempt."""
    return refusal_code(connect_refusal(actions, room_id, version))


def events_since(user, mark):
    with user.lock:
        return list(user.events[mark:])


def mark(user):
    with user.lock:
        return len(user.events)
