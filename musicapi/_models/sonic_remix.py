"""Requests of the Sonic operations that start a job from existing audio.

Mashups, section replacement (infill), sampling, stems, voices, and the upload-then-cover
or upload-then-extend shortcuts all answer with a task id that `sonic.wait` resolves.
Each model carries its documented limits (api-reference §3.1, §4.1) as field metadata
that `musicapi._rules` reads; the rules that tie fields together or depend on the model
version are `Check`s in `musicapi._resources._sonic_checks`. Field names are the API's
own JSON names, and `None` fields are not sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import attrs

if TYPE_CHECKING:
    from collections.abc import Sequence

TITLE_MAX = 80
"""`title`: max 80 characters on every Sonic operation (§3.1)."""
SHORT_TAGS_MAX = 200
"""`tags` on create, mashup and sample; `negative_tags` everywhere (§4.1)."""
REPLACE_TAGS_MAX = 1000
"""`tags` on replace-section (the spec's own limit there)."""
DESCRIPTION_MAX = 400
"""`gpt_description_prompt`: max 400 characters (§4.1)."""

UNIT = {"minimum": 0.0, "maximum": 1.0}
NOT_NEGATIVE = {"minimum": 0.0}
GENDERS = {"choices": frozenset({"f", "m"})}


def optional(**rules: Any) -> Any:
    """Declare an optional request field (`None`: not sent) with its documented rules."""
    return attrs.field(default=None, metadata=rules)


def clip_ids(value: Sequence[str]) -> tuple[str, ...]:
    """Keep a list of ids as a tuple (hashable, like the frozen model); leave anything else.

    A string is left as it is, for validation to refuse by name: `tuple("ab")` would
    otherwise pass for two ids.
    """
    if isinstance(value, list):
        return tuple(value)
    return cast("tuple[str, ...]", value)


def secret() -> Any:
    """Declare an optional `webhook_secret`, kept out of `repr` so it never reaches a log."""
    return attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class MashupRequest:
    """The body of `POST /sonic/mashup`: a new song blending two clips.

    `mashup_clip_ids` holds exactly two clip ids; `custom_mode` and `mv` are required.
    """

    mashup_clip_ids: tuple[str, ...] = attrs.field(converter=clip_ids, metadata={"count": 2})
    custom_mode: bool
    mv: str
    prompt: str | None = None
    gpt_description_prompt: str | None = optional(max_length=DESCRIPTION_MAX)
    make_instrumental: bool | None = None
    title: str | None = optional(max_length=TITLE_MAX)
    tags: str | None = optional(max_length=SHORT_TAGS_MAX)
    negative_tags: str | None = optional(max_length=SHORT_TAGS_MAX)
    style_weight: float | None = optional(**UNIT)
    weirdness_constraint: float | None = optional(**UNIT)
    audio_weight: float | None = optional(**UNIT)
    vocal_gender: str | None = optional(**GENDERS)
    auto_lyrics: bool | None = None
    webhook_url: str | None = optional(uri=True)
    webhook_secret: str | None = secret()


@attrs.frozen(kw_only=True)
class ReplaceSectionRequest:
    """The body of `POST /sonic/replace-section`: re-sing a window of a clip (infill).

    `mv` may be any model but `sonic-v3-5`; the window ends after it starts and within
    the clip (the server checks the clip's length).
    """

    clip_id: str
    mv: str
    infill_start_s: float = attrs.field(metadata=NOT_NEGATIVE)
    infill_end_s: float = attrs.field(metadata=NOT_NEGATIVE)
    prompt: str | None = optional(max_length=5000)
    infill_lyrics: str | None = optional(max_length=3000)
    title: str | None = optional(max_length=TITLE_MAX)
    tags: str | None = optional(max_length=REPLACE_TAGS_MAX)
    negative_tags: str | None = optional(max_length=SHORT_TAGS_MAX)
    style_weight: float | None = optional(**UNIT)
    weirdness_constraint: float | None = optional(**UNIT)
    vocal_gender: str | None = optional(**GENDERS)
    auto_concat: bool | None = None
    webhook_url: str | None = optional(uri=True)
    webhook_secret: str | None = secret()


@attrs.frozen(kw_only=True)
class SampleRequest:
    """The body of `POST /sonic/sample`: a new song built on a chopped sample.

    The sample is either a URL (uploaded first) or an existing clip (`sample_clip_id`),
    exactly one of the two; the chop window ends after it starts.
    """

    chop_sample_start_s: float = attrs.field(metadata=NOT_NEGATIVE)
    chop_sample_end_s: float = attrs.field(metadata=NOT_NEGATIVE)
    custom_mode: bool
    mv: str
    make_instrumental: bool
    url: str | None = optional(uri=True)
    sample_clip_id: str | None = None
    prompt: str | None = None
    gpt_description_prompt: str | None = optional(max_length=DESCRIPTION_MAX)
    title: str | None = optional(max_length=TITLE_MAX)
    tags: str | None = optional(max_length=SHORT_TAGS_MAX)
    negative_tags: str | None = optional(max_length=SHORT_TAGS_MAX)
    style_weight: float | None = optional(**UNIT)
    weirdness_constraint: float | None = optional(**UNIT)
    audio_weight: float | None = optional(**UNIT)
    vocal_gender: str | None = optional(**GENDERS)
    auto_lyrics: bool | None = None
    webhook_url: str | None = optional(uri=True)
    webhook_secret: str | None = secret()


@attrs.frozen(kw_only=True)
class _UploadRemix:
    """The fields `upload-cover` and `upload-extend` share: a URL to upload, and a song."""

    url: str = attrs.field(metadata={"uri": True})
    custom_mode: bool
    mv: str
    prompt: str | None = None
    gpt_description_prompt: str | None = optional(max_length=DESCRIPTION_MAX)
    make_instrumental: bool | None = None
    title: str | None = optional(max_length=TITLE_MAX)
    tags: str | None = None
    negative_tags: str | None = optional(max_length=SHORT_TAGS_MAX)
    style_weight: float | None = optional(**UNIT)
    weirdness_constraint: float | None = optional(**UNIT)
    audio_weight: float | None = optional(**UNIT)
    vocal_gender: str | None = optional(**GENDERS)
    auto_concat: bool | None = None
    webhook_url: str | None = optional(uri=True)
    webhook_secret: str | None = secret()


@attrs.frozen(kw_only=True)
class UploadCoverRequest(_UploadRemix):
    """The body of `POST /sonic/upload-cover`: upload audio from a URL and cover it."""


@attrs.frozen(kw_only=True)
class UploadExtendRequest(_UploadRemix):
    """The body of `POST /sonic/upload-extend`: upload audio from a URL and extend it.

    The fields of `UploadCoverRequest`, plus `continue_at` (seconds into the upload).
    """

    continue_at: float | None = optional(**NOT_NEGATIVE)


@attrs.frozen(kw_only=True)
class StemsRequest:
    """The body of `POST /sonic/stems/basic` and `/sonic/stems/full`."""

    clip_id: str
    webhook_url: str | None = optional(uri=True)
    webhook_secret: str | None = secret()


@attrs.frozen(kw_only=True)
class CreateVoiceRequest:
    """The body of `POST /sonic/create-voice`: train a voice on a sample of singing."""

    audio_url: str = attrs.field(metadata={"uri": True})
    webhook_url: str | None = optional(uri=True)
    webhook_secret: str | None = secret()
