"""Playroom benchmark: relay sweep, late join of a big board, PNG export, idle
memory, noisy neighbour (bench/noisy.py), for each async mode, and the same relay
sweep against a minimal Node socket.io relay (bench/reference/).

    .venv/bin/python bench/run.py [--quick] [--modes eventlet,gevent,threading]
                                  [--only relay,join,export,idle,reference,noisy]
                                  [--abuses clock,op,...] [--json-out PATH]

The server runs on core 0 and the Node load generator (bench/loadgen.mjs) on core 1.
Progress goes to stderr, the table to stdout, and everything measured to
bench/results/<timestamp>.json (or --json-out). Exit status 1 if a part failed.
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import noisy  # noqa: E402
from harness import log  # noqa: E402

MODES = ("gevent", "eventlet", "threading")     # the app's default first
PARTS = ("relay", "join", "export", "idle", "reference", "noisy", "polling", "scaleout", "ab")
# The "before" of the A/B part: issue 18's changes on the relay and the first paint
# switched off (FRAME1: each recipient frames its message; DIRECT1: each socket's
# writer task writes it; RECV1: wsproto parses every incoming frame; PAINT1: no picture;
# JSON1: the standard library's JSON; RECV2: every event through python-socketio's dispatch).
BEFORE_ENV = {"PLAYROOM_SHARED_FRAMES": "0", "PLAYROOM_DIRECT_WRITES": "0", "PLAYROOM_FAST_RECEIVE": "0",
              "PLAYROOM_FIRST_PICTURES": "0", "PLAYROOM_FAST_JSON": "0", "PLAYROOM_DIRECT_EVENTS": "0"}
P99_LIMIT_MS = 50.0
DELIVERY_MIN = 0.99          # share of chunks / ops sent in the window that must arrive

FULL = {"steps": [5, 10, 20, 40, 60, 80, 100, 120, 150, 200, 250, 300, 400, 500],
        "warmup_s": 3, "measure_s": 10, "drain_s": 2, "board": 5000, "joins": 20,
        "idle_rooms": 333, "export_reps": 3, "http_export_reps": 3, "paint": True,
        "modes": list(MODES), "steps_past_limit": 2, "retry_failed_step": 2, "idle_settle_s": 3,
        "quiet_wait_s": 120, "noisy": noisy.FULL,
        "polling_steps": [5, 10, 20, 40, 60, 80, 100, 120, 150, 200], "scaleout_rooms": 20,
        "scaleout_transports": ["websocket", "polling"], "ab_steps": [20, 100]}
QUICK = {"steps": [5, 20], "warmup_s": 1, "measure_s": 3, "drain_s": 1, "board": 1000, "joins": 3,
         "idle_rooms": 50, "export_reps": 1, "http_export_reps": 1, "paint": False,
         "modes": [MODES[0]], "steps_past_limit": 0, "retry_failed_step": 0, "idle_settle_s": 1,
         "quiet_wait_s": 0, "noisy": noisy.QUICK,
         "polling_steps": [5], "scaleout_rooms": 2, "scaleout_transports": ["websocket"],
         "ab_steps": [5]}
RELAY = {"sender_role": "child", "interval_ms": 1000 / 30, "points_per_chunk": 8,
         "commit_every_ms": 2000, "receivers": "raw"}


# ---------------------------------------------------------------- relay

def wait_quiet(max_s, limit_pct=15.0):
    """Wait (at most max_s) until other jobs on this machine use under limit_pct of
    a core, so they do not distort a step. Returns (seconds waited, last busy %)."""
    t0 = time.monotonic()
    while True:
        b0 = h.busy_seconds()
        time.sleep(1.0)
        busy = 100 * (h.busy_seconds() - b0)
        waited = time.monotonic() - t0
        if busy < limit_pct or waited >= max_s:
            if waited > 1.5:
                log(f"  waited {waited:.0f} s for other jobs on this machine (now {busy:.0f}% CPU)")
            return round(waited, 1), round(busy, 1)
        if waited < 1.5:
            log(f"  other jobs use {busy:.0f}% CPU: waiting up to {max_s} s for a quiet machine ...")


def relay_step(kind, mode, rooms_n, cfg, pop, root, env=None, transports=None):
    """One point of the sweep on a fresh server (and, for Playroom, a fresh copy
    of the database). Returns the step's numbers. `env`: the server's A/B switches;
    `transports` ["polling"]: long-polling clients."""
    step = {"rooms": rooms_n}
    try:
        if kind == "playroom":
            pop.ensure(rooms_n)
            workdir = pop.copy(root, f"{mode}-{rooms_n}")
            rooms = pop.plan_rooms(rooms_n)
        else:
            workdir = tempfile.mkdtemp(prefix=f"ref-{rooms_n}-", dir=root)
            rooms = h.reference_rooms(rooms_n)
    except Exception as e:
        step["error"] = f"set-up: {type(e).__name__}: {e}"[:500]
        return step
    if cfg["quiet_wait_s"]:
        step["quiet_wait_s"], step["busy_before_pct"] = wait_quiet(cfg["quiet_wait_s"])
    srv = h.Server(kind, workdir, mode, env)
    try:
        srv.start()
        plan = {"mode": "relay", "url": srv.url, "run_id": f"{time.time_ns() % 10**8:x}",
                "rooms": rooms, "connect_concurrency": 16,
                **({"transports": transports} if transports else {}),
                "relay": {**RELAY, "warmup_s": cfg["warmup_s"], "measure_s": cfg["measure_s"],
                          "drain_s": cfg["drain_s"]}}
        budget = 60 + rooms_n * 0.3 + cfg["warmup_s"] + cfg["measure_s"] + cfg["drain_s"]
        c0 = t0 = None
        with h.Loadgen(plan, root, budget) as lg:
            for ev in lg.events():
                if ev["event"] == "measure_start":
                    c0, t0, b0 = h.cpu_seconds(srv.pid), time.monotonic(), h.busy_seconds()
                elif ev["event"] == "measure_end" and c0 is not None:
                    cpu = h.cpu_seconds(srv.pid) - c0
                    wall = time.monotonic() - t0
                    step["server_cpu_pct"] = 100 * cpu / wall
                    step["server_cpu_s"] = cpu
                    step["machine_busy_pct"] = 100 * (h.busy_seconds() - b0) / wall
                    step["server_rss_mib"] = h.rss_kib(srv.pid) / 1024
                elif ev["event"] == "result":
                    result = ev
        if result.get("error"):
            step["error"] = result["error"][:500]
            return step
        step.update({k: result[k] for k in ("preview_ms", "op_ms", "ack_ms", "send_lag_ms", "sent",
                                            "delivered", "loadgen", "errors", "op_refused",
                                            "unknown_chunks", "error_samples", "connect_s")})
        # CPU used by anything but the server and the load generator (other jobs on
        # this machine make a step fail for reasons that are not the server's).
        step["other_cpu_pct"] = max(0.0, step["machine_busy_pct"] - step["server_cpu_pct"]
                                    - result["loadgen"]["cpu_pct"])
        msgs = result["delivered"]["msgs"]
        step["msgs_per_s"] = result["delivered"]["msgs_per_s"]
        step["us_per_msg"] = 1e6 * step["server_cpu_s"] / msgs if msgs else None
        judge(step)
        return step
    except Exception as e:  # a broken step ends the sweep, not the run
        step["error"] = f"{type(e).__name__}: {e}"[:500]
        return step
    finally:
        srv.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def judge(step):
    """ok when preview p99 < 50 ms, (nearly) everything sent arrived, and the load
    generator kept its schedule (else the number says nothing about the server)."""
    d, why = step["delivered"], []
    p99 = step["preview_ms"]["p99"]
    if p99 is None or p99 >= P99_LIMIT_MS:
        why.append(f"preview p99 {p99} ms")
    if (d["chunk_ratio"] or 0) < DELIVERY_MIN:
        why.append(f"previews delivered {d['chunk_ratio']:.1%}")
    if d["op_ratio"] is not None and d["op_ratio"] < DELIVERY_MIN:
        why.append(f"ops delivered {d['op_ratio']:.1%}")
    if step["errors"] or step["op_refused"]:
        why.append(f"{step['errors']} error events, {step['op_refused']} ops refused")
    lg = step["loadgen"]
    sent = step["sent"]
    step["loadgen_limited"] = sent["chunks_per_s"] < 0.95 * sent["planned_chunks_per_s"] or \
        lg["event_loop_util"] > 0.85 or (step["send_lag_ms"]["p99"] or 0) > 15
    if step["loadgen_limited"]:
        why.append("load generator behind its schedule")
    step["ok"] = not why
    step["why"] = "; ".join(why)


def sweep(kind, mode, cfg, pop, root, transports=None):
    """Raise R until a step fails; max_rooms is the last R before the first failure.
    After a latency-only failure, up to `steps_past_limit` more steps still run
    (marked past_limit) to show how latency and CPU per message scale."""
    label = (mode if kind == "playroom" else "reference") + (" polling" if transports else "")
    steps, best, failed, past = [], 0, None, 0
    for n in cfg["steps"]:
        log(f"[{label}] relay R={n} ({3 * n} sockets){' (past the limit)' if failed else ''} ...")
        st = relay_step(kind, mode, n, cfg, pop, root, transports=transports)
        attempts = []
        while not failed and not st.get("ok") and len(attempts) < cfg["retry_failed_step"]:
            # Retry, so a passing hiccup of this shared VM (or another job on it) does
            # not end the sweep; the best attempt counts.
            log("  " + step_line(st))
            log(f"[{label}] relay R={n}: again, to confirm ...")
            attempts.append(st)
            st = relay_step(kind, mode, n, cfg, pop, root, transports=transports)
        if attempts:
            # The best attempt counts (ok first, then the lowest preview p99).
            def rank(x):
                p99 = (x.get("preview_ms") or {}).get("p99")
                return (not x.get("ok"), p99 if p99 is not None else float("inf"))
            tries = attempts + [st]
            st = min(tries, key=rank)
            st["earlier_attempts"] = [x for x in tries if x is not st]
        st["past_limit"] = bool(failed)
        steps.append(st)
        log("  " + step_line(st))
        if failed:
            past += 1
        elif st.get("ok"):
            best = n
            continue
        else:
            failed = st
        latency_only = st.get("why", "").startswith("preview p99") and ";" not in st.get("why", "")
        if not latency_only or past >= cfg["steps_past_limit"]:
            break
    floor = None
    if best == 0 and cfg["steps"][0] > 1:
        log(f"[{label}] first step failed: floor probe with R=1 ...")
        floor = relay_step(kind, mode, 1, cfg, pop, root, transports=transports)
        log("  " + step_line(floor))
    limit = next((s for s in steps if s.get("loadgen_limited")), None)
    return {"steps": steps, "max_rooms": best, "floor_probe": floor,
            "sweep_exhausted": failed is None,
            "stopped_by": (failed.get("why") or failed.get("error")) if failed else None,
            "loadgen_limited_at": limit["rooms"] if limit else None}


def step_line(s):
    if s.get("error"):
        return f"R={s['rooms']}: ERROR {s['error']}"
    p, o = s["preview_ms"], s["op_ms"]
    return (f"R={s['rooms']}: preview p50/p99/max {p['p50']:.1f}/{p['p99']:.1f}/{p['max']:.1f} ms, "
            f"op p99 {fmt(o['p99'])} ms, {s['msgs_per_s']:.0f} msg/s, server CPU "
            f"{s['server_cpu_pct']:.0f}% ({fmt(s['us_per_msg'], 0)} µs/msg), RSS {s['server_rss_mib']:.0f} MiB, "
            f"loadgen CPU {s['loadgen']['cpu_pct']:.0f}%, other CPU {s['other_cpu_pct']:.0f}% "
            f"-> {'ok' if s['ok'] else 'STOP: ' + s['why']}")


# ---------------------------------------------------------------- join + HTTP export

def join_part(mode, cfg, board, root, do_export):
    src, room_id, th = board
    workdir = h.copy_dir(src, root, f"join-{mode}")
    srv = h.Server("playroom", workdir, mode)
    out = {"strokes": cfg["board"], "points_per_stroke": 100}
    try:
        srv.start()
        th.base = srv.url
        if cfg["joins"]:
            join_measure(mode, cfg, srv, room_id, th, root, out)
        if cfg["paint"]:
            log(f"[{mode}] first full paint in Chromium ...")
            try:
                import paint
                out["paint"] = paint.measure(srv.url, room_id, th.http.cookies, cfg["board"])
                out["paint_all_cores"] = paint.measure(srv.url, room_id, th.http.cookies, cfg["board"],
                                                       all_cores=True)
            except Exception as e:
                out["paint"] = {"status": "n/a", "reason": f"{type(e).__name__}: {e}"[:300]}
            log(f"  paint: {out['paint']}; all cores: {out.get('paint_all_cores')}")
        else:
            out["paint"] = {"status": "n/a", "reason": "skipped (--quick)"}
        if do_export:
            out["export_http"] = http_export(mode, srv, th, room_id, cfg)
    except Exception as e:
        out["error"] = f"{type(e).__name__}: {e}"[:500]
    finally:
        srv.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return out


def join_measure(mode, cfg, srv, room_id, th, root, out):
    plan = {"mode": "join", "url": srv.url,
            "join": {"room": room_id, "cookie": th.cookie_header(), "joins": cfg["joins"],
                     "cold": 1, "timeout_s": 120}}
    log(f"[{mode}] join: 1 cold + {cfg['joins']} joins of the {cfg['board']}-stroke board ...")
    with h.Loadgen(plan, root, 120 * (cfg["joins"] + 1)) as lg:
        result = list(lg.events())[-1]
    if result.get("error"):
        out["error"] = result["error"][:500]
    else:
        out.update({"cold_ms": result["cold"][0]["total_ms"], "p50_ms": result["total_ms"]["p50"],
                    "p90_ms": result["total_ms"]["p90"], "max_ms": result["total_ms"]["max"],
                    "joins": result["total_ms"]["n"], "state_bytes": result["bytes"],
                    "items": result["items"], "server_rss_mib": h.rss_kib(srv.pid) / 1024})
        log(f"  cold {out['cold_ms']:.0f} ms, p50 {out['p50_ms']:.0f} ms, state "
            f"{out['state_bytes'] / 1e6:.2f} MB, items {out['items']}")


def http_export(mode, srv, th, room_id, cfg):
    log(f"[{mode}] HTTP export /rooms/<id>/export/canvas/p1.png x{cfg['http_export_reps']} ...")
    rss0 = h.rss_kib(srv.pid)
    h.reset_peak(srv.pid)
    times, size = [], None
    for _ in range(cfg["http_export_reps"]):
        t0 = time.perf_counter()
        r = th.http.get(f"{srv.url}/rooms/{room_id}/export/canvas/p1.png", timeout=120)
        times.append(1000 * (time.perf_counter() - t0))
        if r.status_code != 200:
            return {"error": f"HTTP {r.status_code}"}
        size = len(r.content)
    out = {"p50_ms": round(statistics.median(times), 1), "first_ms": round(times[0], 1),
           "png_bytes": size,
           "server_peak_rss_delta_mib": round((h.status_kib(srv.pid, "VmHWM") - rss0) / 1024, 1)}
    log(f"  {out}")
    return out


def export_inprocess(cfg, root):
    log(f"[export] activities.canvas.render in-process, {cfg['board']} strokes ...")
    r = subprocess.run([sys.executable, os.path.join(h.BENCH, "export_probe.py"), str(cfg["board"]),
                        str(cfg["export_reps"])], capture_output=True, text=True, timeout=600, cwd=h.ROOT)
    if r.returncode != 0:
        return {"error": r.stderr[-500:]}
    out = json.loads(r.stdout.strip().splitlines()[-1])
    log(f"  {out}")
    return out


# ---------------------------------------------------------------- A/B, scale-out

def ab_part(mode, cfg, pop, root, board):
    """Issue 18's before and after in this run, on the same machine minutes apart:
    the server with FRAME1 and PAINT1 switched off (BEFORE_ENV) and on, alternately,
    at a few relay loads, and the first paint of the big board."""
    out = {"steps": [], "paint": {}, "before_env": BEFORE_ENV}
    for n in cfg["ab_steps"]:
        row = {"rooms": n}
        for name, env in (("before", BEFORE_ENV), ("after", {})):
            log(f"[{mode}] A/B {name}: relay R={n} ...")
            row[name] = relay_step("playroom", mode, n, cfg, pop, root, env=env)
            log("  " + step_line(row[name]))
        out["steps"].append(row)
    if cfg["paint"] and board is not None:
        src, room_id, th = board
        import paint
        for name, env in (("before", BEFORE_ENV), ("after", {})):
            log(f"[{mode}] A/B {name}: first full paint ...")
            workdir = h.copy_dir(src, root, f"ab-{mode}-{name}")
            srv = h.Server("playroom", workdir, mode, env)
            try:
                srv.start()
                th.base = srv.url
                out["paint"][name] = {
                    "one_core": paint.measure(srv.url, room_id, th.http.cookies, cfg["board"]),
                    "all_cores": paint.measure(srv.url, room_id, th.http.cookies, cfg["board"],
                                               all_cores=True)}
            except Exception as e:
                out["paint"][name] = {"error": f"{type(e).__name__}: {e}"[:300]}
            finally:
                srv.stop()
                shutil.rmtree(workdir, ignore_errors=True)
            log(f"  {out['paint'][name]}")
    return out


def scaleout_part(mode, cfg, root):
    """Server CPU per delivered message with REDIS_URL and two processes behind the
    documented nginx against one process alone (bench/scaleout.py), for WebSocket
    and for long-polling clients."""
    import scaleout
    out = {}
    for name in cfg["scaleout_transports"]:
        transports = ["polling"] if name == "polling" else None
        log(f"[{mode}] scale-out ({name}): {cfg['scaleout_rooms']} rooms per process, SQLite / Redis x1 / "
            "Redis x2 behind nginx ...")
        try:
            out[name] = scaleout.run(mode, cfg["scaleout_rooms"], cfg["measure_s"], root, transports)
        except Exception as e:
            out[name] = {"error": f"{type(e).__name__}: {e}"[:500]}
        for line in scaleout.lines(out[name]):
            log(line)
    return out


def at_max(rel):
    """The sweep's step at its max-rooms point (None when nothing passed)."""
    return next((s for s in rel["steps"] if s["rooms"] == rel["max_rooms"] and s.get("ok")), None)


