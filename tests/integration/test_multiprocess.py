"""Several server processes on one Redis (issue 8): Redis is the storage of every
process and the Socket.IO message queue between them; any process serves any room.

Clients of one room are spread over two, then three real `python app.py` processes
and draw at the same time (>= 1,000 strokes). Every client keeps the room the way
the browser does (tests/support.py `Replica`: apply in seq order through the
activities' reducers, sync again on a gap). In the end every client, and a late
joiner on each process, must hold the same state, and every client must have applied
the same op for every seq as the op log in Redis holds (SEQ1 across processes).
"""
import json
import threading

import pytest
import socketio

from activities.registry import build_registry
from app import create_app, message_queue
from activities.contract.protocol import LIMITS
from rooms.store.redis_store import RedisStorage
from tests.support import Actions, Replica, ServerCluster, SocketUser, stroke, wait_for

from .conftest import Room, assert_no_crash_in_log, wait_op

REGISTRY = build_registry()


@pytest.fixture
def cluster_factory(tmp_path, redis_url):
    made = []

    def make(n, **kw):
        c = ServerCluster(tmp_path, redis_url, n=n, **kw).start()
        made.append(c)
        return c
    yield make
    for c in made:
        c.stop()
        for srv in c.servers:
            assert_no_crash_in_log(srv)


@pytest.fixture
def store(redis_url):
    s = RedisStorage(redis_url)
    yield s
    s.close()


class Party:
    """One room on a cluster with a therapist, `kids` children and `parents` parents
    (each a participant of their own, so each has their own rate allowance), the
    parents allowed to play."""

    def __init__(self, cluster, kids=3, parents=3):
        self.cluster = cluster
        self.room = Room(cluster[0])
        self.people = [self.room.therapist, self.room.child, self.room.parent]
        for k in range(kids - 1):
            a = Actions(cluster[k % len(cluster)].url)
            assert a.join(self.link("child", a), name=f"Kid{k}") == self.room.id
            self.people.append(a)
        for k in range(parents - 1):
            a = Actions(cluster[k % len(cluster)].url)
            assert a.join(self.link("parent", a), name=f"Mum{k}", avatar="bear") == self.room.id
            self.people.append(a)
        t = SocketUser(self.room.therapist, self.room.id).connect()
        ack = t.call("settings", {"parent_may_play": True, "auto_admit": True})
        assert ack["ok"], ack
        t.close()
        self.replicas = []

    def link(self, role, actions):
        """The invite link as opened on `actions`' own process."""
        return self.room.links[role].replace(self.room.base, actions.base)

    def replica(self, actions, url, tag):
        r = Replica(actions, self.room.id, REGISTRY, tag)
        self.replicas.append(r)
        return r.resume(url)

    def late_joiner(self, url, tag):
        r = self.replica(self.room.therapist, url, tag)
        wait_for(lambda: r.states is not None, what="the late joiner's state")
        return r

    def close(self):
        for r in self.replicas:
            try:
                r.close()
            except Exception:
                pass
        self.room.close()


