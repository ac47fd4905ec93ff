"""Rate limits (token buckets) and the ephemeral relay, driven with explicit time."""
import pytest

from activities import canvas
from rooms.core.ephemeral import EphemeralRelay
from rooms.core.ratelimit import TokenBucket

# ====================================================================== RATE1


def bucket(rate=2.0, burst=3, start=100.0):
    return TokenBucket(rate, burst, clock=lambda: start)


def takes(b, n, now):
    return [b.take(now=now) for _ in range(n)]


def test_RATE1_burst_then_refusal():
    b = bucket(burst=3)
    assert takes(b, 4, now=100.0) == [True, True, True, False]


def test_RATE1_refills_at_the_rate():
    b = bucket(rate=2.0, burst=3)
    takes(b, 3, now=100.0)
    assert b.take(now=100.25) is False       # half a token so far
    assert b.take(now=100.5) is True         # one whole token (0.5 s * 2/s)
    assert b.take(now=100.5) is False


def test_RATE1_saved_tokens_never_exceed_the_burst():
    b = bucket(rate=2.0, burst=3)
    assert takes(b, 4, now=10_000.0) == [True, True, True, False]


def test_RATE1_sending_at_the_sustained_rate_is_never_refused():
    b = bucket(rate=20.0, burst=2)
    assert all(b.take(now=100.0 + k / 20.0) for k in range(200))


def test_RATE1_refused_attempts_do_not_cost_tokens():
    b = bucket(rate=1.0, burst=1)
    b.take(now=100.0)
    assert takes(b, 5, now=100.5) == [False] * 5
    assert b.take(now=101.0) is True


# ====================================================================== EPH1

class Emits(list):
    def __call__(self, room_id, skip_sid, payload):
        self.append((room_id, skip_sid, payload))


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


PERIOD = 1 / 30
STEP = PERIOD * 1.001     # one throttle period later (clear of float rounding)


@pytest.fixture
def emits():
    return Emits()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def relay(emits, clock):
    return EphemeralRelay(emits, PERIOD, clock=clock)


CURSOR = ("canvas", "cursor", None)
_, MERGE = canvas.EPHEMERAL["stroke"]


def preview(sid="s1", start=0, npts=2, x=10):
    return {"a": "canvas", "k": "stroke", "id": sid, "page": "p1", "tool": "pen",
            "color": "#e53935", "size": 8, "from": start,
            "pts": [v for k in range(npts) for v in (x + k, 10, 0.5)]}


def put_preview(relay, item, sid="sock-1", by="kid"):
    relay.put(sid, "room-1", by, ("canvas", "stroke", item["id"]), item, MERGE)


def test_EPH1_signal_of_an_idle_sender_goes_out_at_once(relay, emits):
    relay.put("sock-1", "room-1", "kid", CURSOR, {"x": 1})
    assert emits == [("room-1", "sock-1", {"by": "kid", "items": [{"x": 1}]})]


def test_EPH1_a_sender_at_30_per_second_is_never_held_back(relay, emits, clock):
    for k in range(10):
        relay.put("sock-1", "room-1", "kid", CURSOR, {"x": k})
        clock.now += STEP
    assert [p["items"][0]["x"] for _, _, p in emits] == list(range(10))


def test_EPH1_faster_signals_wait_for_the_next_slot_and_keep_the_latest_cursor(relay, emits, clock):
    for x in (1, 2, 3):
        relay.put("sock-1", "room-1", "kid", CURSOR, {"k": "cursor", "page": "p1", "x": x, "y": 5})
    assert len(emits) == 1                   # x=1 went out at once
    assert relay.flush() == 0                # the slot is not due yet
    clock.now += STEP
    assert relay.flush() == 1
    assert emits[-1] == ("room-1", "sock-1",
                         {"by": "kid", "items": [{"k": "cursor", "page": "p1", "x": 3, "y": 5}]})


