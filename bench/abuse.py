"""The abuser of bench/noisy.py, in its own process: `python bench/abuse.py plan.json`.

It waits for the server, makes its connections, prints `{"event": "ready"}`, starts on
a `go` line on stdin, runs one abuse until the plan's window ends and prints one
`{"event": "result", ...}` line. Its clients are bare WebSockets speaking the
Engine.IO / Socket.IO v4 text framing, so it can do what no well-behaved client does
(never read its socket, flood without waiting). Light imports only (stdlib,
websocket-client, requests): it starts while the server starts. Every loop is bounded
in count and time (CAPS, the window); every connection goes to the plan's URL, which
the harness sets to 127.0.0.1.
"""
import json
import os
import sys
import threading
import time
import zlib

# Hard caps on what an abuse may send, whatever its window (bounded loops).
CAPS = {"clock": 3_000_000, "op": 500_000, "eph": 500_000, "fill_pages": 20,
        "cycle": 300, "upload": 30, "reconnects": 50}
JOIN_WAIT_S = 30    # join_end: longest wait for one join or the end of the session
VERSION = 1     # set from the plan (activities.contract.protocol.PROTOCOL_VERSION)


class Raw:
    """A bare Socket.IO v4 client on one WebSocket (text framing): `0{..}` open,
    `40{auth}` connect, `42[ev, data]` event, `42<id>[ev, data]` with an ack id,
    `43<id>[..]` ack, `2`/`3` ping/pong. It reads only when told to."""

    def __init__(self, url, cookie, room, timeout=10):
        import websocket
        ws_url = "ws" + url[len("http"):] + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(ws_url, header=[f"Cookie: {cookie}"], timeout=timeout,
                                              suppress_origin=True, enable_multithread=True)
        self.ws.recv()                                          # 0{sid, pingInterval, ...}
        self.ws.send("40" + json.dumps({"v": VERSION, "room": room}))
        for _ in range(100):
            m = self.ws.recv()
            if m.startswith("40"):
                break
            if m.startswith("44"):
                raise RuntimeError(f"connect refused: {m[:200]}")
            if m == "2":
                self.ws.send("3")
        self.next_id = 1
        self.acks, self.errors, self.bye = {}, {}, None
        self.state_bytes = 0
        self.ack_count = 0
        self.closed = False

    def emit(self, event, data, ack=False):
        """Send; returns the ack id (or None)."""
        i = None
        if ack:
            i, self.next_id = self.next_id, self.next_id + 1
        self.send_text("42" + (str(i) if i else "") + json.dumps([event, data], separators=(",", ":")))
        return i

    def send_text(self, text):
        self.ws.send(text)

    def handle(self, m):
        """One received message: pings answered, acks and errors kept."""
        if m == "2":
            self.ws.send("3")
        elif m.startswith("43"):
            k = m.index("[")
            self.acks[int(m[2:k])] = json.loads(m[k:])
            self.ack_count += 1
        elif m.startswith('42["state"'):
            self.state_bytes += len(m)
        elif m.startswith('42["error"'):
            code = json.loads(m[2:])[1].get("code")
            self.errors[code] = self.errors.get(code, 0) + 1
        elif m.startswith('42["bye"'):
            self.bye = json.loads(m[2:])[1].get("code")
        elif m.startswith("1") or m.startswith("41"):
            self.closed = True

    def call(self, event, data, timeout):
        """emit with an ack and read until it comes: (ack, seconds), or (None, seconds)
        after `timeout` (then the socket is shut: a big frame may be half read)."""
        t0 = time.perf_counter()
        i = self.emit(event, data, ack=True)
        cut = threading.Timer(timeout, self.shut)
        cut.start()
        try:
            self.ws.settimeout(timeout)
            while i not in self.acks and time.perf_counter() - t0 < timeout:
                self.handle(self.ws.recv())
        except Exception:
            if time.perf_counter() - t0 < timeout - 0.5:
                raise
        finally:
            cut.cancel()
        return self.acks.get(i), time.perf_counter() - t0

    def shut(self):
        try:
            self.ws.sock.shutdown(2)          # SHUT_RDWR: a blocked recv returns
        except Exception:
            pass

    def read_forever(self, until, timeout=1):
        """In a thread: keep reading (acks, pings) until `until` (monotonic) or close.
        `timeout` is the socket's, for sends as well: a send blocked longer fails."""
        self.ws.settimeout(timeout)
        while time.monotonic() < until and not self.closed:
            try:
                self.handle(self.ws.recv())
            except Exception as e:
                if type(e).__name__ != "WebSocketTimeoutException":
                    self.closed = True

    def close(self):
        try:
            self.ws.close(timeout=1)
        except Exception:
            pass


