"""WIRE1-WIRE3 pieces without a server: the gate's verdicts, packet decoding, the
Engine.IO frame screen, op_id checks and the start-up checks of the library
internals the patches rely on (nothing here patches the pytest process)."""
import logging

import pytest
import socketio
from engineio import json as engineio_json

from rooms.core import fastjson
from rooms.transport import boundary
from activities.contract.protocol import LIMITS
from rooms.core.live import _size, is_op_id


class _Server:
    """What Gate.ours reads of a python-socketio server: its handlers."""
    handlers = {"/": {"op": 1, "sync": 1, "connect": 1, "disconnect": 1, "*": 1}}


def ours(data):
    gate = boundary.Gate.__new__(boundary.Gate)
    gate.server = _Server()
    return gate.ours(data)


@pytest.mark.parametrize("data", [["op"], ["op", {}], ["sync", None]])
def test_WIRE1_registered_events_with_one_argument_pass(data):
    assert ours(data)


@pytest.mark.parametrize("data", [
    ["connect", {"v": 1}], ["disconnect"], ["*"], ["message", "x"], ["json", {}],
    ["explode"], ["op", {}, 1], [], {"0": "op"}, "op", [1], [["op"]], None,
])
def test_WIRE1_reserved_unknown_or_malformed_events_are_refused(data):
    assert not ours(data)


def test_WIRE1_the_library_still_looks_as_the_gate_expects():
    boundary.check_library(socketio.Server(async_mode="threading"))


@pytest.mark.parametrize("module", [engineio_json, fastjson], ids=["library-json", "fastjson"])
def test_WIRE2_undecodable_packets_raise_one_kind_of_error(module):
    # The server's packets decode with fastjson (JSON1, app.py); the library's own
    # module is the one a bare python-socketio server uses.
    packets = boundary.checked_packets(type("P", (socketio.packet.Packet,), {"json": module}))
    for text in ('2["op",{', "2" + "[" * 100_000, '2["op",' + "1" * 400 + "]", "x", b"\x00"):
        with pytest.raises(boundary.Undecodable):
            packets(encoded_packet=text)
    assert packets(encoded_packet='2["op",{"a":1}]').data == ["op", {"a": 1}]


@pytest.mark.parametrize("text,ack_id", [
    ('21["op",{', 1), ('2/admin,17["op",', 17), ('51-3["op",{', 3), ('2["op",{', None), ("x", None),
])
def test_WIRE2_an_undecodable_packet_keeps_the_ack_id_its_header_names(text, ack_id):
    packets = boundary.checked_packets(socketio.packet.Packet)
    with pytest.raises(boundary.Undecodable) as e:
        packets(encoded_packet=text + "\x00")
    assert e.value.id == ack_id


def test_WIRE2_an_attachment_a_placeholder_cannot_name_is_undecodable():
    packets = boundary.checked_packets(socketio.packet.Packet)
    pkt = packets(encoded_packet='51-4["op",{"_placeholder":true,"num":7}]')
    with pytest.raises(boundary.Undecodable) as e:
        pkt.add_attachment(b"\x01")
    assert e.value.id == 4


def test_WIRE2_log_lines_name_a_nested_value_by_its_type():
    """The fuzzer's one traceback (threading): a guest's refused `control` with an
    `action` nested ~950 deep was logged with %r, whose repr hit the recursion limit."""
    from rooms.transport.hub import log_label
    deep = []
    for _ in range(5000):
        deep = [deep]
    assert log_label(deep) == "<list>" and log_label({"a": deep}) == "<dict>"
    assert log_label("view") == "'view'" and log_label(None) == "None"
    assert len(log_label("x" * 500)) <= 60 and log_label(10 ** 400) == "<int>"


def test_WIRE2_event_labels_echo_only_plain_names():
    assert boundary.event_label("disconnect") == "disconnect"
    for odd in (None, 1, "x" * 41, "\ud800", "a\nb", b"op"):
        assert boundary.event_label(odd) == "unknown"


