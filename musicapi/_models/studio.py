"""Studio (Udio-style generation): the create request, the task and its songs.

Studio answers differently from the other families (api-reference §2.2, §4.4): its
create returns the task id as a bare string in `data`, and its poll always answers
200 with a `data.status` (`IN_PROGRESS`, `SUCCESS`, `FAILURE`) and, once done, the
songs under `data.data.songs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from musicapi._models.common import EMPTY_RAW


class StudioStatus:
    """Known values of `StudioTask.status`; any other string means still running."""

    IN_PROGRESS: Final = "IN_PROGRESS"
    SUCCESS: Final = "SUCCESS"
    FAILURE: Final = "FAILURE"


_UNIT = {"minimum": 0, "maximum": 1}
_SECONDS = {"minimum": 0}


@attrs.frozen(kw_only=True)
class StudioCreateRequest:
    """The body of `POST /studio/create`, with the API's own field names (§3.4).

    The eight fields without a default are required. The four strengths are read as
    Udio's sliders, 0 to 1; the windows (`song_section_*`, `lyrics_placement_*`) must
    end after they start. `None` fields are not sent.
    """

    prompt: str
    lyrics_type: str
    prompt_strength: float = attrs.field(metadata=_UNIT)
    clarity_strength: float = attrs.field(metadata=_UNIT)
    lyrics_strength: float = attrs.field(metadata=_UNIT)
    generation_quality: float = attrs.field(metadata=_UNIT)
    model_type: str
    config: Mapping[str, Any]
    lyrics: str | None = attrs.field(default=None, metadata={"max_length": 1000})
    bypass_prompt_optimization: bool | None = None
    seed: float | None = None
    song_section_start: float | None = attrs.field(default=None, metadata=_SECONDS)
    song_section_end: float | None = attrs.field(default=None, metadata=_SECONDS)
    lyrics_placement_start: float | None = attrs.field(default=None, metadata=_SECONDS)
    lyrics_placement_end: float | None = attrs.field(default=None, metadata=_SECONDS)
    negative_prompt: str | None = None
    webhook_url: str | None = attrs.field(default=None, metadata={"uri": True})
    webhook_secret: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class StudioSong:
    """One song of a finished studio task (a task yields two).

    Attributes:
        id: The song's id.
        tags: The style tags, as a tuple (a comma-separated string is split).
        duration: Seconds (a numeric string is accepted).
        raw: The song's JSON with every field, known or not.
    """

    id: str
    title: str | None = None
    tags: tuple[str, ...] = ()
    lyrics: str | None = None
    artist: str | None = None
    audio_url: str | None = None
    image_url: str | None = None
    duration: float | None = None
    raw: Mapping[str, Any] = attrs.field(default=EMPTY_RAW, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class StudioTask:
    """A studio task as one poll saw it (what `studio.get` returns).

    Attributes:
        task_id: The task's id.
        status: `IN_PROGRESS`, `SUCCESS`, `FAILURE` or another string (see `StudioStatus`).
        progress: The server's progress text (`"40%"`); see `percent`.
        fail_reason: Why the task failed; empty or `None` otherwise.
        songs: The songs (empty until `SUCCESS`).
        raw: The poll's whole JSON answer (the task's own fields are under `data`).
    """

    task_id: str
    status: str | None = None
    progress: str | None = None
    fail_reason: str | None = None
    songs: tuple[StudioSong, ...] = ()
    raw: Mapping[str, Any] = attrs.field(default=EMPTY_RAW, repr=False, eq=False)

    @property
    def percent(self) -> float | None:
        """The progress as a number from 0 to 100, or `None` if the server sent none."""
        text = (self.progress or "").strip().removesuffix("%").strip()
        try:
            return float(text) if text else None
        except ValueError:
            return None

    @property
    def failed(self) -> bool:
        """Whether the task failed: status `FAILURE`, or a `fail_reason` on a task not done.

        A `SUCCESS` with a stray `fail_reason` still has its songs, so it counts as done.
        """
        if self.status == StudioStatus.SUCCESS:
            return False
        return self.status == StudioStatus.FAILURE or bool(self.fail_reason)

    @property
    def is_done(self) -> bool:
        """Whether the task has finished, one way or the other."""
        return self.status == StudioStatus.SUCCESS or self.failed


@attrs.frozen(kw_only=True)
class StudioResult:
    """A finished studio task: its id and its songs.

    Attributes:
        task_id: The task's id.
        songs: The songs, usually two.
        raw: The final poll's whole JSON answer.
    """

    task_id: str
    songs: tuple[StudioSong, ...]
    raw: Mapping[str, Any] = attrs.field(default=EMPTY_RAW, repr=False, eq=False)
