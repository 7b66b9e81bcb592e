from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

import anyio
import pytest

from musicapi._budget import (
    BURST_SECONDS,
    DEFAULT_RATE,
    MAX_ADAPTIVE_RATE,
    MIN_RATE,
    PLATEAU_FRACTION,
    RECOVERY_SECONDS,
    RequestBudget,
)
from musicapi.testing import FakeClock

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


def _budget(
    clock: FakeClock, rate_limit: float | None = None, max_in_flight: int = 64
) -> RequestBudget:
    return RequestBudget(clock, rate_limit=rate_limit, max_in_flight=max_in_flight)


async def _pace_times(budget: RequestBudget, clock: FakeClock, n: int) -> list[float]:
    times: list[float] = []

    async def one() -> None:
        await budget.pace()
        times.append(clock.now())

    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(one)
    return sorted(times)


async def _request(
    budget: RequestBudget,
    clock: FakeClock,
    *,
    latency: float = 0.0,
    status: int = 200,
    retry_after: float | None = None,
) -> float:
    """Make one request the way the transport does; return when it went on the wire."""
    await budget.pace()
    async with budget.slot():
        sent = clock.now()
        if latency:
            await clock.sleep(latency)
    if status == 429:
        budget.on_rate_limited(retry_after)
    else:
        budget.on_answer()
    return sent


async def _request_times(
    budget: RequestBudget, clock: FakeClock, n: int, *, latency: float = 0.01
) -> list[float]:
    """Send `n` overlapping requests (each in flight for `latency`); return their send times."""
    times: list[float] = []

    async def one() -> None:
        times.append(await _request(budget, clock, latency=latency))

    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(one)
    return sorted(times)


async def _drive(
    budget: RequestBudget, clock: FakeClock, seconds: float, *, senders: int = 8
) -> list[float]:
    """Keep the budget rate-bound for `seconds` with senders that never stop; return send times."""
    end = clock.now() + seconds
    times: list[float] = []

    async def sender() -> None:
        while clock.now() < end:
            times.append(await _request(budget, clock, latency=0.01))

    async with anyio.create_task_group() as tg:
        for _ in range(senders):
            tg.start_soon(sender)
    return sorted(times)


async def _rate_limited(budget: RequestBudget, clock: FakeClock) -> None:
    """One 429 to a request sent now (so it counts as sent after any earlier decrease)."""
    await _request(budget, clock, status=429)


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def _count(times: list[float], start: float, end: float) -> int:
    return sum(1 for t in times if start <= t < end)


