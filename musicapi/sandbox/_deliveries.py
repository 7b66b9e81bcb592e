"""Signed webhook deliveries of finished tasks (api-reference §5).

A task created with a `webhook_url` is queued here when it finishes. Deliveries go
out only when someone calls `Deliveries.deliver_due()` (tests call it through
`Sandbox.deliver_due_webhooks()`; the loopback server calls it a few times a second).
A receiver that fails or answers non-2xx gets the same event again later, with the
same `X-Webhook-Id` and a fresh signature, as the real platform's at-least-once
deliveries do.

A delivery never raises: whatever goes wrong with one (a refused connection, a host
name that IDNA cannot encode, a body or secret that cannot be encoded, a bug) is a
failed delivery, counted in `Stats.webhooks_failed` and retried, because deliveries run
in the background of a serving sandbox, where an exception would stop the server.

Bodies carry `duration` as a string (`"2.72"`), as the vendor's webhook example does
(api-reference §2.4); the task endpoint sends the documented number.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import uuid
from typing import TYPE_CHECKING

import attrs
import httpx

from musicapi.sandbox._results import failure_body, success_body
from musicapi.sandbox._state import TaskRecord

if TYPE_CHECKING:
    from collections.abc import Callable

    from musicapi._clock import Clock
    from musicapi.sandbox._stats import Stats

__all__ = ["MAX_ATTEMPTS", "Deliveries", "sign"]

_log = logging.getLogger("musicapi.sandbox")

MAX_ATTEMPTS = 5
"""Deliveries of one event before it is given up; retry n waits 2**n clock seconds."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Return the `X-Webhook-Signature` value for `body` signed at `timestamp`.

    Returns:
        `"sha256=" + hex(HMAC-SHA256(secret, f"{timestamp}.{body}"))`.
    """
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@attrs.define
class _Event:
    record: TaskRecord
    webhook_id: str
    due: float
    attempts: int = 0


class Deliveries:
    """The queue of webhook events waiting to be delivered.

    Args:
        clock: Decides when an event (or its retry) is due.
        unix_now: The unix time to put in `X-Webhook-Timestamp`.
        default_secret: The account's secret, for tasks created without `webhook_secret`.
        stats: Where to count delivered and failed deliveries.
    """

    def __init__(
        self,
        clock: Clock,
        unix_now: Callable[[], float],
        default_secret: str,
        stats: Stats | None = None,
    ) -> None:
        self._clock = clock
        self._unix_now = unix_now
        self._default_secret = default_secret
        self._stats = stats
        self._queue: list[_Event] = []

    def enqueue(self, record: TaskRecord) -> None:
        """Queue the event of a finished task, if it asked for a webhook."""
        if record.payload.get("webhook_url"):
            self._queue.append(_Event(record, f"evt_{uuid.uuid4().hex}", self._clock.now()))

    async def deliver_due(self, files_url: str, client: httpx.AsyncClient | None = None) -> int:
        """POST every event that is due; requeue the ones the receiver did not take.

        Args:
            files_url: The sandbox's file host, for the clips' absolute URLs.
            client: The HTTP client to post with; a short-lived one if `None`.

        Returns:
            How many deliveries the receivers acknowledged with a 2xx.
        """
        now = self._clock.now()
        due = [event for event in self._queue if event.due <= now]
        if not due:
            return 0
        self._queue = [event for event in self._queue if event.due > now]
        delivered = 0
        async with contextlib.AsyncExitStack() as stack:
            if client is None:
                client = await stack.enter_async_context(httpx.AsyncClient(timeout=5.0))
            for event in due:
                ok = await self._post(client, event, files_url)
                if self._stats is not None:
                    if ok:
                        self._stats.webhooks_delivered += 1
                    else:
                        self._stats.webhooks_failed += 1
                if ok:
                    delivered += 1
                elif event.attempts < MAX_ATTEMPTS:
                    event.due = self._clock.now() + 2**event.attempts
                    self._queue.append(event)
        return delivered

    def _request(self, event: _Event, files_url: str) -> tuple[bytes, dict[str, str]]:
        """Return the signed body and headers of one delivery of `event`."""
        record = event.record
        if record.state == "succeeded":
            body = success_body(record, files_url, duration_as_string=True)
            payload, kind = {**body, "task_id": record.task_id}, "song.completed"
        else:
            payload, kind = {**failure_body(record), "task_id": record.task_id}, "song.failed"
        raw = json.dumps(payload, allow_nan=False).encode()
        timestamp = int(self._unix_now())
        secret = record.payload.get("webhook_secret") or self._default_secret
        headers = {
            "content-type": "application/json",
            "x-webhook-id": event.webhook_id,
            "idempotency-key": event.webhook_id,
            "x-webhook-event": kind,
            "x-webhook-timestamp": str(timestamp),
            "x-webhook-signature": sign(secret, timestamp, raw),
        }
        return raw, headers

    async def _post(self, client: httpx.AsyncClient, event: _Event, files_url: str) -> bool:
        """Make one delivery of `event`; whether a receiver took it with a 2xx.

        Never raises (but for cancellation): see the module docstring.
        """
        event.attempts += 1
        try:
            body, headers = self._request(event, files_url)
            response = await client.post(
                event.record.payload["webhook_url"], content=body, headers=headers
            )
        except Exception as exc:  # any failure to deliver is a failed delivery
            _log.debug("webhook delivery %s failed: %r", event.webhook_id, exc)
            return False
        return response.is_success
