"""`WebhookEvent`: one verified delivery, typed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from musicapi._models import Clip
from musicapi._models.common import EMPTY_RAW

__all__ = ["EventState", "WebhookEvent"]


class EventState:
    """The states a `WebhookEvent` reports, derived from its body.

    `SUCCEEDED` and `FAILED` are final. `STREAMING` means the audio is playable but
    not the final file yet (a `succeeded` event may follow). `RUNNING` covers the
    shapes that are neither (clips still pending, or a mix of streaming and failed
    clips): such an event is a wake-up at most.
    """

    RUNNING: Final = "running"
    STREAMING: Final = "streaming"
    SUCCEEDED: Final = "succeeded"
    FAILED: Final = "failed"

    FINAL: Final = frozenset({"succeeded", "failed"})

    RANK: Final[Mapping[str, int]] = {"running": 0, "streaming": 1, "succeeded": 2, "failed": 2}
    """How far along each state is: a task's events are handed on only as they progress."""


@attrs.frozen(kw_only=True)
class WebhookEvent:
    """One verified webhook delivery: which task it is about and how that task ended.

    Built by `musicapi.webhooks.verify` (or by a `WebhookReceiver`) only after the
    signature over the raw body matched, so every field can be trusted as much as
    the secret is.

    Attributes:
        id: The event's unique id (`X-Webhook-Id`, also sent as `Idempotency-Key`);
            a redelivery of the same event carries the same id.
        type: The `X-Webhook-Event` header: `song.completed`, `song.failed`, or a
            type this SDK does not know yet (kept as sent).
        task_id: The task the event is about: the body's top-level `task_id`, else
            the `task_id` its clips carry; `None` if the body names none.
        state: `succeeded` (every clip succeeded, or every clip is final and not all
            failed), `streaming` (a clip is streaming and none failed), `failed` (the
            failure shape, or every clip failed) or `running` (anything else).
        clips: The clips, the same `Clip` objects `wait()` returns (empty for a
            failure).
        reason: Why the task failed (`failed: generation failed upstream`), else
            `None`.
        timestamp: When the platform signed the delivery (`X-Webhook-Timestamp`),
            unix seconds. Not part of equality: a redelivery is signed anew.
        raw: The body's JSON object, every field kept.
    """

    id: str
    type: str
    task_id: str | None
    state: str
    clips: tuple[Clip, ...] = ()
    reason: str | None = None
    timestamp: float = attrs.field(default=0.0, eq=False)
    raw: Mapping[str, Any] = attrs.field(default=EMPTY_RAW, repr=False, eq=False)

    @property
    def is_final(self) -> bool:
        """Whether the event reports a final state (`succeeded` or `failed`)."""
        return self.state in EventState.FINAL
