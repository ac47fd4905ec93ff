"""The home activity (issue 17 part 3): strict validation of a pack and of what is done
at home, who may do what, the reducer and its inverses, the engine's applied-once, and
the next session's record and check-in trend."""
import copy

import pytest

from activities import home
from activities.contract import Rejected
from activities.contract import home as kinds
from activities.contract.i18n import ENGLISH
from activities.contract.protocol import CHILD, E_CONFLICT, E_FORBIDDEN, HOME, PARENT, THERAPIST
from activities.registry import build_registry
from rooms.core.engine import Engine
from rooms.records import service as records, trends
from tests.pdftools import pdf_text
from tests.support import ROOT
from tests.unit.core.test_engine import Broadcasts

T0 = 1_800_000_000.0
TH = {"id": "th-1", "role": THERAPIST, "name": "Dr. Kim", "avatar": "owl"}
FAMILY = {"id": "home-inv1", "role": HOME}
KID = {"id": "kid", "role": CHILD}


def all_items(tr=ENGLISH):
    """One item of each kind, as the activities offer them."""
    reg = build_registry()
    found = {}
    for name in reg.names():
        hook = getattr(reg.get(name), "home_items", None)
        if hook:
            for key, item in hook(reg.get(name).initial_state(), tr):
                found.setdefault(item["kind"], item)
    return [{"id": f"i{n}", **found[k]} for n, k in enumerate(kinds.KINDS)]


def pack_op(pid="p1"):
    return {"id": pid, "lang": "en", "items": all_items()}


def done(what, item, pack="p1", visit="v1", when=T0 * 1000 + 5000, **more):
    return {"pack": pack, "visit": visit, "item": item, "what": what, "when": when, **more}


# ---------------------------------------------------------------- validation

def test_every_activity_offer_is_a_valid_item():
    reg = build_registry()
    offered = set()
    for name in reg.names():
        hook = getattr(reg.get(name), "home_items", None)
        for key, item in (hook(reg.get(name).initial_state(), ENGLISH) if hook else ()):
            assert kinds.validate_item(copy.deepcopy(item)) == item, (name, key)
            offered.add(item["kind"])
    assert offered == set(kinds.KINDS)


@pytest.mark.parametrize("change", [
    lambda d: d.update(items=[]),
    lambda d: d.update(items=all_items() + all_items()[:1]),                 # five
    lambda d: d["items"][1].update(id="i0"),                                   # same id
    lambda d: d["items"][0].update(kind="video"),
    lambda d: d["items"][0].update(extra=1),
    lambda d: d["items"][0]["pages"][0].update(pics=["no-such-picture"]),
    lambda d: d["items"][0]["pages"][0].update(text="x" * 241),
    lambda d: d["items"][1]["steps"][0].update(text="bad\x00text"),
    lambda d: d["items"][2].update(timing=[0, 0, 6, 0]),                       # no breathing in
    lambda d: d["items"][2].update(timing=[4, 0, 6]),
    lambda d: d["items"][2].update(rounds=0),
    lambda d: d["items"][3]["faces"].pop(),
    lambda d: d["items"][3]["faces"][0].update(color="red"),
    lambda d: d.update(lang="fr"),
])
def test_a_bad_pack_is_rejected_never_clamped(change):
    d = pack_op()
    change(d)
    assert isinstance(home.validate("pack", d), Rejected)


@pytest.mark.parametrize("d", [
    done("step", "i1", step=0),                                 # no `done`
    done("step", "i1", step=-1, done=True),
    done("step", "i1", step=0, done=1),
    done("checkin", "i3", value=0),
    done("checkin", "i3", value=3, step=1),                     # a field of another kind
    done("breathe", "i2", rounds=0),
    done("read", "i0", page=16),
    done("checkin", "i3", value=3, when=float("inf")),
    done("checkin", "i3", value=3, when=12),                    # not a time in ms
    done("checkin", "i3", value=3, visit="a b"),
    {**done("checkin", "i3", value=3), "at": 5},                # the server stamps `at`
])
def test_bad_home_ops_are_rejected(d):
    assert isinstance(home.validate("done", d), Rejected)


