"""The security audit log (issue 15, AUDIT1–AUDIT3): one append-only chain of security
events for the whole install, on SQLite and on Redis (mixed into both stores).

Each row is {seq, at, actor, kind, target, address, therapist_id, prev_hash, hash}:
`actor` is "therapist:<id>", "anonymous" (a failed sign-in), "cli" or "system";
`therapist_id` is whose own log the row appears in (None: the administrators' view
only). `hash` is SHA-256 over `prev_hash` and the canonical JSON of the row's other
fields, and `prev_hash` is the previous row's hash (GENESIS for the first), so
altering a row changes its hash and deleting one breaks the next row's link: `verify`
names the first row that no longer fits. Appends are serialised (a SQLite
transaction; on Redis WATCH/MULTI on the chain's head) so the chain never forks.

The chain shows tampering by someone who edits the store by hand; it does not stop
someone who can rewrite the whole chain from the row they changed onwards, nor show
rows cut off the end. Copy `verify-audit`'s last hash somewhere else (a ticket, a
print-out) to pin the chain's end.
"""
import hashlib
import json
import time

import redis

GENESIS = "0" * 64
FIELDS = ("seq", "at", "actor", "kind", "target", "address", "therapist_id")


def canonical(row):
    """The bytes a row's hash covers: its FIELDS as compact, key-sorted JSON."""
    return json.dumps({f: row[f] for f in FIELDS}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def row_hash(prev_hash, row):
    return hashlib.sha256(prev_hash.encode() + canonical(row)).hexdigest()


def chained(prev, seq, event):
    """The full row for `event` ({at, actor, kind, target, address, therapist_id})
    appended after `prev` (the last row, or None)."""
    row = {"seq": seq, **{f: event[f] for f in FIELDS[1:]}}
    row["prev_hash"] = prev["hash"] if prev else GENESIS
    row["hash"] = row_hash(row["prev_hash"], row)
    return row


def verify(rows):
    """Walk the chain (rows oldest first). Returns (number of rows, None) when it holds,
    else (seq of the first broken row, why)."""
    prev_hash, expect_seq, n = GENESIS, 1, 0
    for row in rows:
        n += 1
        if not isinstance(row, dict) or any(c not in row for c in COLUMNS):
            return expect_seq, f"row {expect_seq} is unreadable"
        if row.get("seq") != expect_seq:
            return row.get("seq"), f"row {row.get('seq')} follows row {expect_seq - 1} " \
                                   f"(row {expect_seq} is missing)"
        if row["prev_hash"] != prev_hash:
            return row["seq"], f"row {row['seq']} does not link to the row before it"
        try:
            good = row_hash(prev_hash, row) == row["hash"]
        except (KeyError, TypeError, ValueError):
            good = False
        if not good:
            return row["seq"], f"row {row['seq']} was altered (its hash does not match)"
        prev_hash, expect_seq = row["hash"], expect_seq + 1
    return n, None


def event(kind, target="", actor="system", address=None, therapist_id=None, at=None):
    """A new event as the stores take it (times in epoch seconds)."""
    return {"at": time.time() if at is None else at, "actor": actor, "kind": kind,
            "target": target or "", "address": address, "therapist_id": therapist_id}


SCHEMA = """
CREATE TABLE IF NOT EXISTS security_log (
    seq INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    address TEXT,
    therapist_id INTEGER,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS security_by_therapist ON security_log(therapist_id, seq);
"""
COLUMNS = FIELDS + ("prev_hash", "hash")


class SQLiteAudit:
    """The SQLite half: one table; an append is one IMMEDIATE transaction under the
    store's lock, so two processes never chain onto the same row."""

    def _audit_schema(self):
        self._db.executescript(SCHEMA)

    def append_security_event(self, ev):
        """Append `ev` (see `event`) to the chain. Returns the stored row."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                last = self._db.execute("SELECT * FROM security_log ORDER BY seq DESC "
                                        "LIMIT 1").fetchone()
                row = chained(dict(last) if last else None, (last["seq"] + 1) if last else 1, ev)
                self._insert_security_row(row)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return row

    def _insert_security_row(self, row):
        self._db.execute(f"INSERT INTO security_log ({','.join(COLUMNS)}) VALUES "
                         f"({','.join('?' * len(COLUMNS))})", [row[c] for c in COLUMNS])

    def list_security_events(self, therapist_id=None, limit=500):
        """Rows newest first: one therapist's, or everyone's (None)."""
        if therapist_id is None:
            return self._all("SELECT * FROM security_log ORDER BY seq DESC LIMIT ?", (int(limit),))
        return self._all("SELECT * FROM security_log WHERE therapist_id=? ORDER BY seq DESC "
                         "LIMIT ?", (therapist_id, int(limit)))

    def security_chain(self):
        """Every row, oldest first (for verify and export)."""
        with self._lock:
            cur = self._db.execute("SELECT * FROM security_log ORDER BY seq")
            rows = [dict(r) for r in cur.fetchall()]
        return rows

    def restore_security_rows(self, rows):
        """import-data: put an exported chain's rows in place as they were (hashes kept).
        Only into an empty log, all or nothing."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if self._db.execute("SELECT 1 FROM security_log LIMIT 1").fetchone():
                    raise ValueError("this store has a security log already")
                for row in rows:
                    self._insert_security_row(row)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise


def _parsed(text):
    """A stored row, or None when it is not JSON (verify then names it unreadable)."""
    try:
        return json.loads(text)
    except ValueError:
        return None


class RedisAudit:
    """The Redis half. Keys (besides RedisStorage's):

        pr:security-log                  list  row JSON, oldest first (index = seq - 1)
        pr:therapist:<id>:security       list  seq of that therapist's rows, oldest first

    Redis's Lua has no SHA-256, so an append reads the head under WATCH, hashes in
    Python and writes in MULTI; a concurrent append makes EXEC fail and it retries."""

    def _security_key(self):
        return f"{self.prefix}:security-log"

    def _security_view_key(self, therapist_id):
        return f"{self.prefix}:therapist:{int(therapist_id)}:security"

    def append_security_event(self, ev):
        key = self._security_key()
        with self.r.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    last = pipe.lindex(key, -1)
                    prev = json.loads(last) if last else None
                    row = chained(prev, (prev["seq"] + 1) if prev else 1, ev)
                    pipe.multi()
                    self._push_security_row(pipe, row)
                    pipe.execute()
                    return row
                except redis.WatchError:
                    continue

    def _push_security_row(self, pipe, row):
        pipe.rpush(self._security_key(), json.dumps(row))
        if row["therapist_id"] is not None:
            pipe.rpush(self._security_view_key(row["therapist_id"]), row["seq"])

    def list_security_events(self, therapist_id=None, limit=500):
        key = self._security_key()
        if therapist_id is None:
            raw = self.r.lrange(key, -int(limit), -1)
        else:
            seqs = self.r.lrange(self._security_view_key(therapist_id), -int(limit), -1)
            with self.r.pipeline(transaction=False) as pipe:
                for seq in seqs:
                    pipe.lindex(key, int(seq) - 1)
                raw = [r for r in pipe.execute() if r]
        return [row for row in map(_parsed, reversed(raw)) if isinstance(row, dict)]

    def security_chain(self):
        return [_parsed(r) for r in self.r.lrange(self._security_key(), 0, -1)]

    def restore_security_rows(self, rows):
        key = self._security_key()
        with self.r.pipeline() as pipe:
            pipe.watch(key)
            if pipe.exists(key):
                raise ValueError("this store has a security log already")
            pipe.multi()
            for row in rows:
                self._push_security_row(pipe, row)
            pipe.execute()
