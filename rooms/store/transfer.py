"""Moving data between stores (issue 8): export one room, or everything, from any
storage (SQLite or Redis) to a JSON-lines file, and import such a file into another.
Ids, sequence numbers, op ids, times, invite hashes, participants and therapists are
kept, so links that still work keep working and the op log is the same, seq by seq.

File format, one JSON object per line:

    {"format": "playroom-export", "version": 1, "scope": "room" | "all", "exported_at": t}
    {"kind": "therapist", "record": {...}}        as get_therapist() returns it
    {"kind": "room", "record": {...}}             as get_room() returns it (seq included)
    {"kind": "invite", "record": {...}}           token hashes only: links are never stored
    {"kind": "participant", "record": {...}}
    {"kind": "snapshot", "record": {"room_id", "seq", "state"}}
    {"kind": "op", "record": {"room_id", "seq", "by", "op_id", "a", "t", "kind", "target", "d", "ts"}}
    {"kind": "safety", "record": {"room_id", "first_seq", "data"}}  a session's location and
                                                  emergency contact (JSON text, SAFE2)
    {"kind": "retention", "record": {"therapist_id", "days"}}   only when set
    {"kind": "account", "record": {"therapist_id", "admin", "totp_secret", "totp_last_step",
                                   "recovery", ["lang"]}}   administrator mark, two-step sign-in,
                                                  account language when set (issue 16)
                                                  (rooms/store/account_store.py), only when set
    {"kind": "upload", "record": {...get_upload(), "picture": b64, "thumb": b64}}
                                                  the metadata and both files (null: missing)
    {"kind": "record", "record": {...}}           a session record, as get_record() returns it
    {"kind": "record_picture", "record": {"record_id", "idx", "name", "caption", "png": b64}}
    {"kind": "note", "record": {...}}             a private note, as get_note() returns it
    {"kind": "audit", "record": {"therapist_id", "at", "action", "record_id", "room_id", "detail"}}
    {"kind": "security_event", "record": {"seq", "at", "actor", "kind", "target", "address",
                                          "therapist_id", "prev_hash", "hash"}}
                                                  the security audit chain (AUDIT3), whole
                                                  exports only, oldest first
    {"end": {"records": n}}                       a file without it was cut short

What moves: for everything, every therapist with their retention setting, uploads
(with the files from the instance folder), rooms and all they hold, session records
with pictures and notes, and the whole access (audit) log, oldest entry first. For one
room (--room): its therapist, their retention setting and all their uploads (a story
or schedule of the room may show any of them), the room with its session records,
pictures and notes, and the audit entries about the room or one of its records.
The security audit chain (rooms/store/audit_store.py) moves only with everything, row
for row with its hashes, so it still verifies in the target: into a target whose chain
is empty, or is the same chain already (then it is left as it is); a target with a
chain of its own refuses the import (two chains cannot be merged without re-hashing,
which would hide tampering).
Failed sign-in counters do not move: they only live a day and are keyed by email and
client address, so a move starts them from zero.

Parents come before children. Import reads and checks the whole file first (format,
version, every line and its fields, that each record's parent is in the file, base64,
the end marker, nothing of it already in the target) and only then writes; a record
the target refuses stops the import with the error. Like a therapist, an upload that
the target already has with the same metadata and file bytes, a retention setting it
already has, and audit entries it already has (same time, action, ids and text) are
reused, so rooms of one therapist can move one at a time; upload files go to the
target's instance folder (<instance>/uploads), each written whole (renamed into place),
before the upload's record.

Adding a kind of record (another engineer's table): a `_kind_*` exporter below that
yields its records, listed in EXPORTERS, its fields in FIELDS (its parent in PARENTS,
base64 fields in BINARY), a collision check in `_plan`, and a branch for it in both
storages' `_restore_more()`; the file format (version) does not change.

Encryption at rest (rooms/store/crypto.py, rooms/store/sealed.py): an export is
written in plaintext — names, notes, records and pictures included — because it is a
file the deployer moves between installs, which may have different keys; keep it as
carefully as the database (README, "Encryption at rest"). Import seals everything again
under the target's key, upload files too.

CLI (registered in app.py): `flask --app app export-data [--room ID] FILE` and
`flask --app app import-data FILE`; the store is the app's (REDIS_URL or SQLite), the
upload files are under its INSTANCE_PATH (PLAYROOM_INSTANCE).
"""
import base64
import binascii
import collections
import json
import os
import time

