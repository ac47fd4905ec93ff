"""Storage for account security (issue 15): passwords that change, sign-ins that can
be listed and ended one by one, administrators. Mixed into `SQLiteStorage` and
`RedisStorage` so both honour one contract (tests/unit/test_storage_contract.py):

- `set_password` replaces the hash *and* moves the session epoch on in one write, so
  no cookie made with the old password survives a change or reset (AUTH4, AUTH7),
  even if the process dies right after.
- a sign-in is a row {id, therapist_id, created_at, seen_at, address, agent}; its id
  is in the session cookie and the user loader needs the row (AUTH7): deleting it
  ends that browser (and every copy of its cookie). A sign-in of no therapist is
  refused with an exception and nothing is written.
- `end_sign_ins(tid, keep)` deletes every sign-in of the therapist but `keep`.
- admins are a set of therapist ids (the first therapist, made by the CLI, is one);
  they may invite other therapists when sign-up is closed.
- two-step sign-in (AUTH11): a therapist has a TOTP secret or none; `use_totp_step`
  accepts a time step only if it is later than the last one used (a code works
  once), atomically; recovery codes are kept as hashes and `use_recovery_code`
  removes one atomically (each works once); setting new codes replaces all.
- the account language (issue 16): `set_language(tid, lang)` / `get_language(tid)`
  (None when unset); a language of no therapist is refused like a sign-in.

Kept apart from rooms/store/sqlite_store.py and rooms/store/redis_store.py so those stay as they
were; sign-ins are not moved by export-data (they end with the move anyway).
"""
import sqlite3
import time

