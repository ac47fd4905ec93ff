"""rooms/transport/hub.TextPacket: the text-only fast path still sends what the library
would, binary attachments included (issue 18 part 5: the protocol suites' binary
tests got nothing at all, the emit raised "bytes is not JSON serializable")."""
import pytest
from socketio import packet as sio_packet

from rooms.transport.boundary import checked_packets
from rooms.transport.hub import TextPacket

# The class the server really uses: the Gate wraps the Hub's TextPacket.
SERVER_PACKET = checked_packets(TextPacket)

CASES = [
    (sio_packet.EVENT, ["message-back", b"\x01\x02\x03", {"n": [b"\x04\x05\x06"]}], None),
    (sio_packet.ACK, [b"\x01\x02\x03", b"\x04\x05\x06"], 789),
    (sio_packet.EVENT, ["op", {"seq": 3, "points": [1, 2, 3]}], None),     # plain text
    (sio_packet.ACK, [{"ok": True, "seq": 4}], 12),
]


@pytest.mark.parametrize("kind,data,ack_id", CASES)
def test_sends_what_the_library_sends(kind, data, ack_id):
    ours = SERVER_PACKET(kind, data=data, namespace="/", id=ack_id).encode()
    library = sio_packet.Packet(kind, data=data, namespace="/", id=ack_id).encode()
    assert ours == library


def test_binary_event_goes_out_as_header_and_attachments():
    encoded = SERVER_PACKET(sio_packet.EVENT, data=["x", b"\x01"], namespace="/").encode()
    assert encoded == ['51-["x",{"_placeholder":true,"num":0}]', b"\x01"]


def test_what_json_cannot_carry_still_fails_loudly():
    with pytest.raises(TypeError):
        SERVER_PACKET(sio_packet.EVENT, data=["x", {1, 2}], namespace="/").encode()


# An op broadcast is encoded around the stored text of its `d` (rooms/core/live.public_op):
# byte for byte what the library would send for the same dict.
OPS = [
    {"page": "p1", "id": "s1", "tool": "pen", "color": "#e53935", "size": 8,
     "pts": [812.3, 500.0, 0.5, 1e15, -0.0, 3]},
    {"text": "Zoë 👋 \u007f \"quoted\" \\ \n", "nested": {"a": [True, False, None]}},
    {},
]


@pytest.mark.parametrize("d", OPS, ids=["stroke", "unicode", "empty"])
def test_an_op_broadcast_is_the_text_the_library_would_send(d):
    from rooms.core.live import _dumps, public_op
    op = public_op(41, "canvas", "stroke", d, _dumps(d), "p-1", "op-\u00e9", "do")
    assert dict(op) == {"seq": 41, "a": "canvas", "t": "stroke", "by": "p-1", "op_id": "op-\u00e9",
                        "kind": "do", "d": d}
    ours = SERVER_PACKET(sio_packet.EVENT, data=["op", op], namespace="/").encode()
    library = sio_packet.Packet(sio_packet.EVENT, data=["op", dict(op)], namespace="/").encode()
    assert ours == library
    # (the text is used only for a plain event broadcast: an ack of it is encoded)
    acked = SERVER_PACKET(sio_packet.ACK, data=[op], namespace="/", id=7).encode()
    assert acked == sio_packet.Packet(sio_packet.ACK, data=[dict(op)], namespace="/", id=7).encode()


def test_an_op_caught_up_from_the_log_has_the_keys_of_the_committed_one_in_order():
    """Another process sends an op it caught up on from the log (SCALE2): the same
    text as the committing process, so every recipient gets the same bytes."""
    from rooms.core.live import _dumps, public_op
    from rooms.core.session import RoomControl
    d = OPS[0]
    committed = public_op(7, "canvas", "stroke", d, _dumps(d), "p-1", "op-1", "do")
    stored = {"seq": 7, "a": "canvas", "t": "stroke", "d": d, "by": "p-1", "op_id": "op-1",
              "kind": "do", "at": 123.0}
    caught_up = RoomControl._public(stored)
    assert list(caught_up.items()) == list(committed.items())
    assert sio_packet.Packet(sio_packet.EVENT, data=["op", caught_up], namespace="/").encode() == \
        SERVER_PACKET(sio_packet.EVENT, data=["op", committed], namespace="/").encode()
