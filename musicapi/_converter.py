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
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar, cast

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from musicapi._errors import MalformedResponseError, RequestValidationError
from musicapi._models import (
    AlignedLyrics,
    AlignedWord,
    Bpm,
    Clip,
    ClipState,
    Credits,
    LyricsCandidate,
    LyricsResult,
    Midi,
    MidiInstrument,
    Persona,
    SonicBatch,
    SonicBatchItem,
    SonicBatchStatus,
    SonicCreateRequest,
    Task,
    TaskState,
    Upload,
    UpsampledTags,
    Vox,
    WavFile,
)
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
    converter.register_structure_hook(float, _finite)
    converter.register_structure_hook(int, _integer)
    converter.register_structure_hook(bool, _boolean)
    converter.register_structure_hook(str, _string)
    register_models(converter, Clip, Credits, TaskSubmission, *SONIC_TOOL_MODELS)


SONIC_TOOL_MODELS: tuple[type, ...] = (
    AlignedWord,
    Bpm,
    LyricsCandidate,
    LyricsResult,
    Midi,
    MidiInstrument,
    Persona,
    SonicBatch,
    SonicBatchItem,
    SonicBatchStatus,
    Upload,
    UpsampledTags,
    Vox,
    WavFile,
)
"""The results of the Sonic operations that answer at once (`_models/sonic_tools.py`)."""


