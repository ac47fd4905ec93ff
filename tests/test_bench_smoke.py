"""The benchmark harness works: `make bench-quick` runs end to end and reports
numbers for every part. It checks that the numbers exist, never how fast they are
(speed is judged from bench/ output, not by assertions)."""
import json
import os
import subprocess

import pytest

from app import DEFAULT_ASYNC_MODE
from tests.support import ROOT

pytestmark = pytest.mark.timeout(300)


def positive(x):
    return isinstance(x, (int, float)) and x > 0


def test_bench_quick_produces_numbers_for_every_part(tmp_path):
    out = tmp_path / "bench.json"
    run = subprocess.run(["make", "--no-print-directory", "bench-quick", f"BENCH_ARGS=--json-out {out}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=280,
                         env={**os.environ, "CI": os.environ.get("CI", "")})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "max rooms" in run.stdout              # the readable table was printed
    data = json.loads(out.read_text())
    assert data["errors"] == []
    assert list(data["modes"]) == [DEFAULT_ASYNC_MODE]     # quick: the app's default mode
    default = data["modes"][DEFAULT_ASYNC_MODE]
    steps = default["relay"]["steps"]
    assert steps and all(positive(s["preview_ms"]["p50"]) and positive(s["msgs_per_s"])
                         and positive(s["us_per_msg"]) and positive(s["server_rss_mib"])
                         for s in steps)
    assert data["reference"]["relay"]["steps"]
    join = default["join"]
    assert positive(join["p50_ms"]) and positive(join["state_bytes"]) and join["items"] == join["strokes"]
    assert positive(data["export_inprocess"]["render_ms"])
    assert positive(default["idle"]["kib_per_conn"])
    # Issue 18: long-polling clients, two processes behind nginx against one, before/after.
    assert all(positive(s["us_per_msg"]) for s in default["polling"]["steps"])
    scale = default["scaleout"]["websocket"]
    assert positive(scale["two_over_one"]) and all(
        positive(scale[k]["us_per_msg"]) for k in ("sqlite, 1 process", "redis, 1 process",
                                                  "redis, 2 processes behind nginx"))
    assert all(positive(row[k]["us_per_msg"]) for row in default["ab"]["steps"] for k in ("before", "after"))
    assert "targets (issue 18)" in run.stdout and "before -> after" in run.stdout
    noisy = default["noisy"]             # the quiet room was measured under each abuse
    assert "noisy neighbour" in run.stdout
    assert noisy["abuses"] and all(positive(a["quiet"]["ack_ms"]["p50"]) and positive(a["quiet"]["http_ms"]["p50"])
                                   and positive(a["server"]["peak_rss_mib"]) and isinstance(a["pass"], bool)
                                   for a in noisy["abuses"])
