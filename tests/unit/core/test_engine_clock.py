"""CLK1: stamped ops get the server's time in the pipeline, never the client's."""
import types

import pytest

from activities.contract import Invalid, OpSpec, Registry, Rejected, number, require_dict
from rooms.core.engine import Engine
from activities.contract.protocol import E_INVALID, THERAPIST
from tests.unit.core.test_engine import Broadcasts


def _start(d):
    require_dict(d, ("secs",))
    return {"secs": number(d["secs"], 1, 60, "secs")}


def _validate(t, d):
    try:
        return OPS[t].validator(d)
    except Invalid as e:
        return Rejected(E_INVALID, str(e))


def _apply(state, t, d, by=None):
    return {**state, "started_at": d["at"], "secs": d["secs"]}, ("start", {"secs": state.get("secs", 1)})


OPS = {"start": OpSpec(_start, stamped=True)}
TIMER = types.SimpleNamespace(
    NAME="timer", TITLE="Timer", ICON="sun", OPS=OPS, EPHEMERAL={},
    initial_state=lambda: {}, validate=_validate, check=lambda s, t, d: None,
    may=lambda role, t, settings: True, apply=_apply, client_config=lambda: {})


@pytest.fixture
def engine(storage):
    reg = Registry()
    reg.add(TIMER)
    return Engine(storage, reg, Broadcasts(), clock=lambda: 1234.5)


def therapist(storage, room_id):
    return {"id": f"th-{storage.get_room(room_id)['therapist_id']}", "role": THERAPIST}


def test_CLK1_stamped_op_carries_server_time(engine, storage, room_id):
    ack = engine.submit(room_id, therapist(storage, room_id),
                        {"op_id": "o1", "a": "timer", "t": "start", "d": {"secs": 30}})
    assert ack["ok"]
    assert engine.state(room_id, "timer")[1] == {"started_at": 1234.5, "secs": 30}
    (op,) = [d for _, e, d in engine.events.sink if e == "op"]
    assert op["d"]["at"] == 1234.5
    # Stored with the stamp, so a replay after a restart sees the same time.
    assert storage.ops_since(room_id, 0)[0]["d"]["at"] == 1234.5


def test_CLK1_client_cannot_send_its_own_time(engine, storage, room_id):
    ack = engine.submit(room_id, therapist(storage, room_id),
                        {"op_id": "o2", "a": "timer", "t": "start", "d": {"secs": 30, "at": 1.0}})
    assert ack["ok"] is False and ack["code"] == E_INVALID
    assert engine.state(room_id, "timer")[1] == {}
