"""The body of a verified delivery, read into a `WebhookEvent` (api-reference §5).

A delivery's body has the task result's shape: `{"code": 200, "data": [clips...],
"message": ...}` when the task succeeded (or streams), `{"type": ..., "error": ...}`
when it failed. The clips go through the SDK's one converter
(`musicapi._converter.structure`), so they are the very `Clip` objects `wait()`
returns, `duration: "104.88"` coerced the same way.

Where the task id comes from: the failure shape carries a top-level `task_id`
(api-reference §5), and so does the sandbox's success body (`_deliveries.py` adds it
to both). The reference does not promise it on a success, so the `task_id` of the
clips is the fallback; with neither, the event's `task_id` is `None` rather than a
rejected delivery, because the platform would retry a rejection forever for a body
that cannot change. No header carries a task id (neither the reference nor the
sandbox sends one).

Any shape this module cannot read raises `WebhookVerificationError`, never a
`KeyError` or `TypeError`: a signed body that cannot be read is still a delivery the
receiver must refuse.
"""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NoReturn, cast

from musicapi._converter import NOT_READY_TYPES, structure
from musicapi._errors import MalformedResponseError, WebhookVerificationError
from musicapi._models import Clip, ClipState
from musicapi._webhooks._event import EventState, WebhookEvent

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["event_from_body", "event_from_payload", "state_of"]

_SUCCEEDED_CLIP = frozenset({None, ClipState.SUCCEEDED, "complete"})
"""Clip states that count as succeeded; `None` too, as `parse_task` counts it final."""


def event_from_body(
    body: bytes, *, event_id: str, event_type: str, timestamp: float
) -> WebhookEvent:
    """Parse the raw body of a delivery whose signature was already checked.

    Args:
        body: The raw body (UTF-8 JSON).
        event_id: `X-Webhook-Id`.
        event_type: `X-Webhook-Event`.
        timestamp: `X-Webhook-Timestamp`, unix seconds.

    Raises:
        WebhookVerificationError: The body is not UTF-8 JSON, not an object, or of no
            known shape.
    """
    try:
        payload: Any = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WebhookVerificationError("the delivery's body is not UTF-8 JSON") from None
    if not isinstance(payload, dict):
        raise WebhookVerificationError(
            f"the delivery's body is not a JSON object but a {type(payload).__name__}"
        )
    return event_from_payload(
        cast("dict[str, Any]", payload),
        event_id=event_id,
        event_type=event_type,
        timestamp=timestamp,
    )


def event_from_payload(
    payload: Mapping[str, Any],
    *,
    event_id: str,
    event_type: str,
    timestamp: float,
    task_id: str | None = None,
) -> WebhookEvent:
    """Build the event of a delivery from its parsed body.

    Args:
        payload: The body's JSON object.
        event_id: `X-Webhook-Id`.
        event_type: `X-Webhook-Event`.
        timestamp: `X-Webhook-Timestamp`, unix seconds.
        task_id: The task id if already known (an event rebuilt from a bus message);
            else it is read from the body.

    Raises:
        WebhookVerificationError: The body has none of the documented shapes.
    """
    raw = MappingProxyType(dict(payload))
    kind = payload.get("type")
    if kind is not None and not isinstance(kind, str):
        _malformed(payload, "type is not a string")
    clips: tuple[Clip, ...] = ()
    reason: str | None = None
    if kind and kind in NOT_READY_TYPES:
        state: str = EventState.RUNNING
    elif kind:
        state = EventState.FAILED
        detail = payload.get("error") or payload.get("message")
        reason = f"{kind}: {detail}" if detail else kind
    elif payload.get("code") == 200 or "data" in payload:
        data = payload.get("data")
        if not isinstance(data, list):
            _malformed(payload, "data is not a list of clips")
        try:
            clips = structure(data, tuple[Clip, ...], what="webhook.data")
        except MalformedResponseError as exc:
            _malformed(payload, exc.message)
        state = state_of(clips)
        if state == EventState.FAILED:
            reason = "failed: every clip failed"
    else:
        _malformed(payload, "neither a task result nor a failure")
    if task_id is None:
        task_id = _task_id_of(payload, clips)
    return WebhookEvent(
        id=event_id,
        type=event_type,
        task_id=task_id,
        state=state,
        clips=clips,
        reason=reason,
        timestamp=timestamp,
        raw=raw,
    )


def state_of(clips: tuple[Clip, ...]) -> str:
    """Return an event's state from its clips.

    `failed` when every clip failed; `succeeded` when every clip is final and not all
    failed (as `wait()` reads a poll: a result with one failed clip is still a
    result); `streaming` when a clip streams and none failed; else `running` (no
    clips, pending clips, or streaming beside failed).
    """
    states = [clip.state for clip in clips]
    if not states:
        return EventState.RUNNING
    if all(state == ClipState.FAILED for state in states):
        return EventState.FAILED
    if all(state in _SUCCEEDED_CLIP or state == ClipState.FAILED for state in states):
        return EventState.SUCCEEDED
    if ClipState.STREAMING in states and ClipState.FAILED not in states:
        return EventState.STREAMING
    return EventState.RUNNING


def _task_id_of(payload: Mapping[str, Any], clips: tuple[Clip, ...]) -> str | None:
    """Return the body's top-level `task_id`, else the one its clips agree on, else `None`."""
    top = payload.get("task_id")
    if top is not None:
        return _id_text(payload, top, "task_id")
    found = {
        _id_text(payload, clip.raw["task_id"], "data[].task_id")
        for clip in clips
        if clip.raw.get("task_id") is not None
    }
    if len(found) > 1:
        _malformed(payload, "its clips name different task ids")
    return found.pop() if found else None


def _id_text(payload: Mapping[str, Any], value: Any, where: str) -> str:
    """Return an id as text: a non-empty string, or an integer as the converter allows."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value:
        return value
    _malformed(payload, f"{where} is not a non-empty string")


def _malformed(payload: Mapping[str, Any], detail: str) -> NoReturn:
    raise WebhookVerificationError(
        f"the delivery's body is malformed: {detail}", body=dict(payload)
    )


def _no_constant(name: str) -> NoReturn:
    """Refuse `NaN` and `Infinity`: Python's json accepts them, JSON does not."""
    raise ValueError(f"{name} is not JSON")
