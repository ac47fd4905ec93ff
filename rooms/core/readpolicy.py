"""What a guest may read when they join or come back (READ1, READ2).

What a guest may write is decided by the server (PERM1); so is what they may read.
A `sync {since}` names the last seq the client says it saw, and the op log from
there holds everything that happened in the room: earlier sessions, a child's
private time, strokes cleared and check-ins deleted since. So `since` is only a
hint: the server replays ops to a guest only from a floor of its own — the
latest of the start of the current session, the op that (last) brought this guest
into the room, and for a parent the end of the latest private child time — and
sends everyone below it a snapshot, which by construction holds no cleared or
deleted content. The snapshot itself is cut per role by the activities
(`visible(state, role, session)`, activities/contract/__init__.py): content that outlives a
session (a child's check-ins, kept for the therapist's chart) is the therapist's.

Pure: reads the room's control state (rooms/core/control.py), knows activities only
through the registry.
"""
from activities.contract.protocol import PARENT, THERAPIST


def view(participant):
    """Which snapshot view `participant` gets: the therapist's (the whole room) or
    their guest role's. Joiners of one view at one seq share one text (JOIN1)."""
    return THERAPIST if participant is None else participant["role"]


def replay_floor(control, participant, seq):
    """The lowest `since` from which `participant` may be sent the missing ops of
    the room at `seq`. The therapist reads the whole log (0). For a guest the
    floor is the latest of the current session's start, the presence op that last
    brought them in (they were not there before it), and for a parent the end of
    the latest private child time. Anything the record does not know (no session,
    a record made before these floors were kept) makes the floor `seq`: nothing
    is replayed, a snapshot is sent instead."""
    if view(participant) == THERAPIST:
        return 0
    session = control.get("session")
    person = control.get("people", {}).get(participant["id"])
    if not session or not person:
        return seq
    floors = [session.get("start"), person.get("here")]
    if participant["role"] == PARENT:
        if "private_end" not in session:
            return seq
        floors.append(session["private_end"] or 0)
    if any(f is None for f in floors):
        return seq
    return max(floors)


def replays(control, participant, since, seq, max_replay):
    """Does a client at `since` get the missing ops (True) or a snapshot (False)?
    Ops only from the reader's floor up to the room's seq, and a gap of at most
    `max_replay` ops (JOIN1, READ1)."""
    if not isinstance(since, int) or isinstance(since, bool):
        return False
    floor = replay_floor(control, participant, seq)
    return floor <= since <= seq and seq - since <= max_replay


def visible_states(registry, states, participant, session):
    """(view, {activity: state}) as `participant` may read the room (READ2): each
    activity's optional `visible(state, role, session)` decides; without it, the
    whole state. An activity that hides nothing returns its state object itself (the
    snapshot encoder caches by object); when none hides anything the view is the
    therapist's, so every joiner at that seq shares one text (JOIN1)."""
    role = view(participant)
    out = {}
    for name, state in states.items():
        hook = getattr(registry.get(name), "visible", None)
        out[name] = state if hook is None else hook(state, role, session)
    whole = all(out[name] is state for name, state in states.items())
    return (THERAPIST if whole else role), out