def draw_together(drawers, per, watchers=(), **draw):
    """Every drawer commits `per` strokes at the same time, each on its own thread;
    meanwhile every client closes gaps that do not fill (Replica.mend), as browsers do."""
    barrier = threading.Barrier(len(drawers))
    errors = []
    done = threading.Event()

    def mend():
        while not done.wait(0.1):
            for c in list(drawers) + list(watchers):
                c.mend()
    mender = threading.Thread(target=mend)
    mender.start()

    def run(r):
        try:
            barrier.wait(30)
            r.draw(per, **draw)
        except BaseException as e:      # reported in the test's thread
            errors.append((r.tag, e))
    threads = [threading.Thread(target=run, args=(r,)) for r in drawers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    done.set()
    mender.join(10)
    assert not errors, errors
    assert not any(t.is_alive() for t in threads), "a drawer did not finish"


def the_log(store, room_id):
    return [(o["seq"], o["by"], o["op_id"]) for o in store.ops_since(room_id, 0)]


def inversions(seqs):
    """How many ops arrived after one with a higher seq (broadcasts of different
    processes may cross; the client puts them back in order)."""
    top, n = 0, 0
    for s in seqs:
        if s < top:
            n += 1
        top = max(top, s)
    return n


def assert_converged(store, room_id, clients, drawers, per):
    """Acknowledged ops: each in the log exactly once at its acked seq; every client
    applied, for every seq it saw, the log's op, in seq order; all states identical."""
    last = store.last_seq(room_id)
    for c in clients:
        c.catch_up(last)
    log = the_log(store, room_id)
    assert [s for s, _, _ in log] == list(range(1, last + 1))
    by_op = {}
    for seq, by, op_id in log:
        assert (by, op_id) not in by_op, f"op {op_id} of {by} stored twice"
        by_op[(by, op_id)] = seq
    where = {op_id: seq for seq, _, op_id in log}
    for d in drawers:
        assert not d.refused, (d.tag, list(d.refused.items())[:3])
        assert len(d.acked) == per, (d.tag, len(d.acked))
        lost = [i for i, seq in d.acked.items() if where.get(i) != seq]
        assert lost == [], f"{d.tag}: acknowledged ops not in the log at their seq: {lost[:5]}"
    drawn = [op_id for _, _, op_id in log if any(op_id.startswith(d.tag + "-") for d in drawers)]
    assert len(drawn) == len(set(drawn)) == per * len(drawers)
    at = {e[0]: e for e in log}
    for c in clients:
        seqs = [e[0] for e in c.applied]
        assert seqs == sorted(set(seqs)), f"{c.tag} applied out of seq order"
        assert all(at[e[0]] == e for e in c.applied), f"{c.tag} applied another op for a seq"
        if len(c.snapshots) == 1:       # joined once: it applied every op after its snapshot
            assert c.applied == [e for e in log if e[0] > c.snapshots[0]], c.tag
    states = {c.tag: c.state_json() for c in clients}
    assert len(set(states.values())) == 1, "clients ended with different states"
    canvas = json.loads(next(iter(states.values())))["canvas"]
    ids = [it["id"] for p in canvas["pages"] for it in p["items"]]
    assert len(ids) == len(set(ids)) and len(ids) >= per * len(drawers)
    return log, next(iter(states.values()))


def test_REDIS_URL_makes_redis_the_message_queue(tmp_path, redis_url):
    """The wiring (app.py): REDIS_URL gives Flask-SocketIO a Redis pub/sub manager on
    the "playroom" channel; without it (`make run`) there is no queue and no Redis."""
    assert message_queue({"REDIS_URL": redis_url, "MESSAGE_QUEUE": None,
                          "MESSAGE_QUEUE_CHANNEL": "playroom"}) == \
        {"message_queue": redis_url, "channel": "playroom"}
    assert message_queue({"REDIS_URL": redis_url, "MESSAGE_QUEUE": False,
                          "MESSAGE_QUEUE_CHANNEL": "playroom"}) == {}
    assert message_queue({"REDIS_URL": None, "MESSAGE_QUEUE": None,
                          "MESSAGE_QUEUE_CHANNEL": "playroom"}) == {}
    queued = create_app({"INSTANCE_PATH": str(tmp_path / "a"), "MESSAGE_QUEUE": redis_url,
                         "MESSAGE_QUEUE_CHANNEL": "playroom-test"})
    plain = create_app({"INSTANCE_PATH": str(tmp_path / "b")})
    try:
        manager = queued.extensions["socketio"].server.manager
        assert isinstance(manager, socketio.RedisManager)
        assert (manager.redis_url, manager.channel) == (redis_url, "playroom-test")
        assert not isinstance(plain.extensions["socketio"].server.manager, socketio.PubSubManager)
    finally:
        for app in (queued, plain):
            app.extensions["playroom"].storage.close()


@pytest.mark.parametrize("mode", ["gevent", "eventlet"])
def test_an_op_on_one_process_reaches_clients_on_the_other(cluster_factory, mode):
    """Both kinds of worker the README's deployment names (one per process)."""
    cluster = cluster_factory(2, mode=mode)
    party = Party(cluster, kids=1, parents=1)
    try:
        therapist = party.room.user("therapist", url=cluster[0].url)
        child = party.room.user("child", url=cluster[1].url)
        ack = child.op("stroke", stroke(sid="from-b"), op_id="op-from-b")
        assert ack["ok"] and isinstance(ack["seq"], int) and not ack.get("duplicate")
        assert wait_op(therapist, "op-from-b")["seq"] == ack["seq"]
        ack = therapist.op("stroke", stroke(sid="from-a"), op_id="op-from-a")
        assert wait_op(child, "op-from-a")["seq"] == ack["seq"]
    finally:
        party.close()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("n", [2, 3], ids=["two-processes", "three-processes"])
def test_SEQ1_clients_on_several_processes_draw_at_once_and_converge(cluster_factory, store, n):
    """7 people (therapist, 3 children, 3 parents) spread over n processes draw 150
    strokes each at the same time (1,050 ops), plus a watcher on every process. Then
    a late joiner on the third process (started afterwards with two) gets it all."""
    cluster = cluster_factory(n)
    party = Party(cluster)
    per = 150
    try:
        drawers = [party.replica(a, cluster.urls[k % n], f"d{k}")
                   for k, a in enumerate(party.people)]
        watchers = [party.replica(party.room.therapist, url, f"w{k}")
                    for k, url in enumerate(cluster.urls)]
        draw_together(drawers, per, watchers)
        log, state = assert_converged(store, party.room.id, drawers + watchers, drawers, per)
        assert len(log) >= 1000

        third = cluster[2] if n == 3 else cluster.add()
        late = party.late_joiner(third.url, "late")
        assert late.snapshots == [len(log)]
        assert late.state_json() == state
        for k, url in enumerate(cluster.urls):           # a fresh joiner on every process
            assert party.late_joiner(url, f"fresh{k}").state_json() == state

        crossed = {c.tag: inversions(c.arrivals) for c in drawers + watchers}
        mended = {c.tag: c.gap_syncs for c in drawers + watchers}
        print(f"\n{n} processes: {len(log)} ops; arrivals out of seq order per client: {crossed}; "
              f"syncs to close a gap: {mended}")
    finally:
        party.close()


def test_CTL_room_controls_hold_on_every_process(cluster_factory):
    """CTL3/CTL4/SCALE1 across processes: the therapist on process 0 pauses the room,
    removes a guest and switches off a link; guests on process 1 are paused, sent
    away and kept out, though their process never saw those events."""
    cluster = cluster_factory(2)
    room = Room(cluster[0])
    try:
        therapist = SocketUser(room.therapist, room.id).connect(url=cluster[0].url)
        child = SocketUser(room.child, room.id).connect(url=cluster[1].url)
        parent = SocketUser(room.parent, room.id).connect(url=cluster[1].url)
        assert therapist.call("settings", {"freeze": True})["ok"]
        # Process 1 hears of it (Redis announcement) and refuses the child's op.
        def refused():
            ack = child.op("stroke", stroke())
            return ack if ack.get("code") == "frozen" else None
        wait_for(refused, what="freeze enforced on the other process")
        assert therapist.call("settings", {"freeze": False})["ok"]
        people = wait_for(lambda: [p for ev in therapist.received("presence")
                                   for p in ev["participants"] if p["role"] == "parent"],
                          what="parent present")
        ack = therapist.call("control", {"op_id": "rm-1", "action": "remove",
                                         "pid": people[0]["id"]})
        assert ack["ok"], ack
        bye = wait_for(lambda: parent.received("bye"), what="bye on the other process")[0]
        assert bye["code"] == "removed"
        # Switching off the child's link from the dashboard (an HTTP request to
        # process 0) closes the child's socket on process 1 as well.
        r = room.therapist.post_form("/dashboard", f"/rooms/{room.id}/invites/child/revoke", {})
        assert r.ok, r.status_code
        bye = wait_for(lambda: child.received("bye"), what="revoked on the other process")[0]
        assert bye["code"] == "revoked"
    finally:
        room.close()


@pytest.mark.timeout(120)
def test_PRES1_two_tabs_on_two_processes_closing_one_keeps_the_child_present(cluster_factory):
    """The child has the room open in two tabs that landed on different processes and
    closes one: after the grace period the process of the closed tab records them
    away, but the other process still has their socket and puts them back, so the
    therapist ends up seeing the child present (and present they stay)."""
    cluster = cluster_factory(2)
    room = Room(cluster[0])
    try:
        therapist = room.user("therapist", url=cluster[0].url)
        tab1 = room.user("child", url=cluster[0].url)
        tab2 = room.user("child", url=cluster[1].url)

        def child_online():
            events = therapist.received("presence")
            kids = [p for p in events[-1]["participants"] if p["role"] == "child"] if events else []
            return kids[0]["online"] if kids else None
        wait_for(lambda: child_online() is True, what="the child present")
        tab1.close()
        # The closed tab's process marks the child away after the grace period ...
        wait_for(lambda: any(p["role"] == "child" and not p["online"]
                             for ev in therapist.received("presence") for p in ev["participants"]),
                 timeout=LIMITS["presence_grace_s"] + 10, what="the away mark after the grace")
        # ... and the open tab's process puts them back.
        wait_for(lambda: child_online() is True, timeout=10, what="the child present again")
        assert tab2.sio.connected
        ack = tab2.op("stroke", stroke())
        assert ack["ok"], ack
    finally:
        room.close()