def test_WIRE2_log_lines_about_abuse_are_rate_limited(caplog):
    budget = boundary.LogBudget(logging.getLogger("test.boundary"), rate=0.001, burst=3)
    with caplog.at_level(logging.WARNING, "test.boundary"):
        for _ in range(1000):
            budget.warning("bad packet %s", "x")
    assert len(caplog.records) == 3
    assert budget.suppressed == 997


@pytest.mark.parametrize("frame,ok", [
    ("4" + '2["op"]', True), ("2", True), ("3", True), (b"\x00", True),
    ("", False), ("x", False), ("b!!", False), ("9", False), ("\u0663", False),
])
def test_WIRE2_engineio_frames_are_screened(frame, ok):
    assert boundary.engineio_frame_ok(frame) is ok


def test_WIRE2_a_screened_websocket_ends_at_garbage():
    class WS:
        frames = ["40{}", "x", "42[]"]
        _sock = "the socket"

        def wait(self):
            return self.frames.pop(0)

    ws = boundary.ScreenedFrames(WS())
    assert ws.wait() == "40{}"
    assert ws.wait() is None
    assert ws._sock == "the socket"


def test_WIRE2_op_ids_are_short_utf8_strings():
    assert is_op_id("op-1") and is_op_id("ü" * LIMITS["op_id_chars"])
    for bad in ("", "x" * (LIMITS["op_id_chars"] + 1), "\ud800", b"op", 12, None, ["op"]):
        assert not is_op_id(bad)


def test_WIRE2_a_payload_too_deep_to_measure_is_too_large():
    deep = []
    for _ in range(100_000):
        deep = [deep]
    assert _size({"d": deep}) > LIMITS["op_bytes"]
    assert _size({"d": [1, 2]}) == len('{"d":[1,2]}')


def test_WIRE3_simple_websocket_still_looks_as_the_patch_expects():
    from rooms.transport.server import _check_simple_websocket
    _check_simple_websocket()


def test_WIRE3_whole_writes_finish_every_write():
    from rooms.transport.server import _WholeWrites

    class Sock:
        sent = []

        def sendall(self, data):
            self.sent.append(data)

        def fileno(self):
            return 7

    s = _WholeWrites(Sock())
    assert s.send(b"x" * 10_000_000) == 10_000_000
    assert Sock.sent == [b"x" * 10_000_000] and s.fileno() == 7


def test_WIRE1_a_socket_the_hub_forgets_leaves_every_group_of_its_room(app):
    """The server's record (Hub.conns) decides broadcast membership: once it drops a
    socket's record, the socket is in none of the room's groups, whatever else still
    holds the connection open."""
    from flask import request
    from rooms.transport.hub import Allowance, Conn, host_key, lobby_key, room_key
    hub = app.extensions["playroom"].hub
    server = hub.socketio.server
    sid = server.manager.connect("eio-1", "/")
    hub.conns[sid] = Conn(sid, "r1", {"id": "th-1", "role": "therapist"}, Allowance())
    for key in (room_key("r1"), host_key("r1"), lobby_key("r1")):
        server.enter_room(sid, key, namespace="/")
    with app.test_request_context():
        request.sid = sid
        hub.on_disconnect()
    assert sid not in hub.conns
    assert server.manager.get_rooms(sid, "/") == [sid]    # its own room only


def test_the_length_of_the_packet_is_known_to_its_handler_only():
    """Gate.on_message tells the handler of a packet how long it was (an op far below
    the size limit is then not encoded to be measured); for another socket, or once
    the packet is handled, it is unknown."""
    seen = []
    gate = boundary.Gate.__new__(boundary.Gate)
    gate.second_connect = lambda eio_sid, data: False
    gate.server = type("S", (), {"_binary_packet": {}})()
    gate._on_message = lambda eio_sid, data: seen.append(
        (boundary.packet_chars(eio_sid), boundary.packet_chars("another socket")))
    packet = '42["op",{"op_id":"x","d":"😀"}]'
    gate.on_message("sid-1", packet)
    assert seen == [(len(packet), None)]
    assert boundary.packet_chars("sid-1") is None
    gate.on_message("sid-1", b"\x01\x02")            # (a binary attachment: no length told)
    assert seen[-1] == (None, None)