def reader(raw, until, timeout=1):
    t = threading.Thread(target=raw.read_forever, args=(until, timeout), daemon=True)
    t.start()
    return t


def flood(plan, until, make, cap, read):
    """One socket (the first guest) sends make(n) as fast as it can until `until`;
    reconnects after a bye (RATE2), at most CAPS["reconnects"] times."""
    url, room, cookie = plan["url"], plan["room"], plan["guests"][0]
    stats = {"sent": 0, "reconnects": 0, "send_timeouts": 0, "acks": 0, "errors": {}, "byes": []}
    raw = plan["_raw"]
    t = reader(raw, until + 1) if read else None
    while time.monotonic() < until and stats["sent"] < cap:
        try:
            raw.send_text(make(stats["sent"]))
            stats["sent"] += 1
        except Exception as e:
            if type(e).__name__ == "WebSocketTimeoutException":
                # The server stopped reading us (a frame may be cut: the socket is
                # useless now). Hold it open, unread, until the window ends.
                stats["send_timeouts"] += 1
                time.sleep(max(0.0, until - time.monotonic()))
                break
            stats["byes"].append(raw.bye or type(e).__name__)
            collect(raw, stats)
            if stats["reconnects"] >= CAPS["reconnects"]:
                break
            stats["reconnects"] += 1
            try:
                raw = Raw(url, cookie, room)
                raw.call("sync", {"since": -1, "pack": 1}, 30)
            except Exception:
                time.sleep(0.2)
                continue
            t = reader(raw, until + 1) if read else None
    if t:
        t.join(2)
    collect(raw, stats)
    raw.close()
    return stats


def collect(raw, stats):
    stats["acks"] += raw.ack_count
    for k, v in raw.errors.items():
        stats["errors"][k] = stats["errors"].get(k, 0) + v
    raw.acks, raw.errors, raw.ack_count = {}, {}, 0


def prepare(plan):
    """Connections made before `go` (so the window measures the abuse, not set-up)."""
    name = plan["abuse"]
    if name in ("clock", "op", "eph"):
        raw = Raw(plan["url"], plan["guests"][0], plan["room"])
        if name != "clock":
            ack, _ = raw.call("sync", {"since": -1, "pack": 1}, 30)
            assert ack and ack[0].get("ok"), ack
        raw.ws.settimeout(1)
        plan["_raw"] = raw
    elif name == "fill":
        plan["_raws"] = []
        for cookie in plan["guests"]:
            raw = Raw(plan["url"], cookie, plan["room"])
            ack, _ = raw.call("sync", {"since": -1, "pack": 1}, 30)
            assert ack and ack[0].get("ok"), ack
            plan["_raws"].append(raw)
    elif name == "upload":
        plan["_png"] = big_png(6000, 5000)           # 30,000,000 px: exactly the limit


def abuse_clock(plan, until):
    return flood(plan, until, lambda n: f'42{n % 1000 + 1}["clock",{{}}]', CAPS["clock"], read=False)


def abuse_op(plan, until):
    def make(n):
        return (f'42{n % 1000 + 1}["op",{{"op_id":"f{n}","a":"canvas","t":"stroke","d":{{"page":"p1",'
                f'"id":"f{n}","tool":"pen","color":"#e53935","size":8,'
                f'"pts":[100,100,0.5,120,130,0.5,150,140,0.5,190,150,0.5]}}}}]')
    return flood(plan, until, make, CAPS["op"], read=True)


def abuse_eph(plan, until):
    pts = ",".join(f"{100 + i},{200 + (i % 40)},0.5" for i in range(240))

    def make(n):
        # Consecutive pieces of 1,440-point strokes (`from` stays within 1,500).
        return (f'42["eph",{{"a":"canvas","k":"stroke","id":"e{n // 6}","page":"p1","tool":"pen",'
                f'"color":"#1e40af","size":8,"from":{(n % 6) * 240},"pts":[{pts}]}}]')
    return flood(plan, until, make, CAPS["eph"], read=True)


