"""rooms/store/crypto.py: sealed values open only unchanged, in their own place, with a
key the keyring holds; the key lives apart from the data (a 0600 file or the
environment's settings)."""
import base64
import json
import os
import stat
import threading

import pytest

from rooms.store.crypto import CryptoError, Keyring, load_keyring, read_keyring_file

KEY1, KEY2 = bytes(range(32)), bytes(range(32, 64))


@pytest.fixture
def ring():
    return Keyring({"k1": KEY1}, "k1")


def test_sealed_text_reads_back_and_hides_the_plaintext(ring):
    token = ring.seal_text("Sam ZEBRA-7", "participants.name|r1")
    assert "ZEBRA" not in token and "Sam" not in token
    assert ring.open_text(token, "participants.name|r1") == "Sam ZEBRA-7"


def test_sealing_twice_gives_different_ciphertexts(ring):
    """A fresh nonce each time: equal names do not show as equal ciphertexts."""
    assert ring.seal_text("Sam", "a") != ring.seal_text("Sam", "a")


def test_a_changed_byte_is_refused(ring):
    blob = bytearray(ring.seal(b"private note", "record_notes.text|rec1"))
    blob[-1] ^= 1
    with pytest.raises(CryptoError, match="altered"):
        ring.open(bytes(blob), "record_notes.text|rec1")


def test_a_value_moved_to_another_row_is_refused(ring):
    token = ring.seal_text("note of record 1", "record_notes.text|rec1")
    with pytest.raises(CryptoError, match="belongs elsewhere"):
        ring.open_text(token, "record_notes.text|rec2")


def test_an_unknown_key_id_is_a_clear_error(ring):
    other = Keyring({"k9": KEY2}, "k9")
    token = other.seal_text("x", "a")
    with pytest.raises(CryptoError, match="key 'k9'.*does not hold"):
        ring.open_text(token, "a")


def test_older_keys_still_open_after_a_new_one_is_current():
    old = Keyring({"k1": KEY1}, "k1").seal(b"picture", "p")
    ring = Keyring({"k1": KEY1, "k2": KEY2}, "k2")
    assert ring.open(old, "p") == b"picture"
    assert Keyring.key_id(ring.seal(b"picture", "p")) == "k2"


def test_plaintext_from_before_encryption_reads_as_it_was(ring):
    assert ring.open_text("Sam", "a") == "Sam"
    assert ring.open(b"\x89PNG...", "a") == b"\x89PNG..."
    assert ring.open_json([{"t": 1}], "a") == [{"t": 1}]


def test_the_default_key_file_is_made_once_with_mode_0600(tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path)}
    first = load_keyring(config)
    path = tmp_path / "data.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    second = load_keyring(config)
    assert second.current == first.current and second.keys == first.keys


def test_the_environment_key_is_used_and_nothing_is_written(tmp_path):
    ring = load_keyring({"INSTANCE_PATH": str(tmp_path),
                         "DATA_KEY": base64.b64encode(KEY2).decode()})
    assert list(ring.keys.values()) == [KEY2]
    assert not (tmp_path / "data.key").exists()


def test_a_short_environment_key_is_refused_with_the_reason(tmp_path):
    with pytest.raises(CryptoError, match="32 bytes"):
        load_keyring({"INSTANCE_PATH": str(tmp_path),
                      "DATA_KEY": base64.b64encode(b"short").decode()})


def test_a_key_file_path_may_hold_one_base64_key(tmp_path):
    """A secrets manager mount holding just the key."""
    path = tmp_path / "mounted.key"
    path.write_text(base64.b64encode(KEY1).decode() + "\n")
    ring = load_keyring({"INSTANCE_PATH": str(tmp_path), "DATA_KEY_FILE": str(path)})
    assert list(ring.keys.values()) == [KEY1]


def test_a_keyring_file_keeps_every_key_and_the_current_one(tmp_path):
    path = tmp_path / "ring.key"
    path.write_text(json.dumps(Keyring({"k1": KEY1, "k2": KEY2}, "k2").to_file()))
    ring = read_keyring_file(str(path))
    assert ring.current == "k2" and ring.keys == {"k1": KEY1, "k2": KEY2}


def test_workers_starting_together_all_get_the_one_key(tmp_path):
    """Several processes on one fresh instance folder: each reads a whole keyring, and
    it is the same one (the first one made), never a half-written file."""
    config = {"INSTANCE_PATH": str(tmp_path)}
    start = threading.Barrier(8)
    rings, errors = [], []

    def worker():
        start.wait()
        try:
            rings.append(load_keyring(config))
        except Exception as e:        # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({(r.current, r.keys[r.current]) for r in rings}) == 1
    assert os.listdir(tmp_path) == ["data.key"]
