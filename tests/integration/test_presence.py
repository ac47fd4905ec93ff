"""PRES1: presence is keyed by participant, with a grace period (8 s) so that a Wi-Fi
blip does not flash "left the room". This file waits out one grace period (~8 s)."""
import time

from activities.contract.protocol import LIMITS

from .conftest import mark, events_since

from tests.support import wait_for

GRACE = LIMITS["presence_grace_s"]


def people(event):
    return {p["role"]: p for p in event["participants"]}


def latest(user):
    return people(wait_for(lambda: user.received("presence"), what="presence")[-1])


def test_PRES1_joins_are_listed_with_role_name_and_avatar(room):
    therapist = room.user("therapist")
    assert set(latest(therapist)) == {"therapist"}
    child = room.user("child")
    wait_for(lambda: set(latest(therapist)) == {"therapist", "child"}, what="child listed")
    parent = room.user("parent")
    for u in (therapist, child, parent):
        wait_for(lambda: set(latest(u)) == {"therapist", "child", "parent"}, what="all listed")
        now = latest(u)
        assert all(p["online"] for p in now.values())
        assert (now["child"]["name"], now["child"]["avatar"]) == ("Sam", "fox")
        assert (now["parent"]["name"], now["parent"]["avatar"]) == ("Alex", "bear")
        assert now["therapist"]["name"] == "Dr. Kim"
        assert {p["id"] for p in now.values()} == {therapist.me, child.me, parent.me}


def test_PRES1_grace_period_then_offline_and_no_flash_for_a_blip(room):
    therapist = room.user("therapist")
    second_tab = room.user("therapist")
    child, parent = room.user("child"), room.user("parent")
    watch = mark(therapist)
    left_at = time.monotonic()
    child.close()
    parent.close()         # a Wi-Fi blip: the parent is back within a second
    second_tab.close()     # the therapist still has another tab open
    parent = room.user("parent")
    # Within the grace period everyone is still listed online, as a newcomer sees it.
    peek = room.user("therapist")
    now = latest(peek)
    assert time.monotonic() - left_at < GRACE
    assert {r: p["online"] for r, p in now.items()} == \
        {"therapist": True, "child": True, "parent": True}
    # After it, the child (and only the child) goes offline, and it stays listed.
    def child_offline():
        for e, d in events_since(therapist, watch):
            if e == "presence" and not people(d)["child"]["online"]:
                return d
    gone = people(wait_for(child_offline, timeout=GRACE + 5, what="child offline"))
    assert time.monotonic() - left_at >= GRACE - 0.5
    assert gone["child"]["online"] is False and gone["child"]["id"] == child.me
    assert gone["parent"]["online"] is True and gone["therapist"]["online"] is True
    offline_events = [people(d) for e, d in events_since(therapist, watch)
                      if e == "presence" and not all(p["online"] for p in people(d).values())]
    assert all(p["parent"]["online"] and p["therapist"]["online"] for p in offline_events)
    # Coming back puts the child online again.
    room.user("child")
    wait_for(lambda: latest(therapist)["child"]["online"], what="child back online")
