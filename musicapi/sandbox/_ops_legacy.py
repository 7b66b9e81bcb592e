"""Handlers of the older families: Studio, Riffusion (deprecated) and Nuro (withdrawn).

Each has its own poll shape (plan/wire.md), which is the point of serving them: an SDK
that only knew Sonic's 202-then-200 would get all three wrong.

* Studio always answers 200 with a status string, and 400 for an unknown task.
* Riffusion answers 202 for the first third of a task, then an interim
  `{"code": 102, "message": "processing", "data": []}` until it ends.
* Nuro answers 410 Gone by default, as the live API now does; with
  `Sandbox(legacy_nuro=True)` it serves the documented create and poll (always 200,
  a status and a progress; 404 `not_found` for an unknown task).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from musicapi.sandbox._http import Answer, json_answer
from musicapi.sandbox._ops_clips import nuro_clips, riffusion_clips, studio_clips
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
from musicapi.sandbox._results import failure_body, nuro_body, riffusion_body, studio_body

if TYPE_CHECKING:
    from musicapi.sandbox._app import Handler, SandboxApp
    from musicapi.sandbox._http import Request

__all__ = ["HANDLERS", "NURO_GONE"]

STUDIO_COST = 15
RIFFUSION_COST = 12
NURO_COST = 10
NURO_GONE = (
    "Nuro has been discontinued: use /sonic/create for songs "
    "or /producer/create for background music"
)
_INTERIM: dict[str, object] = {"code": 102, "message": "processing", "data": []}


def studio_create(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /studio/create`: two songs; answered `{"code": "success", "data": <task id>}`."""
    body = read_body(request, "studio/create")
    if isinstance(body, Answer):
        return body
    record = start(
        app,
        owner,
        body,
        operation="studio/create",
        cost=STUDIO_COST,
        family="studio",
        task_type="studio-generate",
        make=studio_clips,
    )
    if isinstance(record, Answer):
        return record
    return json_answer(200, {"code": "success", "data": record.task_id})


def studio_task(app: SandboxApp, request: Request, _owner: str, task_id: str | None) -> Answer:
    """`GET /studio/task/{id}`: always 200 with the status; 400 for an unknown task."""
    record = find_task(app, task_id, "studio")
    if record is None:
        return json_answer(400, {"code": "error", "message": "task not found"})
    return json_answer(200, studio_body(record, files_url(request), app.clock.now()))


def riffusion_create(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /riffusion/create`: two FUZZ songs, from scratch or a known clip."""
    body = read_body(request, "riffusion/create")
    if isinstance(body, Answer):
        return body
    clip_id = body.get("continue_clip_id")
    if clip_id and clip_id not in app.store.clips:
        return CLIP_NOT_FOUND
    record = start(
        app,
        owner,
        body,
        operation="riffusion/create",
        cost=RIFFUSION_COST,
        family="riffusion",
        sources=(clip_id,) if clip_id else (),
        make=riffusion_clips,
    )
    return submitted(record)


def riffusion_task(app: SandboxApp, request: Request, _owner: str, task_id: str | None) -> Answer:
    """`GET /riffusion/task/{id}`: 202, then an interim 200 (`code` 102), then the result."""
    record = find_task(app, task_id, "riffusion")
    if record is None:
        return TASK_NOT_FOUND
    if record.state == "running":
        third = record.started + (record.ends - record.started) / 3
        return NOT_READY if app.clock.now() < third else json_answer(200, _INTERIM)
    if record.state == "failed":
        return json_answer(200, failure_body(record))
    return json_answer(200, riffusion_body(record, files_url(request)))


def _gone() -> Answer:
    return json_answer(410, {"error": NURO_GONE})


def nuro_create(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /nuro/create`: 410 Gone, or (legacy) one vocal song or BGM track."""
    if not app.store.legacy_nuro:
        return _gone()
    body = read_body(request, "nuro/create")
    if isinstance(body, Answer):
        return body
    record = start(
        app,
        owner,
        body,
        operation="nuro/create",
        cost=NURO_COST,
        family="nuro",
        task_type=str(body["type"]),
        make=nuro_clips,
    )
    return submitted(record)


def nuro_task(app: SandboxApp, request: Request, _owner: str, task_id: str | None) -> Answer:
    """`GET /nuro/task/{id}`: 410 Gone, or (legacy) always 200 with status and progress."""
    if not app.store.legacy_nuro:
        return _gone()
    record = find_task(app, task_id, "nuro")
    if record is None:
        return json_answer(404, {"type": "not_found", "error": "task not found"})
    return json_answer(200, nuro_body(record, files_url(request), app.clock.now()))


HANDLERS: dict[str, Handler] = {
    "studio/create": studio_create,
    "studio/task": studio_task,
    "riffusion/create": riffusion_create,
    "riffusion/task": riffusion_task,
    "nuro/create": nuro_create,
    "nuro/task": nuro_task,
}
