from __future__ import annotations

import random
import time

import anyio
import pytest

from musicapi._clock import REAL_CLOCK, Clock, RealClock
from musicapi.testing import FakeClock


def test_fake_clock_is_a_clock() -> None:
    assert isinstance(FakeClock(), Clock)
    assert isinstance(REAL_CLOCK, Clock)
    assert isinstance(REAL_CLOCK, RealClock)


def test_now_and_advance() -> None:
    clock = FakeClock(start=100.0)
    assert clock.now() == 100.0
    clock.advance(2.5)
    assert clock.now() == 102.5
    clock.advance(0)
    assert clock.now() == 102.5


def test_advance_backwards_is_refused() -> None:
    clock = FakeClock()
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1.0)


@pytest.mark.parametrize("seconds", [0.0, -5.0])
async def test_non_positive_sleep_returns_at_once(seconds: float) -> None:
    clock = FakeClock(autojump=False)
    with anyio.fail_after(5):  # real time: would hang without autojump if it slept
        await clock.sleep(seconds)
    assert clock.now() == 0.0


async def test_advance_wakes_due_sleepers_only() -> None:
    clock = FakeClock(autojump=False)
    woke: list[tuple[float, float]] = []

    async def sleeper(seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((seconds, clock.now()))

    async with anyio.create_task_group() as tg:
        for seconds in (5.0, 1.0, 2.0):
            tg.start_soon(sleeper, seconds)
        await anyio.wait_all_tasks_blocked()
        assert woke == []
        clock.advance(1.5)
        await anyio.wait_all_tasks_blocked()
        assert woke == [(1.0, 1.5)]
        clock.advance(0.5)
        await anyio.wait_all_tasks_blocked()
        assert woke == [(1.0, 1.5), (2.0, 2.0)]
        clock.advance(0.1)
        await anyio.wait_all_tasks_blocked()
        assert len(woke) == 2
        clock.advance(100.0)
    assert woke == [(1.0, 1.5), (2.0, 2.0), (5.0, 102.1)]


async def test_autojump_single_sleep_lands_exactly() -> None:
    clock = FakeClock(start=10.0)
    await clock.sleep(3.25)
    assert clock.now() == 13.25


async def test_autojump_many_concurrent_sleepers_in_order() -> None:
    clock = FakeClock()
    rng = random.Random(1234)
    durations = [round(rng.uniform(0.1, 500.0), 3) for _ in range(60)]
    woke: list[tuple[float, float]] = []

    async def sleeper(seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((seconds, clock.now()))

    async with anyio.create_task_group() as tg:
        for seconds in durations:
            tg.start_soon(sleeper, seconds)
    assert [d for d, _ in woke] == sorted(durations)
    assert all(now == pytest.approx(d) for d, now in woke)
    assert clock.now() == pytest.approx(max(durations))


async def test_autojump_sequential_sleeps_accumulate() -> None:
    clock = FakeClock()
    log = []

    async def ticker(name: str, period: float, count: int) -> None:
        for _ in range(count):
            await clock.sleep(period)
            log.append((clock.now(), name))

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker, "a", 3.0, 4)
        tg.start_soon(ticker, "b", 5.0, 3)
    times = [t for t, _ in log]
    assert times == sorted(times)
    assert sorted(log) == sorted(
        [(3.0, "a"), (6.0, "a"), (9.0, "a"), (12.0, "a"), (5.0, "b"), (10.0, "b"), (15.0, "b")]
    )


async def test_long_sleep_is_fast_in_real_time() -> None:
    clock = FakeClock()
    started = time.perf_counter()
    await clock.sleep(600.0)
    assert time.perf_counter() - started < 1.0
    assert clock.now() == 600.0


async def test_many_long_sleeps_are_fast_in_real_time() -> None:
    clock = FakeClock()
    started = time.perf_counter()

    async def sleeper(i: int) -> None:
        await clock.sleep(600.0 + i)

    async with anyio.create_task_group() as tg:
        for i in range(200):
            tg.start_soon(sleeper, i)
    assert time.perf_counter() - started < 3.0
    assert clock.now() == 799.0


async def test_cancelled_sleeper_does_not_wedge_others() -> None:
    clock = FakeClock()
    woke: list[tuple[str, float]] = []
    scope = anyio.CancelScope()

    async def cancelled_sleeper() -> None:
        with scope:
            await clock.sleep(10.0)
            woke.append(("cancelled", clock.now()))

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    async def canceller() -> None:
        await clock.sleep(4.0)
        scope.cancel()

    with anyio.fail_after(10):  # real seconds: a wedged clock would hang
        async with anyio.create_task_group() as tg:
            tg.start_soon(cancelled_sleeper)
            tg.start_soon(sleeper, "b", 20.0)
            tg.start_soon(sleeper, "c", 30.0)
            tg.start_soon(canceller)
    assert woke == [("b", 20.0), ("c", 30.0)]


async def test_cancelled_first_sleeper_without_autojump() -> None:
    clock = FakeClock(autojump=False)
    woke: list[float] = []
    scope = anyio.CancelScope()

    async def first() -> None:
        with scope:
            await clock.sleep(1.0)

    async def second() -> None:
        await clock.sleep(2.0)
        woke.append(clock.now())

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(first)
            tg.start_soon(second)
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
            await anyio.wait_all_tasks_blocked()
            clock.advance(2.0)
    assert woke == [2.0]


async def test_sleep_is_cancellable_by_a_real_timeout() -> None:
    clock = FakeClock(autojump=False)
    with anyio.move_on_after(0.05) as scope:
        await clock.sleep(1.0)
    assert scope.cancelled_caught
    assert clock.now() == 0.0


async def test_real_clock_sleeps() -> None:
    before = REAL_CLOCK.now()
    await REAL_CLOCK.sleep(-1.0)  # negative counts as zero
    await REAL_CLOCK.sleep(0.01)
    assert REAL_CLOCK.now() - before >= 0.009
    assert repr(REAL_CLOCK) == "RealClock()"