def test_who_may_do_what():
    assert home.may(THERAPIST, "pack", {}) and not home.may(HOME, "pack", {})
    assert home.may(HOME, "done", {}) and home.may(THERAPIST, "done", {})
    for role in (CHILD, PARENT):                 # no guest in the live room writes it
        assert not home.may(role, "done", {"child_may_draw": True, "parent_may_play": True})
    assert not home.may(CHILD, "pack", {}) and not home.may(PARENT, "pack", {})


# ---------------------------------------------------------------- reducer

def test_reducer_logs_what_was_done_and_inverses_take_it_back():
    s0 = home.initial_state()
    s1, inv = home.apply(s0, "pack", {**home.validate("pack", pack_op()), "at": T0})
    assert s1["pack"]["id"] == "p1" and s1["log"] == []
    d = {**home.validate("done", done("checkin", "i3", value=4)), "at": T0 + 60}
    assert home.check(s1, "done", d) is None
    s2, inv2 = home.apply(s1, "done", d)
    assert s2["log"] == [{"visit": "v1", "item": "i3", "what": "checkin", "value": 4, "n": 1,
                          "when": T0 + 5, "at": T0 + 60}]
    assert s2["checkins"] == [{"n": 1, "value": 4, "at": T0 + 5, "moment": "home", "pack": "p1"}]
    back, redo = home.apply(s2, *inv2)
    assert back == s1 and home.apply(back, *redo)[0] == s2
    assert home.apply(s1, *inv)[0]["pack"] is None


def test_a_devices_clock_is_kept_only_when_plausible():
    pack = {"at": T0}
    assert home.when_of(pack, {"when": (T0 + 100) * 1000, "at": T0 + 200}) == T0 + 100
    # A clock years off, or claiming a time before the pack was sent: the arrival time.
    assert home.when_of(pack, {"when": (T0 + 10 ** 7) * 1000, "at": T0 + 200}) == T0 + 200
    assert home.when_of(pack, {"when": (T0 - 3600) * 1000, "at": T0 + 200}) == T0 + 200


def test_state_checks_refuse_ops_of_another_pack_or_item():
    s, _ = home.apply(home.initial_state(), "pack", {**home.validate("pack", pack_op()), "at": T0})
    assert home.check(s, "done", done("checkin", "i3", pack="p0", value=3)).code == E_CONFLICT
    assert home.check(s, "done", done("checkin", "i1", value=3)) is not None       # a steps item
    assert home.check(s, "done", done("step", "i1", step=11, done=True)) is not None
    assert home.check(s, "done", done("step", "i1", step=7, done=True)) is None


def test_progress_shows_what_is_done():
    pack = {"items": all_items()}
    log = [{"item": "i1", "what": "step", "step": 0, "done": True},
           {"item": "i1", "what": "step", "step": 2, "done": True},
           {"item": "i1", "what": "step", "step": 0, "done": False},
           {"item": "i0", "what": "read", "page": 3}, {"item": "i0", "what": "read", "page": 1},
           {"item": "i2", "what": "breathe", "rounds": 3}, {"item": "i2", "what": "breathe", "rounds": 2},
           {"item": "i3", "what": "checkin", "value": 2}, {"item": "i3", "what": "checkin", "value": 5},
           {"item": "i9", "what": "checkin", "value": 1}, {"item": "i1", "what": "step", "step": 40,
                                                           "done": True}]
    p = home.progress(pack, log)
    assert p["steps"]["i1"][:3] == [False, False, True] and sum(p["steps"]["i1"]) == 1
    assert p["read"] == {"i0": 3} and p["rounds"] == {"i2": 5} and p["feeling"] == {"i3": 5}


# ---------------------------------------------------------------- through the engine

@pytest.fixture
def engine(storage):
    now = [T0]
    e = Engine(storage, build_registry(), Broadcasts(), clock=lambda: now[0])
    e.now = now
    return e


def submit(engine, room_id, who, t, d, op_id, at=None):
    if at is not None:
        engine.now[0] = at
    return engine.submit(room_id, who, {"op_id": op_id, "a": "home", "t": t, "d": d})


