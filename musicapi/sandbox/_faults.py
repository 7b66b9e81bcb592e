"""Fault knobs: what the sandbox should get wrong, and when.

Every knob is off by default, so a fresh sandbox behaves like a healthy API. Tests
change the knobs at any time, from Python (`sandbox.faults.fail_next["create"] = 2`)
or over loopback (`POST /_sandbox/faults`). Counters such as `fail_next` are spent one
request at a time by `take()`; the `webhook_*` counters are spent by the webhook
deliveries (`_deliveries.py`), one event or one attempt at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, cast

import attrs

from musicapi.sandbox._route_table import ROUTE_NAMES

__all__ = ["FAIL_TYPES", "ROUTES", "Faults", "lookup", "take"]

ROUTES = ROUTE_NAMES
"""Route names used by the knobs and the stats; `"*"` in a knob means any API route."""

FAIL_TYPES = ("failed", "timeout", "forbidden", "api_error")
"""The failure types a task can end with (api-reference §2.2)."""

MALFORMED_KINDS = ("not_json", "wrong_shape")
"""The values of `Faults.malformed_kind`."""


_ERROR_STATUSES = frozenset(status.value for status in HTTPStatus if status.value >= 400)

_Check = Callable[[object], bool]
_Validator = Callable[[object, "attrs.Attribute[Any]", object], None]


def _seconds(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return value >= 0 and (isinstance(value, int) or math.isfinite(value))


def _probability(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _error_status(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in _ERROR_STATUSES


def _header_text(value: str) -> bool:
    """Whether `value` can be sent as an HTTP header value (visible ASCII and spaces)."""
    return value.isascii() and all(" " <= char <= "~" for char in value) and value.strip() == value


def _retry_after(value: object) -> bool:
    return value is None or (isinstance(value, str) and _header_text(value)) or _seconds(value)


def _flag(value: object) -> bool:
    return isinstance(value, bool)


def _malformed_kind(value: object) -> bool:
    return value in MALFORMED_KINDS


def _fail_type(value: object) -> bool:
    return value in FAIL_TYPES


def _check(check: _Check, what: str) -> _Validator:
    """Return an attrs validator that requires `check(value)`, with a message naming the field."""

    def validate(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not check(value):
            raise TypeError(f"{attribute.name}: must be {what}")

    return validate


def _route_map(check: _Check, what: str) -> _Validator:
    """Return an attrs validator for a dict from route names to values that pass `check`."""

    def validate(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
        items = cast("dict[object, object]", value).items() if isinstance(value, dict) else None
        if items is None or not all(key in (*ROUTES, "*") and check(v) for key, v in items):
            raise TypeError(
                f"{attribute.name}: must map route names (credits, create, task, file, "
                f"sonic/lyrics, ... or '*') to {what}"
            )

    return validate


@attrs.define(kw_only=True)
class Faults:
    """Mutable fault knobs; every one is off by default.

    Attributes:
        error_rate: Route -> probability of answering `error_status` (seeded).
        error_status: The status of injected errors (500, 502, 503, ...); the body is
            `{"error": "<its reason phrase, lower case>"}`.
        fail_next: Route -> answer the next N requests with `error_status`.
        rate_limit_next: Answer the next N API requests with 429.
        retry_after: The `Retry-After` of injected 429s: seconds, an HTTP-date string
            (visible ASCII), or `None` for no header.
        drop_next: Route -> read the next N requests fully, then close the connection
            without answering; a create is not processed.
        drop_after_commit_next: Route -> process the next N requests (a create is
            charged and its task runs), then close the connection without answering.
        refuse_next: Route -> refuse the next N connections before anything is sent
            (in-process transport only).
        delay: Route -> clock seconds to wait before answering.
        malformed_next: Route -> the next N answers are a 200 with a malformed body.
        malformed_kind: `"not_json"` (a body that is not JSON) or `"wrong_shape"`
            (valid JSON of the wrong shape).
        fail_next_tasks: The next N created tasks end failed.
        fail_type: The failure type of failed tasks (`failed`, `timeout`,
            `forbidden`, `api_error`).
        duration_as_string: Send each clip's `duration` as a string (`"2.72"`) on
            `GET /sonic/task/{id}` too, as the vendor's webhook example shows it;
            by default it is the documented number there (webhook bodies always
            carry the string).
        webhook_duplicate_next: Deliver the next N webhook events twice, both
            copies with the same `X-Webhook-Id` (each copy retried on its own).
        webhook_out_of_order_next: Hold back the next N `streaming` events until
            the first attempt at their task's `succeeded` event is over, so that
            they arrive after it.
        webhook_delay: Sandbox-clock seconds added before every delivery attempt
            (a first try and each retry).
        webhook_drop_next: Never deliver the next N webhook events: no attempt, no
            retry (only polling finds their tasks' results).
        webhook_bad_signature_next: Sign the next N delivery attempts (first tries
            and retries alike, in the order they are sent) with a wrong key; once
            the knob is spent, a retry of the same event is signed right.
    """

    error_rate: dict[str, float] = attrs.field(
        factory=dict[str, float], validator=_route_map(_probability, "0..1")
    )
    error_status: int = attrs.field(
        default=500, validator=_check(_error_status, "a known 4xx or 5xx status")
    )
    fail_next: dict[str, int] = attrs.field(
        factory=dict[str, int], validator=_route_map(_count, "counts")
    )
    rate_limit_next: int = attrs.field(default=0, validator=_check(_count, "a count"))
    retry_after: float | str | None = attrs.field(
        default=None, validator=_check(_retry_after, "seconds, an HTTP date or null")
    )
    drop_next: dict[str, int] = attrs.field(
        factory=dict[str, int], validator=_route_map(_count, "counts")
    )
    drop_after_commit_next: dict[str, int] = attrs.field(
        factory=dict[str, int], validator=_route_map(_count, "counts")
    )
    refuse_next: dict[str, int] = attrs.field(
        factory=dict[str, int], validator=_route_map(_count, "counts")
    )
    delay: dict[str, float] = attrs.field(
        factory=dict[str, float], validator=_route_map(_seconds, "seconds")
    )
    malformed_next: dict[str, int] = attrs.field(
        factory=dict[str, int], validator=_route_map(_count, "counts")
    )
    malformed_kind: str = attrs.field(
        default="not_json", validator=_check(_malformed_kind, f"one of {MALFORMED_KINDS}")
    )
    fail_next_tasks: int = attrs.field(default=0, validator=_check(_count, "a count"))
    fail_type: str = attrs.field(
        default="failed", validator=_check(_fail_type, f"one of {FAIL_TYPES}")
    )
    duration_as_string: bool = attrs.field(default=False, validator=_check(_flag, "a boolean"))
    webhook_duplicate_next: int = attrs.field(default=0, validator=_check(_count, "a count"))
    webhook_out_of_order_next: int = attrs.field(default=0, validator=_check(_count, "a count"))
    webhook_delay: float = attrs.field(default=0.0, validator=_check(_seconds, "seconds"))
    webhook_drop_next: int = attrs.field(default=0, validator=_check(_count, "a count"))
    webhook_bad_signature_next: int = attrs.field(default=0, validator=_check(_count, "a count"))

    def update(self, changes: Mapping[str, Any]) -> None:
        """Set the knobs named in `changes`, all or none.

        Raises:
            ValueError: A name is not a knob, or a value has the wrong type or range;
                the message names the knob.
        """
        names = {field.name for field in attrs.fields(Faults)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"{unknown[0]}: not a fault knob")
        try:
            attrs.evolve(self, **changes)  # validates every value before anything changes
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        for name, value in changes.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        """Return the knobs as a JSON-ready dict."""
        return attrs.asdict(self)


def _keys(route: str) -> tuple[str, ...]:
    return (route,) if route == "file" else (route, "*")


def lookup(knob: Mapping[str, float], route: str) -> float:
    """Return the value of a route knob for `route` (else its `"*"` for API routes), or 0."""
    return next((knob[key] for key in _keys(route) if key in knob), 0.0)


def take(counters: dict[str, int], route: str) -> bool:
    """Spend one from the counter of `route` (else of `"*"` for API routes).

    Returns:
        Whether there was one left to spend.
    """
    for key in _keys(route):
        if counters.get(key, 0) > 0:
            counters[key] -= 1
            return True
    return False