def test_EPH1_consecutive_stroke_chunks_are_merged_with_no_point_lost(relay, emits, clock):
    put_preview(relay, preview(start=0, npts=2, x=10))      # sent at once
    put_preview(relay, preview(start=2, npts=3, x=20))
    put_preview(relay, preview(start=5, npts=1, x=30))
    clock.now += STEP
    relay.flush()
    sent = [i for _, _, p in emits for i in p["items"]]
    assert [(i["from"], i["pts"][0::3]) for i in sent] == [(0, [10, 11]), (2, [20, 21, 22, 30])]


def test_EPH1_different_strokes_are_both_kept(relay, emits, clock):
    relay.put("sock-1", "room-1", "kid", CURSOR, {"x": 0})  # uses the slot
    put_preview(relay, preview("s1", x=10))
    put_preview(relay, preview("s2", x=50))
    relay.flush(force=True)
    items = emits[-1][2]["items"]
    assert sorted(i["id"] for i in items) == ["s1", "s2"]


def test_EPH1_a_chunk_after_a_gap_does_not_drop_the_earlier_points(relay, emits, clock):
    relay.put("sock-1", "room-1", "kid", CURSOR, {"x": 0})  # uses the slot
    put_preview(relay, preview(start=0, npts=2, x=10))
    put_preview(relay, preview(start=10, npts=2, x=90))   # chunks 2..9 were dropped on the way
    clock.now += STEP
    relay.flush()
    items = emits[-1][2]["items"]
    assert [(i["from"], i["pts"][0]) for i in items] == [(0, 10), (10, 90)]


def test_EPH1_cursor_and_stroke_travel_together_in_one_message(relay, emits, clock):
    relay.put("sock-1", "room-1", "kid", CURSOR, {"x": 0})  # uses the slot
    put_preview(relay, preview())
    relay.put("sock-1", "room-1", "kid", CURSOR, {"k": "cursor", "page": "p1", "x": 1, "y": 1})
    clock.now += STEP
    relay.flush()
    assert len(emits) == 2 and {i["k"] for i in emits[-1][2]["items"]} == {"stroke", "cursor"}


def test_EPH1_flush_sends_one_message_per_sender_skipping_the_sender_then_clears(relay, emits, clock):
    for sid, by, room in (("sock-1", "kid", "room-1"), ("sock-2", "th-1", "room-1"),
                          ("sock-3", "mum", "room-2")):
        relay.put(sid, room, by, CURSOR, {"x": 0})          # each uses its slot
    emits.clear()
    relay.put("sock-1", "room-1", "kid", CURSOR, {"x": 1})
    relay.put("sock-2", "room-1", "th-1", CURSOR, {"x": 2})
    relay.put("sock-3", "room-2", "mum", CURSOR, {"x": 3})
    relay.put("sock-1", "room-1", "kid", CURSOR, {"x": 4})
    clock.now += STEP
    assert relay.flush() == 3
    assert sorted((room, skip, p["by"], p["items"][0]["x"]) for room, skip, p in emits) == [
        ("room-1", "sock-1", "kid", 4), ("room-1", "sock-2", "th-1", 2),
        ("room-2", "sock-3", "mum", 3)]
    emits.clear()
    assert relay.flush() == 0 and emits == []


def test_EPH1_drop_forgets_a_closed_sockets_pending_signals(relay, emits, clock):
    for sid in ("sock-1", "sock-2"):
        relay.put(sid, "room-1", sid, CURSOR, {"x": 0})     # each uses its slot
    emits.clear()
    relay.put("sock-1", "room-1", "kid", CURSOR, {"x": 1})
    relay.put("sock-2", "room-1", "th-1", CURSOR, {"x": 2})
    relay.drop("sock-1")
    relay.drop("never-seen")
    clock.now += STEP
    relay.flush()
    assert [skip for _, skip, _ in emits] == ["sock-2"]
