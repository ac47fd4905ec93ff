"""A fault-injecting TCP proxy for the Redis fault tests (issue #12, FAULT1-4).

`FaultProxy` listens on a free loopback port and forwards every connection to a real
`redis-server`; a server process whose REDIS_URL names the proxy reaches Redis only
through it. The test then makes the link fail the ways a network or a Redis restart
does, without touching Redis itself:

- `drop()`     closes every open connection (a Redis restart, a cut cable);
- `refuse()`   also closes every new connection at once, until `restore()`;
- `stall(s)`   holds every byte for `s` seconds (a link that hangs), then goes on;
- `cut_on(b)`  closes a connection whose client sends a command containing `b`
               (e.g. b"PUBLISH": the op is stored, announcing it fails);
- `restore()`  ends every fault: connections are forwarded again.

Bounded: every thread polls a stop flag, and the proxy stops by itself after
`lifetime` seconds if a test forgets it. Traffic goes to 127.0.0.1 only.
"""
import select
import socket
import struct
import threading
import time

POLL_S = 0.05


class FaultProxy:
    def __init__(self, target_port, lifetime=300.0):
        self.target = ("127.0.0.1", int(target_port))
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._conns = set()             # (client socket, upstream socket) pairs alive
        self._threads = []
        self._stop = threading.Event()
        self._refusing = False
        self._stall_until = 0.0
        self._cut = None                # bytes: a command containing them closes its link
        self.accepted = 0               # connections accepted and forwarded
        self.refused = 0                # connections closed at once while refusing
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(POLL_S)
        self.port = self._listener.getsockname()[1]

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    # -------------------------------------------------------------- faults
    def drop(self):
        """Close every open connection (both sides see the link go)."""
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for pair in conns:
            for s in pair:
                _kill(s)

    def refuse(self):
        """Drop every connection and close each new one as soon as it is accepted."""
        with self._lock:
            self._refusing = True
        self.drop()

    def stall(self, seconds):
        """Hold every byte in both directions for `seconds`, then forward again."""
        with self._lock:
            self._stall_until = time.monotonic() + seconds

    def cut_on(self, needle):
        """Close any connection whose client sends bytes containing `needle`."""
        with self._lock:
            self._cut = bytes(needle)

    def restore(self):
        with self._lock:
            self._refusing = False
            self._stall_until = 0.0
            self._cut = None

    # -------------------------------------------------------------- running
    def start(self):
        self._deadline = time.monotonic() + self.lifetime
        self._spawn(self._accept_loop)
        return self

    def close(self):
        self._stop.set()
        self.drop()
        for t in list(self._threads):
            t.join(5)
        try:
            self._listener.close()
        except OSError:
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def _spawn(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True)
        self._threads.append(t)
        t.start()

    def _done(self):
        return self._stop.is_set() or time.monotonic() > self._deadline

    def _accept_loop(self):
        while not self._done():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                refusing = self._refusing
            if refusing:
                self.refused += 1
                _kill(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                _kill(client)
                continue
            self.accepted += 1
            pair = (client, upstream)
            with self._lock:
                self._conns.add(pair)
            self._spawn(self._pump, pair)
        self.drop()

    def _pump(self, pair):
        """Forward both directions of one connection until either side closes."""
        client, upstream = pair
        other = {client: upstream, upstream: client}
        try:
            while not self._done():
                with self._lock:
                    alive = pair in self._conns
                    stalled = time.monotonic() < self._stall_until
                    cut = self._cut
                if not alive:
                    return
                if stalled:
                    time.sleep(POLL_S)
                    continue
                ready, _, _ = select.select([client, upstream], [], [], POLL_S)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is client and cut is not None and cut in data:
                        return
                    other[s].sendall(data)
        except (OSError, ValueError):     # closed under us by drop()
            return
        finally:
            with self._lock:
                self._conns.discard(pair)
            _kill(client)
            _kill(upstream)


def _kill(sock):
    """Close at once with a reset: the peer's next read or write fails."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
