"""`RedisStorage`: the storage interface of rooms/store/sqlite_store.py, kept in Redis.

Same records, same semantics as `SQLiteStorage` (one contract suite runs on both:
tests/unit/test_storage_contract.py). Every write that must not be seen half done is
one Lua script, so it is atomic in Redis whatever process or thread calls it.

Keys (prefix "pr" by default; <id> never contains ":", so no id can name another key):

    pr:therapists:next-id              counter for therapist ids (integers, as in SQLite)
    pr:therapist:<id>                  hash   id, email, name, password_hash, created_at,
                                              session_epoch (absent: 0)
    pr:therapist:<id>:rooms            zset   room id, scored by created_at
    pr:therapist-email:<email>         string therapist id (keeps emails unique)
    pr:room:<id>                       hash   id, therapist_id, name, settings (JSON), seq, created_at
    pr:room:<id>:invites               zset   invite id, scored by created_at
    pr:room:<id>:participants          zset   participant id, scored by created_at
    pr:room:<id>:ops                   hash   seq -> op JSON {by, op_id, a, t, kind, target, ts, payload}
    pr:room:<id>:op-ids                hash   "<len(by)>:<by>:<op_id>" -> seq (dedupe, SEQ2)
    pr:room:<id>:snapshot              hash   seq, state, ts
    pr:invite:<id>                     hash   id, room_id, role, token_hash, created_at, expires_at[, revoked_at]
    pr:invite-token:<token_hash>       string invite id
    pr:participant:<id>                hash   id, room_id, role, name, avatar[, invite_id], created_at

A field that is None in SQLite is absent from its hash. Floats are written with repr(),
so they read back exactly. Standalone Redis only: `delete_room` derives the keys of a
room's invites and participants inside its script, which Redis Cluster does not allow.
"""
import json
import logging
import time

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from rooms.store.account_store import RedisAccounts
from rooms.store.audit_store import RedisAudit
from rooms.store.sqlite_store import new_id

log = logging.getLogger("playroom.redis")

# KEYS: room, ops, op-ids.  ARGV: dedupe field, op JSON, expected last seq ("" = any).
# Returns {seq, 1} for a new op, {original seq, 0} for a retry, {0, 0} for no room,
# {-1, 0} when the room's last seq is not the expected one (another writer was first).
APPEND_OP = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
local prior = redis.call('HGET', KEYS[3], ARGV[1])
if prior then return {tonumber(prior), 0} end
if ARGV[3] ~= '' and tonumber(redis.call('HGET', KEYS[1], 'seq') or '0') ~= tonumber(ARGV[3]) then
  return {-1, 0}
end
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[2], seq, ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], seq)
return {seq, 1}
"""

# KEYS: email index, therapist.  ARGV: field, value, ...  Returns 1, or 0 if the email is taken.
CREATE_THERAPIST = """
if redis.call('SET', KEYS[1], ARGV[2], 'NX') == false then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV))
return 1
"""

# KEYS: therapist.  Returns the new session epoch, or nil for no such therapist
# (a bare HINCRBY would create a half therapist).
END_SESSIONS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('HINCRBY', KEYS[1], 'session_epoch', 1)
"""

# KEYS: parent (must exist), record, parent's index zset.  ARGV: id, score, field, value, ...
# Returns 1, or 0 if the parent does not exist.
CREATE_CHILD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1
"""

# KEYS: room, invite, token index, room's invites.  ARGV: id, score, field, value, ...
# Returns 1, 0 if the room does not exist, -1 if the token hash is taken.
CREATE_INVITE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('SET', KEYS[3], ARGV[1], 'NX') == false then return -1 end
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
return 1
"""

# KEYS: record.  ARGV: field, value.  Sets the field only on an existing record.
SET_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

# KEYS: invite.  ARGV: time.  Returns 1 if it was revoked now.
REVOKE_INVITE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[1], 'revoked_at', ARGV[1]) == 0 then return 0 end
return 1
"""

# KEYS: room, snapshot.  ARGV: seq, state, ts.  Keeps the newest seq (ties: the later
# write). Returns 1 if written, 0 if older, -1 if there is no room.
SAVE_SNAPSHOT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local cur = redis.call('HGET', KEYS[2], 'seq')
if cur and tonumber(cur) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[2], 'seq', ARGV[1], 'state', ARGV[2], 'ts', ARGV[3])
return 1
"""

# KEYS: room.  ARGV: prefix, room id.  Deletes the room and everything it held.
DELETE_ROOM = """
local room = KEYS[1]
if redis.call('EXISTS', room) == 0 then return 0 end
local p, id = ARGV[1], ARGV[2]
for _, iid in ipairs(redis.call('ZRANGE', room .. ':invites', 0, -1)) do
  local ikey = p .. ':invite:' .. iid
  local token = redis.call('HGET', ikey, 'token_hash')
  if token and redis.call('GET', p .. ':invite-token:' .. token) == iid then
    redis.call('DEL', p .. ':invite-token:' .. token)
  end
  redis.call('DEL', ikey)
end
for _, pid in ipairs(redis.call('ZRANGE', room .. ':participants', 0, -1)) do
  redis.call('DEL', p .. ':participant:' .. pid)
end
for _, rid in ipairs(redis.call('ZRANGE', room .. ':records', 0, -1)) do
  local rkey = p .. ':record:' .. rid
  for _, nid in ipairs(redis.call('ZRANGE', rkey .. ':notes', 0, -1)) do
    redis.call('DEL', p .. ':note:' .. nid)
  end
  redis.call('DEL', rkey, rkey .. ':notes', rkey .. ':pictures', rkey .. ':png')
end
redis.call('DEL', room .. ':records')
local th = redis.call('HGET', room, 'therapist_id')
if th then redis.call('ZREM', p .. ':therapist:' .. th .. ':rooms', id) end
redis.call('DEL', room, room .. ':invites', room .. ':participants', room .. ':snapshot',
           room .. ':safety', room .. ':processes')
redis.call('UNLINK', room .. ':ops', room .. ':op-ids')
return 1
"""

