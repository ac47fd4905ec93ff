"""nginx (Debian's package) in front of two Playroom processes on one Redis, with the
documented configuration (docs/deploy/nginx.conf; only its ports and listen address
are replaced). nginx runs unprivileged-style: its own prefix, pid, logs and temp
folders in the test's tmp_path, `-g 'daemon off;'`. A person registers, creates a room
and a child joins through nginx; Socket.IO clients over WebSocket, over long-polling
and polling-then-upgrade all work through it and see each other's ops, including a
client connected straight to the other process; and the room routing (ROUTE1): every
request of every socket of one room reaches one process, while two rooms can live on
different processes and still work."""
import os
import re
import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from app import create_app
from tests.support import (ROOT, Actions, ServerCluster, SocketUser, end_process, free_port,
                           stroke, wait_for)

from .conftest import assert_no_crash_in_log, wait_op

DOC = os.path.join(ROOT, "docs", "deploy", "nginx.conf")


def nginx_binary():
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.access(p, os.X_OK)), None)
    if found is None:
        msg = "nginx not found: install Debian's nginx package (`make test` does)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + "; CI=true, so this test may not be skipped", pytrace=False)
        pytest.skip(msg)
    return found


def render(doc_text, listen_port, backend_ports):
    """The documented config with this test's ports: upstream servers 5001/5002 become
    the two processes, `listen 80` a loopback port."""
    text = doc_text.replace("listen 80;", f"listen 127.0.0.1:{listen_port};")
    for doc_port, port in zip(("5001", "5002"), backend_ports):
        text = text.replace(f"127.0.0.1:{doc_port};", f"127.0.0.1:{port};")
    # (a free port may well contain "5001", so look for the documented addresses)
    assert "127.0.0.1:5001;" not in text and "127.0.0.1:5002;" not in text
    assert "listen 80;" not in text
    # nginx drops inherited add_header lines in a block that has its own (HSTS), so
    # the test's header goes next to each of them as well.
    text = text.replace("    add_header ", f"    {TEST_HEADER}\n    add_header ")
    return text


TEST_HEADER = "add_header X-Test-Upstream $upstream_addr always;"


MAIN = """
{user}
worker_processes 1;
worker_rlimit_nofile {files};
pid {d}/nginx.pid;
error_log {d}/error.log notice;
events {{ worker_connections {connections}; }}
http {{
    access_log {d}/access.log;
    # test only: nginx's own record of which process it sent each request to
    log_format routed '$request_uri $status $upstream_addr';
    access_log {d}/routed.log routed;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    # test only: which process answered (the documented file does not tell the world)
    {test_header}
    include {d}/playroom.conf;
}}
"""


class Nginx:
    def __init__(self, workdir, backend_ports, connections=256):
        """`connections`: nginx's per-worker limit; a proxied socket takes two (the
        client's and the process's): bench/scaleout.py needs thousands."""
        self.dir = os.path.join(str(workdir), "nginx")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        with open(DOC) as f:
            site = render(f.read(), self.port, backend_ports)
        with open(os.path.join(self.dir, "playroom.conf"), "w") as f:
            f.write(site)
        # As root (a container), the master would hand workers to `nobody`, who cannot
        # enter pytest's private tmp folders: keep them as the current user.
        user = "user root;" if os.geteuid() == 0 else ""
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(MAIN.format(d=self.dir, user=user, test_header=TEST_HEADER,
                                connections=connections, files=2 * connections + 64))
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        binary = nginx_binary()
        test = subprocess.run([binary, "-t", "-p", self.dir, "-c", self.conf, "-e",
                               os.path.join(self.dir, "error.log")], capture_output=True, text=True)
        assert test.returncode == 0, test.stderr
        self._log = open(os.path.join(self.dir, "stdout.log"), "ab")
        self.proc = subprocess.Popen([binary, "-p", self.dir, "-c", self.conf, "-e",
                                      os.path.join(self.dir, "error.log"), "-g", "daemon off;"],
                                     stdout=self._log, stderr=subprocess.STDOUT)

        def up():
            assert self.proc.poll() is None, self.error_log()
            try:
                return requests.get(self.url + "/", timeout=1).status_code == 200
            except requests.RequestException:
                return False
        wait_for(up, timeout=15, what="nginx")
        return self

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log"), errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        end_process(self.proc, self._log if self.proc else None)
        self.proc = None


