"""One request budget per client: a paced token bucket (AIMD) and a cap on requests in flight.

Every request of a client, whether a create, a single wait's poll or one of ten thousand
batch polls, passes through the same `RequestBudget`, so a big batch cannot rate-limit
itself and a 429 slows everything the client does. The pacing is a GCRA-style
reservation ("the next free slot") rather than a refilling counter, so thousands of
waiters each sleep exactly once to their own slot instead of waking together.

The rate halves on a 429 and waits out its `Retry-After`; while the server keeps
answering, it climbs back additively, up to the explicit `rate_limit` if one was set.
The in-flight cap is separate: httpx's pool slows sharply with thousands of requests
queued on it.
"""

from __future__ import annotations

from collections import deque
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
import attrs

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from musicapi._clock import Clock

DEFAULT_RATE = 250.0
"""Requests per second to start at when no cap is given: above any healthy batch's need.

Starting unpaced instead was measured worse: a batch then bursts into the server's limit,
collects dozens of 429s and spends seconds climbing back (wall 2.3x the bound, not 1.0x).
"""
MIN_RATE = 0.5
MAX_ADAPTIVE_RATE = 5000.0
INCREASE_PER_SECOND = 25.0
"""Additive increase, in requests/s gained per second of answers without a 429."""
BURST_SECONDS = 0.05
"""How much unused pacing may be spent at once, as seconds of the current rate."""


@attrs.frozen(kw_only=True)
class PacingSnapshot:
    """A read-only view of a client's pacing at one moment (`client.pacing`).

    Attributes:
        rate: The current pace in requests per second, or `None` while unpaced.
        ceiling: The explicit `rate_limit`, or `None` when only the server's 429s set the pace.
        in_flight: Requests in flight now.
        max_in_flight: The cap on requests in flight.
        rate_limited: How many 429s this client has received.
    """

    rate: float | None
    ceiling: float | None
    in_flight: int
    max_in_flight: int
    rate_limited: int


class RequestBudget:
    """Paces and caps the HTTP requests of one client.

    Args:
        clock: The clock to pace on.
        rate_limit: An explicit ceiling in requests/s; `None` means adaptive only.
        max_in_flight: The most requests in flight at once.
    """

    def __init__(self, clock: Clock, *, rate_limit: float | None, max_in_flight: int) -> None:
        self._clock = clock
        self._ceiling = rate_limit if rate_limit is not None else MAX_ADAPTIVE_RATE
        self._rate = min(DEFAULT_RATE, self._ceiling) if rate_limit is None else rate_limit
        self._window_start = 0.0
        self._window_count = 0
        self._observed_rate: float | None = None
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._last_increase: float | None = None
        self._max_in_flight = max_in_flight
        self._in_flight = 0
        self._slot_waiters: deque[anyio.Event] = deque()
        self.rate_limited = 0
        """How many 429s this client has received (for stats and benchmarks)."""

    @property
    def rate(self) -> float:
        """The current pace in requests per second."""
        return self._rate

    @property
    def in_flight(self) -> int:
        """How many requests are in flight now."""
        return self._in_flight

    def snapshot(self) -> PacingSnapshot:
        """Return the pacing state as a frozen snapshot."""
        return PacingSnapshot(
            rate=self._rate,
            ceiling=None if self._ceiling == MAX_ADAPTIVE_RATE else self._ceiling,
            in_flight=self._in_flight,
            max_in_flight=self._max_in_flight,
            rate_limited=self.rate_limited,
        )

    @asynccontextmanager
    async def slot(self) -> AsyncGenerator[None, None]:
        """Hold one of the in-flight slots around a send.

        The uncontended path takes no checkpoint, unlike `anyio.CapacityLimiter`: a
        single call stays as cheap as a raw httpx request.
        """
        if self._in_flight >= self._max_in_flight or self._slot_waiters:
            waiter = anyio.Event()
            self._slot_waiters.append(waiter)
            try:
                await waiter.wait()
            except BaseException:
                if waiter.is_set():
                    self._release()
                else:
                    self._slot_waiters.remove(waiter)
                raise
        else:
            self._in_flight += 1
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        """Hand the slot straight to the next waiter, or free it."""
        if self._slot_waiters:
            self._slot_waiters.popleft().set()
        else:
            self._in_flight -= 1

    async def pace(self) -> None:
        """Wait for this request's slot in the pacing schedule."""
        now = self._clock.now()
        self._observe(now)
        interval = 1.0 / self._rate
        slot = max(self._next_slot, now - BURST_SECONDS, self._paused_until)
        self._next_slot = slot + interval
        if slot > now:
            await self._clock.sleep(slot - now)

    def _observe(self, now: float) -> None:
        """Measure the request rate actually sent, over windows of about a second."""
        self._window_count += 1
        elapsed = now - self._window_start
        if elapsed >= 1.0:
            self._observed_rate = self._window_count / elapsed
            self._window_start, self._window_count = now, 0

    def on_answer(self) -> None:
        """Record an answer that was not a 429: climb back towards the ceiling."""
        now = self._clock.now()
        if self._last_increase is None or self._rate >= self._ceiling:
            self._last_increase = now
            return
        gained = (now - self._last_increase) * INCREASE_PER_SECOND
        if gained > 0:
            self._rate = min(self._ceiling, self._rate + gained)
            self._last_increase = now

    def on_rate_limited(self, retry_after: float | None) -> None:
        """Record a 429: halve the rate and hold every request until `Retry-After` passes."""
        self.rate_limited += 1
        now = self._clock.now()
        if now >= self._paused_until:
            sent = self._observed_rate if self._observed_rate is not None else self._rate
            self._rate = min(self._rate, max(MIN_RATE, min(self._rate, sent) / 2))
        self._last_increase = now
        if retry_after:
            self._paused_until = max(self._paused_until, now + retry_after)
