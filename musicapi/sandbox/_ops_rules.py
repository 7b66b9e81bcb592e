"""Validation of every task-creating body but `/sonic/create`'s, as a table per operation.

`/sonic/create` has its own hand-written rules (`_validate.py`); the other operations
have simpler bodies, so each is a table of fields (`Rule`: JSON type, required,
length, range, enum, item count) plus a few cross-field `Check`s (one of two fields, an
end after a start, a limit that depends on the model). The tables follow
api-reference.md §3 and §4 field by field; like `_validate.py` they are written from the
docs and not shared with the SDK, and `tests/vectors/task_operation_rules.json` pins
both sides to the same reading.

Conventions, the same as `/sonic/create`'s: the first problem is reported as
`"<field>: <what>"`; `null` is not a value of any documented field; `true`/`false` are
not numbers; NaN, Infinity and numbers beyond a double are a 400 naming the field;
an empty string counts as missing for a required field; fields the docs do not list
are ignored but must still be valid JSON text. Every table accepts `webhook_url` and
`webhook_secret` (§5: "any task"), checked as on `/sonic/create`.

Our readings where the docs are thin:

* Studio's `prompt_strength`, `clarity_strength`, `lyrics_strength` and
  `generation_quality` are between 0 and 1 (Udio's sliders); its windows
  (`song_section_*`, `lyrics_placement_*`) end after they start.
* Producer: `extend_*`, `replace_*` and `cover_music` need `clip_id`; `replace_*`
  need the window `starts_at` < `ends_at`.
* Riffusion: every task type but `create_music` needs `continue_clip_id`; `replace_*`
  need `replace_start_time` < `replace_end_time`.
* Nuro BGM: `duration` is at most 60 seconds in the v1.0 shape and 240 with
  `version: "v2.0"`, and `segments` (each `{name, duration}`) need `v2.0`.
* Sonic operations take a `sonic-*` `mv`; `vocal_gender` needs `sonic-v4-5` or newer
  and `prompt` is at most 3000 characters on `sonic-v3-5`/`sonic-v4`, as on create.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import attrs

from musicapi.sandbox._http import NonFinite
from musicapi.sandbox._validate import (
    NOT_TEXT,
    SURROGATE,
    json_type,
    unrepresentable,
    webhook_url_error,
)

__all__ = [
    "OPERATIONS",
    "PRODUCER_TASK_TYPES",
    "PRODUCER_WITHDRAWN",
    "RIFFUSION_TASK_TYPES",
    "Rule",
    "validate_operation",
]

STRING, BOOLEAN, NUMBER, INTEGER = "a string", "a boolean", "a number", "a whole number"
OBJECT, URI, STRINGS, OBJECTS = "an object", "a URL", "an array of strings", "an array of objects"
NUMBER_OR_STRING = "a number or a string"

Check = Callable[[Mapping[str, Any]], "str | None"]
"""A cross-field rule: `"<field>: <what>"` for a body that breaks it, else `None`."""


@attrs.frozen
class Rule:
    """The documented rules of one field.

    Attributes:
        kind: Its JSON type (one of this module's kind constants).
        required: Whether it must be given (an empty string counts as missing).
        max_length: The most characters of a string.
        minimum: The least value of a number (inclusive).
        maximum: The greatest value of a number (inclusive).
        choices: The allowed values of a string, if it is an enum.
        items: The least and most items of an array.
    """

    kind: str
    required: bool = False
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    items: tuple[int, int] | None = None


@attrs.frozen
class _Table:
    fields: dict[str, Rule]
    checks: tuple[Check, ...] = ()


# -- cross-field checks ----------------------------------------------------------------

_SHORT_PROMPT_MODELS = ("sonic-v3-5", "sonic-v4")
REPLACE_MODELS = ("sonic-v4", "sonic-v4-5", "sonic-v4-5-plus", "sonic-v5", "sonic-v5-5")
PRODUCER_TASK_TYPES = (
    "create_music",
    "extend_music",
    "extend_upload_music",
    "replace_music",
    "replace_upload_music",
    "cover_music",
)
PRODUCER_WITHDRAWN = ("music_variation", "swap_music_vocals", "swap_music_sound")
"""Producer task types the upstream platform dropped: a 410 (api-reference §4.2)."""
RIFFUSION_TASK_TYPES = (
    "create_music",
    "extend_music",
    "cover_music",
    "extend_upload_music",
    "cover_upload_music",
    "replace_music",
    "replace_upload_music",
    "swap_music_sound",
    "swap_upload_music_sound",
    "swap_music_vocals",
    "swap_upload_music_vocals",
)
_FUZZ_MODELS = ("FUZZ-1.1 Pro", "FUZZ-1.1", "FUZZ-1.0 Pro", "FUZZ-1.0")
_TIMBRES = (
    "Warm",
    "Bright",
    "Husky",
    "Electrified voice",
    "Sweet_AUDIO_TIMBRE",
    "Cute_AUDIO_TIMBRE",
    "Loud and sonorous",
    "Powerful",
    "Sexy/Lazy",
)


def _given(body: Mapping[str, Any], name: str) -> bool:
    return body.get(name) not in (None, "")


def _sonic_model(body: Mapping[str, Any]) -> str | None:
    """`mv` is a Sonic model; `vocal_gender` and the prompt length depend on it (§4.1)."""
    mv = body.get("mv")
    if mv is None:
        return None
    if not mv.startswith("sonic-"):
        return f"mv: unknown model {mv!r} (a sonic-* model, e.g. sonic-v5)"
    if "vocal_gender" in body and mv in _SHORT_PROMPT_MODELS:
        return f"vocal_gender: needs sonic-v4-5 or newer, not {mv}"
    limit = 3000 if mv in _SHORT_PROMPT_MODELS else 5000
    if len(body.get("prompt") or "") > limit:
        return f"prompt: at most {limit} characters on {mv}"
    return None


def _auto_lyrics(body: Mapping[str, Any]) -> str | None:
    if body.get("auto_lyrics") and body.get("custom_mode") is not True:
        return "auto_lyrics: only allowed with custom_mode true"
    return None


def _replace_model(body: Mapping[str, Any]) -> str | None:
    if body.get("mv") not in REPLACE_MODELS:
        return f"mv: must be one of {', '.join(REPLACE_MODELS)} (replace-section has no sonic-v3-5)"
    return None


def _window(start: str, end: str, *, required: bool = False) -> Check:
    """A check that `end` comes after `start` (and, if `required`, that both are given)."""

    def check(body: Mapping[str, Any]) -> str | None:
        if required:
            for name in (start, end):
                if body.get(name) is None:
                    return f"{name}: required for task_type {body.get('task_type')}"
        if body.get(start) is not None and body.get(end) is not None and body[end] <= body[start]:
            return f"{end}: must be after {start}"
        return None

    return check


def _when_task_type(prefix: str, check: Check) -> Check:
    """Apply `check` only to bodies whose `task_type` starts with `prefix`."""

    def gated(body: Mapping[str, Any]) -> str | None:
        return check(body) if str(body.get("task_type") or "").startswith(prefix) else None

    return gated


def _needs_source(name: str) -> Check:
    """Every task type but `create_music` works on a clip named by `name`."""

    def check(body: Mapping[str, Any]) -> str | None:
        task_type = body.get("task_type") or "create_music"
        if task_type != "create_music" and not _given(body, name):
            return f"{name}: required for task_type {task_type}"
        return None

    return check


def _one_sample_source(body: Mapping[str, Any]) -> str | None:
    url, clip = _given(body, "url"), _given(body, "sample_clip_id")
    if url and clip:
        return "url: give either url or sample_clip_id, not both"
    if not (url or clip):
        return "url: required unless sample_clip_id is given"
    return None


def _bgm_duration(body: Mapping[str, Any]) -> str | None:
    v2 = body.get("version") == "v2.0"
    if not v2 and (body.get("duration") or 0) > 60:
        return "duration: at most 60 seconds (240 with version v2.0)"
    segments = body.get("segments")
    if segments is None:
        return None
    if not v2:
        return "segments: only with version v2.0"
    for segment in cast("list[dict[str, Any]]", segments):
        name, seconds = segment.get("name"), segment.get("duration")
        if not isinstance(name, str) or not name:
            return "segments: each segment needs a name (a non-empty string)"
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            return "segments: each segment needs a duration (a positive number of seconds)"
    return None


# -- the tables -------------------------------------------------------------------------

_WEBHOOK = {"webhook_url": Rule(URI), "webhook_secret": Rule(STRING)}
_UNIT = Rule(NUMBER, minimum=0, maximum=1)
_SECONDS = Rule(NUMBER, minimum=0)
_REQUIRED_SECONDS = Rule(NUMBER, required=True, minimum=0)
_CLIP = {"clip_id": Rule(STRING, required=True)}
_SONIC_STYLE = {
    "custom_mode": Rule(BOOLEAN, required=True),
    "mv": Rule(STRING, required=True),
    "prompt": Rule(STRING),
    "gpt_description_prompt": Rule(STRING, max_length=400),
    "make_instrumental": Rule(BOOLEAN),
    "title": Rule(STRING, max_length=80),
    "tags": Rule(STRING, max_length=200),
    "negative_tags": Rule(STRING, max_length=200),
    "style_weight": _UNIT,
    "weirdness_constraint": _UNIT,
    "audio_weight": _UNIT,
    "vocal_gender": Rule(STRING, choices=("f", "m")),
}
_UPLOAD_STYLE = {"url": Rule(URI, required=True), **_SONIC_STYLE, "auto_concat": Rule(BOOLEAN)}

_TABLES: dict[str, _Table] = {
    "sonic/create-voice": _Table({"audio_url": Rule(URI, required=True), **_WEBHOOK}),
    "sonic/stems/basic": _Table({**_CLIP, **_WEBHOOK}),
    "sonic/stems/full": _Table({**_CLIP, **_WEBHOOK}),
    "sonic/mashup": _Table(
        {
            "mashup_clip_ids": Rule(STRINGS, required=True, items=(2, 2)),
            **_SONIC_STYLE,
            "auto_lyrics": Rule(BOOLEAN),
            **_WEBHOOK,
        },
        (_sonic_model, _auto_lyrics),
    ),
    "sonic/replace-section": _Table(
        {
            **_CLIP,
            "mv": Rule(STRING, required=True),
            "infill_start_s": _REQUIRED_SECONDS,
            "infill_end_s": _REQUIRED_SECONDS,
            "prompt": Rule(STRING, max_length=5000),
            "infill_lyrics": Rule(STRING, max_length=3000),
            "title": Rule(STRING, max_length=80),
            "tags": Rule(STRING, max_length=1000),
            "negative_tags": Rule(STRING, max_length=200),
            "style_weight": _UNIT,
            "weirdness_constraint": _UNIT,
            "vocal_gender": Rule(STRING, choices=("f", "m")),
            "auto_concat": Rule(BOOLEAN),
            **_WEBHOOK,
        },
        (_replace_model, _sonic_model, _window("infill_start_s", "infill_end_s")),
    ),
    "sonic/sample": _Table(
        {
            "url": Rule(URI),
            "sample_clip_id": Rule(STRING),
            "chop_sample_start_s": _REQUIRED_SECONDS,
            "chop_sample_end_s": _REQUIRED_SECONDS,
            **_SONIC_STYLE,
            "make_instrumental": Rule(BOOLEAN, required=True),
            "auto_lyrics": Rule(BOOLEAN),
            **_WEBHOOK,
        },
        (
            _one_sample_source,
            _window("chop_sample_start_s", "chop_sample_end_s"),
            _sonic_model,
            _auto_lyrics,
        ),
    ),
    "sonic/upload-cover": _Table({**_UPLOAD_STYLE, **_WEBHOOK}, (_sonic_model,)),
    "sonic/upload-extend": _Table(
        {**_UPLOAD_STYLE, "continue_at": _SECONDS, **_WEBHOOK}, (_sonic_model,)
    ),
    "suno/make-lyrics": _Table({"prompt": Rule(STRING, required=True, max_length=119), **_WEBHOOK}),
    "producer/create": _Table(
        {
            "task_type": Rule(STRING, choices=PRODUCER_TASK_TYPES),
            "sound": Rule(STRING),
            "lyrics": Rule(STRING),
            "title": Rule(STRING, max_length=80),
            "mv": Rule(STRING),
            "seed": Rule(NUMBER_OR_STRING),
            "clip_id": Rule(STRING),
            "starts_at": _SECONDS,
            "ends_at": _SECONDS,
            "bpm": Rule(NUMBER_OR_STRING),
            "length": Rule(NUMBER, minimum=1, maximum=240),
            "instruction": Rule(STRING),
            "extend_s": _SECONDS,
            "strength": _UNIT,
            "cover_strength": _UNIT,
            **_WEBHOOK,
        },
        (
            _needs_source("clip_id"),
            _when_task_type("replace_", _window("starts_at", "ends_at", required=True)),
            _window("starts_at", "ends_at"),
        ),
    ),
    "producer/upload": _Table({"audio_url": Rule(URI, required=True), **_WEBHOOK}),
    "producer/download": _Table(
        {**_CLIP, "format": Rule(STRING, choices=("mp3", "wav")), **_WEBHOOK}
    ),
    "studio/create": _Table(
        {
            "prompt": Rule(STRING, required=True),
            "lyrics_type": Rule(STRING, required=True),
            "prompt_strength": Rule(NUMBER, required=True, minimum=0, maximum=1),
            "clarity_strength": Rule(NUMBER, required=True, minimum=0, maximum=1),
            "lyrics_strength": Rule(NUMBER, required=True, minimum=0, maximum=1),
            "generation_quality": Rule(NUMBER, required=True, minimum=0, maximum=1),
            "model_type": Rule(STRING, required=True),
            "config": Rule(OBJECT, required=True),
            "lyrics": Rule(STRING, max_length=1000),
            "bypass_prompt_optimization": Rule(BOOLEAN),
            "seed": Rule(NUMBER),
            "song_section_start": _SECONDS,
            "song_section_end": _SECONDS,
            "lyrics_placement_start": _SECONDS,
            "lyrics_placement_end": _SECONDS,
            "negative_prompt": Rule(STRING),
            **_WEBHOOK,
        },
        (
            _window("song_section_start", "song_section_end"),
            _window("lyrics_placement_start", "lyrics_placement_end"),
        ),
    ),
    "riffusion/create": _Table(
        {
            "task_type": Rule(STRING, choices=RIFFUSION_TASK_TYPES),
            "mv": Rule(STRING, choices=_FUZZ_MODELS),
            "custom_mode": Rule(BOOLEAN),
            "lyrics": Rule(STRING, max_length=3000),
            "prompt": Rule(STRING, max_length=200),
            "sound": Rule(STRING, max_length=200),
            "title": Rule(STRING, max_length=80),
            "make_instrumental": Rule(BOOLEAN),
            "vocal_variation": _UNIT,
            "continue_clip_id": Rule(STRING),
            "continue_at": _SECONDS,
            "replace_start_time": _SECONDS,
            "replace_end_time": _SECONDS,
            **_WEBHOOK,
        },
        (
            _needs_source("continue_clip_id"),
            _when_task_type(
                "replace_", _window("replace_start_time", "replace_end_time", required=True)
            ),
            _window("replace_start_time", "replace_end_time"),
        ),
    ),
    "nuro/create:vocal": _Table(
        {
            "type": Rule(STRING, required=True),
            "lyrics": Rule(STRING, required=True, max_length=2000),
            "gender": Rule(STRING, choices=("Female", "Male")),
            "genre": Rule(STRING),
            "mood": Rule(STRING),
            "timbre": Rule(STRING, choices=_TIMBRES),
            "duration": Rule(INTEGER, minimum=30, maximum=240),
            **_WEBHOOK,
        }
    ),
    "nuro/create:bgm": _Table(
        {
            "type": Rule(STRING, required=True),
            "description": Rule(STRING, required=True),
            "genre": Rule(STRINGS, items=(0, 5)),
            "mood": Rule(STRINGS, items=(0, 5)),
            "instrument": Rule(STRINGS, items=(0, 5)),
            "theme": Rule(STRINGS, items=(0, 5)),
            "duration": Rule(INTEGER, minimum=1, maximum=240),
            "version": Rule(STRING),
            "segments": Rule(OBJECTS),
            **_WEBHOOK,
        },
        (_bgm_duration,),
    ),
}
_NURO_TYPE = _Table({"type": Rule(STRING, required=True, choices=("vocal", "bgm"))})

OPERATIONS: tuple[str, ...] = (
    *(name for name in _TABLES if not name.startswith("nuro/")),
    "nuro/create",
)
"""The operations `validate_operation` knows."""


# -- the engine -------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and not SURROGATE.search(value)


def _has_type(kind: str, value: object) -> bool:
    if kind in (STRING, URI):
        return _is_text(value)
    if kind == BOOLEAN:
        return isinstance(value, bool)
    if kind == NUMBER:
        return _is_number(value)
    if kind == INTEGER:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            or (isinstance(value, float) and value.is_integer())
        )
    if kind == NUMBER_OR_STRING:
        return _is_number(value) or _is_text(value)
    if kind == OBJECT:
        return isinstance(value, dict) and unrepresentable(cast("object", value)) is None
    if kind == STRINGS:
        return isinstance(value, list) and all(
            _is_text(item) for item in cast("list[object]", value)
        )
    return (
        isinstance(value, list)
        and all(isinstance(item, dict) for item in cast("list[object]", value))
        and unrepresentable(cast("object", value)) is None
    )


def _type_error(name: str, rule: Rule, value: object) -> str | None:
    if _has_type(rule.kind, value):
        return None
    numeric = rule.kind in (NUMBER, INTEGER, NUMBER_OR_STRING)
    if isinstance(value, NonFinite) and numeric:
        return f"{name}: must be a finite number (JSON has no NaN or Infinity)"
    if isinstance(value, str) and SURROGATE.search(value):
        return f"{name}: {NOT_TEXT}"
    problem = unrepresentable(value)
    if problem is not None:
        return f"{name}: {problem}"
    return f"{name}: must be {rule.kind}, not {json_type(value)}"


def _limit_error(name: str, rule: Rule, value: Any) -> str | None:
    if rule.max_length is not None and isinstance(value, str) and len(value) > rule.max_length:
        return f"{name}: at most {rule.max_length} characters (got {len(value)})"
    if _is_number(value):
        number = cast("float", value)  # an int stays an int: no overflow
        low, high = rule.minimum, rule.maximum
        if (low is not None and number < low) or (high is not None and number > high):
            if high is None:
                return f"{name}: must not be less than {low:g}"
            return f"{name}: must be between {low:g} and {high:g}"
    if rule.choices and value not in rule.choices:
        return f"{name}: must be one of {', '.join(rule.choices)}"
    if rule.items is not None:
        least, most = rule.items
        count = len(cast("list[object]", value))
        if not least <= count <= most:
            wanted = f"exactly {least}" if least == most else f"{least} to {most}"
            return f"{name}: must hold {wanted} items (got {count})"
    if rule.kind == URI:
        problem = webhook_url_error(value)
        if problem:
            return f"{name}: {problem}"
    return None


def _table_error(table: _Table, body: Mapping[str, Any]) -> str | None:
    for name, value in body.items():
        rule = table.fields.get(name)
        if rule is None:
            problem = unrepresentable(value)
            error = f"{name}: {problem}" if problem else None
        else:
            error = _type_error(name, rule, value)
        if error:
            return error
    for name, rule in table.fields.items():
        if rule.required and (body.get(name) is None or body.get(name) == ""):
            return f"{name}: required"
    for name, rule in table.fields.items():
        if name in body:
            error = _limit_error(name, rule, body[name])
            if error:
                return error
    if body.get("webhook_secret") == "":
        return "webhook_secret: must not be empty"
    for check in table.checks:
        error = check(body)
        if error:
            return error
    return None


def validate_operation(operation: str, body: Mapping[str, Any]) -> str | None:
    """Check the body of `operation` (a route name, e.g. `sonic/mashup`) against its table.

    Whether referenced clips exist is not checked here: that needs the sandbox's state
    and answers 404, not 400.

    Args:
        operation: One of `OPERATIONS`.
        body: The parsed JSON object (non-finite numbers as `NonFinite` markers).

    Returns:
        `None` if the body is valid, else `"<field>: <what is wrong>"`.

    Raises:
        KeyError: `operation` has no table.
    """
    if any(SURROGATE.search(name) for name in body):
        return "body: field names must be valid Unicode text"
    if operation == "nuro/create":
        kind = body.get("type")
        type_error = _table_error(_NURO_TYPE, {"type": kind} if "type" in body else {})
        if type_error:
            return type_error
        operation = f"nuro/create:{kind}"
    return _table_error(_TABLES[operation], body)