_INT, _FLOAT, _JSON = int, float, json.loads
# Field types per record (others are text); fields listed in _NULLABLE may be absent.
_TYPES = {
    "therapist": {"id": _INT, "created_at": _FLOAT, "session_epoch": _INT},
    "room": {"therapist_id": _INT, "seq": _INT, "created_at": _FLOAT, "settings": _JSON},
    "invite": {"created_at": _FLOAT, "expires_at": _FLOAT, "revoked_at": _FLOAT},
    "participant": {"created_at": _FLOAT},
}
_NULLABLE = {"invite": ("revoked_at",), "participant": ("invite_id",)}
# Fields added later, with the value a record written before them has.
_DEFAULTS = {"therapist": {"session_epoch": 0}}
_HMGET_CHUNK = 1000


class RedisStorage(RedisAccounts, RedisAudit):
    """Thread-safe (redis-py's connection pool); several instances, in one process or
    many, may share one Redis."""

    def __init__(self, url, prefix="pr"):
        self.url = url
        self.prefix = prefix
        self._closed = False
        # A pooled connection that a Redis restart or a cut link left dead fails its
        # next command: retry that on a fresh connection a few times (under 1 s in
        # all) before answering `unavailable` (FAULT4). A retried write is safe:
        # appends dedupe by op id (SEQ2). A timeout (a stalled link, 5 s) is not
        # retried: waiting 5 s more per try would hold the room's lock for longer.
        self.r = redis.Redis.from_url(url, decode_responses=True, retry=Retry(
            ExponentialWithJitterBackoff(base=0.02, cap=0.4), 3,
            supported_errors=(redis.exceptions.ConnectionError,)))
        self._append = self.r.register_script(APPEND_OP)
        self._create_therapist = self.r.register_script(CREATE_THERAPIST)
        self._end_sessions = self.r.register_script(END_SESSIONS)
        self._create_child = self.r.register_script(CREATE_CHILD)
        self._create_invite = self.r.register_script(CREATE_INVITE)
        self._set_if_exists = self.r.register_script(SET_IF_EXISTS)
        self._revoke = self.r.register_script(REVOKE_INVITE)
        self._save_snapshot = self.r.register_script(SAVE_SNAPSHOT)
        self._delete_room = self.r.register_script(DELETE_ROOM)

    def close(self):
        self._closed = True
        self.r.close()
        self.r.connection_pool.disconnect()

    # -- helpers
    def _key(self, kind, id_, *rest):
        """Key of record `id_`, or None when `id_` could name some other key."""
        id_ = str(id_)
        if ":" in id_:
            return None
        return ":".join((self.prefix, kind, id_) + rest)

    def _hash(self, kind, id_):
        key = self._key(kind, id_)
        return self._decode(kind, self.r.hgetall(key)) if key else None

    def _hashes(self, kind, ids):
        pipe = self.r.pipeline(transaction=False)
        for i in ids:
            pipe.hgetall(self._key(kind, i))
        return [rec for rec in (self._decode(kind, raw) for raw in pipe.execute()) if rec]

    @staticmethod
    def _decode(kind, raw):
        if not raw:
            return None
        for field in _NULLABLE.get(kind, ()):
            raw.setdefault(field, None)
        for field, value in _DEFAULTS.get(kind, {}).items():
            raw.setdefault(field, value)
        for field, conv in _TYPES[kind].items():
            if raw.get(field) is not None:
                raw[field] = conv(raw[field])
        return raw

    @staticmethod
    def _flat(record):
        """HSET arguments for `record`, leaving out None fields."""
        out = []
        for field, value in record.items():
            if value is not None:
                out += [field, repr(float(value)) if isinstance(value, float) else value]
        return out

    # -- therapists
    def create_therapist(self, email, name, password_hash):
        """Returns the new therapist, or None when the email is taken."""
        email_key = f"{self.prefix}:therapist-email:{email}"
        if self.r.exists(email_key):
            return None
        tid = self.r.incr(f"{self.prefix}:therapists:next-id")
        rec = {"id": tid, "email": email, "name": name, "password_hash": password_hash,
               "created_at": time.time(), "session_epoch": 0}
        if not self._create_therapist(keys=[email_key, self._key("therapist", tid)],
                                      args=self._flat(rec)):
            return None
        return self.get_therapist(tid)

    def get_therapist(self, therapist_id):
        return self._hash("therapist", therapist_id)

    def get_therapist_by_email(self, email):
        tid = self.r.get(f"{self.prefix}:therapist-email:{email}")
        return self.get_therapist(tid) if tid is not None else None

    def end_sessions(self, therapist_id):
        """Sign-out (AUTH4): move `session_epoch` on; the new epoch, or None."""
        key = self._key("therapist", therapist_id)
        return self._end_sessions(keys=[key]) if key else None

    # -- rooms
    def create_room(self, therapist_id, name, settings):
        th_key = self._key("therapist", therapist_id)
        if th_key is None:
            raise KeyError(f"no therapist {therapist_id}")
        rid = new_id(9)
        now = time.time()
        rec = {"id": rid, "therapist_id": therapist_id, "name": name,
               "settings": json.dumps(settings), "seq": 0, "created_at": now}
        if not self._create_child(keys=[th_key, self._key("room", rid), th_key + ":rooms"],
                                  args=[rid, repr(now)] + self._flat(rec)):
            raise KeyError(f"no therapist {therapist_id}")
        return self.get_room(rid)

    def get_room(self, room_id):
        return self._hash("room", room_id)

    def list_rooms(self, therapist_id):
        key = self._key("therapist", therapist_id, "rooms")
        return self._hashes("room", self.r.zrevrange(key, 0, -1)) if key else []

    def update_settings(self, room_id, settings):
        key = self._key("room", room_id)
        if key:
            self._set_if_exists(keys=[key], args=["settings", json.dumps(settings)])

    def delete_room(self, room_id):
        """Deletes the room and its invites, participants, ops, snapshot and session
        records (with their pictures and notes)."""
        key = self._key("room", room_id)
        return bool(key and self._delete_room(keys=[key], args=[self.prefix, str(room_id)]))

    # -- invites
    def create_invite(self, room_id, role, token_hash, expires_at):
        room_key = self._key("room", room_id)
        if room_key is None:
            raise KeyError(f"no room {room_id}")
        iid = new_id(9)
        now = time.time()
        rec = {"id": iid, "room_id": room_id, "role": role, "token_hash": token_hash,
               "created_at": now, "expires_at": float(expires_at)}
        done = self._create_invite(
            keys=[room_key, self._key("invite", iid),
                  f"{self.prefix}:invite-token:{token_hash}", room_key + ":invites"],
            args=[iid, repr(now)] + self._flat(rec))
        if done == 0:
            raise KeyError(f"no room {room_id}")
        if done < 0:
            raise ValueError("an invite with this token hash exists")
        return self.get_invite(iid)

    def get_invite(self, invite_id):
        return self._hash("invite", invite_id)

    def find_invite(self, token_hash):
        iid = self.r.get(f"{self.prefix}:invite-token:{token_hash}")
        return self.get_invite(iid) if iid is not None else None

    def list_invites(self, room_id):
        key = self._key("room", room_id, "invites")
        return self._hashes("invite", self.r.zrange(key, 0, -1)) if key else []

    def revoke_invite(self, invite_id):
        key = self._key("invite", invite_id)
        return bool(key and self._revoke(keys=[key], args=[repr(time.time())]))

    # -- participants
    def create_participant(self, room_id, role, name, avatar, invite_id=None):
        room_key = self._key("room", room_id)
        if room_key is None:
            raise KeyError(f"no room {room_id}")
        pid = new_id(9)
        now = time.time()
        rec = {"id": pid, "room_id": room_id, "role": role, "name": name, "avatar": avatar,
               "invite_id": invite_id, "created_at": now}
        if not self._create_child(keys=[room_key, self._key("participant", pid),
                                        room_key + ":participants"],
                                  args=[pid, repr(now)] + self._flat(rec)):
            raise KeyError(f"no room {room_id}")
        return self.get_participant(pid)

    def get_participant(self, participant_id):
        return self._hash("participant", participant_id)

    def list_participants(self, room_id):
        key = self._key("room", room_id, "participants")
        return self._hashes("participant", self.r.zrange(key, 0, -1)) if key else []

    # -- op log
    @staticmethod
    def _op_field(participant_id, op_id):
        """The dedupe field: unambiguous for any pair of strings."""
        participant_id = str(participant_id)
        return f"{len(participant_id)}:{participant_id}:{op_id}"

    def append_op(self, room_id, participant_id, op_id, activity, type_, kind, target, payload,
                  expect=None):
        """Store one op under the room's next seq. Returns (seq, created). When the
        participant already sent `op_id`, nothing is written and the original seq is
        returned with created=False. `payload` is the op's JSON text. With `expect`,
        the op is stored only if the room's last seq is `expect` (compare-and-set);
        otherwise nothing is written and (None, False) is returned. One Lua script:
        the dedupe check, the seq check and increment and both writes are one step."""
        room_key = self._key("room", room_id)
        if room_key is None:
            raise KeyError(f"no room {room_id}")
        op = json.dumps({"by": participant_id, "op_id": op_id, "a": activity, "t": type_,
                         "kind": kind, "target": target, "ts": time.time(), "payload": payload})
        seq, created = self._append(keys=[room_key, room_key + ":ops", room_key + ":op-ids"],
                                    args=[self._op_field(participant_id, op_id), op,
                                          "" if expect is None else int(expect)])
        if seq == -1:
            return None, False
        if not seq:
            raise KeyError(f"no room {room_id}")
        return seq, bool(created)

    # -- several processes (SCALE1): a room's new seq is announced to every process
    shared = True

    def _channel(self):
        return f"{self.prefix}:seq"

    def notify(self, room_id, seq):
        """Tell every process that `room_id` has reached `seq`."""
        self.r.publish(self._channel(), f"seq {room_id} {int(seq)}")

    def announce(self, kind, value):
        """Tell every process something else (e.g. "kick-invite", invite id): each
        one's listener acts on its own sockets."""
        self.r.publish(self._channel(), f"{kind} {value}")

    def listen(self, callback, stop=lambda: False):
        """Call callback(kind, args) for every announcement — ("seq", [room_id,
        seq]) or what `announce` sent — until stop() (blocks; run it as a background
        task). Reconnects after a Redis restart.

        Announcements published while the link was down are gone, so every
        subscription after the first one — after a lost link, and the silent one
        redis-py makes when it reconnects by itself — is reported as ("gap", [])
        once Redis confirms it: nothing published after that is missed, and the
        caller re-reads what it holds (FAULT2)."""
        done = lambda: self._closed or stop()   # noqa: E731
        subscribed = False
        while not done():
            pubsub = self.r.pubsub()
            try:
                pubsub.subscribe(self._channel())
                while not done():
                    msg = pubsub.get_message(timeout=1.0)
                    if not msg:
                        continue
                    if msg.get("type") == "subscribe":
                        if subscribed:
                            callback("gap", [])
                        subscribed = True
                    elif msg.get("type") == "message":
                        kind, *args = msg["data"].split(" ")
                        callback(kind, args)
            except Exception as e:
                if done():
                    return
                log.warning("lost the Redis announcements (%s: %s); subscribing again",
                            type(e).__name__, " ".join(str(e).split())[:200])
                time.sleep(0.5)
            finally:
                try:
                    pubsub.close()
                except Exception:
                    pass

    # -- which processes have sockets in a room (SCALE2, rooms/transport/fanout.py)
    def room_here(self, room_id, process, until):
        """`process` has sockets in `room_id` until the time `until` (unless renewed)."""
        key = self._key("room", room_id, "processes")
        if key:
            pipe = self.r.pipeline(transaction=False)
            pipe.hset(key, process, repr(float(until)))
            pipe.expireat(key, int(until) + 1)     # the last process gone: the key too
            pipe.execute()

    def room_gone(self, room_id, process):
        key = self._key("room", room_id, "processes")
        if key:
            self.r.hdel(key, process)

    def room_processes(self, room_id):
        """{process: until} of the processes listed in `room_id`."""
        key = self._key("room", room_id, "processes")
        out = {}
        for p, until in (self.r.hgetall(key) if key else {}).items():
            try:
                out[p] = float(until)
            except ValueError:
                pass
        return out

    def find_op(self, room_id, participant_id, op_id):
        key = self._key("room", room_id, "op-ids")
        seq = self.r.hget(key, self._op_field(participant_id, op_id)) if key else None
        return int(seq) if seq is not None else None

    def last_seq(self, room_id):
        key = self._key("room", room_id)
        seq = self.r.hget(key, "seq") if key else None
        return int(seq) if seq is not None else 0

    def ops_since(self, room_id, seq, limit=None):
        """Ops with seq > `seq`, in order. Each: {seq, by, op_id, a, t, kind, target, d, ts}.
        Seqs have no gaps, so the wanted fields are known from the room's seq."""
        key = self._key("room", room_id, "ops")
        if key is None:
            return []
        last = self.last_seq(room_id)
        first = max(int(seq), 0) + 1
        if limit is not None and limit >= 0:      # a negative LIMIT is no limit in SQLite too
            last = min(last, first - 1 + limit)
        out = []
        for start in range(first, last + 1, _HMGET_CHUNK):
            seqs = range(start, min(start + _HMGET_CHUNK, last + 1))
            for s, text in zip(seqs, self.r.hmget(key, list(seqs))):
                if text is None:          # the room was deleted while we read
                    return out
                op = json.loads(text)
                out.append({"seq": s, "by": op["by"], "op_id": op["op_id"], "a": op["a"],
                            "t": op["t"], "kind": op["kind"], "target": op["target"],
                            "d": json.loads(op["payload"]), "ts": op["ts"]})
        return out

    # -- snapshots
    def save_snapshot(self, room_id, seq, state_json):
        key = self._key("room", room_id)
        if key is None or self._save_snapshot(keys=[key, key + ":snapshot"],
                                              args=[int(seq), state_json, repr(time.time())]) < 0:
            raise KeyError(f"no room {room_id}")

    def load_snapshot(self, room_id):
        """(seq, state JSON text) of the latest snapshot, or None."""
        key = self._key("room", room_id, "snapshot")
        snap = self.r.hmget(key, "seq", "state") if key else [None, None]
        return (int(snap[0]), snap[1]) if snap[0] is not None else None

    # -- session safety (issue 15 part 7): pr:room:<id>:safety, a hash of JSON text by the
    # seq of the session's start op (deleted with the room)
    def save_safety(self, room_id, first_seq, data):
        """Store (or replace) the safety details of one session; KeyError if no room."""
        key = self._key("room", room_id)
        if key is None or not self.r.exists(key):
            raise KeyError(f"no room {room_id}")
        self.r.hset(key + ":safety", str(int(first_seq)), data)

    def get_safety(self, room_id, first_seq):
        """The JSON text stored for that session, or None."""
        key = self._key("room", room_id, "safety")
        return self.r.hget(key, str(int(first_seq))) if key else None

    def safety_sessions(self, room_id):
        """The sessions (start seqs) of a room that have safety details, oldest first."""
        key = self._key("room", room_id, "safety")
        return sorted(int(k) for k in self.r.hkeys(key)) if key else []

    # ------------------------------------------------------------------ issue 7 part B
    # Session records, pictures, private notes, audit log, retention, failed sign-ins
    # (same records as SQLiteStorage's section of the same name). Keys:
    #   pr:record:<id>            hash  id, room_id, therapist_id, room_name, started_at,
    #                                   ended_at, first_seq, last_seq, participants (JSON),
    #                                   timeline (JSON), created_at
    #   pr:record:<id>:pictures   hash  idx -> {name, caption} JSON
    #   pr:record:<id>:png        hash  idx -> PNG, base64 (the client decodes responses)
    #   pr:record:<id>:notes      zset  note id by created_at
    #   pr:room:<id>:records      zset  record id by started_at (delete_room removes all)
    #   pr:note:<id>              hash  id, record_id, text, created_at, updated_at
    #   pr:therapist:<id>:audit   list  JSON entries, newest first
    #   pr:retention-days         zset  therapist id scored by days (absent: forever)
    #   pr:login-fail:<key>       zset  failure times (expires a day after the last one)
    _RECORD_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[3])
