"""Event buses: how a verified delivery reaches whoever waits for it, wherever that is.

A delivery is verified by a web worker: an ASGI handler on some event loop, a WSGI
worker thread, or (with `RedisBus`) the bus's own listener thread in another process.
The waiter that should wake is a task on some other event loop, asyncio or trio,
possibly in another thread. So `publish()` may be called from any thread, and each
`Subscription` is consumed on its own loop.

Why not an `anyio.Event` set by the publisher: on asyncio, `Event.set()` from a
foreign thread resolves futures without waking the loop's selector (the waiter may
sleep until some unrelated I/O happens, or the loop's internals race), and on trio it
raises or corrupts the run. A memory object stream has the same problem. Instead a
`Subscription` keeps its events in a lock-protected deque, and a waiting `receive()`
leaves behind, under the same lock, a *waker*: an `anyio.Event` of its own loop plus
that loop's thread-safe scheduler (`loop.call_soon_threadsafe` on asyncio,
`TrioToken.run_sync_soon` on trio). A publisher appends under the lock, takes the
wakers, and asks each loop to set its own event, from whatever thread it is on.
Because the waker is registered under the lock that guards the deque, an event
published between the check and the wait is never missed.

Events published while nobody awaits stay buffered per subscription, up to
`max_buffered`; past that the oldest is dropped and a warning logged, so a
subscription nobody reads cannot grow without bound. Drop-oldest is right for
wake-ups: polling remains the source of truth, and the newest events matter most.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import anyio
import anyio.lowlevel

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from typing_extensions import Self

    from musicapi._webhooks._event import WebhookEvent

__all__ = ["DEFAULT_MAX_BUFFERED", "EventBus", "InProcessBus", "Subscription"]

_log = logging.getLogger("musicapi")

DEFAULT_MAX_BUFFERED = 1000
"""Events a subscription keeps while nobody reads it; the oldest go first."""


@runtime_checkable
class EventBus(Protocol):
    """Carries verified webhook events from the receiver to whoever waits for them.

    Implementations must accept `publish()` from any thread, with or without an
    event loop, and must not block it for long (the receiver calls it before it
    answers the platform). `InProcessBus` serves one process; `RedisBus` spans
    processes and hosts. A custom bus can reuse `InProcessBus` for the local fan-out,
    as `RedisBus` does.
    """

    def publish(self, event: WebhookEvent) -> None:
        """Hand `event` to every current subscriber; never raise for a slow one."""
        ...

    def subscribe(self, *, max_buffered: int = DEFAULT_MAX_BUFFERED) -> Subscription:
        """Return a new subscription that receives every event published from now on."""
        ...


class _Waker:
    """One waiting `receive()`: its loop's event and how to set it from any thread."""

    __slots__ = ("event", "schedule")

    def __init__(self, schedule: Callable[[Callable[[], None]], None]) -> None:
        self.event = anyio.Event()
        self.schedule = schedule

    def wake(self) -> None:
        self.schedule(self.event.set)


