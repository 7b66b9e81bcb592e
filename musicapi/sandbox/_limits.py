"""Server-side limits per API key: a request rate and a number of running jobs.

Both read time from the numbers they are given (the sandbox's clock), never from the
system, so a fake clock drives them.
"""

from __future__ import annotations

import heapq
import math

__all__ = ["ConcurrencyLimit", "RateLimit"]


class RateLimit:
    """A token bucket per key: `rate` requests per second with a burst of `rate / 4` (at least 1).

    Args:
        rate: Requests per second allowed for each key.
    """

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate_limit must be positive")
        self._rate = rate
        self._burst = max(1.0, rate / 4)
        self._buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, key: str, now: float) -> float | None:
        """Take a token for `key` at time `now`.

        Returns:
            `None` if the request may pass, else the seconds until a token is free.
        """
        tokens, last = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return None
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self._rate


class ConcurrencyLimit:
    """At most `limit` running jobs per key.

    Args:
        limit: The number of jobs of one key that may run at once.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("max_concurrent_jobs must be at least 1")
        self._limit = limit
        self._ends: dict[str, list[float]] = {}

    def check(self, key: str, now: float) -> float | None:
        """Say whether `key` may start one more job at `now`.

        Returns:
            `None` if it may, else the seconds until its earliest job ends, rounded up
            to a tenth (and at least 0.1).
        """
        ends = self._ends.setdefault(key, [])
        while ends and ends[0] <= now:
            heapq.heappop(ends)
        if len(ends) < self._limit:
            return None
        return max(0.1, math.ceil((ends[0] - now) * 10 - 1e-9) / 10)

    def started(self, key: str, ends_at: float) -> None:
        """Record a job of `key` that runs until `ends_at`."""
        heapq.heappush(self._ends.setdefault(key, []), ends_at)
