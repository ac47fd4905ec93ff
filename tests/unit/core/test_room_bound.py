"""ROOM1: a room-wide bound on each activity's content, enforced by the engine for
sent ops, undo and redo alike (activities/contract/__init__.py `Bound`).

States at the bound are built with the activities' own reducers and put into the
live room, as a long session would have left them."""
import pytest

from activities import calm

from activities import canvas

from activities import checkin

from activities import sandtray

from activities import schedule

from activities import stories
from activities.contract.protocol import E_FULL, THERAPIST
from tests.unit.payloads import history, op, stroke
from tests.unit.core.test_engine import Broadcasts


@pytest.fixture
def sent():
    return Broadcasts()


@pytest.fixture
def engine(storage, sent):
    from activities.registry import build_registry
    from rooms.core.engine import Engine
    return Engine(storage, build_registry(), sent)


@pytest.fixture
def th(storage, room_id):
    return {"id": f"th-{storage.get_room(room_id)['therapist_id']}", "role": THERAPIST}


@pytest.fixture
def co(th):
    """A second therapist's identity: their undo stack is their own (UNDO1)."""
    return {"id": th["id"] + "-co", "role": THERAPIST}


def seed(engine, room_id, name, state):
    engine.room(room_id).states[name] = state


def run(module, state, ops):
    for t, d in ops:
        state, _ = module.apply(state, t, d, by="seed")
    return state


def big_stroke(sid, page):
    """A stroke of the most points one op may carry (1,500: 4,500 numbers)."""
    pts = [100.5, 200.25, 0.5] * canvas.MAX_STROKE_POINTS
    return {"id": sid, "k": "stroke", "by": "seed", "tool": "pen", "color": "#000000",
            "size": 8, "pts": pts}


def canvas_near_full(pages=5, strokes=222):
    """`strokes` big strokes spread over `pages` pages: 999,000 numbers in all, far
    under the per-page limit on every page."""
    out = []
    for p in range(pages):
        items = [big_stroke(f"s{p}-{i}", f"p{p + 1}") for i in range(p, strokes, pages)]
        out.append({"id": f"p{p + 1}", "bg": "white", "n": sum(len(i["pts"]) for i in items),
                    "items": items})
    return {"pages": out}


def test_ROOM1_canvas_content_is_bounded_over_all_pages(engine, storage, room_id, th, sent):
    state = canvas_near_full()
    assert canvas.content(state) == canvas.MAX_NUMBERS - 1000
    assert max(p["n"] for p in state["pages"]) < canvas.MAX_NUMBERS_PER_PAGE // 5
    seed(engine, room_id, "canvas", state)
    pts = [10, 20, 0.5] * canvas.MAX_STROKE_POINTS
    ack = engine.submit(room_id, th, op("stroke", stroke("big", page="p5", pts=pts)))
    assert (ack["ok"], ack["code"]) == (False, E_FULL)
    assert ack["reason"] == canvas.BOUND.reason
    assert engine.state(room_id, "canvas") == (0, state) and sent.ops() == []
    assert storage.ops_since(room_id, 0) == []
    # Under the bound the room still draws: 300 numbers fit, on any page.
    ack = engine.submit(room_id, th, op("stroke", stroke("small", page="p1", pts=[10, 20, 0.5] * 100)))
    assert ack["ok"]
    assert canvas.content(engine.state(room_id, "canvas")[1]) == canvas.MAX_NUMBERS - 700


def test_ROOM1_canvas_undo_of_a_clear_cannot_pass_the_bound(engine, room_id, th, co, sent):
    seed(engine, room_id, "canvas", canvas_near_full(pages=1))
    assert engine.submit(room_id, th, op("clear", {"page": "p1"}))["ok"]
    pts = [10, 20, 0.5] * canvas.MAX_STROKE_POINTS
    assert engine.submit(room_id, co, op("stroke", stroke("new", page="p1", pts=pts)))["ok"]
    seq, before = engine.state(room_id, "canvas")
    sent.clear()
    ack = engine.history(room_id, th, history("undo"))
    assert (ack["ok"], ack["code"]) == (False, E_FULL)
    assert engine.state(room_id, "canvas") == (seq, before) and sent.ops() == []
    assert [it["id"] for it in before["pages"][0]["items"]] == ["new"]
    # Once the newcomer's stroke is undone, the clear can be undone again.
    assert engine.history(room_id, co, history("undo"))["ok"]
    assert engine.history(room_id, th, history("undo"))["ok"]
    assert canvas.content(engine.state(room_id, "canvas")[1]) == canvas.MAX_NUMBERS - 1000