redis.call('HSET', KEYS[2], unpack(ARGV, 4, 3 + n))
local i = 4 + n
while i <= #ARGV do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 2])
  i = i + 3
end
redis.call('ZADD', KEYS[5], ARGV[2], ARGV[1])
return 1
"""
    # KEYS: record.  ARGV: prefix, id.
    _RECORD_DELETE = """
local rec = KEYS[1]
if redis.call('EXISTS', rec) == 0 then return 0 end
local p, id = ARGV[1], ARGV[2]
for _, nid in ipairs(redis.call('ZRANGE', rec .. ':notes', 0, -1)) do
  redis.call('DEL', p .. ':note:' .. nid)
end
local room = redis.call('HGET', rec, 'room_id')
if room then redis.call('ZREM', p .. ':room:' .. room .. ':records', id) end
redis.call('DEL', rec, rec .. ':notes', rec .. ':pictures', rec .. ':png')
return 1
"""
    # KEYS: note.  ARGV: text, updated_at.
    _NOTE_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'text', ARGV[1], 'updated_at', ARGV[2])
return 1
"""
    # KEYS: note.  ARGV: prefix, id.
    _NOTE_DELETE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local rec = redis.call('HGET', KEYS[1], 'record_id')
if rec then redis.call('ZREM', ARGV[1] .. ':record:' .. rec .. ':notes', ARGV[2]) end
redis.call('DEL', KEYS[1])
return 1
"""
    # KEYS: parent, list.  ARGV: value.  LPUSH only under an existing parent.
    _PUSH_CHILD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[1])
return 1
"""
    # KEYS: therapist, zset.  ARGV: id, days ("" removes).
    _SET_RETENTION = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] == '' then redis.call('ZREM', KEYS[2], ARGV[1])
else redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1]) end
return 1
"""
    _RECORD_FIELDS = ("room_id", "therapist_id", "room_name", "started_at", "ended_at",
                      "first_seq", "last_seq")
    _RECORD_TYPES = {"therapist_id": int, "started_at": float, "ended_at": float,
                     "first_seq": int, "last_seq": int, "created_at": float,
                     "participants": json.loads, "timeline": json.loads}

    def _script7(self, text):
        cache = self.__dict__.setdefault("_scripts7", {})
        if text not in cache:
            cache[text] = self.r.register_script(text)
        return cache[text]

    def _record_decode(self, raw, timeline=True):
        if not raw:
            return None
        if not timeline:
            raw.pop("timeline", None)
        for field, conv in self._RECORD_TYPES.items():
            if field in raw:
                raw[field] = conv(raw[field])
        return raw

    def create_record(self, record, pictures=()):
        """Store a record and its pictures ([{name, caption, png bytes}]) as one step.
        Returns the stored record; a missing room raises KeyError, nothing written."""
        import base64
        room_key = self._key("room", record["room_id"])
        if room_key is None:
            raise KeyError(f"no room {record['room_id']}")
        rid = new_id(12)
        key = self._key("record", rid)
        rec = {"id": rid, **{k: record[k] for k in self._RECORD_FIELDS},
               "participants": json.dumps(record["participants"]),
               "timeline": json.dumps(record["timeline"]), "created_at": time.time()}
        rec["started_at"], rec["ended_at"] = float(rec["started_at"]), float(rec["ended_at"])
        fields = self._flat(rec)
        args = [rid, repr(rec["started_at"]), len(fields)] + fields
        for i, pic in enumerate(pictures):
            args += [i, json.dumps({"name": pic["name"], "caption": pic.get("caption")}),
                     base64.b64encode(bytes(pic["png"])).decode("ascii")]
        if not self._script7(self._RECORD_CREATE)(
                keys=[room_key, key, key + ":pictures", key + ":png", room_key + ":records"],
                args=args):
            raise KeyError(f"no room {record['room_id']}")
        return self.get_record(rid)

    def get_record(self, record_id):
        key = self._key("record", record_id)
        return self._record_decode(self.r.hgetall(key)) if key else None

    def list_records(self, room_id):
        """The room's records without their timelines, newest first."""
        key = self._key("room", room_id, "records")
        if key is None:
            return []
        ids = self.r.zrevrange(key, 0, -1)
        pipe = self.r.pipeline(transaction=False)
        for rid in ids:
            pipe.hgetall(self._key("record", rid))
        recs = [self._record_decode(raw, timeline=False) for raw in pipe.execute()]
        recs = [r for r in recs if r]
        recs.sort(key=lambda r: (-r["started_at"], r["id"]))
        return recs

    def list_record_pictures(self, record_id):
        """[{idx, name, caption}] in order (without the bytes)."""
        key = self._key("record", record_id, "pictures")
        if key is None:
            return []
        out = [{"idx": int(i), **json.loads(meta)} for i, meta in self.r.hgetall(key).items()]
        return sorted(out, key=lambda p: p["idx"])

    def get_record_picture(self, record_id, idx):
        """The PNG bytes of picture `idx`, or None."""
        import base64
        key = self._key("record", record_id, "png")
        data = self.r.hget(key, int(idx)) if key else None
        return base64.b64decode(data) if data is not None else None

    def delete_record(self, record_id):
        """Deletes the record with its pictures and notes, and its session's safety
        details (SAFE2: a deleted or expired record leaves no address behind)."""
        key = self._key("record", record_id)
        room_id, first = self.r.hmget(key, "room_id", "first_seq") if key else (None, None)
        if room_id and first is not None and ":" not in room_id:
            self.r.hdel(self._key("room", room_id, "safety"), str(int(first)))
        return bool(key and self._script7(self._RECORD_DELETE)(keys=[key],
                                                               args=[self.prefix, record_id]))

    def records_ended_before(self, therapist_id, cutoff):
        """Ids of the therapist's records that ended before `cutoff` (retention)."""
        out = []
        for room in self.list_rooms(therapist_id):
            out += [(r["ended_at"], r["id"]) for r in self.list_records(room["id"])
                    if r["therapist_id"] == int(therapist_id) and r["ended_at"] < cutoff]
        return [rid for _, rid in sorted(out)]

    # -- private notes
    def add_note(self, record_id, text):
        rkey = self._key("record", record_id)
        if rkey is None:
            raise KeyError(f"no record {record_id}")
        nid = new_id(9)
        now = time.time()
        rec = {"id": nid, "record_id": record_id, "text": text, "created_at": now,
               "updated_at": now}
        if not self._create_child(keys=[rkey, self._key("note", nid), rkey + ":notes"],
                                  args=[nid, repr(now)] + self._flat(rec)):
            raise KeyError(f"no record {record_id}")
        return self.get_note(nid)

    def get_note(self, note_id):
        key = self._key("note", note_id)
        raw = self.r.hgetall(key) if key else None
        if not raw:
            return None
        raw["created_at"], raw["updated_at"] = float(raw["created_at"]), float(raw["updated_at"])
        return raw

    def list_notes(self, record_id):
        key = self._key("record", record_id, "notes")
        notes = [self.get_note(n) for n in self.r.zrange(key, 0, -1)] if key else []
        return sorted((n for n in notes if n), key=lambda n: (n["created_at"], n["id"]))

    def update_note(self, note_id, text):
        key = self._key("note", note_id)
        return bool(key and self._script7(self._NOTE_UPDATE)(keys=[key],
                                                             args=[text, repr(time.time())]))

    def delete_note(self, note_id):
        key = self._key("note", note_id)
        return bool(key and self._script7(self._NOTE_DELETE)(keys=[key],
                                                             args=[self.prefix, note_id]))

    # -- audit log
    def add_audit(self, therapist_id, action, detail, record_id=None, room_id=None):
        th_key = self._key("therapist", therapist_id)
        entry = json.dumps({"at": time.time(), "action": action, "record_id": record_id,
                            "room_id": room_id, "detail": detail})
        if th_key is None or not self._script7(self._PUSH_CHILD)(keys=[th_key, th_key + ":audit"],
                                                                 args=[entry]):
            raise KeyError(f"no therapist {therapist_id}")

    def list_audit(self, therapist_id, limit=500):
        """[{at, action, record_id, room_id, detail}], newest first."""
        key = self._key("therapist", therapist_id, "audit")
        return [json.loads(e) for e in self.r.lrange(key, 0, int(limit) - 1)] if key else []

    # -- retention
    def get_retention_days(self, therapist_id):
        days = self.r.zscore(f"{self.prefix}:retention-days", str(therapist_id))
        return int(days) if days is not None else None

    def set_retention_days(self, therapist_id, days):
        th_key = self._key("therapist", therapist_id)
        if th_key is None or not self._script7(self._SET_RETENTION)(
                keys=[th_key, f"{self.prefix}:retention-days"],
                args=[str(therapist_id), "" if days is None else int(days)]):
            raise KeyError(f"no therapist {therapist_id}")

    def retention_settings(self):
        """[(therapist id, days)] of every therapist who keeps records for N days."""
        pairs = self.r.zrange(f"{self.prefix}:retention-days", 0, -1, withscores=True)
        return sorted((int(tid), int(days)) for tid, days in pairs)

    # -- failed sign-ins
    def add_login_failure(self, key, at=None, keep_s=86400):
        at = time.time() if at is None else at
        k = f"{self.prefix}:login-fail:{key}"
        pipe = self.r.pipeline(transaction=True)
        pipe.zremrangebyscore(k, "-inf", f"({at - keep_s!r}")
        pipe.zadd(k, {f"{at!r}:{new_id(6)}": at})
        pipe.expire(k, int(keep_s))
        pipe.execute()

    def count_login_failures(self, key, since):
        return self.r.zcount(f"{self.prefix}:login-fail:{key}", since, "+inf")

    def clear_login_failures(self, key):
        self.r.delete(f"{self.prefix}:login-fail:{key}")

    # ------------------------------------------------------------------ moving data (issue 8)
    # Used by rooms/store/transfer.py (`flask export-data` / `import-data`) to copy rooms from
    # one store to another keeping every id, seq and time. Same methods in SQLiteStorage.
    def list_therapists(self):
        """Every therapist, by id (ids are 1 .. the id counter)."""
        last = int(self.r.get(f"{self.prefix}:therapists:next-id") or 0)
        return self._hashes("therapist", range(1, last + 1))

    def restore(self, kind, rec):
        """Insert one exported record as it was (ids, seqs, times kept). Kinds:
        therapist, room, invite, participant, op (a record of ops_since plus room_id);
        upload, record, record_picture, note, audit, retention: see _restore_more.
        A record that exists already, or under a missing parent, raises and writes
        nothing (each is one script). An op also moves its room's seq up to its seq."""
        if kind == "therapist":
            key = self._key("therapist", rec["id"])
            if key is None or not self._restore_new(
                    keys=[key, f"{self.prefix}:therapist-email:{rec['email']}",
                          f"{self.prefix}:therapists:next-id"],
                    args=[int(rec["id"])] + self._flat(dict(rec))):
                raise ValueError(f"therapist {rec['id']} or their email exists already")
        elif kind in ("room", "participant"):
            parent = ("therapist", rec["therapist_id"], "rooms") if kind == "room" \
                else ("room", rec["room_id"], "participants")
            key, parent_key = self._key(kind, rec["id"]), self._key(*parent[:2])
            flat = dict(rec)
            if kind == "room":
                flat["settings"] = json.dumps(rec["settings"])
            if key is None or parent_key is None or self.r.exists(key):
                raise ValueError(f"{kind} {rec['id']} exists already")
            if not self._create_child(keys=[parent_key, key, parent_key + ":" + parent[2]],
                                      args=[rec["id"], repr(float(rec["created_at"]))]
                                      + self._flat(flat)):
                raise KeyError(f"no {parent[0]} {parent[1]}")
        elif kind == "invite":
            room_key, key = self._key("room", rec["room_id"]), self._key("invite", rec["id"])
            if key is None or room_key is None or self.r.exists(key):
                raise ValueError(f"invite {rec['id']} exists already")
            done = self._create_invite(
                keys=[room_key, key, f"{self.prefix}:invite-token:{rec['token_hash']}",
                      room_key + ":invites"],
                args=[rec["id"], repr(float(rec["created_at"]))] + self._flat(dict(rec)))
            if done == 0:
                raise KeyError(f"no room {rec['room_id']}")
            if done < 0:
                raise ValueError("an invite with this token hash exists")
        elif kind == "op":
            room_key = self._key("room", rec["room_id"])
            if room_key is None:
                raise KeyError(f"no room {rec['room_id']}")
            op = json.dumps({"by": rec["by"], "op_id": rec["op_id"], "a": rec["a"], "t": rec["t"],
                             "kind": rec["kind"], "target": rec["target"], "ts": rec["ts"],
                             "payload": json.dumps(rec["d"], separators=(",", ":"))})
            done = self._restore_op(keys=[room_key, room_key + ":ops", room_key + ":op-ids"],
                                    args=[int(rec["seq"]), self._op_field(rec["by"], rec["op_id"]), op])
            if done == 0:
                raise KeyError(f"no room {rec['room_id']}")
            if done < 0:
                raise ValueError(f"op {rec['seq']} of room {rec['room_id']} exists already")
        else:
            # uploads, session records, pictures, notes, audit, retention: see the
            # "moving data, later kinds" section at the end of this class
            self._restore_more(kind, rec)

    @property
    def _restore_new(self):
        # KEYS: therapist, email index, id counter.  ARGV: id, field, value, ...
        return self.r.register_script("""
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX') == false then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
if tonumber(redis.call('GET', KEYS[3]) or '0') < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[3], ARGV[1])
end
return 1
""")

    @property
    def _restore_op(self):
        # KEYS: room, ops, op-ids.  ARGV: seq, dedupe field, op JSON.
        # Returns 1, 0 if there is no room, -1 if the seq or the op id is taken.
        return self.r.register_script("""
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return -1 end
if redis.call('HEXISTS', KEYS[3], ARGV[2]) == 1 then return -1 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])
if tonumber(redis.call('HGET', KEYS[1], 'seq') or '0') < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'seq', ARGV[1])
end
return 1
""")

    # ------------------------------------------------------------------ uploads (issue 6)
    # Metadata of therapists' uploaded pictures: {id, therapist_id, width, height, bytes,
    # created_at}; the files are rooms/assets/uploads.py's. Keys: pr:upload:<id> (hash) and
    # pr:therapist:<id>:uploads (zset of upload ids scored by created_at). The id is made
    # by the caller. Same methods in SQLiteStorage.
    _UPLOAD_TYPES = {"therapist_id": int, "width": int, "height": int, "bytes": int,
                     "created_at": float}

    def create_upload(self, upload_id, therapist_id, width, height, nbytes):
        """Store an upload's metadata. A missing therapist raises KeyError, a used id
        ValueError; nothing is written then."""
        th_key, key = self._key("therapist", therapist_id), self._key("upload", upload_id)
        if th_key is None or key is None:
            raise KeyError(f"no therapist {therapist_id}")
        now = time.time()
        rec = {"id": upload_id, "therapist_id": therapist_id, "width": int(width),
               "height": int(height), "bytes": int(nbytes), "created_at": now}
        done = self._create_upload(keys=[th_key, key, th_key + ":uploads"],
                                   args=[upload_id, repr(now)] + self._flat(rec))
        if done == 0:
            raise KeyError(f"no therapist {therapist_id}")
        if done < 0:
            raise ValueError(f"upload {upload_id} exists already")
        return self.get_upload(upload_id)

    def get_upload(self, upload_id):
        key = self._key("upload", upload_id)
        return self._upload(self.r.hgetall(key)) if key else None

    def list_uploads(self, therapist_id):
        """The therapist's uploads, newest first."""
        key = self._key("therapist", therapist_id, "uploads")
        if key is None:
            return []
        pipe = self.r.pipeline(transaction=False)
        for uid in self.r.zrevrange(key, 0, -1):
            pipe.hgetall(self._key("upload", uid))
        return [rec for rec in map(self._upload, pipe.execute()) if rec]

    def count_uploads(self, therapist_id):
        key = self._key("therapist", therapist_id, "uploads")
        return self.r.zcard(key) if key else 0

    def delete_upload(self, upload_id):
        key = self._key("upload", upload_id)
        return bool(key and self._delete_upload(keys=[key], args=[self.prefix, str(upload_id)]))

    def _upload(self, raw):
        if not raw:
            return None
        return {k: self._UPLOAD_TYPES.get(k, str)(v) for k, v in raw.items()}

    @property
    def _create_upload(self):
        # KEYS: therapist, upload, therapist's uploads.  ARGV: id, score, field, value, ...
        # Returns 1, 0 if there is no therapist, -1 if the id is taken.
        return self.r.register_script("""
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1
""")

    @property
    def _delete_upload(self):
        # KEYS: upload.  ARGV: prefix, id.  Returns 1 if it was deleted.
        return self.r.register_script("""
local th = redis.call('HGET', KEYS[1], 'therapist_id')
if not th then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. ':therapist:' .. th .. ':uploads', ARGV[2])
return 1
""")

    # ------------------------------------------------------------------ moving data, later kinds
    # restore() branches for the records added after the move command (issue 8, point 4):
    # uploads (metadata; rooms/store/transfer.py writes the files), session records, their
    # pictures and notes, audit log entries and the retention setting. Ids and times are
    # kept; a record that exists already, or under a missing parent, raises and writes
    # nothing (each is one script). Same kinds in SQLiteStorage._restore_more.

    # KEYS: room, record, room's records.  ARGV: id, started_at, field, value, ...
    # Returns 1, 0 if there is no room, -1 if the record exists.
    _RESTORE_RECORD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1
