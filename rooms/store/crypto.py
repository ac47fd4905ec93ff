"""Encryption at rest (issue 15 part 4): AES-256-GCM with a keyring of named keys.

Why: the SQLite file, a Redis dump and the upload folder hold what identifies a child
or the therapist's clinical view (names, notes, records, pictures). Authenticated
encryption means a copied file reveals nothing and a changed byte is refused rather
than read as something else. The primitive is PyCA `cryptography`'s AESGCM, never
hand-written.

A sealed value carries the id of the key that sealed it, so keys can be rotated
(`flask --app app rotate-key`) while older values stay readable until re-sealed.
Each value is sealed with associated data naming its place (table, row, field): a
ciphertext copied into another row or field no longer opens.

Formats: bytes `PRE1 | len(kid) | kid | nonce(12) | ciphertext+tag`; text
`pr-enc1:` + base64 of those bytes. Values without the marker are read as
plaintext (data written before encryption existed); `rotate-key` seals them.

The key is kept apart from the data: by default a keyring file `data.key` in the
instance folder, made at first start with mode 0600; or `PLAYROOM_DATA_KEY_FILE` (a
path, e.g. a secrets manager mount) or `PLAYROOM_DATA_KEY` (a base64 32-byte key).
"""
import base64
import hashlib
import json
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"PRE1"
TEXT_MARK = "pr-enc1:"
NONCE = 12
KEY_BYTES = 32          # AES-256


class CryptoError(Exception):
    """A value that cannot be opened: tampered, sealed for another place, or sealed
    under a key this keyring does not hold. str(e) says which."""


def new_key():
    """(key id, 32 random bytes)."""
    return secrets.token_hex(4), secrets.token_bytes(KEY_BYTES)


class Keyring:
    """Named keys, one of them current (new values are sealed with it)."""

    def __init__(self, keys, current):
        if current not in keys:
            raise CryptoError(f"the current key {current!r} is not in the keyring")
        for kid, key in keys.items():
            if len(key) != KEY_BYTES:
                raise CryptoError(f"key {kid!r} is not {KEY_BYTES} bytes (AES-256)")
        self.keys = dict(keys)
        self.current = current
        self._aead = {kid: AESGCM(key) for kid, key in self.keys.items()}

    # -- bytes
    def seal(self, data, aad):
        """`data` (bytes) sealed under the current key, bound to `aad` (text)."""
        kid = self.current.encode()
        nonce = secrets.token_bytes(NONCE)
        ct = self._aead[self.current].encrypt(nonce, bytes(data), aad.encode())
        return MAGIC + bytes([len(kid)]) + kid + nonce + ct

    @staticmethod
    def is_sealed(blob):
        return isinstance(blob, (bytes, bytearray, memoryview)) and bytes(blob[:4]) == MAGIC

    @staticmethod
    def key_id(blob):
        """The id of the key a sealed value names."""
        n = blob[4]
        return bytes(blob[5:5 + n]).decode()

    def open(self, blob, aad):
        """The plaintext of a sealed value (bytes); a value without the marker is
        returned as it is (written before encryption). Raises CryptoError."""
        blob = bytes(blob)
        if not self.is_sealed(blob):
            return blob
        kid = self.key_id(blob)
        if kid not in self._aead:
            raise CryptoError(f"value sealed with key {kid!r}, which this keyring does not "
                              "hold (wrong PLAYROOM_DATA_KEY / data.key?)")
        body = blob[5 + len(kid.encode()):]
        try:
            return self._aead[kid].decrypt(body[:NONCE], body[NONCE:], aad.encode())
        except InvalidTag:
            raise CryptoError(f"value for {aad!r} was altered or belongs elsewhere") from None

    # -- text
    def seal_text(self, text, aad):
        return TEXT_MARK + base64.b64encode(self.seal(text.encode(), aad)).decode("ascii")

    @staticmethod
    def is_sealed_text(value):
        return isinstance(value, str) and value.startswith(TEXT_MARK)

    def open_text(self, value, aad):
        """The text of a sealed text value; None and unsealed text pass through."""
        if not self.is_sealed_text(value):
            return value
        try:
            blob = base64.b64decode(value[len(TEXT_MARK):])
        except ValueError:
            raise CryptoError(f"value for {aad!r} is damaged") from None
        return self.open(blob, aad).decode()

    def text_key_id(self, value):
        """The key id of a sealed text value, None for plaintext."""
        if not self.is_sealed_text(value):
            return None
        return self.key_id(base64.b64decode(value[len(TEXT_MARK):]))

    # -- JSON values (lists, dicts) stored where the backend writes JSON
    def seal_json(self, value, aad):
        """A JSON value sealed as {"$sealed": text}: the backends store it as JSON."""
        return {"$sealed": self.seal_text(json.dumps(value, separators=(",", ":")), aad)}

    def open_json(self, value, aad):
        if isinstance(value, dict) and set(value) == {"$sealed"}:
            return json.loads(self.open_text(value["$sealed"], aad))
        return value

    # -- files
    def to_file(self):
        return {"current": self.current,
                "keys": {k: base64.b64encode(v).decode("ascii") for k, v in self.keys.items()}}


# ------------------------------------------------------------------ where the key lives

def _decode_key(text, where):
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise CryptoError(f"{where} is not base64") from None
    if len(key) != KEY_BYTES:
        raise CryptoError(f"{where} must be {KEY_BYTES} bytes (base64 of them), not {len(key)}")
    return key


def _env_kid(key):
    """A fixed id for a key given alone: the same key always gets the same id."""
    return "k" + hashlib.sha256(b"playroom key id" + key).hexdigest()[:8]


def read_keyring_file(path):
    """A keyring file: JSON {"current", "keys": {id: base64}}, or one base64 key."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
            keys = {k: _decode_key(v, f"key {k!r} in {path}") for k, v in data["keys"].items()}
            return Keyring(keys, data["current"])
        except (KeyError, TypeError, ValueError) as e:
            raise CryptoError(f"{path} is not a Playroom keyring ({e})") from None
    key = _decode_key(text, path)
    return Keyring({_env_kid(key): key}, _env_kid(key))


def write_keyring_file(path, keyring):
    """Write `keyring` to `path` whole or not at all (mode 0600, renamed into place)."""
    tmp = f"{path}.{secrets.token_hex(4)}.tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        json.dump(keyring.to_file(), f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def key_file_path(config):
    return config.get("DATA_KEY_FILE") or os.path.join(config["INSTANCE_PATH"], "data.key")


def load_keyring(config):
    """The app's keyring: DATA_KEY (base64) if set, else the keyring file
    (DATA_KEY_FILE, default INSTANCE_PATH/data.key), created with a new key if absent."""
    if config.get("DATA_KEY"):
        key = _decode_key(config["DATA_KEY"], "PLAYROOM_DATA_KEY")
        return Keyring({_env_kid(key): key}, _env_kid(key))
    path = key_file_path(config)
    if not os.path.exists(path):
        _create_keyring_file(path)
    return read_keyring_file(path)


def _create_keyring_file(path):
    """A new keyring at `path`, appearing whole (written aside, then hard-linked into
    place): workers starting together on one instance folder all end up with the key
    of whichever was first, never a half-written file."""
    kid, key = new_key()
    tmp = f"{path}.{secrets.token_hex(4)}.tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
        json.dump(Keyring({kid: key}, kid).to_file(), f)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass                        # another process made it first: use theirs
    finally:
        os.unlink(tmp)
