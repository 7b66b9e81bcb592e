"""Riffusion (the FUZZ models, deprecated by the API): its requests.

The results are Sonic-shaped (`Task`, `GenerationResult`; an upload is an `Upload`).
The rules follow api-reference §3.5: the FUZZ models are a closed list (the family is
frozen, so no new model will appear), and every task type but `create_music` works on
`continue_clip_id`.
"""

from __future__ import annotations

from typing import Final

import attrs


class RiffusionModel:
    """The FUZZ model versions `POST /riffusion/create` accepts (`mv`)."""

    FUZZ_1_1_PRO: Final = "FUZZ-1.1 Pro"
    FUZZ_1_1: Final = "FUZZ-1.1"
    FUZZ_1_0_PRO: Final = "FUZZ-1.0 Pro"
    FUZZ_1_0: Final = "FUZZ-1.0"

    ALL: Final = frozenset({"FUZZ-1.1 Pro", "FUZZ-1.1", "FUZZ-1.0 Pro", "FUZZ-1.0"})
    DEFAULT: Final = "FUZZ-1.1 Pro"


class RiffusionTaskType:
    """The task types of `POST /riffusion/create`."""

    CREATE_MUSIC: Final = "create_music"

    ALL: Final = frozenset(
        {
            "create_music",
            "extend_music",
            "cover_music",
            "extend_upload_music",
            "cover_upload_music",
            "replace_music",
            "replace_upload_music",
            "swap_music_sound",
            "swap_upload_music_sound",
            "swap_music_vocals",
            "swap_upload_music_vocals",
        }
    )


_SECONDS = {"minimum": 0}


@attrs.frozen(kw_only=True)
class RiffusionCreateRequest:
    """The body of `POST /riffusion/create`, with the API's own field names (§3.5).

    `None` fields are not sent. Every task type but `create_music` needs
    `continue_clip_id`; the `replace_*` ones need `replace_start_time` <
    `replace_end_time`.
    """

    task_type: str | None = attrs.field(default=None, metadata={"choices": RiffusionTaskType.ALL})
    mv: str | None = attrs.field(default=None, metadata={"choices": RiffusionModel.ALL})
    custom_mode: bool | None = None
    lyrics: str | None = attrs.field(default=None, metadata={"max_length": 3000})
    prompt: str | None = attrs.field(default=None, metadata={"max_length": 200})
    sound: str | None = attrs.field(default=None, metadata={"max_length": 200})
    title: str | None = attrs.field(default=None, metadata={"max_length": 80})
    make_instrumental: bool | None = None
    vocal_variation: float | None = attrs.field(default=None, metadata={"minimum": 0, "maximum": 1})
    continue_clip_id: str | None = None
    continue_at: float | None = attrs.field(default=None, metadata=_SECONDS)
    replace_start_time: float | None = attrs.field(default=None, metadata=_SECONDS)
    replace_end_time: float | None = attrs.field(default=None, metadata=_SECONDS)
    webhook_url: str | None = attrs.field(default=None, metadata={"uri": True})
    webhook_secret: str | None = attrs.field(default=None, repr=False)

    @property
    def effective_task_type(self) -> str:
        """The task type the API will run (`create_music` when none is given)."""
        return self.task_type or RiffusionTaskType.CREATE_MUSIC


@attrs.frozen(kw_only=True)
class RiffusionUploadRequest:
    """The body of `POST /riffusion/upload`: the URL of the audio to import as a clip."""

    url: str = attrs.field(metadata={"uri": True})
