"""The server the official Engine.IO v4 / Socket.IO v5 protocol suites run against.

    python tests/conformance/server.py --mode gevent --port 3000 [--baseline]

Both suites expect one server (their README): Engine.IO at `/engine.io/` echoing
every message; Socket.IO at `/socket.io/` with a `/custom` namespace, an `auth`
event carrying the connect payload, `message` answered by `message-back` and
`message-with-ack` acked with its own arguments; ping interval 300 ms, ping
timeout 200 ms, max payload 1,000,000 bytes.

Patched (default): Playroom's real stack, so a failure the baseline does not have
is one of our patches: app.py's pre-import block (monkey-patching, eventlet's
unmasking), `create_app` (Flask-SocketIO, the Hub's packet class and its Gate) and
`serve` (shared pings, queue caps, screened Engine.IO frames, whole WebSocket
writes, our connection handling). Only what the suites need differs: their
handlers stand in for the Hub's (a room socket needs a signed-in person), the
Gate lets their events through (WIRE1 allows only the app's own event names with
one argument on `/`: the suites' `message` is a reserved name there), and the
Engine.IO echo server is mounted beside Socket.IO, screened like it.

Baseline (`--baseline`): the same handlers on unpatched python-socketio and
python-engineio, served by each mode's plain WSGI server.
"""
import argparse
import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PING_INTERVAL = 0.3       # seconds (the suites' PING_INTERVAL = 300)
PING_TIMEOUT = 0.2
MAX_PAYLOAD = 1_000_000
NAMESPACES = ("/", "/custom")
AUTH_DELAY = 0.02         # seconds between CONNECT and the `auth` event (see suite_handlers)


def _args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", choices=("gevent", "eventlet", "threading"), required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--baseline", action="store_true", help="unpatched libraries")
    return p.parse_args()


def run_app_prelude(mode):
    """Run app.py's own pre-import block (its `if __name__ == "__main__":` before the
    imports: monkey-patching and eventlet's unmasking), so the patched server starts
    exactly as `python app.py` does."""
    path = os.path.join(ROOT, "app.py")
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    block = next(node for node in tree.body if isinstance(node, ast.If)
                 and ast.unparse(node.test) == "__name__ == '__main__'")
    os.environ["PLAYROOM_ASYNC_MODE"] = mode
    exec(compile(ast.Module([block], []), path, "exec"),
         {"__name__": "__main__", "os": os, "DEFAULT_ASYNC_MODE": mode})


def plain_monkey_patch(mode):
    """What the libraries' documentation asks for, and nothing more."""
    if mode == "eventlet":
        import warnings
        warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
        import eventlet
        eventlet.monkey_patch()
    elif mode == "gevent":
        from gevent import monkey
        monkey.patch_all()


def suite_handlers(sio):
    """The Socket.IO handlers the v5 suite expects, on `sio` (python-socketio)."""
    def on_connect(namespace):
        def connect(sid, environ, auth=None):
            sio.start_background_task(send_auth, sid, auth or {}, namespace)
        return connect

    def send_auth(sid, auth, namespace):
        # A moment after the CONNECT packet, as Node's engine.io writes a packet
        # sent in the same tick only after the first write's callback: the suite
        # waits for each message with a listener it adds once the last one came,
        # so two messages that arrive in one read lose the second (the client,
        # not the server under test, would fail).
        sio.sleep(AUTH_DELAY)
        sio.emit("auth", auth, to=sid, namespace=namespace)

    def message(sid, *args):
        sio.emit("message-back", args, to=sid, namespace="/")

    def message_with_ack(sid, *args):
        return args

    for namespace in NAMESPACES:
        sio.on("connect", on_connect(namespace), namespace=namespace)
        sio.on("disconnect", lambda sid, reason=None: None, namespace=namespace)
    sio.on("message", message, namespace="/")
    sio.on("message-with-ack", message_with_ack, namespace="/")


