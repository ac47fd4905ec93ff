"""Pieces of the benchmark that run.py wires together: server processes pinned to a
core, /proc readings, the HTTP set-up of rooms through real invite links, the
5,000-stroke board, and the Node load generator."""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import requests

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from activities.contract.protocol import PROTOCOL_VERSION  # noqa: E402
from tests.support import Actions, end_process, free_port  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
PINNED = (os.cpu_count() or 1) >= 2
SERVER_CORE, LOADGEN_CORE = "0", "1"
NODE = shutil.which("node") or "node"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def pin(core, cmd):
    return ["taskset", "-c", core, *cmd] if PINNED and shutil.which("taskset") else cmd


# ---------------------------------------------------------------- /proc

def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def busy_seconds():
    """CPU seconds spent busy on the whole machine (all cores) since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / CLK_TCK


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def rss_kib(pid):
    return status_kib(pid, "VmRSS")


def reset_peak(pid):
    """Reset VmHWM (peak RSS) so a later reading is the peak of what follows."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------- servers

class Server:
    """Playroom (`python app.py`, async mode from the env) or the reference relay,
    on a free loopback port, pinned to the server core, logging to a file."""

    def __init__(self, kind, workdir, mode=None, env=None):
        self.kind, self.workdir, self.mode = kind, workdir, mode
        self.env = env or {}             # A/B switches (README: rooms/transport/server.py)
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(workdir, f"{kind}-{mode or 'node'}-{self.port}.log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self):
        return self.proc.pid

    def start(self, timeout=30):
        env = {**os.environ, "PORT": str(self.port), "HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1",
               "PLAYROOM_OPEN_SIGNUP": "1"}   # it registers its therapists (sign-up is closed by default)
        if self.kind == "playroom":
            env.update(PLAYROOM_ASYNC_MODE=self.mode, PLAYROOM_INSTANCE=self.workdir, **self.env)
            cmd = [sys.executable, os.path.join(ROOT, "app.py")]
        else:
            cmd = [NODE, os.path.join(BENCH, "reference", "server.mjs")]
        self._log = open(self.log_path, "ab")
        # taskset execs the command: the pid is the server's own.
        self.proc = subprocess.Popen(pin(SERVER_CORE, cmd), cwd=ROOT, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} server exited: {self.tail()}")
            try:
                if requests.get(self.url + "/", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.kind} server did not come up: {self.tail()}")

    def stop(self):
        end_process(self.proc, self._log if self.proc else None)
        self.proc = None

    def tail(self, n=3000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""


# ---------------------------------------------------------------- rooms via HTTP

class Population:
    """Therapists, rooms, and child + parent joined through the real invite links,
    kept in a "golden" instance folder. Each measurement runs on a fresh copy of it,
    so no step sees what an earlier one left (strokes, loaded rooms)."""

    ROOMS_PER_THERAPIST = 25

    def __init__(self, root):
        self.dir = os.path.join(root, "golden")
        os.makedirs(self.dir, exist_ok=True)
        self.rooms = []          # [{"room": id, "clients": [{"role", "actions"}]}]
        self._therapist = None
        self._count = 0

    def ensure(self, n, mode="threading"):
        if len(self.rooms) >= n:
            return
        t0 = time.monotonic()
        srv = Server("playroom", self.dir, mode).start()
        try:
            for people in [r["clients"] for r in self.rooms]:
                for c in people:
                    c["actions"].base = srv.url
            while len(self.rooms) < n:
                if self._therapist is None or self._count >= self.ROOMS_PER_THERAPIST:
                    self._therapist = Actions(srv.url)
                    self._therapist.register(email=f"bench{len(self.rooms)}-{time.time_ns()}@example.org")
                    self._count = 0
                th = self._therapist
                th.base = srv.url
                room_id, links = th.create_room(name=f"Bench {len(self.rooms)}")
                self._count += 1
                clients = [{"role": "therapist", "actions": th}]
                for role, name in (("child", "Sam"), ("parent", "Alex")):
                    guest = Actions(srv.url)
                    assert guest.join(links[role], name=name) == room_id
                    clients.append({"role": role, "actions": guest})
                self.rooms.append({"room": room_id, "clients": clients})
                if len(self.rooms) % 50 == 0:
                    log(f"  set-up: {len(self.rooms)}/{n} rooms")
        finally:
            srv.stop()
        log(f"  set-up: {n} rooms through invite links in {time.monotonic() - t0:.1f} s")

    def copy(self, root, name):
        """A fresh working copy of the golden instance (database, secret key, data key)."""
        return copy_dir(self.dir, root, name)

    def plan_rooms(self, n):
        return [{"room": r["room"],
                 "clients": [{"role": c["role"], "cookie": c["actions"].cookie_header()}
                             for c in r["clients"]]}
                for r in self.rooms[:n]]


def reference_rooms(n):
    roles = ("therapist", "child", "parent")
    return [{"room": f"ref{i}", "clients": [{"role": r, "cookie": None} for r in roles]}
            for i in range(n)]


# ---------------------------------------------------------------- the big board

def make_strokes(n, points=100, seed=7):
    """n plausible strokes ({page, id, tool, color, size, pts}) of `points` points each."""
    rnd = random.Random(seed)
    palette = ["#000000", "#e53935", "#1e40af", "#43a047", "#fdd835", "#8e24aa"]
    out = []
    for i in range(n):
        x, y = rnd.uniform(100, 1500), rnd.uniform(100, 900)
        dx, dy = rnd.uniform(-6, 6), rnd.uniform(-6, 6)
        pts = []
        for k in range(points):
            dx = max(-9, min(9, dx + rnd.uniform(-1.5, 1.5)))
            dy = max(-9, min(9, dy + rnd.uniform(-1.5, 1.5)))
            x = min(1600, max(0, x + dx))
            y = min(1000, max(0, y + dy))
            pts += [round(x, 1), round(y, 1), round(0.35 + 0.3 * ((k % 20) / 20), 2)]
        out.append({"page": "p1", "id": f"b{i}", "tool": "highlighter" if i % 50 == 49 else "pen",
                    "color": palette[i % len(palette)], "size": (4, 8, 16)[i % 3], "pts": pts})
    return out


def board_state(strokes, by="th-1"):
    """The canvas state those strokes make, built directly (what the reducer yields)."""
    items = [{**{k: v for k, v in s.items() if k != "page"}, "k": "stroke", "by": by}
             for s in strokes]
    return {"pages": [{"id": "p1", "bg": "white", "n": sum(len(s["pts"]) for s in strokes),
                       "items": items}]}


def build_board(root, n_strokes, points=100):
    """A golden instance with one therapist, one room and n committed strokes, written
    through SQLiteStorage.append_op while no server runs (the server replays on load).
    Returns (dir, room_id, therapist Actions)."""
    from rooms.store.sqlite_store import SQLiteStorage
    d = os.path.join(root, "board")
    os.makedirs(d, exist_ok=True)
    srv = Server("playroom", d, "threading").start()
    try:
        th = Actions(srv.url)
        email = th.register(email=f"board-{time.time_ns()}@example.org")
        room_id, _ = th.create_room(name="Big board")
    finally:
        srv.stop()
    db = SQLiteStorage(os.path.join(d, "playroom.sqlite3"))
    try:
        pid = f"th-{db.get_therapist_by_email(email)['id']}"
        for i, s in enumerate(make_strokes(n_strokes, points)):
            db.append_op(room_id, pid, f"bench-{i}", "canvas", "stroke", "do", None,
                         json.dumps(s, separators=(",", ":")))
    finally:
        db.close()
    return d, room_id, th


# What an instance folder holds that a copy needs: the database, the session-cookie
# secret, and the keyring the data is sealed with (without it the server refuses to start).
INSTANCE_FILES = ("secret_key", "data.key")


def copy_dir(src, root, name):
    dst = tempfile.mkdtemp(prefix=f"{name}-", dir=root)
    for f in os.listdir(src):
        if f.startswith("playroom.sqlite3") or f in INSTANCE_FILES:
            shutil.copy2(os.path.join(src, f), dst)
    return dst


# ---------------------------------------------------------------- load generator

class Loadgen:
    """`node bench/loadgen.mjs plan.json` pinned to the load generator core. Yields
    its stdout events; its stderr (progress) goes straight to ours."""

    def __init__(self, plan, workdir, timeout):
        self.path = os.path.join(workdir, f"plan-{time.time_ns()}.json")
        plan = {"version": PROTOCOL_VERSION, "max_runtime_s": timeout, **plan}
        with open(self.path, "w") as f:
            json.dump(plan, f)
        self.timeout = timeout
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(pin(LOADGEN_CORE, [NODE, os.path.join(BENCH, "loadgen.mjs"), self.path]),
                                     cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=None, text=True, bufsize=1)
        self._killer = threading.Timer(self.timeout + 15, self._kill)
        self._killer.daemon = True
        self._killer.start()
        return self

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()

    def events(self):
        for line in self.proc.stdout:
            line = line.strip()
            if not line.startswith("{"):
                continue
            ev = json.loads(line)
            yield ev
            if ev.get("event") == "result":
                return
        yield {"event": "result", "error": f"loadgen ended without a result (exit {self.proc.wait()})"}

    def say(self, line):
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def __exit__(self, *exc):
        self._killer.cancel()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        os.unlink(self.path)
