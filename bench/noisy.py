"""Noisy neighbour (issue #12): how much one hostile or unlucky room costs another.

A quiet room of 3 people (therapist, child, parent) runs on a real server: the child
commits a small stroke every ~100 ms and the harness records each op's ack latency,
and a second probe GETs `/` the same way. Meanwhile, one abuse at a time runs in
another room, on a fresh copy of the same instance folder:

    none      nothing (the baseline)
    clock     a flood of `clock` events whose answers are never read
    op        one socket sends small strokes as fast as it can (acks read)
    eph       one socket sends 240-point stroke previews as fast as it can
    fill      4 guests commit 1,500-point strokes at their rate limit, page after page
    join_end  fresh server on the filled room: cold joins (therapist + 4 guests), then
              the therapist ends the session (the session record is written)
    cycle     new participants through one invite link, each connecting, syncing and
              disconnecting twice
    upload    the therapist uploads a 30-megapixel PNG (just inside the limit) again and again

The abuse runs in its own process (bench/abuse.py, niced, on the harness core) with
bare WebSocket clients (Engine.IO / Socket.IO v4 text framing), so it can do what no
well-behaved client does — never read its socket. Targets: the quiet room's op
ack p99 and HTTP p99 ≤ 100 ms, none of its sockets dropped, none of its ops lost, and
the server's peak RSS ≤ RSS_LIMIT_MIB. Every loop here is bounded in count and time and
every connection goes to 127.0.0.1.
"""
import json
import os
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import log  # noqa: E402

ABUSES = ("none", "clock", "op", "eph", "fill", "join_end", "cycle", "upload")
P99_TARGET_MS = 100.0
# Peak RSS bound of the whole server process. An idle server with a few rooms is
# ~80 MiB here; a legitimate peak (one 30 MP upload decoded: 90 MB of RGB pixels plus
# its re-encode; a late joiner of a 5,000-stroke board) fits in another ~200 MiB. More
# than that means a queue or a room grew without a bound set by the server.
RSS_LIMIT_MIB = 300

FULL = {"abuses": list(ABUSES), "window_s": 10, "fill_window_s": 30, "tail_s": 2,
        "drain_max_s": 40, "op_interval_s": 0.1, "http_interval_s": 0.1, "fill_guests": 4}
# Quick (the smoke test): one abuse, a short window; what is unanswered after 4 s
# counts as 4 s (a lower bound), so a stalled server does not stretch the run.
QUICK = {"abuses": ["op"], "window_s": 2, "fill_window_s": 4, "tail_s": 0.5,
         "drain_max_s": 4, "op_interval_s": 0.1, "http_interval_s": 0.1, "fill_guests": 4}


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def summary(xs):
    return {"n": len(xs), "p50": pct(xs, 50), "p99": pct(xs, 99), "max": max(xs) if xs else None,
            "mean": statistics.fmean(xs) if xs else None}


# ================================================================ set-up (harness)

class Golden:
    """The instance folder every abuse starts from: a quiet room (therapist, child,
    parent) and a noisy room (its therapist, its invite links, 4 child guests), all
    made through the real HTTP pages; cookies stay valid on any server of a copy."""

    def __init__(self, root, guests):
        from tests.support import Actions
        self.dir = os.path.join(root, "noisy-golden")
        os.makedirs(self.dir, exist_ok=True)
        srv = h.Server("playroom", self.dir, "threading").start()
        stamp = time.time_ns()
        try:
            self.quiet_th = Actions(srv.url)
            self.quiet_th.register(email=f"quiet-{stamp}@example.org")
            self.quiet_room, links = self.quiet_th.create_room(name="Quiet")
            self.quiet_child, self.quiet_parent = Actions(srv.url), Actions(srv.url)
            self.quiet_child.join(links["child"], name="Sam")
            self.quiet_parent.join(links["parent"], name="Alex")
            self.noisy_th = Actions(srv.url)
            self.noisy_th.register(email=f"noisy-{stamp}@example.org")
            self.noisy_room, self.noisy_links = self.noisy_th.create_room(name="Noisy")
            self.noisy_guests = []
            for i in range(guests):
                g = Actions(srv.url)
                g.join(self.noisy_links["child"], name=f"Kid{i}")
                self.noisy_guests.append(g)
        finally:
            srv.stop()

    def copy(self, root, name):
        return h.copy_dir(self.dir, root, name)

    def rebase(self, url):
        for a in (self.quiet_th, self.quiet_child, self.quiet_parent, self.noisy_th, *self.noisy_guests):
            a.base = url

    def plan(self, name, url, cfg):
        window = cfg["fill_window_s"] if name == "fill" else cfg["window_s"]
        from activities.contract.protocol import PROTOCOL_VERSION
        return {"abuse": name, "url": url, "room": self.noisy_room, "window_s": window,
                "version": PROTOCOL_VERSION,
                "therapist": self.noisy_th.cookie_header(),
                "guests": [g.cookie_header() for g in self.noisy_guests],
                "child_link": "/j/" + self.noisy_links["child"].rsplit("/j/", 1)[1]}