from rooms.assets import uploads as uploads_mod
from rooms.store import audit_store
from rooms.store.account_store import account_problem

FORMAT = "playroom-export"
VERSION = 1


class TransferError(Exception):
    """The file or the target cannot take this import; nothing was written."""


# ------------------------------------------------------------------ export

def _kind_rooms(storage, therapist, room_ids):
    for room in sorted(storage.list_rooms(therapist["id"]), key=lambda r: r["created_at"]):
        if room_ids is None or room["id"] in room_ids:
            yield "room", room


def _kind_room_contents(storage, room):
    rid = room["id"]
    for inv in storage.list_invites(rid):
        yield "invite", inv
    for part in storage.list_participants(rid):
        yield "participant", part
    snap = storage.load_snapshot(rid)
    if snap is not None:
        yield "snapshot", {"room_id": rid, "seq": snap[0], "state": snap[1]}
    last = 0
    while True:                     # in pages, so a long history never sits in memory whole
        ops = storage.ops_since(rid, last, limit=1000)
        if not ops:
            break
        for op in ops:
            yield "op", {"room_id": rid, **op}
        last = ops[-1]["seq"]
    for first in storage.safety_sessions(rid):
        yield "safety", {"room_id": rid, "first_seq": first, "data": storage.get_safety(rid, first)}


def _b64(data):
    return None if data is None else base64.b64encode(bytes(data)).decode("ascii")


def _upload_paths(root, uid):
    """{"picture": path, "thumb": path} of an upload's files (rooms/assets/uploads.py's layout)."""
    if not uploads_mod.is_upload_id(uid):
        raise TransferError(f"upload id {uid!r} is not a valid id")
    return {"picture": os.path.join(root, uid + uploads_mod.STORED_EXT),
            "thumb": os.path.join(root, "thumbs", uid + uploads_mod.STORED_EXT)}


def _read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _kind_therapist_extras(storage, therapist, uploads_root):
    """The therapist's retention setting and uploads (with their files), oldest first."""
    days = storage.get_retention_days(therapist["id"])
    if days is not None:
        yield "retention", {"therapist_id": therapist["id"], "days": days}
    account = storage.account_security(therapist["id"])      # issue 15
    if account is not None:
        yield "account", account
    ups = sorted(storage.list_uploads(therapist["id"]), key=lambda u: (u["created_at"], u["id"]))
    if ups and uploads_root is None:
        raise TransferError("this store has uploads: the export needs the uploads folder")
    files = ups and uploads_mod.UploadStore(uploads_root, getattr(storage, "keyring", None))
    for up in ups:
        paths = _upload_paths(uploads_root, up["id"])
        yield "upload", {**up, **{name: _b64(_open_file(files, up["id"], name, path))
                                  for name, path in paths.items()}}


def _open_file(files, uid, name, path):
    """An upload file's plaintext (exports are plaintext; import seals them again)."""
    data = _read_file(path)
    return None if data is None else files.unseal(uid, name == "thumb", data)


