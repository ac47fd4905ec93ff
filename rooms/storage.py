"""Durable storage behind one interface. `SQLiteStorage` is the embedded default.

The interface is what a Redis implementation must also honour (see
tests/unit/test_storage_contract.py):
- `append_op` assigns the room's next sequence number atomically and dedupes by
  (participant, client op id): a retried op returns its original seq (SEQ2).
- sequence numbers start at 1, grow by one per accepted op and are never reset.
- `ops_since` returns ops in seq order; `save_snapshot`/`load_snapshot` keep the
  latest full room state so a restart does not replay the whole history.
- deleting a room deletes everything it held; a record under a missing parent (an
  invite, participant or snapshot of no room, a room of no therapist) is refused with
  an exception and nothing is written.
- records have the same fields and types in every backend (None stays None).

`rooms.redis_storage.RedisStorage` is the second implementation (REDIS_URL).

Records are plain dicts. Times are UNIX seconds (float).
"""
import json
import secrets
import sqlite3
import threading
import time

SCHEMA = """
CREATE TABLE IF NOT EXISTS therapists (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY,
    therapist_id INTEGER NOT NULL REFERENCES therapists(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    settings TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rooms_by_therapist ON rooms(therapist_id);
CREATE TABLE IF NOT EXISTS invites (
    id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    revoked_at REAL
);
CREATE INDEX IF NOT EXISTS invites_by_room ON invites(room_id);
CREATE TABLE IF NOT EXISTS participants (
    id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    avatar TEXT NOT NULL,
    invite_id TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS participants_by_room ON participants(room_id);
CREATE TABLE IF NOT EXISTS ops (
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    participant_id TEXT NOT NULL,
    op_id TEXT NOT NULL,
    activity TEXT NOT NULL,
    type TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT,
    payload TEXT NOT NULL,
    ts REAL NOT NULL,
    PRIMARY KEY (room_id, seq),
    UNIQUE (room_id, participant_id, op_id)
);
CREATE TABLE IF NOT EXISTS snapshots (
    room_id TEXT PRIMARY KEY REFERENCES rooms(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    ts REAL NOT NULL
);
"""


def new_id(nbytes=12):
    """Unguessable id for rooms, invites and participants (96 bits by default)."""
    return secrets.token_urlsafe(nbytes)


