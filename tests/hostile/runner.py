"""Run the fuzzer against a real server and hold it to the protocol's promises.

One server (`python app.py`, async mode of your choice), one room. Hostile raw
clients (the therapist, children and parents, each a participant of their own
except the therapist) send `Fuzzer` events in batches; well-behaved `Replica`s
(browser-like: ops applied in seq order) of the therapist, a child and a parent
draw valid ops meanwhile. After every batch:

- crash: the server process exited or stopped answering HTTP;
- traceback: the server's log gained a "Traceback" (ERR2: an exception is a bug);
- hang: an event sent with an ack id got neither its ack nor a `bye` within
  ANSWER_TIMEOUT while its connection stayed open;
- unanswered: the server closed the connection before that ack came, without a
  `bye` and after nothing that allows a close (a frame that is not Socket.IO, an
  Engine.IO close, a packet over the 1 MiB limit) — the client was dropped without
  an answer;
and at the end
- divergence: a replica's activity state differs from what a fresh late joiner of
  the same role receives (JOIN1, SEQ1).

"Answered" thus means, for an event with an ack id: its ack (positive or negative;
today every handler answers, even an unknown event gets an empty ack); or an
`error` event for it (ERR1: for one of our events an error naming that event and
op_id, for any other name a `bad_event`); or a `bye` on its connection; or a close
the client asked for. Events without an ack id (the
protocol allows them: `eph` has no answer when accepted) are checked only through
the server's liveness and log. The hostile clients pace themselves under the rate
limits (RATE1) most of the time, so the run tests the handlers, not only the rate
limiter; now and then one bursts. A disconnect for abuse (RATE2) is an answer: the
client reconnects and goes on.

`python -m tests.hostile.runner --mode gevent --events 50000 --seed 1` prints the
summary line (`make fuzz`).
"""
import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field

import requests

from activities.registry import build_registry
from tests.support import Actions, Replica, ServerProcess, wait_for

from .fuzz import Event, Fuzzer
from . import rawwire

# Seconds an answer may take: generous, the machine may be busy (FUZZ_ANSWER_TIMEOUT
# shortens it to explore a server that still hangs).
ANSWER_TIMEOUT = float(os.environ.get("FUZZ_ANSWER_TIMEOUT", "20"))
BATCH = 40                      # events per hostile client per batch
BASELINE = {"freeze": False, "private": False, "lock": False, "auto_admit": True,
            "child_may_draw": True, "parent_may_play": True, "follow": False}
HOSTILE_ROLES = ("therapist", "child", "child", "child", "parent", "parent")
CLIENT_EVENTS = ("sync", "op", "history", "eph", "settings", "control", "clock")
POLLING = ("h3c",)               # hostile clients on HTTP long-polling instead of WebSocket
EXAMPLES = 12                   # examples kept per kind of failure


@dataclass
class Report:
    mode: str
    seed: int
    events: int = 0
    acks: int = 0
    byes: int = 0
    reconnects: int = 0
    replica_ops: int = 0
    crashes: int = 0
    tracebacks: int = 0
    hangs: int = 0
    divergences: int = 0
    unanswered: int = 0
    harness: int = 0                                  # errors of this runner itself
    examples: dict = field(default_factory=dict)     # kind -> [text]
    lock: object = field(default_factory=threading.Lock, repr=False)

    def add(self, kind, text, n=1):
        """Count a failure; keep `text` as an example (None: counted only)."""
        with self.lock:
            setattr(self, kind, getattr(self, kind) + n)
            self.examples.setdefault(kind, [])
            if text is not None and len(self.examples[kind]) < EXAMPLES:
                self.examples[kind].append(text)

    @property
    def failed(self):
        return (self.crashes or self.tracebacks or self.hangs or self.divergences or self.unanswered
                or self.harness)

    def summary(self):
        return (f"fuzz: mode={self.mode} seed={self.seed} events={self.events} "
                f"crashes={self.crashes} tracebacks={self.tracebacks} hangs={self.hangs} "
                f"divergences={self.divergences} unanswered={self.unanswered} "
                f"(acks={self.acks} byes={self.byes} reconnects={self.reconnects} "
                f"replica_ops={self.replica_ops})"
                + (f" harness_errors={self.harness}" if self.harness else ""))

    def details(self):
        lines = [self.summary()]
        for kind in ("crashes", "tracebacks", "hangs", "unanswered", "divergences", "harness"):
            for text in self.examples.get(kind, []):
                lines.append(f"  {kind}: {text}")
        return "\n".join(lines)


