"""WORK1 on a real gevent server: heavy work in one room does not hold up another
room's ops. The server logs (at DEBUG) when offloaded work starts and finishes; the
other room's op must be acknowledged in between."""
import io
import threading

import pytest
from PIL import Image

from tests.integration.conftest import Room, assert_no_crash_in_log, full_log, new_id, send_op
from tests.support import ServerProcess, stroke, wait_for


@pytest.fixture
def debug_server(tmp_path):
    srv = ServerProcess(tmp_path, env={"PLAYROOM_LOG_LEVEL": "DEBUG"}).start()
    yield srv
    srv.stop()
    assert_no_crash_in_log(srv)


def heavy_png():
    """A picture just under the 30-megapixel bound that compresses to a few hundred
    KB: cheap to send, long to verify, decode, scale and re-encode (UPL1)."""
    im = Image.new("RGB", (6000, 4990), (250, 240, 200))
    for x in range(0, 6000, 50):
        im.paste((x % 255, 90, 160), (x, 0, x + 10, 4990))
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=9)
    return buf.getvalue()


def test_WORK1_an_upload_being_decoded_does_not_hold_up_another_rooms_op(debug_server):
    busy, other = Room(debug_server), Room(debug_server)
    try:
        drawer = other.user("therapist")
        data = heavy_png()
        assert len(data) < 8 * 1024 * 1024
        token = busy.therapist.get("/uploads").json()["csrf"]
        answer = {}

        def upload():
            answer["r"] = busy.therapist.http.post(
                debug_server.url + "/uploads", headers={"X-CSRFToken": token},
                files={"file": ("big.png", data, "image/png")}, timeout=60)
        sender = threading.Thread(target=upload)
        sender.start()
        try:
            wait_for(lambda: "offload: sanitise started" in full_log(debug_server),
                     timeout=30, what="the upload's decoding to start")
            ack = send_op(drawer, "stroke", stroke(sid=new_id()))
            assert ack["ok"], ack
            # Acknowledged while the picture was still being decoded in the other room.
            assert "offload: sanitise finished" not in full_log(debug_server)
        finally:
            sender.join(60)
        assert answer["r"].status_code == 201, answer["r"].text
        assert "offload: sanitise finished" in full_log(debug_server)
    finally:
        busy.close()
        other.close()
