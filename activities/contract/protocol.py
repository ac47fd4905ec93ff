"""Wire protocol: the one place for event names, limits, error codes and the version.

The browser receives `client_config()` as JSON inside the page, so nothing here is
ever copied by hand into JavaScript. `docs/PROTOCOL.md` describes the same rules in
prose and tests cite its rule names (SEQ1, RC2, ...).
"""

# Bump when a change would break an open tab; the browser reloads on mismatch (VER1).
PROTOCOL_VERSION = 1
# Packed number lists in a snapshot (JOIN2): the client names the version it decodes
# in `sync {pack}`; any other value gets plain lists.
PACK_VERSION = 1

# Client -> server events.
EV_SYNC = "sync"          # {since: int, pack?: int}          -> ack {ok, seq}
EV_OP = "op"              # {op_id, a, t, d}                  -> ack {ok, seq} | {ok: false, ...}
EV_HISTORY = "history"    # {op_id, a, action, target?}       -> ack like op
EV_EPHEMERAL = "eph"      # {k, ...}                          (no ack; relayed, never stored)
EV_SETTINGS = "settings"  # {key: value}                      -> ack {ok} (therapist only)
EV_CLOCK = "clock"        # {}                                -> ack {now: server ms}
EV_CONTROL = "control"    # {op_id, action, ...}              -> ack {ok, seq} (therapist only)

# Server -> client events.
EV_STATE = "state"        # {seq, activities, mode: "snapshot"|"ops", ops?}
EV_OP_OUT = "op"          # {seq, a, t, d, by, op_id, kind}
EV_EPH_OUT = "eph"        # {by, items: [...]}
EV_PRESENCE = "presence"  # {participants: [...]}
EV_ROOM = "room"          # {settings}
EV_ERROR = "error"        # {code, reason, op_id?, event}
EV_BYE = "bye"            # {code, reason}: the server is closing this socket on purpose
EV_LOBBY = "lobby"        # therapist: {knock: person} | guest: {admitted|resume: pid}
EV_PICTURE = "picture"    # {a, seq, key, png: bytes, ...}: a big page drawn by the server,
                          # to the joiner of a snapshot only, after it (PAINT1)

# Error codes (values of `code` in EV_ERROR and in negative acks).
E_VERSION = "version_mismatch"
E_AUTH = "not_authenticated"
E_NOT_JOINED = "not_joined"
E_BAD_EVENT = "bad_event"
E_TOO_LARGE = "too_large"
E_RATE = "rate_limited"
E_UNKNOWN_ACTIVITY = "unknown_activity"
E_UNKNOWN_OP = "unknown_op"
E_INVALID = "invalid"
E_FORBIDDEN = "forbidden"
E_NO_PAGE = "no_such_page"
E_FULL = "full"
E_CONFLICT = "conflict"
E_NOTHING = "nothing_to_do"
E_INTERNAL = "internal_error"
E_REVOKED = "revoked"
E_ENDED = "session_ended"
E_WAITING = "waiting"        # sync: not admitted yet (waiting room)
E_PRIVATE = "private_time"   # sync/op: a parent during private child time
E_REMOVED = "removed"        # sync/bye: removed from this session by the therapist
E_FROZEN = "frozen"          # op: the therapist paused all guest input
E_UNAVAILABLE = "unavailable"  # connect/event: the store is out of reach; try again soon (FAULT1/4)

# Roles.
THERAPIST = "therapist"
CHILD = "child"
PARENT = "parent"
GUEST_ROLES = (CHILD, PARENT)
ROLES = (THERAPIST, CHILD, PARENT)
# A family practising at home through a home link (issue 17 part 3): not a room role
# (no socket, no room page); it only sends the home pack's ops over HTTP.
HOME = "home"

