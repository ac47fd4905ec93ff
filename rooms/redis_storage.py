"""`RedisStorage`: the storage interface of rooms/storage.py, kept in Redis.

Same records, same semantics as `SQLiteStorage` (one contract suite runs on both:
tests/unit/test_storage_contract.py). Every write that must not be seen half done is
one Lua script, so it is atomic in Redis whatever process or thread calls it.

Keys (prefix "pr" by default; <id> never contains ":", so no id can name another key):

    pr:therapists:next-id              counter for therapist ids (integers, as in SQLite)
    pr:therapist:<id>                  hash   id, email, name, password_hash, created_at
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
import time

import redis

from rooms.storage import new_id

# KEYS: room, ops, op-ids.  ARGV: dedupe field, op JSON.
# Returns {seq, 1} for a new op, {original seq, 0} for a retry, {0, 0} for no room.
APPEND_OP = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0} end
local prior = redis.call('HGET', KEYS[3], ARGV[1])
if prior then return {tonumber(prior), 0} end
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
local th = redis.call('HGET', room, 'therapist_id')
if th then redis.call('ZREM', p .. ':therapist:' .. th .. ':rooms', id) end
redis.call('DEL', room, room .. ':invites', room .. ':participants', room .. ':snapshot')
redis.call('UNLINK', room .. ':ops', room .. ':op-ids')
return 1
"""

_INT, _FLOAT, _JSON = int, float, json.loads
# Field types per record (others are text); fields listed in _NULLABLE may be absent.
_TYPES = {
    "therapist": {"id": _INT, "created_at": _FLOAT},
    "room": {"therapist_id": _INT, "seq": _INT, "created_at": _FLOAT, "settings": _JSON},
    "invite": {"created_at": _FLOAT, "expires_at": _FLOAT, "revoked_at": _FLOAT},
    "participant": {"created_at": _FLOAT},
}
_NULLABLE = {"invite": ("revoked_at",), "participant": ("invite_id",)}
_HMGET_CHUNK = 1000


class RedisStorage:
    """Thread-safe (redis-py's connection pool); several instances, in one process or
    many, may share one Redis."""

    def __init__(self, url, prefix="pr"):
        self.url = url
        self.prefix = prefix
        self.r = redis.Redis.from_url(url, decode_responses=True)
        self._append = self.r.register_script(APPEND_OP)
        self._create_therapist = self.r.register_script(CREATE_THERAPIST)
        self._create_child = self.r.register_script(CREATE_CHILD)
        self._create_invite = self.r.register_script(CREATE_INVITE)
        self._set_if_exists = self.r.register_script(SET_IF_EXISTS)
        self._revoke = self.r.register_script(REVOKE_INVITE)
        self._save_snapshot = self.r.register_script(SAVE_SNAPSHOT)
        self._delete_room = self.r.register_script(DELETE_ROOM)

    def close(self):
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
               "created_at": time.time()}
        if not self._create_therapist(keys=[email_key, self._key("therapist", tid)],
                                      args=self._flat(rec)):
            return None
        return self.get_therapist(tid)

    def get_therapist(self, therapist_id):
        return self._hash("therapist", therapist_id)

    def get_therapist_by_email(self, email):
        tid = self.r.get(f"{self.prefix}:therapist-email:{email}")
        return self.get_therapist(tid) if tid is not None else None

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
        """Deletes the room and its invites, participants, ops and snapshot."""
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

    def append_op(self, room_id, participant_id, op_id, activity, type_, kind, target, payload):
        """Store one op under the room's next seq. Returns (seq, created). When the
        participant already sent `op_id`, nothing is written and the original seq is
        returned with created=False. `payload` is the op's JSON text. One Lua script:
        the dedupe check, the seq increment and both writes happen as one step."""
        room_key = self._key("room", room_id)
        if room_key is None:
            raise KeyError(f"no room {room_id}")
        op = json.dumps({"by": participant_id, "op_id": op_id, "a": activity, "t": type_,
                         "kind": kind, "target": target, "ts": time.time(), "payload": payload})
        seq, created = self._append(keys=[room_key, room_key + ":ops", room_key + ":op-ids"],
                                    args=[self._op_field(participant_id, op_id), op])
        if not seq:
            raise KeyError(f"no room {room_id}")
        return seq, bool(created)

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