def _kind_records(storage, room):
    """The room's session records, oldest first, each with its pictures and notes."""
    for short in sorted(storage.list_records(room["id"]), key=lambda r: (r["started_at"], r["id"])):
        rec = storage.get_record(short["id"])
        if rec is None:             # deleted while we read
            continue
        yield "record", rec
        for pic in storage.list_record_pictures(rec["id"]):
            png = storage.get_record_picture(rec["id"], pic["idx"])
            yield "record_picture", {"record_id": rec["id"], "idx": pic["idx"], "name": pic["name"],
                                     "caption": pic["caption"], "png": _b64(png)}
        for note in storage.list_notes(rec["id"]):
            yield "note", note


AUDIT_ALL = 1_000_000_000          # list_audit's limit when the whole log is wanted


def _kind_audit(storage, therapist, room_ids, record_ids):
    """The therapist's audit entries, oldest first (all, or those about the rooms)."""
    for e in reversed(storage.list_audit(therapist["id"], limit=AUDIT_ALL)):
        if room_ids is None or e["room_id"] in room_ids or e["record_id"] in record_ids:
            yield "audit", {"therapist_id": therapist["id"], **e}


EXPORTERS = {"therapist": _kind_rooms, "room": _kind_room_contents,
             "therapist_extras": _kind_therapist_extras, "records": _kind_records,
             "audit": _kind_audit}


def export_records(storage, room_id=None, uploads_root=None):
    """Yield (kind, record) for one room (with its therapist) or for everything.
    `uploads_root` is the folder of the upload files (<instance>/uploads)."""
    if room_id is not None:
        room = storage.get_room(room_id)
        if room is None:
            raise TransferError(f"no room {room_id!r} in this store")
        therapists = [storage.get_therapist(room["therapist_id"])]
        room_ids = {room_id}
    else:
        therapists = storage.list_therapists()
        room_ids = None
    for th in therapists:
        yield "therapist", th
        yield from EXPORTERS["therapist_extras"](storage, th, uploads_root)
        record_ids = set()
        for kind, room in EXPORTERS["therapist"](storage, th, room_ids):
            yield kind, room
            yield from EXPORTERS["room"](storage, room)
            for kind2, rec in EXPORTERS["records"](storage, room):
                if kind2 == "record":
                    record_ids.add(rec["id"])
                yield kind2, rec
        yield from EXPORTERS["audit"](storage, th, room_ids, record_ids)
    if room_id is None:
        for row in storage.security_chain():           # AUDIT3: the whole chain, as it is
            yield "security_event", row


def export_data(storage, fp, room_id=None, uploads_root=None, missing=None):
    """Write the export to the text file `fp`. Returns the number of records.
    `uploads_root`: the folder of the upload files (<instance>/uploads); needed when
    the store holds uploads. An upload whose file is missing is exported with null
    and named in the list `missing` when one is given."""
    head = {"format": FORMAT, "version": VERSION, "scope": "room" if room_id else "all",
            "exported_at": time.time()}
    fp.write(json.dumps(head) + "\n")
    n = 0
    for kind, rec in export_records(storage, room_id, uploads_root):
        if kind == "upload" and missing is not None:
            missing += [f"upload {rec['id']}: no {name} file" for name in ("picture", "thumb")
                        if rec[name] is None]
        fp.write(json.dumps({"kind": kind, "record": rec}, ensure_ascii=False, sort_keys=True,
                            separators=(",", ":")) + "\n")
        n += 1
    fp.write(json.dumps({"end": {"records": n}}) + "\n")
    return n


# ------------------------------------------------------------------ import

