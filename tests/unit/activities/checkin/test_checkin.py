"""Feelings check-in: the pure reducer and its inverses, replacing an answer, strict
validation, state checks, permissions and the pipeline (server-stamped answers that
stay in the room across sessions)."""
import copy
import json

import pytest

from activities.registry import build_registry

from activities import checkin
from activities.contract import Rejected
from rooms.core.engine import Engine
from activities.contract.protocol import (CHILD, E_CONFLICT, E_FORBIDDEN, E_FULL, E_INVALID, E_NOTHING, PARENT,
                            THERAPIST)
from tests.unit.core.test_engine import Broadcasts

T0 = 1_700_000_000.0


def run(state, *ops, by="kid"):
    for t, d in ops:
        state, _ = checkin.apply(state, t, d, by=by)
    return state


def answer(eid="a1", value=3, moment="any", at=T0):
    return ("checkin", {"id": eid, "value": value, "moment": moment, "at": at})


# ====================================================================== reducer (FEEL1)

def test_FEEL1_a_check_in_records_value_author_server_time_and_moment():
    s, inv = checkin.apply(checkin.initial_state(), *answer(value=2, moment="start"), by="kid")
    assert s["entries"] == [{"id": "a1", "value": 2, "by": "kid", "at": T0, "moment": "start"}]
    assert inv == ("checkin.remove", {"id": "a1"})
    assert checkin.apply(s, *inv)[0] == checkin.initial_state()


def test_FEEL1_answering_the_same_question_again_changes_the_answer():
    s = run(checkin.initial_state(), ("ask", {"id": "q1", "moment": "start", "at": T0}),
            answer("q1", 2, "start", T0 + 5))
    s2, inv = checkin.apply(s, *answer("q1", 4, "start", T0 + 9), by="kid")
    assert [(e["id"], e["value"], e["at"]) for e in s2["entries"]] == [("q1", 4, T0 + 9)]
    assert inv == ("checkin.put", {"entry": s["entries"][0], "index": 0})
    assert checkin.apply(s2, *inv)[0] == s


CASES = [
    ("checkin", checkin.initial_state(), answer()),
    ("checkin replace", run(checkin.initial_state(), answer("a", 1)), answer("a", 5, at=T0 + 3)),
    ("checkin.delete", run(checkin.initial_state(), answer("a", 1), answer("b", 2)), ("checkin.delete", {"id": "a"})),
    ("ask", checkin.initial_state(), ("ask", {"id": "q", "moment": "end", "at": T0})),
    ("ask replaces ask", run(checkin.initial_state(), ("ask", {"id": "q", "moment": "start", "at": T0})),
     ("ask", {"id": "q2", "moment": "end", "at": T0 + 60})),
    ("ask.close", run(checkin.initial_state(), ("ask", {"id": "q", "moment": "end", "at": T0})), ("ask.close", {})),
]


@pytest.mark.parametrize("name,state,op", CASES, ids=[c[0] for c in CASES])
def test_UNDO1_every_check_in_op_has_an_inverse(name, state, op):
    before = copy.deepcopy(state)
    new, inv = checkin.apply(state, *op, by="kid")
    assert state == before, "apply must not mutate its input"
    assert new != state and inv is not None
    back, inv2 = checkin.apply(new, *inv)
    assert back == state
    assert checkin.apply(back, *inv2)[0] == new
    json.dumps(new, allow_nan=False)


def test_UNDO3_a_deleted_check_in_comes_back_in_its_place():
    s = run(checkin.initial_state(), answer("a", 1), answer("b", 2), answer("c", 3))
    gone, inv = checkin.apply(s, "checkin.delete", {"id": "b"})
    later = run(gone, answer("d", 4))
    back, _ = checkin.apply(later, *inv)
    assert [e["id"] for e in back["entries"]] == ["a", "b", "c", "d"]


@pytest.mark.parametrize("t,d", [
    ("checkin.remove", {"id": "nope"}),
    ("checkin.delete", {"id": "nope"}),
    ("ask.close", {}),
    ("ask.restore", {"ask": None}),
])
def test_stale_op_is_a_no_op(t, d):
    s = run(checkin.initial_state(), answer())
    assert checkin.apply(s, t, d) == (s, None)


def test_the_same_answer_again_is_a_no_op():
    s = run(checkin.initial_state(), answer())
    assert checkin.apply(s, *answer(), by="kid") == (s, None)


# ====================================================================== validation