RECV2_PACKETS = [
    '2["eph",{"a":"canvas","k":"cursor"}]',      # the fast path's own: handled at once
    '2["eph",{"x":"Zoë 🦊"}]',
    '2["eph"]',                                   # no argument: handler(sid)
    '2["eph",{"a":1},2]',                         # two arguments: refused
    '2["nope",{}]', '2["disconnect"]', '2["message","x"]', '2[1]', "2[]", '2["eph",',
    '2["eph",{"x":NaN}]',                         # read as engine.io read it (JSON1)
    '2["eph",' + "[" * 2000 + "]" * 2000 + "]",
    '21["eph",{"a":"canvas"}]',                   # asks for an ack: the library's path
    '2/admin,["eph",{}]', '0', '1',
]


def _recv2_run(app, monkeypatch, packets, fast, eio_sid="eio-r2"):
    """Feed packets to the app's Gate as engine.io would; what reached a handler,
    what was refused and what was sent back, in order."""
    hub = app.extensions["playroom"].hub
    server, gate = hub.socketio.server, hub.gate
    seen = []
    monkeypatch.setitem(server.handlers["/"], "eph",
                        lambda sid, *args: seen.append(("eph", sid, args,
                                                        boundary.packet_chars(eio_sid))))
    monkeypatch.setattr(gate, "refuse", lambda sid, label, reason: seen.append(
        ("refused", sid, label, reason)) or {"ok": False, "code": "bad_event"})
    monkeypatch.setattr(server, "_send_packet", lambda to, pkt: seen.append(
        ("sent", to, pkt.packet_type, pkt.id, pkt.data)))
    if not fast:
        monkeypatch.setattr(gate, "dispatched", lambda eio_sid, data: False)
    sid = server.manager.connect("eio-r2", "/")
    out = []
    for p in packets:
        seen.clear()
        gate.on_message(eio_sid, p)
        out.append((p[:30], [tuple("SID" if x == sid else x for x in e) for e in seen]))
    server.manager.disconnect(sid, "/", ignore_queue=True)
    return out


def test_RECV2_an_event_without_an_ack_reaches_its_handler_as_through_the_library(app, monkeypatch):
    """Every packet gets the same handling (the handler's arguments, the packet's
    length known to it, refusals, acks) with the fast path as through python-socketio's
    dispatch — and the fast path did take the events it is for."""
    with monkeypatch.context() as m:
        slow = _recv2_run(app, m, RECV2_PACKETS, fast=False)
    taken = []
    gate = app.extensions["playroom"].hub.gate
    real = gate.dispatched
    monkeypatch.setattr(gate, "dispatched", lambda *a: taken.append(real(*a)) or taken[-1])
    fast = _recv2_run(app, monkeypatch, RECV2_PACKETS, fast=True)
    assert fast == slow
    assert fast[0][1][0][0] == "eph" and fast[0][1][0][3] == len(RECV2_PACKETS[0])
    # the three events it is for, and the NaN one (which the handler then refuses)
    assert [RECV2_PACKETS[i] for i, t in enumerate(taken) if t] == RECV2_PACKETS[:3] + [RECV2_PACKETS[10]]


def test_RECV2_a_socket_not_connected_gets_nothing_through_the_fast_path(app, monkeypatch):
    assert _recv2_run(app, monkeypatch, ['2["eph",{"a":"canvas"}]'], fast=True, eio_sid="eio-gone") \
        == _recv2_run(app, monkeypatch, ['2["eph",{"a":"canvas"}]'], fast=False, eio_sid="eio-gone") \
        == [('2["eph",{"a":"canvas"}]', [])]


def test_RECV2_the_bench_switch_sends_every_event_the_librarys_way(app, monkeypatch):
    gate = app.extensions["playroom"].hub.gate
    called = []
    monkeypatch.setattr(gate, "dispatched", lambda *a: called.append(a) or True)
    monkeypatch.setattr(gate, "fast", False)              # PLAYROOM_DIRECT_EVENTS=0
    _recv2_run(app, monkeypatch, RECV2_PACKETS[:1], fast=True)
    assert called == []