class Pacer:
    """Client-side token buckets a little under the server's limits (RATE1), so a
    hostile client is refused for what it sends, not for how fast. `burst` off."""

    RATES = {"op": (14.0, 30), "eph": (60.0, 100), "sync": (0.7, 4), "other": (30.0, 40)}

    def __init__(self, share=1.0):
        """`share`: the part of the participant's allowance this client may use
        (the therapist's is shared with the therapist's replica)."""
        self.rates = {k: (r * share, max(1, int(b * share))) for k, (r, b) in self.RATES.items()}
        self.buckets = {k: [float(b), time.monotonic()] for k, (_, b) in self.rates.items()}
        self.unpaced = False

    def take(self, kind):
        if self.unpaced:
            return
        rate, burst = self.rates[kind]
        b = self.buckets[kind]
        while True:
            now = time.monotonic()
            b[0] = min(burst, b[0] + (now - b[1]) * rate)
            b[1] = now
            if b[0] >= 1:
                b[0] -= 1
                return
            time.sleep((1 - b[0]) / rate)


class Hostile:
    """One hostile raw client: its fuzzer, its current connection, its pacing."""

    def __init__(self, run, role, actions, index):
        self.run = run
        self.role = role
        self.actions = actions
        self.tag = f"h{index}{role[0]}"
        self.fuzzer = Fuzzer(run.seed * 1000 + index, role, self.tag, pids=run.pids)
        # The therapist's allowance is shared with the therapist's replica.
        self.share = 0.6 if role == "therapist" else 1.0
        self.pacer = Pacer(self.share)
        self.rng = random.Random(run.seed * 7919 + index)
        self.sock = None
        self.sent = []            # (event, ack id, events received before it) on this connection
        self.may_close = False    # something sent on this connection allows a close
        self.batch_events = []    # what this client sent in the current batch

    # -- connection
    def connect(self):
        kind = rawwire.PollingSocket if self.tag in POLLING else rawwire.RawSocket
        self.sock = kind(self.run.server.url, self.actions.cookie_header(), timeout=ANSWER_TIMEOUT)
        self.sent, self.may_close = [], False
        try:
            self.sock.open({"v": 1, "room": self.run.room_id})
        except rawwire.Refused as e:
            # Refusals are answers (after session end, a locked room ...); try again later.
            self.sock.close()
            self.sock.close_reason = f"refused {e.data}"
            return
        except Exception as e:
            self.sock.close()
            self.sock.close_reason = f"connect failed: {e}"[:200]
            self.run.report.add("unanswered", f"{self.tag}: connect failed: {e}"[:300])
            return
        if self.rng.random() < 0.9:       # usually join first; sometimes stay unjoined
            self._send(Event("emit", "sync (join)", args=["sync", {"since": -1}], budget="sync"))

    def reconnect(self):
        self.settle()
        if self.sock is not None:
            self.sock.close()
        with self.run.report.lock:
            self.run.report.reconnects += 1
        self.connect()

    # -- sending
    def _send(self, ev):
        sock = self.sock
        if sock is None or sock.closed:
            return                         # (judged and dropped by settle(): send no more)
        self.pacer.take(ev.budget)
        mark = len(sock.events)            # an `error` after this may answer it
        try:
            if ev.kind == "frame":
                sock.send_frame(ev.frame)
                ack_id = None
            elif ev.kind == "drop":
                sock.close(abrupt=True)
                return
            else:
                ack_id = sock.emit(*ev.args, ack=ev.ack, binary=ev.binary)
        except Exception as e:
            # The connection is gone under us: what we had sent is judged in settle().
            if not sock.closed:
                sock._end(f"send failed: {type(e).__name__}: {e}"[:200])
            return
        self.may_close = self.may_close or ev.may_close
        self.sent.append((ev, ack_id, mark))
        self.batch_events.append(ev)
        with self.run.report.lock:
            self.run.report.events += 1

    def batch(self, n):
        self.pacer.unpaced = self.rng.random() < 0.03
        self.batch_events = []
        for _ in range(max(1, round(n * self.share))):     # (batches end together)
            if self.sock is None or self.sock.closed:
                self.reconnect()
            if self.sock.closed:
                continue
            ev = next(self.fuzzer)
            if ev.ends:
                self.settle()          # answers to what came before first
                self._send(ev)
                self.reconnect()
            else:
                self._send(ev)
        self.settle()

    # -- judging
    def settle(self):
        """Wait for every ack owed on the current connection and judge each event."""
        sock, sent = self.sock, self.sent
        if sock is None:
            return
        deadline = time.monotonic() + ANSWER_TIMEOUT
        owed = [(ev, i, m) for ev, i, m in sent if i is not None]
        for ev, ack_id, _ in owed:
            left = max(0.01, deadline - time.monotonic())
            if not sock.wait(lambda: ack_id in sock.acks, left):
                if sock.closed:
                    break
        report = self.run.report
        bye = sock.bye()
        hung = False
        errors = ErrorAnswers(sock)
        for ev, ack_id, mark in owed:
            if ack_id in sock.acks:
                with report.lock:
                    report.acks += 1
                continue
            if errors.answer(ev, mark):
                continue
            if bye is not None or sock.closed_by_us:
                continue
            if sock.closed and self.may_close:
                continue
            if sock.closed:
                # One example per connection: what follows the first is the same story.
                report.add("unanswered", None if hung else f"{self.tag} ({self.role}): {ev.describe()} -> connection "
                           f"closed without bye ({sock.close_reason}); before it: "
                           f"{self._before(sent, ev)}")
                hung = True
            else:
                report.add("hangs", None if hung else f"{self.tag} ({self.role}): {ev.describe()} -> no ack within "
                           f"{ANSWER_TIMEOUT:.0f} s; before it: {self._before(sent, ev)}")
                hung = True                # (a fresh connection for what follows)
        if bye is not None:
            with report.lock:
                report.byes += 1
        self.sent = []
        if bye is not None and not sock.closed:
            sock.wait(lambda: sock.closed, 5)     # the server closes after bye
        if bye is not None or sock.closed or hung:
            sock.close()                   # (releases the socket in any case)
            self.sock = None

    @staticmethod
    def _before(sent, ev):
        """The three events sent on the connection just before `ev` (a culprit that
        took no ack id shows up here)."""
        events = [e for e, _, _ in sent]
        i = next(n for n, e in enumerate(events) if e is ev)
        return "; ".join(e.describe(80) for e in events[max(0, i - 3):i]) or "-"

    def close(self):
        if self.sock is not None:
            self.sock.close()


