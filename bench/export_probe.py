"""In-process export: time and peak memory of activities.canvas.render on the big
board, run by bench/run.py in a subprocess of its own (so the peak RSS is this
render's, not the harness's). Prints one JSON object.

    .venv/bin/python bench/export_probe.py STROKES REPS
"""
import io
import json
import os
import statistics
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (puts the repo root on sys.path)
from activities import canvas  # noqa: E402
from rooms.assets.pictures import Assets  # noqa: E402


def main():
    n, reps = int(sys.argv[1]), int(sys.argv[2])
    state = harness.board_state(harness.make_strokes(n))
    pid = os.getpid()

    # Peak RSS of one render + PNG encode, over what the process held before it.
    before = harness.rss_kib(pid)
    harness.reset_peak(pid)
    img = canvas.render(state, "p1", Assets(harness.ROOT))
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)   # as rooms/web/pages.py export_png
    peak_rss_delta = harness.status_kib(pid, "VmHWM") - before
    png_bytes = len(buf.getvalue())
    del img, buf

    render_s, encode_s = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        img = canvas.render(state, "p1", Assets(harness.ROOT))
        t1 = time.perf_counter()
        img.save(io.BytesIO(), "PNG", compress_level=1)
        render_s.append(t1 - t0)
        encode_s.append(time.perf_counter() - t1)
        del img

    # Python-heap peak (Pillow's pixel buffers are not traced: see the RSS figure).
    tracemalloc.start()
    canvas.render(state, "p1", Assets(harness.ROOT))
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(json.dumps({
        "strokes": n, "reps": reps,
        "render_ms": round(1000 * statistics.median(render_s), 1),
        "render_min_ms": round(1000 * min(render_s), 1),
        "png_encode_ms": round(1000 * statistics.median(encode_s), 1),
        "peak_rss_delta_mib": round(peak_rss_delta / 1024, 1),
        "tracemalloc_peak_kib": round(traced_peak / 1024, 1),
        "png_bytes": png_bytes,
    }))


if __name__ == "__main__":
    main()
