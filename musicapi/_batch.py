"""The `generate_many` engine: many jobs, one outcome each, resumable.

A job is data, not a task: a record in a heap ordered by when it next needs a request
(its submission or its next poll). One dispatcher starts a short-lived task per HTTP
request, never more than the client's in-flight cap, and each request passes through
the client's shared pacing budget; so ten thousand jobs in flight cost ten thousand
small records and a few dozen tasks, and no job ever sleeps on its own.

The engine runs only inside `__anext__`: each call runs a round of dispatching until
an outcome is ready, lets the requests in flight finish (they take milliseconds), and
returns. Nothing runs between two calls, so the iterator needs no background task and
can be used with a plain `async for` (and bridged to a plain `for` by the sync facade),
and cancelling the consumer stops new submissions at once. A create that is already on
the wire is shielded from that cancellation, so its task id is not lost.

Every request yields exactly one `Outcome`. Errors are outcomes, never exceptions out of
the iterator. The optional journal (`_journal.py`) records each job as it progresses, so
running the same batch again never resubmits a job that has a task id, and skips jobs
that are finished.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import anyio
import attrs

from musicapi._converter import parse_task, result_of, unstructure_request
from musicapi._errors import (
    APIConnectionError,
    MusicAPIError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    SubmissionUnknownError,
    TaskFailedError,
    WaitTimeoutError,
)
from musicapi._estimate import DurationEstimator
from musicapi._journal import Event, Journal, fingerprint
from musicapi._models import GenerationResult, SonicCreateRequest, TaskState
from musicapi._validation import prepare_request

if TYPE_CHECKING:
    import os
    from types import TracebackType

    from typing_extensions import Self

    from musicapi._resources.sonic import SonicResource

__all__ = ["AsyncBatchRun", "Outcome"]

PROBE_JOBS = 4
"""Jobs that poll on the adaptive schedule before the batch has learned its task time."""
MAX_SUBMIT_ROUNDS = 8
"""Rounds of resubmission after transient failures the server answered (429, 5xx)."""
_TRANSIENT = (RateLimitError, ServerError, APIConnectionError)


@attrs.frozen(kw_only=True)
class Outcome:
    """What became of one request of a batch.

    Attributes:
        request: The request exactly as the caller passed it.
        index: Its position in the caller's sequence of requests.
        task_id: The task's id, or `None` only if no task was ever assigned.
        result: The finished result, or `None`.
        error: The `MusicAPIError` that ended the job, or `None`.
        from_journal: Whether this outcome was read from the journal, not fetched now.
    """

    request: Any
    index: int
    task_id: str | None
    result: GenerationResult | None = None
    error: MusicAPIError | None = None
    from_journal: bool = False

    @property
    def ok(self) -> bool:
        """Whether the job succeeded."""
        return self.error is None


@attrs.define(eq=False)
class _Job:
    index: int
    request: Any
    prepared: SonicCreateRequest
    key: str
    task_id: str | None = None
    submitted_at: float = 0.0
    deadline: float | None = None
    last_poll_elapsed: float = 0.0
    polls: int = 0
    submit_rounds: int = 0
    token: int = 0
    probe: bool = False
    calibrating: bool = False

    @property
    def submitting(self) -> bool:
        return self.task_id is None


class AsyncBatchRun:
    """The iterator `generate_many` returns: async iterator and async context manager."""

    def __init__(
        self,
        sonic: SonicResource,
        requests: Iterable[SonicCreateRequest | Mapping[str, Any]],
        *,
        concurrency: int,
        timeout: float | None,
        journal: str | os.PathLike[str] | None,
        resubmit_unknown: bool,
        max_in_flight: int,
    ) -> None:
        if concurrency < 1:
            raise RequestValidationError("concurrency must be 1 or more", field="concurrency")
        self._sonic = sonic
        self._clock = sonic.clock
        self._policy = sonic.policy
        self._inputs: Iterator[tuple[int, Any]] = enumerate(requests)
        self._concurrency = concurrency
        self._timeout = timeout
        self._journal_path = journal
        self._journal: Journal | None = None
        self._resubmit_unknown = resubmit_unknown
        self._max_in_flight = max_in_flight
        self._occurrences: dict[str, int] = {}
        self._due: list[tuple[float, int, int, _Job]] = []
        self._seq = itertools.count()
        self._ready: deque[Outcome] = deque()
        self._active = 0
        self._in_flight = 0
        self._probing = 0
        self._parked: list[_Job] = []
        self._inputs_done = False
        self._closed = False
        self._estimator = DurationEstimator()
        self._rng = random.Random()  # noqa: S311 (poll jitter)
        self._wake_scope: anyio.CancelScope | None = None

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Outcome:
        if not self._ready and not self._closed:
            if self._journal is None and self._journal_path is not None:
                self._journal = Journal(self._journal_path)
            await self._run_round()
        if self._ready:
            return self._ready.popleft()
        self._close_journal()
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Stop the batch: nothing more is submitted, and the journal is synced and closed."""
        self._closed = True
        self._close_journal()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _close_journal(self) -> None:
        if self._journal is not None:
            self._journal.close()

    # -- the dispatcher ----------------------------------------------------------------

    def _finished(self) -> bool:
        return self._inputs_done and self._active == 0 and self._in_flight == 0

    async def _run_round(self) -> None:
        try:
            async with anyio.create_task_group() as group:
                while not self._ready and not self._finished():
                    self._dispatch(group)
                    if self._ready or self._finished():
                        break
                    await self._sleep_until_due()
        except BaseException:
            if self._journal is not None:
                self._journal.sync()
            raise

    def _dispatch(self, group: anyio.abc.TaskGroup) -> None:
        now = self._clock.now()
        while self._in_flight < self._max_in_flight:
            if self._due and self._due[0][0] <= now:
                _, _, token, due_job = heapq.heappop(self._due)
                if token == due_job.token:
                    self._start(group, due_job)
            elif self._active < self._concurrency and not self._inputs_done:
                new_job = self._next_job()
                if new_job is not None:
                    self._start(group, new_job)
            else:
                break

    def _start(self, group: anyio.abc.TaskGroup, job: _Job) -> None:
        self._in_flight += 1
        group.start_soon(self._submit if job.submitting else self._poll, job)

    async def _sleep_until_due(self) -> None:
        delay = None
        if self._due and self._in_flight < self._max_in_flight:
            delay = self._due[0][0] - self._clock.now()
        with anyio.CancelScope() as scope:
            self._wake_scope = scope
            if delay is None:
                await anyio.sleep_forever()
            else:
                await self._clock.sleep(delay)
        self._wake_scope = None

    def _wake(self) -> None:
        if self._wake_scope is not None:
            self._wake_scope.cancel()

    def _schedule(self, job: _Job, due: float) -> None:
        """Set the job's next request; an earlier schedule of the same job is dropped."""
        job.token += 1
        heapq.heappush(self._due, (due, next(self._seq), job.token, job))

    # -- turning requests into jobs ---------------------------------------------------

    def _next_job(self) -> _Job | None:
        """Take the next request: emit it at once if it is invalid or already known, else start it."""
        try:
            index, request = next(self._inputs)
        except StopIteration:
            self._inputs_done = True
            return None
        try:
            prepared = _prepare(request)
        except RequestValidationError as exc:
            self._ready.append(Outcome(request=request, index=index, task_id=None, error=exc))
            return None
        body = unstructure_request(prepared)
        base = fingerprint(body, 0)
        occurrence = self._occurrences.get(base, 0)
        self._occurrences[base] = occurrence + 1
        job = _Job(
            index=index, request=request, prepared=prepared, key=fingerprint(body, occurrence)
        )
        record = self._journal.get(job.key) if self._journal is not None else None
        if record is None:
            self._active += 1
            return job
        if record.event in Event.FINAL:
            self._ready.append(self._journaled_outcome(job, record.event, record.task_id, record))
            return None
        if record.task_id is not None:
            self._active += 1
            job.task_id = record.task_id
            self._begin_waiting(job, self._clock.now(), resumed=True)
            return None
        if self._resubmit_unknown:
            self._active += 1
            return job
        self._ready.append(
            Outcome(
                request=request,
                index=index,
                task_id=None,
                error=_unknown_from_journal(),
                from_journal=True,
            )
        )
        return None

    def _journaled_outcome(
        self, job: _Job, event: str, task_id: str | None, record: Any
    ) -> Outcome:
        outcome = Outcome(request=job.request, index=job.index, task_id=task_id, from_journal=True)
        try:
            task = parse_task(task_id or "", 200, record.body, retry_after=None)
        except MusicAPIError as exc:
            return attrs.evolve(outcome, error=exc)
        if event == Event.SUCCEEDED and task.state == TaskState.SUCCEEDED:
            return attrs.evolve(outcome, result=result_of(task))
        return attrs.evolve(
            outcome, error=TaskFailedError(task_id or "", record.reason or task.reason or "failed")
        )

    # -- the two kinds of request ------------------------------------------------------

    async def _submit(self, job: _Job) -> None:
        journal = self._journal
        try:
            submission = await self._sonic._submit(
                job.prepared,
                before_send=(lambda: journal.append(job.key, Event.SENDING)) if journal else None,
            )
        except SubmissionUnknownError as exc:
            if journal is not None:
                journal.append(job.key, Event.UNKNOWN)
            self._finish(job, error=exc)
        except _TRANSIENT as exc:
            job.submit_rounds += 1
            if job.submit_rounds > MAX_SUBMIT_ROUNDS:
                self._finish(job, error=exc)
            else:
                retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
                self._schedule(
                    job, self._clock.now() + (retry_after or self._policy.max_interval / 4)
                )
        except MusicAPIError as exc:
            self._finish(job, error=exc)
        else:
            job.task_id = submission.task_id
            if journal is not None:
                journal.append(job.key, Event.SUBMITTED, task_id=submission.task_id)
            self._begin_waiting(job, self._clock.now(), resumed=False)
        finally:
            self._request_done()

    def _begin_waiting(self, job: _Job, now: float, *, resumed: bool) -> None:
        """Schedule a job's first poll: at once if resumed, else at the learned task time.

        Until the batch has learned how long its tasks take, only `PROBE_JOBS` jobs
        poll (on the adaptive schedule); the others are parked, not polled, and are
        scheduled the moment the first probe finishes.
        """
        job.submitted_at = now
        job.deadline = None if self._timeout is None else now + self._timeout
        if resumed:
            self._schedule(job, now)
        elif self._estimator.estimate is not None:
            self._schedule_at_estimate(job)
        elif self._probing < PROBE_JOBS:
            self._make_probe(job, now)
        else:
            self._parked.append(job)

    def _schedule_at_estimate(self, job: _Job) -> None:
        """Poll at the learned task time; only a poll not yet overdue teaches the estimator."""
        due = job.submitted_at + (self._estimator.estimate or 0.0)
        job.calibrating = due > self._clock.now()
        self._schedule(job, due)

    def _make_probe(self, job: _Job, now: float) -> None:
        self._probing += 1
        job.probe = True
        elapsed = now - job.submitted_at
        self._schedule(job, now + self._policy.next_delay(elapsed, rng=self._rng))

    async def _poll(self, job: _Job) -> None:
        task_id = job.task_id or ""
        try:
            now = self._clock.now()
            elapsed = now - job.submitted_at
            try:
                task = await self._sonic._poll(task_id)
            except _TRANSIENT:
                self._reschedule(job, hint=None)
                return
            except MusicAPIError as exc:
                self._finish(job, error=exc)
                return
            job.polls += 1
            at_estimate = job.calibrating and job.polls == 1
            if at_estimate:
                self._estimator.first_poll_result(polled_at=elapsed, done=task.is_done)
            if task.state == TaskState.RUNNING:
                job.last_poll_elapsed = elapsed
                self._reschedule(job, hint=task.retry_after, soon=at_estimate)
                return
            if self._estimator.estimate is None:
                self._estimator.first_sample(job.last_poll_elapsed, elapsed)
                self._release_parked()
            if task.state == TaskState.SUCCEEDED:
                if self._journal is not None:
                    self._journal.append(
                        job.key, Event.SUCCEEDED, task_id=task_id, body=dict(task.raw)
                    )
                self._finish(job, result=result_of(task))
            else:
                reason = task.reason or "failed"
                if self._journal is not None:
                    self._journal.append(
                        job.key, Event.FAILED, task_id=task_id, body=dict(task.raw), reason=reason
                    )
                self._finish(job, error=TaskFailedError(task_id, reason, body=dict(task.raw)))
        finally:
            self._request_done()

    def _reschedule(self, job: _Job, *, hint: float | None, soon: bool = False) -> None:
        """Schedule the next poll of a running job, or end it if its deadline has passed.

        `soon` follows a first poll that came just before the task was done (at the
        learned task time): the next one comes after a tenth of that time, not a third
        of the elapsed time.
        """
        now = self._clock.now()
        if job.deadline is not None and now >= job.deadline:
            self._finish(job, error=WaitTimeoutError(job.task_id or "", self._timeout or 0.0))
            return
        elapsed = now - job.submitted_at
        if soon and hint is None:
            elapsed = 0.3 * elapsed
        due = now + self._policy.next_delay(elapsed, hint=hint, rng=self._rng)
        if job.deadline is not None:
            due = min(due, job.deadline)
        self._schedule(job, due)

    def _release_parked(self) -> None:
        """Schedule the jobs parked while the task time was unknown, now that it is known."""
        for job in self._parked:
            self._schedule_at_estimate(job)
        self._parked.clear()

    def _finish(
        self,
        job: _Job,
        *,
        result: GenerationResult | None = None,
        error: MusicAPIError | None = None,
    ) -> None:
        self._active -= 1
        if job.probe:
            self._probing -= 1
            if self._estimator.estimate is None and self._parked:
                self._make_probe(self._parked.pop(0), self._clock.now())
        self._ready.append(
            Outcome(
                request=job.request,
                index=job.index,
                task_id=job.task_id,
                result=result,
                error=error,
            )
        )

    def _request_done(self) -> None:
        self._in_flight -= 1
        self._wake()


def _prepare(request: Any) -> SonicCreateRequest:
    if isinstance(request, SonicCreateRequest):
        return prepare_request(request, {})
    if isinstance(request, Mapping):
        return prepare_request(None, dict(cast("Mapping[str, Any]", request)))
    raise RequestValidationError(
        f"each request must be a SonicCreateRequest or a mapping of fields, not {type(request).__name__}",
        field="requests",
    )


def _unknown_from_journal() -> SubmissionUnknownError:
    return SubmissionUnknownError(
        "the journal shows this create was sent but its answer was lost; it was not resent "
        "(pass resubmit_unknown=True to submit it again)"
    )
