"""`RedisBus`: verified webhook events, from the worker that got them to every process.

A service with several worker processes (uvicorn or gunicorn workers, several
hosts) gets each delivery in one of them, while the `wait` that should wake may run
in another. `RedisBus` publishes each verified event on a Redis pub/sub channel and
every process that subscribed hands it to its local subscriptions.

The `redis` package's asyncio client runs only on asyncio, so the bus runs it on a
thread of its own, with its own asyncio loop (`musicapi-redis-bus`), started on first
use. Publishers hand messages to that loop from any thread; its listener hands
events to an `InProcessBus`, whose subscriptions are consumed on any loop, asyncio or
trio. Nothing of Redis ever runs on the caller's loop, so the bus works the same
under trio, under asyncio, and from plain threads (WSGI).

`redis` is imported only when a `RedisBus` is made: the core SDK does not need it
(install the `redis` extra: `pip install 'musicapi[redis]'`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib
import json
import logging
import math
import threading
import urllib.parse
from typing import TYPE_CHECKING, Any, Final, cast

from musicapi._errors import WebhookVerificationError
from musicapi._webhooks._bus import DEFAULT_MAX_BUFFERED, InProcessBus
from musicapi._webhooks._event import WebhookEvent
from musicapi._webhooks._parse import event_from_payload

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from types import TracebackType

    import redis.asyncio
    from typing_extensions import Self

    from musicapi._webhooks._bus import Subscription

__all__ = ["RedisBus", "decode_event", "encode_event"]

_log = logging.getLogger("musicapi")

MESSAGE_VERSION: Final = 1
"""The `musicapi` field of every message; a listener ignores versions it does not know."""

_Outgoing = tuple[bytes, "concurrent.futures.Future[int]"]
"""A message for Redis and the future its publisher waits on."""

_RECONNECT_FIRST: Final = 0.1
_RECONNECT_MAX: Final = 5.0


class RedisBus:
    """An event bus over Redis pub/sub: a delivery verified in one process wakes waits in all.

    Give the same `RedisBus(url, channel)` to the `WebhookReceiver` of every worker
    and to the clients that wait; each process publishes what its receiver verified
    and receives what any process published.

    Trust boundary: a message on the channel is *not* verified again. The process
    that published it checked the signature; the others trust the channel. So anyone
    who can publish to that Redis channel can put events of their making in every
    subscription of every process, and so wake waiters. That is bounded by design: a
    woken wait polls the API, and polling, not the event, is the source of truth for
    results. (A receiver's `on_event` callbacks run only in the process that verified
    the delivery, never for what arrives over Redis.) Keep the Redis server private
    all the same.

    Publishing does not block: the message is queued to the bus's thread and sent
    from there (failures are logged at ERROR). Call `flush()` or `close()` (or use the
    bus as a context manager) before a process exits, or the last messages may be
    lost. `start()` connects and subscribes at once and waits until Redis confirmed;
    without it, the first `subscribe()` does so in the background, and events
    published before the subscription is confirmed are not seen (the wait's polling
    covers them).

    Args:
        url: The Redis URL (`redis://`, `rediss://` or `unix://`), as for
            `redis.asyncio.Redis.from_url`.
        channel: The pub/sub channel; every process of one service must use the same.
        timeout: The default time, in seconds, that `start()`, `flush()` and `close()`
            wait, and the connect timeout of the Redis client.

    Raises:
        ImportError: The `redis` package is not installed.
        ValueError: `channel` is empty or `timeout` is not a positive number.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        channel: str = "musicapi:webhooks",
        *,
        timeout: float = 10.0,
    ) -> None:
        try:
            importlib.import_module("redis.asyncio")  # fail here, not in the bus's thread
        except ImportError as exc:
            raise ImportError(
                "RedisBus needs the redis package: pip install 'musicapi[redis]'"
            ) from exc
        if not channel:
            raise ValueError("channel must be a non-empty string")
        if not (math.isfinite(timeout) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self._url = url
        self._channel = channel
        self._timeout = float(timeout)
        self._local = InProcessBus()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: redis.asyncio.Redis | None = None
        self._listener: asyncio.Task[None] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._outbox: asyncio.Queue[_Outgoing] | None = None
        self._listening = False
        self._ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._pending: set[concurrent.futures.Future[int]] = set()
        self._closed = False

    def __repr__(self) -> str:
        return f"RedisBus(url={_redacted(self._url)!r}, channel={self._channel!r})"

    @property
    def channel(self) -> str:
        """The pub/sub channel."""
        return self._channel

    def start(self, timeout: float | None = None) -> None:
        """Connect and subscribe now, and wait until Redis confirmed the subscription.

        Blocking: from async code, call it through `anyio.to_thread.run_sync`, or once
        at start-up. If the first attempt fails the bus keeps retrying in the
        background (a later `start()` waits for that), and this raises.

        Args:
            timeout: Seconds to wait; the bus's `timeout` by default.

        Raises:
            TimeoutError: Redis did not confirm in time.
            RuntimeError: The bus is closed.
            redis.exceptions.ConnectionError: The first connection attempt failed.
        """
        self._ensure_listening()
        with self._lock:
            ready = self._ready
        try:
            ready.result(timeout=self._timeout if timeout is None else timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"Redis at {_redacted(self._url)} did not confirm in time") from None

    def publish(self, event: WebhookEvent) -> None:
        """Queue `event` for publication on the channel; never blocks on Redis.

        Events are sent one after the other, in the order `publish()` was called (a
        `streaming` published before a `succeeded` reaches every subscriber first).

        Raises:
            RuntimeError: The bus is closed.
            ValueError: The event cannot be encoded as JSON.
        """
        payload = encode_event(event)
        loop = self._ensure_loop()
        future: concurrent.futures.Future[int] = concurrent.futures.Future()
        with self._lock:
            self._pending.add(future)
            outbox = self._outbox
        if outbox is None:  # never: set before the loop starts
            raise RuntimeError("the RedisBus has no outbox")
        try:
            loop.call_soon_threadsafe(outbox.put_nowait, (payload, future))
        except RuntimeError:  # the loop closed under us: close() ran meanwhile
            with self._lock:
                self._pending.discard(future)
            raise RuntimeError("the RedisBus is closed") from None

        def published(done: concurrent.futures.Future[int]) -> None:
            with self._lock:
                self._pending.discard(done)
            if done.cancelled():
                _log.error("webhook event %s was not published to Redis: cancelled", event.id)
            elif (error := done.exception()) is not None:
                _log.error("webhook event %s was not published to Redis: %r", event.id, error)

        future.add_done_callback(published)

    def subscribe(self, *, max_buffered: int = DEFAULT_MAX_BUFFERED) -> Subscription:
        """Return a subscription to every event any process publishes from now on.

        The subscription is an ordinary in-process one, consumed on any loop
        (asyncio or trio). The first call starts listening on Redis in the
        background; call `start()` to wait until that is confirmed.

        Raises:
            RuntimeError: The bus is closed.
        """
        subscription = self._local.subscribe(max_buffered=max_buffered)
        self._ensure_listening()
        return subscription

    def flush(self, timeout: float | None = None) -> None:
        """Wait until every event published so far has reached Redis (or failed, logged).

        Raises:
            TimeoutError: Some are still on their way after `timeout` seconds.
        """
        with self._lock:
            pending = list(self._pending)
        _, not_done = concurrent.futures.wait(
            pending, timeout=self._timeout if timeout is None else timeout
        )
        if not_done:
            raise TimeoutError(f"{len(not_done)} webhook events are not yet published to Redis")

    def close(self, timeout: float | None = None) -> None:
        """Publish what is queued, stop listening, disconnect, and end every subscription.

        Idempotent. Must not be called from the bus's own thread.
        """
        limit = self._timeout if timeout is None else timeout
        with self._lock:
            if self._closed:
                return
            if self._thread is not None and threading.current_thread() is self._thread:
                raise RuntimeError("RedisBus.close() cannot run on the bus's own thread")
            self._closed = True
            loop, thread = self._loop, self._thread
        try:
            if loop is not None:
                with contextlib.suppress(TimeoutError):
                    self.flush(limit)
                stop = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
                with contextlib.suppress(concurrent.futures.TimeoutError):
                    stop.result(timeout=limit)
        finally:
            if loop is not None and thread is not None:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(loop.stop)
                thread.join(limit)
            self._local.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- on the caller's thread -------------------------------------------------------

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        """Start the bus's thread and loop (and its Redis client) if not yet running."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the RedisBus is closed")
            if self._loop is None:
                started: concurrent.futures.Future[asyncio.AbstractEventLoop] = (
                    concurrent.futures.Future()
                )
                thread = threading.Thread(
                    target=self._run, args=(started,), name="musicapi-redis-bus", daemon=True
                )
                thread.start()
                self._loop = started.result()
                self._thread = thread
            return self._loop

    def _ensure_listening(self) -> None:
        loop = self._ensure_loop()
        with self._lock:
            if self._listening:
                return
            self._listening = True
        loop.call_soon_threadsafe(self._start_listener)

    # -- on the bus's thread ----------------------------------------------------------

    def _run(self, started: concurrent.futures.Future[asyncio.AbstractEventLoop]) -> None:
        import redis.asyncio

        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self._client = redis.asyncio.Redis.from_url(  # pyright: ignore[reportUnknownMemberType]
                self._url,
                socket_connect_timeout=self._timeout,
                health_check_interval=30,
            )
        except Exception as exc:  # a malformed URL: the caller sees it
            loop.close()
            started.set_exception(exc)
            return
        self._outbox = asyncio.Queue()
        self._publisher = loop.create_task(self._publish_forever(self._outbox))
        started.set_result(loop)
        try:
            loop.run_forever()
        finally:
            leftovers = asyncio.all_tasks(loop)
            for task in leftovers:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _start_listener(self) -> None:
        self._listener = asyncio.get_running_loop().create_task(self._listen())

    def _redis(self) -> redis.asyncio.Redis:
        if self._client is None:  # set before the loop starts: never true in practice
            raise RuntimeError("the RedisBus has no Redis client")
        return self._client

    async def _publish_forever(self, outbox: asyncio.Queue[_Outgoing]) -> None:
        """Send queued events one at a time, so that they arrive in the order published."""
        client = self._redis()
        while True:
            payload, future = await outbox.get()
            if future.done():
                continue
            try:
                receivers = await client.publish(self._channel, payload)  # pyright: ignore[reportUnknownMemberType]
            except asyncio.CancelledError:
                future.cancel()
                raise
            except Exception as exc:
                future.set_exception(exc)
            else:
                future.set_result(receivers)

    async def _listen(self) -> None:
        """Subscribe and hand every message to the local bus; reconnect with backoff."""
        delay = _RECONNECT_FIRST
        while True:
            pubsub = self._redis().pubsub()  # pyright: ignore[reportUnknownMemberType]
            try:
                await pubsub.subscribe(self._channel)
                listen = pubsub.listen()  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
                messages = cast("AsyncIterator[dict[str, Any]]", listen)
                async for message in messages:
                    kind = message.get("type")
                    if kind == "subscribe":
                        delay = _RECONNECT_FIRST
                        with self._lock:
                            ready = self._ready
                        if not ready.done():
                            ready.set_result(None)
                    elif kind == "message":
                        self._deliver(message.get("data"))
                raise ConnectionError("the subscription ended")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                with self._lock:
                    failed, self._ready = self._ready, concurrent.futures.Future()
                if not failed.done():
                    failed.set_exception(exc)
                _log.warning(
                    "listening for webhook events on Redis at %s failed (%r); retrying in %.1f s",
                    _redacted(self._url),
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RECONNECT_MAX)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _deliver(self, data: object) -> None:
        try:
            event = decode_event(data)
        except (ValueError, WebhookVerificationError) as exc:
            _log.warning("ignored a message on Redis channel %r: %s", self._channel, exc)
            return
        if event is not None:
            self._local.publish(event)

    async def _shutdown(self) -> None:
        for task in (self._publisher, self._listener):
            if task is not None:
                task.cancel()
        if self._outbox is not None:  # what flush() gave up on
            while not self._outbox.empty():
                self._outbox.get_nowait()[1].cancel()
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        if self._publisher is not None:
            await asyncio.gather(self._publisher, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()


def encode_event(event: WebhookEvent) -> bytes:
    """Return the bus message for `event`: its body's JSON plus its header-derived fields.

    The receiving side rebuilds the event from the body with the same parser (so its
    clips are typed `Clip`s again). `state` and `reason` travel too, for an event
    made by hand without a body (`raw` empty), which is rebuilt from them alone.

    Raises:
        ValueError: The event's `raw` cannot be encoded as JSON.
    """
    message = {
        "musicapi": MESSAGE_VERSION,
        "id": event.id,
        "type": event.type,
        "task_id": event.task_id,
        "timestamp": event.timestamp,
        "state": event.state,
        "reason": event.reason,
        "body": dict(event.raw),
    }
    try:
        text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError) as exc:
        raise ValueError(f"webhook event {event.id} cannot be encoded as JSON: {exc}") from None


def decode_event(data: object) -> WebhookEvent | None:
    """Rebuild the event of a bus message, without verifying anything again.

    Returns:
        The event, or `None` for a message of a newer format (ignored quietly, so
        that processes of two SDK versions can share a channel during an upgrade).

    Raises:
        ValueError: The message is not one of ours.
        WebhookVerificationError: Its body has none of the documented shapes.
    """
    if not isinstance(data, (bytes, str)):
        raise ValueError(f"expected bytes, got {type(data).__name__}")
    try:
        message: Any = json.loads(data)
    except (ValueError, RecursionError):
        raise ValueError("the message is not JSON") from None
    if not isinstance(message, dict) or "musicapi" not in message:
        raise ValueError("the message is not a musicapi webhook event")
    fields = cast("dict[str, Any]", message)
    if fields["musicapi"] != MESSAGE_VERSION:
        return None
    event_id, event_type = fields.get("id"), fields.get("type")
    task_id, timestamp, body = fields.get("task_id"), fields.get("timestamp"), fields.get("body")
    if not (isinstance(event_id, str) and event_id and isinstance(event_type, str)):
        raise ValueError("the message lacks an event id or type")
    if task_id is not None and not isinstance(task_id, str):
        raise ValueError("the message's task_id is not a string")
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        raise ValueError("the message's timestamp is not a number")
    if not isinstance(body, dict):
        raise ValueError("the message's body is not a JSON object")
    if not body:  # an event made without a body: its own fields are all there is
        state, reason = fields.get("state"), fields.get("reason")
        if not isinstance(state, str) or not (reason is None or isinstance(reason, str)):
            raise ValueError("the message's state or reason is not a string")
        return WebhookEvent(
            id=event_id,
            type=event_type,
            task_id=task_id,
            state=state,
            reason=reason,
            timestamp=float(timestamp),
        )
    return event_from_payload(
        cast("dict[str, Any]", body),
        event_id=event_id,
        event_type=event_type,
        timestamp=float(timestamp),
        task_id=task_id,
    )


def _redacted(url: str) -> str:
    """Return `url` without its password, for messages and reprs."""
    try:
        parts = urllib.parse.urlsplit(url)
        if parts.password is None:
            return url
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
        user = f"{parts.username}:" if parts.username else ":"
        return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}***@{host}{port}"))
    except ValueError:
        return "<unparseable url>"
