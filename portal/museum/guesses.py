"""Wrong visit codes per client address (issue 21): one counter for the API and the portal's
pages (the visitor's phone page, the kiosk's "I have a code"), in the rate-limit storage (Redis
when ``REDIS_URL`` is set, else this process's memory; share one instance to share counts).

    guesses = Guesses(config)
    wait = guesses.retry_after(address)   # 0: may try; else seconds to wait (answer 429)
    guesses.wrong(address)                # a wrong, ended or expired code was tried
"""
from __future__ import annotations

import math
import time


class Guesses:
    """Wrong visit codes per client address, limited by ``config.visit_guess_limit``."""

    def __init__(self, config):
        from limits import parse, storage, strategies
        self._window = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(config.redis_url or "memory://"))
        self._limit, self._prefix = parse(config.visit_guess_limit), f"{config.ratelimit_prefix}:visit-code"

    def retry_after(self, address: str) -> int:
        if self._window.test(self._limit, self._prefix, address):
            return 0
        reset_at, _ = self._window.get_window_stats(self._limit, self._prefix, address)
        return math.ceil(max(reset_at - time.time(), 1.0))

    def wrong(self, address: str) -> None:
        self._window.hit(self._limit, self._prefix, address)
