"""`flask --app app rotate-key`: a new data key, and everything sealed again under it.

Why a command: a key that may have leaked (a copied backup of the instance folder, a
departing administrator) is replaced by re-encrypting every sealed value, not only by
sealing new ones under a new key.

Steps, each safe to interrupt (run the command again to finish):
1. the keyring file gets a new current key and keeps the old ones (written whole,
   renamed into place); a keyring that already holds several keys is an unfinished
   rotation and is finished with its current key;
2. every sealed value (rooms/store/sealed.py's list, and the upload files) is read
   with whichever key sealed it and written back sealed under the current key; values
   from before encryption are sealed too;
3. on SQLite the file is rebuilt (VACUUM) so old ciphertexts leave its free pages;
4. only then the old keys leave the keyring.

Stop the servers while rotating: a running server keeps the keyring it started with.
A key given as PLAYROOM_DATA_KEY cannot be rotated here (it lives in the environment).
"""
import json
import os

from rooms.store.crypto import CryptoError, Keyring, key_file_path, new_key, read_keyring_file, \
    write_keyring_file
from rooms.store.sealed import SEALED_KEY, sealed_op


def begin(path):
    """Step 1: the keyring to rotate to (a new current key, the old ones kept)."""
    ring = read_keyring_file(path)
    if len(ring.keys) > 1:
        return ring                          # an unfinished rotation: finish it
    kid, key = new_key()
    ring = Keyring({**ring.keys, kid: key}, kid)
    write_keyring_file(path, ring)
    return ring


def finish(path, ring):
    """Step 3: only the current key stays."""
    write_keyring_file(path, Keyring({ring.current: ring.keys[ring.current]}, ring.current))


# ------------------------------------------------------------------ writing sealed values back

class _SQLiteWriter:
    def __init__(self, inner):
        self.run = inner._run

    def room(self, room, name):
        self.run("UPDATE rooms SET name=? WHERE id=?", (name, room["id"]))

    def participant(self, p, name):
        self.run("UPDATE participants SET name=? WHERE id=?", (name, p["id"]))

    def op(self, room_id, op, payload):
        self.run("UPDATE ops SET payload=? WHERE room_id=? AND seq=?", (payload, room_id, op["seq"]))

    def record(self, rec):
        self.run("UPDATE records SET room_name=?, participants=?, timeline=? WHERE id=?",
                 (rec["room_name"], json.dumps(rec["participants"]), json.dumps(rec["timeline"]),
                  rec["id"]))

    def picture(self, record_id, pic):
        self.run("UPDATE record_pictures SET caption=?, png=? WHERE record_id=? AND idx=?",
                 (pic["caption"], pic["png"], record_id, pic["idx"]))

    def note(self, note, text):
        self.run("UPDATE record_notes SET text=? WHERE id=?", (text, note["id"]))

    def compact(self):
        """Old ciphertexts (and plaintext from before encryption) would live on in free
        pages and the WAL: rebuild the file and empty the WAL."""
        self.run("VACUUM")
        self.run("PRAGMA wal_checkpoint(TRUNCATE)")


class _RedisWriter:
    def __init__(self, inner):
        self.r, self.key = inner.r, inner._key

    def room(self, room, name):
        self.r.hset(self.key("room", room["id"]), "name", name)

    def participant(self, p, name):
        self.r.hset(self.key("participant", p["id"]), "name", name)

    def op(self, room_id, op, payload):
        self.r.hset(self.key("room", room_id, "ops"), op["seq"], json.dumps(
            {"by": op["by"], "op_id": op["op_id"], "a": op["a"], "t": op["t"], "kind": op["kind"],
             "target": op["target"], "ts": op["ts"], "payload": payload}))

    def record(self, rec):
        self.r.hset(self.key("record", rec["id"]), mapping={
            "room_name": rec["room_name"], "participants": json.dumps(rec["participants"]),
            "timeline": json.dumps(rec["timeline"])})

    def picture(self, record_id, pic):
        import base64
        self.r.hset(self.key("record", record_id, "pictures"), pic["idx"],
                    json.dumps({"name": pic["name"], "caption": pic["caption"]}))
        self.r.hset(self.key("record", record_id, "png"), pic["idx"],
                    base64.b64encode(pic["png"]).decode("ascii"))

    def note(self, note, text):
        self.r.hset(self.key("note", note["id"]), "text", text)

    def compact(self):
        """Redis's own files (AOF, RDB) are rewritten by Redis (README)."""


