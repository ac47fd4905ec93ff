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
