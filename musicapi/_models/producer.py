"""Producer (instrumentals and background music): the requests of `/producer/...`.

The results are Sonic-shaped (`Task`, `GenerationResult`); only the requests are the
producer's own. Their rules are declarations read by `musicapi._rules` (api-reference
§3.3 and §4.2); the cross-field ones are `Check`s in the resource.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import attrs

if TYPE_CHECKING:
    from collections.abc import Mapping


class ProducerTaskType:
    """The task types `POST /producer/create` accepts, and the ones the API withdrew."""

    CREATE_MUSIC: Final = "create_music"
    EXTEND_MUSIC: Final = "extend_music"
    EXTEND_UPLOAD_MUSIC: Final = "extend_upload_music"
    REPLACE_MUSIC: Final = "replace_music"
    REPLACE_UPLOAD_MUSIC: Final = "replace_upload_music"
    COVER_MUSIC: Final = "cover_music"

    ALL: Final = frozenset(
        {
            "create_music",
            "extend_music",
            "extend_upload_music",
            "replace_music",
            "replace_upload_music",
            "cover_music",
        }
    )
    """Every task type the API runs (`cover_music` came back on 2026-05-20, §4.2)."""

    WITHDRAWN: Final[Mapping[str, str]] = {
        "music_variation": "re-run create_music with a new seed",
        "swap_music_vocals": "use replace_music on the vocal window",
        "swap_music_sound": "use replace_music on the instrumental window",
    }
    """Task types the API answers with 410 Gone, and what to use instead (§4.2)."""


class ProducerFormat:
    """The file formats of `POST /producer/download`."""

    MP3: Final = "mp3"
    WAV: Final = "wav"


_UNIT = {"minimum": 0, "maximum": 1}
_SECONDS = {"minimum": 0}


@attrs.frozen(kw_only=True)
class ProducerCreateRequest:
    """The body of `POST /producer/create`, with the API's own field names.

    `None` fields are not sent. Every task type but `create_music` works on `clip_id`;
    the `replace_*` ones need the window `starts_at` < `ends_at`. `strength` (alias
    `cover_strength`) sets how closely `cover_music` follows the source.
    `make_instrumental`, `lyrics_strength`, `sound_strength` and `weirdness` are
    accepted and ignored by the API (§4.2): for an instrumental, say so in `sound`.
    """

    task_type: str | None = attrs.field(default=None, metadata={"choices": ProducerTaskType.ALL})
    sound: str | None = None
    lyrics: str | None = None
    title: str | None = attrs.field(default=None, metadata={"max_length": 80})
    mv: str | None = None
    seed: float | str | None = None
    clip_id: str | None = None
    starts_at: float | None = attrs.field(default=None, metadata=_SECONDS)
    ends_at: float | None = attrs.field(default=None, metadata=_SECONDS)
    bpm: float | str | None = None
    length: float | None = attrs.field(default=None, metadata={"minimum": 1, "maximum": 240})
    instruction: str | None = None
    extend_s: float | None = attrs.field(default=None, metadata=_SECONDS)
    strength: float | None = attrs.field(default=None, metadata=_UNIT)
    cover_strength: float | None = attrs.field(default=None, metadata=_UNIT)
    make_instrumental: bool | None = None
    lyrics_strength: float | None = None
    sound_strength: float | None = None
    weirdness: float | None = None
    webhook_url: str | None = attrs.field(default=None, metadata={"uri": True})
    webhook_secret: str | None = attrs.field(default=None, repr=False)

    @property
    def effective_task_type(self) -> str:
        """The task type the API will run (`create_music` when none is given)."""
        return self.task_type or ProducerTaskType.CREATE_MUSIC


@attrs.frozen(kw_only=True)
class ProducerUploadRequest:
    """The body of `POST /producer/upload`: audio to import as a producer clip."""

    audio_url: str = attrs.field(metadata={"uri": True})
    webhook_url: str | None = attrs.field(default=None, metadata={"uri": True})
    webhook_secret: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class ProducerDownloadRequest:
    """The body of `POST /producer/download`: export a clip as MP3 or WAV."""

    clip_id: str
    format: str = attrs.field(
        default=ProducerFormat.MP3, metadata={"choices": frozenset({"mp3", "wav"})}
    )
    webhook_url: str | None = attrs.field(default=None, metadata={"uri": True})
    webhook_secret: str | None = attrs.field(default=None, repr=False)
