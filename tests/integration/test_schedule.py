"""The visual schedule over real sockets (issue 6, SCHED1, SCHED2, DUR1): the therapist
builds a schedule, the child works through it (a step timer, steps moved to "All done",
a prize picked once everything is done), the parent sees the same board live, and it
all survives a crash of the server, undo stacks included."""
import signal

from activities.registry import build_registry
from tests.support import Replica

from .conftest import send_op, wait_op

A = "schedule"


def op(user, t, d, op_id=None):
    return send_op(user, t, d, a=A, op_id=op_id)


def history(user, action, op_id):
    return user.call("history", {"op_id": op_id, "a": A, "action": action})


def step(sid, pos, pic, text, secs=0, done=False):
    return {"id": sid, "pos": pos, "pic": pic, "text": text, "secs": secs, "done": done}


def test_SCHED1_therapist_builds_child_finishes_parent_watches_and_it_survives_a_restart(
        fresh_server, room_factory):
    room = room_factory(fresh_server)
    therapist, child = room.user("therapist"), room.user("child")
    # The parent's screen: a client that applies the ops it receives in seq order, as
    # the browser does (the parent only watches: parent_may_play is off by default).
    parent = Replica(room.parent, room.id, build_registry(), "parent")
    room.users.append(parent)
    parent.connect()

    # The therapist builds a three-step list with a timer on the middle step and two
    # prizes to choose from.
    plan = [step("wake", 0, "toilet", "Toilet"), step("eat", 1, "plate", "Breakfast", secs=60),
            step("bag", 2, "backpack", "School bag")]
    assert op(therapist, "layout", {"layout": "list"})["ok"]
    for s in plan:
        assert op(therapist, "step.add", {k: v for k, v in s.items() if k != "done"})["ok"]
    assert op(therapist, "rewards", {"pics": ["balloon", "kite"]})["ok"]

    # The child moves the first step to done, runs the timer of the second and stops it.
    assert op(child, "step.done", {"id": "wake", "done": True})["ok"]
    start = op(child, "timer.start", {"step": "eat"}, op_id="child-timer")
    assert start["ok"], start
    at = wait_op(therapist, "child-timer")["d"]["at"]          # server-stamped (CLK1)
    assert room.snapshot()["activities"][A]["timer"] == {"step": "eat", "at": at}
    assert op(child, "timer.stop", {})["ok"]
    # A prize before everything is done is refused and changes nothing.
    before = room.snapshot()
    early = child.op("reward.pick", {"pic": "kite"}, a=A)
    assert (early["ok"], early["code"]) == (False, "invalid"), early
    assert room.snapshot()["activities"] == before["activities"]
    for sid in ("eat", "bag"):
        assert op(child, "step.done", {"id": sid, "done": True})["ok"]
    pick = op(child, "reward.pick", {"pic": "kite"}, op_id="child-pick")
    assert pick["ok"], pick

    done = {"layout": "list",
            "steps": [{k: v for k, v in s.items() if k != "pos"} | {"done": True} for s in plan],
            "timer": None, "rewards": ["balloon", "kite"], "reward": "kite"}
    snap = room.snapshot()
    assert snap["seq"] == pick["seq"]
    assert snap["activities"][A] == done
    # The parent saw every step live, in order, with the child as the author of hers.
    parent.catch_up(pick["seq"])
    assert parent.states[A] == done
    seen = [(o["t"], o["by"]) for o in parent.received("op") if o["a"] == A]
    assert seen[-6:] == [("step.done", child.me), ("timer.start", child.me),
                         ("timer.stop", child.me), ("step.done", child.me),
                         ("step.done", child.me), ("reward.pick", child.me)]
    assert [o["seq"] for o in parent.received("op") if o["op_id"] == "child-pick"] == [pick["seq"]]

    # A crash right after the last ack loses nothing.
    fresh_server.stop(signal.SIGKILL)
    fresh_server.start()
    assert room.snapshot()["activities"][A] == done
    parent.resume()
    parent.catch_up(pick["seq"])
    assert parent.states[A] == done
    assert parent.state["mode"] == "ops", "a parent who missed nothing gets no snapshot"

    # The child's undo stack came back from the log: undoing the pick takes the prize
    # back, live on the parent's screen; redo chooses it again.
    child = room.user("child")
    undo = history(child, "undo", "undo-pick")
    assert undo["ok"], undo
    assert wait_op(parent, "undo-pick")["d"] == {"pic": None}
    parent.catch_up(undo["seq"])
    assert parent.states[A] == {**done, "reward": None}
    redo = history(child, "redo", "redo-pick")
    assert redo["ok"], redo
    parent.catch_up(redo["seq"])
    assert parent.states[A] == done == room.snapshot()["activities"][A]