def targets(res):
    """Issue 18's targets against this run's figures (lines for the table)."""
    lines = ["", "== targets (issue 18) =="]
    ref = (res.get("reference") or {}).get("relay")
    ref_step = at_max(ref) if ref else None
    for mode, m in res["modes"].items():
        rel = m.get("relay")
        if rel:
            st = at_max(rel)
            us = st["us_per_msg"] if st else None
            part = f"  {mode}: relay {rel['max_rooms']} rooms"
            if ref and ref["max_rooms"]:
                part += f" = {rel['max_rooms'] / ref['max_rooms']:.2f} x the reference's {ref['max_rooms']} (target >= 0.6)"
            part += f"; {fmt(us, 0)} µs of server CPU per delivered message at that point (target <= 60)"
            if us and ref_step and ref_step.get("us_per_msg"):
                part += f", {us / ref_step['us_per_msg']:.1f} x the reference's {ref_step['us_per_msg']:.0f}"
            lines.append(part)
        pa = (m.get("join") or {}).get("paint_all_cores") or {}
        if pa.get("status") == "ok":
            lines.append(f"  {mode}: first full paint on both cores {pa['paint_ms']:.0f} ms (target <= 1000)")
        for name, so in (m.get("scaleout") or {}).items():
            if so.get("two_over_one"):
                lines.append(f"  {mode}: scale-out ({name}) two processes / one {so['two_over_one']:.2f} "
                             "(target <= 1.25)")
        pol = m.get("polling")
        if pol:
            st = at_max(pol)
            lines.append(f"  {mode}: long-polling {pol['max_rooms']} rooms, "
                         f"{fmt(st['us_per_msg'] if st else None, 0)} µs per delivered message there (no target)")
    return lines