# ================================================================ measuring (harness)

class Quiet:
    """The quiet room: 3 python-socketio clients; the child sends a stroke every
    op_interval_s without waiting for acks (a stall shows as many late acks), a thread
    GETs `/` one after another. Latencies in ms, by send time."""

    def __init__(self, gold, url, cfg):
        from tests.support import SocketUser
        self.url, self.cfg = url, cfg
        self.users = [SocketUser(a, gold.quiet_room) for a in
                      (gold.quiet_th, gold.quiet_child, gold.quiet_parent)]
        self.dropped = set()
        for i, u in enumerate(self.users):
            u.sio.on("disconnect", lambda *a, i=i: self.dropped.add(i))
            u.connect()
        self.sent, self.acked, self.refused, self.http = {}, {}, {}, []
        self.http_errors = 0
        self.http_inflight = None        # send time of the page being fetched
        self.lock = threading.Lock()
        self.sending = threading.Event()
        self.threads = []

    def start(self):
        self.sending.set()
        for fn in (self._send_ops, self._get_pages):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self.threads.append(t)

    def _send_ops(self):
        child, n = self.users[1], 0
        nxt = time.perf_counter()
        while self.sending.is_set() and n < 100_000:
            op_id = f"q{n}"
            msg = {"op_id": op_id, "a": "canvas", "t": "stroke",
                   "d": {"page": "p1", "id": f"q{n}", "tool": "pen", "color": "#43a047", "size": 4,
                         "pts": [100 + n % 50, 100, 0.5, 140, 130, 0.5, 180, 110, 0.5]}}
            with self.lock:
                self.sent[op_id] = time.perf_counter()
            try:
                child.sio.emit("op", msg, callback=lambda ack, op_id=op_id: self._ack(op_id, ack))
            except Exception:
                pass            # disconnected: the op stays unanswered (and counts as lost)
            n += 1
            nxt += self.cfg["op_interval_s"]
            time.sleep(max(0.0, nxt - time.perf_counter()))

    def _ack(self, op_id, ack):
        t = time.perf_counter()
        with self.lock:
            self.acked[op_id] = t
            if not (isinstance(ack, dict) and ack.get("ok")):
                self.refused[op_id] = ack

    def _get_pages(self):
        import requests
        http = requests.Session()
        timeout = self.cfg["window_s"] + self.cfg["fill_window_s"] + self.cfg["drain_max_s"]
        for _ in range(100_000):
            if not self.sending.is_set():
                return
            t0 = self.http_inflight = time.perf_counter()
            try:
                ok = http.get(self.url + "/", timeout=timeout).status_code == 200
            except Exception:
                ok = False
            dt = time.perf_counter() - t0
            with self.lock:
                self.http.append((t0, dt))
                self.http_errors += not ok
                self.http_inflight = None
            time.sleep(max(0.0, self.cfg["http_interval_s"] - dt))

    def stop(self):
        """Stop sending; wait (at most drain_max_s) for every sent op's ack and the last
        page. What is still unanswered then counts with the time it has waited."""
        self.sending.clear()
        deadline = time.monotonic() + self.cfg["drain_max_s"]
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.acked) >= len(self.sent) and not self.threads[1].is_alive():
                    break
            time.sleep(0.05)
        end = time.perf_counter()
        with self.lock:
            # Unanswered ops and a page still not served count with the time they
            # have waited so far: then p99 and max are lower bounds ("unanswered").
            ack_ms = [1000 * ((self.acked.get(i) or end) - t) for i, t in self.sent.items()]
            http_ms = [1000 * dt for _, dt in self.http]
            if self.http_inflight is not None:
                http_ms.append(1000 * (end - self.http_inflight))
            out = {"ack_ms": summary(ack_ms), "ops_sent": len(self.sent),
                   "unanswered": len(self.sent) - len(self.acked), "refused": len(self.refused),
                   "refused_codes": sorted({str((a or {}).get("code")) for a in self.refused.values()}),
                   "http_ms": summary(http_ms), "http_errors": self.http_errors,
                   "http_unanswered": int(self.http_inflight is not None)}
        out["dropped"] = sorted(("therapist", "child", "parent")[i] for i in self.dropped) + [
            ("therapist", "child", "parent")[i] for i, u in enumerate(self.users)
            if not u.sio.connected and i not in self.dropped]
        return out

    def close(self):
        for u in self.users:
            try:
                u.close()
            except Exception:
                pass


