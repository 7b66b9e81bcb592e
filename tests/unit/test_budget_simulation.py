"""The request budget against a simulated rate-limited server, on virtual time.

The server is a token bucket like the sandbox's (`limit` requests/s, a burst of a quarter
of a second's worth) that answers 429 with the `Retry-After` of its next free token. Many
concurrent senders drive it through the budget exactly as the transport does (`pace()`,
`slot()` around the send, `on_answer()` or `on_rate_limited()`, then a retry after
`Retry-After`, at most `MAX_RETRIES` times). Everything runs on `FakeClock`, so a minute
of traffic takes well under a second and the figures do not depend on the machine.
"""

from __future__ import annotations

import math
import random

import anyio
import pytest

from musicapi._budget import RequestBudget
from musicapi.testing import FakeClock

MAX_RETRIES = 3


class _Server:
    """A rate-limited API: one token bucket whose limit the test can change mid-run."""

    def __init__(self, clock: FakeClock, limit: float) -> None:
        self.clock = clock
        self.limit = limit
        self._tokens = max(1.0, limit / 4)
        self._last = clock.now()
        self.ok: list[float] = []
        self.refused: list[float] = []

    def answer(self) -> float | None:
        """Take a token now: `None` if the request passes, else its `Retry-After` in seconds."""
        now = self.clock.now()
        burst = max(1.0, self.limit / 4)
        self._tokens = min(burst, self._tokens + (now - self._last) * self.limit)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self.ok.append(now)
            return None
        self.refused.append(now)
        return max(0.01, math.ceil((1.0 - self._tokens) / self.limit * 100) / 100)

    def throughput(self, start: float, end: float) -> float:
        """Requests per second the server accepted in [start, end)."""
        return sum(1 for t in self.ok if start <= t < end) / (end - start)


class _Simulation:
    """Senders that never stop, sharing one budget, against one `_Server`."""

    def __init__(
        self,
        limit: float,
        *,
        senders: int = 24,
        latency: tuple[float, float] = (0.01, 0.03),
        max_in_flight: int = 64,
        seed: int = 7,
    ) -> None:
        # Only the simulation's own tasks use the clock and none of them works between two
        # clock calls, so two quiet scheduler passes are enough to call it idle (and fast).
        self.clock = FakeClock(settle_passes=2)
        self.server = _Server(self.clock, limit)
        self.budget = RequestBudget(self.clock, rate_limit=None, max_in_flight=max_in_flight)
        self.senders = senders
        self.latency = latency
        self.rng = random.Random(seed)
        self.failed = 0
        self.rates: list[tuple[float, float]] = []

    async def request(self) -> None:
        """One API call as the transport makes it, retries included."""
        clock, budget = self.clock, self.budget
        for attempt in range(MAX_RETRIES + 1):
            await budget.pace()
            async with budget.slot():
                retry_after = self.server.answer()
                await clock.sleep(self.rng.uniform(*self.latency))
            if retry_after is None:
                budget.on_answer()
                return
            budget.on_rate_limited(retry_after)
            if attempt < MAX_RETRIES:
                await clock.sleep(retry_after)
        self.failed += 1

    async def run(self, until: float, limits: tuple[tuple[float, float], ...] = ()) -> None:
        """Send until `until`; at each `(time, limit)` of `limits` the server's limit changes."""

        async def sender() -> None:
            while self.clock.now() < until:
                await self.request()

        async def change_limits() -> None:
            for at, limit in limits:
                await self.clock.sleep(at - self.clock.now())
                self.server.limit = limit

        async def watch() -> None:
            while self.clock.now() < until:
                await self.clock.sleep(0.5)
                self.rates.append((self.clock.now(), self.budget.rate))

        async with anyio.create_task_group() as tg:
            tg.start_soon(change_limits)
            tg.start_soon(watch)
            for _ in range(self.senders):
                tg.start_soon(sender)

    def refused(self, start: float = 0.0, end: float = math.inf) -> int:
        """How many 429s the server sent in [start, end)."""
        return sum(1 for t in self.server.refused if start <= t < end)

    def pace(self, start: float, end: float) -> tuple[float, float]:
        """The lowest and highest pace seen in [start, end)."""
        seen = [rate for t, rate in self.rates if start <= t < end]
        return min(seen), max(seen)


async def test_converges_to_the_limit_and_follows_it_when_it_changes() -> None:
    sim = _Simulation(250.0)
    await sim.run(until=36.0, limits=((14.0, 100.0), (22.0, 400.0)))
    # Measured: 249/s over [4, 14) with 2 429s there; 96/s over [17, 22) (8 429s at the
    # drop); 379/s over [31, 36), the pace reaching 400/s 11 s after the rise; 14 429s in all.
    # Steady at 250/s (the benchmark's server): converged within a few seconds, 429s rare.
    assert sim.server.throughput(4.0, 14.0) == pytest.approx(250.0, rel=0.15)
    assert sim.refused(4.0, 14.0) <= 5
    # Down to 100/s, then up to 400/s: the pace follows both ways.
    assert sim.server.throughput(17.0, 22.0) == pytest.approx(100.0, rel=0.15)
    assert sim.server.throughput(31.0, 36.0) == pytest.approx(400.0, rel=0.15)
    low, high = sim.pace(17.0, 22.0)
    assert 45.0 <= low and high <= 140.0
    assert sim.pace(31.0, 36.0)[1] >= 380.0
    learned = sim.budget.snapshot().learned_ceiling
    assert learned is not None
    assert 380.0 <= learned <= 520.0
    assert sim.refused() <= 30
    assert sim.failed == 0


@pytest.mark.parametrize("limit", [40.0, 120.0])
async def test_converges_to_a_limit_below_the_start_up_pace(limit: float) -> None:
    sim = _Simulation(limit)
    await sim.run(until=20.0)
    # Measured: 39.7/s (11 429s, 3 after 5 s) and 118.9/s (8 429s, 3 after 5 s).
    assert sim.server.throughput(5.0, 20.0) == pytest.approx(limit, rel=0.15)
    assert sim.refused(5.0, 20.0) <= 8
    assert sim.refused() <= 30
    assert sim.failed == 0
    learned = sim.budget.snapshot().learned_ceiling
    assert learned is not None
    assert 0.9 * limit <= learned <= 1.3 * limit
    assert sim.pace(10.0, 20.0)[0] >= 0.45 * limit  # at worst halved once near the limit


async def test_a_fast_sequential_caller_converges_after_its_first_429() -> None:
    sim = _Simulation(250.0, senders=1, latency=(0.0005, 0.0015))  # ~1,000 calls/s
    await sim.run(until=12.0)
    # Measured: 250.1/s over [4, 12), 3 429s in all.
    assert sim.server.throughput(4.0, 12.0) == pytest.approx(250.0, rel=0.15)
    assert sim.refused() <= 10
    assert sim.failed == 0


async def test_a_sequential_caller_under_the_limit_is_never_paced() -> None:
    sim = _Simulation(250.0, senders=1, latency=(0.005, 0.015))  # ~100 calls/s
    await sim.run(until=5.0)
    assert sim.refused() == 0
    assert sim.budget.snapshot().rate is None
    assert sim.server.throughput(0.0, 5.0) == pytest.approx(100.0, rel=0.05)
