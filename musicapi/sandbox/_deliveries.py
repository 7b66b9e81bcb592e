"""Signed webhook deliveries (api-reference §5): what is sent, when, and how often.

**Events.** A task created with a `webhook_url` makes up to two events: `streaming`
when the sandbox finds it streaming (its clips playable before the final files; see
`_state.py`), then `succeeded` or `failed` when it ends. Each event has its own id,
`evt_<32 hex>`, sent as `X-Webhook-Id` and as `Idempotency-Key`, and kept by every
retry and every duplicate of that event.

**What goes on the wire.** One `POST` of JSON to the `webhook_url`:

| Event | `X-Webhook-Event` | Body |
|---|---|---|
| `streaming` | `song.completed` | `{"code": 200, "message": "success", "task_id": ..., "data": [clips]}`, each clip's `state` `"streaming"` |
| `succeeded` | `song.completed` | the same, each clip's `state` `"succeeded"` |
| `failed` | `song.failed` | `{"type": ..., "error": ..., "task_id": ...}` |

A task of another family (Producer, Studio, Riffusion, Nuro, lyrics) is delivered
the same way, once, when it ends: its body is that family's finished poll body
(`_results.final_body`), with `task_id` at the top where that body has none.

Clips are those of `GET /sonic/task/{id}` but for `duration`, a string (`"104.88"`)
as in the vendor's webhook example (api-reference §2.4). The body of an event is
written once and sent as the same bytes by every attempt. Each attempt is signed
afresh: `X-Webhook-Timestamp` is the unix second it was signed at (on the sandbox's
clock, virtual with a `FakeClock`) and `X-Webhook-Signature` is
`sha256=<hex of HMAC-SHA256(secret, f"{timestamp}." + body)>`, keyed by the task's
`webhook_secret` or else the sandbox's default secret. This signer is written apart
from the SDK's verifier on purpose; the two are pinned by
`tests/vectors/webhook_signatures.json`.

**Schedule.** An event is due when it happens (plus `Faults.webhook_delay`). An
attempt that gets a 2xx delivers it. Anything else fails the attempt: another status,
a refused or broken connection, no answer within `timeout` real seconds (a network
timeout, which no fake clock can drive), a URL that cannot be reached, a bug. A failed
attempt is retried after 1, 2, 4, ... seconds of the sandbox's clock, at most
`RETRY_MAX_BACKOFF` apart, for as long as the retry would start within `RETRY_WINDOW`
of the event's first attempt; then the event is given up (`Stats.webhooks_given_up`).
With the defaults that is 15 attempts over 543 seconds.

**Who sends.** `deliver_due()` delivers every due event and waits for the answers (a
round; what tests call through `Sandbox.deliver_due_webhooks()`). `start_due()`, for a
serving sandbox, starts due events in the background and returns at once. Either way
events go out concurrently, at most `MAX_CONCURRENT` at a time, so a receiver that
hangs until the timeout holds up no other; only the events of one task go one after
another, in the order they are due, so a `streaming` event precedes its `succeeded`
one unless a retry or `Faults.webhook_out_of_order_next` says otherwise.

**Faults.** `webhook_drop_next`, `webhook_duplicate_next` and
`webhook_out_of_order_next` are spent as events happen, one per event (a dropped
event is never attempted and never retried); `webhook_bad_signature_next` is spent as
attempts are signed, one per attempt (the wrong key is `not-<secret>`);
`webhook_delay` is read whenever an attempt is scheduled. See `Faults`.

**Never raises.** Whatever goes wrong with one delivery (a refused connection, a host
name that IDNA cannot encode, a body or secret that cannot be encoded, a bug) is a
failed attempt, counted in `Stats.webhooks_failed` and retried, because deliveries run
in the background of a serving sandbox, where an exception would stop the server.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

import anyio
import attrs
import httpx

from musicapi.sandbox._results import failure_body, final_body, success_body
from musicapi.sandbox._state import TaskRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from anyio.abc import TaskGroup

    from musicapi._clock import Clock
    from musicapi.sandbox._faults import Faults
    from musicapi.sandbox._stats import Stats

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_CONCURRENT",
    "RETRY_FIRST_BACKOFF",
    "RETRY_MAX_BACKOFF",
    "RETRY_WINDOW",
    "Deliveries",
    "delivery_body",
    "event_type",
    "sign",
    "signed_headers",
]

_log = logging.getLogger("musicapi.sandbox")

RETRY_FIRST_BACKOFF = 1.0
"""Sandbox-clock seconds between a first failed attempt and its retry; doubled each time."""

RETRY_MAX_BACKOFF = 60.0
"""The longest wait between two attempts at one event (sandbox-clock seconds)."""

RETRY_WINDOW = 600.0
"""How long after its first attempt an event may still be retried (sandbox-clock seconds)."""

MAX_CONCURRENT = 16
"""Deliveries in flight at once (groups of one task's events count as one)."""

DEFAULT_TIMEOUT = 5.0
"""Real seconds an attempt may take (connect, send, answer) before it fails."""

PHASES = ("streaming", "succeeded", "failed")
"""The events a task can have, in the order they happen."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the `X-Webhook-Signature` value for `body` signed at `timestamp`.

    Args:
        secret: The webhook secret; the HMAC key is its UTF-8 encoding.
        timestamp: Unix seconds, as sent in `X-Webhook-Timestamp`.
        body: The raw body, exactly as sent.

    Returns:
        `"sha256=" + hex(HMAC-SHA256(secret, f"{timestamp}." + body))`, lower case.
    """
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def event_type(phase: str) -> str:
    """Return the `X-Webhook-Event` of an event: `song.failed` or `song.completed`."""
    return "song.failed" if phase == "failed" else "song.completed"


def signed_headers(
    webhook_id: str, phase: str, secret: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Return the headers of one delivery attempt of `body`, signed at `timestamp`.

    Args:
        webhook_id: The event's id (`X-Webhook-Id` and `Idempotency-Key`).
        phase: `streaming`, `succeeded` or `failed`.
        secret: The key to sign with.
        timestamp: Unix seconds.
        body: The raw body.
    """
    return {
        "content-type": "application/json",
        "x-webhook-id": webhook_id,
        "idempotency-key": webhook_id,
        "x-webhook-event": event_type(phase),
        "x-webhook-timestamp": str(timestamp),
        "x-webhook-signature": sign(secret, timestamp, body),
    }


def delivery_body(record: TaskRecord, phase: str, files_url: str) -> bytes:
    """Return the raw body of the `phase` event of `record` (see the module docstring).

    Args:
        record: The task; streaming or succeeded for those two phases.
        phase: `streaming`, `succeeded` or `failed`.
        files_url: The sandbox's file host, for the clips' absolute URLs.
    """
    payload: dict[str, Any]
    if record.family != "sonic":
        payload = final_body(record, files_url)
    elif phase == "failed":
        payload = {**failure_body(record), "task_id": record.task_id}
    else:
        result = success_body(record, files_url, duration_as_string=True)
        clips: list[dict[str, Any]] = result["data"]
        for clip in clips:
            clip["state"] = phase
        payload = {
            "code": result["code"],
            "message": result["message"],
            "task_id": record.task_id,
            "data": clips,
        }
    return json.dumps(payload, allow_nan=False).encode()


@attrs.define(eq=False)
class _Event:
    """One event of one task, and where its delivery stands."""

    record: TaskRecord
    phase: str
    webhook_id: str
    due: float
    attempts: int = 0
    first_attempt: float | None = None
    body: bytes | None = None
    followers: list[_Event] = attrs.field(factory=list["_Event"])
    """`streaming` events held back until the first attempt at this one is over."""


class Deliveries:
    """The webhook events of a sandbox, from the moment they happen to their last attempt.

    Args:
        clock: Decides when an event (or its retry) is due.
        unix_now: The unix time to put in `X-Webhook-Timestamp`.
        default_secret: The key for tasks created without `webhook_secret`.
        stats: Where to count attempts, retries, drops and events given up.
        faults: Returns the fault knobs in force (they can be replaced at any time).
        timeout: Real seconds an attempt may take, on clients made here.
        max_concurrent: Deliveries in flight at once.
    """

    def __init__(
        self,
        clock: Clock,
        unix_now: Callable[[], float],
        default_secret: str,
        stats: Stats,
        faults: Callable[[], Faults],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_concurrent: int = MAX_CONCURRENT,
    ) -> None:
        self._clock = clock
        self._unix_now = unix_now
        self.default_secret = default_secret
        self._stats = stats
        self._faults = faults
        self.timeout = timeout
        self.max_concurrent = max_concurrent
        self._queue: list[_Event] = []
        self._held: dict[str, list[_Event]] = {}
        self._in_flight = 0
        self._groups_in_flight = 0

    @property
    def pending(self) -> int:
        """Events not yet delivered nor given up: queued, held back or in flight."""
        held = sum(len(events) for events in self._held.values())
        return len(self._queue) + held + self._in_flight

    def new_client(self) -> httpx.AsyncClient:
        """Return an HTTP client for deliveries, with this queue's timeout."""
        return httpx.AsyncClient(timeout=self.timeout)

    def enqueue(self, record: TaskRecord, phase: str) -> None:
        """Queue the `phase` event of `record`, if it asked for a webhook.

        The fault knobs that act on whole events are spent here: `webhook_drop_next`,
        then `webhook_duplicate_next`, then (for a `streaming` event)
        `webhook_out_of_order_next`.
        """
        if not record.payload.get("webhook_url"):
            return
        faults = self._faults()
        held = self._held.pop(record.task_id, []) if phase != "streaming" else []
        if faults.webhook_drop_next > 0:
            faults.webhook_drop_next -= 1
            self._stats.webhooks_dropped += 1
            _log.debug("webhook %s of task %s dropped (fault)", phase, record.task_id)
            self._release(held)
            return
        due = self._clock.now() + faults.webhook_delay
        event = _Event(record, phase, f"evt_{uuid.uuid4().hex}", due, followers=held)
        copies = [event]
        if faults.webhook_duplicate_next > 0:
            faults.webhook_duplicate_next -= 1
            copies.append(_Event(record, phase, event.webhook_id, due))
        if phase == "streaming" and faults.webhook_out_of_order_next > 0:
            faults.webhook_out_of_order_next -= 1
            self._held[record.task_id] = copies  # until the task's next event is tried
        else:
            self._queue.extend(copies)

    async def deliver_due(self, files_url: str, client: httpx.AsyncClient | None = None) -> int:
        """Deliver every event that is due, concurrently, and wait for the answers.

        An event released during the round (a `streaming` event held back behind its
        task's `succeeded` one) goes out in the same round; a failed attempt is
        retried in a later one, once its backoff has passed.

        Args:
            files_url: The sandbox's file host, for the clips' absolute URLs.
            client: The HTTP client to post with; a short-lived one if `None`.

        Returns:
            How many attempts the receivers acknowledged with a 2xx.
        """
        acknowledged: list[bool] = []
        async with contextlib.AsyncExitStack() as stack:
            sender = (
                client if client is not None else await stack.enter_async_context(self.new_client())
            )
            limiter = anyio.CapacityLimiter(self.max_concurrent)

            async def run(group: list[_Event]) -> None:
                async with limiter:
                    await self._send_group(sender, group, files_url, acknowledged)

            fresh_only = False
            while groups := self._take_due(fresh_only=fresh_only):
                async with anyio.create_task_group() as tg:
                    for group in groups:
                        tg.start_soon(run, group)
                fresh_only = True
        return sum(acknowledged)

    def start_due(self, task_group: TaskGroup, client: httpx.AsyncClient, files_url: str) -> int:
        """Start delivering due events in `task_group`, up to the concurrency bound.

        Returns at once: the deliveries run in the background and count themselves in
        the stats. An event left over for want of a free slot is started by a later call.

        Returns:
            How many groups of events (one task's each) were started.
        """
        groups = self._take_due(limit=self.max_concurrent - self._groups_in_flight)
        for group in groups:
            self._groups_in_flight += 1
            task_group.start_soon(self._run_in_background, client, group, files_url)
        return len(groups)

    async def _run_in_background(
        self, client: httpx.AsyncClient, group: list[_Event], files_url: str
    ) -> None:
        try:
            await self._send_group(client, group, files_url, [])
        finally:
            self._groups_in_flight -= 1

    async def _send_group(
        self,
        client: httpx.AsyncClient,
        group: list[_Event],
        files_url: str,
        acknowledged: list[bool],
    ) -> None:
        """Make one attempt at each event of `group`, one after another.

        If cancelled, the events not attempted yet go back to the queue.
        """
        for position, event in enumerate(group):
            try:
                ok = await self._attempt(client, event, files_url)
            except Exception:  # pragma: no cover - _attempt does not raise; belt and braces
                _log.exception("a webhook delivery failed unexpectedly")
                ok = False
            except BaseException:
                rest = group[position + 1 :]
                self._in_flight -= len(rest)
                self._queue.extend(rest)
                raise
            acknowledged.append(ok)

    def _take_due(
        self, *, fresh_only: bool = False, limit: int | None = None
    ) -> list[list[_Event]]:
        """Take the due events out of the queue, grouped by task, in the order they are due.

        Args:
            fresh_only: Take only events never attempted (none of the retries).
            limit: The most groups to take; the rest stay queued.
        """
        now = self._clock.now()
        due = sorted(
            (e for e in self._queue if e.due <= now and not (fresh_only and e.attempts)),
            key=lambda e: (e.due, PHASES.index(e.phase)),
        )
        groups: dict[str, list[_Event]] = {}
        for event in due:
            group = groups.get(event.record.task_id)
            if group is not None:
                group.append(event)
            elif limit is None or len(groups) < limit:
                groups[event.record.task_id] = [event]
        taken = {id(event) for group in groups.values() for event in group}
        self._queue = [event for event in self._queue if id(event) not in taken]
        self._in_flight += len(taken)
        return list(groups.values())

    async def _attempt(self, client: httpx.AsyncClient, event: _Event, files_url: str) -> bool:
        """Make one attempt at `event`; count it, then schedule its retry or release it.

        If cancelled, the event goes back to the queue unattempted. Never raises
        otherwise (see the module docstring).

        Returns:
            Whether a receiver took it with a 2xx.
        """
        try:
            ok = await self._post(client, event, files_url)
        except BaseException:
            self._queue.append(event)  # cancelled (the server stops): it stays pending
            raise
        finally:
            self._in_flight -= 1
        now = self._clock.now()
        stats = self._stats
        event.attempts += 1
        if event.first_attempt is None:
            event.first_attempt = now
        if event.attempts > 1:
            stats.webhooks_retried += 1
        if ok:
            stats.webhooks_delivered += 1
        else:
            stats.webhooks_failed += 1
            self._retry(event, now)
        followers, event.followers = event.followers, []
        self._release(followers)
        return ok

    def _retry(self, event: _Event, now: float) -> None:
        """Queue the next attempt at `event` after its backoff, or give it up."""
        backoff = min(RETRY_FIRST_BACKOFF * 2.0 ** min(event.attempts - 1, 64), RETRY_MAX_BACKOFF)
        due = now + backoff + self._faults().webhook_delay
        first = event.first_attempt if event.first_attempt is not None else now
        if due - first > RETRY_WINDOW:
            self._stats.webhooks_given_up += 1
            _log.info(
                "webhook %s (%s of task %s) given up after %d attempts",
                event.webhook_id,
                event.phase,
                event.record.task_id,
                event.attempts,
            )
            return
        event.due = due
        self._queue.append(event)

    def _release(self, events: list[_Event]) -> None:
        """Queue held-back events, due now (plus the delay knob)."""
        for event in events:
            event.due = self._clock.now() + self._faults().webhook_delay
            self._queue.append(event)

    def _request(self, event: _Event, files_url: str) -> tuple[bytes, dict[str, str]]:
        """Return the body and freshly signed headers of one attempt at `event`."""
        if event.body is None:
            event.body = delivery_body(event.record, event.phase, files_url)
        secret = event.record.payload.get("webhook_secret") or self.default_secret
        faults = self._faults()
        if faults.webhook_bad_signature_next > 0:
            faults.webhook_bad_signature_next -= 1
            secret = f"not-{secret}"
        timestamp = int(self._unix_now())
        return event.body, signed_headers(
            event.webhook_id, event.phase, secret, timestamp, event.body
        )

    async def _post(self, client: httpx.AsyncClient, event: _Event, files_url: str) -> bool:
        """POST one attempt at `event`; whether a receiver took it with a 2xx.

        Never raises (but for cancellation): see the module docstring.
        """
        try:
            body, headers = self._request(event, files_url)
            # The whole attempt has one deadline, and the receiver's answer body is never
            # read: only its status counts. A receiver that trickles its answer a byte at
            # a time (which no per-read timeout catches), or streams an endless body,
            # would otherwise hold a delivery slot forever or fill the sandbox's memory.
            with anyio.fail_after(self.timeout):
                async with client.stream(
                    "POST", event.record.payload["webhook_url"], content=body, headers=headers
                ) as response:
                    return response.is_success
        except Exception as exc:  # any failure to deliver is a failed attempt
            _log.debug("webhook delivery %s failed: %r", event.webhook_id, exc)
            return False