class Memory:
    """The server's peak RSS over the abuse: VmHWM after a reset (clear_refs), and
    RSS sampled every 100 ms as a fallback where the reset is not allowed."""

    def __init__(self, pid):
        self.pid, self.samples = pid, []
        self.before = h.rss_kib(pid)
        self.reset = h.reset_peak(pid)
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        while self.running:
            try:
                self.samples.append(h.rss_kib(self.pid))
            except (OSError, TypeError):
                return
            time.sleep(0.1)

    def stop(self):
        self.running = False
        self.thread.join(2)
        try:
            hwm = h.status_kib(self.pid, "VmHWM") if self.reset else 0
            after = h.rss_kib(self.pid)
        except OSError:
            hwm, after = 0, None
        peak = max([hwm or 0] + [s for s in self.samples if s])
        return {"rss_before_mib": round(self.before / 1024, 1), "peak_rss_mib": round(peak / 1024, 1),
                "rss_after_mib": round(after / 1024, 1) if after else None}


class Cpu:
    """CPU % of the server, the abuser, this harness and everything else on the
    machine over the measurement: other engineers' jobs share these cores, and a
    busy machine alone can push a quiet room's p99 up (see the `none` baseline)."""

    def __init__(self, server_pid):
        self.pids = {"server": server_pid, "harness": os.getpid()}
        self.t0, self.busy0 = time.monotonic(), h.busy_seconds()
        self.c0 = {k: self._cpu(p) for k, p in self.pids.items()}

    @staticmethod
    def _cpu(pid):
        try:
            return h.cpu_seconds(pid) if pid else 0.0
        except OSError:
            return None

    def stop(self, abuser_cpu_s):
        """abuser_cpu_s: what the abuser says it used (it has exited by now)."""
        wall = time.monotonic() - self.t0
        out = {"machine_busy_pct": round(100 * (h.busy_seconds() - self.busy0) / wall, 1)}
        for k, pid in self.pids.items():
            c1 = self._cpu(pid)
            out[f"{k}_pct"] = round(100 * (c1 - self.c0[k]) / wall, 1) if c1 is not None and \
                self.c0[k] is not None else None
        out["abuser_pct"] = round(100 * (abuser_cpu_s or 0) / wall, 1)
        out["other_pct"] = round(max(0.0, out["machine_busy_pct"] - out["abuser_pct"] - sum(
            out[f"{k}_pct"] or 0 for k in self.pids)), 1)
        return out


