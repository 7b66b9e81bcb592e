"""The in-process event bus: buffering, bounds, and wake-ups across threads and loops."""

from __future__ import annotations

import gc
import logging
import threading

import anyio
import anyio.lowlevel
import pytest

from musicapi.webhooks import EventBus, InProcessBus, Subscription, WebhookEvent

HANG_GUARD = 20  # seconds; only reached if a wake-up is lost


def _event(n: int, task_id: str = "task-0001") -> WebhookEvent:
    return WebhookEvent(id=f"evt_{n}", type="song.completed", task_id=task_id, state="succeeded")


async def _until_waiting(subscription: Subscription) -> None:
    """Yield to the scheduler until a `receive()` is parked on `subscription` (no sleeping)."""
    with anyio.fail_after(HANG_GUARD):
        while not subscription._wakers:
            await anyio.lowlevel.checkpoint()


def test_the_bus_meets_the_protocol() -> None:
    assert isinstance(InProcessBus(), EventBus)


async def test_publish_then_receive() -> None:
    bus = InProcessBus()
    with bus.subscribe() as first, bus.subscribe() as second:
        bus.publish(_event(1))
        assert await first.receive() == _event(1)
        assert await second.receive() == _event(1)
    assert first.closed and second.closed


async def test_events_wait_in_the_buffer_until_drained() -> None:
    bus = InProcessBus()
    subscription = bus.subscribe()
    assert subscription.drain() == []
    for n in range(5):
        bus.publish(_event(n))
    assert subscription.pending == 5
    assert await subscription.receive() == _event(0)
    assert subscription.drain() == [_event(n) for n in range(1, 5)]
    assert subscription.drain() == []
    subscription.close()


async def test_a_subscription_sees_only_later_events() -> None:
    bus = InProcessBus()
    bus.publish(_event(0))
    with bus.subscribe() as subscription:
        bus.publish(_event(1))
        assert subscription.drain() == [_event(1)]


def test_a_full_buffer_drops_the_oldest_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    bus = InProcessBus()
    subscription = bus.subscribe(max_buffered=3)
    with caplog.at_level(logging.WARNING, logger="musicapi"):
        for n in range(6):
            bus.publish(_event(n))
    assert subscription.drain() == [_event(3), _event(4), _event(5)]
    assert subscription.dropped == 3
    warnings = [r for r in caplog.records if r.name == "musicapi" and r.levelno == logging.WARNING]
    assert len(warnings) == 1  # the first drop is logged, not every one
    assert "oldest was dropped" in warnings[0].getMessage()


@pytest.mark.parametrize("max_buffered", [0, -1, True, 1.5])
def test_max_buffered_must_be_a_positive_integer(max_buffered: object) -> None:
    with pytest.raises(ValueError, match="max_buffered"):
        InProcessBus().subscribe(max_buffered=max_buffered)  # type: ignore[arg-type]


async def test_a_waiting_receive_wakes_on_a_publish_from_the_same_loop() -> None:
    bus = InProcessBus()
    subscription = bus.subscribe()
    got: list[WebhookEvent] = []
    async with anyio.create_task_group() as tg:

        async def consume() -> None:
            got.append(await subscription.receive())

        tg.start_soon(consume)
        await _until_waiting(subscription)
        bus.publish(_event(1))
    assert got == [_event(1)]


