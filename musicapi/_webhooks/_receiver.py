"""`WebhookReceiver`: the endpoint MusicAPI posts to, as an ASGI app and as a plain call.

What it answers, and why:

| Status | When |
|---|---|
| 200 `{"ok": true}` | a verified delivery, handed on to the bus and the callbacks |
| 200 `{"ok": true, "ignored": "duplicate"}` | an event id already seen |
| 200 `{"ok": true, "ignored": "superseded"}` | a verified event that makes no progress for its task (a late `streaming` after `succeeded`) |
| 400 `{"error": ...}` | signed correctly, but the body cannot be read (not JSON, unknown shape), or a malformed `Content-Length` |
| 401 `{"error": ...}` | not proven to come from MusicAPI: a header missing or malformed, a bad signature, a timestamp outside the tolerance |
| 405 | not a `POST` |
| 413 | a body larger than `max_body` |

Only verified deliveries get a 2xx: a forgery is refused, and a delivery that failed
for a reason of ours (a wrong secret, a clock far off) is retried by the platform once
it is fixed. Duplicates and superseded events get a 2xx too, so that the platform stops
resending them. Error bodies say why, never with a secret. An exception raised by a user's callback is logged
at ERROR on the `musicapi` logger and the answer is still 200: the delivery was good,
and a 500 would make the platform resend it (to the same broken callback) for as
long as it retries.

Callbacks run before the answer is sent: if the process dies in the middle of one,
the platform got no 2xx and delivers the event again. Keep them short (hand long
work to a queue) so the platform's request does not time out.
"""

from __future__ import annotations

import collections
import functools
import inspect
import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio
import anyio.to_thread

from musicapi._errors import WebhookVerificationError
from musicapi._webhooks._bus import DEFAULT_MAX_BUFFERED, InProcessBus
from musicapi._webhooks._event import EventState
from musicapi._webhooks._parse import event_from_body
from musicapi._webhooks._verify import authenticate, check_now, check_tolerance, prepare_secrets

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence

    from musicapi._webhooks._bus import EventBus, Subscription
    from musicapi._webhooks._event import WebhookEvent

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]

__all__ = ["DEFAULT_MAX_BODY", "DEFAULT_REMEMBERED", "WebhookReceiver"]

_log = logging.getLogger("musicapi")

DEFAULT_MAX_BODY = 1_048_576
"""The largest body read, in bytes: two clips' JSON is a few kilobytes."""

DEFAULT_REMEMBERED = 10_000
"""How many event ids (and task states) the receiver remembers for deduplication."""

Callback = TypeVar("Callback", bound="Callable[[WebhookEvent], object]")


