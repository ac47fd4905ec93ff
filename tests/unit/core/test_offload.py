"""WORK1: the engine hands its heavy work to the injected Offload service — the
periodic snapshot as a background task with the room's state at one seq, encoding
in a worker — and nothing of it runs under the room lock on the serving loop."""
import json
import logging

import pytest

from activities.registry import build_registry
from rooms.core.engine import Engine
from rooms.core.offload import Offload
from activities.contract.protocol import THERAPIST
from tests.unit.payloads import history, op, stroke
from tests.unit.core.test_engine import Broadcasts


class Deferred(Offload):
    """Keeps background tasks until the test runs them; names what ran in a worker."""

    def __init__(self, fail=()):
        super().__init__()
        self.waiting, self.in_worker, self.fail = [], [], set(fail)
        self.install(self._worker, self._later)

    def _worker(self, fn, *args):
        name = args[0].__name__           # run() wraps the work: (_captured, fn, args)
        self.in_worker.append(name)
        if name in self.fail:
            raise OSError("the pool broke")
        return fn(*args)

    def _later(self, fn, *args):
        self.waiting.append((fn, args))

    def run_waiting(self):
        jobs, self.waiting = self.waiting, []
        for fn, args in jobs:
            fn(*args)


@pytest.fixture
def th(storage, room_id):
    return {"id": f"th-{storage.get_room(room_id)['therapist_id']}", "role": THERAPIST}


def draw(engine, room_id, who, sid):
    ack = engine.submit(room_id, who, op("stroke", stroke(sid)))
    assert ack["ok"], ack
    return ack["seq"]


def ids(state):
    return [it["id"] for it in state["canvas"]["pages"][0]["items"]]


def test_WORK1_periodic_snapshot_is_the_state_at_its_seq_written_off_the_lock(storage, room_id, th):
    offload = Deferred()
    engine = Engine(storage, build_registry(), Broadcasts(), snapshot_every=3, offload=offload)
    for sid in "abc":
        draw(engine, room_id, th, sid)
    assert len(offload.waiting) == 1 and storage.load_snapshot(room_id) is None
    # The room goes on while the snapshot waits for its turn.
    draw(engine, room_id, th, "d")
    draw(engine, room_id, th, "e")
    assert engine.history(room_id, th, history("undo"))["ok"]
    offload.run_waiting()
    assert offload.in_worker == ["_fill", "encode_snapshot"]     # load, then snapshot
    seq, text = storage.load_snapshot(room_id)
    data = json.loads(text)
    assert seq == 3 and ids(data["states"]) == ["a", "b", "c"]
    [[pid, act, stack]] = data["undo"]
    assert (pid, act, len(stack)) == (th["id"], "canvas", 3)
    # Snapshot + log rebuild exactly the room as it is now.
    again = Engine(storage, build_registry(), Broadcasts())
    assert again.state(room_id, "canvas") == engine.state(room_id, "canvas")
    assert ids({"canvas": again.state(room_id, "canvas")[1]}) == ["a", "b", "c", "d"]


def test_WORK1_at_most_one_snapshot_per_room_at_a_time(storage, room_id, th):
    offload = Deferred()
    engine = Engine(storage, build_registry(), Broadcasts(), snapshot_every=2, offload=offload)
    for sid in "abcdef":
        draw(engine, room_id, th, sid)
    assert len(offload.waiting) == 1
    offload.run_waiting()
    for sid in "gh":
        draw(engine, room_id, th, sid)
    assert len(offload.waiting) == 1             # the next one starts after it finished


def test_WORK1_a_failed_snapshot_is_logged_and_loses_no_op(storage, room_id, th, caplog):
    offload = Deferred(fail={"encode_snapshot"})
    engine = Engine(storage, build_registry(), Broadcasts(), snapshot_every=2, offload=offload)
    for sid in "ab":
        draw(engine, room_id, th, sid)
    with caplog.at_level(logging.ERROR, "playroom.engine"):
        offload.run_waiting()
    assert "snapshot failed" in caplog.text and storage.load_snapshot(room_id) is None
    for sid in "cd":
        draw(engine, room_id, th, sid)
    again = Engine(storage, build_registry(), Broadcasts())
    assert ids({"canvas": again.state(room_id, "canvas")[1]}) == ["a", "b", "c", "d"]


def test_WORK1_a_joiners_snapshot_is_encoded_in_a_worker(storage, room_id, th):
    offload = Deferred()
    engine = Engine(storage, build_registry(), Broadcasts(), offload=offload)
    draw(engine, room_id, th, "a")
    sent = []
    assert engine.join(room_id, -1, sent.append, lambda: None) == 1
    assert sent[0]["mode"] == "snapshot" and "encode_states" in offload.in_worker
    assert ids(json.loads(sent[0].json)["activities"]) == ["a"]


def test_WORK1_unloading_writes_the_last_snapshot_in_a_worker(storage, room_id, th):
    offload = Deferred()
    engine = Engine(storage, build_registry(), Broadcasts(), offload=offload)
    draw(engine, room_id, th, "a")
    engine.unload(room_id)
    assert offload.in_worker == ["_fill", "encode_snapshot"] and storage.load_snapshot(room_id)[0] == 1


def test_WORK1_loading_a_room_decodes_and_replays_in_a_worker_off_the_rooms_lock(storage, room_id, th):
    first = Engine(storage, build_registry(), Broadcasts(), snapshot_every=2)
    for sid in "abc":
        draw(first, room_id, th, sid)
    seen = []

    class Watching(Deferred):
        def _worker(self, fn, *args):
            # Another room is served meanwhile: the engine's room table is free.
            seen.append(engine._rooms_lock.acquire(blocking=False))
            engine._rooms_lock.release()
            return super()._worker(fn, *args)
    offload = Watching()
    engine = Engine(storage, build_registry(), Broadcasts(), offload=offload)
    assert engine.state(room_id, "canvas") == first.state(room_id, "canvas")
    assert offload.in_worker == ["_fill"] and seen == [True]