@pytest.fixture
def behind_nginx(tmp_path, redis_url):
    cluster = ServerCluster(tmp_path, redis_url, n=2, env={"PLAYROOM_BEHIND_PROXY": "1"}).start()
    proxy = None
    try:
        proxy = Nginx(tmp_path, [s.port for s in cluster.servers])
        proxy.start()
        yield proxy, cluster
    finally:
        if proxy is not None:
            proxy.stop()
        cluster.stop()
    for srv in cluster.servers:
        assert_no_crash_in_log(srv)


def test_the_documented_config_passes_nginx_t(tmp_path):
    Nginx(tmp_path, [free_port(), free_port()])      # renders
    binary = nginx_binary()
    d = os.path.join(str(tmp_path), "nginx")
    r = subprocess.run([binary, "-t", "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e",
                        os.path.join(d, "error.log")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_a_session_works_through_nginx_over_websocket_and_polling(behind_nginx):
    proxy, cluster = behind_nginx
    ports = {str(s.port) for s in cluster.servers}
    # Pages are balanced over both processes.
    seen = {requests.get(proxy.url + "/", timeout=5).headers["X-Test-Upstream"].rsplit(":", 1)[1]
            for _ in range(6)}
    assert seen == ports

    therapist = Actions(proxy.url)
    therapist.register()
    room_id, links = therapist.create_room()
    # Links name the public address (nginx's), not a process behind it.
    assert all(link.startswith(proxy.url + "/j/") for link in links.values()), links
    child = Actions(proxy.url)
    assert child.join(links["child"]) == room_id

    users = []
    try:
        t_ws = SocketUser(therapist, room_id).connect()
        users.append(t_ws)
        ack = t_ws.call("settings", {"auto_admit": True})
        assert ack["ok"], ack
        # Long-polling without the room argument (a page loaded before ROUTE1) still
        # keeps its session on one process (nginx falls back to the client address).
        c_poll = SocketUser(child, room_id).connect(transports=("polling",), route=False)
        users.append(c_poll)
        c_up = SocketUser(child, room_id).connect(transports=("polling", "websocket"))
        users.append(c_up)
        assert c_poll.sio.transport() == "polling"
        wait_for(lambda: c_up.sio.transport() == "websocket", what="the upgrade to websocket")
        # one more, straight to each process, bypassing nginx
        direct = [SocketUser(therapist, room_id).connect(url=s.url) for s in cluster.servers]
        users += direct

        a = c_poll.op("stroke", stroke(sid="by-poll"), op_id="op-poll")
        assert a["ok"], a
        b = t_ws.op("stroke", stroke(sid="by-ws"), op_id="op-ws")
        assert b["ok"], b
        for u in users:
            assert wait_op(u, "op-poll")["seq"] == a["seq"]
            assert wait_op(u, "op-ws")["seq"] == b["seq"]
    finally:
        for u in users:
            u.close()
        for who in (therapist, child):
            who.http.close()
    with open(os.path.join(proxy.dir, "access.log")) as f:
        access = f.read()
    assert re.search(r'"GET /socket.io/\?[^"]*transport=polling', access)
    assert re.search(r'"GET /socket.io/\?[^"]*transport=websocket[^"]*" 101', access)


def upstream_of(proxy, room_id):
    """The process nginx picks for a room's sockets, asked with a request the server
    refuses at once (an Engine.IO version it does not speak, so no session is opened)."""
    r = requests.get(f"{proxy.url}/socket.io/", params={"room": room_id, "EIO": "3",
                                                        "transport": "polling"}, timeout=5)
    return r.headers["X-Test-Upstream"]


def routed_requests(proxy):
    """(room argument, process) of every /socket.io/ request nginx has logged."""
    with open(os.path.join(proxy.dir, "routed.log")) as f:
        for line in f:
            uri, _status, upstream = line.split(" ", 2)
            if uri.startswith("/socket.io/"):
                query = parse_qs(urlsplit(uri).query)
                yield query.get("room", [None])[0], query["transport"][0], upstream.strip()


def test_ROUTE1_a_rooms_sockets_share_one_process_behind_nginx(behind_nginx):
    proxy, cluster = behind_nginx
    therapist = Actions(proxy.url)
    therapist.register()
    # Rooms until two are hashed to different processes (each new one: 1 in 2).
    rooms = {}
    for _ in range(16):
        room_id, links = therapist.create_room()
        rooms.setdefault(upstream_of(proxy, room_id), (room_id, links))
        if len(rooms) == 2:
            break
    assert len(rooms) == 2, "16 rooms all hashed to one process"
    people, users = [therapist], []
    try:
        for n, (room_id, links) in enumerate(rooms.values()):
            child = Actions(proxy.url)
            people.append(child)
            assert child.join(links["child"]) == room_id
            here = [SocketUser(therapist, room_id).connect(),
                    SocketUser(child, room_id).connect(transports=("polling",)),
                    SocketUser(child, room_id).connect(transports=("polling", "websocket"))]
            users += here
            wait_for(lambda: here[2].sio.transport() == "websocket", what="the upgrade")
            by_poll = here[1].op("stroke", stroke(sid=f"poll-{n}"), op_id=f"poll-{n}")
            by_ws = here[0].op("stroke", stroke(sid=f"ws-{n}"), op_id=f"ws-{n}")
            assert by_poll["ok"] and by_ws["ok"], (by_poll, by_ws)
            for u in here:
                assert wait_op(u, f"poll-{n}")["seq"] == by_poll["seq"]
                assert wait_op(u, f"ws-{n}")["seq"] == by_ws["seq"]
    finally:
        for u in users:
            u.close()
        for who in people:
            who.http.close()
    # A WebSocket is logged when it closes: wait for the 2 x 2 of them.
    wait_for(lambda: sum(t == "websocket" for _, t, _ in routed_requests(proxy)) >= 4,
             what="nginx to log the closed WebSockets")
    seen = {}
    for room_id, transport_name, upstream in routed_requests(proxy):
        seen.setdefault(room_id, {}).setdefault(upstream, set()).add(transport_name)
    for upstream, (room_id, _) in rooms.items():
        assert seen[room_id] == {upstream: {"polling", "websocket"}}, seen[room_id]
    assert set(rooms) == {f"127.0.0.1:{s.port}" for s in cluster.servers}


def test_behind_proxy_trusts_the_forwarded_scheme_and_host(tmp_path):
    """PLAYROOM_BEHIND_PROXY (ProxyFix, outermost): behind a TLS-terminating nginx the
    invite links (url_for(_external=True)) and Socket.IO's origin check see https and
    the public host. Off by default: a direct client could forge the headers."""
    from werkzeug.middleware.proxy_fix import ProxyFix
    app = create_app({"INSTANCE_PATH": str(tmp_path / "a"), "BEHIND_PROXY": True})
    plain = create_app({"INSTANCE_PATH": str(tmp_path / "b")})
    try:
        assert isinstance(app.wsgi_app, ProxyFix) and not isinstance(plain.wsgi_app, ProxyFix)
        seen = {}

        def probe(environ, start_response):
            seen.update(environ)
            start_response("200 OK", [])
            return [b""]
        app.wsgi_app.app = probe     # what Socket.IO's middleware (and Flask) would get
        app.wsgi_app({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_NAME": "127.0.0.1",
                      "SERVER_PORT": "5001", "wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:5001",
                      "REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9",
                      "HTTP_X_FORWARDED_PROTO": "https",
                      "HTTP_X_FORWARDED_HOST": "playroom.example.org"}, lambda *a: None)
        assert (seen["wsgi.url_scheme"], seen["HTTP_HOST"], seen["REMOTE_ADDR"]) == \
            ("https", "playroom.example.org", "203.0.113.9")
    finally:
        app.extensions["playroom"].storage.close()
        plain.extensions["playroom"].storage.close()
