"""`TaskFamily`: what every family of asynchronous jobs offers, written once.

Sonic, Suno, Producer, Studio, Riffusion and Nuro all start jobs that are polled until
they finish. Each family is a `TaskKind` (how its answers read) plus a resource built
on this class, which gives every one of them the same `get` (one poll), `wait` (the
client's task engine), create-and-wait, and batches, so that a producer batch waits,
retries and resumes exactly as a Sonic one does. `CreatingFamily` adds the three calls
built on a family's create request (`create`, `generate`, `generate_many`), so a family
says only how its request becomes a body (`_body`), plus its own other operations.

A family the API deprecated sets `_deprecated` to its message: every public call of
these classes then warns `DeprecationWarning` at the caller's line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

import anyio
import anyio.lowlevel

from musicapi._batch import AsyncBatchRun
from musicapi._converter import encode_body
from musicapi._errors import RequestValidationError
from musicapi._logging import logger
from musicapi._models import TaskSubmission
from musicapi._resources._base import Resource
from musicapi._resources._deprecated import warn_deprecated
from musicapi._tasks import TaskKind, TaskOps, checked_task_id
from musicapi._transport import log_orphaned_task, waiter_for
from musicapi._wait import check_timeout

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable

    from musicapi._engine import TaskEngine
    from musicapi._transport import Transport
    from musicapi._wait import Reading

Q = TypeVar("Q")
S = TypeVar("S")
R = TypeVar("R")
T = TypeVar("T")

DEFAULT_WAIT_TIMEOUT = 900.0
"""Fifteen minutes: longer than the slowest documented generation (about eight minutes)."""


class TaskFamily(Resource, Generic[S, R]):
    """A family of asynchronous jobs: `get`, `wait`, and the means to create and batch.

    Args:
        transport: The client's transport.
        engine: The client's task engine, which every wait and batch runs on.
        kind: How the family's jobs are submitted, polled and read.
    """

    __slots__ = ("_engine", "_kind", "_ops")

    _deprecated: ClassVar[str | None] = None
    """The deprecation message of a family the API deprecated; `None` for the others."""

    def __init__(self, transport: Transport, engine: TaskEngine, kind: TaskKind[S, R]) -> None:
        super().__init__(transport, engine.clock)
        self._engine = engine
        self._kind = kind
        self._ops = TaskOps(transport, kind)

    async def get(self, task_id: str) -> S:
        """Poll a task once and return its state; a running or failed task is not an error.

        Raises:
            NotFoundError: The task id is unknown.
            RequestValidationError: The id is not a usable task id (nothing sent).
            MusicAPIError: Any other failure, after retries.
        """
        if self._deprecated is not None:
            warn_deprecated(self._deprecated)
        return await self._ops.snapshot(checked_task_id(task_id))

    async def wait(
        self,
        task_id: str | TaskSubmission,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109 (a fixed public name; read from the injected clock)
    ) -> R:
        """Poll until the task finishes and return its result.

        The first poll is immediate; later ones back off adaptively (see
        `PollPolicy`). One deadline covers every poll, retry, wait for pacing and
        request: the wait ends within moments of it, whatever it was blocked on.
        Transient failures (5xx, 429, network, an unreadable answer) do not end the
        wait; they are retried until the deadline.

        Args:
            task_id: The task to wait for, or the submission an operation returned.
            timeout: Seconds until `WaitTimeoutError`; `None` waits forever.

        Raises:
            TaskFailedError: The task failed upstream (its credits are refunded).
            WaitTimeoutError: The deadline passed; the task may still finish.
        """
        if self._deprecated is not None:
            warn_deprecated(self._deprecated)
        return await self._wait_on(self._ops, task_id, timeout)

    async def _wait_on(
        self,
        ops: TaskOps[Any, T],
        task_id: str | TaskSubmission,
        timeout: float | None,  # noqa: ASYNC109 (read from the injected clock, as in wait)
    ) -> T:
        """Wait on a task of `ops`'s kind, its id and timeout checked as every wait's are.

        `ops` is the family's own, or a second kind the family has (suno's lyrics tasks).
        """
        if isinstance(task_id, TaskSubmission):
            task_id = task_id.task_id
        return await self._engine.wait(
            ops, checked_task_id(task_id), timeout=check_timeout(timeout)
        )

    async def _submit(
        self,
        body: Mapping[str, Any],
        *,
        path: str | None = None,
        ops: TaskOps[Any, Any] | None = None,
    ) -> TaskSubmission:
        """Start a job from a validated body; log its task id if the caller is gone.

        A POST that starts a paid job is shielded from cancellation by the transport;
        if the caller was cancelled meanwhile, the task id is logged at WARNING so the
        charged job is never invisible.

        Args:
            body: The validated request body.
            path: The submit path, if not the kind's.
            ops: The task kind to submit to, if not the family's own (suno's lyrics).
        """
        ops = ops if ops is not None else self._ops
        submission = await ops.submit(encode_body(body), path=path)
        try:
            await anyio.lowlevel.checkpoint_if_cancelled()
        except anyio.get_cancelled_exc_class():
            log_orphaned_task(submission.task_id, waiter=waiter_for(path or ops.kind.submit_path))
            raise
        return submission

    async def _submit_and_wait(
        self,
        body: Mapping[str, Any],
        *,
        timeout: float | None,  # noqa: ASYNC109 (read from the injected clock, as in wait)
        submitted_at: float,
        path: str | None = None,
    ) -> R:
        """Start a job and wait for it: the shared body of every create-and-wait.

        Args:
            body: The validated request body.
            timeout: The checked wait timeout.
            submitted_at: The clock time the caller asked, which the deadline counts from.
            path: The submit path, if not the kind's.
        """
        submission = await self._submit(body, path=path)
        try:
            return await self._engine.wait(
                self._ops,
                submission.task_id,
                timeout=timeout,
                submitted_at=submitted_at,
                webhook=body.get("webhook_url") is not None,
            )
        except anyio.get_cancelled_exc_class():
            logger.warning(
                "a %s job was cancelled while waiting for task %s, which goes on upstream; "
                "wait for it with %s.wait(%r)",
                self._kind.name,
                submission.task_id,
                self._kind.name,
                submission.task_id,
            )
            raise

    def _batch(
        self,
        requests: Iterable[Any],
        *,
        prepare: Callable[[Any], dict[str, Any]],
        concurrency: int,
        timeout: float | None,
        journal: str | os.PathLike[str] | None,
        resubmit_unknown: bool,
    ) -> AsyncBatchRun[R]:
        """Return a batch of this family's jobs on the client's engine (see `generate_many`)."""
        self._transport.ensure_open()
        return AsyncBatchRun(
            self._engine,
            self._ops,
            requests,
            prepare=prepare,
            read_journaled=self._read_journaled,
            concurrency=concurrency,
            timeout=timeout,
            journal=journal,
            resubmit_unknown=resubmit_unknown,
        )

    def _read_journaled(self, task_id: str, body: Any) -> Reading[R]:
        """Read a finished poll body kept in a batch journal."""
        return self._kind.read(self._kind.parse(task_id, 200, body, None))


class CreatingFamily(TaskFamily[S, R], Generic[Q, S, R]):
    """A family whose jobs start from one create request `Q`: `create`, `generate` and batches.

    A subclass says how a request (prepared as a `Q`, or given as the API's JSON
    fields) is validated into the body that is sent (`_body`), and which classes a
    batch item may be (`_request_types`). The three calls are then the same for every
    family, and so are their rules: a request is checked before anything is sent, and
    a batch checks each item exactly as a single call does.
    """

    __slots__ = ()

    _request_types: ClassVar[tuple[type, ...]]
    """The prepared request classes a `generate_many` item may be (besides a mapping)."""

    def _body(self, request: Q | None, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Validate a request, prepared or as keyword fields, and return its JSON body.

        Raises:
            RequestValidationError: The request breaks a documented rule.
        """
        raise NotImplementedError

    async def create(self, /, request: Q | None = None, **fields: Any) -> TaskSubmission:
        """Start a job and return its task id (`.task_id`); the job is charged now.

        Args:
            request: A prepared request of the family's request model; or pass the
                API's JSON fields as keywords (`sonic.create(custom_mode=True, mv=...,
                prompt=..., title=..., tags=...)`, `producer.create(sound=...)`, ...).
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: The request breaks a documented rule (nothing sent).
            GoneError: The API withdrew what was asked (410); nothing was charged.
            SubmissionUnknownError: The request was sent but its answer was lost.
            MusicAPIError: Any other failure, after the retries the policy allows.
        """
        if self._deprecated is not None:
            warn_deprecated(self._deprecated)
        return await self._submit(self._body(request, fields))

    async def generate(
        self,
        /,
        request: Q | None = None,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109 (as in wait)
        **fields: Any,
    ) -> R:
        """Create a job and wait for its result: the quickstart's whole loop in one call.

        Args:
            request: A prepared request, or the API's JSON fields as keywords.
            timeout: Seconds to wait for the result after submission.
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: The request breaks a documented rule (nothing sent).
            TaskFailedError: The task failed upstream (its credits are refunded).
            WaitTimeoutError: The deadline passed; wait on `.task_id` to resume.
        """
        if self._deprecated is not None:
            warn_deprecated(self._deprecated)
        timeout = check_timeout(timeout)
        submitted_at = self._clock.now()
        body = self._body(request, fields)
        return await self._submit_and_wait(body, timeout=timeout, submitted_at=submitted_at)

    def generate_many(
        self,
        requests: Iterable[Q | Mapping[str, Any]],
        *,
        concurrency: int = 64,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        journal: str | os.PathLike[str] | None = None,
        resubmit_unknown: bool = False,
    ) -> AsyncBatchRun[R]:
        """Run many jobs; yield one `Outcome` per request as each job finishes.

        Use it directly, `async for outcome in client.sonic.generate_many(requests)`, or as
        an async context manager to stop the batch when the block ends. A failed job is
        an outcome with `.error`, never an exception out of the loop, and every submitted
        task id is reported.

        Args:
            requests: Prepared requests or mappings of `create` fields; read lazily, so
                a generator of millions is fine.
            concurrency: The most jobs submitted and not yet finished at once.
            timeout: Seconds each job may take after its submission.
            journal: A JSON-lines file that makes the batch resumable: run the same batch
                with the same journal after a crash and no job with a task id is
                submitted again, and finished jobs are skipped.
            resubmit_unknown: Submit again the jobs whose create was sent but whose answer
                was lost (`SubmissionUnknownError`); they may be charged twice.

        Raises:
            RequestValidationError: `concurrency` or `timeout` is out of range, or
                `requests` is not iterable (a bad single request is an outcome instead).
            ClientClosedError: The client was closed.
        """
        if self._deprecated is not None:
            warn_deprecated(self._deprecated)
        return self._batch(
            requests,
            prepare=self._item_body,
            concurrency=concurrency,
            timeout=timeout,
            journal=journal,
            resubmit_unknown=resubmit_unknown,
        )

    def _item_body(self, item: object) -> dict[str, Any]:
        """Validate one batch item (a prepared request or a mapping) and return its body."""
        if isinstance(item, self._request_types):
            return self._body(cast("Q", item), {})
        if isinstance(item, Mapping):
            return self._body(None, dict(cast("Mapping[str, Any]", item)))
        names = " or ".join(cls.__name__ for cls in self._request_types)
        raise RequestValidationError(
            f"each request must be a {names} or a mapping of create fields, "
            f"not {type(item).__name__}",
            field="requests",
        )
