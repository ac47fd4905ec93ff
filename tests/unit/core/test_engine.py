"""The op pipeline (rooms/core/engine.py) with real SQLite storage, the real activity
registry and a broadcast that records what the room would receive."""
import copy

import pytest

from activities.registry import build_registry
from rooms.core.engine import Engine
from activities.contract.protocol import (CHILD, DEFAULT_SETTINGS, E_BAD_EVENT, E_CONFLICT, E_ENDED,
                            E_FORBIDDEN, E_FULL, E_INTERNAL,
                            E_INVALID, E_NO_PAGE, E_NOTHING, E_TOO_LARGE, E_UNKNOWN_ACTIVITY,
                            E_UNKNOWN_OP, PARENT, THERAPIST)
from tests.unit.payloads import history, op, stamp, stroke


class Broadcasts(list):
    """broadcast(room_id, event, data) that keeps every call."""

    def __call__(self, room_id, event, data):
        self.append((room_id, event, data))

    def ops(self):
        return [d for _, e, d in self if e == "op"]


@pytest.fixture
def sent():
    return Broadcasts()


@pytest.fixture
def people(storage, room_id):
    """role -> participant, as the socket layer binds them at connect."""
    th = storage.get_room(room_id)["therapist_id"]
    out = {THERAPIST: {"id": f"th-{th}", "role": THERAPIST}}
    for role, name in ((CHILD, "Sam"), (PARENT, "Mum")):
        p = storage.create_participant(room_id, role, name, "fox")
        out[role] = {"id": p["id"], "role": role}
    return out


@pytest.fixture
def make_engine(storage, sent):
    """A new Engine on the shared storage: calling it twice simulates a restart."""
    def make(**kw):
        return Engine(storage, build_registry(), sent, **kw)
    return make


@pytest.fixture
def engine(make_engine):
    return make_engine()


@pytest.fixture
def th(people):
    return people[THERAPIST]


@pytest.fixture
def kid(people):
    return people[CHILD]


@pytest.fixture
def grownup(people):
    return people[PARENT]


def canvas_state(engine, room_id):
    return engine.state(room_id, "canvas")[1]


def item_ids(engine, room_id, page="p1"):
    state = canvas_state(engine, room_id)
    return [it["id"] for p in state["pages"] if p["id"] == page for it in p["items"]]


def draw(engine, room_id, who, sid, page="p1", **kw):
    ack = engine.submit(room_id, who, op("stroke", stroke(sid, page=page, **kw)))
    assert ack["ok"], ack
    return ack["seq"]


def stacks(engine, room_id):
    live = engine.room(room_id)
    return ({k: list(v) for k, v in live.undo.items() if v},
            {k: list(v) for k, v in live.redo.items() if v})


# ====================================================================== SEQ1 / SEQ2

