"""The frame-rate limit of one recording camera (API sessions and kiosk pages alike): a token
bucket, ``rate`` frames a second on average and bursts of ``burst`` frames, so a camera sending at
its own pace loses only what is above the average, not every frame that network jitter brought
closer than ``1/rate`` to the one before (issue 18)."""
from __future__ import annotations

BURST = 3  # frames a camera may send closer together than 1/rate


class FrameBucket:
    """Not thread-safe: the caller holds its session's lock.  A new bucket is full."""

    def __init__(self, rate: float, burst: int = BURST):
        if rate <= 0 or burst < 1:
            raise ValueError("a frame bucket needs a positive rate and a burst of at least 1")
        self.rate, self.burst = rate, burst
        self.tokens, self.last = float(burst), None

    def take(self, now: float) -> float:
        """0 when a frame may pass now (its token is taken); otherwise the seconds until one may."""
        if self.last is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1:
            return (1 - self.tokens) / self.rate
        self.tokens -= 1
        return 0.0

    def describe(self) -> str:
        return f"at most {self.rate:g} per second (bursts of {self.burst})"
