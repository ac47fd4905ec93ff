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
- a therapist's `session_epoch` starts at 0 and only `end_sessions` moves it on
  (sign-out, AUTH4); a session cookie holding another epoch is no sign-in.

`rooms.store.redis_store.RedisStorage` is the second implementation (REDIS_URL).

Records are plain dicts. Times are UNIX seconds (float).
"""
import json
import secrets
import sqlite3
import threading
import time

from rooms.store.account_store import SQLiteAccounts
from rooms.store.audit_store import SQLiteAudit

SCHEMA = """
CREATE TABLE IF NOT EXISTS therapists (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL,
    session_epoch INTEGER NOT NULL DEFAULT 0
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
-- Where the child is and whom to call, per session (issue 15 part 7, rooms/web/safety.py):
-- one row per room session (keyed by the seq of the session's start op), never an op.
CREATE TABLE IF NOT EXISTS session_safety (
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    first_seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    ts REAL NOT NULL,
    PRIMARY KEY (room_id, first_seq)
);
-- Session records (issue 7, rooms/records/service.py): stored whole, independent of the op log.
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    therapist_id INTEGER NOT NULL REFERENCES therapists(id) ON DELETE CASCADE,
    room_name TEXT NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    participants TEXT NOT NULL,
    timeline TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_room ON records(room_id, started_at);
CREATE INDEX IF NOT EXISTS records_by_therapist ON records(therapist_id, ended_at);
CREATE TABLE IF NOT EXISTS record_pictures (
    record_id TEXT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    caption TEXT,
    png BLOB NOT NULL,
    PRIMARY KEY (record_id, idx)
);
CREATE TABLE IF NOT EXISTS record_notes (
    id TEXT PRIMARY KEY,
    record_id TEXT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_by_record ON record_notes(record_id, created_at);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    therapist_id INTEGER NOT NULL REFERENCES therapists(id) ON DELETE CASCADE,
    at REAL NOT NULL,
    action TEXT NOT NULL,
    record_id TEXT,
    room_id TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_therapist ON audit_log(therapist_id, at);
CREATE TABLE IF NOT EXISTS therapist_settings (
    therapist_id INTEGER PRIMARY KEY REFERENCES therapists(id) ON DELETE CASCADE,
    retention_days INTEGER
);
CREATE TABLE IF NOT EXISTS login_failures (
    key TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_by_key ON login_failures(key, at);
-- Therapists' uploaded pictures (issue 6): metadata only; the cleaned files live in
-- INSTANCE_PATH/uploads (rooms/assets/uploads.py).
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    therapist_id INTEGER NOT NULL REFERENCES therapists(id) ON DELETE CASCADE,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_therapist ON uploads(therapist_id, created_at);
"""


def new_id(nbytes=12):
    """Unguessable id for rooms, invites and participants (96 bits by default)."""
    return secrets.token_urlsafe(nbytes)


class SQLiteStorage(SQLiteAccounts, SQLiteAudit):
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
            self._account_schema()      # sign-ins, admins, two-step (rooms/store/account_store.py)
            self._audit_schema()        # the security audit chain (rooms/store/audit_store.py)
            self._migrate()

    # Columns added since a table was first created: (table, column, definition).
    # CREATE TABLE IF NOT EXISTS leaves an existing table as it was, so these are added
    # to databases made by an older version (a new database has them already).
    COLUMNS_ADDED = (("therapists", "session_epoch", "INTEGER NOT NULL DEFAULT 0"),)

    def _migrate(self):
        for table, column, definition in self.COLUMNS_ADDED:
            have = {r["name"] for r in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

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

    def end_sessions(self, therapist_id):
        """Sign-out (AUTH4): move the therapist's `session_epoch` on, so every session
        cookie made before (copies included) stops working. Returns the new epoch, or
        None for no such therapist."""
        with self._lock:
            row = self._db.execute("UPDATE therapists SET session_epoch=session_epoch+1 "
                                   "WHERE id=? RETURNING session_epoch", (therapist_id,)).fetchone()
        return row[0] if row else None

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
        """Deletes the room and, by cascade, its invites, participants, ops, snapshots,
        session records with their pictures and notes."""
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
    def append_op(self, room_id, participant_id, op_id, activity, type_, kind, target, payload,
                  expect=None):
        """Store one op under the room's next seq. Returns (seq, created). When the
        participant already sent `op_id`, nothing is written and the original seq is
        returned with created=False. `payload` is the op's JSON text. With `expect`,
        the op is stored only if the room's last seq is `expect` (compare-and-set);
        otherwise nothing is written and (None, False) is returned."""
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
                if expect is not None and seq[0] != expect + 1:
                    db.execute("ROLLBACK")
                    return None, False
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

    # -- one process only: nothing to announce (the Redis backend tells the others)
    shared = False

    def notify(self, room_id, seq):
        pass

    def announce(self, kind, value):
        pass

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

    # -- session safety (issue 15 part 7): a JSON text per (room, session start seq)
    def save_safety(self, room_id, first_seq, data):
        """Store (or replace) the safety details of one session; KeyError if no room."""
        if self.get_room(room_id) is None:
            raise KeyError(f"no room {room_id}")
        self._run("INSERT INTO session_safety (room_id, first_seq, data, ts) VALUES (?,?,?,?) "
                  "ON CONFLICT(room_id, first_seq) DO UPDATE SET data=excluded.data, "
                  "ts=excluded.ts", (room_id, int(first_seq), data, time.time()))

    def get_safety(self, room_id, first_seq):
        """The JSON text stored for that session, or None."""
        row = self._one("SELECT data FROM session_safety WHERE room_id=? AND first_seq=?",
                        (room_id, int(first_seq)))
        return row["data"] if row else None

    def safety_sessions(self, room_id):
        """The sessions (start seqs) of a room that have safety details, oldest first."""
        return [r["first_seq"] for r in self._all(
            "SELECT first_seq FROM session_safety WHERE room_id=? ORDER BY first_seq", (room_id,))]

    # ------------------------------------------------------------------ issue 7 part B
    # Session records, their pictures and private notes, the audit log, the
    # therapist's retention setting and failed sign-ins (rooms/records/service.py,
    # rooms/web/records.py, rooms/records/retention.py, rooms/web/accounts.py). A record is
    # {id, room_id, therapist_id, room_name, started_at, ended_at, first_seq, last_seq,
    # participants: [{id, name, role}], timeline: [entry], created_at}; deleting its
    # room deletes it with its pictures and notes (ON DELETE CASCADE).
    _RECORD_FIELDS = ("room_id", "therapist_id", "room_name", "started_at", "ended_at",
                      "first_seq", "last_seq")

    @staticmethod
    def _record_row(row, timeline=True):
        if row is None:
            return None
        row["participants"] = json.loads(row["participants"])
        if timeline:
            row["timeline"] = json.loads(row["timeline"])
        else:
            row.pop("timeline", None)
        return row

    def create_record(self, record, pictures=()):
        """Store a record and its pictures ([{name, caption, png bytes}]) in one
        transaction. Returns the stored record; a missing room raises, nothing written."""
        rid = new_id(12)
        values = [record[k] for k in self._RECORD_FIELDS]
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("INSERT INTO records (id, room_id, therapist_id, room_name, started_at, "
                           "ended_at, first_seq, last_seq, participants, timeline, created_at) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                           [rid] + values + [json.dumps(record["participants"]),
                                             json.dumps(record["timeline"]), time.time()])
                for i, pic in enumerate(pictures):
                    db.execute("INSERT INTO record_pictures (record_id, idx, name, caption, png) "
                               "VALUES (?,?,?,?,?)", (rid, i, pic["name"], pic.get("caption"),
                                                      bytes(pic["png"])))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return self.get_record(rid)

    def get_record(self, record_id):
        return self._record_row(self._one("SELECT * FROM records WHERE id=?", (record_id,)))

    def list_records(self, room_id):
        """The room's records without their timelines, newest first."""
        rows = self._all("SELECT * FROM records WHERE room_id=? ORDER BY started_at DESC, id",
                         (room_id,))
        return [self._record_row(r, timeline=False) for r in rows]

    def list_record_pictures(self, record_id):
        """[{idx, name, caption}] in order (without the bytes)."""
        return self._all("SELECT idx, name, caption FROM record_pictures WHERE record_id=? "
                         "ORDER BY idx", (record_id,))

    def get_record_picture(self, record_id, idx):
        """The PNG bytes of picture `idx`, or None."""
        row = self._one("SELECT png FROM record_pictures WHERE record_id=? AND idx=?",
                        (record_id, idx))
        return bytes(row["png"]) if row else None

    def delete_record(self, record_id):
        """Deletes the record with its pictures and notes, and its session's safety
        details (SAFE2: a deleted or expired record leaves no address behind)."""
        self._run("DELETE FROM session_safety WHERE (room_id, first_seq) IN "
                  "(SELECT room_id, first_seq FROM records WHERE id=?)", (record_id,))
        return self._run("DELETE FROM records WHERE id=?", (record_id,)) > 0

    def records_ended_before(self, therapist_id, cutoff):
        """Ids of the therapist's records that ended before `cutoff` (retention)."""
        return [r["id"] for r in self._all(
            "SELECT id FROM records WHERE therapist_id=? AND ended_at<? ORDER BY ended_at",
            (therapist_id, cutoff))]

    # -- private notes on a record: {id, record_id, text, created_at, updated_at}
    def add_note(self, record_id, text):
        nid = new_id(9)
        now = time.time()
        self._run("INSERT INTO record_notes (id, record_id, text, created_at, updated_at) "
                  "VALUES (?,?,?,?,?)", (nid, record_id, text, now, now))
        return self.get_note(nid)

    def get_note(self, note_id):
        return self._one("SELECT * FROM record_notes WHERE id=?", (note_id,))

    def list_notes(self, record_id):
        return self._all("SELECT * FROM record_notes WHERE record_id=? ORDER BY created_at, id",
                         (record_id,))

    def update_note(self, note_id, text):
        return self._run("UPDATE record_notes SET text=?, updated_at=? WHERE id=?",
                         (text, time.time(), note_id)) > 0

    def delete_note(self, note_id):
        return self._run("DELETE FROM record_notes WHERE id=?", (note_id,)) > 0

    # -- audit log: who did what to which record, kept when the record is deleted
    def add_audit(self, therapist_id, action, detail, record_id=None, room_id=None):
        self._run("INSERT INTO audit_log (therapist_id, at, action, record_id, room_id, detail) "
                  "VALUES (?,?,?,?,?,?)", (therapist_id, time.time(), action, record_id, room_id,
                                           detail))

    def list_audit(self, therapist_id, limit=500):
        """[{at, action, record_id, room_id, detail}], newest first."""
        return self._all("SELECT at, action, record_id, room_id, detail FROM audit_log "
                         "WHERE therapist_id=? ORDER BY at DESC, id DESC LIMIT ?",
                         (therapist_id, int(limit)))

    # -- retention: keep records N days (None: forever)
    def get_retention_days(self, therapist_id):
        row = self._one("SELECT retention_days FROM therapist_settings WHERE therapist_id=?",
                        (therapist_id,))
        return row["retention_days"] if row else None

    def set_retention_days(self, therapist_id, days):
        self._run("INSERT INTO therapist_settings (therapist_id, retention_days) VALUES (?,?) "
                  "ON CONFLICT(therapist_id) DO UPDATE SET retention_days=excluded.retention_days",
                  (therapist_id, None if days is None else int(days)))

    def retention_settings(self):
        """[(therapist id, days)] of every therapist who keeps records for N days."""
        return [(r["therapist_id"], r["retention_days"]) for r in self._all(
            "SELECT therapist_id, retention_days FROM therapist_settings "
            "WHERE retention_days IS NOT NULL ORDER BY therapist_id")]

    # -- failed sign-ins per key ("email:<address>", "ip:<address>")
    def add_login_failure(self, key, at=None, keep_s=86400):
        at = time.time() if at is None else at
        with self._lock:
            self._db.execute("DELETE FROM login_failures WHERE key=? AND at<?", (key, at - keep_s))
            self._db.execute("INSERT INTO login_failures (key, at) VALUES (?,?)", (key, at))

    def count_login_failures(self, key, since):
        return self._one("SELECT COUNT(*) AS n FROM login_failures WHERE key=? AND at>=?",
                         (key, since))["n"]

    def clear_login_failures(self, key):
        self._run("DELETE FROM login_failures WHERE key=?", (key,))

    # ------------------------------------------------------------------ moving data (issue 8)
    # Used by rooms/store/transfer.py (`flask export-data` / `import-data`) to copy rooms from
    # one store to another keeping every id, seq and time. Same methods in RedisStorage.
    def list_therapists(self):
        """Every therapist, by id."""
        return self._all("SELECT * FROM therapists ORDER BY id")

    def restore(self, kind, rec):
        """Insert one exported record as it was (ids, seqs, times kept). Kinds:
        therapist, room, invite, participant, op (a record of ops_since plus room_id);
        upload, record, record_picture, note, audit, retention: see _restore_more.
        A record that exists already, or under a missing parent, raises and writes
        nothing. An op also moves its room's seq up to the op's seq."""
        if kind == "therapist":
            # The epoch moves along (an export from before it has none): a cookie ended
            # by a sign-out must not work again on the new server.
            sql = ("INSERT INTO therapists (id, email, name, password_hash, created_at, "
                   "session_epoch) VALUES (?,?,?,?,?,?)")
            args = (rec["id"], rec["email"], rec["name"], rec["password_hash"], rec["created_at"],
                    rec.get("session_epoch", 0))
        elif kind == "room":
            sql = ("INSERT INTO rooms (id, therapist_id, name, settings, seq, created_at) "
                   "VALUES (?,?,?,?,?,?)")
            args = (rec["id"], rec["therapist_id"], rec["name"], json.dumps(rec["settings"]),
                    rec["seq"], rec["created_at"])
        elif kind == "invite":
            sql = ("INSERT INTO invites (id, room_id, role, token_hash, created_at, expires_at, "
                   "revoked_at) VALUES (?,?,?,?,?,?,?)")
            args = (rec["id"], rec["room_id"], rec["role"], rec["token_hash"], rec["created_at"],
                    rec["expires_at"], rec["revoked_at"])
        elif kind == "participant":
            sql = ("INSERT INTO participants (id, room_id, role, name, avatar, invite_id, "
                   "created_at) VALUES (?,?,?,?,?,?,?)")
            args = (rec["id"], rec["room_id"], rec["role"], rec["name"], rec["avatar"],
                    rec["invite_id"], rec["created_at"])
        elif kind == "op":
            with self._lock:
                db = self._db
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.execute("INSERT INTO ops (room_id, seq, participant_id, op_id, activity, type, "
                               "kind, target, payload, ts) VALUES (?,?,?,?,?,?,?,?,?,?)",
                               (rec["room_id"], rec["seq"], rec["by"], rec["op_id"], rec["a"],
                                rec["t"], rec["kind"], rec["target"],
                                json.dumps(rec["d"], separators=(",", ":")), rec["ts"]))
                    db.execute("UPDATE rooms SET seq=MAX(seq, ?) WHERE id=?",
                               (rec["seq"], rec["room_id"]))
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
            return
        else:
            # uploads, session records, pictures, notes, audit, retention: see the
            # "moving data, later kinds" section at the end of this class
            return self._restore_more(kind, rec)
        self._run(sql, args)

    # ------------------------------------------------------------------ uploads (issue 6)
    # Metadata of therapists' uploaded pictures: {id, therapist_id, width, height, bytes,
    # created_at}. The id is made by the caller (rooms.assets.uploads.new_upload_id) so the files
    # are written before the record exists. Same methods in RedisStorage.
    def create_upload(self, upload_id, therapist_id, width, height, nbytes):
        """Store an upload's metadata. A missing therapist or a used id raises; nothing
        is written then."""
        self._run("INSERT INTO uploads (id, therapist_id, width, height, bytes, created_at) "
                  "VALUES (?,?,?,?,?,?)", (upload_id, therapist_id, width, height, nbytes, time.time()))
        return self.get_upload(upload_id)

    def get_upload(self, upload_id):
        return self._one("SELECT * FROM uploads WHERE id=?", (upload_id,))

    def list_uploads(self, therapist_id):
        """The therapist's uploads, newest first."""
        return self._all("SELECT * FROM uploads WHERE therapist_id=? ORDER BY created_at DESC, id",
                         (therapist_id,))

    def count_uploads(self, therapist_id):
        return self._one("SELECT COUNT(*) AS n FROM uploads WHERE therapist_id=?", (therapist_id,))["n"]

    def delete_upload(self, upload_id):
        return self._run("DELETE FROM uploads WHERE id=?", (upload_id,)) > 0

    # ------------------------------------------------------------------ moving data, later kinds
    # restore() branches for the records added after the move command (issue 8, point 4):
    # uploads (metadata; rooms/store/transfer.py writes the files), session records, their
    # pictures and notes, audit log entries and the retention setting. Ids and times are
    # kept; a record that exists already, or under a missing parent, raises and writes
    # nothing. Same kinds in RedisStorage._restore_more.
    def _restore_more(self, kind, rec):
        if kind == "upload":            # {id, therapist_id, width, height, bytes, created_at}
            self._run("INSERT INTO uploads (id, therapist_id, width, height, bytes, created_at) "
                      "VALUES (?,?,?,?,?,?)", (rec["id"], rec["therapist_id"], rec["width"],
                                               rec["height"], rec["bytes"], rec["created_at"]))
        elif kind == "record":          # as get_record() returns it (timeline included)
            self._run("INSERT INTO records (id, room_id, therapist_id, room_name, started_at, "
                      "ended_at, first_seq, last_seq, participants, timeline, created_at) "
                      "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                      (rec["id"], rec["room_id"], rec["therapist_id"], rec["room_name"],
                       rec["started_at"], rec["ended_at"], rec["first_seq"], rec["last_seq"],
                       json.dumps(rec["participants"]), json.dumps(rec["timeline"]),
                       rec["created_at"]))
        elif kind == "record_picture":  # {record_id, idx, name, caption, png: bytes}
            self._run("INSERT INTO record_pictures (record_id, idx, name, caption, png) "
                      "VALUES (?,?,?,?,?)", (rec["record_id"], rec["idx"], rec["name"],
                                             rec["caption"], bytes(rec["png"])))
        elif kind == "note":            # as get_note() returns it
            self._run("INSERT INTO record_notes (id, record_id, text, created_at, updated_at) "
                      "VALUES (?,?,?,?,?)", (rec["id"], rec["record_id"], rec["text"],
                                             rec["created_at"], rec["updated_at"]))
        elif kind == "audit":           # a list_audit() entry plus therapist_id (never deduped here)
            self._run("INSERT INTO audit_log (therapist_id, at, action, record_id, room_id, detail) "
                      "VALUES (?,?,?,?,?,?)", (rec["therapist_id"], rec["at"], rec["action"],
                                               rec["record_id"], rec["room_id"], rec["detail"]))
        elif kind == "retention":       # {therapist_id, days}: only where none is set yet
            if self.get_therapist(rec["therapist_id"]) is None:
                raise KeyError(f"no therapist {rec['therapist_id']}")
            if not self._run("INSERT INTO therapist_settings (therapist_id, retention_days) "
                             "VALUES (?,?) ON CONFLICT(therapist_id) DO UPDATE SET "
                             "retention_days=excluded.retention_days "
                             "WHERE therapist_settings.retention_days IS NULL",
                             (rec["therapist_id"], int(rec["days"]))):
                raise ValueError(f"therapist {rec['therapist_id']} has a retention setting")
        elif kind == "safety":          # {room_id, first_seq, data} (SAFE2)
            self.save_safety(rec["room_id"], rec["first_seq"], rec["data"])
        else:
            raise KeyError(f"unknown record kind {kind!r}")
