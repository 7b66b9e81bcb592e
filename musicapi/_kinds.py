"""The task kinds of the families beyond Sonic: how each one's answers read.

Each family polls differently (api-reference §2.2, §3.2-§3.6, plan/wire.md):

* `suno` clips are Sonic's shapes at `/suno/clip/{id}`; `producer` tasks too, at
  `/producer/task/{id}`.
* Suno lyrics tasks answer `{"code", "data": {"task_id", "status"}}`: done at
  `complete`, failed at `error`; their create answers `{"data": {"task_id"}}`.
* `studio` always answers 200 with `data.status`: `SUCCESS` is done, `FAILURE` (or a
  `fail_reason` on a task not marked done) failed, anything else running; its create
  answers the task id as a bare string in `data`.
* `riffusion` may answer an interim 200 (`code: 102`, "processing"): only `code: 200`
  is done.
* `nuro` answers 200 with `status` and `progress`.

The parsers are pure (a status code and a JSON body in, a snapshot out) and raise
`MalformedResponseError` for shapes they do not know, which the engine treats as a
transient poll failure. Each snapshot keeps the poll's whole answer as `raw`, which is
also what a batch journal keeps and reads back.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from musicapi._converter import (
    FAILURE_TYPES,
    NOT_READY_TYPES,
    converter,
    envelope_type,
    failure_reason,
    parse_task,
    register_models,
    structure,
)
from musicapi._errors import MalformedResponseError
from musicapi._models import GenerationResult, Task, TaskState, TaskSubmission
from musicapi._models.nuro import NuroStatus, NuroTask
from musicapi._models.studio import StudioResult, StudioSong, StudioStatus, StudioTask
from musicapi._models.suno import LyricsStatus, LyricsTask, SongInfo
from musicapi._tasks import SONIC, TaskKind
from musicapi._wait import Reading

if TYPE_CHECKING:
    from collections.abc import Mapping

T = TypeVar("T")


# -- converter hooks: keep raw mappings, tolerate the odd shapes ---------------------------


def _joined(mapping: dict[str, Any], name: str) -> None:
    """Join a list of strings sent where text is documented (`["pop", "rock"]`)."""
    value = mapping.get(name)
    if isinstance(value, list):
        items = cast("list[object]", value)
        if all(isinstance(item, str) for item in items):
            mapping[name] = ", ".join(cast("list[str]", items))


def _split(mapping: dict[str, Any], name: str) -> None:
    """Split a comma-separated string sent where a list of strings is documented.

    Without this, cattrs would read `"pop"` as the tuple `("p", "o", "p")`.
    """
    value = mapping.get(name)
    if isinstance(value, str):
        mapping[name] = tuple(part.strip() for part in value.split(",") if part.strip())
    elif value is None and name in mapping:
        del mapping[name]


def _percent_text(mapping: dict[str, Any], name: str) -> None:
    value = mapping.get(name)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        mapping[name] = f"{value:g}%"


register_models(converter, LyricsTask)
register_models(converter, SongInfo, fix=lambda mapping: _joined(mapping, "music_styles"))
register_models(converter, StudioSong, fix=lambda mapping: _split(mapping, "tags"))
register_models(converter, NuroTask, fix=lambda mapping: _joined(mapping, "genre"))
register_models(converter, StudioTask, fix=lambda mapping: _percent_text(mapping, "progress"))


# -- shared readings -------------------------------------------------------------------


def _object(body: Any, *, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedResponseError(
            f"malformed {what} in the API's answer: not a JSON object", body=body
        )
    return cast("dict[str, Any]", body)


def _with_raw(instance: T, body: Mapping[str, Any]) -> T:
    """Return `instance` with `raw` set to the poll's whole answer."""
    object.__setattr__(instance, "raw", MappingProxyType(dict(body)))
    return instance


def _submission(task_id: Any, body: Mapping[str, Any], *, what: str) -> TaskSubmission:
    if isinstance(task_id, int) and not isinstance(task_id, bool):
        task_id = str(task_id)
    if not isinstance(task_id, str) or not task_id.strip():
        detail = body.get("message") or body.get("error") or body.get("code")
        raise MalformedResponseError(
            f"malformed {what} in the API's answer: no task id"
            + (f" ({detail})" if detail else ""),
            body=body,
        )
    message = body.get("message")
    return TaskSubmission(
        task_id=task_id,
        message=message if isinstance(message, str) else None,
        raw=MappingProxyType(dict(body)),
    )