def test_the_family_acts_through_the_engine_once_per_op_even_when_the_room_is_frozen(engine,
                                                                                       room_id):
    assert submit(engine, room_id, TH, "pack", pack_op(), "pk1")["ok"]
    engine.set_settings(room_id, TH, {"freeze": True})
    ack = submit(engine, room_id, FAMILY, "done", done("checkin", "i3", value=4), "c1", T0 + 60)
    assert ack["ok"], ack
    again = submit(engine, room_id, FAMILY, "done", done("checkin", "i3", value=4), "c1", T0 + 61)
    assert again["ok"] and again["duplicate"]
    assert len(engine.state(room_id, "home")[1]["log"]) == 1
    # A child in the live room cannot write the family's home practice.
    engine.set_settings(room_id, TH, {"freeze": False})
    refused = submit(engine, room_id, KID, "done", done("checkin", "i3", value=1), "c2")
    assert refused["code"] == E_FORBIDDEN
    refused = submit(engine, room_id, FAMILY, "pack", pack_op("p2"), "pk2")
    assert refused["code"] == E_FORBIDDEN


def _session(engine, room_id, at):
    engine.now[0] = at
    engine.present(room_id, TH)                     # the therapist comes in: a session starts
    first = engine.room_state(room_id)[1]["session"]["start"]
    engine.now[0] = at + 600
    ack = engine.control(room_id, TH, {"op_id": f"e{at}", "action": "end"})
    assert ack["ok"], ack
    engine.leave(room_id, TH["id"])
    return first, engine.storage.last_seq(room_id)


def test_the_next_record_lists_what_was_done_at_home_each_once(engine, storage, room_id):
    service = records.RecordService(storage, engine.registry, ROOT)
    rec1 = service.close_session(room_id, *_session(engine, room_id, T0), None)
    assert rec1 is not None
    assert submit(engine, room_id, TH, "pack", pack_op(), "pk1", T0 + 700)["ok"]
    day = T0 + 86400
    steps = [done("step", "i1", visit="v1", when=day * 1000, step=0, done=True),
             done("step", "i1", visit="v1", when=(day + 30) * 1000, step=5, done=True),
             done("checkin", "i3", visit="v1", when=(day + 60) * 1000, value=4),
             done("checkin", "i3", visit="v2", when=(day + 86400) * 1000, value=2),
             done("checkin", "i3", visit="v2", when=(day + 86410) * 1000, value=3)]
    for n, d in enumerate(steps):
        assert submit(engine, room_id, FAMILY, "done", d, f"h{n}", day + 3 * 86400)["ok"]
        # The same queue sent again (an answer lost offline): applied once.
        assert submit(engine, room_id, FAMILY, "done", d, f"h{n}", day + 3 * 86400)["duplicate"]
    rec2 = service.close_session(room_id, *_session(engine, room_id, T0 + 7 * 86400), None)
    home_lines = [(e["kind"], e["text"]) for e in rec2["timeline"] if e["activity"] == "home"]
    assert home_lines == [
        ("home.pack", "sent a home pack: Story “My first visit to the therapist”, "
                      "Steps “Getting ready in the morning”, Breathing “Balloon”, "
                      "Feelings check-in “How do you feel?”"),
        ("home.summary", "Practised at home 2 times since the last session"),
        ("home.step", "At home: did “Wake up” (Getting ready in the morning, step 1)"),
        ("home.step", "At home: did “Brush teeth” (Getting ready in the morning, step 6)"),
        ("home.checkin", "At home: checked in — 4 (good)"),
        ("home.checkin", "At home: checked in — 3 (okay)"),       # the last of that sitting
    ]
    # At the time it was done at home, not when it arrived; with its day in the PDF.
    times = [e["at"] for e in rec2["timeline"] if e["kind"] == "home.step"]
    assert times == [day, day + 30]
    stamp = records.entry_time(day, rec2["started_at"])
    assert len(stamp) > 5 and records.entry_time(rec2["started_at"] + 60, rec2["started_at"]) != stamp
    text = " ".join(pdf_text(records.record_pdf(rec2, [], (), ROOT)).split())
    assert stamp in text and "At home: did “Wake up” (Getting ready in the morning, step 1)" in text
    # The first record has none of it; a third has none of it again.
    assert not [e for e in storage.get_record(rec1["id"])["timeline"] if e["activity"] == "home"]
    rec3 = service.close_session(room_id, *_session(engine, room_id, T0 + 14 * 86400), None)
    assert not [e for e in rec3["timeline"] if e["activity"] == "home"]
    # The trend chart: the home check-ins count towards the second session.
    state = engine.state(room_id, "home")[1]
    cols = trends.checkin_series(home.trend_checkins(state),
                                 [storage.get_record(r["id"]) for r in storage.list_records(room_id)])
    assert [c["home"] for c in cols] == [[], [4, 2, 3], []]