LIMITS = {
    # Bytes of one op as stored (JSON). Larger ops are refused, not truncated.
    "op_bytes": 256 * 1024,
    # Characters of a client op id; they are scoped per participant.
    "op_id_chars": 64,
    # Per participant token buckets: sustained events per second and burst size.
    "op_rate": 20.0,
    "op_burst": 60,
    "eph_rate": 90.0,
    "eph_burst": 180,
    # `sync` (join, resync after a gap, waiting-room knock) per socket.
    "sync_rate": 1.0,
    "sync_burst": 10,
    # Flood over this many refused events in a row disconnects the socket (abuse).
    "abuse_strikes": 400,
    # RATE3: every refused or dropped event of a socket (eph and clock over their
    # limit too) takes one of these; a socket that runs out is closed. Refills per s.
    "refused_burst": 400,
    "refused_rate": 20.0,
    # Seconds a socket sent away for flooding has to close itself before the
    # server hangs up on it.
    "bye_grace_s": 1.0,
    # RATE3: `control` past the op limit still goes through on this reserve (the
    # therapist can always end, freeze or remove), per participant.
    "control_reserve_rate": 1.0,
    "control_reserve_burst": 10,
    # RATE4: per connection, packets (and bytes) received but not yet handled, and
    # queued to be sent but not yet written; past either the socket is closed. The
    # packet being written is no longer queued: a big snapshot alone never counts.
    "in_packets": 2000,
    "in_bytes": 4 * 1024 * 1024,
    "out_packets": 2000,
    "out_bytes": 8 * 1024 * 1024,
    # RATE5: open sockets per participant (tabs, devices), participants one invite
    # link may create (a child coming back on another device), seconds between two
    # waiting-room knocks of one participant.
    "participant_sockets": 8,
    "invite_participants": 6,
    "knock_interval_s": 4.0,
    # Ephemeral signals are coalesced per participant and flushed this often (Hz).
    "eph_flush_hz": 30,
    # A join that is behind by more than this many ops gets a snapshot instead.
    "max_replay_ops": 500,
    # Seconds a participant stays "present" after their socket drops (Wi-Fi blips).
    "presence_grace_s": 8,
    # Per-person undo depth per activity.
    "undo_depth": 100,
    # Engine.IO hard cap on one packet (bytes): beyond it the transport drops the
    # connection, so it sits above every per-event limit.
    "packet_bytes": 1024 * 1024,
}

# Room settings the therapist changes live (SET1): the boolean flags. The whole
# settings object (with per-role per-activity `perms` and the shown `view`) is
# built by rooms.core.control.default_settings from the activity names.
DEFAULT_SETTINGS = {
    "child_may_draw": True,
    "parent_may_play": False,
    "auto_admit": False,
    "lock": False,
    "freeze": False,
    "follow": False,
    "private": False,
}


def client_config():
    """The protocol half of the page's JSON config (activities add their own)."""
    return {
        "version": PROTOCOL_VERSION,
        "events": {
            "sync": EV_SYNC, "op": EV_OP, "history": EV_HISTORY, "eph": EV_EPHEMERAL,
            "settings": EV_SETTINGS, "clock": EV_CLOCK, "state": EV_STATE, "presence": EV_PRESENCE,
            "room": EV_ROOM, "error": EV_ERROR, "bye": EV_BYE, "control": EV_CONTROL,
            "lobby": EV_LOBBY, "picture": EV_PICTURE,
        },
        "errors": {
            "version": E_VERSION, "auth": E_AUTH, "revoked": E_REVOKED,
            "ended": E_ENDED, "rate": E_RATE, "forbidden": E_FORBIDDEN,
            "waiting": E_WAITING, "private": E_PRIVATE, "removed": E_REMOVED, "frozen": E_FROZEN,
            "unavailable": E_UNAVAILABLE,
        },
        "limits": {k: LIMITS[k] for k in (
            "op_id_chars", "eph_flush_hz", "op_rate", "eph_rate")},
        "roles": list(ROLES),
    }
