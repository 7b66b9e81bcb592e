"""Nuro (withdrawn by the API: 410 Gone): its two request shapes and its task.

Kept so that code written against the documented Nuro API gets a clear answer
(`GoneError`, with what to use instead) rather than a 404, and so that a platform that
still serves it (the sandbox's `legacy_nuro` mode) can be used. One endpoint takes two
shapes chosen by `type` (api-reference §3.6): a vocal song or background music.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from musicapi._models.common import EMPTY_RAW


class NuroStatus:
    """Known values of `NuroTask.status`; any other string means still running."""

    PENDING: Final = "pending"
    RUNNING: Final = "running"
    SUCCEEDED: Final = "succeeded"
    FAILED: Final = "failed"


class NuroTimbre:
    """The vocal timbres of a Nuro vocal song."""

    ALL: Final = frozenset(
        {
            "Warm",
            "Bright",
            "Husky",
            "Electrified voice",
            "Sweet_AUDIO_TIMBRE",
            "Cute_AUDIO_TIMBRE",
            "Loud and sonorous",
            "Powerful",
            "Sexy/Lazy",
        }
    )


@attrs.frozen(kw_only=True)
class NuroVocalRequest:
    """The body of `POST /nuro/create` for a song with vocals (`type: "vocal"`)."""

    type: str = attrs.field(default="vocal", metadata={"choices": frozenset({"vocal"})})
    lyrics: str = attrs.field(metadata={"max_length": 2000})
    gender: str | None = attrs.field(
        default=None, metadata={"choices": frozenset({"Female", "Male"})}
    )
    genre: str | None = None
    mood: str | None = None
    timbre: str | None = attrs.field(default=None, metadata={"choices": NuroTimbre.ALL})
    duration: int | None = attrs.field(default=None, metadata={"minimum": 30, "maximum": 240})
    webhook_url: str | None = attrs.field(default=None, metadata={"uri": True})
    webhook_secret: str | None = attrs.field(default=None, repr=False)


_FIVE = {"max_items": 5}


@attrs.frozen(kw_only=True)
class NuroBgmRequest:
    """The body of `POST /nuro/create` for background music (`type: "bgm"`).

    `duration` is at most 60 seconds in the v1.0 shape and 240 with `version="v2.0"`,
    which also enables `segments` (each `{"name": ..., "duration": ...}`).
    """

    type: str = attrs.field(default="bgm", metadata={"choices": frozenset({"bgm"})})
    description: str
    genre: tuple[str, ...] | None = attrs.field(default=None, metadata=_FIVE)
    mood: tuple[str, ...] | None = attrs.field(default=None, metadata=_FIVE)
    instrument: tuple[str, ...] | None = attrs.field(default=None, metadata=_FIVE)
    theme: tuple[str, ...] | None = attrs.field(default=None, metadata=_FIVE)
    duration: int | None = attrs.field(default=None, metadata={"minimum": 1, "maximum": 240})
    version: str | None = None
    segments: tuple[Mapping[str, Any], ...] | None = None
    webhook_url: str | None = attrs.field(default=None, metadata={"uri": True})
    webhook_secret: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class NuroTask:
    """A Nuro task as one poll saw it; also the finished result of a wait.

    Attributes:
        task_id: The task's id.
        status: `pending`, `running`, `succeeded`, `failed` or another string.
        progress: 0 to 100 (100 = done).
        audio_url: The song's WAV file, once done.
        error: Why the task failed, if it did.
        raw: The poll's JSON answer with every field.
    """

    task_id: str
    status: str | None = None
    progress: float | None = None
    audio_url: str | None = None
    lyrics: str | None = None
    duration: float | None = None
    genre: str | None = None
    error: str | None = None
    raw: Mapping[str, Any] = attrs.field(default=EMPTY_RAW, repr=False, eq=False)

    @property
    def succeeded(self) -> bool:
        """Whether the song is ready."""
        return self.status == NuroStatus.SUCCEEDED

    @property
    def failed(self) -> bool:
        """Whether the task failed (status `failed`, or an error reported without success)."""
        return self.status == NuroStatus.FAILED or (bool(self.error) and not self.succeeded)

    @property
    def is_done(self) -> bool:
        """Whether the task has finished, one way or the other."""
        return self.succeeded or self.failed
