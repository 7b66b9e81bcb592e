"""Task kinds: how each family of asynchronous jobs is submitted, polled and read.

Every asynchronous operation of the API (a Sonic generation, and later producer,
studio, riffusion, nuro, suno clips and lyrics tasks) is a `TaskKind`: the path that
creates it, the path that polls it, and two pure functions, one that reads a poll's
answer into the family's own snapshot (what `get()` returns) and one that reads that
snapshot into the engine's common `Reading` (running, succeeded with a result, or
failed with a reason). The families' answers differ (studio answers 200 with a
`data.status`, riffusion may send an interim 200); the engine never sees those
differences, so one scheduler waits for all of them.

`TaskOps` binds a kind to a client's transport: the `submit` and `poll` that the
scheduler is handed, so `_engine.py` and `_batch.py` never reach into a resource.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast
from urllib.parse import quote

import attrs

from musicapi._converter import NOT_READY_TYPES, parse_midi, parse_task, result_of, structure
from musicapi._errors import RequestValidationError
from musicapi._models import GenerationResult, Midi, Task, TaskState, TaskSubmission
from musicapi._retry import Idempotency
from musicapi._wait import Reading

if TYPE_CHECKING:
    from musicapi._transport import Transport

S = TypeVar("S")
R = TypeVar("R")

MAX_TASK_ID_LENGTH = 256
"""Longer ids are refused before sending: the API's are UUIDs, and a URL has limits."""


@attrs.frozen
class TaskKind(Generic[S, R]):
    """One family of asynchronous jobs.

    Attributes:
        name: The family's name, for messages (`sonic`, `producer`, ...).
        submit_path: The path that creates a job (a POST).
        poll_prefix: The poll path without the task id (`/sonic/task/`).
        parse: Reads one poll answer (task id, status, JSON body, `Retry-After`) into
            the family's snapshot; raises `MalformedResponseError` for shapes it does
            not know.
        read: Reads a snapshot into the engine's `Reading`.
        read_submission: Reads the create's answer into a `TaskSubmission` (most
            families answer `{"task_id": ...}`; studio and lyrics tasks do not).
        poll_field: For a family polled by repeating a POST (`/sonic/midi`, whose
            202 means "call again"), the JSON field that carries the id; `None` for
            the usual `GET <poll_prefix><id>`.
    """

    name: str
    submit_path: str
    poll_prefix: str
    parse: Callable[[str, int, Any, float | None], S]
    read: Callable[[S], Reading[R]]
    read_submission: Callable[[Any], TaskSubmission] = attrs.field(
        default=lambda body: structure(body, TaskSubmission, what="create response")
    )
    poll_field: str | None = None

    def poll_path(self, task_id: str) -> str:
        """Return the poll path of `task_id`, the id percent-encoded as one path segment."""
        if self.poll_field is not None:
            return self.poll_prefix
        return self.poll_prefix + quote(task_id, safe="")


def _read_sonic(task: Task) -> Reading[GenerationResult]:
    if task.state == TaskState.SUCCEEDED:
        return Reading(TaskState.SUCCEEDED, result=result_of(task), body=dict(task.raw))
    if task.state == TaskState.FAILED:
        return Reading(TaskState.FAILED, reason=task.reason or "failed", body=dict(task.raw))
    return Reading(TaskState.RUNNING, hint=task.retry_after)


def _parse_sonic(task_id: str, status: int, body: Any, retry_after: float | None) -> Task:
    return parse_task(task_id, status, body, retry_after=retry_after)


SONIC: TaskKind[Task, GenerationResult] = TaskKind(
    name="sonic",
    submit_path="/sonic/create",
    poll_prefix="/sonic/task/",
    parse=_parse_sonic,
    read=_read_sonic,
)


def _parse_midi(clip_id: str, status: int, body: Any, retry_after: float | None) -> Reading[Midi]:
    """Read one answer of `POST /sonic/midi`: 202 (or `not_ready`) is running, 200 the result.

    A failure body (`{"type": "failed", ...}`, as the task endpoints send) ends the wait
    as a failure; any other 200 must carry the MIDI file's `data`.
    """
    kind: object = cast("dict[str, Any]", body).get("type") if isinstance(body, dict) else None
    if status == 202 or kind in NOT_READY_TYPES:
        return Reading(TaskState.RUNNING, hint=retry_after, body=body)
    if isinstance(kind, str) and kind:
        detail = cast("dict[str, Any]", body)
        reason = detail.get("error") or detail.get("message")
        return Reading(TaskState.FAILED, reason=f"{kind}: {reason}" if reason else kind, body=body)
    return Reading(TaskState.SUCCEEDED, result=parse_midi(clip_id, body), body=body)