class ErrorAnswers:
    """`error` events that may stand for a missing ack: for one of our events, an
    error naming that event (and its op_id, if both have one); for any other name,
    a `bad_event` error. Each error answers one event, sent before it arrived."""

    def __init__(self, sock):
        with sock._cond:
            self.errors = [(i, d) for i, (e, d) in enumerate(sock.events)
                           if e == "error" and isinstance(d, dict)]
        self.used = set()

    def answer(self, ev, mark):
        name = ev.args[0] if ev.args else None
        ours = isinstance(name, str) and name in CLIENT_EVENTS
        msg = ev.args[1] if len(ev.args) > 1 else None
        op_id = msg.get("op_id") if isinstance(msg, dict) else None
        for i, d in self.errors:
            if i < mark or i in self.used:
                continue
            if ours:
                # An op_id the server could read comes back in the error (ERR1).
                fits = d.get("event") == name and d.get("op_id") == (
                    op_id if isinstance(op_id, str) and 0 < len(op_id) <= 64 else None)
            else:
                fits = d.get("code") == "bad_event"
            if fits:
                self.used.add(i)
                return True
        return False


class Deaf:
    """A client that never reads and never answers a ping (a frozen tab, a
    slowloris): the server must close it by itself (heartbeat) and never wait for
    it. It keeps sending valid events without ack ids; when its connection is gone
    it comes back."""

    def __init__(self, run, actions, index):
        self.run = run
        self.actions = actions
        self.tag = f"h{index}deaf"
        self.fuzzer = Fuzzer(run.seed * 1000 + index, "child", self.tag)
        self.pacer = Pacer(0.5)
        self.sock = None
        self.batch_events = []

    def batch(self, n):
        self.batch_events = []
        for _ in range(n // 4):
            if self.sock is None:
                self.sock = rawwire.RawSocket(self.run.server.url, self.actions.cookie_header(),
                                              read=False, answer_pings=False, timeout=5)
                try:
                    self.sock.open({"v": 1, "room": self.run.room_id}, wait=False)
                    self.sock.emit("sync", {"since": -1}, ack=False)
                except Exception:
                    self.close()
                    continue
            roll = self.fuzzer.rng.random()
            msg = ("op", self.fuzzer.valid_op()) if roll < 0.3 else ("eph", self.fuzzer.valid_eph())
            self.pacer.take("op" if msg[0] == "op" else "eph")
            try:
                self.sock.emit(*msg, ack=False)
            except Exception:           # closed by the server (no pong): come back
                self.close()
                continue
            with self.run.report.lock:
                self.run.report.events += 1

    def close(self):
        if self.sock is not None:
            self.sock.close(abrupt=True)
            self.sock = None


class Keeper(Replica):
    """A well-behaved client that also does what the browser does when the server
    says `bye` (reconnect) or `lobby` (sync again)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.need_sync = False

    def _recorder(self, ev):
        handle = super()._recorder(ev)

        def on(data=None):
            handle(data)
            if ev == "lobby" and isinstance(data, dict) and (data.get("resume") or data.get("admitted")):
                self.need_sync = True
        return on

    def tend(self):
        """Reconnect or resync when needed; never raises (the server may refuse for
        a passing reason: a locked room, a session that just ended)."""
        try:
            if not self.sio.connected:
                try:
                    self.resume()
                except Exception:
                    self.close()          # not let in (yet): try again next time
                    raise
            elif self.need_sync:
                self.need_sync = False
                self.call("sync", {"since": self.applied_seq if self.states is not None else -1}, timeout=10)
            else:
                self.mend()
            self.retry_refused()
        except Exception:
            pass


class Run:
    """One fuzz run against one server."""

    def __init__(self, workdir, mode, seed, events, batch=BATCH, log=print):
        self.workdir = workdir
        self.mode = mode
        self.seed = seed
        self.target = events
        self.batch_size = batch
        self.log = log
        self.report = Report(mode, seed)
        self.registry = build_registry()
        self.server = None
        self.log_offset = 0
        self.pids = []
        self.stop = threading.Event()
        self.seen_exceptions = set()
        self.isolations = 0

    # -- set-up
    def start(self):
        self.server = ServerProcess(self.workdir, mode=self.mode).start()
        base = self.server.url
        self.therapist = Actions(base)
        self.therapist.register()
        self.room_id, links = self.therapist.create_room()
        guests = {}
        self.everyone = [self.therapist]
        for i, role in enumerate(("child", "parent", "child") + HOSTILE_ROLES[1:]):
            a = Actions(base)
            self.everyone.append(a)
            a.join(links[role], name=f"{role}{i}", avatar="fox")
            guests.setdefault(role, []).append(a)
        self.keepers = [self._keeper(self.therapist, "therapist"),
                        self._keeper(guests["child"].pop(0), "child"),
                        self._keeper(guests["parent"].pop(0), "parent")]
        names = self.registry.names()
        self.baseline = {**BASELINE, "perms": {role: {**{n: True for n in names}, "switch": True}
                                               for role in ("child", "parent")}}
        self._settings(self.baseline)
        self.pids = self._pids()
        self.hostiles = []
        for i, role in enumerate(HOSTILE_ROLES):
            actions = self.therapist if role == "therapist" else guests[role].pop(0)
            self.hostiles.append(Hostile(self, role, actions, i))
        self.hostiles.append(Deaf(self, guests["child"].pop(0), len(HOSTILE_ROLES)))
        self.actions = {"therapist": self.therapist, "child": self.keepers[1].actions,
                        "parent": self.keepers[2].actions}
        self.log_offset = os.path.getsize(self.server.log_path)

    def _keeper(self, actions, role):
        k = Keeper(actions, self.room_id, self.registry, f"r{role[0]}")
        k.role = role
        k.fuzzer = Fuzzer(self.seed * 31 + len(role), role, k.tag)
        k.resume(self.server.url)
        return k

    def _pids(self):
        presence = self.keepers[0].received("presence")
        return [p["id"] for p in presence[-1]["participants"]] if presence else []

    def _settings(self, changes):
        try:
            return self.keepers[0].call("settings", changes, timeout=ANSWER_TIMEOUT)
        except Exception as e:
            return {"ok": False, "error": str(e)}

    # -- the well-behaved replicas draw meanwhile
    def _drive(self, keeper):
        while not self.stop.is_set():
            keeper.tend()
            if keeper.sio.connected and keeper.in_flight() < 4:
                msg = keeper.fuzzer.valid_op()
                keeper.send(msg["t"], msg["d"], a=msg["a"])
                with self.report.lock:
                    self.report.replica_ops += 1
            self.stop.wait(0.2)         # ~5 ops/s: the therapist's allowance is shared

    # -- checks
    def _batch(self, client):
        """One client's batch; a bug of the harness itself fails the run too."""
        try:
            client.batch(self.batch_size)
        except Exception:
            self.report.add("harness", f"{client.tag}: {traceback.format_exc(limit=4)[-600:]}")

    def check_server(self, batch):
        srv = self.server
        if srv.proc.poll() is not None:
            self.report.add("crashes", f"batch {batch}: server exited ({srv.proc.returncode}): "
                            f"{srv.log()[-1500:]}")
            return False
        try:
            ok = requests.get(srv.url + "/", timeout=ANSWER_TIMEOUT).status_code == 200
        except requests.RequestException as e:
            ok, e_text = False, str(e)
        else:
            e_text = "status not 200"
        if not ok:
            self.report.add("crashes", f"batch {batch}: server does not answer HTTP ({e_text})")
        return ok

    def new_log(self):
        with open(self.server.log_path, "rb") as f:
            f.seek(self.log_offset)
            text = f.read().decode("utf-8", "replace")
        self.log_offset += len(text.encode("utf-8", "replace"))
        return text

    def check_log(self, batch, events):
        """Count the tracebacks the log gained; one example per kind of exception,
        with the event that causes it when a replay alone reproduces it."""
        text = self.new_log()
        for exc in tracebacks(text):
            known = exc in self.seen_exceptions
            self.seen_exceptions.add(exc)
            self.report.add("tracebacks", None if known else
                            f"batch {batch}: {exc} | culprit: {self.isolate(events, exc)}")

    def isolate(self, events, exc):
        """Resend the batch's events one at a time on a fresh connection of the same
        participant until the log shows this exception again: its culprit (or '?')."""
        if self.isolations >= 8 or not events:
            return "not isolated"
        self.isolations += 1
        for hostile, ev in events:
            if ev.kind not in ("emit", "frame"):
                continue
            sock = rawwire.RawSocket(self.server.url, hostile.actions.cookie_header(), timeout=5)
            try:
                sock.open({"v": 1, "room": self.room_id})
                rawwire.sync(sock, timeout=5)
                if ev.kind == "frame":
                    sock.send_frame(ev.frame)
                    sock.wait(lambda: False, 0.3)
                else:
                    ack_id = sock.emit(*ev.args, ack=True, binary=ev.binary)
                    sock.wait(lambda: ack_id in sock.acks, 2)
            except Exception:
                pass
            finally:
                sock.close()
            if exc in tracebacks(self.new_log()):
                return ev.describe(240)
        return "? (not reproduced alone)"

    # -- the run
    def run(self):
        t0 = time.monotonic()
        drivers = [threading.Thread(target=self._drive, args=(k,), daemon=True) for k in self.keepers]
        for d in drivers:
            d.start()
        batch = 0
        try:
            # Bounded even if no event gets through (every connect refused).
            most = 10 + 3 * self.target // (self.batch_size * len(self.hostiles))
            while self.report.events < self.target and batch < most:
                batch += 1
                threads = [threading.Thread(target=self._batch, args=(h,), daemon=True)
                           for h in self.hostiles]
                for t in threads:
                    t.start()
                for h, t in zip(self.hostiles, threads):
                    t.join(ANSWER_TIMEOUT * 20)
                    if t.is_alive():
                        self.report.add("hangs", f"batch {batch}: hostile client {h.tag} stuck")
                events = [(h, ev) for h in self.hostiles for ev in h.batch_events]
                if not self.check_server(batch):
                    break
                self._settings(self.baseline)
                self.check_log(batch, events)
                if batch % 10 == 0:
                    self.log(f"  batch {batch}: {self.report.summary()} "
                             f"[{time.monotonic() - t0:.0f} s]")
        finally:
            self.stop.set()
            for d in drivers:
                d.join(30)
            for h in self.hostiles:
                h.close()
        if not self.report.crashes:
            self._settings(self.baseline)
            self.converge()
            self.check_log("end", [])
        return self.report

    def converge(self):
        """Every replica ends with what a fresh late joiner of its role receives."""
        for k in self.keepers:
            k.tend()
            try:
                wait_for(lambda: k.in_flight() == 0, timeout=ANSWER_TIMEOUT, what=f"{k.tag} acks")
            except AssertionError as e:
                self.report.add("hangs", f"replica {k.tag}: {e}")
        for k in self.keepers:
            try:
                self.compare(k)
            except Exception as e:
                self.report.add("divergences", f"replica {k.tag} ({k.role}) did not converge: {e}"[:400])

    def compare(self, k, tries=5):
        """The replica against a fresh late joiner of its role, at the same seq (room
        ops such as a late presence change may still move it on: then again)."""
        for _ in range(tries):
            fresh = self.late_joiner(k.role)
            k.tend()
            k.catch_up(fresh["seq"], timeout=ANSWER_TIMEOUT * 2)
            mine = json.loads(k.state_json())
            if mine == fresh["activities"]:
                return
            if k.applied_seq == fresh["seq"]:
                break
        self.report.add("divergences", f"replica {k.tag} ({k.role}) at seq {k.applied_seq}, late "
                        f"joiner at {fresh['seq']}: {first_difference(mine, fresh['activities'])}")

    def late_joiner(self, role):
        sock = rawwire.RawSocket(self.server.url, self.actions[role].cookie_header(),
                                 timeout=ANSWER_TIMEOUT)
        try:
            sock.open({"v": 1, "room": self.room_id})
            ack = rawwire.sync(sock, -1)
            assert ack.get("ok"), ack
            states = sock.received("state")
            assert states and states[-1]["mode"] == "snapshot", states[-1:]
            return states[-1]
        finally:
            sock.close()

    def close(self):
        for k in getattr(self, "keepers", []):
            try:
                k.close()
            except Exception:
                pass
        for actions in getattr(self, "everyone", []):
            actions.http.close()
        if self.server is not None:
            self.server.stop()


def tracebacks(log_text):
    """The exception line ("KeyError: 'x'") of every traceback in `log_text`."""
    out = []
    for chunk in log_text.split("Traceback (most recent call last):")[1:]:
        for line in chunk.splitlines()[1:]:
            if line.strip() and not line[:1].isspace():
                out.append(line.strip()[:200])
                break
        else:
            out.append("(traceback without an exception line)")
    return out


def first_difference(a, b, path="$"):
    """Where two JSON values first differ, as `path: a != b` (short)."""
    if type(a) is not type(b):
        return f"{path}: {str(a)[:60]} != {str(b)[:60]}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: only on {'replica' if k in a else 'late joiner'}"
            if a[k] != b[k]:
                return first_difference(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {str(a)[:60]} != {str(b)[:60]}"


def fuzz(mode, seed, events, workdir=None, batch=BATCH, log=print):
    """One whole run; returns its Report."""
    own = workdir is None
    tmp = tempfile.TemporaryDirectory(prefix=f"fuzz-{mode}-") if own else None
    run = Run(tmp.name if own else workdir, mode, seed, events, batch=batch, log=log)
    try:
        run.start()
        return run.run()
    finally:
        run.close()
        if tmp is not None:
            tmp.cleanup()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", action="append", choices=["gevent", "eventlet", "threading"])
    p.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "1")))
    p.add_argument("--events", type=int, default=int(os.environ.get("FUZZ_EVENTS", "50000")))
    args = p.parse_args(argv)
    failed = False
    for mode in args.mode or ["gevent", "eventlet", "threading"]:
        report = fuzz(mode, args.seed, args.events)
        print(report.details() if report.failed else report.summary(), flush=True)
        failed = failed or bool(report.failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
