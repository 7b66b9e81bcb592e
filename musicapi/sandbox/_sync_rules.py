"""Validation of the bodies of the operations that answer at once (`_sync_ops.py`).

One table, `RULES`, written from api-reference.md §3.1, §3.2 and §3.5 and the gaps
filled by the wire plan; it is pinned to the docs, together with the SDK's own table,
by the shared vectors in `tests/vectors/sync_operation_rules.json`, not by shared code.

The first problem found is reported as `"<field>: <what is wrong>"` for a 400, as
`/sonic/create` reports it (`_validate.py`), and the reading of loose spots is the same:

* Every documented field has a type and none is nullable: `null`, a boolean where a
  number is due, or a number where a string is due is a 400 naming the field.
* JSON itself: `NaN`, `Infinity` and numbers beyond a double (`NonFinite` markers from
  `_http.parse_json`), and strings holding a lone surrogate, are a 400 naming the
  top-level field that holds them, documented or not. Other undocumented fields are
  ignored, as for `/sonic/create`.
* A required string that is empty counts as missing.
* `uri` fields (`url`, `share_link`) are absolute `http(s)` URLs with a valid host,
  checked as `webhook_url` is.
* Seconds (`vocal_start_s`, `vocal_end_s`) are not negative, and a window's end comes
  after its start (its start defaulting to 0), for `/sonic/vox` as the wire plan says
  and for `/sonic/persona`, whose window is the same vocal window. That the end is
  within the clip is checked by the handler, which knows the clip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from musicapi.sandbox._http import NonFinite
from musicapi.sandbox._validate import (
    NOT_TEXT,
    SURROGATE,
    json_type,
    unrepresentable,
    webhook_url_error,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["RULES", "Rule", "validate"]

_STRING, _NUMBER, _URI = "a string", "a number", "uri"


@attrs.frozen
class Rule:
    """What one field of a body must be.

    Attributes:
        name: The field.
        kind: `"a string"`, `"a number"` or `"uri"` (a string holding an absolute
            http(s) URL).
        required: Whether it must be present (and, for a string, not empty).
        max_length: The most characters a string may have.
        non_negative: Whether a number must be >= 0.
        after: For a number: the field it must be greater than (0 when that field
            is absent).
    """

    name: str
    kind: str
    required: bool = False
    max_length: int | None = None
    non_negative: bool = False
    after: str | None = None


_CLIP_ID = Rule("clip_id", _STRING, required=True)
_VOCAL_WINDOW = (
    Rule("vocal_start_s", _NUMBER, non_negative=True),
    Rule("vocal_end_s", _NUMBER, non_negative=True, after="vocal_start_s"),
)

RULES: dict[str, tuple[Rule, ...]] = {
    "sonic/lyrics": (Rule("description", _STRING, required=True, max_length=119),),
    "sonic/aligned-lyrics": (_CLIP_ID,),
    "sonic/bpm": (_CLIP_ID,),
    "sonic/upsample-tags": (Rule("tags", _STRING, required=True),),
    "sonic/persona": (
        Rule("name", _STRING, required=True, max_length=79),
        _CLIP_ID,
        Rule("describe", _STRING),
        Rule("vox_audio_id", _STRING),
        *_VOCAL_WINDOW,
        Rule("styles", _STRING, max_length=2000),
    ),
    "sonic/vox": (_CLIP_ID, *_VOCAL_WINDOW),
    "sonic/midi": (_CLIP_ID,),
    "sonic/wav": (_CLIP_ID,),
    "sonic/upload": (Rule("url", _URI, required=True),),
    "suno/get-song": (Rule("share_link", _URI, required=True),),
    "riffusion/upload": (Rule("url", _URI, required=True),),
}
"""Each operation's documented fields, in the order their problems are reported."""


def _type_error(rule: Rule, value: object) -> str | None:
    if rule.kind == _NUMBER:
        if isinstance(value, NonFinite):
            return "must be a finite number (JSON has no NaN or Infinity)"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return None
        return f"must be a number, not {json_type(value)}"
    if not isinstance(value, str):
        return f"must be a string, not {json_type(value)}"
    return NOT_TEXT if SURROGATE.search(value) else None


def _value_error(rule: Rule, value: Any, body: Mapping[str, Any]) -> str | None:
    """Check a value already known to have the rule's type."""
    if rule.required and value == "":
        return "required"
    if rule.max_length is not None and len(value) > rule.max_length:
        return f"at most {rule.max_length} characters (got {len(value)})"
    if rule.kind == _URI:
        return webhook_url_error(value)
    if rule.non_negative and value < 0:
        return "must not be negative"
    if rule.after is not None:
        floor = body.get(rule.after, 0)
        if value <= floor:
            return f"must be after {rule.after}" if rule.after in body else "must be positive"
    return None


def _shape_error(rules: tuple[Rule, ...], body: Mapping[str, Any]) -> str | None:
    """Check, in body order, every field's type (or, if undocumented, that it is JSON)."""
    if any(SURROGATE.search(name) for name in body):
        return "body: field names must be valid Unicode text"
    by_name = {rule.name: rule for rule in rules}
    for name, value in body.items():
        rule = by_name.get(name)
        problem = unrepresentable(value) if rule is None else _type_error(rule, value)
        if problem:
            return f"{name}: {problem}"
    return None


def validate(operation: str, body: Mapping[str, Any]) -> str | None:
    """Check the body of `operation` (a route name of `RULES`) against its rules.

    As for `/sonic/create`, the shape comes first (types, JSON-ness), then what is
    missing, then the values, so that the error names the first field a client should
    fix.

    Args:
        operation: The route name, such as `sonic/persona`.
        body: The parsed JSON object (from `_http.json_object`).

    Returns:
        `None` if the body is valid, else `"<field>: <what is wrong>"`.
    """
    rules = RULES[operation]
    error = _shape_error(rules, body)
    if error:
        return error
    for rule in rules:
        if rule.required and rule.name not in body:
            return f"{rule.name}: required"
    for rule in rules:
        problem = _value_error(rule, body[rule.name], body) if rule.name in body else None
        if problem:
            return f"{rule.name}: {problem}"
    return None
