"""Requests of the Sonic operations that answer at once (api-reference §3.1).

Most take one or two fields and are called with plain parameters
(`sonic.bpm(clip_id)`); the models exist so that one rule reader (`musicapi._rules`)
checks every operation the same way, before anything is sent.
"""

from __future__ import annotations

import attrs

from musicapi._models.sonic_remix import NOT_NEGATIVE, optional


@attrs.frozen(kw_only=True)
class ClipRequest:
    """A body naming one clip: `/sonic/bpm`, `aligned-lyrics`, `wav` and `midi`."""

    clip_id: str


@attrs.frozen(kw_only=True)
class LyricsRequest:
    """The body of `POST /sonic/lyrics`: a description of the song to write."""

    description: str = attrs.field(metadata={"max_length": 119})


@attrs.frozen(kw_only=True)
class UpsampleTagsRequest:
    """The body of `POST /sonic/upsample-tags`: terse style tags to enrich."""

    tags: str


@attrs.frozen(kw_only=True)
class UploadRequest:
    """The body of `POST /sonic/upload`: the URL of the audio to import as a clip."""

    url: str = attrs.field(metadata={"uri": True})


@attrs.frozen(kw_only=True)
class VoxRequest:
    """The body of `POST /sonic/vox`: isolate a clip's vocals, optionally in a window."""

    clip_id: str
    vocal_start_s: float | None = optional(**NOT_NEGATIVE)
    vocal_end_s: float | None = optional(**NOT_NEGATIVE)


@attrs.frozen(kw_only=True)
class PersonaRequest:
    """The body of `POST /sonic/persona`: a reusable singer made from a clip's voice.

    Use the answer's `persona_id` with `task_type="persona_music"` on `sonic.create`.
    Note that the docs mark persona creation "unavailable"; the spec still defines it.
    """

    name: str = attrs.field(metadata={"max_length": 79})
    clip_id: str
    describe: str | None = None
    vox_audio_id: str | None = None
    vocal_start_s: float | None = optional(**NOT_NEGATIVE)
    vocal_end_s: float | None = optional(**NOT_NEGATIVE)
    styles: str | None = optional(max_length=2000)