class WebhookReceiver:
    """The endpoint MusicAPI posts webhooks to: verifies, deduplicates, hands events on.

    Mount it as an ASGI app (`app.mount("/webhooks/musicapi", receiver)` in Starlette
    or FastAPI, or serve it alone with any ASGI server); from a WSGI framework (Flask,
    Django) call `handle(body, headers)` with the raw body and answer what it returns.
    Each new verified event is published on `bus` (where waiting clients wake up) and
    passed to every function registered with `on_event`. No client is needed.

    Deduplication is in memory and bounded: the last `max_remembered` event ids, and
    for as many tasks the furthest state handed on. An event is handed on only if its
    id is new *and* it moves its task forward (`running` < `streaming` <
    `succeeded` = `failed`): a late `streaming` never follows a `succeeded`, and a
    replayed body under a fresh id (the id is not signed) is not handed on twice.
    With several worker processes each remembers its own deliveries, so a subscriber
    may see an event twice: treat events as wake-ups, and polling as the truth.

    Args:
        secret: The webhook secret, or several during a rotation (new and old).
        tolerance: How far, in seconds, a delivery's timestamp may be from now,
            either way.
        max_body: The largest body read, in bytes; larger ones are answered 413.
        bus: Where verified events are published; a new `InProcessBus` by default.
            Pass a `RedisBus` when the service has several worker processes.
        unix_now: Returns the current unix time; `time.time` by default. Read once
            per delivery.
        max_remembered: How many event ids and task states to remember.

    Raises:
        WebhookVerificationError: `secret` or `tolerance` is unusable (see
            `musicapi.webhooks.verify`).
        ValueError: `max_body` or `max_remembered` is not a positive integer.
    """

    def __init__(
        self,
        secret: str | Sequence[str],
        *,
        tolerance: float = 300.0,
        max_body: int = DEFAULT_MAX_BODY,
        bus: EventBus | None = None,
        unix_now: Callable[[], float] | None = None,
        max_remembered: int = DEFAULT_REMEMBERED,
    ) -> None:
        self._keys = prepare_secrets(secret)
        self._tolerance = check_tolerance(tolerance)
        self._max_body = _positive_int("max_body", max_body)
        self._max_remembered = _positive_int("max_remembered", max_remembered)
        self._bus: EventBus = bus if bus is not None else InProcessBus()
        self._unix_now = unix_now if unix_now is not None else time.time
        self._callbacks: list[Callable[[WebhookEvent], object]] = []
        self._lock = threading.Lock()
        self._seen_ids: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._task_ranks: collections.OrderedDict[str, int] = collections.OrderedDict()

    def __repr__(self) -> str:
        return (
            f"WebhookReceiver(secrets={len(self._keys)}, tolerance={self._tolerance:g}, "
            f"max_body={self._max_body}, bus={self._bus!r})"
        )

    @property
    def bus(self) -> EventBus:
        """The bus verified events are published on."""
        return self._bus

    @property
    def max_body(self) -> int:
        """The largest body read, in bytes."""
        return self._max_body

    def subscribe(self, *, max_buffered: int = DEFAULT_MAX_BUFFERED) -> Subscription:
        """Subscribe to the events this receiver (or, on a shared bus, any) hands on.

        The same as `receiver.bus.subscribe()`: what `AsyncMusicAPI(webhooks=...)`
        listens to.

        Args:
            max_buffered: How many unread events the subscription keeps.
        """
        return self._bus.subscribe(max_buffered=max_buffered)

    def on_event(self, callback: Callback) -> Callback:
        """Register `callback` to be called once per new verified event; usable as a decorator.

        `callback` may be a plain function or an `async def`. Under the ASGI app an
        async callback is awaited on the server's loop and a plain one runs in a
        worker thread; under `handle()` a plain one runs in the calling thread and an
        async one runs to completion on a short-lived asyncio loop there. Callbacks
        run one after the other, in the order registered. What one raises is logged
        at ERROR and does not change the answer (see the module docstring).

        Returns:
            `callback`, unchanged.
        """
        with self._lock:
            self._callbacks.append(callback)
        return callback

    def handle(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """Handle one delivery given its raw body and headers; for WSGI frameworks.

        Flask:

        ```python
        @app.post("/webhooks/musicapi")
        def musicapi_webhook():
            status, answer = receiver.handle(request.get_data(), request.headers)
            return answer, status, {"Content-Type": "application/json"}
        ```

        Django: `status, answer = receiver.handle(request.body, request.headers)`, then
        `HttpResponse(answer, status=status, content_type="application/json")` from a
        `csrf_exempt` view that accepts only POST. The framework has read the body
        already, so also cap it there (Flask's `MAX_CONTENT_LENGTH`, Django's
        `DATA_UPLOAD_MAX_MEMORY_SIZE`); `handle` answers 413 beyond `max_body` too.

        Args:
            body: The raw request body, exactly as received (not decoded, not
                re-serialised: the signature covers these bytes).
            headers: The request headers; names are matched case-insensitively.

        Returns:
            The HTTP status and the JSON body to answer with.

        Raises:
            TypeError: `body` is not bytes (a programming error, not a bad delivery).
        """
        data = cast("object", body)  # checked: a str here is a common mistake
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(cast("bytearray | memoryview[int]", data))
        if not isinstance(data, bytes):
            raise TypeError(f"body must be the raw request bytes, not {type(data).__name__}")
        status, answer, event = self._accept(data, headers)
        if event is not None:
            self._call_back_sync(event)
        return status, _json(answer)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection: a `POST` of a delivery, or the lifespan protocol."""
        kind = scope.get("type")
        if kind == "lifespan":
            await _lifespan(receive, send)
            return
        if kind == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})
            return
        if kind != "http":
            return
        if scope.get("method") != "POST":
            await _respond(send, 405, {"error": "only POST is allowed"}, allow=True)
            return
        headers = _scope_headers(scope)
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit() or not declared.strip().isascii():
                await _respond(send, 400, {"error": "malformed Content-Length header"})
                return
            if int(declared) > self._max_body:
                await _respond(send, 413, _too_large(self._max_body))
                return
        try:
            body = await _read_body(receive, self._max_body)
        except _Disconnected:
            return  # the platform gave up on this request; it will deliver again
        if body is None:
            await _respond(send, 413, _too_large(self._max_body))
            return
        status, answer, event = self._accept(body, headers)
        if event is not None:
            await self._call_back_async(event)
        await _respond(send, status, answer)

    def _accept(
        self, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, Any], WebhookEvent | None]:
        """Verify, deduplicate and publish one delivery; the answer and the event to call back."""
        if len(body) > self._max_body:
            return 413, _too_large(self._max_body), None
        try:
            now = check_now(self._unix_now())
            delivery = authenticate(body, headers, self._keys, tolerance=self._tolerance, now=now)
        except WebhookVerificationError as exc:
            _log.warning("webhook delivery refused (401): %s", exc)
            return 401, {"error": str(exc)}, None
        try:
            event = event_from_body(
                delivery.body,
                event_id=delivery.id,
                event_type=delivery.type,
                timestamp=delivery.timestamp,
            )
        except WebhookVerificationError as exc:
            _log.warning("webhook delivery %s refused (400): %s", delivery.id, exc)
            return 400, {"error": str(exc)}, None
        ignored = self._remember(event)
        if ignored is not None:
            _log.debug("webhook event %s not handed on: %s", event.id, ignored)
            return 200, {"ok": True, "ignored": ignored}, None
        try:
            self._bus.publish(event)
        except Exception:  # a broken bus must not make the platform resend forever
            _log.exception("publishing webhook event %s on %r failed", event.id, self._bus)
        return 200, {"ok": True}, event

    def _remember(self, event: WebhookEvent) -> str | None:
        """Record `event`; return why it must not be handed on, or `None` if it is new."""
        with self._lock:
            if event.id in self._seen_ids:
                self._seen_ids.move_to_end(event.id)
                return "duplicate"
            self._seen_ids[event.id] = None
            _trim(self._seen_ids, self._max_remembered)
            if event.task_id is None:
                return None
            rank = EventState.RANK.get(event.state, 0)
            previous = self._task_ranks.get(event.task_id)
            if previous is not None:
                self._task_ranks.move_to_end(event.task_id)
                if rank <= previous:
                    return "superseded"
            self._task_ranks[event.task_id] = rank
            _trim(self._task_ranks, self._max_remembered)
            return None

    def _call_back_sync(self, event: WebhookEvent) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            _call_one_sync(callback, event)

    async def _call_back_async(self, event: WebhookEvent) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            await _call_one_async(callback, event)


def _call_one_sync(callback: Callable[[WebhookEvent], object], event: WebhookEvent) -> None:
    """Call one callback from `handle()`; log what it raises."""
    try:
        if _is_async_callable(callback):
            anyio.run(_await_call, callback, event)
            return
        result = callback(event)
        if inspect.isawaitable(result):
            anyio.run(_await, result)
    except Exception:
        _log.exception("webhook callback %r failed on event %s", callback, event.id)


async def _call_one_async(callback: Callable[[WebhookEvent], object], event: WebhookEvent) -> None:
    """Call one callback from the ASGI app (a plain one in a worker thread); log what it raises."""
    try:
        if _is_async_callable(callback):
            result = callback(event)
        else:
            result = await anyio.to_thread.run_sync(callback, event)
        if inspect.isawaitable(result):
            await result
    except Exception:
        _log.exception("webhook callback %r failed on event %s", callback, event.id)


class _Disconnected(Exception):
    """The client went away before the whole body arrived."""


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}")
    return value


def _trim(memory: collections.OrderedDict[str, Any], size: int) -> None:
    while len(memory) > size:
        memory.popitem(last=False)


def _is_async_callable(callback: object) -> bool:
    """Tell an `async def` (or a partial of one, or an object with one as `__call__`)."""
    while isinstance(callback, functools.partial):
        callback = cast("functools.partial[object]", callback).func
    return inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
        getattr(callback, "__call__", None)  # noqa: B004  # a callable object's async __call__
    )


async def _await_call(callback: Callable[[WebhookEvent], object], event: WebhookEvent) -> None:
    result = callback(event)
    if inspect.isawaitable(result):
        await result


async def _await(awaitable: Awaitable[object]) -> None:
    await awaitable


def _json(answer: Mapping[str, Any]) -> bytes:
    return json.dumps(answer, separators=(",", ":")).encode()


def _too_large(limit: int) -> dict[str, Any]:
    return {"error": f"the body is larger than {limit} bytes"}


def _scope_headers(scope: Scope) -> dict[str, str]:
    """Return an ASGI scope's headers by lowercase name; a repeated header's values joined.

    Joining with `, ` (as HTTP does) makes a repeated signature or timestamp malformed,
    so an ambiguous delivery is refused instead of one copy being picked.
    """
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name = bytes(raw_name).decode("latin-1").lower()
        value = bytes(raw_value).decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """Read the request body, or stop and return `None` as soon as it passes `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message.get("type") == "http.disconnect":
            raise _Disconnected
        if message.get("type") != "http.request":
            continue
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(
    send: Send, status: int, answer: Mapping[str, Any], *, allow: bool = False
) -> None:
    body = _json(answer)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if allow:
        headers.append((b"allow", b"POST"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    """Answer the lifespan protocol, so the receiver can be served alone (nothing to set up)."""
    while True:
        message = await receive()
        if message.get("type") == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message.get("type") == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
