"""Validation of `POST /sonic/create` bodies, as the real API documents it.

The rules come from api-reference.md §3.1 (fields, types, enums, limits) and §4.1
(required fields per task type, prompt length per model). The first problem found is
reported as `"<field>: <what is wrong>"`, the way the API names the offending field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CONCAT_COST",
    "GENERATE_COST",
    "KNOWN_MODELS",
    "TASK_TYPES",
    "cost_of",
    "validate_create",
]

TASK_TYPES = (
    "create_music",
    "extend_music",
    "concat_music",
    "cover_music",
    "extend_upload_music",
    "cover_upload_music",
    "persona_music",
    "remaster",
    "add_instrumental",
    "add_vocals",
)

GENERATE_COST = 15
"""Credits for every generate-type task (two songs), api-reference §3.8."""
CONCAT_COST = 2
"""Credits for `concat_music`, api-reference §3.8."""

_REQUIRED = {
    "create_music": ("custom_mode", "mv"),
    "extend_music": ("continue_clip_id", "continue_at", "custom_mode", "mv"),
    "extend_upload_music": ("continue_clip_id", "continue_at", "custom_mode", "mv"),
    "cover_music": ("continue_clip_id", "custom_mode", "mv"),
    "cover_upload_music": ("continue_clip_id", "custom_mode", "mv"),
    "persona_music": ("persona_id", "custom_mode", "mv"),
    "concat_music": ("continue_clip_id",),
    "remaster": ("continue_clip_id", "mv"),
    "add_instrumental": ("continue_clip_id", "mv"),
    "add_vocals": ("continue_clip_id", "mv"),
}

_STRINGS = (
    "task_type",
    "mv",
    "prompt",
    "lyrics",
    "gpt_description_prompt",
    "title",
    "tags",
    "negative_tags",
    "continue_clip_id",
    "persona_id",
    "vocal_gender",
    "variation_category",
    "webhook_url",
    "webhook_secret",
)
_BOOLEANS = ("custom_mode", "make_instrumental", "auto_lyrics")
_NUMBERS = (
    "continue_at",
    "style_weight",
    "weirdness_constraint",
    "audio_weight",
    "overpainting_start_s",
    "overpainting_end_s",
)
_MAX_LENGTH = {"title": 80, "gpt_description_prompt": 400, "tags": 200, "negative_tags": 200}
_UNIT_RANGE = ("style_weight", "weirdness_constraint", "audio_weight")
_NON_NEGATIVE = ("continue_at", "overpainting_start_s", "overpainting_end_s")
_ENUMS = {"vocal_gender": ("f", "m"), "variation_category": ("subtle", "normal", "high")}
_SHORT_PROMPT_MODELS = ("sonic-v3-5", "sonic-v4")
KNOWN_MODELS = ("sonic-v3-5", "sonic-v4", "sonic-v4-5", "sonic-v4-5-plus", "sonic-v5", "sonic-v5-5")
"""The documented `mv` values (§3.1); any other `sonic-*` name is accepted too."""


def cost_of(task_type: str) -> int:
    """Return the credits a task of `task_type` costs."""
    return CONCAT_COST if task_type == "concat_music" else GENERATE_COST


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_error(body: Mapping[str, Any]) -> str | None:
    for name in _STRINGS:
        if body.get(name) is not None and not isinstance(body[name], str):
            return f"{name}: must be a string"
    for name in _BOOLEANS:
        if body.get(name) is not None and not isinstance(body[name], bool):
            return f"{name}: must be a boolean"
    for name in _NUMBERS:
        if body.get(name) is not None and not _is_number(body[name]):
            return f"{name}: must be a number"
    return None


def _limit_error(body: Mapping[str, Any], mv: str | None) -> str | None:
    limits = dict(_MAX_LENGTH)
    limits["prompt"] = limits["lyrics"] = 3000 if mv in _SHORT_PROMPT_MODELS else 5000
    for name, limit in limits.items():
        if len(body.get(name) or "") > limit:
            return f"{name}: at most {limit} characters (got {len(body[name])})"
    for name in _UNIT_RANGE:
        if body.get(name) is not None and not 0 <= body[name] <= 1:
            return f"{name}: must be between 0 and 1"
    for name in _NON_NEGATIVE:
        if body.get(name) is not None and body[name] < 0:
            return f"{name}: must not be negative"
    for name, allowed in _ENUMS.items():
        if body.get(name) is not None and body[name] not in allowed:
            return f"{name}: must be one of {', '.join(allowed)}"
    return None


def _mode_error(body: Mapping[str, Any]) -> str | None:
    custom_mode = body.get("custom_mode")
    if body.get("auto_lyrics") and custom_mode is not True:
        return "auto_lyrics: only allowed with custom_mode true"
    if custom_mode is False and not body.get("gpt_description_prompt"):
        return "gpt_description_prompt: required when custom_mode is false"
    if (
        custom_mode is True
        and not (body.get("prompt") or body.get("lyrics"))
        and not (body.get("make_instrumental") or body.get("auto_lyrics"))
    ):
        return "prompt: required in custom mode unless make_instrumental or auto_lyrics is true"
    url = body.get("webhook_url")
    if url is not None and not url.startswith(("http://", "https://")):
        return "webhook_url: must be an http(s) URL"
    return None


def validate_create(body: Mapping[str, Any]) -> str | None:
    """Check a create body against the documented rules.

    Whether `continue_clip_id` names a known clip is not checked here: that needs the
    sandbox's state and answers 404, not 400.

    Args:
        body: The parsed JSON object of the request.

    Returns:
        `None` if the body is valid, else `"<field>: <what is wrong>"`.
    """
    error = _type_error(body)
    if error:
        return error
    task_type = body.get("task_type") or "create_music"
    if task_type not in TASK_TYPES:
        return f"task_type: must be one of {', '.join(TASK_TYPES)}"
    for name in _REQUIRED[task_type]:
        if body.get(name) is None or body.get(name) == "":
            return f"{name}: required for task_type {task_type}"
    mv = body.get("mv")
    if mv is not None and not mv.startswith("sonic-"):
        return f"mv: unknown model {mv!r} (known: {', '.join(KNOWN_MODELS)})"
    return _limit_error(body, mv) or _mode_error(body)
