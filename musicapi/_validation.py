"""Checks a create request against the API's documented rules before anything is sent.

A mistake caught here costs nothing; the same mistake found by the server costs a
round trip, and some (a prompt too long for the model) fail only after the job started.
Limits follow the API reference, section 4.1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from musicapi._errors import RequestValidationError
from musicapi._models.common import SonicModel
from musicapi._models.sonic import SonicCreateRequest, TaskType

if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_LENGTHS = {"title": 80, "gpt_description_prompt": 400, "tags": 200, "negative_tags": 200}
SHORT_LYRICS_MODELS = frozenset({SonicModel.V3_5, SonicModel.V4})
SHORT_LYRICS_LIMIT = 3000
LYRICS_LIMIT = 5000
UNIT_RANGE_FIELDS = ("style_weight", "weirdness_constraint", "audio_weight")
NON_NEGATIVE_FIELDS = ("continue_at", "overpainting_start_s", "overpainting_end_s")
VOCAL_GENDERS = frozenset({"f", "m"})
VARIATION_CATEGORIES = frozenset({"subtle", "normal", "high"})

BOOL_FIELDS = frozenset({"custom_mode", "make_instrumental", "auto_lyrics"})
NUMBER_FIELDS = frozenset({*UNIT_RANGE_FIELDS, *NON_NEGATIVE_FIELDS})
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    field.name: (bool,)
    if field.name in BOOL_FIELDS
    else (int, float)
    if field.name in NUMBER_FIELDS
    else (str,)
    for field in attrs.fields(SonicCreateRequest)
}


def build_sonic_create(fields: Mapping[str, Any]) -> SonicCreateRequest:
    """Build and validate a create request from the API's JSON field names.

    `custom_mode` is inferred when left out and unambiguous (a description alone means
    description mode; lyrics, a title or tags mean custom mode), and `mv` defaults to
    `SonicModel.DEFAULT` for task types that need it.

    Raises:
        RequestValidationError: An unknown field, a wrong type, a missing required
            field or a value outside the documented limits; `.field` names it.
    """
    known = _FIELD_TYPES
    for name, value in fields.items():
        if name not in known:
            raise RequestValidationError(
                f"unknown field {name!r} for sonic.create; known fields: {', '.join(sorted(known))}",
                field=name,
            )
        if value is not None and not _has_type(value, known[name]):
            expected = " or ".join(t.__name__ for t in known[name])
            raise RequestValidationError(
                f"{name} must be {expected}, not {type(value).__name__}", field=name
            )
    request = SonicCreateRequest(**fields)
    return validate_sonic_create(with_defaults(request))


def _has_type(value: object, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def with_defaults(request: SonicCreateRequest) -> SonicCreateRequest:
    required = TaskType.REQUIRED.get(request.effective_task_type, ())
    changes: dict[str, Any] = {}
    if request.mv is None and "mv" in required:
        changes["mv"] = SonicModel.DEFAULT
    if request.custom_mode is None and "custom_mode" in required:
        custom = any(
            value is not None
            for value in (request.prompt, request.lyrics, request.title, request.tags)
        )
        described = request.gpt_description_prompt is not None
        if custom != described:
            changes["custom_mode"] = custom
    return attrs.evolve(request, **changes) if changes else request


def validate_sonic_create(request: SonicCreateRequest) -> SonicCreateRequest:
    """Return `request` unchanged if it follows the documented rules, else raise.

    Raises:
        RequestValidationError: The first rule broken, naming the field.
    """
    task_type = request.effective_task_type
    for name in TaskType.REQUIRED.get(task_type, ()):
        if getattr(request, name) is None:
            raise RequestValidationError(
                f"{name} is required for task_type {task_type!r}", field=name
            )
    if (
        request.prompt is not None
        and request.lyrics is not None
        and request.prompt != request.lyrics
    ):
        raise RequestValidationError("give prompt or lyrics (its alias), not both", field="lyrics")
    if task_type == TaskType.CREATE_MUSIC:
        _check_create_mode(request)
    if request.auto_lyrics and request.custom_mode is False:
        raise RequestValidationError("auto_lyrics needs custom_mode=True", field="auto_lyrics")
    for name, limit in MAX_LENGTHS.items():
        _check_length(name, getattr(request, name), limit)
    lyrics_limit = SHORT_LYRICS_LIMIT if request.mv in SHORT_LYRICS_MODELS else LYRICS_LIMIT
    for name in ("prompt", "lyrics"):
        _check_length(name, getattr(request, name), lyrics_limit, model=request.mv)
    for name in UNIT_RANGE_FIELDS:
        value = getattr(request, name)
        if value is not None and not 0.0 <= value <= 1.0:
            raise RequestValidationError(
                f"{name} must be between 0 and 1, got {value!r}", field=name
            )
    for name in NON_NEGATIVE_FIELDS:
        value = getattr(request, name)
        if value is not None and value < 0:
            raise RequestValidationError(
                f"{name} must be 0 or more seconds, got {value!r}", field=name
            )
    _check_choices(request)
    _check_window(request)
    _check_webhook(request)
    return request


def _check_create_mode(request: SonicCreateRequest) -> None:
    if request.custom_mode is False and not request.gpt_description_prompt:
        raise RequestValidationError(
            "gpt_description_prompt is required in description mode (custom_mode=False)",
            field="gpt_description_prompt",
        )
    if (
        request.custom_mode
        and not (request.prompt or request.lyrics)
        and not (request.make_instrumental or request.auto_lyrics)
    ):
        raise RequestValidationError(
            "prompt (the lyrics) is required in custom mode unless make_instrumental "
            "or auto_lyrics is set",
            field="prompt",
        )


def _check_length(name: str, value: str | None, limit: int, *, model: str | None = None) -> None:
    if value is not None and len(value) > limit:
        where = f" for {model}" if model else ""
        raise RequestValidationError(
            f"{name} is {len(value)} characters; the limit{where} is {limit}", field=name
        )


def _check_choices(request: SonicCreateRequest) -> None:
    if request.vocal_gender is not None:
        if request.vocal_gender not in VOCAL_GENDERS:
            raise RequestValidationError(
                f"vocal_gender must be 'f' or 'm', got {request.vocal_gender!r}",
                field="vocal_gender",
            )
        if request.mv in SHORT_LYRICS_MODELS:
            raise RequestValidationError(
                f"vocal_gender needs sonic-v4-5 or newer, not {request.mv}", field="vocal_gender"
            )
    if (
        request.variation_category is not None
        and request.variation_category not in VARIATION_CATEGORIES
    ):
        raise RequestValidationError(
            f"variation_category must be one of subtle, normal, high; got {request.variation_category!r}",
            field="variation_category",
        )


def _check_window(request: SonicCreateRequest) -> None:
    start, end = request.overpainting_start_s, request.overpainting_end_s
    if start is not None and end is not None and end <= start:
        raise RequestValidationError(
            "overpainting_end_s must be after overpainting_start_s", field="overpainting_end_s"
        )


def _check_webhook(request: SonicCreateRequest) -> None:
    if request.webhook_url is None:
        return
    parts = urlsplit(request.webhook_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RequestValidationError(
            "webhook_url must be an absolute http(s) URL", field="webhook_url"
        )
    if request.webhook_secret is not None and not request.webhook_secret:
        raise RequestValidationError("webhook_secret must not be empty", field="webhook_secret")


def prepare_request(
    request: SonicCreateRequest | None, fields: dict[str, Any]
) -> SonicCreateRequest:
    """Return a validated create request from a prepared one or from keyword fields."""
    if request is None:
        return build_sonic_create(fields)
    if fields:
        raise RequestValidationError("pass a request object or keyword fields, not both")
    if not isinstance(request, SonicCreateRequest):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise RequestValidationError(
            f"request must be a SonicCreateRequest, not {type(request).__name__}", field="request"
        )
    return validate_sonic_create(with_defaults(request))
