from __future__ import annotations

import anyio
import pytest

from musicapi._budget import (
    DEFAULT_RATE,
    INCREASE_PER_SECOND,
    MAX_ADAPTIVE_RATE,
    MIN_RATE,
    RequestBudget,
)
from musicapi.testing import FakeClock


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


class TestPace:
    def test_defaults(self) -> None:
        budget = _budget(FakeClock())
        assert budget.rate == DEFAULT_RATE >= 200
        assert budget.in_flight == 0
        assert budget.rate_limited == 0

    def test_explicit_rate_limit_is_the_rate(self) -> None:
        assert _budget(FakeClock(), rate_limit=3.0).rate == 3.0

    async def test_spaces_requests_at_one_over_rate(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=10.0)
        times = await _pace_times(budget, clock, 20)
        assert times == pytest.approx([i / 10 for i in range(20)])

    async def test_sequential_requests_are_spaced_too(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=4.0)
        times = []
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
        assert times[-1] - start >= 3 * 0.5 - 0.05 - 1e-9

    async def test_default_rate_does_not_slow_a_healthy_batch(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        times = await _pace_times(budget, clock, 200)
        assert times[-1] - times[0] <= 1.0


class TestRateLimited:
    async def test_halves_and_holds_until_retry_after(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=10.0)
        budget.on_rate_limited(2.0)
        assert budget.rate == 5.0
        assert budget.rate_limited == 1
        times = await _pace_times(budget, clock, 3)
        assert times == pytest.approx([2.0, 2.2, 2.4])

    async def test_pause_without_retry_after_only_halves(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=10.0)
        budget.on_rate_limited(None)
        assert budget.rate == 5.0
        times = await _pace_times(budget, clock, 2)
        assert times == pytest.approx([0.0, 0.2])

    def test_429s_during_one_pause_halve_once(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        budget.on_rate_limited(5.0)
        clock.advance(1.0)
        budget.on_rate_limited(5.0)
        budget.on_rate_limited(5.0)
        assert budget.rate == DEFAULT_RATE / 2
        assert budget.rate_limited == 3
        clock.advance(10.0)
        budget.on_rate_limited(1.0)
        assert budget.rate == DEFAULT_RATE / 4

    def test_rate_never_falls_below_minimum(self) -> None:
        budget = _budget(FakeClock())
        for _ in range(100):
            budget.on_rate_limited(None)
        assert budget.rate == MIN_RATE

    def test_halving_never_exceeds_an_explicit_low_rate_limit(self) -> None:
        budget = _budget(FakeClock(), rate_limit=0.2)
        budget.on_rate_limited(None)
        assert budget.rate <= 0.2


class TestAdditiveIncrease:
    def test_climbs_back_additively_to_explicit_limit(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=100.0)
        budget.on_rate_limited(None)
        assert budget.rate == 50.0
        clock.advance(1.0)
        budget.on_answer()
        assert budget.rate == pytest.approx(50.0 + INCREASE_PER_SECOND)
        clock.advance(0.4)
        budget.on_answer()
        assert budget.rate == pytest.approx(50.0 + 1.4 * INCREASE_PER_SECOND)
        clock.advance(1000.0)
        budget.on_answer()
        assert budget.rate == 100.0
        clock.advance(1000.0)
        budget.on_answer()
        assert budget.rate == 100.0

    def test_no_climb_without_time_passing(self) -> None:
        clock = FakeClock()
        budget = _budget(clock, rate_limit=100.0)
        budget.on_rate_limited(None)
        for _ in range(1000):
            budget.on_answer()
        assert budget.rate == 50.0

    def test_adaptive_climb_is_bounded(self) -> None:
        clock = FakeClock()
        budget = _budget(clock)
        budget.on_rate_limited(None)
        for _ in range(50):
            clock.advance(100.0)
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


async def _run_in_scope(scope: anyio.CancelScope, fn, *args) -> None:  # type: ignore[no-untyped-def]
    with scope:
        await fn(*args)
