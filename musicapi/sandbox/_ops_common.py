"""The steps every task-creating handler shares: read, validate, gate, charge, start.

Kept in one place so that every family answers a broken body, a busy key and an empty
account the same way, in the same order: 400 (body, then rules), then the handler's own
404s, then 429 (`max_concurrent_jobs`), then 403 (credits), and only then is anything
made (an uploaded clip, the task).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from musicapi.sandbox._http import Answer, json_answer, json_object
from musicapi.sandbox._ops_rules import validate_operation

if TYPE_CHECKING:
    from musicapi.sandbox._app import SandboxApp
    from musicapi.sandbox._http import Request
    from musicapi.sandbox._state import ClipMaker, TaskRecord

__all__ = [
    "CLIP_NOT_FOUND",
    "NOT_READY",
    "TASK_NOT_FOUND",
    "bad_request",
    "files_url",
    "find_task",
    "read_body",
    "start",
    "submitted",
]

CLIP_NOT_FOUND = json_answer(404, {"error": "clip not found"})
TASK_NOT_FOUND = json_answer(404, {"error": "task not found"})
NOT_READY = json_answer(202, {"type": "not_ready"})


def bad_request(error: str) -> Answer:
    """Return the documented 400 for a body that breaks a rule."""
    return json_answer(400, {"error": error})


def read_body(request: Request, operation: str) -> dict[str, Any] | Answer:
    """Return the request's JSON object if it passes `operation`'s rules, else the 400."""
    body = json_object(request.body)
    if body is None:
        return bad_request("body: must be a JSON object")
    error = validate_operation(operation, body)
    return bad_request(error) if error is not None else body


def files_url(request: Request) -> str:
    """The file host's URL as the client addressed the sandbox (no trailing slash)."""
    return f"{request.origin}/files"


def find_task(app: SandboxApp, task_id: str | None, family: str) -> TaskRecord | None:
    """Return the task `task_id` of `family`, or `None` (unknown, or another family's)."""
    record = app.store.tasks.get(task_id or "")
    return record if record is not None and record.family == family else None


def start(
    app: SandboxApp,
    owner: str,
    body: dict[str, Any],
    *,
    operation: str,
    cost: int,
    family: str = "sonic",
    task_type: str | None = None,
    sources: tuple[str, ...] = (),
    make: ClipMaker | None = None,
    upload_url: str | None = None,
) -> TaskRecord | Answer:
    """Gate, charge and start a task of a validated body whose clips were found.

    Args:
        app: The sandbox.
        owner: The caller's key fingerprint.
        body: The request body.
        operation: The route name.
        cost: Credits to charge (plan/wire.md); refunded if the task fails.
        family: The task's family.
        task_type: See `TaskRecord.task_type`; `None` reads the body's.
        sources: The clips it works on.
        make: Its clip maker; `None` for two songs from the body and first source.
        upload_url: Upload this URL as a clip first (once paid), and put that clip
            first in `sources` (`upload-cover`, `upload-extend`, `sample` by URL).

    Returns:
        The task, or the 429/403 answer that stopped it.
    """
    busy = app.concurrency_answer(owner)
    if busy is not None:
        return busy
    charged = app.store.account.charge(cost)
    if charged is None:
        return app.insufficient_credits()
    if upload_url is not None:
        sources = (app.store.upload(upload_url).clip_id, *sources)
    record = app.store.create(
        body,
        owner,
        charged,
        app.faults,
        family=family,
        operation=operation,
        task_type=task_type,
        sources=sources,
        make=make,
    )
    app.task_started(owner, record.ends)
    return record


def submitted(record: TaskRecord | Answer, **extra: object) -> Answer:
    """Return the usual `{"message": "success", "task_id"}` answer (plus `extra`), or the error."""
    if isinstance(record, Answer):
        return record
    return json_answer(200, {"message": "success", "task_id": record.task_id, **extra})