# Each kind's fields (all required; a value may be null where the store allows it),
# and the parent it names: (field, kind), which must come earlier in the same file.
FIELDS = {
    "therapist": ("id", "email", "name", "password_hash", "created_at"),
    "room": ("id", "therapist_id", "name", "settings", "seq", "created_at"),
    "invite": ("id", "room_id", "role", "token_hash", "created_at", "expires_at", "revoked_at"),
    "participant": ("id", "room_id", "role", "name", "avatar", "invite_id", "created_at"),
    "snapshot": ("room_id", "seq", "state"),
    "op": ("room_id", "seq", "by", "op_id", "a", "t", "kind", "target", "d", "ts"),
    "retention": ("therapist_id", "days"),
    "upload": ("id", "therapist_id", "width", "height", "bytes", "created_at", "picture", "thumb"),
    "record": ("id", "room_id", "therapist_id", "room_name", "started_at", "ended_at",
               "first_seq", "last_seq", "participants", "timeline", "created_at"),
    "record_picture": ("record_id", "idx", "name", "caption", "png"),
    "note": ("id", "record_id", "text", "created_at", "updated_at"),
    "safety": ("room_id", "first_seq", "data"),      # SAFE2: a session's location and contact
    "audit": ("therapist_id", "at", "action", "record_id", "room_id", "detail"),
    "account": ("therapist_id", "admin", "totp_secret", "totp_last_step", "recovery"),
    "security_event": audit_store.COLUMNS,
}
KINDS = tuple(FIELDS)
PARENTS = {"room": ("therapist_id", "therapist"), "invite": ("room_id", "room"),
           "participant": ("room_id", "room"), "snapshot": ("room_id", "room"),
           "op": ("room_id", "room"), "safety": ("room_id", "room"), "retention": ("therapist_id", "therapist"),
           "upload": ("therapist_id", "therapist"), "record": ("room_id", "room"),
           "record_picture": ("record_id", "record"), "note": ("record_id", "record"),
           "audit": ("therapist_id", "therapist"), "account": ("therapist_id", "therapist")}
# base64 fields, decoded to bytes by read_records (name -> may it be null?)
BINARY = {"upload": {"picture": True, "thumb": True}, "record_picture": {"png": False}}


def _unb64(value, nullable):
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise ValueError("not base64 text")
    return base64.b64decode(value, validate=True)