# -- suno clips and lyrics tasks --------------------------------------------------------

SUNO: TaskKind[Task, GenerationResult] = TaskKind(
    name="suno",
    submit_path="/suno/create",
    poll_prefix="/suno/clip/",
    parse=SONIC.parse,
    read=SONIC.read,
)


def read_lyrics_submission(body: Any) -> TaskSubmission:
    """Read the answer of `/suno/make-lyrics`: `{"code", "data": {"task_id"}, "message"}`."""
    mapping = _object(body, what="make-lyrics answer")
    data = mapping.get("data")
    task_id = cast("dict[str, Any]", data).get("task_id") if isinstance(data, dict) else None
    return _submission(task_id, mapping, what="make-lyrics answer")


def parse_lyrics_task(
    task_id: str, status_code: int, body: Any, retry_after: float | None
) -> LyricsTask:
    """Read one poll of `/suno/get-lyrics/{id}` into a `LyricsTask`."""
    del retry_after  # lyrics tasks carry no hint worth keeping
    if status_code == 202:
        raw = cast("dict[str, Any]", body) if isinstance(body, dict) else {}
        return _with_raw(LyricsTask(task_id=task_id, status=LyricsStatus.RUNNING), raw)
    mapping = _object(body, what="lyrics task")
    kind = envelope_type(mapping, what="lyrics task")
    if kind in NOT_READY_TYPES:
        return _with_raw(LyricsTask(task_id=task_id, status=LyricsStatus.RUNNING), mapping)
    if kind is not None:
        error = failure_reason(kind, mapping)
        return _with_raw(
            LyricsTask(task_id=task_id, status=LyricsStatus.ERROR, error=error), mapping
        )
    data = mapping.get("data")
    if not isinstance(data, dict):
        raise MalformedResponseError(
            "malformed lyrics task in the API's answer: data is not a JSON object", body=body
        )
    fields = {"task_id": task_id, **cast("dict[str, Any]", data)}
    return _with_raw(structure(fields, LyricsTask, what="lyrics task.data"), mapping)


def _read_lyrics(task: LyricsTask) -> Reading[LyricsTask]:
    body = dict(task.raw)
    if task.status == LyricsStatus.COMPLETE:
        return Reading(TaskState.SUCCEEDED, result=task, body=body)
    if task.status == LyricsStatus.ERROR:
        return Reading(TaskState.FAILED, reason=task.error or "error", body=body)
    return Reading(TaskState.RUNNING)


LYRICS: TaskKind[LyricsTask, LyricsTask] = TaskKind(
    name="suno lyrics",
    submit_path="/suno/make-lyrics",
    poll_prefix="/suno/get-lyrics/",
    parse=parse_lyrics_task,
    read=_read_lyrics,
    read_submission=read_lyrics_submission,
)


# -- producer ---------------------------------------------------------------------------

PRODUCER: TaskKind[Task, GenerationResult] = TaskKind(
    name="producer",
    submit_path="/producer/create",
    poll_prefix="/producer/task/",
    parse=SONIC.parse,
    read=SONIC.read,
)


# -- studio -----------------------------------------------------------------------------


def read_studio_submission(body: Any) -> TaskSubmission:
    """Read the answer of `/studio/create`: `{"code": ..., "data": "<task id>"}`."""
    mapping = _object(body, what="studio create answer")
    data = mapping.get("data")
    if isinstance(data, dict):  # tolerate the usual `{"task_id": ...}` inside `data`
        data = cast("dict[str, Any]", data).get("task_id")
    return _submission(data, mapping, what="studio create answer")


def parse_studio_task(
    task_id: str, status_code: int, body: Any, retry_after: float | None
) -> StudioTask:
    """Read one poll of `/studio/task/{id}` (always 200, with `data.status`)."""
    del retry_after
    if status_code == 202:
        raw = cast("dict[str, Any]", body) if isinstance(body, dict) else {}
        return _with_raw(StudioTask(task_id=task_id), raw)
    mapping = _object(body, what="studio task")
    data = mapping.get("data")
    if not isinstance(data, dict):
        raise MalformedResponseError(
            "malformed studio task in the API's answer: data is not a JSON object", body=body
        )
    task = cast("dict[str, Any]", data)
    inner = task.get("data")
    if inner is not None and not isinstance(inner, dict):
        raise MalformedResponseError(
            "malformed studio task in the API's answer: data.data is not a JSON object",
            body=body,
        )
    songs = cast("dict[str, Any]", inner or {}).get("songs")
    fields: dict[str, Any] = {
        name: task[name] for name in ("status", "progress", "fail_reason") if name in task
    }
    fields["task_id"] = task.get("task_id") or task_id
    fields["songs"] = songs if songs is not None else []
    return _with_raw(structure(fields, StudioTask, what="studio task.data"), mapping)


