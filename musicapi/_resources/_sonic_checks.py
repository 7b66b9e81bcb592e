"""The rules of every Sonic operation beyond `create`: one table, read by the resource.

Single-field limits sit on the request models as metadata (`_models/sonic_remix.py`,
`_models/sonic_inputs.py`); the rules here tie fields together or depend on the model
version, as api-reference §3.1 and §4.1 give them:

* `prompt` (lyrics) is at most 3000 characters on `sonic-v3-5` and `sonic-v4`, 5000 on
  the others (`musicapi._validation` applies the same limits to `create`), except on
  replace-section, whose spec gives 5000 whatever the model;
* `vocal_gender` needs `sonic-v4-5` or newer;
* `replace-section` runs on any model but `sonic-v3-5`;
* windows end after they start (chop, infill, vocals), a missing start being 0;
* a sample is a URL or a clip, exactly one of the two;
* an empty `webhook_secret` is refused (it would sign nothing), as on `create`.

`OPERATIONS` maps each operation (`sonic/mashup`, the API path without its slash) to
its request model and checks, so that a test can hold the SDK to the shared rule
vectors without sending anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from musicapi._errors import RequestValidationError
from musicapi._models import (
    ClipRequest,
    CreateVoiceRequest,
    LyricsRequest,
    MashupRequest,
    PersonaRequest,
    ReplaceSectionRequest,
    SampleRequest,
    SonicModel,
    StemsRequest,
    UploadCoverRequest,
    UploadExtendRequest,
    UploadRequest,
    UpsampleTagsRequest,
    VoxRequest,
)
from musicapi._rules import Check, secret_not_empty
from musicapi._validation import LYRICS_LIMIT, SHORT_LYRICS_LIMIT, SHORT_LYRICS_MODELS


def prompt_fits_model(request: Any) -> None:
    """Refuse a `prompt` longer than the model's lyrics limit (§4.1)."""
    prompt: str | None = request.prompt
    limit = SHORT_LYRICS_LIMIT if request.mv in SHORT_LYRICS_MODELS else LYRICS_LIMIT
    if prompt is not None and len(prompt) > limit:
        raise RequestValidationError(
            f"prompt is {len(prompt)} characters; the limit for {request.mv} is {limit}",
            field="prompt",
        )


def vocal_gender_fits_model(request: Any) -> None:
    """Refuse `vocal_gender` on models older than `sonic-v4-5` (§4.1)."""
    if request.vocal_gender is not None and request.mv in SHORT_LYRICS_MODELS:
        raise RequestValidationError(
            f"vocal_gender needs sonic-v4-5 or newer, not {request.mv}", field="vocal_gender"
        )


def not_v3_5(request: Any) -> None:
    """Refuse `sonic-v3-5`, which replace-section does not run on (§3.1)."""
    if request.mv == SonicModel.V3_5:
        raise RequestValidationError(
            "mv must be sonic-v4 or newer for replace-section, not sonic-v3-5", field="mv"
        )


def window(start: str, end: str) -> Check:
    """Return a check that field `end` comes after field `start`, a missing start being 0.

    A window's start defaults to the clip's beginning, so an end of 0 is empty even
    when no start is given (the sandbox and the rule vectors read it the same way).
    """

    def check(request: Any) -> None:
        low, high = getattr(request, start), getattr(request, end)
        if high is not None and high <= (low if low is not None else 0.0):
            raise RequestValidationError(
                f"{end} must be after {start} (0 when not given), got {high!r}", field=end
            )

    return check


def url_or_clip(request: Any) -> None:
    """Require exactly one sample source, naming `url` either way (as the server does)."""
    if (request.url is None) == (request.sample_clip_id is None):
        problem = "both" if request.url is not None else "neither"
        raise RequestValidationError(
            f"give exactly one of url or sample_clip_id, not {problem}", field="url"
        )


_GENERATION: tuple[Check, ...] = (prompt_fits_model, vocal_gender_fits_model, secret_not_empty)


@attrs.frozen
class Operation:
    """One operation's request model and the rules that span its fields."""

    model: type
    checks: Sequence[Check] = ()


OPERATIONS: dict[str, Operation] = {
    "sonic/lyrics": Operation(LyricsRequest),
    "sonic/aligned-lyrics": Operation(ClipRequest),
    "sonic/bpm": Operation(ClipRequest),
    "sonic/upsample-tags": Operation(UpsampleTagsRequest),
    "sonic/create-voice": Operation(CreateVoiceRequest, (secret_not_empty,)),
    "sonic/persona": Operation(PersonaRequest, (window("vocal_start_s", "vocal_end_s"),)),
    "sonic/vox": Operation(VoxRequest, (window("vocal_start_s", "vocal_end_s"),)),
    "sonic/midi": Operation(ClipRequest),
    "sonic/wav": Operation(ClipRequest),
    "sonic/stems/basic": Operation(StemsRequest, (secret_not_empty,)),
    "sonic/stems/full": Operation(StemsRequest, (secret_not_empty,)),
    "sonic/mashup": Operation(MashupRequest, _GENERATION),
    "sonic/replace-section": Operation(
        ReplaceSectionRequest,
        (
            not_v3_5,
            window("infill_start_s", "infill_end_s"),
            vocal_gender_fits_model,
            secret_not_empty,
        ),
    ),
    "sonic/sample": Operation(
        SampleRequest,
        (
            url_or_clip,
            window("chop_sample_start_s", "chop_sample_end_s"),
            *_GENERATION,
        ),
    ),
    "sonic/upload": Operation(UploadRequest),
    "sonic/upload-cover": Operation(UploadCoverRequest, _GENERATION),
    "sonic/upload-extend": Operation(UploadExtendRequest, _GENERATION),
}
"""Every Sonic operation but `create` (see `_validation.py`) and `batch` (its items are creates)."""
