"""SCALE2 over real processes on one Redis: what crosses the message queue.

nginx sends a room's sockets to one process (ROUTE1); then neither its ops nor its
stroke previews are published to the other processes. A room whose sockets are split
over two processes still works both ways: ops reach the other process through the
log (each process hands the ops it catches up on to its own sockets), previews
through the queue again once the other process is listed in the room."""
import json
import threading
import time

import pytest
import redis

from tests.integration.conftest import new_id, wait_op
from tests.integration.test_multiprocess import Party, cluster_factory  # noqa: F401 (fixture)
from tests.support import stroke, wait_for

CHANNEL = "playroom"            # rooms/config.py MESSAGE_QUEUE_CHANNEL


class QueueWatch:
    """Every event python-socketio's Redis manager publishes on the queue (the
    split-room test below shows it sees them)."""

    def __init__(self, url):
        self.client = redis.Redis.from_url(url)
        self.pubsub = self.client.pubsub()
        self.pubsub.subscribe(CHANNEL)
        self.events = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            msg = self.pubsub.get_message(timeout=0.2)
            if msg and msg["type"] == "message":
                data = json.loads(msg["data"])        # python-socketio publishes JSON
                if data.get("method") == "emit":
                    self.events.append(data.get("event"))

    def count(self, event):
        return self.events.count(event)

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.pubsub.close()
        self.client.close()


def preview(u, sid, k):
    """One stroke preview chunk, as the browser sends while a finger moves."""
    u.sio.emit("eph", {"a": "canvas", "k": "stroke", "id": sid, "page": "p1", "tool": "pen",
                       "color": "#e53935", "size": 8, "from": 8 * k,
                       "pts": [v for i in range(8) for v in (100 + k * 8 + i, 200, 0.5)]})


def previews_of(u, sid):
    return [it for e in u.received("eph") for it in e.get("items", []) if it.get("id") == sid]


@pytest.fixture
def watch(redis_url):
    w = QueueWatch(redis_url)
    yield w
    w.close()


@pytest.fixture
def room_on_two(cluster_factory):  # noqa: F811
    """A room of two processes on one Redis: (cluster, party)."""
    cluster = cluster_factory(2)
    party = Party(cluster, kids=1, parents=1)
    yield cluster, party
    party.close()


def test_SCALE2_a_room_on_one_process_publishes_neither_ops_nor_previews(room_on_two, watch):
    cluster, party = room_on_two
    therapist = party.room.user("therapist", url=cluster[0].url)
    child = party.room.user("child", url=cluster[0].url)
    time.sleep(0.5)
    base = {e: watch.count(e) for e in ("op", "eph")}
    sid = new_id("p-")
    for k in range(20):
        preview(child, sid, k)
        time.sleep(0.04)
    ack = child.op("stroke", stroke(sid=sid), op_id="op-" + sid)
    assert ack["ok"], ack
    wait_for(lambda: previews_of(therapist, sid), what="the previews, on the same process")
    assert wait_op(therapist, "op-" + sid)["seq"] == ack["seq"]
    time.sleep(0.5)
    assert {e: watch.count(e) - base[e] for e in ("op", "eph")} == {"op": 0, "eph": 0}, \
        "nothing of a room served by one process crosses the queue"


def test_SCALE2_a_room_split_over_two_processes_gets_ops_and_previews_both_ways(room_on_two, watch):
    cluster, party = room_on_two
    therapist = party.room.user("therapist", url=cluster[0].url)
    child = party.room.user("child", url=cluster[1].url)
    for sender, receiver in ((child, therapist), (therapist, child)):
        sid = new_id("x-")
        k = 0

        def arrived():
            nonlocal k
            preview(sender, sid, k)        # a finger still moving: the next chunk
            k += 1
            return previews_of(receiver, sid)
        # Within a second or two the sender's process sees the other one listed.
        wait_for(arrived, timeout=10, interval=0.05, what="previews across processes")
        ack = sender.op("stroke", stroke(sid=sid), op_id="op-" + sid)
        assert ack["ok"], ack
        assert wait_op(receiver, "op-" + sid)["seq"] == ack["seq"]
    assert watch.count("eph") > 0, "a split room's previews use the queue"
    assert watch.count("op") == 0, "ops never do: each process delivers what it catches up on"