def read_records(fp):
    """Parse and check a whole export file. Returns [(kind, record)] (base64 fields
    decoded to bytes) or raises TransferError naming the line."""
    records, end = [], None
    seen = {"therapist": set(), "room": set(), "record": set()}
    for no, line in enumerate(fp, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise TransferError(f"line {no}: not JSON ({e})") from None
        if not isinstance(obj, dict):
            raise TransferError(f"line {no}: not an object")
        if no == 1:
            if obj.get("format") != FORMAT:
                raise TransferError("not a Playroom export (first line)")
            if obj.get("version") != VERSION:
                raise TransferError(f"export version {obj.get('version')!r}; this Playroom "
                                    f"reads version {VERSION}")
            continue
        if end is not None:
            raise TransferError(f"line {no}: data after the end marker")
        if "end" in obj:
            end = obj["end"]
            continue
        kind, rec = obj.get("kind"), obj.get("record")
        if kind not in KINDS or not isinstance(rec, dict):
            raise TransferError(f"line {no}: unknown record kind {kind!r}")
        missing = [f for f in FIELDS[kind] if f not in rec]
        if missing:
            raise TransferError(f"line {no}: the {kind} lacks {', '.join(missing)}")
        if kind in PARENTS:
            field, parent = PARENTS[kind]
            if rec[field] not in seen[parent]:
                raise TransferError(f"line {no}: the {kind}'s {parent} {rec[field]!r} is not "
                                    "earlier in the file")
        if kind in seen:
            seen[kind].add(rec["id"])
        for field, nullable in BINARY.get(kind, {}).items():
            try:
                rec[field] = _unb64(rec[field], nullable)
            except (ValueError, binascii.Error):
                raise TransferError(f"line {no}: the {kind}'s {field} is not base64") from None
        if kind == "account" and account_problem(rec):
            raise TransferError(f"line {no}: {account_problem(rec)}")
        if kind == "upload" and not uploads_mod.is_upload_id(rec["id"]):
            raise TransferError(f"line {no}: upload id {rec['id']!r} is not a valid id")
        if kind == "upload" and rec["picture"] is not None and len(rec["picture"]) != rec["bytes"]:
            raise TransferError(f"line {no}: the picture of upload {rec['id']} is not "
                                f"{rec['bytes']} bytes long")
        records.append((kind, rec))
    if end is None:
        raise TransferError("the file is cut short (no end marker)")
    if not isinstance(end, dict) or end.get("records") != len(records):
        raise TransferError(f"the file should hold {end!r} records, it holds {len(records)}")
    return records


def _audit_key(e):
    return (e["at"], e["action"], e["record_id"], e["room_id"], e["detail"])


def _writable(path):
    """Can `path` be created or written (its nearest existing folder is writable)?"""
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def _plan(storage, records, uploads_root):
    """What the target already has of this import (import refuses to merge), and the
    steps to write: [(kind, record, {file path: bytes})]. Records the target already
    holds identically (a therapist, an upload, a retention setting, audit entries) are
    left out of the steps."""
    out, steps = [], []
    audit_there = {}                                # therapist id -> Counter of entries
    chain = [rec for kind, rec in records if kind == "security_event"]
    records = [(kind, rec) for kind, rec in records if kind != "security_event"]
    for kind, rec in records:
        files = {}
        if kind == "therapist":
            same = storage.get_therapist(rec["id"])
            by_email = storage.get_therapist_by_email(rec["email"])
            if same is not None and same != rec:
                out.append(f"therapist {rec['id']} exists with other data")
            if by_email is not None and by_email["id"] != rec["id"]:
                out.append(f"the email {rec['email']} belongs to another therapist here")
            if same == rec:
                continue                            # reused
        elif kind == "room" and storage.get_room(rec["id"]) is not None:
            out.append(f"room {rec['id']} exists already")
        elif kind == "invite" and (storage.get_invite(rec["id"]) is not None
                                   or storage.find_invite(rec["token_hash"]) is not None):
            out.append(f"invite {rec['id']} exists already")
        elif kind == "participant" and storage.get_participant(rec["id"]) is not None:
            out.append(f"participant {rec['id']} exists already")
        elif kind == "record" and storage.get_record(rec["id"]) is not None:
            out.append(f"session record {rec['id']} exists already")
        elif kind == "note" and storage.get_note(rec["id"]) is not None:
            out.append(f"note {rec['id']} exists already")
        elif kind == "retention":
            there = storage.get_retention_days(rec["therapist_id"])
            if there == rec["days"]:
                continue
            if there is not None:
                out.append(f"therapist {rec['therapist_id']} keeps records {there} days here, "
                           f"the file says {rec['days']}")
        elif kind == "account":
            there = storage.account_security(rec["therapist_id"]) \
                if storage.get_therapist(rec["therapist_id"]) else None
            if there == rec:
                continue
            if there is not None:
                out.append(f"therapist {rec['therapist_id']} has other sign-in settings here")
        elif kind == "audit":
            tid = rec["therapist_id"]
            if tid not in audit_there:
                audit_there[tid] = collections.Counter(
                    _audit_key(e) for e in storage.list_audit(tid, limit=AUDIT_ALL)
                ) if storage.get_therapist(tid) is not None else collections.Counter()
            if audit_there[tid][_audit_key(rec)] > 0:
                audit_there[tid][_audit_key(rec)] -= 1
                continue                            # the target has this entry
        elif kind == "upload":
            meta = {k: v for k, v in rec.items() if k not in ("picture", "thumb")}
            there = storage.get_upload(rec["id"])
            if there is not None and there != meta:
                out.append(f"upload {rec['id']} exists with other data")
            if rec["picture"] is not None or rec["thumb"] is not None:
                if uploads_root is None:
                    raise TransferError("the file has uploads: the import needs the uploads folder")
                sealer = uploads_mod.UploadStore(uploads_root, getattr(storage, "keyring", None))
                for name, path in _upload_paths(uploads_root, rec["id"]).items():
                    data = rec[name]
                    if data is None:
                        continue
                    old = _open_file(sealer, rec["id"], name, path)
                    if old is None:
                        if not _writable(path):
                            out.append(f"cannot write {path}")
                        files[path] = sealer.seal(rec["id"], name == "thumb", data)
                    elif old != data:
                        out.append(f"the {name} file of upload {rec['id']} differs here")
            if there is not None and not files:
                continue                            # reused
            rec = meta if there is None else None   # None: only files to write
        steps.append((kind, rec, files))
    _plan_chain(storage, chain, out, steps)
    return out, steps


def _plan_chain(storage, chain, out, steps):
    """The security chain goes in whole into an empty log, or not at all (AUDIT3)."""
    if not chain:
        return
    there = storage.security_chain()
    if there == chain:
        return                                      # the same chain: nothing to write
    if there:
        out.append("this store has a security audit log of its own")
    else:
        steps.append(("security_log", chain, {}))


def _write_file(path, data):
    """Write `path` whole or not at all (renamed into place), as UploadStore.save."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def import_data(storage, fp, uploads_root=None):
    """Import an export file into `storage` (and upload files into `uploads_root`,
    the target's <instance>/uploads). Checks everything first; returns {kind: count}.
    A therapist already in the target with identical data (same id, same email and
    password hash) is reused, and so are identical uploads, retention settings and
    audit entries, so rooms can move one at a time."""
    records = read_records(fp)
    problems, steps = _plan(storage, records, uploads_root)
    if problems:
        raise TransferError("the target already holds part of this export: "
                            + "; ".join(problems[:5]))
    counts = {}
    for kind, rec, files in steps:
        for path, data in files.items():       # files first: a record never names a missing file
            _write_file(path, data)
            counts["upload file"] = counts.get("upload file", 0) + 1
        if rec is None:
            continue
        if kind == "snapshot":
            storage.save_snapshot(rec["room_id"], rec["seq"], rec["state"])
        elif kind == "account":
            storage.restore_account_security(rec)
        elif kind == "security_log":
            storage.restore_security_rows(rec)
        else:
            storage.restore(kind, rec)
        counts[kind] = counts.get(kind, 0) + 1
    return counts


# ------------------------------------------------------------------ CLI

def register_cli(app):
    """`flask export-data` and `flask import-data` on the app's own storage."""
    import click

    def storage():
        return app.extensions["playroom"].storage

    def uploads_root():
        return os.path.join(app.config["INSTANCE_PATH"], "uploads")

    @app.cli.command("export-data")
    @click.option("--room", "room_id", default=None, help="one room's id (default: everything)")
    @click.argument("path", type=click.Path(dir_okay=False, writable=True))
    def export_cmd(room_id, path):
        """Export a room, or all data, to a JSON-lines file."""
        try:
            with open(path, "x", encoding="utf-8") as fp:
                missing = []
                n = export_data(storage(), fp, room_id, uploads_root(), missing=missing)
        except FileExistsError:
            raise click.ClickException(f"{path} exists; choose a new file") from None
        except TransferError as e:
            os.unlink(path)
            raise click.ClickException(str(e)) from None
        for text in missing:
            click.echo(f"warning: {text}", err=True)
        storage().append_security_event(audit_store.event(           # AUDIT1
            "export-data", f"room {room_id}" if room_id else "everything", actor="cli"))
        click.echo(f"exported {n} records to {path}")

    @app.cli.command("import-data")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_cmd(path):
        """Import a file written by export-data into this app's store."""
        try:
            with open(path, encoding="utf-8") as fp:
                counts = import_data(storage(), fp, uploads_root())
        except TransferError as e:
            raise click.ClickException(str(e)) from None
        storage().append_security_event(audit_store.event("import-data", os.path.basename(path),
                                                          actor="cli"))
        click.echo("imported " + (", ".join(f"{n} {k}s" for k, n in counts.items()) or "nothing"))
