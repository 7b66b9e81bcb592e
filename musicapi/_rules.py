"""Checks any operation's request against its documented rules before anything is sent.

The request models (`_models/`) declare their rules as data: a field's annotation gives
its JSON type, a field without a default is required, and `attrs` metadata adds the
documented limits (`max_length`, `minimum`, `maximum`, `choices`, `uri`, `count`).
This module reads those declarations, so the rules of some forty operations live next
to the fields they govern and one function enforces them all. Rules that tie several
fields together (one of `url`/`sample_clip_id`, an end after a start, a limit that
depends on the model) are passed in as small `Check` functions by the resource.

`musicapi._validation` keeps the richer, hand-written rules of `/sonic/create`; both
raise the same `RequestValidationError` naming the field.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, Union

import attrs

from musicapi._errors import RequestValidationError
from musicapi._validation import check_json_scalar, webhook_url_problem

T = TypeVar("T")

Check = Callable[[Any], None]
"""A cross-field rule: raises `RequestValidationError` for a request that breaks it."""

_RESOLVED: set[type] = set()


def build(
    cls: type[T],
    fields: Mapping[str, Any],
    *,
    operation: str,
    checks: Sequence[Check] = (),
) -> T:
    """Build and validate a request of `cls` from the API's JSON field names.

    Args:
        cls: The request model (an attrs class).
        fields: The fields by their JSON names; `None` means "not given".
        operation: The operation's name, for messages (`sonic.mashup`).
        checks: Cross-field rules, run after every field passed its own.

    Raises:
        RequestValidationError: An unknown field, a missing required one, a wrong type
            or a value outside the documented limits; `.field` names it.
    """
    known = {field.name: field for field in _fields(cls)}
    for name in fields:
        if name not in known:
            raise RequestValidationError(
                f"unknown field {name!r} for {operation}; known fields: {', '.join(known)}",
                field=name,
            )
    for field in known.values():
        _check_field(field, fields.get(field.name), operation)
    request = cls(**{name: value for name, value in fields.items() if value is not None})
    for check in checks:
        check(request)
    return request


def prepare(
    cls: type[T],
    request: T | None,
    fields: Mapping[str, Any],
    *,
    operation: str,
    checks: Sequence[Check] = (),
) -> T:
    """Return a validated request from a prepared object or from keyword fields.

    A prepared object is checked field by field like keywords are: attrs does not check
    annotations at run time, so `MashupRequest(title=5)` must fail here, by name.

    Raises:
        RequestValidationError: Both or neither were given in a usable form, or a rule
            is broken.
    """
    if request is None:
        return build(cls, fields, operation=operation, checks=checks)
    if fields:
        raise RequestValidationError("pass a request object or keyword fields, not both")
    if not isinstance(request, cls):
        raise RequestValidationError(
            f"request must be a {cls.__name__}, not {type(request).__name__}", field="request"
        )
    values = {field.name: getattr(request, field.name) for field in _fields(cls)}
    return build(cls, values, operation=operation, checks=checks)


def body_of(request: object) -> dict[str, Any]:
    """Return the JSON body of a request: its fields by API name, without the `None` ones."""
    body: dict[str, Any] = {}
    for field in _fields(type(request)):
        value: object = getattr(request, field.name)
        if isinstance(value, tuple):
            value = list(typing.cast("tuple[object, ...]", value))
        elif isinstance(value, Mapping) and not isinstance(value, dict):
            value = dict(typing.cast("Mapping[str, object]", value))  # JSON-encodable
        if value is not None:
            body[field.name] = value
    return body


def secret_not_empty(request: object) -> None:
    """Refuse an empty `webhook_secret`: deliveries signed with it would prove nothing.

    A request model without the field passes.
    """
    if getattr(request, "webhook_secret", None) == "":
        raise RequestValidationError("webhook_secret must not be empty", field="webhook_secret")


def ordered(start: str, end: str) -> Check:
    """Return a check that field `end` comes after field `start` when both are given."""

    def check(request: Any) -> None:
        low, high = getattr(request, start), getattr(request, end)
        if low is not None and high is not None and high <= low:
            raise RequestValidationError(f"{end} must be after {start}", field=end)

    return check


def _fields(cls: type[object]) -> tuple[attrs.Attribute[Any], ...]:
    """Return the attrs fields of a request model, its string annotations resolved once."""
    model = typing.cast("type[attrs.AttrsInstance]", cls)
    if cls not in _RESOLVED:
        attrs.resolve_types(model)
        _RESOLVED.add(cls)
    found: tuple[attrs.Attribute[Any], ...] = attrs.fields(model)
    return found


def _check_field(field: attrs.Attribute[Any], value: Any, operation: str) -> None:
    name = field.name
    required = field.default is attrs.NOTHING
    if value is None or (required and value == ""):
        if required:
            raise RequestValidationError(f"{name} is required for {operation}", field=name)
        return
    expected = _describe(field.type)
    if not _accepts(field.type, value):
        raise RequestValidationError(
            f"{name} must be {expected}, not {type(value).__name__}", field=name
        )
    _check_values(name, value)
    _check_limits(name, value, field.metadata)


def _check_values(name: str, value: Any) -> None:
    """Refuse what JSON cannot carry: NaN and infinities, text that is not UTF-8.

    An integer too large for a float (`10**400`) is no number the API can read either,
    and a JSON object (`config`, `segments`) must encode as JSON as a whole: whatever
    is wrong inside it, the error names the field.
    """
    check_json_scalar(name, value)
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            raise RequestValidationError(
                f"{name} must be a number the API can read, not an integer of "
                f"{value.bit_length()} bits",
                field=name,
            ) from None
    _check_object(name, value)
    if isinstance(value, (tuple, list)):
        for item in typing.cast("Sequence[Any]", value):
            _check_values(name, item)


def _check_object(name: str, value: object) -> None:
    """Refuse a JSON object field that cannot be sent as strict UTF-8 JSON, naming it."""
    if not isinstance(value, Mapping):
        return
    try:
        plain: dict[Any, Any] = dict(value)  # pyright: ignore[reportUnknownArgumentType]
        json.dumps(plain, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError, RecursionError) as exc:
        raise RequestValidationError(
            f"{name} cannot be sent as JSON: {str(exc)[:200]}", field=name
        ) from None


def _check_limits(name: str, value: Any, rules: Mapping[Any, Any]) -> None:
    limit = rules.get("max_length")
    if limit is not None and isinstance(value, str) and len(value) > limit:
        raise RequestValidationError(
            f"{name} is {len(value)} characters; the limit is {limit}", field=name
        )
    count = rules.get("count")
    if count is not None and len(value) != count:
        raise RequestValidationError(
            f"{name} must hold exactly {count} items, not {len(value)}", field=name
        )
    max_items = rules.get("max_items")
    if max_items is not None and len(value) > max_items:
        raise RequestValidationError(
            f"{name} holds {len(value)} items; the limit is {max_items}", field=name
        )
    _check_range(name, value, rules)
    choices = rules.get("choices")
    if choices is not None and value not in choices:
        raise RequestValidationError(
            f"{name} must be one of {', '.join(sorted(map(str, choices)))}; got {value!r:.80}",
            field=name,
        )
    if rules.get("uri"):
        problem = webhook_url_problem(value)
        if problem:
            raise RequestValidationError(
                f"{name} must be an absolute http(s) URL with a valid host; {problem}",
                field=name,
            )


def _check_range(name: str, value: Any, rules: Mapping[Any, Any]) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    low, high = rules.get("minimum"), rules.get("maximum")
    if low is not None and value < low:
        raise RequestValidationError(f"{name} must be {low} or more, got {value!r}", field=name)
    if high is not None and value > high:
        raise RequestValidationError(f"{name} must be {high} or less, got {value!r}", field=name)


def _accepts(annotation: Any, value: Any) -> bool:
    """Whether `value` is a JSON value of the field type `annotation` (None aside)."""
    if annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_accepts(arg, value) for arg in typing.get_args(annotation) if arg is not None)
    if annotation is type(None):
        return False
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation in (str, bool):
        return isinstance(value, annotation)
    if origin is tuple:
        item = typing.get_args(annotation)[0]
        return isinstance(value, (tuple, list)) and all(
            _accepts(item, element) for element in typing.cast("Sequence[Any]", value)
        )
    if origin in (Mapping, dict) or annotation is dict:
        return isinstance(value, Mapping)
    return isinstance(value, annotation)


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        return " or ".join(
            _describe(arg) for arg in typing.get_args(annotation) if arg is not type(None)
        )
    if annotation is float:
        return "a number"
    if annotation is int:
        return "an integer"
    if annotation is str:
        return "a string"
    if annotation is bool:
        return "a boolean"
    if origin is tuple:
        return f"a list of {_describe(typing.get_args(annotation)[0]).removeprefix('a ')}s"
    if origin in (Mapping, dict):
        return "a JSON object"
    return getattr(annotation, "__name__", str(annotation))