def _steps(n):
    return [("step.add", {"id": f"s{i}", "pos": 0, "pic": "owl", "text": "", "secs": 0})
            for i in range(n)]


def _pattern(pid):
    return ("pattern.save", {"id": pid, "name": "Slow sea", "inhale": 5, "hold": 1,
                             "exhale": 7, "hold2": 0, "visual": "orb"})


def _patterns(n):
    return [_pattern(f"p{i}") for i in range(n)]


def _checkins(n):
    return [("checkin", {"id": f"e{i}", "value": 3, "moment": "any", "at": 1.0}) for i in range(n)]


def _stories(n, pages, prefix="r"):
    ops = []
    for i in range(n):
        ops.append(("story.create", {"id": f"{prefix}{i}", "title": "Mine"}))
        ops += [("page.add", {"id": f"{prefix}{i}", "page": 1, "pics": ["star"], "text": "More."})
                for _ in range(pages - 1)]
    return ops


def _trays(saved, figures):
    place = [("place", {"id": f"f{i}", "fig": "dragon", "x": 20, "y": 20, "rot": 0,
                        "scale": 1, "flip": False}) for i in range(figures)]
    return place + [("tray.save", {"id": f"t{i}", "at": 1.0}) for i in range(saved)]


# activity, ops that build a state at its bound, the op one therapist sends to make
# room, the op(s) the other then sends to fill it again.
AT_THE_BOUND = [
    (schedule, _steps(schedule.MAX_STEPS), ("step.remove", {"id": "s0"}),
     ("step.add", {"id": "n1", "pos": 0, "pic": "owl", "text": "", "secs": 0})),
    (calm, _patterns(calm.MAX_PATTERNS), ("pattern.delete", {"id": "p0"}), _pattern("n1")),
    (checkin, _checkins(checkin.MAX_ENTRIES), ("checkin.delete", {"id": "e0"}),
     ("checkin", {"id": "n1", "value": 4, "moment": "any"})),
    (stories, _stories(stories.MAX_STORIES, stories.MAX_PAGES), ("story.delete", {"id": "r0"}),
     _stories(1, stories.MAX_PAGES, prefix="n")),
    (sandtray, _trays(sandtray.MAX_SAVED, sandtray.MAX_FIGURES), ("remove", {"id": "f0"}),
     ("place", {"id": "n1", "fig": "lion", "x": 5, "y": 5})),
]


@pytest.mark.parametrize("module, build, shrink, grow", AT_THE_BOUND,
                         ids=[m.NAME for m, *_ in AT_THE_BOUND])
def test_ROOM1_an_undo_cannot_take_an_activity_past_its_bound(engine, room_id, th, co, sent,
                                                              module, build, shrink, grow):
    state = run(module, module.initial_state(), build)
    assert module.BOUND.measure(state) == module.BOUND.limit
    seed(engine, room_id, module.NAME, state)
    assert engine.submit(room_id, th, op(*shrink, a=module.NAME))["ok"]
    for t, d in grow if isinstance(grow, list) else [grow]:
        ack = engine.submit(room_id, co, op(t, d, a=module.NAME))
        assert ack["ok"], ack
    seq, before = engine.state(room_id, module.NAME)
    sent.clear()
    ack = engine.history(room_id, th, history("undo", a=module.NAME))
    assert (ack["ok"], ack["code"], ack["reason"]) == (False, E_FULL, module.BOUND.reason)
    assert engine.state(room_id, module.NAME) == (seq, before) and sent.ops() == []
    assert module.BOUND.measure(before) == module.BOUND.limit
