"""Sonic song generation: the create request, the task, its clips and the finished result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from musicapi._models.common import EMPTY_RAW, ClipState, SonicModel, TaskState


class TaskType:
    """The task types of `POST /sonic/create` and the fields each one requires."""

    CREATE_MUSIC: Final = "create_music"
    EXTEND_MUSIC: Final = "extend_music"
    CONCAT_MUSIC: Final = "concat_music"
    COVER_MUSIC: Final = "cover_music"
    EXTEND_UPLOAD_MUSIC: Final = "extend_upload_music"
    COVER_UPLOAD_MUSIC: Final = "cover_upload_music"
    PERSONA_MUSIC: Final = "persona_music"
    REMASTER: Final = "remaster"
    ADD_INSTRUMENTAL: Final = "add_instrumental"
    ADD_VOCALS: Final = "add_vocals"

    REQUIRED: Final[Mapping[str, tuple[str, ...]]] = {
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
    """Required fields per task type (docs: sonic-instructions; the last three are our reading)."""

    GENERATES_SONG: Final = frozenset(REQUIRED) - {"concat_music"}


@attrs.frozen(kw_only=True)
class SonicCreateRequest:
    """The body of `POST /sonic/create`, with the API's own field names.

    Every field is optional here; which ones a job needs depends on `task_type` and
    `custom_mode`, and `musicapi._validation.validate_sonic_create` checks that (and
    the documented limits) before anything is sent. `None` fields are not sent.
    """

    task_type: str | None = None
    mv: str | None = None
    custom_mode: bool | None = None
    prompt: str | None = None
    lyrics: str | None = None
    gpt_description_prompt: str | None = None
    title: str | None = None
    tags: str | None = None
    negative_tags: str | None = None
    make_instrumental: bool | None = None
    continue_clip_id: str | None = None
    continue_at: float | None = None
    persona_id: str | None = None
    style_weight: float | None = None
    weirdness_constraint: float | None = None
    vocal_gender: str | None = None
    auto_lyrics: bool | None = None
    audio_weight: float | None = None
    variation_category: str | None = None
    overpainting_start_s: float | None = None
    overpainting_end_s: float | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = attrs.field(default=None, repr=False)

    @property
    def effective_task_type(self) -> str:
        """The task type the API will run (`create_music` when none is given)."""
        return self.task_type or TaskType.CREATE_MUSIC

    @property
    def effective_model(self) -> str:
        """The model version the request names, or the SDK's default."""
        return self.mv or SonicModel.DEFAULT


@attrs.frozen(kw_only=True)
class TaskSubmission:
    """The answer to an operation that starts a job: the id to wait on.

    Attributes:
        task_id: The job's id; pass it (or this object) to the family's `wait`.
        message: The server's message (`success`).
        warning: An advisory some operations add (`/sonic/create-voice`).
        steps: The state of each step of a combined operation (`/sonic/sample`,
            `/sonic/upload-cover`, `/sonic/upload-extend`), as the server reports it.
        failed_step: The step that failed (`upload` or `sample`), if one did.
        raw: The answer's JSON with every field.
    """

    task_id: str
    message: str | None = None
    warning: str | None = None
    steps: Mapping[str, Any] | None = None
    failed_step: str | None = None
    raw: Mapping[str, Any] = attrs.field(default=EMPTY_RAW, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class Clip:
    """One song of a generation (a generation yields two).

    Attributes:
        clip_id: The id that extend, cover, concat, wav and stems refer to.
        state: `succeeded`, `streaming`, ...: an open set of strings.
        duration: Seconds, as a float (the API sometimes sends a string).
        stem_type: For a stem (`sonic.stems_basic`/`stems_full`), its part: `vocals`,
            `instrumental`, `drums`, `bass`, `other`, ... (an open set).
        source_clip_id: For a stem or an upload, the clip it came from.
        persona_id: For a voice (`sonic.create_voice`), the persona to sing with.
        raw: The clip's JSON with every field, known or not.
    """

    clip_id: str
    state: str | None = None
    title: str | None = None
    tags: str | None = None
    lyrics: str | None = None
    audio_url: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    duration: float | None = None
    created_at: str | None = None
    mv: str | None = None
    gpt_description_prompt: str | None = None
    negative_tags: str | None = None
    style_weight: float | None = None
    weirdness_constraint: float | None = None
    stem_type: str | None = None
    source_clip_id: str | None = None
    persona_id: str | None = None
    raw: Mapping[str, Any] = attrs.field(default=EMPTY_RAW, repr=False, eq=False)

    @property
    def is_final(self) -> bool:
        """Whether the clip has reached a terminal state (its audio is the final file)."""
        return self.state in ClipState.TERMINAL


@attrs.frozen(kw_only=True)
class Task:
    """A task as one poll saw it: running, succeeded (with clips) or failed (with a reason).

    Attributes:
        task_id: The task's id.
        state: `running`, `succeeded` or `failed` (see `TaskState`).
        clips: The clips so far (empty while running or after a failure).
        reason: Why the task failed (`failed: ...`, `timeout: ...`), else `None`.
        retry_after: A server hint, in seconds, for the next poll, if it gave one.
        raw: The JSON body of the poll.
    """

    task_id: str
    state: str
    clips: tuple[Clip, ...] = ()
    reason: str | None = None
    retry_after: float | None = attrs.field(default=None, repr=False, eq=False)
    raw: Mapping[str, Any] = attrs.field(default=EMPTY_RAW, repr=False, eq=False)

    @property
    def is_done(self) -> bool:
        """Whether the task has finished, one way or the other."""
        return self.state in (TaskState.SUCCEEDED, TaskState.FAILED)


@attrs.frozen(kw_only=True)
class GenerationResult:
    """A finished generation: its task id and its clips.

    Attributes:
        task_id: The task's id.
        clips: The songs, usually two.
        raw: The JSON body of the final poll.
    """

    task_id: str
    clips: tuple[Clip, ...]
    raw: Mapping[str, Any] = attrs.field(default=EMPTY_RAW, repr=False, eq=False)