def abuse_fill(plan, until):
    """Every guest commits 1,500-point strokes at just under its op rate (RATE1), on
    the current page until the page is `full`, then on a new page (up to 20)."""
    pts = ",".join(f"{(37 * i) % 1600}.5,{(53 * i) % 1000}.5,0.{i % 10}" for i in range(1500))
    state = {"page": 1, "pages_added": 0, "lock": threading.Lock()}
    stats = {"sent": 0, "ok": 0, "full": 0, "refused": {}, "send_failed": {}}

    def page_id(k):
        return "p1" if k == 1 else f"f{k}"

    def guest(gi, raw):
        # A slow server makes sends wait (TCP back-pressure) up to 30 s, not fail.
        t = reader(raw, until + 2, timeout=30)
        n, nxt = 0, time.monotonic()
        while time.monotonic() < until and state["page"] <= CAPS["fill_pages"] and n < 10_000:
            for (a,) in [raw.acks.pop(k) for k in list(raw.acks)]:
                with state["lock"]:
                    if a.get("ok"):
                        stats["ok"] += 1
                    elif a.get("code") == "full":
                        stats["full"] += 1
                        if a.get("op_id", "").endswith(f"-{state['page']}"):
                            state["page"] += 1           # this page is full: the next one
                            raw.emit("op", {"op_id": f"pa{state['page']}", "a": "canvas", "t": "page.add",
                                            "d": {"page": page_id(state["page"])}}, ack=True)
                            state["pages_added"] += 1
                    else:
                        code = a.get("code")
                        stats["refused"][code] = stats["refused"].get(code, 0) + 1
            page = state["page"]
            # The points are one pre-built text: the abuser spends its core on sending.
            try:
                raw.send_text(f'42{raw.next_id}["op",{{"op_id":"g{gi}-{n}-{page}","a":"canvas",'
                              f'"t":"stroke","d":{{"page":"{page_id(page)}","id":"g{gi}s{n}","tool":"pen",'
                              f'"color":"#8e24aa","size":16,"pts":[{pts}]}}}}]')
            except Exception as e:
                with state["lock"]:
                    stats["send_failed"][type(e).__name__] = stats["send_failed"].get(type(e).__name__, 0) + 1
                break
            raw.next_id += 1
            with state["lock"]:
                stats["sent"] += 1
            n += 1
            nxt += 1 / 19.0                          # just under op_rate 20/s
            time.sleep(max(0.0, nxt - time.monotonic()))
        t.join(3)
        raw.close()

    threads = [threading.Thread(target=guest, args=(i, r), daemon=True) for i, r in enumerate(plan["_raws"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(until - time.monotonic() + 10)
    return {**stats, "pages": state["page"], "pages_added": state["pages_added"]}


def abuse_join_end(plan, until):
    """Cold join of the filled room by the therapist (the first sync loads it), the 4
    guests' joins, then the therapist ends the session (the record is written) from a
    new socket (the first, unread meanwhile, may have missed its pings). Each step
    waits at most JOIN_WAIT_S; a failed step is reported and the next one runs."""
    out = {"joins_s": [], "failed": {}}

    def join(cookie, since=-1):
        raw = Raw(plan["url"], cookie, plan["room"], timeout=JOIN_WAIT_S)
        try:
            ack, dt = raw.call("sync", {"since": since, "pack": 1}, JOIN_WAIT_S)
            return (ack[0] if ack else None), round(dt, 2), raw.state_bytes
        finally:
            raw.close()

    def step(name, fn):
        try:
            return fn()
        except Exception as e:
            out["failed"][name] = f"{type(e).__name__}: {e}"[:200]
            return None

    got = step("cold_join", lambda: join(plan["therapist"]))
    if got:
        ack, out["cold_join_s"], out["state_bytes"] = got
        out["cold_join_ok"] = bool(ack and ack.get("ok"))
        out["seq"] = ack.get("seq") if out["cold_join_ok"] else None
    for i, cookie in enumerate(plan["guests"]):
        got = step(f"guest{i}", lambda cookie=cookie: join(cookie))
        out["joins_s"].append(got[1] if got and got[0] and got[0].get("ok") else None)

    def end():
        th = Raw(plan["url"], plan["therapist"], plan["room"], timeout=JOIN_WAIT_S)
        try:
            # From the seq the cold join saw: only the few ops since (guests' arrivals).
            since = out["seq"] if out.get("seq") is not None else -1
            th.call("sync", {"since": since, "pack": 1}, JOIN_WAIT_S)
            return th.call("control", {"op_id": "end-1", "action": "end"}, JOIN_WAIT_S)
        finally:
            th.close()
    got = step("end", end)
    if got:
        ack, dt = got
        out["end_s"], out["end_ok"] = round(dt, 2), bool(ack and ack[0].get("ok"))
    return out


def abuse_cycle(plan, until):
    """New participants through one invite link (HTTP), each connecting, syncing and
    disconnecting twice."""
    out = {"participants": 0, "connects": 0, "refused": 0}
    while time.monotonic() < until and out["participants"] < CAPS["cycle"]:
        cookie = join_link(plan["url"] + plan["child_link"])
        if cookie is None:
            out["refused"] += 1
            continue
        out["participants"] += 1
        for _ in range(2):
            try:
                raw = Raw(plan["url"], cookie, plan["room"])
                raw.call("sync", {"since": -1, "pack": 1}, 10)
                raw.close()
                out["connects"] += 1
            except Exception:
                out["refused"] += 1
    return out


def join_link(link):
    """Open an invite link and press "Let's play" (a new participant, as a browser
    does); the session cookie header, or None when the server refused."""
    import re
    import requests
    http = requests.Session()
    try:
        page = http.get(link, timeout=30)
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text)
        r = http.post(link, data={"csrf_token": token.group(1) if token else "", "name": "Cycle",
                                  "avatar": "fox"}, allow_redirects=False, timeout=30)
    except requests.RequestException:
        return None
    if r.status_code != 302:
        return None
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def wait_for_server(url, timeout=60):
    import requests
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/", timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.1)
    return False


def abuse_upload(plan, until):
    import requests
    http = requests.Session()
    http.headers["Cookie"] = plan["therapist"]
    out = {"uploads": 0, "status": {}}
    token = http.get(plan["url"] + "/uploads", timeout=60).json()["csrf"]
    while time.monotonic() < until and out["uploads"] < CAPS["upload"]:
        r = http.post(plan["url"] + "/uploads", headers={"X-CSRFToken": token},
                      files={"file": ("bomb.png", plan["_png"], "image/png")}, timeout=120)
        out["uploads"] += 1
        out["status"][str(r.status_code)] = out["status"].get(str(r.status_code), 0) + 1
    return out


def big_png(w, h):
    """A valid w×h RGB PNG of one colour: a few hundred kB that decode to w·h·3 bytes."""
    import struct

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    z = zlib.compressobj(9)
    row = b"\0" + b"\xf0\xe0\xd0" * w
    body = b"".join(z.compress(row) for _ in range(h)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def abuse_main(path):
    """The abuser process: prepare, `ready`, wait for `go`, abuse, `result`."""
    try:
        os.nice(5)      # the quiet room's clients share this core: they go first
    except OSError:
        pass
    global VERSION
    with open(path) as f:
        plan = json.load(f)
    VERSION = plan["version"]
    try:
        if not wait_for_server(plan["url"]):
            raise RuntimeError("server not up")
        prepare(plan)
    except Exception as e:
        print(json.dumps({"event": "result", "error": f"prepare: {type(e).__name__}: {e}"[:500]}), flush=True)
        return
    print(json.dumps({"event": "ready"}), flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    t0, c0 = time.monotonic(), time.process_time()
    until = t0 + plan["window_s"]
    try:
        stats = globals()["abuse_" + plan["abuse"]](plan, until)
        ev = {"event": "result", **stats}
    except Exception as e:
        ev = {"event": "result", "error": f"{type(e).__name__}: {e}"[:500]}
    ev["seconds"] = round(time.monotonic() - t0, 2)
    ev["cpu_s"] = round(time.process_time() - c0, 2)
    print(json.dumps(ev), flush=True)


if __name__ == "__main__":
    abuse_main(sys.argv[1])
