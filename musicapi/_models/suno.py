"""Suno legacy aliases: lyrics tasks and song lookup by share link.

`/suno/create` and `/suno/clip/{id}` are Sonic's create and poll under another name
and use Sonic's models. What is Suno's own is the lyrics task (`/suno/make-lyrics`,
polled at `/suno/get-lyrics/{id}`) and `/suno/get-song`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from musicapi._models.common import EMPTY_RAW


class LyricsStatus:
    """Known values of `LyricsTask.status`; any other string means still running."""

    RUNNING: Final = "running"
    COMPLETE: Final = "complete"
    ERROR: Final = "error"


@attrs.frozen(kw_only=True)
class MakeLyricsRequest:
    """The body of `POST /suno/make-lyrics`: what the lyrics should be about."""

    prompt: str = attrs.field(metadata={"max_length": 119})


@attrs.frozen(kw_only=True)
class GetSongRequest:
    """The body of `POST /suno/get-song`: a Suno share link."""

    share_link: str = attrs.field(metadata={"uri": True})


@attrs.frozen(kw_only=True)
class LyricsTask:
    """A lyrics task as one poll saw it; also the finished result of `wait_lyrics`.

    Attributes:
        task_id: The task's id.
        status: `running`, `complete`, `error` or another string (see `LyricsStatus`).
        title: The song title the lyrics came with, once complete.
        text: The lyrics, once complete.
        error: Why the task failed, if it did.
        raw: The poll's whole JSON answer (the task's own fields are under `data`).
    """

    task_id: str
    status: str | None = None
    title: str | None = None
    text: str | None = None
    error: str | None = None
    raw: Mapping[str, Any] = attrs.field(default=EMPTY_RAW, repr=False, eq=False)

    @property
    def is_done(self) -> bool:
        """Whether the task has finished, one way or the other."""
        return self.status in (LyricsStatus.COMPLETE, LyricsStatus.ERROR)


@attrs.frozen(kw_only=True)
class SongInfo:
    """A song found from its share link (`/suno/get-song`).

    Attributes:
        music_styles: The styles, as text (a list of styles is joined with `, `).
        raw: The answer's JSON with every field.
    """

    audio_url: str | None = None
    video_url: str | None = None
    cover_image: str | None = None
    song_title: str | None = None
    song_author: str | None = None
    music_styles: str | None = None
    raw: Mapping[str, Any] = attrs.field(default=EMPTY_RAW, repr=False, eq=False)
