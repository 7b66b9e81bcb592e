"""Handlers of the routes that create or poll tasks, and of credits.

Each handler takes the app, the request, the caller's key fingerprint and the path's
`{id}` (or `None`), and returns the answer. Authentication, the rate limit and the
method were checked by `_app.py` before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from musicapi.sandbox._http import Answer, json_answer, json_object
from musicapi.sandbox._results import failure_body, success_body
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
    """`POST /sonic/create`: validate, charge and start a generation (§3.1)."""
    body = json_object(request.body)
    if body is None:
        return json_answer(400, {"error": "body: must be a JSON object"})
    error = validate_create(body)
    if error is not None:
        return json_answer(400, {"error": error})
    if body.get("continue_clip_id") and body["continue_clip_id"] not in app.store.clips:
        return json_answer(404, {"error": "clip not found"})
    busy = app.concurrency_answer(owner)
    if busy is not None:
        return busy
    charged = app.store.account.charge(cost_of(body.get("task_type") or "create_music"))
    if charged is None:
        return app.insufficient_credits()
    record = app.store.create(body, owner, charged, app.faults)
    app.task_started(owner, record.ends)
    return json_answer(200, {"message": "success", "task_id": record.task_id})


def task(app: SandboxApp, request: Request, _owner: str, task_id: str | None) -> Answer:
    """`GET /sonic/task/{id}`: 202 while running, then the result or the failure (§2.2)."""
    record = app.store.tasks.get(task_id or "")
    if record is None:
        return json_answer(404, {"error": "task not found"})
    if record.state == "running":
        return json_answer(202, {"type": "not_ready"})
    if record.state == "failed":
        return json_answer(200, failure_body(record))
    body = success_body(
        record, f"{request.origin}/files", duration_as_string=app.faults.duration_as_string
    )
    return json_answer(200, body)


HANDLERS: dict[str, Handler] = {"credits": credits, "create": create, "task": task}