# ---------------------------------------------------------------- idle

def idle_part(mode, cfg, pop, root):
    n = cfg["idle_rooms"]
    out = {"rooms": n}
    try:
        pop.ensure(n)
    except Exception as e:
        out["error"] = f"set-up: {type(e).__name__}: {e}"[:500]
        return out
    workdir = pop.copy(root, f"idle-{mode}")
    srv = h.Server("playroom", workdir, mode)
    try:
        srv.start()
        time.sleep(1)
        before = h.rss_kib(srv.pid)
        plan = {"mode": "idle", "url": srv.url, "rooms": pop.plan_rooms(n), "connect_concurrency": 16,
                "idle": {"max_hold_s": 300}}
        log(f"[{mode}] idle: {3 * n} connections in {n} rooms ...")
        with h.Loadgen(plan, root, 400) as lg:
            for ev in lg.events():
                if ev["event"] == "connected":
                    out.update(connections=ev["sockets"], failed=ev["failed"], connect_s=ev["seconds"])
                    if ev["errors"]:
                        out["connect_errors"] = ev["errors"]
                    time.sleep(cfg["idle_settle_s"])   # presence broadcasts and join work settle
                    c0, t0 = h.cpu_seconds(srv.pid), time.monotonic()
                    time.sleep(cfg["idle_settle_s"])
                    out["idle_cpu_pct"] = 100 * (h.cpu_seconds(srv.pid) - c0) / (time.monotonic() - t0)
                    after = h.rss_kib(srv.pid)
                    lg.say("quit")
                elif ev["event"] == "result" and ev.get("error"):
                    out["error"] = ev["error"][:500]
        if "connections" in out and out["connections"]:
            out.update(rss_before_mib=before / 1024, rss_after_mib=after / 1024,
                       kib_per_conn=(after - before) / out["connections"])
            log(f"  {out['connections']} connected ({out['failed']} failed): RSS {before / 1024:.0f} -> "
                f"{after / 1024:.0f} MiB = {out['kib_per_conn']:.1f} KiB/connection, idle CPU "
                f"{out['idle_cpu_pct']:.0f}%")
    except Exception as e:
        out["error"] = f"{type(e).__name__}: {e}"[:500]
    finally:
        srv.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return out


