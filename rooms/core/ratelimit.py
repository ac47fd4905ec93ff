"""Token buckets: per participant connection, per event class (RATE1)."""
import time


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up. Not thread-safe: each
    bucket belongs to one socket, whose events are handled one at a time."""

    __slots__ = ("rate", "burst", "tokens", "stamp", "clock")

    def __init__(self, rate, burst, clock=time.monotonic):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.clock = clock
        self.stamp = clock()

    def take(self, now=None, n=1):
        """Take `n` tokens if there are as many (else take none)."""
        now = self.clock() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= n:
            self.tokens -= n
            return True
        return False
