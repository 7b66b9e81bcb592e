"""Handlers of the routes that create or poll tasks, and of credits.

Each handler takes the app, the request, the caller's key fingerprint and the path's
`{id}` (or `None`), and returns the answer. Authentication, the rate limit and the
method were checked by `_app.py` before.

This module holds credits, `/sonic/create` and its poll (with their Suno aliases) and
the lyrics tasks; the other families live in their own modules (`_ops_sonic.py`,
`_ops_batch.py`, `_ops_producer.py`, `_ops_legacy.py`), and `HANDLERS` gathers them all.
A poll route serves only its own family's tasks: a Producer task id is unknown to
`/sonic/task/{id}`, as it would be upstream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from musicapi.sandbox import _ops_batch, _ops_legacy, _ops_producer, _ops_sonic
from musicapi.sandbox._http import Answer, json_answer, json_object
from musicapi.sandbox._ops_clips import no_clips
from musicapi.sandbox._ops_common import (
    NOT_READY,
    TASK_NOT_FOUND,
    files_url,
    find_task,
    read_body,
    start,
)
from musicapi.sandbox._results import failure_body, lyrics_body, success_body
from musicapi.sandbox._validate import cost_of, validate_create

if TYPE_CHECKING:
    from musicapi.sandbox._app import Handler, SandboxApp
    from musicapi.sandbox._http import Request

__all__ = ["HANDLERS"]


def credits(app: SandboxApp, _request: Request, _owner: str, _param: str | None) -> Answer:
    """`GET /get-credits`: both credit pools (api-reference §3.7)."""
    account = app.store.account
    return json_answer(200, {"credits": account.credits, "extra_credits": account.extra_credits})


def create(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /sonic/create` (and `/suno/create`): validate, charge and start a generation."""
    body = json_object(request.body)
    if body is None:
        return json_answer(400, {"error": "body: must be a JSON object"})
    error = validate_create(body)
    if error is not None:
        return json_answer(400, {"error": error})
    problem = _ops_sonic.create_problem(app, body)
    if problem is not None:
        return json_answer(problem[0], {"error": problem[1]})
    clip_id = body.get("continue_clip_id")
    record = start(
        app,
        owner,
        body,
        operation="create",
        cost=cost_of(body.get("task_type") or "create_music"),
        sources=(clip_id,) if clip_id else (),
    )
    if isinstance(record, Answer):
        return record
    return json_answer(200, {"message": "success", "task_id": record.task_id})


def task(app: SandboxApp, request: Request, _owner: str, task_id: str | None) -> Answer:
    """`GET /sonic/task/{id}` (and `/suno/clip/{id}`): 202 while running, then the result."""
    record = find_task(app, task_id, "sonic")
    if record is None:
        return TASK_NOT_FOUND
    if record.state == "running":
        return NOT_READY
    if record.state == "failed":
        return json_answer(200, failure_body(record))
    body = success_body(
        record, files_url(request), duration_as_string=app.faults.duration_as_string
    )
    return json_answer(200, body)


def make_lyrics(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /suno/make-lyrics`: a lyrics task (from the separate lyrics pool: not charged)."""
    body = read_body(request, "suno/make-lyrics")
    if isinstance(body, Answer):
        return body
    record = start(
        app,
        owner,
        body,
        operation="suno/make-lyrics",
        cost=0,
        family="lyrics",
        task_type="make-lyrics",
        make=no_clips,
    )
    if isinstance(record, Answer):
        return record
    return json_answer(
        200, {"code": 200, "data": {"task_id": record.task_id}, "message": "success"}
    )


def get_lyrics(app: SandboxApp, _request: Request, _owner: str, task_id: str | None) -> Answer:
    """`GET /suno/get-lyrics/{id}`: `running`, then `complete` with the text, or `error`."""
    record = find_task(app, task_id, "lyrics")
    if record is None:
        return TASK_NOT_FOUND
    return json_answer(200, lyrics_body(record))


HANDLERS: dict[str, Handler] = {
    "credits": credits,
    "create": create,
    "task": task,
    "suno/create": create,
    "suno/clip": task,
    "suno/make-lyrics": make_lyrics,
    "suno/get-lyrics": get_lyrics,
    **_ops_sonic.HANDLERS,
    **_ops_batch.HANDLERS,
    **_ops_producer.HANDLERS,
    **_ops_legacy.HANDLERS,
}
