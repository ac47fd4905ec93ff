"""`SealedStorage`: any storage backend with the values that identify a child or hold
the therapist's clinical view encrypted at rest (issue 15 part 4, rooms/store/crypto.py).

Why a wrapper: the same fields are sealed the same way on SQLite and Redis, the
backends stay plain (their contract suite runs on both, and on both wrapped), and
what is encrypted is listed in one place:

- room names (a therapist names a room after the child) and participant names;
- op payloads, except those of the busy activities whose ops carry no free text
  (canvas strokes, sand-tray figures: `PLAIN_ACTIVITIES`), so the hot path of every
  stroke costs no encryption. Sealed: the room's own ops (presence, admit, remove …
  carry names), stories, schedules, calm patterns and check-ins (text a therapist
  types, clinical answers), and any op carrying a caption ("Save to record");
- snapshots (the whole state: presence names, check-ins, pictures placed);
- session records: room name, participants, timeline; their pictures and captions;
- private notes;
- a session's safety details: where the child is and the emergency contact (issue 15
  part 7).

Associated data binds each value to its place: op payloads to room, participant
and op id; a participant's name, a snapshot and a record's fields to their room; a
record picture to its room and index; a note to its record. A value moved to
another room, record or field does not open (CryptoError).

Reads return plaintext, so everything above the store, `export-data` included, sees
the data as before: an export file is plaintext (README: protect it), and import
seals it again under the target's key.
"""
import json

# Activities whose ops are the busy path and hold no free text: kept plain. (A new
# activity is sealed unless it is added here.)
PLAIN_ACTIVITIES = frozenset({"canvas", "sandtray"})
SEALED_KEY = "$sealed"


def sealed_op(activity, payload_text):
    """Whether an op is sealed at rest: every op except those of PLAIN_ACTIVITIES,
    and those too when they carry a caption (a therapist's words)."""
    return activity not in PLAIN_ACTIVITIES or '"caption"' in payload_text


