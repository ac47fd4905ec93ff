"""SCALE2 without sockets: which processes are listed in a room, and when an emitter
may keep a room's previews off the message queue (rooms/transport/fanout.py), on a
real redis-server."""
import time

import pytest

from tests.unit.store.test_storage_contract import redis_store  # noqa: F401 (fixture)
from rooms.transport import fanout
from rooms.transport.fanout import RoomProcesses


class Clock:
    """Wall time that tests move on (Redis expires keys by its own clock)."""
    def __init__(self):
        self.t = time.time()

    def __call__(self):
        return self.t


@pytest.fixture
def store(redis_store):
    return redis_store


def pair(store):
    clock = Clock()
    return RoomProcesses(store, "a", clock), RoomProcesses(store, "b", clock), clock


def test_SCALE2_a_room_only_here_until_another_process_lists_itself(store):
    a, b, clock = pair(store)
    a.here("r1")
    assert a.only_here("r1") and b.only_here("r2")       # nobody else anywhere
    b.here("r1")                                          # a socket of r1 arrives at b
    assert a.only_here("r1"), "a trusts what it read for CHECK_S"
    clock.t += fanout.CHECK_S
    assert not a.only_here("r1") and not b.only_here("r1")
    assert store.room_processes("r1") == {"a": pytest.approx(clock.t - fanout.CHECK_S + fanout.EXPIRES_S),
                                          "b": pytest.approx(clock.t - fanout.CHECK_S + fanout.EXPIRES_S)}


def test_SCALE2_a_process_that_leaves_or_dies_stops_counting(store):
    a, b, clock = pair(store)
    a.here("r1"), b.here("r1")
    b.refresh(set())                                      # b's last socket of r1 left
    clock.t += fanout.CHECK_S
    assert a.only_here("r1") and "b" not in store.room_processes("r1")
    b.here("r1")
    for _ in range(5):                                    # a renews; b died and never does
        clock.t += fanout.REFRESH_S
        a.refresh({"r1"})
    assert a.only_here("r1"), "b's entry expired"
    assert store.r.ttl(store._key("room", "r1", "processes")) > 0, "the key expires with its last entry"


def test_SCALE2_a_room_listed_nowhere_is_only_here_and_bad_entries_are_ignored(store):
    a, _, _ = pair(store)
    store.r.hset(store._key("room", "r9", "processes"), "c", "not a time")
    assert a.only_here("r9")


def test_SCALE2_a_store_out_of_reach_means_publish_and_ask_again_a_second_later():
    class Down:
        calls = 0

        def room_processes(self, room_id):
            Down.calls += 1
            raise ConnectionError("Redis is down")
    clock = Clock()
    a = RoomProcesses(Down(), "a", clock)
    with pytest.raises(ConnectionError):
        a.only_here("r1")
    assert a.only_here("r1") is False and Down.calls == 1, "no second read within CHECK_S"
    clock.t += fanout.CHECK_S
    with pytest.raises(ConnectionError):
        a.only_here("r1")
