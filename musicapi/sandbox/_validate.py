"""Validation of `POST /sonic/create` bodies, as the real API documents it.

The rules come from api-reference.md §3.1 (fields, types, enums, limits) and §4.1
(required fields per task type, prompt length per model). They are written here from
the docs, not shared with the SDK's `musicapi._validation`: the two tables are pinned to
the docs by one set of test vectors (`tests/vectors/sonic_create_rules.json`), so a
misreading on one side shows up as a disagreement instead of hiding on both.

The first problem found is reported as `"<field>: <what is wrong>"`, the way the API
names the offending field, in a 400 `{"error": ...}`.

Where the docs are silent or loose, this is our reading:

* Types (§3.1). Every documented field has a type and none is marked nullable, so
  `null` is a 400 for each of them (the SDK never sends `null`: it leaves a field out).
  `true`/`false` are not numbers. Fields the docs do not list are ignored, as an API
  that grows new fields ignores them, but they must still be valid JSON text.
* JSON itself. RFC 8259 has no `NaN` or `Infinity`, and `1e999` has no finite value:
  any of them is a 400 naming the top-level field that holds it. A string holding a
  lone surrogate (U+D800 to U+DFFF, which JSON can carry as an escape) is not Unicode
  text that UTF-8 can encode: a 400 naming the field, not a crash later when the text
  is hashed or sent.
* Required fields per task type (§4.1): as listed there. `remaster`,
  `add_instrumental` and `add_vocals` are not listed ("exact requirements not found");
  they rework an existing clip with a model, so they need `continue_clip_id` and `mv`.
  An empty string counts as missing.
* Mode rules apply to `create_music` only: in description mode
  (`custom_mode: false`) it needs `gpt_description_prompt`; in custom mode it needs
  `prompt` (or its alias `lyrics`) unless `make_instrumental` or `auto_lyrics` is true.
  Every other task type starts from a source (a clip or a persona) that already carries
  a song, so neither a prompt nor a description is required, and `custom_mode` may be
  either value: it only says how to read `prompt`/`tags` when they are given.
* `auto_lyrics: true` needs `custom_mode: true` (§4.1 states it for every task type).
* `prompt` and `lyrics` are aliases (§3.1): both given with different text is a 400 on
  `lyrics`.
* `vocal_gender` needs `sonic-v4-5` or newer (§4.1's table says "no" for v3-5 and v4).
* `overpainting_end_s` must come after `overpainting_start_s`; both, and
  `continue_at`, are seconds and so not negative.
* `webhook_url` (`string (uri)`, §5) must be an absolute `http(s)` URL whose host is
  valid: an IPv4 or bracketed IPv6 address, or a DNS name whose labels are 1 to 63
  letters, digits, `-` or `_` (not starting or ending with `-`) after IDNA encoding, and
  whose `xn--` labels decode. No spaces or control characters anywhere, at most one
  `@`, a port from 1 to 65535. `webhook_secret`, when given, is not empty.
* `mv`: the documented names and any other `sonic-*` name are accepted (§7: the list
  grows); a name of another family (`chirp-v5`) is a 400. The SDK deliberately does
  not gate `mv` at all (§7); the server does.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any, cast

from musicapi.sandbox._http import NonFinite

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CONCAT_COST",
    "FIELD_TYPES",
    "GENERATE_COST",
    "KNOWN_MODELS",
    "SURROGATE",
    "TASK_TYPES",
    "cost_of",
    "json_type",
    "unrepresentable",
    "validate_create",
    "webhook_url_error",
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

_STRING, _BOOLEAN, _NUMBER = "a string", "a boolean", "a number"
FIELD_TYPES: dict[str, str] = {
    "task_type": _STRING,
    "mv": _STRING,
    "custom_mode": _BOOLEAN,
    "prompt": _STRING,
    "lyrics": _STRING,
    "gpt_description_prompt": _STRING,
    "title": _STRING,
    "tags": _STRING,
    "negative_tags": _STRING,
    "make_instrumental": _BOOLEAN,
    "continue_clip_id": _STRING,
    "continue_at": _NUMBER,
    "persona_id": _STRING,
    "style_weight": _NUMBER,
    "weirdness_constraint": _NUMBER,
    "vocal_gender": _STRING,
    "auto_lyrics": _BOOLEAN,
    "audio_weight": _NUMBER,
    "variation_category": _STRING,
    "overpainting_start_s": _NUMBER,
    "overpainting_end_s": _NUMBER,
    "webhook_url": _STRING,
    "webhook_secret": _STRING,
}
"""Every documented field of the create body (§3.1) and its JSON type."""

_MAX_LENGTH = {"title": 80, "gpt_description_prompt": 400, "tags": 200, "negative_tags": 200}
_UNIT_RANGE = ("style_weight", "weirdness_constraint", "audio_weight")
_NON_NEGATIVE = ("continue_at", "overpainting_start_s", "overpainting_end_s")
_ENUMS = {"vocal_gender": ("f", "m"), "variation_category": ("subtle", "normal", "high")}
_SHORT_PROMPT_MODELS = ("sonic-v3-5", "sonic-v4")
KNOWN_MODELS = ("sonic-v3-5", "sonic-v4", "sonic-v4-5", "sonic-v4-5-plus", "sonic-v5", "sonic-v5-5")
"""The documented `mv` values (§3.1); any other `sonic-*` name is accepted too."""

SURROGATE = re.compile("[\ud800-\udfff]")
"""A lone surrogate: text that JSON can carry as an escape but UTF-8 cannot encode."""
NOT_TEXT = "must be valid Unicode text (a lone surrogate cannot be encoded as UTF-8)"
"""What is wrong with text that holds a lone surrogate."""
NOT_JSON = "must not hold NaN, Infinity or a number beyond a double (not JSON)"
"""What is wrong with a value that holds a `NonFinite` marker."""
_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://"
    r"(?P<authority>[^/?#]*)"
    r"(?P<rest>[/?#].*)?",
    re.DOTALL,
)
_PORT = re.compile(r"[0-9]{1,5}")
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def cost_of(task_type: str) -> int:
    """Return the credits a task of `task_type` costs."""
    return CONCAT_COST if task_type == "concat_music" else GENERATE_COST


def json_type(value: object) -> str:
    """Name the JSON type of a parsed value, for messages (`a number`, `null`).

    A `NonFinite` marker (`NaN`, `Infinity`, a number beyond a double) is named as such.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, NonFinite):
        return "NaN or Infinity"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def unrepresentable(value: object) -> str | None:
    """Say what in `value` (walked without recursion) no valid JSON text can hold."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, NonFinite):
            return NOT_JSON
        if isinstance(item, str) and SURROGATE.search(item):
            return NOT_TEXT
        if isinstance(item, list):
            stack.extend(cast("list[object]", item))
        elif isinstance(item, dict):
            mapping = cast("dict[str, object]", item)
            if any(SURROGATE.search(key) for key in mapping):
                return NOT_TEXT
            stack.extend(mapping.values())
    return None


def _field_error(name: str, value: object) -> str | None:
    kind = FIELD_TYPES[name]
    if kind == _NUMBER and isinstance(value, NonFinite):
        return f"{name}: must be a finite number (JSON has no NaN or Infinity)"
    if kind == _STRING and isinstance(value, str):
        if SURROGATE.search(value):
            return f"{name}: {NOT_TEXT}"
        return None
    if kind == _BOOLEAN and isinstance(value, bool):
        return None
    if kind == _NUMBER and isinstance(value, (int, float)) and not isinstance(value, bool):
        return None
    return f"{name}: must be {kind}, not {json_type(value)}"


def _shape_error(body: Mapping[str, Any]) -> str | None:
    if any(SURROGATE.search(name) for name in body):
        return "body: field names must be valid Unicode text"
    for name, value in body.items():
        if name in FIELD_TYPES:
            error = _field_error(name, value)
        else:
            problem = unrepresentable(value)
            error = f"{name}: {problem}" if problem else None
        if error:
            return error
    return None


def _limit_error(body: Mapping[str, Any], mv: str | None) -> str | None:
    limits = dict(_MAX_LENGTH)
    limits["prompt"] = limits["lyrics"] = 3000 if mv in _SHORT_PROMPT_MODELS else 5000
    for name, limit in limits.items():
        if len(body.get(name) or "") > limit:
            return f"{name}: at most {limit} characters (got {len(body[name])})"
    for name in _UNIT_RANGE:
        if name in body and not 0 <= body[name] <= 1:
            return f"{name}: must be between 0 and 1"
    for name in _NON_NEGATIVE:
        if name in body and body[name] < 0:
            return f"{name}: must not be negative"
    for name, allowed in _ENUMS.items():
        if name in body and body[name] not in allowed:
            return f"{name}: must be one of {', '.join(allowed)}"
    if "vocal_gender" in body and mv in _SHORT_PROMPT_MODELS:
        return f"vocal_gender: needs sonic-v4-5 or newer, not {mv}"
    start, end = body.get("overpainting_start_s"), body.get("overpainting_end_s")
    if start is not None and end is not None and end <= start:
        return "overpainting_end_s: must be after overpainting_start_s"
    return None


def _mode_error(body: Mapping[str, Any], task_type: str) -> str | None:
    custom_mode = body.get("custom_mode")
    prompt, lyrics = body.get("prompt"), body.get("lyrics")
    if prompt is not None and lyrics is not None and prompt != lyrics:
        return "lyrics: an alias of prompt; give one, or the same text in both"
    if body.get("auto_lyrics") and custom_mode is not True:
        return "auto_lyrics: only allowed with custom_mode true"
    if task_type != "create_music":
        return None
    if custom_mode is False and not body.get("gpt_description_prompt"):
        return "gpt_description_prompt: required when custom_mode is false"
    if (
        custom_mode is True
        and not (prompt or lyrics)
        and not (body.get("make_instrumental") or body.get("auto_lyrics"))
    ):
        return "prompt: required in custom mode unless make_instrumental or auto_lyrics is true"
    return None


def _host_error(host: str) -> str | None:
    """Say why `host` (no brackets, no port) is not a valid host, or `None`."""
    name = host[:-1] if host.endswith(".") else host
    if not name:
        return "has no host"
    if name.rpartition(".")[2].isdigit():  # a numeric last label can only be IPv4
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            return f"has an invalid IPv4 address {host!r}"
        return None
    try:
        encoded = name.encode("idna").decode("ascii")
    except UnicodeError:
        return "has an invalid host name"
    if len(encoded) > 253:
        return "has a host name longer than 253 characters"
    for label in encoded.split("."):
        if not _LABEL.fullmatch(label) or label.startswith("-") or label.endswith("-"):
            return "has an invalid host name"
        if label[:4].lower() == "xn--":
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                return f"has an invalid IDNA label {label!r}"
    return None


def webhook_url_error(url: str) -> str | None:
    """Say why `url` cannot receive webhooks (an absolute http(s) URL, valid host), or `None`."""
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        return "must not contain spaces or control characters"
    match = _URL.fullmatch(url)
    if match is None or match["scheme"].lower() not in ("http", "https"):
        return "must be an absolute http(s) URL"
    authority = match["authority"]
    if authority.count("@") > 1:
        return "has more than one '@' before the host"
    hostport = authority.rpartition("@")[2]
    if hostport.startswith("["):
        literal, bracket, port = hostport[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return "has an invalid IPv6 address"
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return "has an invalid IPv6 address"
        port = port[1:]
        host_problem = None
    else:
        host, _, port = hostport.partition(":")
        host_problem = _host_error(host)
    if host_problem:
        return host_problem
    if port and not (_PORT.fullmatch(port) and 1 <= int(port) <= 65535):
        return f"has an invalid port {port!r}"
    return None


def validate_create(body: Mapping[str, Any]) -> str | None:
    """Check a create body against the documented rules (see the module docstring).

    Whether `continue_clip_id` names a known clip is not checked here: that needs the
    sandbox's state and answers 404, not 400.

    Args:
        body: The parsed JSON object of the request (from `_http.parse_json`, so
            non-finite numbers arrive as `NonFinite` markers).

    Returns:
        `None` if the body is valid, else `"<field>: <what is wrong>"`.
    """
    error = _shape_error(body)
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
    error = _limit_error(body, mv) or _mode_error(body, task_type)
    if error:
        return error
    url = body.get("webhook_url")
    if url is not None:
        problem = webhook_url_error(url)
        if problem:
            return f"webhook_url: {problem}"
    if body.get("webhook_secret") == "":
        return "webhook_secret: must not be empty"
    return None