def _read_studio(task: StudioTask) -> Reading[StudioResult]:
    body = dict(task.raw)
    if task.status == StudioStatus.SUCCESS:
        result = StudioResult(task_id=task.task_id, songs=task.songs, raw=task.raw)
        return Reading(TaskState.SUCCEEDED, result=result, body=body)
    if task.failed:
        return Reading(TaskState.FAILED, reason=task.fail_reason or task.status, body=body)
    return Reading(TaskState.RUNNING)


STUDIO: TaskKind[StudioTask, StudioResult] = TaskKind(
    name="studio",
    submit_path="/studio/create",
    poll_prefix="/studio/task/",
    parse=parse_studio_task,
    read=_read_studio,
    read_submission=read_studio_submission,
)


# -- riffusion --------------------------------------------------------------------------


def parse_riffusion_task(
    task_id: str, status_code: int, body: Any, retry_after: float | None
) -> Task:
    """Read one poll of `/riffusion/task/{id}`: Sonic's shapes, but only `code: 200` is done.

    The interim answer (`200 {"code": 102, "message": "processing", "data": []}`) is
    a running task, whatever its `data` holds.
    """
    if status_code != 202 and isinstance(body, dict):
        mapping = cast("dict[str, Any]", body)
        code = mapping.get("code")
        if not mapping.get("type") and "code" in mapping and code != 200:
            return Task(
                task_id=task_id,
                state=TaskState.RUNNING,
                retry_after=retry_after,
                raw=MappingProxyType(mapping),
            )
    return parse_task(task_id, status_code, body, retry_after=retry_after)


RIFFUSION: TaskKind[Task, GenerationResult] = TaskKind(
    name="riffusion",
    submit_path="/riffusion/create",
    poll_prefix="/riffusion/task/",
    parse=parse_riffusion_task,
    read=SONIC.read,
)


# -- nuro -------------------------------------------------------------------------------


def parse_nuro_task(
    task_id: str, status_code: int, body: Any, retry_after: float | None
) -> NuroTask:
    """Read one poll of `/nuro/task/{id}` (200 with `status` and `progress`)."""
    del retry_after
    if status_code == 202:
        raw = cast("dict[str, Any]", body) if isinstance(body, dict) else {}
        return _with_raw(NuroTask(task_id=task_id, status=NuroStatus.RUNNING), raw)
    mapping = _object(body, what="nuro task")
    kind = envelope_type(mapping, what="nuro task")
    if kind in NOT_READY_TYPES:
        return _with_raw(NuroTask(task_id=task_id, status=NuroStatus.RUNNING), mapping)
    if kind is not None and (kind in FAILURE_TYPES or "status" not in mapping):
        error = failure_reason(kind, mapping)
        return _with_raw(NuroTask(task_id=task_id, status=NuroStatus.FAILED, error=error), mapping)
    fields = {**mapping, "task_id": mapping.get("task_id") or task_id}
    return _with_raw(structure(fields, NuroTask, what="nuro task"), mapping)


def _read_nuro(task: NuroTask) -> Reading[NuroTask]:
    body = dict(task.raw)
    if task.succeeded:
        return Reading(TaskState.SUCCEEDED, result=task, body=body)
    if task.failed:
        return Reading(TaskState.FAILED, reason=task.error or "failed", body=body)
    return Reading(TaskState.RUNNING)


NURO: TaskKind[NuroTask, NuroTask] = TaskKind(
    name="nuro",
    submit_path="/nuro/create",
    poll_prefix="/nuro/task/",
    parse=parse_nuro_task,
    read=_read_nuro,
)


def song_info(body: Any) -> SongInfo:
    """Read the answer of `/suno/get-song` (no envelope)."""
    return structure(body, SongInfo, what="get-song answer")


__all__ = [
    "LYRICS",
    "NURO",
    "PRODUCER",
    "RIFFUSION",
    "STUDIO",
    "SUNO",
    "song_info",
]