@pytest.mark.parametrize("d", [
    {"id": "a", "value": 0, "moment": "any"},
    {"id": "a", "value": 6, "moment": "any"},
    {"id": "a", "value": -1, "moment": "any"},
    {"id": "a", "value": "3", "moment": "any"},
    {"id": "a", "value": 3.5, "moment": "any"},
    {"id": "a", "value": 3.0, "moment": "any"},
    {"id": "a", "value": True, "moment": "any"},
    {"id": "a", "value": None, "moment": "any"},
    {"id": "a", "value": 3, "moment": "later"},
    {"id": "a b", "value": 3, "moment": "any"},
    {"id": "a", "value": 3},
    {"id": "a", "value": 3, "moment": "any", "at": T0},          # CLK1: never the client's time
    {"id": "a", "value": 3, "moment": "any", "by": "someone"},   # AUTH1: never the author
    [3],
])
def test_FEEL2_bad_check_ins_are_rejected(d):
    r = checkin.validate("checkin", d)
    assert isinstance(r, Rejected) and r.code == E_INVALID and r.reason


def test_FEEL2_ask_needs_a_known_moment_and_no_time():
    assert checkin.validate("ask", {"id": "q", "moment": "start"}) == {"id": "q", "moment": "start"}
    for bad in ({"id": "q", "moment": "soon"}, {"id": "q", "moment": "end", "at": T0}, {"id": "q"}):
        assert isinstance(checkin.validate("ask", bad), Rejected)


# ====================================================================== check

def test_a_used_id_is_refused_unless_it_answers_the_open_question_or_is_recent():
    s = run(checkin.initial_state(), answer("old", 2, at=T0))
    assert checkin.check(s, "checkin", {**answer("old", 3)[1], "at": T0 + 60}) is None
    r = checkin.check(s, "checkin", {**answer("old", 3)[1], "at": T0 + checkin.REPLACE_S + 1})
    assert isinstance(r, Rejected) and r.code == E_CONFLICT
    asked = run(s, ("ask", {"id": "old", "moment": "end", "at": T0 + 500}))
    assert checkin.check(asked, "checkin", {**answer("old", 3)[1], "at": T0 + 9000}) is None


def test_the_list_of_check_ins_is_bounded():
    s = {"entries": [{"id": f"e{k}", "value": 3, "by": "kid", "at": T0 + k, "moment": "any"}
                     for k in range(checkin.MAX_ENTRIES)], "ask": None}
    r = checkin.check(s, "checkin", {**answer("new")[1], "at": T0 + 9e5})
    assert isinstance(r, Rejected) and r.code == E_FULL


def test_deleting_or_closing_nothing_is_refused():
    s = checkin.initial_state()
    assert checkin.check(s, "checkin.delete", {"id": "x"}).code == E_NOTHING
    assert checkin.check(s, "ask.close", {}).code == E_NOTHING


# ====================================================================== permissions

OPS = [t for t, spec in checkin.OPS.items() if spec.client] + ["history"]


@pytest.mark.parametrize("t", OPS)
@pytest.mark.parametrize("role,settings,allowed", [
    (THERAPIST, {"child_may_draw": False}, set(OPS)),
    (CHILD, {"child_may_draw": True}, {"checkin"}),
    (CHILD, {"child_may_draw": False}, set()),
    (PARENT, {"parent_may_play": True}, set()),
], ids=["therapist", "child-may", "child-not", "parent"])
def test_ROLE_who_may_check_in(t, role, settings, allowed):
    assert checkin.may(role, t, settings) is (t in allowed)


# ====================================================================== the pipeline

@pytest.fixture
def people(storage, room_id):
    th = storage.get_room(room_id)["therapist_id"]
    out = {THERAPIST: {"id": f"th-{th}", "role": THERAPIST}}
    for role, name in ((CHILD, "Sam"), (PARENT, "Mum")):
        p = storage.create_participant(room_id, role, name, "fox")
        out[role] = {"id": p["id"], "role": role}
    return out


def send(engine, room_id, who, t, d, op_id):
    return engine.submit(room_id, who, {"op_id": op_id, "a": "checkin", "t": t, "d": d})