def test_SEQ1_each_accepted_op_gets_the_next_seq(engine, room_id, th, sent):
    seqs = [draw(engine, room_id, th, f"s{k}") for k in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert [d["seq"] for d in sent.ops()] == [1, 2, 3, 4, 5]
    assert engine.state(room_id, "canvas")[0] == 5


def test_SEQ1_refused_ops_take_no_seq(engine, room_id, th, kid):
    draw(engine, room_id, th, "a")
    assert not engine.submit(room_id, kid, op("clear", {"page": "p1"}))["ok"]
    assert draw(engine, room_id, th, "b") == 2


def test_SEQ1_seq_continues_after_restart_never_reset(make_engine, room_id, th):
    first = make_engine()
    draw(first, room_id, th, "a")
    draw(first, room_id, th, "b")
    again = make_engine()
    assert draw(again, room_id, th, "c") == 3


def test_SEQ1_rooms_have_independent_sequences(engine, storage, room_id, th):
    other = storage.create_room(storage.get_room(room_id)["therapist_id"], "Alex", dict(DEFAULT_SETTINGS))
    draw(engine, room_id, th, "a")
    draw(engine, room_id, th, "b")
    assert draw(engine, other["id"], th, "a") == 1


def test_SEQ2_retried_op_id_returns_original_seq_and_applies_once(engine, room_id, th, sent):
    msg = op("stroke", stroke("a"), op_id="retry-me")
    first = engine.submit(room_id, th, msg)
    draw(engine, room_id, th, "b")
    again = engine.submit(room_id, th, copy.deepcopy(msg))
    assert first == {"ok": True, "seq": 1}
    assert again["ok"] and again["seq"] == 1
    assert item_ids(engine, room_id) == ["a", "b"]
    assert [d["op_id"] for d in sent.ops()] == ["retry-me", sent.ops()[1]["op_id"]]


def test_SEQ2_retry_is_recognised_even_when_the_op_would_now_be_refused(engine, room_id, kid, th):
    msg = op("stroke", stroke("a"), op_id="sent-twice")
    assert engine.submit(room_id, kid, msg)["seq"] == 1
    assert engine.set_settings(room_id, th, {"child_may_draw": False})["ok"]
    assert engine.submit(room_id, kid, msg) == {"ok": True, "seq": 1, "duplicate": True}


def test_SEQ2_retried_undo_is_applied_once(engine, room_id, kid):
    draw(engine, room_id, kid, "a")
    draw(engine, room_id, kid, "b")
    msg = history("undo", op_id="undo-1")
    assert engine.history(room_id, kid, msg)["seq"] == 3
    assert engine.history(room_id, kid, msg)["seq"] == 3
    assert item_ids(engine, room_id) == ["a"]


def test_SEQ2_retry_after_restart_returns_original_seq(make_engine, room_id, th):
    msg = op("stroke", stroke("a"), op_id="across-restart")
    assert make_engine().submit(room_id, th, msg)["seq"] == 1
    again = make_engine()
    assert again.submit(room_id, th, msg)["seq"] == 1
    assert item_ids(again, room_id) == ["a"]


def test_SEQ2_same_op_id_from_different_people_are_different_ops(engine, room_id, th, kid, sent):
    a = engine.submit(room_id, th, op("stroke", stroke("from-th"), op_id="op-1"))
    b = engine.submit(room_id, kid, op("stroke", stroke("from-kid"), op_id="op-1"))
    assert (a["seq"], b["seq"]) == (1, 2) and "duplicate" not in b
    assert item_ids(engine, room_id) == ["from-th", "from-kid"]
    assert len(sent.ops()) == 2


def test_broadcast_carries_the_op_with_author_and_kind(engine, room_id, kid, sent):
    d = stroke("a")
    engine.submit(room_id, kid, op("stroke", d, op_id="x1"))
    assert sent == [(room_id, "op", {"seq": 1, "a": "canvas", "t": "stroke", "d": d,
                                     "by": kid["id"], "op_id": "x1", "kind": "do"})]


# ====================================================================== ERR1

def envelope_errors():
    good = op("stroke", stroke("zz"))
    return {
        "not an object": (["stroke"], E_BAD_EVENT),
        "null": (None, E_BAD_EVENT),
        "missing op_id": ({k: v for k, v in good.items() if k != "op_id"}, E_BAD_EVENT),
        "empty op_id": ({**good, "op_id": ""}, E_BAD_EVENT),
        "op_id not text": ({**good, "op_id": 12}, E_BAD_EVENT),
        "op_id too long": ({**good, "op_id": "x" * 65}, E_BAD_EVENT),
        "unknown activity": ({**good, "a": "chess"}, E_UNKNOWN_ACTIVITY),
        "activity not text": ({**good, "a": ["canvas"]}, E_UNKNOWN_ACTIVITY),
        "unknown op": ({**good, "t": "explode"}, E_UNKNOWN_OP),
        "op type not text": ({**good, "t": ["stroke"]}, E_UNKNOWN_OP),
        "internal items.remove": (op("items.remove", {"page": "p1", "ids": ["a"]}), E_UNKNOWN_OP),
        "internal items.restore": (op("items.restore", {"page": "p1", "items": []}), E_UNKNOWN_OP),
        "internal page.remove": (op("page.remove", {"page": "p1"}), E_UNKNOWN_OP),
        "internal page.restore": (op("page.restore", {"page": {"id": "p9"}, "index": 0}), E_UNKNOWN_OP),
        "invalid payload": (op("stroke", stroke("zz", size=0)), E_INVALID),
        "payload not an object": (op("stroke", "draw!"), E_INVALID),
        "no such page": (op("stroke", stroke("zz", page="p9")), E_NO_PAGE),
        "clear of no such page": (op("clear", {"page": "p9"}), E_NO_PAGE),
        "duplicate item id": (op("stroke", stroke("a")), E_CONFLICT),
        "page exists": (op("page.add", {"page": "p1"}), E_CONFLICT),
        "too large": (op("stroke", stroke("zz", pts=[1] * 150_000)), E_TOO_LARGE),
    }


@pytest.mark.parametrize("msg,code", list(envelope_errors().values()), ids=list(envelope_errors()))
def test_ERR1_refused_op_is_nacked_with_code_and_changes_nothing(engine, room_id, th, sent, msg, code):
    draw(engine, room_id, th, "a")
    sent.clear()
    before = copy.deepcopy(engine.state(room_id, "canvas"))
    ack = engine.submit(room_id, th, msg)
    assert (ack["ok"], ack["code"]) == (False, code) and ack["reason"]
    if code != E_BAD_EVENT:
        assert ack["op_id"] == msg["op_id"]   # the client can match the nack to its op
    assert engine.state(room_id, "canvas") == before
    assert sent == []
    assert engine.storage.last_seq(room_id) == 1


def test_ERR1_an_op_over_the_size_limit_is_refused_whatever_length_the_transport_tells(
        engine, room_id, th, sent):
    """The socket layer tells the length of the packet an op came in, so an op far below
    the limit is not encoded only to be measured; one that may be over it still is."""
    import json
    big = op("stroke", stroke("zz", pts=[1] * 150_000))
    chars = len('42["op",' + json.dumps(big) + "]")
    assert engine.submit(room_id, th, big, packet_chars=chars)["code"] == E_TOO_LARGE
    small = op("stroke", stroke("ok"))
    ack = engine.submit(room_id, th, small, packet_chars=len('42["op",' + json.dumps(small) + "]"))
    assert ack["ok"] and sent[-1][2]["d"]["id"] == "ok"


def test_a_packet_re_encodes_to_at_most_twelve_times_its_length():
    """live.small_enough's bound (JSON_GROWTH), on the texts that grow most when a
    client's JSON is decoded and encoded again: characters outside the BMP, control
    and non-ASCII characters, exponents, big and tiny floats, whitespace removed."""
    import json
    import random
    from rooms.core.live import JSON_GROWTH, _size
    worst = ['"\\ud83d\\ude00"', '"😀"', '"\\u007f"', '"\u007f"', '"é"', '1e15', '9e15', '-1e15',
             '1e-4', '1e400', '-1e400', '[1e15,1e15]', '{"😀":"😀"}', '"\\n"', '0.1', '123456789e-20',
             '"' + "😀" * 200 + '"']       # (11.9 times: the bound is nearly reached)
    rng = random.Random(18)
    pieces = ["😀", "é", "", "a", "1e15", "0", "-1e-7", "null", "true"]
    for _ in range(500):
        parts = []
        for _ in range(rng.randint(1, 30)):
            p = rng.choice(pieces)
            parts.append(json.dumps(p, ensure_ascii=False) if not p[0].isdigit() and p[0] != "-"
                         and p not in ("null", "true") else p)
        worst.append("[" + " , ".join(parts) + "]")
    for text in worst:
        value = json.loads(text)
        packet = '42["op",' + text + "]"
        assert _size(["op", value]) <= JSON_GROWTH * len(packet), text
        assert _size(value) <= JSON_GROWTH * len(text), text


@pytest.mark.parametrize("extra", [{"room": "other-room"}, {"role": THERAPIST},
                                   {"by": "th-1"}, {"participant": "th-1"}],
                         ids=["room", "role", "by", "participant"])
def test_AUTH1_an_op_naming_room_or_identity_is_refused(engine, storage, room_id, kid, sent, extra):
    """Room and role come from the connection; a payload that names them is refused."""
    ack = engine.submit(room_id, kid, {**op("clear", {"page": "p1"}), **extra})
    assert (ack["ok"], ack["code"]) == (False, E_BAD_EVENT)
    assert sent == [] and storage.last_seq(room_id) == 0


def test_AUTH1_the_author_is_the_connections_participant(engine, room_id, kid):
    draw(engine, room_id, kid, "k1")
    assert canvas_state(engine, room_id)["pages"][0]["items"][0]["by"] == kid["id"]


def test_ERR1_op_on_a_full_page_is_refused(engine, room_id, th, sent, monkeypatch):
    from activities import canvas
    monkeypatch.setattr(canvas, "MAX_ITEMS_PER_PAGE", 2)
    draw(engine, room_id, th, "a")
    draw(engine, room_id, th, "b")
    sent.clear()
    ack = engine.submit(room_id, th, op("stroke", stroke("c")))
    assert (ack["ok"], ack["code"]) == (False, E_FULL)
    assert item_ids(engine, room_id) == ["a", "b"] and sent == []


def test_ERR1_op_for_a_deleted_room_is_refused(engine, storage, room_id, th, sent):
    draw(engine, room_id, th, "a")
    engine.forget(room_id)
    storage.delete_room(room_id)
    sent.clear()
    ack = engine.submit(room_id, th, op("stroke", stroke("b")))
    assert ack["ok"] is False and ack["code"] == E_ENDED
    assert sent == [] and storage.ops_since(room_id, 0) == []


def test_ERR1_forbidden_op_is_nacked_and_changes_nothing(engine, room_id, th, kid, sent):
    draw(engine, room_id, th, "a")
    sent.clear()
    before = copy.deepcopy(engine.state(room_id, "canvas"))
    ack = engine.submit(room_id, kid, op("clear", {"page": "p1"}))
    assert (ack["ok"], ack["code"]) == (False, E_FORBIDDEN)
    assert engine.state(room_id, "canvas") == before and sent == []


def test_ERR1_refused_op_id_can_be_used_again_for_a_good_op(engine, room_id, th):
    assert not engine.submit(room_id, th, op("stroke", stroke("a", page="p9"), op_id="k"))["ok"]
    assert engine.submit(room_id, th, op("stroke", stroke("a"), op_id="k")) == {"ok": True, "seq": 1}


def test_ERR1_storage_failure_nacks_internal_error_and_memory_is_unchanged(
        engine, room_id, kid, sent, storage, monkeypatch):
    draw(engine, room_id, kid, "a")
    sent.clear()
    before_state = copy.deepcopy(engine.state(room_id, "canvas"))
    before_stacks = stacks(engine, room_id)

    def broken(*args, **kw):
        raise OSError("disk full")
    monkeypatch.setattr(storage, "append_op", broken)
    msg = op("stroke", stroke("b"), op_id="b-op")
    ack = engine.submit(room_id, kid, msg)
    assert (ack["ok"], ack["code"], ack["op_id"]) == (False, E_INTERNAL, "b-op")
    ack = engine.history(room_id, kid, history("undo"))
    assert (ack["ok"], ack["code"]) == (False, E_INTERNAL)
    assert engine.state(room_id, "canvas") == before_state
    assert stacks(engine, room_id) == before_stacks
    assert sent == []
    monkeypatch.undo()
    assert engine.submit(room_id, kid, msg) == {"ok": True, "seq": 2}   # the retry works
    assert item_ids(engine, room_id) == ["a", "b"]


# ====================================================================== UNDO1 / UNDO2 / UNDO3

def test_UNDO1_undo_removes_only_my_last_stroke(engine, room_id, th, kid):
    draw(engine, room_id, th, "t1")
    draw(engine, room_id, kid, "k1")
    draw(engine, room_id, th, "t2")
    draw(engine, room_id, kid, "k2")
    assert engine.history(room_id, kid, history("undo"))["ok"]
    assert item_ids(engine, room_id) == ["t1", "k1", "t2"]
    assert engine.history(room_id, kid, history("undo"))["ok"]
    assert item_ids(engine, room_id) == ["t1", "t2"]
    ack = engine.history(room_id, kid, history("undo"))
    assert (ack["ok"], ack["code"]) == (False, E_NOTHING)
    assert item_ids(engine, room_id) == ["t1", "t2"]   # the therapist's strokes stay


def test_UNDO1_redo_brings_it_back_and_undo_is_broadcast_as_undo(engine, room_id, kid, sent):
    draw(engine, room_id, kid, "k1")
    engine.history(room_id, kid, history("undo"))
    assert item_ids(engine, room_id) == []
    assert engine.history(room_id, kid, history("redo"))["ok"]
    assert item_ids(engine, room_id) == ["k1"]
    kinds = [(d["kind"], d["t"]) for d in sent.ops()]
    assert kinds == [("do", "stroke"), ("undo", "items.remove"), ("redo", "items.restore")]
    undo_msg = sent.ops()[1]
    assert undo_msg["by"] == kid["id"]


def test_UNDO1_new_op_clears_my_redo_stack(engine, room_id, kid):
    draw(engine, room_id, kid, "k1")
    engine.history(room_id, kid, history("undo"))
    draw(engine, room_id, kid, "k2")
    ack = engine.history(room_id, kid, history("redo"))
    assert (ack["ok"], ack["code"]) == (False, E_NOTHING)
    assert item_ids(engine, room_id) == ["k2"]


def test_UNDO1_someone_elses_op_keeps_my_redo(engine, room_id, kid, th):
    draw(engine, room_id, kid, "k1")
    engine.history(room_id, kid, history("undo"))
    draw(engine, room_id, th, "t1")
    assert engine.history(room_id, kid, history("redo"))["ok"]
    assert item_ids(engine, room_id) == ["k1", "t1"]


def test_UNDO1_undo_is_per_activity_page_ops_included(engine, room_id, kid):
    assert engine.submit(room_id, kid, op("page.add", {"page": "p2"}))["ok"]
    draw(engine, room_id, kid, "k1", page="p2")
    engine.history(room_id, kid, history("undo"))
    engine.history(room_id, kid, history("undo"))
    assert [p["id"] for p in canvas_state(engine, room_id)["pages"]] == ["p1"]


def test_UNDO1_undo_after_therapist_cleared_skips_stale_entries(engine, room_id, th, kid):
    assert engine.submit(room_id, th, op("page.add", {"page": "p2"}))["ok"]
    draw(engine, room_id, kid, "k-p2", page="p2")
    draw(engine, room_id, kid, "k-p1", page="p1")
    assert engine.submit(room_id, th, op("clear", {"page": "p1"}))["ok"]
    ack = engine.history(room_id, kid, history("undo"))   # k-p1 is gone: skip to k-p2
    assert ack["ok"]
    assert item_ids(engine, room_id, "p2") == []
    ack = engine.history(room_id, kid, history("undo"))
    assert (ack["ok"], ack["code"]) == (False, E_NOTHING)


def test_UNDO1_undo_with_only_stale_entries_says_nothing_to_do(engine, room_id, th, kid, sent):
    draw(engine, room_id, kid, "k1")
    engine.submit(room_id, th, op("clear", {"page": "p1"}))
    sent.clear()
    ack = engine.history(room_id, kid, history("undo"))
    assert (ack["ok"], ack["code"]) == (False, E_NOTHING)
    assert sent == [] and item_ids(engine, room_id) == []


@pytest.mark.parametrize("msg,code", [
    ({"op_id": "h1", "a": "canvas", "action": "rewind"}, E_INVALID),
    ({"op_id": "h1", "a": "canvas"}, E_INVALID),
    ({"op_id": "h1", "a": "canvas", "action": "undo", "target": 5}, E_INVALID),
    ({"op_id": "h1", "a": "chess", "action": "undo"}, E_UNKNOWN_ACTIVITY),
    ({"a": "canvas", "action": "undo"}, E_BAD_EVENT),
    ({"op_id": "h1", "a": "canvas", "action": "undo", "t": "stroke"}, E_BAD_EVENT),
], ids=["unknown action", "missing action", "target not text", "unknown activity",
        "missing op_id", "unknown field"])
def test_ERR1_bad_history_request_is_refused(engine, room_id, kid, msg, code):
    draw(engine, room_id, kid, "k1")
    ack = engine.history(room_id, kid, msg)
    assert (ack["ok"], ack["code"]) == (False, code)
    assert item_ids(engine, room_id) == ["k1"]


def test_UNDO2_therapist_undoes_for_the_child(engine, room_id, th, kid, sent):
    draw(engine, room_id, kid, "k1")
    draw(engine, room_id, th, "t1")
    ack = engine.history(room_id, th, history("undo", target=kid["id"]))
    assert ack["ok"]
    assert item_ids(engine, room_id) == ["t1"]
    last = sent.ops()[-1]
    assert (last["by"], last["kind"]) == (th["id"], "undo")
    # the child's own redo brings it back: it was the child's stack
    assert engine.history(room_id, kid, history("redo"))["ok"]
    assert item_ids(engine, room_id) == ["k1", "t1"]   # back in its place


@pytest.mark.parametrize("role,target_role", [(CHILD, THERAPIST), (CHILD, PARENT),
                                              (PARENT, CHILD), (PARENT, THERAPIST)])
def test_UNDO2_guests_may_not_undo_for_others(engine, room_id, people, th, role, target_role):
    engine.set_settings(room_id, th, {"parent_may_play": True})
    draw(engine, room_id, people[target_role], "victim")
    ack = engine.history(room_id, people[role], history("undo", target=people[target_role]["id"]))
    assert (ack["ok"], ack["code"]) == (False, E_FORBIDDEN)
    assert item_ids(engine, room_id) == ["victim"]


@pytest.mark.parametrize("role", [CHILD, PARENT])
def test_UNDO2_guests_may_name_themselves_as_target(engine, room_id, people, th, role):
    engine.set_settings(room_id, th, {"parent_may_play": True})
    me = people[role]
    draw(engine, room_id, me, "mine")
    assert engine.history(room_id, me, history("undo", target=me["id"]))["ok"]
    assert item_ids(engine, room_id) == []


def test_UNDO3_clear_is_undoable_and_restores_everything_in_order(engine, room_id, th, kid):
    draw(engine, room_id, th, "a")
    draw(engine, room_id, kid, "b")
    assert engine.submit(room_id, kid, op("stamp", stamp("c")))["ok"]
    before = copy.deepcopy(canvas_state(engine, room_id))
    assert engine.submit(room_id, th, op("clear", {"page": "p1"}))["ok"]
    assert item_ids(engine, room_id) == []
    draw(engine, room_id, kid, "d")
    assert engine.history(room_id, th, history("undo"))["ok"]
    assert item_ids(engine, room_id) == ["a", "b", "c", "d"]
    page = canvas_state(engine, room_id)["pages"][0]
    assert page["items"][:3] == before["pages"][0]["items"]
    assert page["n"] == before["pages"][0]["n"] + len(stroke()["pts"])


def test_UNDO3_redo_of_clear_clears_again(engine, room_id, th):
    draw(engine, room_id, th, "a")
    engine.submit(room_id, th, op("clear", {"page": "p1"}))
    engine.history(room_id, th, history("undo"))
    assert engine.history(room_id, th, history("redo"))["ok"]
    assert item_ids(engine, room_id) == []


def test_undo_depth_is_bounded(make_engine, room_id, kid):
    engine = make_engine(undo_depth=2)
    for k in range(4):
        draw(engine, room_id, kid, f"k{k}")
    assert engine.history(room_id, kid, history("undo"))["ok"]
    assert engine.history(room_id, kid, history("undo"))["ok"]
    assert engine.history(room_id, kid, history("undo"))["code"] == E_NOTHING
    assert item_ids(engine, room_id) == ["k0", "k1"]


# ====================================================================== JOIN1

def join(engine, room_id, since):
    calls = []
    seq = engine.join(room_id, since, lambda payload: calls.append(("state", payload)),
                      lambda: calls.append(("enter", None)))
    assert [c[0] for c in calls] == ["state", "enter"], "enter() must follow send_state()"
    return seq, calls[0][1]


def test_JOIN1_up_to_date_client_gets_ops_mode_with_no_ops(engine, room_id, th):
    for k in range(3):
        draw(engine, room_id, th, f"s{k}")
    seq, state = join(engine, room_id, 3)
    assert seq == 3
    assert (state["mode"], state["seq"], state["ops"]) == ("ops", 3, [])
    assert state["settings"] == engine.defaults


def test_JOIN1_small_gap_gets_exactly_the_missing_ops_in_order(engine, room_id, th, kid):
    draw(engine, room_id, th, "s1")
    draw(engine, room_id, kid, "s2")
    engine.history(room_id, kid, history("undo", op_id="u"))
    _, state = join(engine, room_id, 1)
    assert state["mode"] == "ops"
    assert [(o["seq"], o["t"], o["kind"], o["by"]) for o in state["ops"]] == [
        (2, "stroke", "do", kid["id"]), (3, "items.remove", "undo", kid["id"])]
    assert state["ops"][1]["op_id"] == "u"


def test_JOIN1_fresh_room_from_zero_is_ops_mode(engine, room_id):
    seq, state = join(engine, room_id, 0)
    assert (seq, state["mode"], state["ops"]) == (0, "ops", [])


@pytest.mark.parametrize("since", [-1, None, "3", 3.0, True, 99],
                         ids=["-1", "none", "text", "float", "bool", "future"])
def test_JOIN1_unknown_or_future_since_gets_a_snapshot(engine, room_id, th, since):
    for k in range(3):
        draw(engine, room_id, th, f"s{k}")
    seq, state = join(engine, room_id, since)
    assert (state["mode"], state["seq"], seq) == ("snapshot", 3, 3)
    assert state["activities"]["canvas"] == canvas_state(engine, room_id)
    assert "ops" not in state


def test_JOIN1_too_old_since_gets_a_snapshot(make_engine, room_id, th):
    engine = make_engine(max_replay=2)
    for k in range(5):
        draw(engine, room_id, th, f"s{k}")
    assert join(engine, room_id, 3)[1]["mode"] == "ops"     # 2 behind: replay
    assert join(engine, room_id, 2)[1]["mode"] == "snapshot"  # 3 behind: snapshot


def test_JOIN1_ops_replayed_onto_the_clients_state_give_the_servers_state(engine, room_id, th, kid):
    from activities import canvas
    draw(engine, room_id, th, "a")
    _, early = join(engine, room_id, -1)
    draw(engine, room_id, kid, "b")
    engine.submit(room_id, th, op("clear", {"page": "p1"}))
    engine.history(room_id, th, history("undo"))
    _, late = join(engine, room_id, early["seq"])
    state = early["activities"]["canvas"]
    for o in late["ops"]:
        state, _ = canvas.apply(state, o["t"], o["d"], by=o["by"])
    assert state == canvas_state(engine, room_id)


# ====================================================================== DUR1

def busy_session(engine, room_id, th, kid):
    """Eight ops of a real session: drawing, pages, undo, a clear."""
    draw(engine, room_id, th, "t1")
    draw(engine, room_id, kid, "k1")
    draw(engine, room_id, kid, "k2")
    assert engine.submit(room_id, kid, op("page.add", {"page": "p2"}))["ok"]
    assert engine.submit(room_id, kid, op("stamp", stamp("k3", page="p2")))["ok"]
    assert engine.history(room_id, kid, history("undo"))["ok"]          # k3 gone
    assert engine.submit(room_id, th, op("clear", {"page": "p1"}))["ok"]
    assert engine.submit(room_id, th, op("page.bg", {"page": "p2", "bg": "grid"}))["ok"]


@pytest.mark.parametrize("snapshot_every", [1000, 3], ids=["log only", "snapshot + log"])
def test_DUR1_restart_keeps_states_and_undo_stacks(make_engine, storage, room_id, th, kid,
                                                   snapshot_every):
    before = make_engine(snapshot_every=snapshot_every)
    busy_session(before, room_id, th, kid)
    snap = storage.load_snapshot(room_id)
    if snapshot_every == 3:
        assert snap is not None and snap[0] == 6       # the reload uses snapshot + 2 ops
    else:
        assert snap is None

    after = make_engine(snapshot_every=snapshot_every)
    assert after.state(room_id, "canvas") == before.state(room_id, "canvas")
    assert stacks(after, room_id) == stacks(before, room_id)

    # undo/redo behave after the restart as they would have before it
    assert after.history(room_id, th, history("undo"))["ok"]            # bg back to white
    assert after.history(room_id, th, history("undo"))["ok"]            # clear undone
    assert item_ids(after, room_id) == ["t1", "k1", "k2"]
    assert after.history(room_id, kid, history("redo"))["ok"]           # k3 again
    assert item_ids(after, room_id, "p2") == ["k3"]
    assert after.history(room_id, kid, history("undo"))["ok"]
    assert after.history(room_id, kid, history("undo"))["ok"]           # page p2 removed
    assert [p["id"] for p in canvas_state(after, room_id)["pages"]] == ["p1"]


def test_DUR1_restart_after_unload_snapshot_keeps_everything(make_engine, storage, room_id, th, kid):
    before = make_engine()
    busy_session(before, room_id, th, kid)
    expected = (before.state(room_id, "canvas"), stacks(before, room_id))
    before.unload(room_id)
    assert storage.load_snapshot(room_id)[0] == 8
    after = make_engine()
    assert (after.state(room_id, "canvas"), stacks(after, room_id)) == expected


def test_DUR1_undo_made_by_therapist_for_child_survives_restart(make_engine, room_id, th, kid):
    before = make_engine()
    draw(before, room_id, kid, "k1")
    draw(before, room_id, kid, "k2")
    before.history(room_id, th, history("undo", target=kid["id"]))
    after = make_engine()
    assert stacks(after, room_id) == stacks(before, room_id)
    assert after.history(room_id, kid, history("redo"))["ok"]
    assert item_ids(after, room_id) == ["k1", "k2"]


# ====================================================================== settings (SET1)

def test_SET1_therapist_changes_settings_live_and_they_persist(make_engine, engine, storage,
                                                               room_id, th, sent):
    ack = engine.set_settings(room_id, th, {"child_may_draw": False})
    assert ack == {"ok": True}
    expected = {**engine.defaults, "child_may_draw": False}
    # A settings change is a room op in the log (CTL2), then the new settings for all.
    assert [(e, d.get("a"), d.get("t")) for _, e, d in sent] == [("op", "room", "settings"),
                                                                  ("room", None, None)]
    assert sent[1] == (room_id, "room", {"settings": expected})
    assert storage.get_room(room_id)["settings"] == expected
    assert join(make_engine(), room_id, 0)[1]["settings"] == expected


@pytest.mark.parametrize("role", [CHILD, PARENT])
def test_SET1_guests_may_not_change_settings(engine, storage, room_id, people, sent, role):
    ack = engine.set_settings(room_id, people[role], {"child_may_draw": True, "parent_may_play": True})
    assert (ack["ok"], ack["code"]) == (False, E_FORBIDDEN)
    assert storage.get_room(room_id)["settings"] == DEFAULT_SETTINGS and sent == []


@pytest.mark.parametrize("changes", [
    {"locked": True}, {"child_may_draw": 1}, {"perms": {"child": {"canvas": 1}}},
    {"perms": {"therapist": {"canvas": False}}}, {"perms": {"child": {"no-such-activity": False}}},
    {"view": {"activity": "canvas"}}, {"child_may_draw": "false"}, {"child_may_draw": None},
    {}, None, ["child_may_draw"], {"child_may_draw": False, "bogus": True},
], ids=["unknown key", "int value", "perm int value", "therapist perms", "unknown activity",
        "view is not a setting", "text value", "null value", "empty", "null", "list",
        "one bad key among good"])
def test_SET1_only_known_boolean_settings_are_accepted(engine, storage, room_id, th, sent, changes):
    ack = engine.set_settings(room_id, th, changes)
    assert (ack["ok"], ack["code"]) == (False, E_INVALID)
    assert storage.get_room(room_id)["settings"] == DEFAULT_SETTINGS and sent == []


def test_SET1_child_may_not_draw_when_switched_off_and_may_again_when_on(engine, room_id, th, kid):
    engine.set_settings(room_id, th, {"child_may_draw": False})
    for msg in (op("stroke", stroke("k1")), op("stamp", stamp("k2"))):
        ack = engine.submit(room_id, kid, msg)
        assert (ack["ok"], ack["code"]) == (False, E_FORBIDDEN)
    assert engine.history(room_id, kid, history("undo"))["code"] == E_FORBIDDEN
    engine.set_settings(room_id, th, {"child_may_draw": True})
    assert engine.submit(room_id, kid, op("stroke", stroke("k1")))["ok"]


def test_SET1_parent_plays_only_when_allowed(engine, room_id, th, grownup):
    assert engine.submit(room_id, grownup, op("stroke", stroke("g1")))["code"] == E_FORBIDDEN
    engine.set_settings(room_id, th, {"parent_may_play": True})
    assert engine.submit(room_id, grownup, op("stroke", stroke("g1")))["ok"]


def test_unknown_room_is_none(engine):
    assert engine.room("no-such-room") is None