class Abuser:
    """bench/abuse.py in a subprocess: waits for the server, makes its connections,
    says `ready`, starts on `go`, ends by itself and prints one `result` line."""

    def __init__(self, plan, root):
        self.path = os.path.join(root, f"abuse-{time.time_ns()}.json")
        with open(self.path, "w") as f:
            json.dump(plan, f)
        self.proc = subprocess.Popen([sys.executable, os.path.join(h.BENCH, "abuse.py"), self.path],
                                     cwd=h.ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=None, text=True, bufsize=1)
        self.events = []

    def wait_for(self, name, timeout):
        """Lines until `name` (or a result), at most `timeout` s; None if it never came."""
        box = {}

        def read():
            for line in self.proc.stdout:
                if line.startswith("{"):
                    ev = json.loads(line)
                    self.events.append(ev)
                    if ev["event"] in (name, "result"):
                        box["ev"] = ev
                        return
        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(timeout)
        return box.get("ev")

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def close(self):
        from tests.support import end_process
        end_process(self.proc)
        os.unlink(self.path)


def run_one(name, mode, gold, cfg, root, workdir):
    """One abuse on a fresh server; returns its numbers (and the work dir it used)."""
    out = {"abuse": name}
    srv = h.Server("playroom", workdir, mode)
    quiet = abuser = mem = None
    t_setup = time.monotonic()
    try:
        if name != "none":      # it loads and waits for the server meanwhile
            abuser = Abuser(gold.plan(name, srv.url, cfg), root)
        srv.start()
        gold.rebase(srv.url)
        quiet = Quiet(gold, srv.url, cfg)
        if abuser:
            ready = abuser.wait_for("ready", 120)
            if not ready or ready["event"] != "ready":
                raise RuntimeError(f"abuser not ready: {ready}")
        out["setup_s"] = round(time.monotonic() - t_setup, 1)
        mem = Memory(srv.pid)
        cpu = Cpu(srv.pid)
        quiet.start()
        t0 = time.monotonic()
        if abuser:
            abuser.go()
            window = cfg["fill_window_s"] if name == "fill" else cfg["window_s"]
            res = abuser.wait_for("result", window + 180)
            out["abuser"] = res or {"error": "no result in time"}
        else:
            time.sleep(cfg["window_s"])
        time.sleep(cfg["tail_s"])
        out["abuse_s"] = round(time.monotonic() - t0, 1)
        out["quiet"] = quiet.stop()
        out["server"] = mem.stop()
        out["cpu"] = cpu.stop((out.get("abuser") or {}).get("cpu_s"))
        out["server"]["alive"] = srv.proc.poll() is None
        judge(out)
    except Exception as e:
        out["error"] = f"{type(e).__name__}: {e}"[:500]
    finally:
        if quiet:
            quiet.close()
        if abuser:
            abuser.close()
        t_stop = time.monotonic()
        srv.stop()
        out["stop_s"] = round(time.monotonic() - t_stop, 1)
    return out


def judge(out):
    q, s, why = out["quiet"], out["server"], []
    if q["http_unanswered"]:
        why.append("a page unanswered")
    if (q["ack_ms"]["p99"] or 0) > P99_TARGET_MS:
        why.append(f"op ack p99 {q['ack_ms']['p99']:.0f} ms")
    if (q["http_ms"]["p99"] or 0) > P99_TARGET_MS:
        why.append(f"HTTP p99 {q['http_ms']['p99']:.0f} ms")
    if q["unanswered"] or q["refused"]:
        why.append(f"{q['unanswered']} ops unanswered, {q['refused']} refused"
                   + (f" ({','.join(q['refused_codes'])})" if q["refused"] else ""))
    if q["dropped"]:
        why.append("dropped " + ",".join(q["dropped"]))
    if s["peak_rss_mib"] > RSS_LIMIT_MIB:
        why.append(f"peak RSS {s['peak_rss_mib']:.0f} MiB")
    if not s["alive"]:
        why.append("server died")
    out["pass"] = not why
    out["why"] = "; ".join(why)