class TestPace:
    def test_defaults(self) -> None:
        budget = _budget(FakeClock())
        assert budget.rate == DEFAULT_RATE >= 200
        assert budget.in_flight == 0
        assert budget.rate_limited == 0
        snapshot = budget.snapshot()
        assert snapshot.rate is None  # unpaced until the server says 429
        assert snapshot.ceiling is None
        assert snapshot.learned_ceiling is None
        assert snapshot.paused_for == 0.0
        assert snapshot.max_in_flight == 64

    def test_explicit_rate_limit_is_the_rate(self) -> None:
        budget = _budget(FakeClock(), rate_limit=3.0)
        assert budget.rate == 3.0
        assert budget.snapshot().rate == 3.0  # paced from the start
        assert budget.snapshot().ceiling == 3.0

    async def test_spaces_requests_at_one_over_rate(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=10.0)
        times = await _pace_times(budget, clock, 20)
        assert times == pytest.approx([i / 10 for i in range(20)])

    async def test_sequential_requests_are_spaced_too(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=4.0)
        times: list[float] = []
        for _ in range(5):
            await budget.pace()
            times.append(clock.now())
        assert times == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])

    async def test_after_idle_no_backlog_is_paid(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=2.0)
        await budget.pace()
        clock.advance(100.0)
        start = clock.now()
        await budget.pace()
        assert clock.now() == start  # no sleep after a long idle
        times = await _pace_times(budget, clock, 4)
        # Only a small burst allowance, never the 200 slots "saved" while idle.
        assert times[-1] - start >= 3 * 0.5 - BURST_SECONDS - 1e-9

    async def test_default_rate_does_not_slow_a_healthy_batch(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        times = await _request_times(budget, clock, 200)
        assert times[-1] - times[0] <= 1.0

    async def test_overlapping_requests_get_the_start_up_pace_before_any_429(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, max_in_flight=200)
        times = await _request_times(budget, clock, 101, latency=0.5)
        # A burst into an unknown server limit is spaced, not sent all at once.
        span = times[-1] - times[0]
        assert 100 / DEFAULT_RATE - BURST_SECONDS - 1e-9 <= span <= 100 / DEFAULT_RATE + 1e-9
        assert budget.snapshot().rate is None  # still no pace learned from the server

    async def test_paced_pace_with_a_free_slot_takes_no_checkpoint(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=100.0)
        with anyio.CancelScope() as scope:
            scope.cancel()
            await budget.pace()  # a checkpoint would raise here
        assert not scope.cancelled_caught


class TestUnpaced:
    async def test_sequential_caller_before_any_429_never_sleeps(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        for _ in range(1000):
            await _request(budget, clock)  # far faster than DEFAULT_RATE
        assert clock.now() == 0.0
        for _ in range(2000):  # 1,000 requests/s, four times the start-up pace
            await _request(budget, clock, latency=0.001)
        assert clock.now() == pytest.approx(2.0)  # only the requests' own latency
        assert budget.snapshot().rate is None

    async def test_unpaced_pace_takes_no_checkpoint(self) -> None:
        budget = _budget(FakeClock())
        with anyio.CancelScope() as scope:
            scope.cancel()
            for _ in range(10):
                await budget.pace()  # a checkpoint would raise here
        assert not scope.cancelled_caught

    async def test_a_429_turns_pacing_on(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        await _rate_limited(budget, clock)
        assert budget.snapshot().rate == budget.rate == DEFAULT_RATE / 2
        times = [await _request(budget, clock) for _ in range(5)]
        assert _gaps(times) == pytest.approx([2 / DEFAULT_RATE] * 4, rel=0.05)


class TestRateLimited:
    async def test_halves_and_holds_until_retry_after(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=10.0)
        budget.on_rate_limited(2.0)
        assert budget.rate == 5.0
        assert budget.rate_limited == 1
        assert budget.snapshot().paused_for == 2.0
        times = await _pace_times(budget, clock, 3)
        assert times == pytest.approx([2.0, 2.2, 2.4])
        assert budget.snapshot().paused_for == 0.0

    async def test_pause_without_retry_after_only_halves(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=10.0)
        budget.on_rate_limited(None)
        assert budget.rate == 5.0
        times = await _pace_times(budget, clock, 2)
        assert times == pytest.approx([0.0, 0.2])

    async def test_429s_of_one_episode_halve_once(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        budget.on_rate_limited(5.0)
        clock.advance(1.0)
        budget.on_rate_limited(5.0)
        budget.on_rate_limited(5.0)
        assert budget.rate == DEFAULT_RATE / 2
        assert budget.rate_limited == 3
        assert budget.snapshot().learned_ceiling == DEFAULT_RATE
        clock.advance(10.0)
        # Refused again before any other answer, with a pause: the server is spacing
        # the client with Retry-After, and that is still the same episode.
        await _request(budget, clock, status=429, retry_after=1.0)
        assert budget.rate == DEFAULT_RATE / 2
        # A request sent at the halved pace is refused after the pace worked: that is
        # a new episode.
        await _request(budget, clock)  # (the pace may climb a little on this answer)
        await _request(budget, clock, status=429, retry_after=1.0)
        assert budget.rate <= DEFAULT_RATE * 0.35
        assert budget.rate_limited == 5

    async def test_burst_of_100_429s_arriving_together_halves_once(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, max_in_flight=100)
        # 100 requests go out together and all come back 429 together.
        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(
                    lambda: _request(budget, clock, latency=0.5, status=429, retry_after=0.01)
                )
        assert budget.rate_limited == 100
        assert budget.rate == DEFAULT_RATE / 2
        assert budget.snapshot().learned_ceiling == DEFAULT_RATE
        # The same burst arriving in a different order changes nothing either.
        assert budget.snapshot().rate == DEFAULT_RATE / 2

    async def test_429s_of_requests_held_back_by_the_in_flight_cap_are_one_episode(
        self,
    ) -> None:
        clock = FakeClock()
        budget = _budget(clock, max_in_flight=64)
        # 36 of the 100 wait for a slot, paced before the first 429 but sent after it.
        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(lambda: _request(budget, clock, latency=0.5, status=429))
        assert budget.rate_limited == 100
        assert budget.rate == DEFAULT_RATE / 2

    async def test_a_hung_request_does_not_hold_an_episode_open(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=100.0)
        sent, release = anyio.Event(), anyio.Event()

        async def hung() -> None:
            await budget.pace()
            async with budget.slot():
                sent.set()
                await release.wait()
            budget.on_answer()

        async with anyio.create_task_group() as tg:
            tg.start_soon(hung)
            await sent.wait()
            await _request(budget, clock, latency=0.01, status=429)
            assert budget.rate == 50.0
            await _request(budget, clock, latency=0.01, status=429)
            assert budget.rate == 50.0  # the hung request was sent before the decrease
            clock.advance(1.0)
            await _request(budget, clock, latency=0.01, status=429)
            assert budget.rate == 25.0  # but it keeps the episode open for a second at most
            release.set()

    async def test_burst_of_429s_from_a_paced_batch_halves_once(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=200.0)
        answered = 0

        async def one() -> None:
            nonlocal answered
            # Each is in flight for 0.6 s, so all 100 are out before the first 429 is back.
            await _request(budget, clock, latency=0.6, status=429, retry_after=0.0)
            answered += 1
            assert budget.rate == 100.0  # halved at the first 429, never again

        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(one)
        assert answered == 100
        assert budget.rate_limited == 100

    async def test_retry_after_zero_on_a_fresh_client_keeps_a_sane_pace(self) -> None:
        clock = FakeClock(start=12345.0)  # a real monotonic clock is far from zero
        budget = _budget(clock)
        await _request(budget, clock, latency=0.002, status=429, retry_after=0.0)
        assert budget.rate >= MIN_RATE
        assert budget.rate >= DEFAULT_RATE / 2
        start = clock.now()
        for _ in range(20):
            await _request(budget, clock, latency=0.002)
        assert clock.now() - start < 0.25  # 20 / (DEFAULT_RATE / 2) s, not 40 s at 0.5/s

    async def test_halves_from_the_measured_rate_when_below_the_pace(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        for _ in range(100):  # 50 requests/s for two seconds
            await _request(budget, clock, latency=0.02)
        await _request(budget, clock, latency=0.02, status=429)
        assert budget.snapshot().learned_ceiling == pytest.approx(50.0, rel=0.1)
        assert budget.rate == pytest.approx(25.0, rel=0.1)

    async def test_a_stray_429_after_idle_halves_the_pace_not_a_tiny_rate(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        for _ in range(100):
            await _request(budget, clock, latency=0.02)
        clock.advance(60.0)
        # One request in a minute is not a real window: halve the pace, not 1/60 s.
        await _request(budget, clock, latency=0.02, status=429)
        assert budget.rate == DEFAULT_RATE / 2

    async def test_rate_never_falls_below_minimum(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        for _ in range(30):  # every 429 is to a request sent after the last decrease
            await _rate_limited(budget, clock)
        assert budget.rate == MIN_RATE
        assert budget.rate_limited == 30

    def test_halving_never_exceeds_an_explicit_low_rate_limit(self) -> None:
        budget = _budget(FakeClock(), rate_limit=0.2)
        budget.on_rate_limited(None)
        assert budget.rate <= 0.2

    async def test_no_burst_after_a_pause(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=100.0)
        clock.advance(10.0)  # plenty of unused pacing
        budget.on_rate_limited(1.0)
        times = await _pace_times(budget, clock, 5)
        assert times == pytest.approx([11.0, 11.02, 11.04, 11.06, 11.08])


class TestClimb:
    async def test_recovers_to_the_learned_ceiling_then_probes_slowly(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        await _rate_limited(budget, clock)
        assert budget.rate == DEFAULT_RATE / 2
        await _drive(budget, clock, RECOVERY_SECONDS / 2)
        assert DEFAULT_RATE / 2 < budget.rate < DEFAULT_RATE * PLATEAU_FRACTION
        await _drive(budget, clock, RECOVERY_SECONDS / 2 + 0.2)
        plateau = DEFAULT_RATE * PLATEAU_FRACTION
        assert budget.rate == pytest.approx(plateau, rel=0.02)
        await _drive(budget, clock, 2.0)
        assert budget.rate < DEFAULT_RATE  # slow near the ceiling that overshot
        await _drive(budget, clock, 5.0)
        assert budget.rate > 1.5 * DEFAULT_RATE  # and faster further above it

    async def test_climbs_back_to_the_explicit_limit_and_never_above(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=100.0)
        await _rate_limited(budget, clock)
        assert budget.rate == 50.0
        rates: list[float] = []
        for _ in range(20):
            await _drive(budget, clock, 0.5)
            rates.append(budget.rate)
        assert rates == sorted(rates)
        assert max(rates) == 100.0

    def test_no_climb_without_time_passing(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=100.0)
        budget.on_rate_limited(None)
        for _ in range(1000):
            budget.on_answer()
        assert budget.rate == 50.0

    async def test_adaptive_climb_is_bounded(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        await _rate_limited(budget, clock)
        for _ in range(200):
            await _make_it_wait(budget, clock)
            clock.advance(0.2)
            budget.on_answer()
        assert budget.rate == MAX_ADAPTIVE_RATE

    def test_explicit_limit_is_never_exceeded(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=7.0)
        for _ in range(20):
            clock.advance(50.0)
            budget.on_answer()
            assert budget.rate <= 7.0
        assert budget.rate == 7.0

    async def test_no_climb_while_demand_is_below_the_pace(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        await _rate_limited(budget, clock)
        for _ in range(600):  # ten requests/s for a minute, never waiting on the pace
            await _request(budget, clock, latency=0.1)
        assert clock.now() == pytest.approx(60.0, abs=0.01)
        assert budget.rate == DEFAULT_RATE / 2

    async def test_no_climb_while_idle(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        await _rate_limited(budget, clock)
        await _drive(budget, clock, 3.0)
        learned = budget.snapshot().learned_ceiling
        assert learned is not None
        assert learned == DEFAULT_RATE
        before = budget.rate
        clock.advance(60.0)
        budget.on_answer()  # a straggler's answer after the quiet minute
        assert budget.rate == before
        start = clock.now()
        times = await _drive(budget, clock, 1.0, senders=64)
        # The burst starts at the pace it had, not at one inflated by the idle minute.
        assert _count(times, start, start + 1.0) <= 1.1 * learned + BURST_SECONDS * learned


class TestRebase:
    async def test_queued_waiters_follow_a_drop(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=10.0)

        async def rate_limited_later() -> None:
            await clock.sleep(0.35)
            budget.on_rate_limited(None)

        times: list[float] = []
        async with anyio.create_task_group() as tg:
            tg.start_soon(rate_limited_later)
            times += await _pace_times(budget, clock, 12)
        assert times[:4] == pytest.approx([0.0, 0.1, 0.2, 0.3])
        # Queued before the 429, yet they go at the halved pace, not at their old slots.
        assert _gaps(times[4:]) == pytest.approx([0.2] * 7)

    async def test_queued_waiters_follow_a_rise(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=100.0)
        budget.on_rate_limited(None)
        assert budget.rate == 50.0
        times: list[float] = []
        done = anyio.Event()

        async def one() -> None:
            await budget.pace()
            times.append(clock.now())

        async def answers() -> None:
            while not done.is_set():
                await clock.sleep(0.01)
                budget.on_answer()

        async with anyio.create_task_group() as tg:
            tg.start_soon(answers)
            async with anyio.create_task_group() as queued:
                for _ in range(300):  # all queued at 50/s: six seconds at their old slots
                    queued.start_soon(one)
            done.set()
        assert budget.rate > 90.0
        assert times[-1] < 4.5  # at their old slots the last would go at 6.0
        last_gaps = (times[-1] - times[-51]) / 50
        assert last_gaps < 1 / 85

    async def test_only_the_head_of_the_queue_sleeps_on_the_clock(self) -> None:
        clock = _CountingClock()
        budget = RequestBudget(clock, rate_limit=100.0, max_in_flight=64)

        async def drop_later() -> None:
            await clock.sleep(0.3)
            budget.on_rate_limited(None)  # every queued waiter is re-based

        times: list[float] = []
        async with anyio.create_task_group() as tg:
            tg.start_soon(drop_later)
            times += await _pace_times(budget, clock, 200)
        assert len(times) == 200
        assert clock.most_asleep <= 2  # the head, and the task that sends the 429
        assert clock.sleeps <= 200 + 2  # once per waiter, and once more for a re-based head


class TestPaceQueue:
    async def test_cancelled_waiter_gives_up_its_turn(self) -> None:
        clock = FakeClock(autojump=False)
        budget = _budget(clock, rate_limit=10.0)
        times: list[float] = []

        async def one() -> None:
            await budget.pace()
            times.append(clock.now())

        async with anyio.create_task_group() as tg:
            for _ in range(2):
                tg.start_soon(one)
            await anyio.wait_all_tasks_blocked()
            scope = anyio.CancelScope()
            tg.start_soon(_run_in_scope, scope, one)
            await anyio.wait_all_tasks_blocked()
            for _ in range(2):
                tg.start_soon(one)
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
            for _ in range(4):
                await anyio.wait_all_tasks_blocked()
                clock.advance(0.1)
        assert times == pytest.approx([0.0, 0.1, 0.2, 0.3])

    async def test_cancelled_head_passes_the_turn_on(self) -> None:
        clock = FakeClock(autojump=False)
        budget = _budget(clock, rate_limit=10.0)
        times: list[float] = []

        async def one() -> None:
            await budget.pace()
            times.append(clock.now())

        async with anyio.create_task_group() as tg:
            tg.start_soon(one)  # goes at once
            await anyio.wait_all_tasks_blocked()
            scope = anyio.CancelScope()
            tg.start_soon(_run_in_scope, scope, one)  # the head, asleep until 0.1
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(one)
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
            await anyio.wait_all_tasks_blocked()
            clock.advance(0.1)
        assert times == pytest.approx([0.0, 0.1])
        assert not budget._waiters


class TestSlot:
    @pytest.mark.parametrize(("cap", "tasks"), [(1, 5), (3, 20), (8, 50)])
    async def test_caps_concurrency(self, cap: int, tasks: int) -> None:
        clock = FakeClock()
        budget = _budget(clock, max_in_flight=cap)
        current = peak = done = 0

        async def worker(i: int) -> None:
            nonlocal current, peak, done
            async with budget.slot():
                current += 1
                peak = max(peak, current)
                assert budget.in_flight <= cap
                await clock.sleep(1.0 + (i % 3) * 0.5)
                current -= 1
            done += 1

        async with anyio.create_task_group() as tg:
            for i in range(tasks):
                tg.start_soon(worker, i)
        assert peak == cap
        assert done == tasks
        assert budget.in_flight == 0

    async def test_uncontended_slot_is_immediate(self) -> None:
        budget = _budget(FakeClock(), max_in_flight=2)
        async with budget.slot():
            assert budget.in_flight == 1
            async with budget.slot():
                assert budget.in_flight == 2
        assert budget.in_flight == 0

    async def test_uncontended_slot_takes_no_checkpoint(self) -> None:
        budget = _budget(FakeClock(), max_in_flight=2)
        with anyio.CancelScope() as scope:
            scope.cancel()
            async with budget.slot():
                pass
        assert not scope.cancelled_caught
        assert budget.in_flight == 0

    async def test_error_inside_slot_releases_it(self) -> None:
        budget = _budget(FakeClock(), max_in_flight=1)
        with pytest.raises(RuntimeError):
            async with budget.slot():
                raise RuntimeError("boom")
        assert budget.in_flight == 0
        async with budget.slot():
            assert budget.in_flight == 1

    async def test_cancelled_waiter_leaks_no_slot(self) -> None:
        budget = _budget(FakeClock(), max_in_flight=1)
        release = anyio.Event()
        entered: list[str] = []

        async def holder() -> None:
            async with budget.slot():
                entered.append("holder")
                await release.wait()

        async def waiter() -> None:
            async with budget.slot():
                entered.append("waiter")

        async with anyio.create_task_group() as tg:
            tg.start_soon(holder)
            await anyio.wait_all_tasks_blocked()
            scope = anyio.CancelScope()
            tg.start_soon(_run_in_scope, scope, waiter)
            await anyio.wait_all_tasks_blocked()
            assert budget.in_flight == 1
            scope.cancel()
            await anyio.wait_all_tasks_blocked()
            release.set()
        assert entered == ["holder"]
        assert budget.in_flight == 0
        async with budget.slot():
            assert budget.in_flight == 1

    async def test_waiter_cancelled_after_handoff_passes_the_slot_on(self) -> None:
        budget = _budget(FakeClock(), max_in_flight=1)
        release = anyio.Event()
        entered: list[str] = []

        async def holder() -> None:
            async with budget.slot():
                await release.wait()

        async def waiter(name: str) -> None:
            async with budget.slot():
                entered.append(name)

        async with anyio.create_task_group() as tg:
            tg.start_soon(holder)
            await anyio.wait_all_tasks_blocked()
            scope = anyio.CancelScope()
            tg.start_soon(_run_in_scope, scope, waiter, "first")
            await anyio.wait_all_tasks_blocked()
            tg.start_soon(waiter, "second")
            await anyio.wait_all_tasks_blocked()
            # Hand the slot to "first" and cancel it before it can run: it must pass it on.
            release.set()
            scope.cancel()
        assert "second" in entered
        assert budget.in_flight == 0


class _CountingClock(FakeClock):
    """A `FakeClock` that counts sleeps, and the most tasks asleep on it at once."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps = 0
        self.asleep = 0
        self.most_asleep = 0

    async def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.asleep += 1
        self.most_asleep = max(self.most_asleep, self.asleep)
        try:
            await super().sleep(seconds)
        finally:
            self.asleep -= 1


async def _make_it_wait(budget: RequestBudget, clock: FakeClock) -> None:
    """Send paced requests until one has to wait for its slot (the client is rate-bound)."""
    for _ in range(math.ceil(BURST_SECONDS * MAX_ADAPTIVE_RATE) + 2):
        before = clock.now()
        await budget.pace()
        if clock.now() > before:
            return
    raise AssertionError("the pace never made a request wait")


async def _run_in_scope(
    scope: anyio.CancelScope, fn: Callable[..., Awaitable[object]], *args: object
) -> None:
    with scope:
        await fn(*args)


async def test_a_run_of_429s_that_each_ask_for_a_pause_halves_once() -> None:
    # Issue 8: 30 early 429s with Retry-After, each answering the first request sent
    # after the last pause, sank the pace to the floor and the batch took 7x its bound.
    from musicapi._budget import DEFAULT_RATE, RequestBudget
    from musicapi.testing import FakeClock

    clock = FakeClock()
    budget = RequestBudget(clock, rate_limit=None, max_in_flight=64)
    for _ in range(30):
        await budget.pace()
        async with budget.slot():
            pass
        budget.on_rate_limited(0.5)
    assert budget.rate >= DEFAULT_RATE / 2
    await budget.pace()
    async with budget.slot():
        pass
    budget.on_answer()
    await budget.pace()
    async with budget.slot():
        pass
    budget.on_rate_limited(None)  # a 429 after the pace worked again is a new episode
    assert budget.rate < DEFAULT_RATE / 2


async def test_429s_without_a_pause_keep_halving() -> None:
    from musicapi._budget import DEFAULT_RATE, RequestBudget
    from musicapi.testing import FakeClock

    clock = FakeClock()
    budget = RequestBudget(clock, rate_limit=None, max_in_flight=64)
    for _ in range(4):
        await budget.pace()
        async with budget.slot():
            pass
        budget.on_rate_limited(None)
    assert budget.rate <= DEFAULT_RATE / 8