async def test_publishes_from_many_threads_wake_the_waiter() -> None:
    bus = InProcessBus()
    subscription = bus.subscribe(max_buffered=10_000)
    threads_count, per_thread = 8, 50
    got: list[WebhookEvent] = []

    async def consume() -> None:
        with anyio.fail_after(HANG_GUARD):
            async for event in subscription:
                got.append(event)
                if len(got) == threads_count * per_thread:
                    return

    def produce(thread: int) -> None:
        for n in range(per_thread):
            bus.publish(_event(thread * 1000 + n))

    threads = [threading.Thread(target=produce, args=(t,)) for t in range(threads_count)]
    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        await _until_waiting(subscription)  # the first events arrive on a parked receive()
        for thread in threads:
            thread.start()
    for thread in threads:
        thread.join()
    assert sorted(event.id for event in got) == sorted(
        f"evt_{t * 1000 + n}" for t in range(threads_count) for n in range(per_thread)
    )
    numbers = [int(event.id.removeprefix("evt_")) for event in got]
    for t in range(threads_count):  # each thread's events arrive in the order it sent them
        mine = [n for n in numbers if n // 1000 == t]
        assert mine == sorted(mine)


@pytest.mark.parametrize("other_backend", ["asyncio", "trio"])
async def test_a_subscriber_on_another_loop_in_another_thread_wakes(other_backend: str) -> None:
    # The test's loop publishes; the subscriber waits on a loop of its own, in a thread.
    bus = InProcessBus()
    subscription = bus.subscribe()
    parked = threading.Event()
    got: list[WebhookEvent] = []
    errors: list[BaseException] = []

    async def consumer() -> None:
        async def watch() -> None:
            while not subscription._wakers:
                await anyio.lowlevel.checkpoint()
            parked.set()

        with anyio.fail_after(HANG_GUARD):
            async with anyio.create_task_group() as tg:
                tg.start_soon(watch)
                got.append(await subscription.receive())
                got.append(await subscription.receive())

    def main() -> None:
        try:
            anyio.run(consumer, backend=other_backend)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    with anyio.fail_after(HANG_GUARD):
        await anyio.to_thread.run_sync(parked.wait)
    bus.publish(_event(1))  # from this loop's thread, to a receive() parked on the other
    bus.publish(_event(2))
    await anyio.to_thread.run_sync(thread.join)
    assert errors == []
    assert got == [_event(1), _event(2)]


async def test_close_from_another_thread_ends_a_waiting_receive() -> None:
    bus = InProcessBus()
    subscription = bus.subscribe()
    outcome: list[str] = []

    async def consume() -> None:
        with pytest.raises(anyio.ClosedResourceError):
            await subscription.receive()
        outcome.append("closed")

    closer = threading.Thread(target=subscription.close)
    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        await _until_waiting(subscription)
        closer.start()
    closer.join()
    assert outcome == ["closed"]
    with pytest.raises(anyio.ClosedResourceError):
        await subscription.receive()
    bus.publish(_event(1))  # a closed subscription ignores events
    assert subscription.drain() == []


async def test_async_for_stops_when_the_bus_closes() -> None:
    bus = InProcessBus()
    subscription = bus.subscribe()
    bus.publish(_event(1))
    seen: list[WebhookEvent] = []

    async def consume() -> None:
        seen.extend([event async for event in subscription])

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        await _until_waiting(subscription)
        bus.close()
    assert seen == [_event(1)]
    with pytest.raises(RuntimeError, match="closed"):
        bus.subscribe()


async def test_a_cancelled_receive_loses_no_event() -> None:
    bus = InProcessBus()
    subscription = bus.subscribe()
    with anyio.CancelScope() as scope:
        scope.cancel()
        await subscription.receive()
    assert scope.cancelled_caught
    bus.publish(_event(1))
    with anyio.CancelScope() as scope:  # cancelled before it could take the event
        scope.cancel()
        await subscription.receive()
    assert subscription.drain() == [_event(1)]
    assert subscription._wakers == []


async def test_concurrent_receivers_share_the_events() -> None:
    bus = InProcessBus()
    subscription = bus.subscribe()
    got: list[WebhookEvent] = []

    async def consume() -> None:
        got.append(await subscription.receive())

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        tg.start_soon(consume)
        with anyio.fail_after(HANG_GUARD):
            while len(subscription._wakers) < 2:
                await anyio.lowlevel.checkpoint()
        bus.publish(_event(1))
        bus.publish(_event(2))
    assert sorted(event.id for event in got) == ["evt_1", "evt_2"]


def test_forgotten_subscriptions_cost_nothing() -> None:
    bus = InProcessBus()
    bus.subscribe()
    gc.collect()
    assert "subscriptions=0" in repr(bus)
    kept = bus.subscribe()
    assert "subscriptions=1" in repr(bus)
    kept.close()
    assert "subscriptions=0" in repr(bus)