class Subscription:
    """A subscriber's mailbox: buffered, bounded, thread-safe, consumed on any loop.

    Consume it with `await receive()` or `async for` on asyncio or trio, or take what
    is buffered without waiting with `drain()`. `close()` (or leaving a `with` block)
    ends it; a `receive()` waiting at that moment raises `anyio.ClosedResourceError`
    and `async for` stops.

    Args:
        max_buffered: How many unread events to keep; beyond that the oldest is
            dropped (counted in `dropped`, logged at WARNING).
        on_close: Called once when the subscription closes (the bus forgets it).
    """

    def __init__(
        self,
        *,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
        on_close: Callable[[Subscription], None] | None = None,
    ) -> None:
        self._max = _positive_int("max_buffered", max_buffered)
        self._lock = threading.Lock()
        self._events: collections.deque[WebhookEvent] = collections.deque()
        self._wakers: list[_Waker] = []
        self._closed = False
        self._on_close = on_close
        self.dropped = 0
        """How many events were dropped because the buffer was full."""

    def __repr__(self) -> str:
        return (
            f"Subscription(pending={len(self._events)}, dropped={self.dropped}, "
            f"closed={self._closed})"
        )

    @property
    def closed(self) -> bool:
        """Whether the subscription was closed (by itself or by its bus)."""
        return self._closed

    @property
    def pending(self) -> int:
        """How many events are buffered, unread."""
        return len(self._events)

    def put(self, event: WebhookEvent) -> None:
        """Buffer `event` and wake the waiting readers; callable from any thread.

        A bus calls this; user code normally publishes through the bus instead.
        """
        with self._lock:
            if self._closed:
                return
            self._events.append(event)
            if len(self._events) > self._max:
                self._events.popleft()
                self.dropped += 1
                dropped = self.dropped
            else:
                dropped = 0
            wakers, self._wakers = self._wakers, []
        if dropped == 1 or (dropped and dropped % 1000 == 0):
            _log.warning(
                "a webhook subscription is not read: its buffer of %d events is full, "
                "the oldest was dropped (%d dropped so far)",
                self._max,
                dropped,
            )
        for waker in wakers:
            waker.wake()

    def drain(self) -> list[WebhookEvent]:
        """Return every buffered event, oldest first, without waiting (empty if none)."""
        with self._lock:
            events = list(self._events)
            self._events.clear()
        return events

    async def receive(self) -> WebhookEvent:
        """Wait for the next event and return it; buffered events come first, oldest first.

        Cancellation (an anyio cancel scope, a trio or asyncio cancel) stops the wait
        at once and loses no event.

        Raises:
            anyio.ClosedResourceError: The subscription is closed.
        """
        await anyio.lowlevel.checkpoint()  # before taking an event, so a cancel loses none
        schedule = _loop_scheduler()
        while True:
            with self._lock:
                if self._closed:
                    raise anyio.ClosedResourceError
                if self._events:
                    event = self._events.popleft()
                    break
                # Registered under the lock that guards the deque: a publish that
                # comes after the check above always finds this waker.
                waker = _Waker(schedule)
                self._wakers.append(waker)
            try:
                await waker.event.wait()
            finally:
                with self._lock, contextlib.suppress(ValueError):
                    self._wakers.remove(waker)
        return event

    def close(self) -> None:
        """Stop receiving: drop what is buffered and wake every waiting `receive()`."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._events.clear()
            wakers, self._wakers = self._wakers, []
            on_close, self._on_close = self._on_close, None
        for waker in wakers:
            waker.wake()
        if on_close is not None:
            on_close(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> WebhookEvent:
        try:
            return await self.receive()
        except anyio.ClosedResourceError:
            raise StopAsyncIteration from None


class InProcessBus:
    """The default bus: fans events out to the subscriptions of this process.

    Thread-safe and loop-neutral: publish from a WSGI thread, an ASGI handler on
    asyncio or trio, or a bus's listener thread; consume each subscription on its own
    loop. Subscriptions are held weakly, so one that is dropped without `close()`
    stops costing anything once it is garbage.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: weakref.WeakSet[Subscription] = weakref.WeakSet()
        self._closed = False

    def __repr__(self) -> str:
        return f"InProcessBus(subscriptions={len(self._subscriptions)}, closed={self._closed})"

    def publish(self, event: WebhookEvent) -> None:
        """Buffer `event` in every current subscription and wake their readers."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.put(event)

    def subscribe(self, *, max_buffered: int = DEFAULT_MAX_BUFFERED) -> Subscription:
        """Return a subscription to every event published from now on.

        Raises:
            RuntimeError: The bus is closed.
        """
        subscription = Subscription(max_buffered=max_buffered, on_close=self._forget)
        with self._lock:
            if self._closed:
                raise RuntimeError("the webhook event bus is closed")
            self._subscriptions.add(subscription)
        return subscription

    def close(self) -> None:
        """Close every subscription (their readers see the end) and refuse new ones."""
        with self._lock:
            self._closed = True
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.close()

    def _forget(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return value


def _loop_scheduler() -> Callable[[Callable[[], None]], None]:
    """Return a function that runs a callback on the current event loop, from any thread.

    Raises:
        RuntimeError: No asyncio or trio loop runs in this thread.
    """
    library = _async_library()
    if library == "trio":
        import trio

        token = trio.lowlevel.current_trio_token()

        def schedule_on_trio(callback: Callable[[], None]) -> None:
            with contextlib.suppress(trio.RunFinishedError):  # the waiter's run is over
                token.run_sync_soon(callback)

        return schedule_on_trio
    if library == "asyncio":
        loop = asyncio.get_running_loop()

        def schedule_on_asyncio(callback: Callable[[], None]) -> None:
            with contextlib.suppress(RuntimeError):  # the waiter's loop is closed
                loop.call_soon_threadsafe(callback)

        return schedule_on_asyncio
    raise RuntimeError(f"a webhook subscription cannot be awaited on {library}")


def _async_library() -> str:
    """Name the async library running in this thread (sniffio's answer, as anyio's)."""
    try:
        import sniffio
    except ImportError:  # trio needs sniffio, so without it only asyncio can be running
        return "asyncio"
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        raise RuntimeError("Subscription.receive() must run in an asyncio or trio loop") from None
