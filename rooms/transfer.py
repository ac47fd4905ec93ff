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
    {"end": {"records": n}}                       a file without it was cut short

Parents come before children. Import reads and checks the whole file first (format,
version, every line, the end marker, nothing of it already in the target) and only
then writes; a record the target refuses stops the import with the error.

Adding a kind of record (another engineer's table): a `_kind_*` exporter below that
yields its records, listed in EXPORTERS, and a branch for it in both storages'
`restore()`; the file format does not change.

CLI (registered in app.py): `flask --app app export-data [--room ID] FILE` and
`flask --app app import-data FILE`; the store is the app's (REDIS_URL or SQLite).
"""
import json
import time

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


EXPORTERS = {"therapist": _kind_rooms, "room": _kind_room_contents}


def export_records(storage, room_id=None):
    """Yield (kind, record) for one room (with its therapist) or for everything."""
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
        for kind, room in EXPORTERS["therapist"](storage, th, room_ids):
            yield kind, room
            yield from EXPORTERS["room"](storage, room)


def export_data(storage, fp, room_id=None):
    """Write the export to the text file `fp`. Returns the number of records."""
    head = {"format": FORMAT, "version": VERSION, "scope": "room" if room_id else "all",
            "exported_at": time.time()}
    fp.write(json.dumps(head) + "\n")
    n = 0
    for kind, rec in export_records(storage, room_id):
        fp.write(json.dumps({"kind": kind, "record": rec}, ensure_ascii=False, sort_keys=True,
                            separators=(",", ":")) + "\n")
        n += 1
    fp.write(json.dumps({"end": {"records": n}}) + "\n")
    return n


# ------------------------------------------------------------------ import

KINDS = ("therapist", "room", "invite", "participant", "snapshot", "op")


def read_records(fp):
    """Parse and check a whole export file. Returns [(kind, record)] or raises
    TransferError naming the line."""
    records, end = [], None
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
        records.append((kind, rec))
    if end is None:
        raise TransferError("the file is cut short (no end marker)")
    if not isinstance(end, dict) or end.get("records") != len(records):
        raise TransferError(f"the file should hold {end!r} records, it holds {len(records)}")
    return records


def _conflicts(storage, records):
    """What the target already has of this import (import refuses to merge)."""
    out = []
    for kind, rec in records:
        if kind == "therapist":
            same = storage.get_therapist(rec["id"])
            by_email = storage.get_therapist_by_email(rec["email"])
            if same is not None and same != rec:
                out.append(f"therapist {rec['id']} exists with other data")
            if by_email is not None and by_email["id"] != rec["id"]:
                out.append(f"the email {rec['email']} belongs to another therapist here")
        elif kind == "room" and storage.get_room(rec["id"]) is not None:
            out.append(f"room {rec['id']} exists already")
        elif kind == "invite" and (storage.get_invite(rec["id"]) is not None
                                   or storage.find_invite(rec["token_hash"]) is not None):
            out.append(f"invite {rec['id']} exists already")
        elif kind == "participant" and storage.get_participant(rec["id"]) is not None:
            out.append(f"participant {rec['id']} exists already")
    return out


def import_data(storage, fp):
    """Import an export file into `storage`. Checks everything first; returns
    {kind: count}. A therapist already in the target with identical data (same id,
    same email and password hash) is reused, so rooms can move one at a time."""
    records = read_records(fp)
    problems = _conflicts(storage, records)
    if problems:
        raise TransferError("the target already holds part of this export: "
                            + "; ".join(problems[:5]))
    counts = {}
    for kind, rec in records:
        if kind == "therapist" and storage.get_therapist(rec["id"]) == rec:
            continue
        if kind == "snapshot":
            storage.save_snapshot(rec["room_id"], rec["seq"], rec["state"])
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

    @app.cli.command("export-data")
    @click.option("--room", "room_id", default=None, help="one room's id (default: everything)")
    @click.argument("path", type=click.Path(dir_okay=False, writable=True))
    def export_cmd(room_id, path):
        """Export a room, or all data, to a JSON-lines file."""
        try:
            with open(path, "x", encoding="utf-8") as fp:
                n = export_data(storage(), fp, room_id)
        except FileExistsError:
            raise click.ClickException(f"{path} exists; choose a new file") from None
        except TransferError as e:
            import os
            os.unlink(path)
            raise click.ClickException(str(e)) from None
        click.echo(f"exported {n} records to {path}")

    @app.cli.command("import-data")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def import_cmd(path):
        """Import a file written by export-data into this app's store."""
        try:
            with open(path, encoding="utf-8") as fp:
                counts = import_data(storage(), fp)
        except TransferError as e:
            raise click.ClickException(str(e)) from None
        click.echo("imported " + (", ".join(f"{n} {k}s" for k, n in counts.items()) or "nothing"))