def run(mode, cfg, root):
    """The noisy-neighbour part for one async mode."""
    res = {"window_s": cfg["window_s"], "p99_target_ms": P99_TARGET_MS, "rss_limit_mib": RSS_LIMIT_MIB,
           "abuses": []}
    t0 = time.monotonic()
    try:
        gold = Golden(root, cfg["fill_guests"])
        res["setup_s"] = round(time.monotonic() - t0, 1)
    except Exception as e:
        res["error"] = f"set-up: {type(e).__name__}: {e}"[:500]
        return res
    filled = None
    for name in cfg["abuses"]:
        if name == "join_end" and filled is None:
            log(f"[{mode}] noisy join_end: filling the room first (not measured) ...")
            filled = gold.copy(root, f"noisy-{mode}-fill")
            run_one("fill", mode, gold, cfg, root, filled)
        workdir = filled if name == "join_end" else gold.copy(root, f"noisy-{mode}-{name}")
        log(f"[{mode}] noisy: {name} ...")
        out = run_one(name, mode, gold, cfg, root, workdir)
        log("  " + line(out))
        res["abuses"].append(out)
        if name == "fill":
            filled = workdir                   # join_end joins this board
        elif name == "join_end" or workdir != filled:
            import shutil
            shutil.rmtree(workdir, ignore_errors=True)
            filled = None if name == "join_end" else filled
    failed = [a["abuse"] for a in res["abuses"] if a.get("error")]
    if failed:       # the harness could not measure (a FAIL verdict is a measurement)
        res["error"] = "failed: " + ",".join(failed)
    return res


def ms(x, lower=False):
    """Milliseconds for the table; "+" marks a lower bound (something never answered)."""
    return "-" if x is None else f"{x:.0f}" + ("+" if lower else "")


def cells(a):
    q, s = a["quiet"], a["server"]
    lo, hlo = bool(q["unanswered"]), bool(q["http_unanswered"])
    return (ms(q["ack_ms"]["p50"], lo), ms(q["ack_ms"]["p99"], lo), ms(q["ack_ms"]["max"], lo),
            ms(q["http_ms"]["p99"], hlo), ms(q["http_ms"]["max"], hlo), f"{s['rss_before_mib']:.0f}",
            f"{s['peak_rss_mib']:.0f}", ",".join(q["dropped"]) or "-",
            f"{a['cpu']['server_pct']:.0f}%/{a['cpu']['other_pct']:.0f}%",
            "PASS" if a["pass"] else "FAIL: " + a["why"])


def line(a):
    if a.get("error"):
        return f"{a['abuse']}: ERROR {a['error']}"
    c = cells(a)
    return (f"{a['abuse']}: op ack p50/p99/max {c[0]}/{c[1]}/{c[2]} ms, HTTP p99 {c[3]} ms (max {c[4]}), "
            f"RSS {c[5]} -> peak {c[6]} MiB, dropped {c[7]}, CPU server/other {c[8]} -> {c[9]}")


def table_lines(res):
    out = [f"  noisy neighbour (a quiet room while another room abuses; {res['window_s']} s windows; "
           f"targets: p99 <= {res['p99_target_ms']:.0f} ms, peak RSS <= {res['rss_limit_mib']} MiB; "
           f"+ = at least: never answered; CPU: server / other jobs on the machine)"]
    if res.get("error") and not res["abuses"]:
        return out + [f"  ERROR {res['error']}"]
    out.append(f"  {'abuse':<9} {'ack p50':>8} {'p99':>8} {'max':>8} | {'HTTP p99':>8} {'max':>8} | "
               f"{'RSS MiB':>7} {'peak':>5} | {'dropped':<8} | {'CPU srv/other':>13} | verdict")
    for a in res["abuses"]:
        if a.get("error"):
            out.append(f"  {a['abuse']:<9} ERROR {a['error'][:100]}")
            continue
        c = cells(a)
        out.append(f"  {a['abuse']:<9} {c[0]:>8} {c[1]:>8} {c[2]:>8} | {c[3]:>8} {c[4]:>8} | {c[5]:>7} "
                   f"{c[6]:>5} | {c[7]:<8} | {c[8]:>13} | {c[9]}")
    return out