class SQLiteStorage:
    """All access goes through one connection guarded by one lock: SQLite allows one
    writer anyway, and the lock keeps green threads from interleaving a transaction."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode is durable against process crashes (a committed op
            # survives kill -9); only an OS crash can lose the last transactions.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)

    def close(self):
        with self._lock:
            self._db.close()

    # -- helpers
    def _one(self, sql, args=()):
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return dict(row) if row else None

    def _all(self, sql, args=()):
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, args).fetchall()]

    def _run(self, sql, args=()):
        with self._lock:
            return self._db.execute(sql, args).rowcount

    # -- therapists
    def create_therapist(self, email, name, password_hash):
        """Returns the new therapist, or None when the email is taken."""
        try:
            with self._lock:
                cur = self._db.execute(
                    "INSERT INTO therapists (email, name, password_hash, created_at) VALUES (?,?,?,?)",
                    (email, name, password_hash, time.time()))
            return self.get_therapist(cur.lastrowid)
        except sqlite3.IntegrityError:
            return None

    def get_therapist(self, therapist_id):
        return self._one("SELECT * FROM therapists WHERE id=?", (therapist_id,))

    def get_therapist_by_email(self, email):
        return self._one("SELECT * FROM therapists WHERE email=?", (email,))

    # -- rooms
    def create_room(self, therapist_id, name, settings):
        rid = new_id(9)
        self._run("INSERT INTO rooms (id, therapist_id, name, settings, created_at) VALUES (?,?,?,?,?)",
                  (rid, therapist_id, name, json.dumps(settings), time.time()))
        return self.get_room(rid)

    def get_room(self, room_id):
        room = self._one("SELECT * FROM rooms WHERE id=?", (room_id,))
        if room:
            room["settings"] = json.loads(room["settings"])
        return room

    def list_rooms(self, therapist_id):
        rooms = self._all("SELECT * FROM rooms WHERE therapist_id=? ORDER BY created_at DESC",
                          (therapist_id,))
        for r in rooms:
            r["settings"] = json.loads(r["settings"])
        return rooms

    def update_settings(self, room_id, settings):
        self._run("UPDATE rooms SET settings=? WHERE id=?", (json.dumps(settings), room_id))

    def delete_room(self, room_id):
        """Deletes the room and, by cascade, its invites, participants, ops, snapshots."""
        return self._run("DELETE FROM rooms WHERE id=?", (room_id,)) > 0

    # -- invites
    def create_invite(self, room_id, role, token_hash, expires_at):
        iid = new_id(9)
        self._run("INSERT INTO invites (id, room_id, role, token_hash, created_at, expires_at) "
                  "VALUES (?,?,?,?,?,?)", (iid, room_id, role, token_hash, time.time(), expires_at))
        return self.get_invite(iid)

    def get_invite(self, invite_id):
        return self._one("SELECT * FROM invites WHERE id=?", (invite_id,))

    def find_invite(self, token_hash):
        return self._one("SELECT * FROM invites WHERE token_hash=?", (token_hash,))

    def list_invites(self, room_id):
        return self._all("SELECT * FROM invites WHERE room_id=? ORDER BY created_at", (room_id,))

    def revoke_invite(self, invite_id):
        return self._run("UPDATE invites SET revoked_at=? WHERE id=? AND revoked_at IS NULL",
                         (time.time(), invite_id)) > 0

    # -- participants
    def create_participant(self, room_id, role, name, avatar, invite_id=None):
        pid = new_id(9)
        self._run("INSERT INTO participants (id, room_id, role, name, avatar, invite_id, created_at) "
                  "VALUES (?,?,?,?,?,?,?)", (pid, room_id, role, name, avatar, invite_id, time.time()))
        return self.get_participant(pid)

    def get_participant(self, participant_id):
        return self._one("SELECT * FROM participants WHERE id=?", (participant_id,))

    def list_participants(self, room_id):
        return self._all("SELECT * FROM participants WHERE room_id=? ORDER BY created_at", (room_id,))

    # -- op log
    def append_op(self, room_id, participant_id, op_id, activity, type_, kind, target, payload):
        """Store one op under the room's next seq. Returns (seq, created). When the
        participant already sent `op_id`, nothing is written and the original seq is
        returned with created=False. `payload` is the op's JSON text."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT seq FROM ops WHERE room_id=? AND participant_id=? AND op_id=?",
                                 (room_id, participant_id, op_id)).fetchone()
                if row:
                    db.execute("ROLLBACK")
                    return row[0], False
                seq = db.execute("UPDATE rooms SET seq=seq+1 WHERE id=? RETURNING seq",
                                 (room_id,)).fetchone()
                if seq is None:
                    raise KeyError(f"no room {room_id}")
                db.execute("INSERT INTO ops (room_id, seq, participant_id, op_id, activity, type, kind, "
                           "target, payload, ts) VALUES (?,?,?,?,?,?,?,?,?,?)",
                           (room_id, seq[0], participant_id, op_id, activity, type_, kind, target,
                            payload, time.time()))
                db.execute("COMMIT")
                return seq[0], True
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def find_op(self, room_id, participant_id, op_id):
        row = self._one("SELECT seq FROM ops WHERE room_id=? AND participant_id=? AND op_id=?",
                        (room_id, participant_id, op_id))
        return row["seq"] if row else None

    def last_seq(self, room_id):
        row = self._one("SELECT seq FROM rooms WHERE id=?", (room_id,))
        return row["seq"] if row else 0

    def ops_since(self, room_id, seq, limit=None):
        """Ops with seq > `seq`, in order. Each: {seq, by, op_id, a, t, kind, target, d, ts}."""
        sql = ("SELECT seq, participant_id AS by, op_id, activity AS a, type AS t, kind, target, "
               "payload, ts FROM ops WHERE room_id=? AND seq>? ORDER BY seq")
        args = (room_id, seq)
        if limit is not None:
            sql += " LIMIT ?"
            args += (limit,)
        rows = self._all(sql, args)
        for r in rows:
            r["d"] = json.loads(r.pop("payload"))
        return rows

    # -- snapshots
    def save_snapshot(self, room_id, seq, state_json):
        self._run("INSERT INTO snapshots (room_id, seq, state, ts) VALUES (?,?,?,?) "
                  "ON CONFLICT(room_id) DO UPDATE SET seq=excluded.seq, state=excluded.state, "
                  "ts=excluded.ts WHERE excluded.seq >= snapshots.seq",
                  (room_id, seq, state_json, time.time()))

    def load_snapshot(self, room_id):
        """(seq, state JSON text) of the latest snapshot, or None."""
        row = self._one("SELECT seq, state FROM snapshots WHERE room_id=?", (room_id,))
        return (row["seq"], row["state"]) if row else None