def echo_engineio(mode):
    """The Engine.IO server the v4 suite expects: every message comes back."""
    import engineio
    eio = engineio.Server(async_mode=mode, ping_interval=PING_INTERVAL,
                          ping_timeout=PING_TIMEOUT, max_http_buffer_size=MAX_PAYLOAD)
    eio.on("message", lambda sid, data: eio.send(sid, data))
    return eio


def suite_events(gate):
    """The Gate's test of an event, widened to the suite's events (any number of
    arguments, reserved name `message`): what the suite checks is the protocol,
    not WIRE1's policy."""
    def ours(data):
        return (type(data) is list and len(data) >= 1 and type(data[0]) is str
                and data[0] in gate.server.handlers.get("/", ()))
    return ours


def patched(mode, port):
    run_app_prelude(mode)
    import tempfile
    import engineio
    import app as playroom

    instance = tempfile.mkdtemp(prefix="playroom-conformance-")
    flask_app = playroom.create_app({
        "ASYNC_MODE": mode, "INSTANCE_PATH": instance, "MESSAGE_QUEUE": False,
        "RETENTION_INTERVAL_MINUTES": 0})
    sio = flask_app.extensions["socketio"].server
    sio.eio.ping_interval, sio.eio.ping_timeout = PING_INTERVAL, PING_TIMEOUT
    sio.eio.max_http_buffer_size = MAX_PAYLOAD
    sio.always_connect = True         # CONNECT goes out before the `auth` event
    sio.handlers = {}                 # the suite's handlers instead of the Hub's
    suite_handlers(sio)
    hub = flask_app.extensions["playroom"].hub
    hub.gate.ours = suite_events(hub.gate)
    eio = echo_engineio(mode)
    try:
        from rooms.transport import boundary      # the layout of issue 13
    except ImportError:
        from rooms import boundary
    boundary.screen_engineio(eio)
    flask_app.wsgi_app = engineio.WSGIApp(eio, flask_app.wsgi_app, engineio_path="engine.io")
    print(f"conformance server (patched, {mode}) on 127.0.0.1:{port}", flush=True)
    playroom.serve(flask_app, "127.0.0.1", port, mode)


def baseline(mode, port):
    plain_monkey_patch(mode)
    import engineio
    import socketio
    sio = socketio.Server(async_mode=mode, ping_interval=PING_INTERVAL,
                          ping_timeout=PING_TIMEOUT, max_http_buffer_size=MAX_PAYLOAD,
                          always_connect=True)
    suite_handlers(sio)
    wsgi = socketio.WSGIApp(sio, engineio.WSGIApp(echo_engineio(mode), engineio_path="engine.io"))
    print(f"conformance server (baseline, {mode}) on 127.0.0.1:{port}", flush=True)
    if mode == "eventlet":
        import eventlet
        import eventlet.wsgi
        eventlet.wsgi.server(no_delay(eventlet.listen(("127.0.0.1", port))), wsgi, log_output=False)
    elif mode == "gevent":
        import socket
        from gevent import pywsgi
        listener = no_delay(socket.create_server(("127.0.0.1", port), backlog=128))
        pywsgi.WSGIServer(listener, wsgi, log=None).serve_forever()
    else:
        from werkzeug.serving import make_server
        server = make_server("127.0.0.1", port, wsgi, threaded=True)
        no_delay(server.socket)
        server.serve_forever()


def no_delay(sock):
    """TCP_NODELAY on the baseline's listener too, as app.serve sets it (and Node's
    ws does by default): it is a socket option, not a library patch, and it decides
    whether two packets written back to back reach the client in one read. The v5
    suite's `waitFor` does not buffer, so it loses the second of two messages that
    arrive together (its custom-namespace tests); with Nagle on, the baseline
    passed those only because its second write waited for the client's ACK."""
    import socket
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def main():
    args = _args()
    sys.path.insert(0, ROOT)
    if args.baseline:
        baseline(args.mode, args.port)
    else:
        patched(args.mode, args.port)


if __name__ == "__main__":
    main()
