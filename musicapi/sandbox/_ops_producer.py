"""Handlers of Producer (api-reference §3.3, §4.2; plan/wire.md): create, upload, download, poll.

Producer tasks are polled on `GET /producer/task/{id}` only, with Sonic's 202 and
failure envelopes. The task types the upstream platform dropped (`music_variation`,
`swap_music_vocals`, `swap_music_sound`) are a 410 before any other rule is looked at,
as the docs describe a gone feature rather than a bad body. No Producer operation has
a documented cost, so none is charged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from musicapi.sandbox._http import Answer, json_answer, json_object
from musicapi.sandbox._ops_clips import download_clips, producer_clips, upload_clips
from musicapi.sandbox._ops_common import (
    CLIP_NOT_FOUND,
    NOT_READY,
    TASK_NOT_FOUND,
    files_url,
    find_task,
    read_body,
    start,
    submitted,
)
from musicapi.sandbox._ops_rules import PRODUCER_WITHDRAWN
from musicapi.sandbox._results import failure_body, producer_body

if TYPE_CHECKING:
    from musicapi.sandbox._app import Handler, SandboxApp
    from musicapi.sandbox._http import Request

__all__ = ["HANDLERS"]


def _withdrawn(request: Request) -> Answer | None:
    """Return the 410 for a task type the upstream platform dropped, else `None`."""
    body = json_object(request.body)
    task_type = body.get("task_type") if body is not None else None
    if isinstance(task_type, str) and task_type in PRODUCER_WITHDRAWN:
        error = f"task_type {task_type} is not supported by the upstream model platform"
        return json_answer(410, {"error": error})
    return None


def create(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /producer/create`: two instrumental (or sung) tracks, from scratch or a clip."""
    gone = _withdrawn(request)
    if gone is not None:
        return gone
    body = read_body(request, "producer/create")
    if isinstance(body, Answer):
        return body
    clip_id = body.get("clip_id")
    if clip_id and clip_id not in app.store.clips:
        return CLIP_NOT_FOUND
    record = start(
        app,
        owner,
        body,
        operation="producer/create",
        cost=0,
        family="producer",
        sources=(clip_id,) if clip_id else (),
        make=producer_clips,
    )
    return submitted(record)


def upload(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /producer/upload`: a task whose result is the uploaded clip."""
    body = read_body(request, "producer/upload")
    if isinstance(body, Answer):
        return body
    record = start(
        app,
        owner,
        body,
        operation="producer/upload",
        cost=0,
        family="producer",
        task_type="upload",
        make=upload_clips,
    )
    return submitted(record)


def download(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /producer/download`: a task whose result links a clip's audio file."""
    body = read_body(request, "producer/download")
    if isinstance(body, Answer):
        return body
    if body["clip_id"] not in app.store.clips:
        return CLIP_NOT_FOUND
    record = start(
        app,
        owner,
        body,
        operation="producer/download",
        cost=0,
        family="producer",
        task_type="download",
        sources=(body["clip_id"],),
        make=download_clips,
    )
    return submitted(record)


def task(app: SandboxApp, request: Request, _owner: str, task_id: str | None) -> Answer:
    """`GET /producer/task/{id}`: 202 while running, then the result or the failure."""
    record = find_task(app, task_id, "producer")
    if record is None:
        return TASK_NOT_FOUND
    if record.state == "running":
        return NOT_READY
    if record.state == "failed":
        return json_answer(200, failure_body(record))
    return json_answer(200, producer_body(record, files_url(request)))


HANDLERS: dict[str, Handler] = {
    "producer/create": create,
    "producer/task": task,
    "producer/upload": upload,
    "producer/download": download,
}
