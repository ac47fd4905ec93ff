"""Engine.IO tuning applied by the server entry point (app.py), the same in every
async mode.

One ping task per server instead of one per connection. python-engineio sends each
socket's heartbeat from a task of its own that sleeps `ping_interval` and sends one
PING; so every idle connection kept a sleeping green thread (eventlet, gevent) or a
whole OS thread (threading), with its stack, as long as it lived: about a third of
the memory of an idle connection (bench/ idle). Here one task wakes every `tick`
(0.1 s) and sends the pings that are due: a ping leaves at most `tick` later than
before (clients allow `ping_interval + ping_timeout`, PROTOCOL.md), and the pings of
sockets that connected together are spread no less than before at that grain.
"""
import threading
import time

from engineio import packet as eio_packet
from engineio import socket as eio_socket


class SharedPinger:
    """Sends each socket's next PING `ping_interval` after it was scheduled."""

    def __init__(self, server, tick=0.1, clock=time.monotonic):
        self.server = server
        self.tick = tick
        self.clock = clock
        self.due = {}                 # engine.io Socket -> monotonic time its ping is due
        self._lock = threading.Lock()
        self._task = None

    def schedule(self, sock):
        with self._lock:
            self.due[sock] = self.clock() + self.server.ping_interval
            start = self._task is None
            if start:
                self._task = True
        if start:
            self._task = self.server.start_background_task(self._run)

    def send_due(self):
        """Send every ping that is due; returns how many were sent."""
        now = self.clock()
        with self._lock:
            ready = [s for s, t in self.due.items() if t <= now]
            for s in ready:
                del self.due[s]
        sent = 0
        for s in ready:
            if not s.closing and not s.closed:
                s.last_ping = time.time()     # what engine.io's own ping task records
                s.send(eio_packet.Packet(eio_packet.PING))
                sent += 1
        return sent

    def _run(self):
        while True:
            self.server.sleep(self.tick)
            try:
                self.send_due()
            except Exception:   # a broken socket must not stop every heartbeat
                self.server.logger.exception("sending pings failed")


def share_pings(tick=0.1):
    """Make engine.io's sockets use one SharedPinger per server (idempotent)."""
    if getattr(eio_socket.Socket.schedule_ping, "shared", False):
        return

    def schedule_ping(self):
        # Same rule as engine.io's: a new ping only once the last one was answered.
        if self.last_ping:
            self.last_ping = None
            pinger = self.server.__dict__.get("_playroom_pinger")
            if pinger is None:
                pinger = self.server.__dict__.setdefault("_playroom_pinger",
                                                         SharedPinger(self.server, tick))
            pinger.schedule(self)

    schedule_ping.shared = True
    eio_socket.Socket.schedule_ping = schedule_ping
