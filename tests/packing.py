"""An independent decoder of packed number lists (JOIN2), written from the spec in
docs/PROTOCOL.md rather than imported from rooms/core/wire.py, so the tests check the
encoder against a second reading of the format."""
import base64
import struct

WIDTHS = {"b": 1, "h": 2, "i": 4}


def unpack_numbers(text):
    """`count:spec:base64` -> the list of numbers it stands for."""
    count, spec, b64 = text.split(":")
    data, count, stride = base64.b64decode(b64), int(count), len(spec) // 2
    out, at = [None] * count, 0
    for j in range(stride):
        scale, width = 10 ** int(spec[2 * j]), WIDTHS[spec[2 * j + 1]]
        q = struct.unpack_from("<i", data, at)[0]
        at += 4
        for i in range(j, count, stride):
            if i != j:
                q += int.from_bytes(data[at:at + width], "little", signed=True)
                at += width
            out[i] = q / scale
    return out


def unpacked(obj):
    """A decoded `state` payload with every packed list ({"#n": text}) expanded."""
    if isinstance(obj, list):
        return [unpacked(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if set(obj) == {"#n"}:
        return unpack_numbers(obj["#n"])
    return {k: unpacked(v) for k, v in obj.items()}