def test_FEEL1_check_ins_are_stamped_by_the_server_and_kept_across_sessions(storage, room_id, people):
    now = [T0]
    e1 = Engine(storage, build_registry(), Broadcasts(), clock=lambda: now[0])
    th, child = people[THERAPIST], people[CHILD]
    assert send(e1, room_id, th, "ask", {"id": "q1", "moment": "start"}, "o1")["ok"]
    assert send(e1, room_id, child, "checkin", {"id": "q1", "value": 2, "moment": "start"}, "o2")["ok"]
    now[0] = T0 + 40 * 60
    assert send(e1, room_id, th, "ask", {"id": "q2", "moment": "end"}, "o3")["ok"]
    assert send(e1, room_id, child, "checkin", {"id": "q2", "value": 4, "moment": "end"}, "o4")["ok"]
    e1.unload(room_id)
    # Next week: a fresh server process loads the room with its history.
    now[0] = T0 + 7 * 86400
    e2 = Engine(storage, build_registry(), Broadcasts(), clock=lambda: now[0])
    entries = e2.state(room_id, "checkin")[1]["entries"]
    assert [(e["value"], e["moment"], e["at"], e["by"]) for e in entries] == [
        (2, "start", T0, child["id"]), (4, "end", T0 + 2400, child["id"])]


def test_FEEL2_refusals_leave_the_check_ins_unchanged(storage, room_id, people):
    engine = Engine(storage, build_registry(), Broadcasts(), clock=lambda: T0)
    th, child, parent = people[THERAPIST], people[CHILD], people[PARENT]
    assert send(engine, room_id, child, "checkin", {"id": "a", "value": 3, "moment": "any"}, "ok")["ok"]
    before = copy.deepcopy(engine.state(room_id, "checkin")[1])
    for who, d, code in [
        (child, {"id": "b", "value": 6, "moment": "any"}, E_INVALID),
        (child, {"id": "b", "value": 0, "moment": "any"}, E_INVALID),
        (child, {"id": "b", "value": 3, "moment": "any", "at": T0 - 86400}, E_INVALID),
        (parent, {"id": "b", "value": 3, "moment": "any"}, E_FORBIDDEN),
    ]:
        ack = send(engine, room_id, who, "checkin", d, f"bad{json.dumps(d)}"[:60])
        assert ack["ok"] is False and ack["code"] == code, (d, ack)
    assert engine.set_settings(room_id, th, {"child_may_draw": False})["ok"]
    ack = send(engine, room_id, child, "checkin", {"id": "c", "value": 3, "moment": "any"}, "frozen")
    assert ack["code"] == E_FORBIDDEN
    assert engine.state(room_id, "checkin")[1] == before


# ---------------------------------------------------------------- languages (issue 16)

@pytest.fixture(scope="module")
def spanish():
    from activities.contract.i18n import Catalogs
    from rooms.web import i18n
    return Catalogs([(d[1], d[0]) for d in i18n.domains()]).translator("es")


def test_the_feelings_words_follow_the_reader(spanish):
    assert checkin.client_config()["words"] == {"1": "very upset", "2": "upset", "3": "okay",
                                                "4": "good", "5": "great"}
    words = checkin.client_config(spanish)["words"]
    assert words["1"] == "muy mal" and words["5"] == "súper bien"
    assert spanish.gettext(checkin.TITLE) == "Sentimientos"


def test_record_lines_in_the_readers_language(spanish):
    ops = [{"seq": 1, "ts": T0, "by": "t", "kind": "do", "t": "ask", "d": {"id": "q1", "moment": "start", "at": T0}},
           {"seq": 2, "ts": T0, "by": "kid", "kind": "do", "t": "checkin",
            "d": {"id": "q1", "value": 2, "moment": "start", "at": T0 + 1}},
           {"seq": 3, "ts": T0, "by": "t", "kind": "do", "t": "checkin.delete", "d": {"id": "q1"}}]
    english = [e["text"] for e in checkin.record_entries(ops)]
    assert english == ["asked for a check-in (start of session)",
                       "checked in: 2 of 5, upset (start of session)", "deleted a check-in"]
    assert [e["text"] for e in checkin.record_entries(ops, tr=spanish)] == [
        "preguntó cómo se siente (al empezar la sesión)",
        "dijo cómo se siente: 2 de 5, mal (al empezar la sesión)",
        "borró un registro de cómo se siente"]


def test_the_browser_gets_the_check_in_words_in_spanish(spanish):
    """What the room page hands to checkin.js, calm.js and schedule.js (the messages their
    modules say), with the contexts tp() looks up."""
    assert spanish.client["How do you feel?"] == "¿Cómo te sientes?"
    assert spanish.client["moment\u0004Start"] == "Al empezar"
    assert spanish.client["breathing shape\u0004balloon"] == "globo"
    assert spanish.client["{n} breath"]["other"] == "{n} respiraciones"
    assert spanish.client["{step}: tap when done"] == "{step}: toca cuando termines"
