"""All wire knowledge: the one cattrs converter, and how API bodies become models.

The models in `_models` are plain attrs classes; this module decides how they meet
JSON. It keeps every response's raw mapping (so unknown fields survive), coerces the
API's inconsistencies (a `duration` sent as `"104.88"`), omits `None` fields from
requests, and turns any shape it cannot read into `MalformedResponseError` with the
field path, never a `KeyError` or `TypeError`. Hooks are registered once, at import,
because cattrs caches them on first use.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar, cast

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from musicapi._errors import MalformedResponseError, RequestValidationError
from musicapi._models import Clip, ClipState, Credits, SonicCreateRequest, Task, TaskState
from musicapi._models.sonic import GenerationResult, TaskSubmission

T = TypeVar("T")

FAILURE_TYPES = frozenset({"failed", "timeout", "forbidden", "api_error", "bad_request", "error"})
NOT_READY_TYPES = frozenset({"not_ready", "pending", "running", "processing"})


def configure_converter(converter: cattrs.Converter) -> None:
    """Register the hooks that map musicapi models to and from the API's JSON."""
    converter.register_unstructure_hook(
        SonicCreateRequest,
        make_dict_unstructure_fn(SonicCreateRequest, converter, _cattrs_omit_if_default=True),
    )
    converter.register_structure_hook(int | float, _number)
    converter.register_structure_hook(str, _string)
    for model in (Clip, Credits, TaskSubmission):
        converter.register_structure_hook(model, _keeping_raw(model, converter))


def _number(value: Any, _: Any) -> int | float:
    """Keep an integer an integer (a balance of 100 prints as 100), accept numeric strings."""
    if isinstance(value, bool):
        raise TypeError("expected a number, got a boolean")
    if isinstance(value, (int, float)):
        return value
    return float(value)


def _string(value: Any, _: Any) -> str:
    """Accept a string (or an integer id); never turn `None`, a dict or a list into text.

    cattrs' default calls `str()` on anything, so `{"task_id": null}` would become the
    task id `'None'` and be polled forever.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _keeping_raw(cls: type[T], converter: cattrs.Converter) -> Callable[[Any, Any], T]:
    """Build a structure hook that ignores unknown keys but keeps the whole mapping as `raw`."""
    structure_fields = make_dict_structure_fn(
        cls, converter, raw=override(omit=True), _cattrs_forbid_extra_keys=False
    )

    def structure(value: Any, _: Any) -> T:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected a JSON object, got {type(value).__name__}")
        mapping = cast("Mapping[str, Any]", value)
        instance = structure_fields(mapping, cls)
        # Set on the new frozen instance as attrs' own __init__ does: cheaper than evolve().
        object.__setattr__(instance, "raw", MappingProxyType(dict(mapping)))
        return instance

    return structure


converter = cattrs.Converter()
configure_converter(converter)


def structure(value: Any, cls: type[T], *, what: str) -> T:
    """Structure `value` as `cls`, or raise `MalformedResponseError` naming the bad fields."""
    try:
        return converter.structure(value, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, cattrs.BaseValidationError):
            detail = "; ".join(cattrs.transform_error(exc, path=what))
        else:
            detail = f"{what}: {exc}"
        raise MalformedResponseError(
            f"malformed {what} in the API's answer: {detail}", body=value
        ) from None


def encode_body(body: Mapping[str, Any]) -> bytes:
    """Encode a request body as the bytes sent on the wire: canonical, strict JSON.

    Keys are sorted and separators compact, so the same request always gives the same
    bytes (the batch journal fingerprints them). NaN and infinities are refused (they
    are not JSON), and so are strings that cannot be UTF-8 (lone surrogates).

    Raises:
        RequestValidationError: The body cannot be encoded as JSON.
    """
    try:
        text = json.dumps(
            body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        return text.encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError, RecursionError) as exc:
        raise RequestValidationError(f"the request cannot be sent as JSON: {exc}") from None


def unstructure_request(request: SonicCreateRequest) -> dict[str, Any]:
    """Return the JSON body of a create request, without the fields left as `None`."""
    body: dict[str, Any] = converter.unstructure(request)
    return body


def parse_task(task_id: str, status_code: int, body: Any, *, retry_after: float | None) -> Task:
    """Read one poll of `/sonic/task/{id}` into a `Task`, whatever the outcome.

    202 (or a `not_ready` type) means running. 200 with `code: 200` and clips means
    succeeded, unless a clip is still `streaming` or `pending` (then still running).
    200 with a failure `type` means failed, with the reason.

    Raises:
        MalformedResponseError: The body has none of the documented shapes.
    """
    mapping = cast("dict[str, Any]", body) if isinstance(body, dict) else None
    raw: MappingProxyType[str, Any] = MappingProxyType(mapping if mapping is not None else {})
    kind = mapping.get("type") if mapping is not None else None
    if kind is not None and not isinstance(kind, str):
        raise MalformedResponseError(
            "malformed task in the API's answer: type is not a string", body=body
        )
    if status_code == 202 or kind in NOT_READY_TYPES:
        return Task(task_id=task_id, state=TaskState.RUNNING, retry_after=retry_after, raw=raw)
    if mapping is None:
        raise MalformedResponseError(
            "malformed task in the API's answer: not a JSON object", body=body
        )
    if isinstance(kind, str) and kind:
        reason = mapping.get("error") or mapping.get("message")
        return Task(
            task_id=task_id,
            state=TaskState.FAILED,
            reason=f"{kind}: {reason}" if reason else kind,
            raw=raw,
        )
    if mapping.get("code") == 200 or "data" in mapping:
        data = mapping.get("data")
        if not isinstance(data, list):
            raise MalformedResponseError(
                "malformed task in the API's answer: data is not a list of clips", body=body
            )
        clips = structure(data, tuple[Clip, ...], what="task.data")
        return Task(
            task_id=task_id, state=_state_of(clips), clips=clips, raw=raw, reason=_reason_of(clips)
        )
    raise MalformedResponseError("malformed task in the API's answer: unknown shape", body=body)


def _state_of(clips: tuple[Clip, ...]) -> str:
    if not clips or not all(clip.state is None or clip.is_final for clip in clips):
        return TaskState.RUNNING
    if all(clip.state == ClipState.FAILED for clip in clips):
        return TaskState.FAILED
    return TaskState.SUCCEEDED


def _reason_of(clips: tuple[Clip, ...]) -> str | None:
    if clips and all(clip.state == ClipState.FAILED for clip in clips):
        return "failed: every clip failed"
    return None


def result_of(task: Task) -> GenerationResult:
    """Return the finished result of a succeeded task."""
    return GenerationResult(task_id=task.task_id, clips=task.clips, raw=task.raw)