class SealedStorage:
    """Wraps `inner` (SQLiteStorage or RedisStorage); every method not named here is
    the inner one's."""

    def __init__(self, inner, keyring):
        self.inner = inner
        self.keyring = keyring

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def check_key(self):
        """Raise CryptoError when the stored data is sealed under a key this keyring
        lacks (a lost data.key replaced by a new one, a worker given another key): the
        app then refuses to start instead of mixing two keys. Probes one room name."""
        for th in self.inner.list_therapists():
            for room in self.inner.list_rooms(th["id"]):
                self._open_room(room)
                return

    # -- small helpers
    def _name(self, room_id):
        return f"participants.name|{room_id}"

    def _open_participant(self, p):
        if p is not None:
            p = {**p, "name": self.keyring.open_text(p["name"], self._name(p["room_id"]))}
        return p

    @staticmethod
    def _op_aad(room_id, by, op_id):
        return f"ops.payload|{room_id}|{by}|{op_id}"

    # -- rooms: the name
    def _open_room(self, room):
        if room is not None:
            room = {**room, "name": self.keyring.open_text(
                room["name"], f"rooms.name|{room['therapist_id']}")}
        return room

    def create_room(self, therapist_id, name, settings):
        return self._open_room(self.inner.create_room(
            therapist_id, self.keyring.seal_text(name, f"rooms.name|{therapist_id}"), settings))

    def get_room(self, room_id):
        return self._open_room(self.inner.get_room(room_id))

    def list_rooms(self, therapist_id):
        return [self._open_room(r) for r in self.inner.list_rooms(therapist_id)]

    # -- participants
    def create_participant(self, room_id, role, name, avatar, invite_id=None):
        return self._open_participant(self.inner.create_participant(
            room_id, role, self.keyring.seal_text(name, self._name(room_id)), avatar, invite_id))

    def get_participant(self, participant_id):
        return self._open_participant(self.inner.get_participant(participant_id))

    def list_participants(self, room_id):
        return [self._open_participant(p) for p in self.inner.list_participants(room_id)]

    # -- op log: only the room's own ops
    def append_op(self, room_id, participant_id, op_id, activity, type_, kind, target, payload,
                  expect=None):
        if sealed_op(activity, payload):
            payload = json.dumps({SEALED_KEY: self.keyring.seal_text(
                payload, self._op_aad(room_id, participant_id, op_id))})
        return self.inner.append_op(room_id, participant_id, op_id, activity, type_, kind,
                                    target, payload, expect=expect)

    def _open_op(self, room_id, op):
        d = op["d"]
        if isinstance(d, dict) and set(d) == {SEALED_KEY}:
            text = self.keyring.open_text(d[SEALED_KEY], self._op_aad(room_id, op["by"],
                                                                       op["op_id"]))
            op["d"] = json.loads(text)
        return op

    def ops_since(self, room_id, seq, limit=None):
        return [self._open_op(room_id, op) for op in self.inner.ops_since(room_id, seq, limit)]

    # -- snapshots
    def save_snapshot(self, room_id, seq, state_json):
        self.inner.save_snapshot(room_id, seq, self.keyring.seal_text(
            state_json, f"snapshots.state|{room_id}"))

    def load_snapshot(self, room_id):
        snap = self.inner.load_snapshot(room_id)
        if snap is None:
            return None
        return snap[0], self.keyring.open_text(snap[1], f"snapshots.state|{room_id}")

    # -- session records
    _RECORD_JSON = ("participants", "timeline")

    def _seal_record(self, record):
        room = record["room_id"]
        out = {**record, "room_name": self.keyring.seal_text(record["room_name"],
                                                             f"records.room_name|{room}")}
        for field in self._RECORD_JSON:
            out[field] = self.keyring.seal_json(record[field], f"records.{field}|{room}")
        return out

    def _open_record(self, rec):
        if rec is None:
            return None
        room = rec["room_id"]
        rec = {**rec, "room_name": self.keyring.open_text(rec["room_name"],
                                                          f"records.room_name|{room}")}
        for field in self._RECORD_JSON:
            if field in rec:
                rec[field] = self.keyring.open_json(rec[field], f"records.{field}|{room}")
        return rec

    def _seal_picture(self, room_id, idx, pic):
        aad = f"record_pictures|{room_id}|{idx}"
        caption = pic.get("caption")
        return {**pic, "caption": None if caption is None else self.keyring.seal_text(caption, aad),
                "png": self.keyring.seal(bytes(pic["png"]), aad)}

    def _picture_room(self, record_id):
        rec = self.inner.get_record(record_id)
        return rec["room_id"] if rec else None

    def create_record(self, record, pictures=()):
        room = record["room_id"]
        pictures = [self._seal_picture(room, i, p) for i, p in enumerate(pictures)]
        return self._open_record(self.inner.create_record(self._seal_record(record), pictures))

    def get_record(self, record_id):
        return self._open_record(self.inner.get_record(record_id))

    def list_records(self, room_id):
        return [self._open_record(r) for r in self.inner.list_records(room_id)]

    def list_record_pictures(self, record_id):
        room = self._picture_room(record_id)
        return [{**p, "caption": self.keyring.open_text(p["caption"],
                                                        f"record_pictures|{room}|{p['idx']}")}
                for p in self.inner.list_record_pictures(record_id)]

    def get_record_picture(self, record_id, idx):
        data = self.inner.get_record_picture(record_id, idx)
        if data is None:
            return None
        return self.keyring.open(data, f"record_pictures|{self._picture_room(record_id)}|{int(idx)}")

    # -- private notes
    def _open_note(self, note):
        if note is not None:
            note = {**note, "text": self.keyring.open_text(
                note["text"], f"record_notes.text|{note['record_id']}")}
        return note

    def add_note(self, record_id, text):
        return self._open_note(self.inner.add_note(
            record_id, self.keyring.seal_text(text, f"record_notes.text|{record_id}")))

    def get_note(self, note_id):
        return self._open_note(self.inner.get_note(note_id))

    def list_notes(self, record_id):
        return [self._open_note(n) for n in self.inner.list_notes(record_id)]

    def update_note(self, note_id, text):
        note = self.inner.get_note(note_id)
        if note is None:
            return False
        return self.inner.update_note(note_id, self.keyring.seal_text(
            text, f"record_notes.text|{note['record_id']}"))

    # -- session safety: the whole JSON text, bound to its room and session
    @staticmethod
    def _safety_aad(room_id, first_seq):
        return f"session_safety|{room_id}|{int(first_seq)}"

    def save_safety(self, room_id, first_seq, data):
        self.inner.save_safety(room_id, first_seq, self.keyring.seal_text(
            data, self._safety_aad(room_id, first_seq)))

    def get_safety(self, room_id, first_seq):
        data = self.inner.get_safety(room_id, first_seq)
        return None if data is None else self.keyring.open_text(
            data, self._safety_aad(room_id, first_seq))

    # -- moving data in (import-data): sealed under this store's key
    def restore(self, kind, rec):
        return self.inner.restore(kind, self._seal_restored(kind, rec))

    def _seal_restored(self, kind, rec):
        if kind == "room":
            return {**rec, "name": self.keyring.seal_text(
                rec["name"], f"rooms.name|{rec['therapist_id']}")}
        if kind == "participant":
            return {**rec, "name": self.keyring.seal_text(rec["name"], self._name(rec["room_id"]))}
        text = json.dumps(rec["d"], separators=(",", ":")) if kind == "op" else ""
        if kind == "op" and sealed_op(rec["a"], text):
            aad = self._op_aad(rec["room_id"], rec["by"], rec["op_id"])
            return {**rec, "d": {SEALED_KEY: self.keyring.seal_text(text, aad)}}
        if kind == "record":
            return self._seal_record(rec)
        if kind == "record_picture":
            return {**rec, **self._seal_picture(self._picture_room(rec["record_id"]),
                                                int(rec["idx"]), rec)}
        if kind == "safety":
            return {**rec, "data": self.keyring.seal_text(
                rec["data"], self._safety_aad(rec["room_id"], rec["first_seq"]))}
        if kind == "note":
            return {**rec, "text": self.keyring.seal_text(
                rec["text"], f"record_notes.text|{rec['record_id']}")}
        return rec
