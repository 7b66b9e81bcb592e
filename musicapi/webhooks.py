"""Receive MusicAPI's webhooks: verify them, read them, and wake whoever waits.

A task created with `webhook_url` (and `webhook_secret`) is announced by a signed
`POST` when it succeeds, streams or fails (api-reference §5). This module needs no
client:

- `verify(body, headers, secret)` checks one delivery and returns a typed
  `WebhookEvent`, or raises `musicapi.WebhookVerificationError` (a `ValueError`)
  saying why.
- `WebhookReceiver(secret)` is a ready endpoint: an ASGI app (mount it in Starlette
  or FastAPI, or serve it alone) with `handle(body, headers)` for Flask or Django. It
  verifies, deduplicates, bounds the body, answers fast, publishes each new event on
  an event bus and calls the functions registered with `@receiver.on_event`.
- `InProcessBus` (the default) and `RedisBus` (the `redis` extra, for several worker
  processes or hosts) carry events to `Subscription`s, consumed on asyncio or trio.

```python
from musicapi.webhooks import WebhookReceiver

receiver = WebhookReceiver(os.environ["MUSICAPI_WEBHOOK_SECRET"])


@receiver.on_event
def song_ready(event):
    print(event.task_id, event.state, [clip.audio_url for clip in event.clips])


app.mount("/webhooks/musicapi", receiver)  # Starlette / FastAPI
```

A webhook is a wake-up, not the record: deliveries can be lost, repeated or late,
so polling the task stays the source of truth.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from musicapi._webhooks._bus import EventBus as EventBus
from musicapi._webhooks._bus import InProcessBus as InProcessBus
from musicapi._webhooks._bus import Subscription as Subscription
from musicapi._webhooks._event import EventState as EventState
from musicapi._webhooks._event import WebhookEvent as WebhookEvent
from musicapi._webhooks._parse import event_from_body
from musicapi._webhooks._receiver import WebhookReceiver as WebhookReceiver
from musicapi._webhooks._redis import RedisBus as RedisBus
from musicapi._webhooks._verify import authenticate, check_now, check_tolerance, prepare_secrets

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "EventBus",
    "EventState",
    "InProcessBus",
    "RedisBus",
    "Subscription",
    "WebhookEvent",
    "WebhookReceiver",
    "verify",
]


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> WebhookEvent:
    """Verify one webhook delivery and return its event.

    The signature (`X-Webhook-Signature: sha256=<hex>`, an HMAC-SHA256 keyed by the
    secret over `<X-Webhook-Timestamp>.<body>`) is checked over the raw bytes, in
    constant time, before any of the body is parsed; then the timestamp must be
    within `tolerance` of `now`, in the past or the future (replay protection);
    only then is the body read.

    Args:
        body: The raw request body, exactly as received: not decoded, not parsed
            and re-serialised (that changes the bytes the signature covers).
        headers: The request headers (any mapping: a dict, `request.headers` of
            Flask, Django, Starlette); names are matched case-insensitively.
        secret: The webhook secret, or several: during a rotation pass the new and
            the old one, in any order; a delivery signed with any of them verifies.
        tolerance: How far, in seconds, the delivery's timestamp may be from `now`.
        now: The current unix time in seconds; `time.time()` if `None`.

    Returns:
        The event: `.id`, `.type`, `.task_id`, `.state`, `.clips`, `.reason`, `.raw`.

    Raises:
        WebhookVerificationError: The delivery is not proven to come from MusicAPI
            (a header missing or malformed, a signature that matches no secret, a
            timestamp outside the tolerance), its body cannot be read (not JSON, not
            an object, an unknown shape), or an argument is unusable (no secret, an
            empty one, a tolerance that is negative or not finite). The message says
            which, and never contains a secret.
    """
    keys = prepare_secrets(secret)
    limit = check_tolerance(tolerance)
    current = check_now(time.time() if now is None else now)
    delivery = authenticate(body, headers, keys, tolerance=limit, now=current)
    return event_from_body(
        delivery.body,
        event_id=delivery.id,
        event_type=delivery.type,
        timestamp=delivery.timestamp,
    )


def _claim_public_names() -> None:
    """Make tracebacks and reprs say `musicapi.webhooks.X`, where users import X from."""
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type) or callable(obj):
            obj.__module__ = __name__


_claim_public_names()
del _claim_public_names