def test_READ2_guests_read_only_a_pack_sent_during_their_session():
    """As with check-ins: what a guest received live (ops from the session's start on)
    is what a late joiner of their role reads; home practice of before is the
    therapist's."""
    s0 = home.initial_state()
    assert home.visible(s0, CHILD, None) is s0                     # nothing to hide
    s1, _ = home.apply(s0, "pack", {**home.validate("pack", pack_op("p1")), "at": T0})
    s2, _ = home.apply(s1, "done", {**home.validate("done", done("checkin", "i3", value=2)),
                                    "at": T0 + 100})
    for role in (CHILD, PARENT):
        assert home.visible(s2, role, None)["pack"] is None
        assert home.visible(s2, role, {"at": T0 + 500, "start": 9}) == home.initial_state()
        assert home.visible(s2, role, {"at": T0 - 5, "start": 1}) is s2   # sent in their session
    assert home.visible(s2, THERAPIST, None) is s2
    # A new pack in the session: its check-ins show, the old pack's stay hidden.
    s3, _ = home.apply(s2, "pack", {**home.validate("pack", pack_op("p2")), "at": T0 + 600})
    s4, _ = home.apply(s3, "done", {**home.validate("done", done("checkin", "i3", pack="p2", value=5)),
                                    "at": T0 + 700})
    seen = home.visible(s4, CHILD, {"at": T0 + 550, "start": 12})
    assert seen["pack"]["id"] == "p2" and [c["value"] for c in seen["checkins"]] == [5]


def test_each_senders_undo_takes_back_their_own_entry_not_the_latest():
    """Per-person undo: the therapist's noted entry comes out from under the family's
    later one, and comes back in its place."""
    s, _ = home.apply(home.initial_state(), "pack", {**home.validate("pack", pack_op()), "at": T0})
    s, mine = home.apply(s, "done", {**home.validate("done", done("checkin", "i3", value=1)), "at": T0 + 1})
    s, _ = home.apply(s, "done", {**home.validate("done", done("step", "i1", step=0, done=True)),
                                  "at": T0 + 2})
    undone, redo = home.apply(s, *mine)
    assert [e["what"] for e in undone["log"]] == ["step"] and undone["checkins"] == []
    assert undone["n"] == 2
    again, _ = home.apply(undone, *redo)
    assert again == s


def test_record_lines_of_a_pack_replaced_since_still_read():
    """The family practised with a pack whose op is in an earlier record, and the
    therapist sent a new one in this session: the lines name no empty title."""
    ops = [{"seq": 5, "a": "home", "t": "done", "by": "home-x", "kind": "do",
            "d": {**done("step", "i1", pack="old", step=2, done=True), "at": T0 + 10}},
           {"seq": 9, "a": "home", "t": "pack", "by": "th-1", "kind": "do",
            "d": {**pack_op("new"), "at": T0 + 20}}]
    state = {"pack": {**pack_op("new"), "at": T0 + 20}, "log": [], "checkins": [], "n": 0}
    lines = [e["text"] for e in home.record_entries(ops, state, T0 + 30)]
    assert "At home: did “step 3” (the home pack, step 3)" in lines
    assert not any("(, " in line or "“”" in line for line in lines)


def test_the_record_reads_a_bounded_stretch_back_for_home_practice(engine, storage, room_id,
                                                                   monkeypatch):
    """A room whose earlier records retention deleted must not read its whole history at
    every session's end: at most BETWEEN_LOOKBACK ops back."""
    service = records.RecordService(storage, engine.registry, ROOT)
    assert submit(engine, room_id, TH, "pack", pack_op(), "pk1", T0)["ok"]
    for n in range(5):
        d = done("step", "i1", visit="v1", when=(T0 + 60 + n) * 1000, step=n, done=True)
        assert submit(engine, room_id, FAMILY, "done", d, f"h{n}", T0 + 100 + n)["ok"]
    monkeypatch.setattr(records, "BETWEEN_LOOKBACK", 2)
    rec = service.close_session(room_id, *_session(engine, room_id, T0 + 86400), None)
    steps = [e["data"]["step"] for e in rec["timeline"] if e["kind"] == "home.step"]
    assert steps == [3, 4]
