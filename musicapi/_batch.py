"""`generate_many`: many jobs on the task engine, one outcome each, resumable.

`AsyncBatchRun` turns the caller's requests into jobs for a `Scheduler` (see
`_engine.py`) and keeps the optional journal (`_journal.py`) up to date as each job
progresses, so running the same batch again never resubmits a job that has a task id
and skips jobs that are finished. It is generic over task kinds: it is handed the
kind's operations and a `prepare` function that validates one request and returns its
JSON body, and never reaches into a resource.

Every request yields exactly one `Outcome`. A request that cannot be prepared is its
own error outcome and the batch goes on; an exception raised by the caller's own
iterable of requests is re-raised as itself, but only after every job already sent has
been reported (or journaled).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from musicapi._converter import encode_body
from musicapi._engine import Job, Outcome
from musicapi._errors import (
    MusicAPIError,
    RequestValidationError,
    SubmissionUnknownError,
    TaskFailedError,
)
from musicapi._journal import Event, JobRecord, Journal, body_digest, key_for
from musicapi._logging import logger
from musicapi._models import TaskState
from musicapi._wait import check_timeout

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable, Iterator
    from types import TracebackType

    from typing_extensions import Self

    from musicapi._engine import TaskEngine, TaskOperations
    from musicapi._wait import Reading

__all__ = ["AsyncBatchRun", "Outcome"]

R = TypeVar("R")

MAX_CONCURRENCY = 1 << 20
"""The most jobs a batch runs at once, whatever `concurrency` asks (more changes nothing)."""


class AsyncBatchRun(Generic[R]):
    """The iterator `generate_many` returns: an async iterator and async context manager.

    Iterate it to get one `Outcome` per request, in completion order. Leaving its
    `async with` block (or calling `aclose()`) stops the batch: nothing more is
    submitted, and the journal is synced and closed.
    """

    def __init__(
        self,
        engine: TaskEngine,
        ops: TaskOperations[R],
        requests: Iterable[Any],
        *,
        prepare: Callable[[Any], Mapping[str, Any]],
        read_journaled: Callable[[str, Any], Reading[R]],
        concurrency: int,
        timeout: float | None,
        journal: str | os.PathLike[str] | None,
        resubmit_unknown: bool,
    ) -> None:
        concurrency = _check_concurrency(concurrency)
        check_timeout(timeout)
        kind = type(requests).__name__
        if isinstance(requests, (str, bytes, bytearray, Mapping)):
            raise RequestValidationError(
                "requests must be an iterable of requests (a list, a generator, ...), "
                f"not a single {kind}",
                field="requests",
            )
        try:
            inputs = iter(requests)
        except TypeError:
            raise RequestValidationError(
                f"requests must be an iterable of requests, not {type(requests).__name__}",
                field="requests",
            ) from None
        self._inputs: Iterator[tuple[int, Any]] = enumerate(inputs)
        self._prepare = prepare
        self._read_journaled = read_journaled
        self._timeout = timeout
        self._journal_path = journal
        self._journal: Journal | None = None
        self._resubmit_unknown = resubmit_unknown
        self._occurrences: dict[str, int] = {}
        self._input_error: BaseException | None = None
        self._stepping = False
        self._closing = False
        self._clock = engine.clock
        self._scheduler = engine.scheduler(
            ops,
            feed=self._next_job,
            concurrency=concurrency,
            timeout=timeout,
            learn=True,
            events=self if journal is not None else None,
        )

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Outcome[R]:
        if self._journal is None and self._journal_path is not None and not self._closing:
            self._journal = Journal(self._journal_path)
        self._stepping = True
        try:
            outcome = await self._scheduler.next_outcome()
        finally:
            self._stepping = False
            if self._journal is not None:
                if self._closing:
                    self._journal.close()
                else:
                    self._journal.sync()
        if outcome is not None:
            return outcome
        await self.aclose()
        if self._input_error is not None:
            error, self._input_error = self._input_error, None
            raise error
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop the batch: nothing more is submitted, and the journal is synced and closed.

        Called while a step runs (from another task), it lets the creates already on the
        wire be answered and journaled first: the journal closes when that step ends.
        """
        self._scheduler.close()
        self._closing = True
        if self._journal is not None and not self._stepping:
            self._journal.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- turning requests into jobs ---------------------------------------------------

    def _next_job(self) -> Job | Outcome[R] | None:
        """Take the next request: a job to run, an outcome ready at once, or `None` at the end."""
        try:
            index, request = next(self._inputs)
        except StopIteration:
            return None
        except Exception as exc:  # the caller's iterable failed: re-raised after the rest
            self._input_error = exc
            return None
        try:
            body = self._prepare(request)
            payload = encode_body(body)
        except RequestValidationError as exc:
            return Outcome(request=request, index=index, task_id=None, error=exc)
        except (ValueError, TypeError, UnicodeError, RecursionError) as exc:
            error = RequestValidationError(
                f"request {index} cannot be sent: {type(exc).__name__}: {exc}", field="requests"
            )
            return Outcome(request=request, index=index, task_id=None, error=error)
        job = Job(
            index=index, request=request, payload=payload, webhook=bool(body.get("webhook_url"))
        )
        if self._journal is None:
            return job
        digest = body_digest(payload)  # the payload is the journal's canonical form
        occurrence = self._occurrences.get(digest, 0)
        self._occurrences[digest] = occurrence + 1
        job.key = key_for(digest, occurrence)
        record = self._journal.get(job.key)
        return job if record is None else self._resume(job, record)

    def _resume(self, job: Job, record: JobRecord) -> Job | Outcome[R]:
        """Continue a job the journal knows: report it, wait for it, or resubmit it."""
        if record.event in Event.FINAL:
            return self._journaled_outcome(job, record)
        if record.task_id is not None:
            job.task_id, job.payload = record.task_id, None
            now = self._clock.now()
            age = 0.0
            if record.submitted_at is not None and math.isfinite(record.submitted_at):
                age = max(0.0, time.time() - record.submitted_at)
            job.submitted_at = now - age
            job.first_poll_at = now
            return job
        if self._resubmit_unknown:
            return job
        error = SubmissionUnknownError(
            "the journal shows this create was sent but its answer was lost; it was not resent "
            "(pass resubmit_unknown=True to submit it again)"
        )
        return Outcome(
            request=job.request, index=job.index, task_id=None, error=error, from_journal=True
        )

    def _journaled_outcome(self, job: Job, record: JobRecord) -> Outcome[R]:
        task_id = record.task_id or ""
        outcome: Outcome[R] = Outcome(
            request=job.request, index=job.index, task_id=record.task_id, from_journal=True
        )
        try:
            reading = self._read_journaled(task_id, record.body)
        except MusicAPIError as exc:
            return attrs.evolve(outcome, error=exc)
        if record.event == Event.SUCCEEDED and reading.state == TaskState.SUCCEEDED:
            return attrs.evolve(outcome, result=reading.result)
        reason = record.reason or reading.reason or "failed"
        return attrs.evolve(outcome, error=TaskFailedError(task_id, reason, body=record.body))

    # -- journal events (the scheduler calls these) -----------------------------------

    def sending(self, job: Job) -> None:
        """Record that a create is about to be sent."""
        self._record(job, Event.SENDING)

    def submitted(self, job: Job) -> None:
        """Record the task id the moment it is known."""
        self._record(job, Event.SUBMITTED, task_id=job.task_id)

    def unknown(self, job: Job) -> None:
        """Record a create whose answer was lost."""
        self._record(job, Event.UNKNOWN)

    def finished(self, job: Job, outcome: Outcome[Any], body: Any) -> None:
        """Record a final outcome that came from the task itself."""
        if job.task_id is None:
            return
        if outcome.ok:
            self._record(job, Event.SUCCEEDED, task_id=job.task_id, body=body)
        elif body is not None:
            reason = getattr(outcome.error, "reason", None) or "failed"
            self._record(job, Event.FAILED, task_id=job.task_id, body=body, reason=reason)

    def _record(self, job: Job, event: str, **fields: Any) -> None:
        """Append to the journal; a journal that fails must not take a job down with it.

        The outcome is still reported; the task id is logged at WARNING so that a job
        the journal could not record is never invisible.
        """
        if self._journal is None or job.key is None:
            return
        try:
            self._journal.append(job.key, event, **fields)
        except (OSError, ValueError, TypeError) as exc:
            logger.warning(
                "could not journal %s of request %d (task %s): %s",
                event,
                job.index,
                job.task_id or "<none yet>",
                exc,
            )


def _check_concurrency(concurrency: object) -> int:
    """Return `concurrency`, capped at `MAX_CONCURRENCY`, or raise if it is not a job count.

    A cap above any batch's size changes nothing, and the scheduler counts in floats,
    which an integer such as `10**400` would overflow.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        shown = repr(concurrency)[:60] if not isinstance(concurrency, int) else str(concurrency)
        raise RequestValidationError(
            f"concurrency must be a whole number of jobs, 1 or more, got {shown}",
            field="concurrency",
        )
    return min(concurrency, MAX_CONCURRENCY)