# ---------------------------------------------------------------- report

def fmt(x, nd=1):
    if x is None:
        return "-"
    return f"{x:.{nd}f}"


def table(res):
    lines = []
    cfg = res["config"]
    lines.append(f"Playroom benchmark {res['started']}  ({'quick' if res['quick'] else 'full'}; "
                 f"server core 0, load generator core 1; {cfg['measure_s']} s windows; "
                 f"commit {res['machine'].get('commit')})")
    head = (f"  {'R':>4} {'prev p50':>8} {'p90':>6} {'p99':>6} {'max':>6} | {'op p50':>6} {'p99':>6} | "
            f"{'msg/s':>7} | {'srv CPU':>7} {'µs/msg':>6} {'RSS MiB':>7} | {'lg CPU':>6} {'other':>5} | ok")

    def relay_block(name, rel):
        lines.append("  relay (latency ms, one-way)")
        lines.append(head)
        for s in rel["steps"] + ([rel["floor_probe"]] if rel.get("floor_probe") else []):
            if s.get("error"):
                lines.append(f"  {s['rooms']:>4} ERROR {s['error'][:90]}")
                continue
            p, o = s["preview_ms"], s["op_ms"]
            lines.append(
                f"  {s['rooms']:>4} {fmt(p['p50']):>8} {fmt(p['p90']):>6} {fmt(p['p99']):>6} {fmt(p['max']):>6} | "
                f"{fmt(o['p50']):>6} {fmt(o['p99']):>6} | {s['msgs_per_s']:>7.0f} | "
                f"{s['server_cpu_pct']:>6.0f}% {fmt(s['us_per_msg'], 0):>6} {s['server_rss_mib']:>7.0f} | "
                f"{s['loadgen']['cpu_pct']:>5.0f}% {s['other_cpu_pct']:>4.0f}% | "
                f"{'yes' if s['ok'] else 'NO: ' + s['why']}"
                + (f" (best of {len(s['earlier_attempts']) + 1})" if s.get("earlier_attempts") else "")
                + (" (past the limit)" if s.get("past_limit") else "") + (" (floor probe)" if s is rel.get("floor_probe") else ""))
        more = "+" if rel.get("sweep_exhausted") else ""
        lines.append(f"  max rooms with preview p99 < {P99_LIMIT_MS:.0f} ms: {rel['max_rooms']}{more}")

    for mode, m in res["modes"].items():
        lines.append("")
        lines.append(f"== {mode} ==")
        if m.get("skipped"):
            lines.append(f"  skipped: {m['skipped']}")
            continue
        if "relay" in m:
            relay_block(mode, m["relay"])
            ratio = res.get("ratio", {}).get(mode)
            if ratio is not None:
                bound = "<= " if res["reference"]["relay"].get("sweep_exhausted") else ""
                lines.append(f"  Playroom / reference rooms: {bound}{ratio:.2f} "
                             f"({m['relay']['max_rooms']} / {res['reference']['relay']['max_rooms']})")
        j = m.get("join")
        if j:
            if j.get("error"):
                lines.append(f"  join: ERROR {j['error'][:100]}")
            elif "p50_ms" in j:
                lines.append(f"  join ({j['strokes']} strokes): cold {fmt(j['cold_ms'], 0)} ms; p50 of "
                             f"{j['joins']} {fmt(j['p50_ms'], 0)} ms (p90 {fmt(j['p90_ms'], 0)}); state "
                             f"{j['state_bytes'] / 1e6:.2f} MB")
            pt = j.get("paint", {})
            lines.append("  first full paint (Chromium on one core): " + (
                f"{pt['paint_ms']:.0f} ms (first load {pt['first_load_ms']:.0f} ms; its own strokes all "
                f"drawn {pt['ink_ms']:.0f} ms)" if pt.get("status") == "ok"
                else f"n/a ({pt.get('reason')})"))
            pa = j.get("paint_all_cores")
            if pa:
                lines.append("  first full paint (Chromium on all cores): " + (
                    f"{pa['paint_ms']:.0f} ms (first load {pa['first_load_ms']:.0f} ms; its own strokes all "
                    f"drawn {pa['ink_ms']:.0f} ms)"
                    if pa.get("status") == "ok" else f"n/a ({pa.get('reason')})"))
            e = j.get("export_http")
            if e:
                lines.append("  export HTTP p1.png: " + (f"ERROR {e['error']}" if e.get("error") else
                             f"p50 {e['p50_ms']:.0f} ms, server peak RSS +{e['server_peak_rss_delta_mib']:.0f} MiB, "
                             f"{e['png_bytes'] / 1e3:.0f} kB"))
        if m.get("noisy"):
            lines.extend(noisy.table_lines(m["noisy"]))
        if m.get("polling"):
            lines.append("  long-polling clients (every participant):")
            relay_block(mode, m["polling"])
        if m.get("scaleout"):
            for name, so in m["scaleout"].items():
                lines.append(f"  scale-out, {name} (same rooms per process; processes not pinned):")
                lines.extend(scaleout_lines(so))
        ab = m.get("ab")
        if ab:
            lines.append("  before -> after (FRAME1, DIRECT1, RECV1, PAINT1, JSON1, RECV2 off -> on, this run):")
            for row in ab["steps"]:
                b, a = row["before"], row["after"]
                if b.get("error") or a.get("error"):
                    lines.append(f"    R={row['rooms']}: ERROR {(b.get('error') or a.get('error'))[:90]}")
                    continue
                lines.append(f"    R={row['rooms']}: server µs per delivered message {fmt(b['us_per_msg'], 0)} -> "
                             f"{fmt(a['us_per_msg'], 0)}; preview p99 {fmt(b['preview_ms']['p99'])} -> "
                             f"{fmt(a['preview_ms']['p99'])} ms; {b['msgs_per_s']:.0f} -> {a['msgs_per_s']:.0f} msg/s")
            for cores in ("all_cores", "one_core"):
                b = (ab["paint"].get("before") or {}).get(cores) or {}
                a = (ab["paint"].get("after") or {}).get(cores) or {}
                if b.get("status") == "ok" and a.get("status") == "ok":
                    lines.append(f"    first full paint, Chromium on {cores.replace('_', ' ')}: "
                                 f"{b['paint_ms']:.0f} -> {a['paint_ms']:.0f} ms "
                                 f"(own strokes all drawn {b['ink_ms']:.0f} -> {a['ink_ms']:.0f} ms)")
        i = m.get("idle")
        if i:
            lines.append("  idle: " + (f"ERROR {i['error'][:100]}" if i.get("error") and not i.get("kib_per_conn") else
                         f"{i['connections']} connections / {i['rooms']} rooms ({i['failed']} failed): RSS "
                         f"{i['rss_before_mib']:.0f} -> {i['rss_after_mib']:.0f} MiB = {i['kib_per_conn']:.1f} "
                         f"KiB per connection; idle CPU {i['idle_cpu_pct']:.0f}%"))
    ref = res.get("reference")
    if ref:
        lines.append("")
        lines.append(f"== reference: Node socket.io {res['machine'].get('reference_socket.io')} minimal relay ==")
        relay_block("reference", ref["relay"])
    ex = res.get("export_inprocess")
    if ex:
        lines.append("")
        lines.append("== export in-process (activities.canvas.render) ==")
        lines.append("  " + (f"ERROR {ex['error'][-200:]}" if ex.get("error") else
                     f"{ex['strokes']} strokes: render {ex['render_ms']:.0f} ms + PNG encode "
                     f"{ex['png_encode_ms']:.0f} ms; peak RSS +{ex['peak_rss_delta_mib']:.0f} MiB "
                     f"(Python heap peak {ex['tracemalloc_peak_kib']:.0f} KiB; Pillow buffers are in the RSS figure)"))
    if res["modes"]:
        lines.extend(targets(res))
    if res["errors"]:
        lines.append("")
        lines.append("errors: " + "; ".join(res["errors"]))
    return "\n".join(lines)