def _writer(inner):
    return _RedisWriter(inner) if hasattr(inner, "r") else _SQLiteWriter(inner)


# ------------------------------------------------------------------ step 2

def reseal(storage, uploads):
    """Seal every value of `storage` (a SealedStorage whose keyring holds the old keys
    and the new current one) and every upload file again. Returns {kind: count}."""
    out = {}
    write = _writer(storage.inner)

    def count(kind):
        out[kind] = out.get(kind, 0) + 1
    for th in storage.list_therapists():
        for up in storage.list_uploads(th["id"]):
            for thumb in (False, True):
                data = uploads.read(up["id"], thumb)
                if data is not None:
                    _write_file(uploads.path(up["id"], thumb), uploads.seal(up["id"], thumb, data))
                    count("upload file")
        for room in storage.list_rooms(th["id"]):
            write.room(room, storage.keyring.seal_text(room["name"], f"rooms.name|{th['id']}"))
            _reseal_room(storage, write, room["id"], count)
    write.compact()
    return out


def _reseal_room(storage, write, room_id, count):
    ring = storage.keyring
    for p in storage.list_participants(room_id):
        write.participant(p, ring.seal_text(p["name"], storage._name(room_id)))
        count("participant")
    for op in storage.ops_since(room_id, 0):
        text = json.dumps(op["d"], separators=(",", ":"))
        if sealed_op(op["a"], text):
            write.op(room_id, op, json.dumps({SEALED_KEY: ring.seal_text(
                text, storage._op_aad(room_id, op["by"], op["op_id"]))}))
            count("room op")
    snap = storage.load_snapshot(room_id)
    if snap is not None:
        storage.save_snapshot(room_id, *snap)
        count("snapshot")
    for listed in storage.list_records(room_id):
        rec = storage.get_record(listed["id"])
        write.record(storage._seal_record(rec))
        count("record")
        for pic in storage.list_record_pictures(rec["id"]):
            png = storage.get_record_picture(rec["id"], pic["idx"])
            write.picture(rec["id"], {**pic, **storage._seal_picture(room_id, pic["idx"],
                                                                     {**pic, "png": png})})
            count("record picture")
        for note in storage.list_notes(rec["id"]):
            write.note(note, ring.seal_text(note["text"], f"record_notes.text|{rec['id']}"))
            count("note")
    for first in storage.inner.safety_sessions(room_id):   # save_safety replaces: the new key
        storage.save_safety(room_id, first, storage.get_safety(room_id, first))
        count("session safety")


def _write_file(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


# ------------------------------------------------------------------ CLI

def register_cli(app):
    import click

    from rooms.assets.uploads import UploadStore

    @app.cli.command("rotate-key")
    def rotate_cmd():
        """Make a new data key and encrypt every stored value under it (stop the servers first)."""
        if app.config.get("DATA_KEY"):
            raise click.ClickException(
                "the data key comes from PLAYROOM_DATA_KEY: put the key in a keyring file "
                "(PLAYROOM_DATA_KEY_FILE) to rotate it with this command")
        path = key_file_path(app.config)
        storage = app.extensions["playroom"].storage
        try:
            ring = begin(path)
            storage.keyring = ring
            files = UploadStore(os.path.join(app.config["INSTANCE_PATH"], "uploads"), ring)
            counts = reseal(storage, files)
        except CryptoError as e:
            raise click.ClickException(str(e)) from None
        finish(path, ring)
        click.echo(f"data key is now {ring.current}; sealed again: "
                   + (", ".join(f"{n} {k}s" for k, n in counts.items()) or "nothing"))
