"""Scale-out (issue 18, part 3; run.py's `scaleout` part, or by hand): server CPU per
delivered message with REDIS_URL and two processes behind the documented nginx
(docs/deploy/nginx.conf, room-routed, ROUTE1) against one process alone at the same
rooms per process, plus one process on SQLite for scale. Same relay load as run.py's
relay part (raw WebSocket receivers, which carry ?room= like the browser).

    .venv/bin/python bench/scaleout.py [--rooms-per-process 10] [--measure 10] [--mode gevent] [--polling]

The processes are not pinned (two of them need both cores, beside nginx, Redis and
the load generator), so run it on a quiet machine and compare within one run."""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import redis

import harness as h
from run import RELAY

from tests.integration.test_nginx import Nginx   # the documented config, ports replaced
from tests.support import DEFAULT_MODE, Actions, RedisServer, ServerCluster, ServerProcess


def make_rooms(base, n):
    """n rooms of therapist + child + parent, made through the real pages at `base`."""
    rooms, th = [], None
    for i in range(n):
        if i % 25 == 0:
            th = Actions(base)
            th.register(email=f"scale{i}-{time.time_ns()}@example.org")
        room_id, links = th.create_room(name=f"Bench {i}")
        clients = [{"role": "therapist", "cookie": th.cookie_header()}]
        for role in ("child", "parent"):
            guest = Actions(base)
            assert guest.join(links[role]) == room_id
            clients.append({"role": role, "cookie": guest.cookie_header()})
        rooms.append({"room": room_id, "clients": clients})
    return rooms


def measure(url, rooms, pids, root, measure_s, transports=None):
    """Run the relay load on `rooms` through `url`; CPU of all `pids` in the window."""
    plan = {"mode": "relay", "url": url, "run_id": f"{time.time_ns() % 10**8:x}", "rooms": rooms,
            "connect_concurrency": 16, **({"transports": transports} if transports else {}),
            "relay": {**RELAY, "warmup_s": 3, "measure_s": measure_s, "drain_s": 2}}
    window, result = {}, {}
    with h.Loadgen(plan, root, 120 + measure_s) as lg:
        for ev in lg.events():
            if ev["event"] == "measure_start":
                window.update(c0={p: h.cpu_seconds(p) for p in pids}, t0=time.monotonic(),
                              b0=h.busy_seconds())
            elif ev["event"] == "measure_end":
                wall = time.monotonic() - window["t0"]
                window["cpu"] = [h.cpu_seconds(p) - window["c0"][p] for p in pids]
                window["busy"] = 100 * (h.busy_seconds() - window["b0"]) / wall
            elif ev["event"] == "result":
                result = ev
    if "delivered" not in result:
        return {"error": str(result)[:1000]}
    msgs = result["delivered"]["msgs"]
    return {"rooms": len(rooms), "msgs": msgs, "cpu_s_per_process": window["cpu"],
            "us_per_msg": 1e6 * sum(window["cpu"]) / msgs if msgs else None,
            "preview_p99_ms": result["preview_ms"]["p99"], "error": result.get("error"),
            "loadgen_cpu_pct": result["loadgen"]["cpu_pct"], "machine_busy_pct": window["busy"]}


def on_sqlite(root, n, measure_s, mode=DEFAULT_MODE, transports=None):
    workdir = tempfile.mkdtemp(prefix="sqlite-", dir=root)
    srv = ServerProcess(workdir, mode=mode).start()
    try:
        return measure(srv.url, make_rooms(srv.url, n), [srv.proc.pid], root, measure_s, transports)
    finally:
        srv.stop()


def on_redis(root, redis_url, processes, n, measure_s, mode=DEFAULT_MODE, transports=None):
    """`processes` app processes on one Redis; two or more behind nginx."""
    workdir = tempfile.mkdtemp(prefix=f"redis-{processes}-", dir=root)
    client = redis.Redis.from_url(redis_url)      # each run has its own data key
    client.flushdb()
    client.close()
    cluster = ServerCluster(workdir, redis_url, n=processes, mode=mode,
                            env={"PLAYROOM_BEHIND_PROXY": "1"}).start()
    proxy = None
    try:
        url = cluster.servers[0].url
        if processes > 1:
            # two connections per proxied socket, and the pages' requests
            proxy = Nginx(workdir, [s.port for s in cluster.servers], connections=8 * 3 * n * processes + 256).start()
            url = proxy.url
        pids = [s.proc.pid for s in cluster.servers]
        return measure(url, make_rooms(url, n * processes), pids, root, measure_s, transports)
    finally:
        if proxy is not None:
            proxy.stop()
        cluster.stop()


CONFIGS = ("sqlite, 1 process", "redis, 1 process", "redis, 2 processes behind nginx")


def run(mode, rooms_per_process, measure_s, root, transports=None):
    """The three set-ups at the same rooms per process, one after the other; with the
    two/one ratio of server CPU per delivered message (target ≤ 1.25)."""
    if not (shutil.which("redis-server") and (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"))):
        return {"error": "redis-server and nginx are needed (make test-deps installs them)"}
    work = tempfile.mkdtemp(prefix=f"scaleout-{mode}-", dir=root)
    store = RedisServer(work).start()
    n, m = rooms_per_process, measure_s
    try:
        res = {"sqlite, 1 process": on_sqlite(work, n, m, mode, transports),
               "redis, 1 process": on_redis(work, store.url, 1, n, m, mode, transports),
               "redis, 2 processes behind nginx": on_redis(work, store.url, 2, n, m, mode, transports)}
    finally:
        store.stop()
        shutil.rmtree(work, ignore_errors=True)
    one, two = res["redis, 1 process"], res["redis, 2 processes behind nginx"]
    if one.get("us_per_msg") and two.get("us_per_msg"):
        res["two_over_one"] = two["us_per_msg"] / one["us_per_msg"]
    return res


def lines(res):
    """Table lines for run.py."""
    if res.get("error"):
        return [f"    ERROR {res['error'][:120]}"]
    out = []
    for name in CONFIGS:
        r = res[name]
        if r.get("error") and not r.get("msgs"):
            out.append(f"    {name:32} ERROR {str(r['error'])[:90]}")
            continue
        cpu = " + ".join(f"{c:.1f}" for c in r["cpu_s_per_process"])
        out.append(f"    {name:32} {r['rooms']:>4} rooms: {r['us_per_msg']:6.0f} µs/msg, preview p99 "
                   f"{r['preview_p99_ms']:.1f} ms, server CPU s {cpu}, load generator "
                   f"{r['loadgen_cpu_pct']:.0f}%, machine {r['machine_busy_pct']:.0f}%")
    if res.get("two_over_one"):
        out.append(f"    two processes / one (µs per delivered message): {res['two_over_one']:.2f} (target ≤ 1.25)")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--rooms-per-process", type=int, default=10)
    ap.add_argument("--measure", type=int, default=10)
    ap.add_argument("--mode", default=DEFAULT_MODE)
    ap.add_argument("--polling", action="store_true", help="long-polling clients only")
    args = ap.parse_args(argv)
    root = tempfile.mkdtemp(prefix="scaleout-")
    try:
        res = run(args.mode, args.rooms_per_process, args.measure, root,
                  ["polling"] if args.polling else None)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("\n".join(lines(res)))
    print(json.dumps(res))


if __name__ == "__main__":
    sys.exit(main())