from activities.contract.i18n import LANGUAGES

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS sign_ins (
    id TEXT PRIMARY KEY,
    therapist_id INTEGER NOT NULL REFERENCES therapists(id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    seen_at REAL NOT NULL,
    address TEXT NOT NULL,
    agent TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sign_ins_by_therapist ON sign_ins(therapist_id, created_at);
CREATE TABLE IF NOT EXISTS admins (
    therapist_id INTEGER PRIMARY KEY REFERENCES therapists(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS totp (
    therapist_id INTEGER PRIMARY KEY REFERENCES therapists(id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    last_step INTEGER NOT NULL DEFAULT -1
);
CREATE TABLE IF NOT EXISTS recovery_codes (
    therapist_id INTEGER NOT NULL REFERENCES therapists(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    PRIMARY KEY (therapist_id, code_hash)
);
CREATE TABLE IF NOT EXISTS preferences (
    therapist_id INTEGER PRIMARY KEY REFERENCES therapists(id) ON DELETE CASCADE,
    lang TEXT NOT NULL
);
"""

_FIELDS = ("id", "therapist_id", "created_at", "seen_at", "address", "agent")


class AccountTransfer:
    """What `export-data` / `import-data` carry of this (rooms/store/transfer.py, kind
    "account"): the administrator mark and two-step sign-in (secret, last step used,
    recovery code hashes), so a move neither drops a therapist's second step nor
    lets a used code work again, and the account language ("lang", only when set, so
    files written before issue 16 read the same). Sign-ins do not move (everyone
    signs in again)."""

    def account_security(self, therapist_id):
        """The record to export, or None when there is nothing to carry."""
        totp = self.get_totp(therapist_id)
        admin = self.is_admin(therapist_id)
        lang = self.get_language(therapist_id)
        if totp is None and not admin and lang is None:
            return None
        rec = {"therapist_id": therapist_id, "admin": admin,
               "totp_secret": totp["secret"] if totp else None,
               "totp_last_step": totp["last_step"] if totp else None,
               "recovery": sorted(self.recovery_hashes(therapist_id))}
        if lang is not None:
            rec["lang"] = lang
        return rec

    def restore_account_security(self, rec):
        tid = rec["therapist_id"]
        if rec["admin"]:
            self.set_admin(tid)
        if rec["totp_secret"] is not None:
            self.set_totp(tid, rec["totp_secret"])
            if rec["totp_last_step"] >= 0:
                self.use_totp_step(tid, rec["totp_last_step"])
            self.set_recovery_codes(tid, rec["recovery"])
        if rec.get("lang") is not None:
            self.set_language(tid, rec["lang"])


def account_problem(rec):
    """Why an exported "account" record cannot be imported, or None."""
    secret, step, recovery = rec["totp_secret"], rec["totp_last_step"], rec["recovery"]
    if type(rec["admin"]) is not bool:
        return "admin is not true or false"
    if secret is not None and not (isinstance(secret, str) and secret.isalnum() and 16 <= len(secret) <= 64):
        return "the two-step secret is not a base32 key"
    if (secret is None) != (step is None) or step is not None and type(step) is not int:
        return "the two-step secret and last step do not go together"
    if not isinstance(recovery, list) or len(recovery) > 100 or not all(
            isinstance(h, str) and len(h) == 64 and all(c in "0123456789abcdef" for c in h)
            for h in recovery) or secret is None and recovery:
        return "the recovery codes are not SHA-256 hashes (of a therapist with two-step sign-in)"
    if "lang" in rec and not _language_ok(rec["lang"]):
        return "the language is not one Playroom speaks"
    return None


def _language_ok(lang):
    return isinstance(lang, str) and lang in LANGUAGES


def _check_language(lang):
    if not _language_ok(lang):
        raise ValueError(f"not a language Playroom speaks: {lang!r}")


class SQLiteAccounts(AccountTransfer):
    """The SQLite half; needs SQLiteStorage's `_db`, `_lock`, `_one`, `_all`, `_run`."""

    def _account_schema(self):
        self._db.executescript(SQLITE_SCHEMA)

    def set_password(self, therapist_id, password_hash):
        """New hash and next session epoch at once; the new epoch, or None."""
        with self._lock:
            row = self._db.execute(
                "UPDATE therapists SET password_hash=?, session_epoch=session_epoch+1 "
                "WHERE id=? RETURNING session_epoch", (password_hash, therapist_id)).fetchone()
        return row[0] if row else None

    def add_sign_in(self, therapist_id, sign_in_id, address, agent, at=None):
        at = time.time() if at is None else at
        try:
            self._run("INSERT INTO sign_ins (id, therapist_id, created_at, seen_at, address, agent) "
                      "VALUES (?,?,?,?,?,?)", (sign_in_id, therapist_id, at, at, address, agent))
        except sqlite3.IntegrityError as e:
            raise KeyError(f"no therapist {therapist_id}") from e

    def get_sign_in(self, sign_in_id):
        return self._one("SELECT * FROM sign_ins WHERE id=?", (sign_in_id,))

    def list_sign_ins(self, therapist_id):
        """The therapist's sign-ins, newest first."""
        return self._all("SELECT * FROM sign_ins WHERE therapist_id=? "
                         "ORDER BY created_at DESC, id", (therapist_id,))

    def touch_sign_in(self, sign_in_id, at):
        self._run("UPDATE sign_ins SET seen_at=? WHERE id=?", (at, sign_in_id))

    def end_sign_in(self, therapist_id, sign_in_id):
        """Delete one of the therapist's own sign-ins; False if there is none."""
        return self._run("DELETE FROM sign_ins WHERE id=? AND therapist_id=?",
                         (sign_in_id, therapist_id)) > 0

    def end_sign_ins(self, therapist_id, keep=None):
        """Delete every sign-in of the therapist but `keep`; how many went."""
        return self._run("DELETE FROM sign_ins WHERE therapist_id=? AND id IS NOT ?",
                         (therapist_id, keep))

    def set_admin(self, therapist_id, admin=True):
        try:
            if admin:
                self._run("INSERT OR IGNORE INTO admins (therapist_id) VALUES (?)", (therapist_id,))
            else:
                self._run("DELETE FROM admins WHERE therapist_id=?", (therapist_id,))
        except sqlite3.IntegrityError as e:
            raise KeyError(f"no therapist {therapist_id}") from e

    def is_admin(self, therapist_id):
        return self._one("SELECT 1 AS y FROM admins WHERE therapist_id=?", (therapist_id,)) is not None

    def set_totp(self, therapist_id, secret):
        """Turn two-step sign-in on with `secret`, or off with None (codes go too)."""
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.execute("DELETE FROM totp WHERE therapist_id=?", (therapist_id,))
                if secret is None:
                    self._db.execute("DELETE FROM recovery_codes WHERE therapist_id=?",
                                     (therapist_id,))
                else:
                    self._db.execute("INSERT INTO totp (therapist_id, secret) VALUES (?,?)",
                                     (therapist_id, secret))
                self._db.execute("COMMIT")
            except sqlite3.IntegrityError as e:
                self._db.execute("ROLLBACK")
                raise KeyError(f"no therapist {therapist_id}") from e

    def get_totp(self, therapist_id):
        """{secret, last_step} or None."""
        return self._one("SELECT secret, last_step FROM totp WHERE therapist_id=?", (therapist_id,))

    def use_totp_step(self, therapist_id, step):
        return self._run("UPDATE totp SET last_step=? WHERE therapist_id=? AND last_step<?",
                         (int(step), therapist_id, int(step))) > 0

    def set_recovery_codes(self, therapist_id, code_hashes):
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.execute("DELETE FROM recovery_codes WHERE therapist_id=?", (therapist_id,))
                self._db.executemany("INSERT INTO recovery_codes (therapist_id, code_hash) "
                                     "VALUES (?,?)", [(therapist_id, h) for h in code_hashes])
                self._db.execute("COMMIT")
            except sqlite3.IntegrityError as e:
                self._db.execute("ROLLBACK")
                raise KeyError(f"no therapist {therapist_id}") from e

    def use_recovery_code(self, therapist_id, code_hash):
        return self._run("DELETE FROM recovery_codes WHERE therapist_id=? AND code_hash=?",
                         (therapist_id, code_hash)) > 0

    def recovery_hashes(self, therapist_id):
        return [r["code_hash"] for r in self._all(
            "SELECT code_hash FROM recovery_codes WHERE therapist_id=?", (therapist_id,))]

    def count_recovery_codes(self, therapist_id):
        return self._one("SELECT COUNT(*) AS n FROM recovery_codes WHERE therapist_id=?",
                         (therapist_id,))["n"]

    def set_language(self, therapist_id, lang):
        _check_language(lang)
        try:
            self._run("INSERT INTO preferences (therapist_id, lang) VALUES (?,?) "
                      "ON CONFLICT(therapist_id) DO UPDATE SET lang=excluded.lang",
                      (therapist_id, lang))
        except sqlite3.IntegrityError as e:
            raise KeyError(f"no therapist {therapist_id}") from e

    def get_language(self, therapist_id):
        row = self._one("SELECT lang FROM preferences WHERE therapist_id=?", (therapist_id,))
        return row["lang"] if row else None


# KEYS: therapist.  ARGV: hash.  The new epoch, or nil for no such therapist.
SET_PASSWORD = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'password_hash', ARGV[1])
return redis.call('HINCRBY', KEYS[1], 'session_epoch', 1)
"""

# KEYS: therapist, sign-in, therapist's sign-in zset.  ARGV: id, score, field, value, ...
ADD_SIGN_IN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
return 1
"""

# KEYS: therapist, totp hash, recovery set.  ARGV: secret ("" turns it off).
SET_TOTP = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2])
if ARGV[1] == '' then redis.call('DEL', KEYS[3]) return 1 end
redis.call('HSET', KEYS[2], 'secret', ARGV[1], 'last_step', -1)
return 1
"""

# KEYS: totp hash.  ARGV: step.  1 if the step is later than the last one used.
USE_TOTP_STEP = """
local last = redis.call('HGET', KEYS[1], 'last_step')
if not last or tonumber(last) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'last_step', ARGV[1])
return 1
"""

# KEYS: therapist, recovery set.  ARGV: hashes.
SET_RECOVERY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[2])
if #ARGV > 0 then redis.call('SADD', KEYS[2], unpack(ARGV)) end
return 1
"""

# KEYS: therapist, preferences hash.  ARGV: language.
SET_LANGUAGE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'lang', ARGV[1])
return 1
"""

# KEYS: therapist, admins set.  ARGV: therapist id.
ADD_ADMIN = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""


class RedisAccounts(AccountTransfer):
    """The Redis half. Keys (besides RedisStorage's):

        pr:sign-in:<id>              hash  id, therapist_id, created_at, seen_at, address, agent
        pr:therapist:<id>:sign-ins   zset  sign-in id, scored by created_at
        pr:admins                    set   therapist ids
        pr:therapist:<id>:totp       hash  secret, last_step
        pr:therapist:<id>:recovery   set   recovery code hashes
        pr:therapist:<id>:prefs      hash  lang
    """

    def _script(self, name, source):
        scripts = self.__dict__.setdefault("_account_scripts", {})
        if name not in scripts:
            scripts[name] = self.r.register_script(source)
        return scripts[name]

    def set_password(self, therapist_id, password_hash):
        key = self._key("therapist", therapist_id)
        return self._script("set_password", SET_PASSWORD)(keys=[key], args=[password_hash]) \
            if key else None

    def add_sign_in(self, therapist_id, sign_in_id, address, agent, at=None):
        at = time.time() if at is None else at
        th_key, key = self._key("therapist", therapist_id), self._key("sign-in", sign_in_id)
        rec = {"id": sign_in_id, "therapist_id": int(therapist_id), "created_at": float(at),
               "seen_at": float(at), "address": address, "agent": agent}
        if not th_key or not key or not self._script("add_sign_in", ADD_SIGN_IN)(
                keys=[th_key, key, f"{th_key}:sign-ins"],
                args=[sign_in_id, repr(float(at))] + self._flat(rec)):
            raise KeyError(f"no therapist {therapist_id}")

    @staticmethod
    def _sign_in(raw):
        if not raw:
            return None
        return {"id": raw["id"], "therapist_id": int(raw["therapist_id"]),
                "created_at": float(raw["created_at"]), "seen_at": float(raw["seen_at"]),
                "address": raw["address"], "agent": raw["agent"]}

    def get_sign_in(self, sign_in_id):
        key = self._key("sign-in", sign_in_id)
        return self._sign_in(self.r.hgetall(key)) if key else None

    def list_sign_ins(self, therapist_id):
        key = self._key("therapist", therapist_id, "sign-ins")
        ids = self.r.zrange(key, 0, -1, desc=True) if key else []
        pipe = self.r.pipeline(transaction=False)
        for i in ids:
            pipe.hgetall(self._key("sign-in", i))
        found = [self._sign_in(raw) for raw in pipe.execute()]
        return sorted((s for s in found if s), key=lambda s: (-s["created_at"], s["id"]))

    def touch_sign_in(self, sign_in_id, at):
        key = self._key("sign-in", sign_in_id)
        if key and self.r.exists(key):
            self.r.hset(key, "seen_at", repr(float(at)))

    def end_sign_in(self, therapist_id, sign_in_id):
        rec = self.get_sign_in(sign_in_id)
        if rec is None or rec["therapist_id"] != int(therapist_id):
            return False
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(self._key("sign-in", sign_in_id))
        pipe.zrem(self._key("therapist", therapist_id, "sign-ins"), sign_in_id)
        return pipe.execute()[0] > 0

    def end_sign_ins(self, therapist_id, keep=None):
        gone = [s["id"] for s in self.list_sign_ins(therapist_id) if s["id"] != keep]
        return sum(1 for sid in gone if self.end_sign_in(therapist_id, sid))

    def set_admin(self, therapist_id, admin=True):
        th_key, admins = self._key("therapist", therapist_id), f"{self.prefix}:admins"
        if not admin:
            self.r.srem(admins, str(therapist_id))
        elif not th_key or not self._script("add_admin", ADD_ADMIN)(
                keys=[th_key, admins], args=[str(therapist_id)]):
            raise KeyError(f"no therapist {therapist_id}")

    def is_admin(self, therapist_id):
        return bool(self.r.sismember(f"{self.prefix}:admins", str(therapist_id)))

    def set_totp(self, therapist_id, secret):
        th_key = self._key("therapist", therapist_id)
        if not th_key or not self._script("set_totp", SET_TOTP)(
                keys=[th_key, f"{th_key}:totp", f"{th_key}:recovery"], args=[secret or ""]):
            raise KeyError(f"no therapist {therapist_id}")

    def get_totp(self, therapist_id):
        key = self._key("therapist", therapist_id, "totp")
        raw = self.r.hgetall(key) if key else None
        return {"secret": raw["secret"], "last_step": int(raw["last_step"])} if raw else None

    def use_totp_step(self, therapist_id, step):
        key = self._key("therapist", therapist_id, "totp")
        return bool(key) and bool(self._script("use_totp_step", USE_TOTP_STEP)(
            keys=[key], args=[int(step)]))

    def set_recovery_codes(self, therapist_id, code_hashes):
        th_key = self._key("therapist", therapist_id)
        if not th_key or not self._script("set_recovery", SET_RECOVERY)(
                keys=[th_key, f"{th_key}:recovery"], args=list(code_hashes)):
            raise KeyError(f"no therapist {therapist_id}")

    def use_recovery_code(self, therapist_id, code_hash):
        key = self._key("therapist", therapist_id, "recovery")
        return bool(key) and self.r.srem(key, code_hash) == 1

    def recovery_hashes(self, therapist_id):
        key = self._key("therapist", therapist_id, "recovery")
        return list(self.r.smembers(key)) if key else []

    def count_recovery_codes(self, therapist_id):
        key = self._key("therapist", therapist_id, "recovery")
        return self.r.scard(key) if key else 0

    def set_language(self, therapist_id, lang):
        _check_language(lang)
        th_key = self._key("therapist", therapist_id)
        if not th_key or not self._script("set_language", SET_LANGUAGE)(
                keys=[th_key, f"{th_key}:prefs"], args=[lang]):
            raise KeyError(f"no therapist {therapist_id}")

    def get_language(self, therapist_id):
        key = self._key("therapist", therapist_id, "prefs")
        return (self.r.hget(key, "lang") or None) if key else None