def _same(reading: Reading[Midi]) -> Reading[Midi]:
    return reading


MIDI: TaskKind[Reading[Midi], Midi] = TaskKind(
    name="sonic.midi",
    submit_path="/sonic/midi",
    poll_prefix="/sonic/midi",
    parse=_parse_midi,
    read=_same,
    poll_field="clip_id",
)
"""`/sonic/midi`: polled by repeating the POST with the clip id until it answers 200.

The "task id" the engine waits on is the clip id; nothing is ever submitted.
"""


class TaskOps(Generic[S, R]):
    """A task kind bound to one client's transport: what the scheduler is handed.

    Args:
        transport: The client's transport.
        kind: The family of the jobs.
    """

    __slots__ = ("_kind", "_transport")

    def __init__(self, transport: Transport, kind: TaskKind[S, R]) -> None:
        self._transport = transport
        self._kind = kind

    @property
    def kind(self) -> TaskKind[S, R]:
        """The task kind these operations submit and poll."""
        return self._kind

    @property
    def max_retries(self) -> int:
        """The client's retry budget, which a batch spends across its resubmission rounds."""
        return self._transport.max_retries

    async def submit(
        self,
        payload: bytes,
        *,
        path: str | None = None,
        before_send: Callable[[], None] | None = None,
        retries: int | None = None,
    ) -> TaskSubmission:
        """Create a job from its JSON body (already validated and encoded).

        Args:
            payload: The request body, UTF-8 JSON.
            path: The path to POST to, when the family has several ways to start a job
                (`/sonic/stems/basic` is polled like `/sonic/create`); the kind's
                `submit_path` by default.
            before_send: Called just before the POST goes on the wire (the journal's cue).
            retries: Resends the transport may make itself (`None`: the client's
                `max_retries`); a batch passes 0 and schedules its own.
        """
        response = await self._transport.request(
            "POST",
            path or self._kind.submit_path,
            content=payload,
            idempotency=Idempotency.CREATE,
            before_send=before_send,
            retries=retries,
        )
        return self._kind.read_submission(response.body)

    async def snapshot(self, task_id: str, *, deadline: float | None = None) -> S:
        """Poll once and return the family's snapshot (what `get()` returns)."""
        field = self._kind.poll_field
        response = await self._transport.request(
            "GET" if field is None else "POST",
            self._kind.poll_path(task_id),
            json_body=None if field is None else {field: task_id},
            deadline=deadline,
        )
        return self._kind.parse(task_id, response.status_code, response.body, response.retry_after)

    async def poll(self, task_id: str, *, deadline: float | None = None) -> Reading[R]:
        """Poll once and return the engine's reading of the answer."""
        return self._kind.read(await self.snapshot(task_id, deadline=deadline))


def checked_task_id(task_id: object, *, field: str = "task_id") -> str:
    """Return `task_id` stripped, or raise if it cannot name a task.

    Refused before anything is sent: a non-string, an empty id, `.` and `..` (which
    would climb the URL path to another endpoint), control characters, and ids longer
    than `MAX_TASK_ID_LENGTH`.

    Args:
        task_id: The id to check.
        field: The parameter's name in messages and `.field` (`batch_id` for a batch).

    Raises:
        RequestValidationError: The id is unusable; `.field` is `field`.
    """
    if not isinstance(task_id, str):
        raise RequestValidationError(
            f"{field} must be a string, not {type(task_id).__name__}", field=field
        )
    stripped = task_id.strip()
    if not stripped or stripped in (".", ".."):
        raise RequestValidationError(f"{field} must name a task, got {task_id[:40]!r}", field=field)
    if len(stripped) > MAX_TASK_ID_LENGTH:
        raise RequestValidationError(
            f"{field} is {len(stripped)} characters; task ids are at most {MAX_TASK_ID_LENGTH}",
            field=field,
        )
    if any(ord(char) < 32 or ord(char) == 127 for char in stripped) or _has_surrogate(stripped):
        raise RequestValidationError(
            f"{field} contains control or unencodable characters", field=field
        )
    return stripped


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
