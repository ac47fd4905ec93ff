"""FRAME1 in isolation (by hand, not in `make bench`): CPU per recipient of writing one
emit's text to WebSocket connections, the library's way (simple-websocket + wsproto,
and eventlet's framing) against the shared frame (rooms/transport/tuning.py), through
the same `_Guarded.send` the engine.io writer calls. Sockets are in-memory (the bytes
are dropped), so only framing and the write call are measured, not the queue hand-off,
the task switch or the kernel's send.

    .venv/bin/python bench/frames.py [--recipients 3] [--emits 20000]
"""
import argparse
import os
import sys
import time
import warnings

warnings.simplefilter("ignore", DeprecationWarning)   # eventlet's notice on import
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from wsproto import ConnectionType, WSConnection  # noqa: E402
from wsproto.events import AcceptConnection, Request  # noqa: E402

from rooms.transport.tuning import SharedFrame, _Guarded  # noqa: E402

# Typical relayed texts (bench/ relay): a stroke preview of 8 points, a committed stroke.
EPH = '42["eph",{"items":[{"a":"canvas","k":"stroke","id":"s1733570000000","page":"p1","tool":"pen",' \
      '"color":"#e53935","size":8,"from":120,"pts":[' + ",".join(["512.5,384.25,0.5"] * 8) + \
      ']}],"from":"p-3f2a9c"}]'
OP = '42["op",{"seq":1234,"a":"canvas","t":"stroke","op_id":"op-1733570000000","by":"p-3f2a9c","d":' \
     '{"id":"s1733570000000","page":"p1","tool":"pen","color":"#e53935","size":8,"pts":[' + \
     ",".join(["512.5,384.25,0.5"] * 60) + "]}}]"


class Sink:
    whole = True

    def send(self, data):
        return len(data)

    def sendall(self, data):
        pass


class Eio:
    closed = False
    _playroom_flight = 0


def simple_websocket_like():
    import simple_websocket.ws as sws
    client, server = WSConnection(ConnectionType.CLIENT), WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(host="h", target="/")))
    for ev in server.events():
        if isinstance(ev, Request):
            server.send(AcceptConnection())
    inner = sws.Base.__new__(sws.Server)        # simple-websocket's send, our in-memory socket
    inner.ws, inner.sock, inner.connected = server, Sink(), True

    class WSGI:                                 # engine.io's SimpleWebSocketWSGI.send
        ws = inner

        def send(self, message):
            return inner.send(message)
    return WSGI()


def eventlet_like():
    import eventlet.websocket
    return eventlet.websocket.RFC6455WebSocket(Sink(), {}, 13)


def per_recipient_us(make, text, recipients, emits, shared):
    socks = [_Guarded(Eio(), make()) for _ in range(recipients)]
    t0 = time.process_time()
    for _ in range(emits):
        msg = SharedFrame(text) if shared else "" + text
        for g in socks:
            g.send(msg)
    return (time.process_time() - t0) / (emits * recipients) * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipients", type=int, default=3)
    ap.add_argument("--emits", type=int, default=20000)
    args = ap.parse_args()
    kinds = [("simple-websocket", simple_websocket_like)]
    try:
        import eventlet.websocket  # noqa: F401
        kinds.append(("eventlet", eventlet_like))
    except ImportError:
        pass
    print(f"µs of CPU per recipient, {args.recipients} recipients, {args.emits} emits")
    print(f"{'connection':18} {'text':9} {'library':>8} {'shared':>8}")
    for name, make in kinds:
        for label, text in (("eph", EPH), ("op", OP)):
            lib = min(per_recipient_us(make, text, args.recipients, args.emits, False) for _ in range(3))
            fast = min(per_recipient_us(make, text, args.recipients, args.emits, True) for _ in range(3))
            print(f"{name:18} {label} {len(text.encode()):4}B {lib:8.2f} {fast:8.2f}")


if __name__ == "__main__":
    main()