"""
    # KEYS: record, pictures, png.  ARGV: idx, {name, caption} JSON, PNG base64.
    # Returns 1, 0 if there is no record, -1 if the picture exists.
    _RESTORE_PICTURE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return -1 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
return 1
"""
    # KEYS: therapist, audit list.  ARGV: entry JSON, at.  The list stays newest first
    # (an equal time goes first, as the later write); the usual case, an entry newer
    # than the head, is one LPUSH.
    _RESTORE_AUDIT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local at = tonumber(ARGV[2])
local head = redis.call('LINDEX', KEYS[2], 0)
if not head or cjson.decode(head)['at'] <= at then
  redis.call('LPUSH', KEYS[2], ARGV[1])
  return 1
end
for _, e in ipairs(redis.call('LRANGE', KEYS[2], 1, -1)) do
  if cjson.decode(e)['at'] <= at then
    redis.call('LINSERT', KEYS[2], 'BEFORE', e, ARGV[1])
    return 1
  end
end
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
"""
    # KEYS: therapist, retention zset.  ARGV: id, days.  Only where none is set.
    # Returns 1, 0 if there is no therapist, -1 if a setting exists.
    _RESTORE_RETENTION = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return -1 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
"""

    def _restore_more(self, kind, rec):
        import base64
        if kind == "upload":            # {id, therapist_id, width, height, bytes, created_at}
            th_key, key = self._key("therapist", rec["therapist_id"]), self._key("upload", rec["id"])
            if th_key is None or key is None:
                raise KeyError(f"no therapist {rec['therapist_id']}")
            flat = {"id": rec["id"], "therapist_id": int(rec["therapist_id"]),
                    "width": int(rec["width"]), "height": int(rec["height"]),
                    "bytes": int(rec["bytes"]), "created_at": float(rec["created_at"])}
            done = self._create_upload(keys=[th_key, key, th_key + ":uploads"],
                                       args=[rec["id"], repr(flat["created_at"])] + self._flat(flat))
            parent = f"therapist {rec['therapist_id']}"
        elif kind == "record":          # as get_record() returns it (timeline included)
            room_key, key = self._key("room", rec["room_id"]), self._key("record", rec["id"])
            if room_key is None or key is None:
                raise KeyError(f"no room {rec['room_id']}")
            flat = {"id": rec["id"], "room_id": rec["room_id"],
                    "therapist_id": int(rec["therapist_id"]), "room_name": rec["room_name"],
                    "started_at": float(rec["started_at"]), "ended_at": float(rec["ended_at"]),
                    "first_seq": int(rec["first_seq"]), "last_seq": int(rec["last_seq"]),
                    "participants": json.dumps(rec["participants"]),
                    "timeline": json.dumps(rec["timeline"]), "created_at": float(rec["created_at"])}
            done = self._script7(self._RESTORE_RECORD)(
                keys=[room_key, key, room_key + ":records"],
                args=[rec["id"], repr(flat["started_at"])] + self._flat(flat))
            parent = f"room {rec['room_id']}"
        elif kind == "record_picture":  # {record_id, idx, name, caption, png: bytes}
            key = self._key("record", rec["record_id"])
            if key is None:
                raise KeyError(f"no record {rec['record_id']}")
            done = self._script7(self._RESTORE_PICTURE)(
                keys=[key, key + ":pictures", key + ":png"],
                args=[int(rec["idx"]), json.dumps({"name": rec["name"], "caption": rec["caption"]}),
                      base64.b64encode(bytes(rec["png"])).decode("ascii")])
            parent = f"record {rec['record_id']}"
        elif kind == "note":            # as get_note() returns it
            rkey, key = self._key("record", rec["record_id"]), self._key("note", rec["id"])
            if rkey is None or key is None:
                raise KeyError(f"no record {rec['record_id']}")
            if self.r.exists(key):
                raise ValueError(f"note {rec['id']} exists already")
            flat = {"id": rec["id"], "record_id": rec["record_id"], "text": rec["text"],
                    "created_at": float(rec["created_at"]), "updated_at": float(rec["updated_at"])}
            done = self._create_child(keys=[rkey, key, rkey + ":notes"],
                                      args=[rec["id"], repr(flat["created_at"])] + self._flat(flat))
            parent = f"record {rec['record_id']}"
        elif kind == "audit":           # a list_audit() entry plus therapist_id (never deduped here)
            th_key = self._key("therapist", rec["therapist_id"])
            entry = {k: rec[k] for k in ("at", "action", "record_id", "room_id", "detail")}
            entry["at"] = float(entry["at"])
            done = th_key is not None and self._script7(self._RESTORE_AUDIT)(
                keys=[th_key, th_key + ":audit"], args=[json.dumps(entry), repr(entry["at"])])
            parent = f"therapist {rec['therapist_id']}"
        elif kind == "retention":       # {therapist_id, days}: only where none is set yet
            th_key = self._key("therapist", rec["therapist_id"])
            done = th_key is not None and self._script7(self._RESTORE_RETENTION)(
                keys=[th_key, f"{self.prefix}:retention-days"],
                args=[str(rec["therapist_id"]), int(rec["days"])])
            parent = f"therapist {rec['therapist_id']}"
        elif kind == "safety":          # {room_id, first_seq, data} (SAFE2); KeyError if no room
            self.save_safety(rec["room_id"], rec["first_seq"], rec["data"])
            done, parent = 1, f"room {rec['room_id']}"
        else:
            raise KeyError(f"unknown record kind {kind!r}")
        if not done:
            raise KeyError(f"no {parent}")
        if done < 0:
            raise ValueError(f"{kind} {rec.get('id', rec.get('idx', ''))} exists already")