def scaleout_lines(so):
    import scaleout
    return scaleout.lines(so)


def machine_info():
    def version(mod):
        try:
            from importlib.metadata import version as v
            return v(mod)
        except Exception:
            return None
    info = {"cpus": os.cpu_count(), "pinned": h.PINNED, "python": platform.python_version(),
            "node": subprocess.run([h.NODE, "--version"], capture_output=True, text=True).stdout.strip()}
    for mod in ("flask-socketio", "python-socketio", "python-engineio", "eventlet", "gevent",
                "simple-websocket", "pillow"):
        info[mod] = version(mod)
    try:
        with open(os.path.join(h.BENCH, "reference", "node_modules", "socket.io", "package.json")) as f:
            info["reference_socket.io"] = json.load(f)["version"]
    except OSError:
        info["reference_socket.io"] = None
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=h.ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=h.ROOT,
                               capture_output=True, text=True)
        info["commit"] = head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, StopIteration):
        pass
    return info


def mode_available(mode):
    return importlib.util.find_spec(mode) is not None if mode in ("eventlet", "gevent") else True


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="under a minute: one mode, two steps, small board")
    ap.add_argument("--modes", help="comma list of eventlet,gevent,threading")
    ap.add_argument("--only", help="comma list of " + ",".join(PARTS))
    ap.add_argument("--steps", help="comma list of room counts for the relay sweep")
    ap.add_argument("--measure", type=float, help="seconds of each measured relay window")
    ap.add_argument("--abuses", help="noisy part: comma list of " + ",".join(noisy.ABUSES))
    ap.add_argument("--noisy-window", type=float, help="noisy part: seconds of each abuse (fill: 3x)")
    ap.add_argument("--json-out", help="write the JSON here instead of bench/results/<timestamp>.json")
    ap.add_argument("--keep", action="store_true", help="keep the temporary instance folders")
    ap.add_argument("--quiet-wait", type=float, help="seconds to wait before each relay step for other "
                    "jobs on the machine to finish (full: 120, quick: 0)")
    args = ap.parse_args(argv)

    cfg = dict(QUICK if args.quick else FULL)
    if args.modes:
        cfg["modes"] = [m.strip() for m in args.modes.split(",") if m.strip()]
    if args.steps:
        cfg["steps"] = [int(x) for x in args.steps.split(",")]
    if args.measure:
        cfg["measure_s"] = args.measure
    if args.quiet_wait is not None:
        cfg["quiet_wait_s"] = args.quiet_wait
    cfg["noisy"] = dict(cfg["noisy"])
    if args.abuses:
        cfg["noisy"]["abuses"] = [a.strip() for a in args.abuses.split(",") if a.strip()]
    if args.noisy_window:
        cfg["noisy"].update(window_s=args.noisy_window, fill_window_s=3 * args.noisy_window)
    parts = set(p.strip() for p in args.only.split(",")) if args.only else set(PARTS)
    bad = [m for m in cfg["modes"] if m not in MODES] + [p for p in parts if p not in PARTS] + \
        [a for a in cfg["noisy"]["abuses"] if a not in noisy.ABUSES]
    if bad:
        ap.error(f"unknown mode or part: {', '.join(bad)}")
    if not os.path.exists(os.path.join(h.ROOT, "node_modules", "socket.io-client")):
        ap.error("node_modules/socket.io-client missing: run `make setup`")
    if "reference" in parts and not os.path.exists(os.path.join(h.BENCH, "reference", "node_modules", "socket.io")):
        ap.error("bench/reference/node_modules missing: run `npm ci` in bench/reference (make bench does)")
    if h.PINNED:
        os.sched_setaffinity(0, {int(h.LOADGEN_CORE)})   # keep the harness off the server's core

    started = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    t_start = time.monotonic()
    root = tempfile.mkdtemp(prefix="playroom-bench-")
    res = {"started": started, "quick": args.quick, "parts": sorted(parts),
           "config": {**cfg, "relay": RELAY, "p99_limit_ms": P99_LIMIT_MS, "delivery_min": DELIVERY_MIN,
                      "board_mix": "strokes of 100 points: 98% pen (size 4/8/16, pressure varying), 2% highlighter"},
           "machine": machine_info(), "modes": {}, "errors": []}
    log(f"Playroom bench ({'quick' if args.quick else 'full'}): modes {','.join(cfg['modes'])}; "
        f"parts {','.join(p for p in PARTS if p in parts)}; work dir {root}")
    pop = h.Population(root)
    board = None
    try:
        if "reference" in parts:
            res["reference"] = {"relay": sweep("reference", None, cfg, pop, root)}
        if "export" in parts:
            res["export_inprocess"] = export_inprocess(cfg, root)
            if res["export_inprocess"].get("error"):
                res["errors"].append("export in-process failed")
        for mode in (cfg["modes"] if parts & {"relay", "join", "export", "idle", "noisy", "polling",
                                              "scaleout", "ab"} else []):
            m = res["modes"][mode] = {}
            if not mode_available(mode):
                m["skipped"] = f"{mode} is not installed in this venv (make bench installs bench/requirements.txt)"
                res["errors"].append(f"{mode} not installed")
                log(f"[{mode}] skipped: not installed")
                continue
            if "relay" in parts:
                m["relay"] = sweep("playroom", mode, cfg, pop, root)
                if m["relay"]["steps"] and all(s.get("error") for s in m["relay"]["steps"]):
                    res["errors"].append(f"{mode} relay failed")
            if "polling" in parts:
                m["polling"] = sweep("playroom", mode, {**cfg, "steps": cfg["polling_steps"]}, pop, root,
                                     transports=["polling"])
            if "join" in parts or "export" in parts or ("ab" in parts and cfg["paint"]):
                if board is None:
                    log(f"[board] writing {cfg['board']} strokes of 100 points through SQLiteStorage.append_op ...")
                    t0 = time.monotonic()
                    try:
                        board = h.build_board(root, cfg["board"])
                    except Exception as e:
                        m["join"] = {"error": f"board set-up: {type(e).__name__}: {e}"[:500]}
                        res["errors"].append(f"{mode} board set-up failed")
                        board = None
                    log(f"  done in {time.monotonic() - t0:.1f} s")
                if board is None:
                    pass
                elif "join" in parts:
                    m["join"] = join_part(mode, cfg, board, root, "export" in parts)
                elif "export" in parts:
                    m["join"] = join_part(mode, {**cfg, "joins": 0, "paint": False}, board, root, True)
                if m.get("join", {}).get("error"):
                    res["errors"].append(f"{mode} join failed")
            if "ab" in parts:
                m["ab"] = ab_part(mode, cfg, pop, root, board)
            if "scaleout" in parts:
                m["scaleout"] = scaleout_part(mode, cfg, root)
            if "noisy" in parts:
                m["noisy"] = noisy.run(mode, cfg["noisy"], root)
                if m["noisy"].get("error"):
                    res["errors"].append(f"{mode} noisy failed")
            if "idle" in parts:
                m["idle"] = idle_part(mode, cfg, pop, root)
                if m["idle"].get("error") or not m["idle"].get("kib_per_conn"):
                    res["errors"].append(f"{mode} idle failed")
        ref = res.get("reference", {}).get("relay")
        if ref and ref["max_rooms"]:
            res["ratio"] = {mode: m["relay"]["max_rooms"] / ref["max_rooms"]
                            for mode, m in res["modes"].items() if m.get("relay")}
    except KeyboardInterrupt:
        res["errors"].append("interrupted")
    finally:
        res["seconds"] = round(time.monotonic() - t_start, 1)
        path = args.json_out or os.path.join(h.BENCH, "results", f"{started}.json")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(res, f, indent=1)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(table(res), flush=True)
    print(f"\nJSON: {path}  ({res['seconds']:.0f} s)", flush=True)
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
