"""`POST /sonic/batch` and `GET /sonic/batch?batch_id=...` (api-reference §3.7b, plan/wire.md).

A batch is up to ten create bodies submitted at once. Each item is checked and paid
for on its own, exactly as `/sonic/create` would: an item that breaks a rule, names
an unknown clip or persona, meets a busy key or an empty account is reported by index
with its error and charged nothing, while the others start. The whole request is a
400 only when `items` itself is wrong (not an array of 1 to 10 items). Each started
item is an ordinary Sonic task: polled on `/sonic/task/{id}`, and delivered to its own
`webhook_url`, if any.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any, cast

from musicapi.sandbox._http import Answer, json_answer, json_object
from musicapi.sandbox._ops_common import bad_request
from musicapi.sandbox._ops_sonic import create_problem
from musicapi.sandbox._state import BatchItem, BatchRecord
from musicapi.sandbox._validate import cost_of, unrepresentable, validate_create

if TYPE_CHECKING:
    from musicapi.sandbox._app import Handler, SandboxApp
    from musicapi.sandbox._http import Request

__all__ = ["HANDLERS", "MAX_ITEMS"]

MAX_ITEMS = 10
"""The most items one batch may hold (§3.7b)."""


def _item_error(app: SandboxApp, item: object) -> str | None:
    """Say why the create body `item` cannot start, as a 400 or 404 would, else `None`."""
    if not isinstance(item, dict):
        return "body: must be a JSON object"
    body = cast("dict[str, Any]", item)
    error = validate_create(body)
    if error is not None:
        return error
    problem = create_problem(app, body)
    if problem is None:
        return None
    status, message = problem
    field = "persona_id" if "persona" in message else "continue_clip_id"
    return message if status == 400 else f"{field}: {message}"


def _submit(app: SandboxApp, owner: str, index: int, item: object) -> BatchItem:
    """Start the task of one item, or say why not; charges only what starts."""
    error = _item_error(app, item)
    if error is not None:
        return BatchItem(index=index, error=error)
    body = cast("dict[str, Any]", item)
    if app.concurrency_answer(owner) is not None:
        return BatchItem(index=index, error="too many concurrent jobs")
    charged = app.store.account.charge(cost_of(body.get("task_type") or "create_music"))
    if charged is None:
        return BatchItem(index=index, error="Insufficient credits")
    clip_id = body.get("continue_clip_id")
    record = app.store.create(
        body,
        owner,
        charged,
        app.faults,
        operation="sonic/batch",
        sources=(clip_id,) if clip_id else (),
    )
    app.task_started(owner, record.ends)
    return BatchItem(index=index, task_id=record.task_id)


def batch(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /sonic/batch`: start every valid item; report the others by index."""
    body = json_object(request.body)
    if body is None:
        return bad_request("body: must be a JSON object")
    items = body.get("items")
    if not isinstance(items, list):
        return bad_request("items: required, an array of create bodies")
    items = cast("list[object]", items)
    if not 1 <= len(items) <= MAX_ITEMS:
        return bad_request(f"items: must hold 1 to {MAX_ITEMS} items (got {len(items)})")
    for name, value in body.items():
        problem = unrepresentable(value) if name != "items" else None
        if problem is not None:
            return bad_request(f"{name}: {problem}")
    entries = [_submit(app, owner, index, item) for index, item in enumerate(items)]
    record = BatchRecord(batch_id=app.store.new_id(), items=entries)
    app.store.batches[record.batch_id] = record
    tasks = [
        {"index": e.index, "task_id": e.task_id}
        if e.task_id is not None
        else {"index": e.index, "error": e.error}
        for e in entries
    ]
    accepted = sum(1 for entry in entries if entry.task_id is not None)
    return json_answer(
        200,
        {"message": "success", "batch_id": record.batch_id, "submitted": accepted, "tasks": tasks},
    )


def batch_status(app: SandboxApp, request: Request, _owner: str, _param: str | None) -> Answer:
    """`GET /sonic/batch?batch_id=ID`: the state of each started task of a batch."""
    query = urllib.parse.parse_qs(request.query, errors="replace")
    batch_id = (query.get("batch_id") or [""])[0]
    if not batch_id:
        return bad_request("batch_id: required")
    record = app.store.batches.get(batch_id)
    if record is None:
        return json_answer(404, {"error": "batch not found"})
    tasks = [
        {"index": item.index, "task_id": item.task_id, "state": app.store.tasks[item.task_id].state}
        for item in record.items
        if item.task_id is not None
    ]
    return json_answer(200, {"code": 200, "batch_id": record.batch_id, "tasks": tasks})


HANDLERS: dict[str, Handler] = {"sonic/batch": batch, "sonic/batch-status": batch_status}
