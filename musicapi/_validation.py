"""Checks a create request against the API's documented rules before anything is sent.

A mistake caught here costs nothing; the same mistake found by the server costs a
round trip, and some (a prompt too long for the model) fail only after the job started.
Limits follow the API reference, sections 3.1 and 4.1. The sandbox has its own table of
the same rules (`musicapi.sandbox._validate`), written separately on purpose; the shared
vectors in `tests/vectors/sonic_create_rules.json` pin both to the reference.

Our reading where the reference is loose (the sandbox's module docstring says the same
for the server side):

* Types: every field has the type of §3.1; `None` means "not given" and is never sent.
  A bool is not a number; numbers must be finite (JSON has no NaN or Infinity); strings
  must be encodable as UTF-8, so a lone surrogate (U+D800 to U+DFFF) is rejected here
  rather than failing in the JSON encoder after validation said yes.
* `task_type` must be one of the documented ten (a typo would otherwise be charged as
  whatever the server makes of it). `mv` is an open string (§7): unknown names pass.
* Required fields per task type (§4.1); an empty string counts as missing. `remaster`,
  `add_instrumental` and `add_vocals` need `continue_clip_id` and `mv` (our reading).
* The mode rules (description mode needs `gpt_description_prompt`, custom mode needs a
  prompt unless `make_instrumental` or `auto_lyrics`) apply to `create_music` only: the
  other task types start from a clip or persona that already carries a song.
* `auto_lyrics` needs `custom_mode=True` for every task type (§4.1).
* `webhook_url` must be an absolute http(s) URL with a valid host (an IP address, or a
  DNS name that IDNA can encode and whose `xn--` labels decode), no spaces or control
  characters, at most one `@`, and a port from 1 to 65535.
"""

from __future__ import annotations

import ipaddress
import math
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
_HOST_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


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
        _check_type(name, value)
    request = SonicCreateRequest(**fields)
    return validate_sonic_create(with_defaults(request))


def _has_type(value: object, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def _check_type(name: str, value: object) -> None:
    """Raise unless `value` is `None` or a valid value of field `name`'s JSON type."""
    if value is None:
        return
    types = _FIELD_TYPES[name]
    if not _has_type(value, types):
        expected = " or ".join(t.__name__ for t in types)
        raise RequestValidationError(
            f"{name} must be {expected}, not {type(value).__name__}", field=name
        )
    check_json_scalar(name, value)


def check_json_scalar(name: str, value: object) -> None:
    """Refuse a number or text that strict UTF-8 JSON cannot carry, naming the field.

    NaN and infinities are not JSON; a string with a lone surrogate (U+D800 to U+DFFF)
    cannot be encoded as UTF-8. Both would otherwise fail in the encoder, after
    validation said yes, with no field named.

    Raises:
        RequestValidationError: `value` is such a number or string; `.field` is `name`.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise RequestValidationError(
            f"{name} must be a finite number, not {value!r} (JSON has no NaN or Infinity)",
            field=name,
        )
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise RequestValidationError(
                f"{name} holds a lone surrogate ({value[exc.start]!a} at {exc.start}), "
                "which cannot be sent as UTF-8 JSON",
                field=name,
            ) from None


def _check_types(request: SonicCreateRequest) -> None:
    """Check every field of a (possibly hand-built) request against its type.

    attrs does not check annotations at run time, so `SonicCreateRequest(title=5)` is
    possible; it must fail here, naming the field, as the same mistake does as a keyword.
    """
    for name in _FIELD_TYPES:
        _check_type(name, getattr(request, name))
    task_type = request.effective_task_type
    if task_type not in TaskType.REQUIRED:
        raise RequestValidationError(
            f"task_type must be one of {', '.join(TaskType.REQUIRED)}, not {task_type!r}",
            field="task_type",
        )


def with_defaults(request: SonicCreateRequest) -> SonicCreateRequest:
    """Fill in what the SDK infers: `mv` (the default model) and an unambiguous `custom_mode`.

    Only for the task types that require them (§4.1); a request of an unknown task type is
    returned unchanged for validation to reject. Check field types first: inference reads
    the fields.
    """
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
    _check_types(request)
    task_type = request.effective_task_type
    for name in TaskType.REQUIRED[task_type]:
        if getattr(request, name) is None or getattr(request, name) == "":
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
    if request.auto_lyrics and request.custom_mode is not True:
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


def _host_problem(hostname: str, bracketed: bool) -> str | None:
    """Say what is wrong with a URL's host (as `urlsplit` gives it, lower case), or `None`."""
    if bracketed:
        try:
            ipaddress.IPv6Address(hostname)
        except ValueError:
            return "an invalid IPv6 address"
        return None
    name = hostname.removesuffix(".")
    if not name:
        return "no host"
    last = name.split(".")[-1]
    if last.isdigit():  # only an IPv4 address may end in a number
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            return f"an invalid IPv4 address {hostname!r}"
        return None
    try:
        ascii_name = name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return f"a host name IDNA cannot encode ({hostname!r})"
    if len(ascii_name) > 253:
        return "a host name longer than 253 characters"
    for label in ascii_name.split("."):
        if not 0 < len(label) <= 63 or not set(label) <= _HOST_CHARACTERS:
            return f"an invalid host name {hostname!r}"
        if label.startswith("-") or label.endswith("-"):
            return f"a host name label that starts or ends with '-' ({label!r})"
        if label.startswith("xn--"):
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                return f"an invalid IDNA label {label!r}"
    return None


def webhook_url_problem(url: str) -> str | None:
    """Say what keeps `url` from being an absolute http(s) URL with a valid host, or `None`."""
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        return "it holds spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a broken IPv6 literal, a port that is not 0..65535
        return str(exc)
    if parts.scheme.lower() not in ("http", "https") or not url[len(parts.scheme) :].startswith(
        "://"
    ):
        return "it is not an absolute http(s) URL"
    if parts.netloc.count("@") > 1:
        return "it has more than one '@' before the host"
    hostport = parts.netloc.rpartition("@")[2]
    bracketed = hostport.startswith("[")
    host_and_port = hostport.rpartition("]")[2] if bracketed else hostport
    port_text = host_and_port.partition(":")[2]
    if port_text and (not port_text.isdigit() or not port_text.isascii() or port == 0):
        return f"its port {port_text!r} is not a number from 1 to 65535"
    problem = _host_problem(parts.hostname or "", bracketed)
    return f"it has {problem}" if problem else None


def _check_webhook(request: SonicCreateRequest) -> None:
    if request.webhook_url is not None:
        problem = webhook_url_problem(request.webhook_url)
        if problem:
            raise RequestValidationError(
                f"webhook_url must be an absolute http(s) URL with a valid host; {problem}",
                field="webhook_url",
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
    _check_types(request)  # before with_defaults reads the fields
    return validate_sonic_create(with_defaults(request))