def register_models(
    converter: cattrs.Converter,
    *models: type,
    fix: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Register, for each response model, the hook that keeps its whole mapping as `raw`.

    Call it before the first `structure` of these models: cattrs caches hooks (and the
    hooks of containers such as `tuple[Model, ...]`) on first use.

    Args:
        converter: The converter to configure.
        *models: The response models.
        fix: Normalises a copy of the mapping before the fields are read from it (a
            list sent where text is documented, ...); `raw` stays what was sent.
    """
    for model in models:
        converter.register_structure_hook(model, _keeping_raw(model, converter, fix))


def _number(value: Any, _: Any) -> int | float:
    """Keep an integer an integer (a balance of 100 prints as 100), accept numeric strings."""
    if isinstance(value, bool):
        raise TypeError("expected a number, got a boolean")
    if isinstance(value, int):
        return value
    return _finite(value, None)


def _finite(value: Any, _: Any) -> float:
    """Read a float (or a numeric string, as `"104.88"`), refusing NaN and infinities.

    JSON has neither, so one that arrives as a string (`"nan"`) is a malformed answer,
    not a number that would poison every comparison made with it (a karaoke lookup's
    bisect, a deadline).
    """
    if isinstance(value, bool):
        raise TypeError("expected a number, got a boolean")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {str(value)[:40]!r}")
    return number


def _integer(value: Any, _: Any) -> int:
    """Accept an integer, or a string or float holding one (`"81"`, `81.0`); never a bool."""
    if isinstance(value, bool):
        raise TypeError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    number = float(value) if isinstance(value, str) else value
    if isinstance(number, float) and number.is_integer():
        return int(number)
    raise TypeError(f"expected an integer, got {value!r}")


def _boolean(value: Any, _: Any) -> bool:
    """Accept a boolean, or `"true"`/`"false"`, `0`/`1`; cattrs' `bool("false")` is `True`."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise TypeError(f"expected a boolean, got {value!r}")


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


def _keeping_raw(
    cls: type[T],
    converter: cattrs.Converter,
    fix: Callable[[dict[str, Any]], None] | None = None,
) -> Callable[[Any, Any], T]:
    """Build a structure hook that ignores unknown keys but keeps the whole mapping as `raw`.

    With `fix`, the fields are read from a normalised copy (see `register_models`).
    """
    structure_fields = make_dict_structure_fn(
        cls, converter, raw=override(omit=True), _cattrs_forbid_extra_keys=False
    )

    def structure(value: Any, _: Any) -> T:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected a JSON object, got {type(value).__name__}")
        mapping = cast("Mapping[str, Any]", value)
        fields = mapping
        if fix is not None:
            fields = dict(mapping)
            fix(fields)
        instance = structure_fields(fields, cls)
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


def envelope_type(mapping: Mapping[str, Any], *, what: str) -> str | None:
    """Return the `type` of a status envelope (`not_ready`, `failed`, ...), if it has one.

    Raises:
        MalformedResponseError: `type` is there but is not a string.
    """
    kind = mapping.get("type")
    if kind is not None and not isinstance(kind, str):
        raise MalformedResponseError(
            f"malformed {what} in the API's answer: type is not a string", body=mapping
        )
    return kind or None


def failure_reason(kind: str, mapping: Mapping[str, Any]) -> str:
    """Return why a task failed: its failure `type`, and the envelope's text if any."""
    detail = mapping.get("error") or mapping.get("message")
    return f"{kind}: {detail}" if detail else kind


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
    kind = envelope_type(mapping, what="task") if mapping is not None else None
    if status_code == 202 or kind in NOT_READY_TYPES:
        return Task(task_id=task_id, state=TaskState.RUNNING, retry_after=retry_after, raw=raw)
    if mapping is None:
        raise MalformedResponseError(
            "malformed task in the API's answer: not a JSON object", body=body
        )
    if kind is not None:
        return Task(
            task_id=task_id, state=TaskState.FAILED, reason=failure_reason(kind, mapping), raw=raw
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


def _object(value: Any, *, what: str) -> Mapping[str, Any]:
    """Return `value` as a JSON object, or raise `MalformedResponseError` naming `what`."""
    if not isinstance(value, Mapping):
        raise MalformedResponseError(
            f"malformed {what} in the API's answer: expected a JSON object, "
            f"got {type(value).__name__}",
            body=value,
        )
    return cast("Mapping[str, Any]", value)


def data_of(body: Any, *, what: str) -> Mapping[str, Any]:
    """Return the `data` object of an answer shaped `{"code", "data": {...}, "message"}`.

    Raises:
        MalformedResponseError: The answer or its `data` is not a JSON object.
    """
    data = _object(body, what=what).get("data")
    if not isinstance(data, Mapping):
        raise MalformedResponseError(
            f"malformed {what} in the API's answer: data is not a JSON object", body=body
        )
    return cast("Mapping[str, Any]", data)


def structure_data(body: Any, cls: type[T], *, what: str, clip_id: str | None = None) -> T:
    """Structure the `data` object of an enveloped answer as `cls`, its `raw` that object.

    Args:
        body: The whole answer.
        cls: The result model.
        what: The answer's name, for messages.
        clip_id: The clip the request named, for results whose answer does not repeat
            it (`/sonic/wav`, `/sonic/midi`); it is not added to `raw`.
    """
    data = data_of(body, what=what)
    if clip_id is None:
        return structure(data, cls, what=f"{what}.data")
    result = structure({**data, "clip_id": clip_id}, cls, what=f"{what}.data")
    object.__setattr__(result, "raw", MappingProxyType(dict(data)))
    return result


def parse_lyrics(body: Any) -> LyricsResult:
    """Read the answer of `/sonic/lyrics`: `{"code", "results": [{"title", "lyrics"}], ...}`."""
    mapping = _object(body, what="lyrics answer")
    results = mapping.get("results")
    if not isinstance(results, list):
        raise MalformedResponseError(
            "malformed lyrics answer in the API's answer: results is not a list", body=body
        )
    candidates = structure(results, tuple[LyricsCandidate, ...], what="lyrics.results")
    return LyricsResult(candidates=candidates, raw=MappingProxyType(dict(mapping)))


def parse_aligned_lyrics(clip_id: str, body: Any) -> AlignedLyrics:
    """Read the answer of `/sonic/aligned-lyrics`: `{"data": {"alignment": [word, ...]}}`."""
    data = data_of(body, what="aligned lyrics")
    alignment = data.get("alignment")
    if not isinstance(alignment, list):
        raise MalformedResponseError(
            "malformed aligned lyrics in the API's answer: data.alignment is not a list",
            body=body,
        )
    words = structure(alignment, tuple[AlignedWord, ...], what="aligned_lyrics.data.alignment")
    return AlignedLyrics(clip_id=clip_id, words=words, raw=MappingProxyType(dict(data)))


def parse_midi(clip_id: str, body: Any) -> Midi:
    """Read the finished answer of `/sonic/midi`: `{"data": {"midi_url", "instruments"}}`."""
    return structure_data(body, Midi, what="midi answer", clip_id=clip_id)
