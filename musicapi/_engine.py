"""The one task engine: every wait of a client, single or in a batch, runs here.

A job is data, not a task: a record in a heap ordered by when it next needs a request
(its create, or its next poll). A `Scheduler` takes jobs from that heap as they fall
due and hands each request to a small set of workers, never more than the client's
in-flight cap; each request passes through the client's shared pacing. What to do
after a poll is decided by the pure `_wait.after_poll()`; the scheduler only carries it
out. A single `wait()` is a scheduler with one job; `generate_many` feeds it thousands;
both go through the same code, so deadlines, retries and transient faults are handled
the same way everywhere.

The engine runs only inside `next_outcome()`: each call runs a round until outcomes are
ready, lets the requests in flight finish, and returns. Nothing runs between two calls,
so a batch needs no background task and works under a plain `async for` (and, through
the sync facade, a plain `for`). Cancellation never loses a job: a poll cut short is
put back on the heap, a create that is already on the wire is shielded and its task id
recorded, so every request still yields exactly one `Outcome`.

A batch also learns how long its tasks take (`_estimate.py`): a few probe jobs poll on
the adaptive schedule, the others are parked until the first probe finishes, and from
then on each job's first poll comes near the learned task time.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import deque
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import anyio
import attrs

from musicapi._clock import DeadlineExceeded
from musicapi._errors import (
    APIConnectionError,
    MusicAPIError,
    RateLimitError,
    SubmissionUnknownError,
    TaskFailedError,
)
from musicapi._estimate import DurationEstimator
from musicapi._models import TaskState
from musicapi._retry import Failure, Idempotency, decide
from musicapi._wait import PollPolicy, Reading, Step, after_poll, timed_out
from musicapi._wakeups import WEBHOOK_FALLBACK_POLICY, WakeRouter, Wakeups

if TYPE_CHECKING:
    from collections.abc import Callable

    from musicapi._clock import Clock
    from musicapi._models import TaskSubmission

__all__ = ["Job", "Outcome", "Scheduler", "TaskEngine"]

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

PROBE_JOBS = 4
"""Jobs that poll on the adaptive schedule before the batch has learned its task time."""
DRAIN_GRACE = 0.5
"""Real seconds a round waits for its requests in flight once outcomes are ready.

A poll still running after that is cancelled and put back on the heap; a create is
shielded and always finishes.
"""


@attrs.frozen(kw_only=True)
class Outcome(Generic[R_co]):
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
    result: R_co | None = None
    error: MusicAPIError | None = None
    from_journal: bool = False

    @property
    def ok(self) -> bool:
        """Whether the job succeeded."""
        return self.error is None


@attrs.define(eq=False, weakref_slot=False)
class Job:
    """One job's state in the scheduler.

    Attributes:
        index: The request's position in the caller's sequence.
        request: The request as the caller passed it.
        payload: The create's JSON body; dropped once the task id is known.
        key: The job's journal key, when a journal is kept.
        task_id: The task's id, once known.
        submitted_at: The clock time of its submission (the origin of the poll schedule).
        deadline: The clock time at which waiting for it ends, when it is not simply its
            submission plus the scheduler's timeout (kept per job only where it differs,
            since ten thousand floats are memory a batch need not hold).
        first_poll_at: When to poll first, if fixed (a single wait, a resumed job, a job
            a webhook will wake); `None` lets a learning batch decide.
        webhook: The job was created with a `webhook_url` and the client listens for
            deliveries: it polls only as a slow fallback, and a delivery wakes it.
    """

    index: int
    request: Any
    payload: bytes | None = None
    key: str | None = None
    task_id: str | None = None
    submitted_at: float = 0.0
    deadline: float | None = None
    first_poll_at: float | None = None
    last_running: float = 0.0
    polls: int = 0
    posts: int = 0
    token: int = 0
    probe: bool = False
    probe_slot: int = 0
    calibrating: bool = False
    busy: bool = False
    woken: bool = False
    webhook: bool = False
    queued_token: int = -1


class TaskOperations(Protocol[R]):
    """What the scheduler needs of a task kind: submit, poll, and the client's retry budget."""

    @property
    def max_retries(self) -> int:
        """The most resends of one request."""
        ...

    async def submit(
        self,
        payload: bytes,
        *,
        before_send: Callable[[], None] | None = None,
        retries: int | None = None,
    ) -> TaskSubmission:
        """Create a job; see `_tasks.TaskOps.submit`."""
        ...

    async def poll(self, task_id: str, *, deadline: float | None = None) -> Reading[R]:
        """Poll a job once; see `_tasks.TaskOps.poll`."""
        ...


class JobEvents(Protocol):
    """Hooks a batch uses to journal each job as it progresses."""

    def sending(self, job: Job) -> None:
        """The job's create is about to go on the wire."""

    def submitted(self, job: Job) -> None:
        """The job has a task id."""

    def unknown(self, job: Job) -> None:
        """The job's create was sent but its answer was lost."""

    def finished(self, job: Job, outcome: Outcome[Any], body: Any) -> None:
        """The job ended; `body` is the final poll's JSON, if there was one."""


class Scheduler(Generic[R]):
    """Runs jobs to their outcomes: one wait, or a whole batch.

    Args:
        ops: The task kind's submit and poll.
        clock: The clock every schedule and deadline reads.
        policy: The poll schedule.
        max_in_flight: The most workers this scheduler runs at once (each holds one
            request, in flight or waiting for its pace or a free slot).
        concurrency: The most jobs started and not yet finished.
        timeout: Seconds each job may be waited for, or `None`.
        learn: Learn the task time from probe jobs (a batch) rather than polling every
            job on the adaptive schedule from the start.
        feed: Returns the next job to start, an outcome that is ready without any
            request (a bad request, a journaled result), or `None` when there are no
            more.
        events: Journal hooks, if any.
        rng: The source of jitter.
        router: Routes webhook deliveries to jobs, when the client listens for them.
    """

    def __init__(
        self,
        ops: TaskOperations[R],
        *,
        clock: Clock,
        policy: PollPolicy,
        max_in_flight: int,
        concurrency: int,
        timeout: float | None,
        learn: bool,
        feed: Callable[[], Job | Outcome[R] | None],
        events: JobEvents | None = None,
        rng: random.Random | None = None,
        router: WakeRouter | None = None,
    ) -> None:
        self._ops = ops
        self._router = router
        self._watched: dict[str, Job] = {}
        self._clock = clock
        self._policy = policy
        self._max_in_flight = max_in_flight
        self._concurrency = concurrency
        self._timeout = timeout
        self._learn = learn
        self._feed = feed
        self._events = events
        self._rng = rng or random.Random()  # noqa: S311 (poll jitter)
        self._due: list[tuple[float, int, int, Job]] = []
        self._seq = itertools.count()
        self._ready: deque[Outcome[R]] = deque()
        self._active = 0
        self._waiting = 0
        self._job_cap = float(concurrency)
        self._held: deque[Job] = deque()
        self._in_flight = 0
        self._inputs_done = False
        self._closed = False
        self._estimator = DurationEstimator()
        self._probing = 0
        self._probes: set[Job] = set()
        self._longest_running = 0.0
        self._parked: dict[Job, None] = {}
        self._first_polls: deque[Job] = deque()
        self._group: anyio.abc.TaskGroup | None = None
        self._draining = False
        self._wake_scope: anyio.CancelScope | None = None
        self._sleep_target = -math.inf

    def close(self) -> None:
        """Start nothing more, and stop listening for this scheduler's webhook deliveries.

        Outcomes already ready can still be taken.
        """
        self._closed = True
        for job in list(self._watched.values()):
            self._unwatch(job)

    def _unwatch(self, job: Job) -> None:
        if self._router is not None and job.task_id is not None:
            if self._watched.pop(job.task_id, None) is not None:
                self._router.unwatch(job.task_id, self._woken)

    async def next_outcome(self) -> Outcome[R] | None:
        """Run until an outcome is ready and return it; `None` when every job has one."""
        if not self._ready and not self._closed and not self._finished():
            await self._round()
        return self._ready.popleft() if self._ready else None

    # -- rounds ------------------------------------------------------------------------

    def _finished(self) -> bool:
        return self._inputs_done and self._active == 0 and self._in_flight == 0

    async def _round(self) -> None:
        listening = anyio.CancelScope()
        async with anyio.create_task_group() as group:
            self._group = group
            self._draining = False
            if self._router is not None:
                group.start_soon(self._listen, listening)
            try:
                while not self._ready and not self._finished() and not self._closed:
                    self._dispatch(group)
                    if self._ready or self._finished():
                        break
                    await self._sleep_until_due()
            finally:
                listening.cancel()
                self._draining = True
                self._group = None
                self._sleep_target = -math.inf
            if self._in_flight:
                group.cancel_scope.deadline = anyio.current_time() + DRAIN_GRACE

    async def _listen(self, scope: anyio.CancelScope) -> None:
        """Route webhook deliveries while this round runs (see `WakeRouter`)."""
        with scope:
            await self._router.listen()  # type: ignore[union-attr]  # started only with a router

    def _woken(self, task_id: str) -> None:
        """A verified delivery says the task changed: poll it now (one GET confirms it).

        A job with a request in flight keeps the wake-up for when that request is done:
        its answer may predate the change it announces.
        """
        job = self._watched.get(task_id)
        if job is None:
            return
        if job.busy:
            job.woken = True
            return
        self._parked.pop(job, None)
        self._schedule(job, self._clock.now())

    def _apply_pending_wake(self, job: Job) -> None:
        """Poll at once a job woken while its request was in flight, if it still runs."""
        if job.woken:
            job.woken = False
            if job.task_id is not None and self._watched.get(job.task_id) is job:
                self._parked.pop(job, None)
                self._schedule(job, self._clock.now())

    def _dispatch(self, group: anyio.abc.TaskGroup) -> None:
        now = self._clock.now()
        while self._in_flight < self._max_in_flight:
            job = self._take(now)
            if job is None:
                return
            self._in_flight += 1
            group.start_soon(self._worker, job)

    async def _worker(self, job: Job) -> None:
        """Run requests one after another while work is due, then stop.

        A worker that finishes a request takes the next due job itself, so a busy
        batch spends no task start per request.
        """
        next_job: Job | None = job
        while next_job is not None:
            next_job.busy = True
            try:
                if next_job.task_id is None:
                    await self._submit(next_job)
                else:
                    await self._poll(next_job)
            finally:
                next_job.busy = False
                self._in_flight -= 1
                self._apply_pending_wake(next_job)
                self._request_done()
            if self._draining or self._ready or self._closed:
                return
            next_job = self._take(self._clock.now())
            if next_job is not None:
                self._in_flight += 1

    def _take(self, now: float) -> Job | None:
        """Return the next job that needs a request now, admitting new jobs as allowed."""
        while True:
            if self._parked and self._parked_due() <= now:
                job = next(iter(self._parked))
                del self._parked[job]  # its last-chance poll before the deadline
                return job
            if self._first_polls and self._first_poll_due() <= now:
                job = self._first_polls.popleft()
                deadline = self._deadline_of(job)
                if deadline is not None and now >= deadline:
                    self._finish(job, error=timed_out(job.task_id or "", self._timeout, cause=None))
                    continue
                return job
            if self._due and self._due[0][0] <= now:
                due, _, token, job = heapq.heappop(self._due)
                if token != job.token:
                    continue
                deadline = self._deadline_of(job)
                if job.task_id is not None and deadline is not None and due >= deadline:
                    self._finish(job, error=timed_out(job.task_id, self._timeout, cause=None))
                    continue
                if job.task_id is None and self._waiting >= self._job_cap:
                    self._held.append(job)  # the server's job limit is full: resend later
                    continue
                return job
            if (
                self._closed
                or self._inputs_done
                or self._active >= min(self._concurrency, self._job_cap)
            ):
                return None
            item = self._feed()
            if item is None:
                self._inputs_done = True
                return None
            if isinstance(item, Outcome):
                self._ready.append(item)
                continue
            self._active += 1
            if item.task_id is None:
                return item
            self._begin_waiting(item, now)

    async def _sleep_until_due(self) -> None:
        now = self._clock.now()
        target = math.inf
        if self._in_flight < self._max_in_flight:
            while self._due and self._due[0][2] != self._due[0][3].token:
                heapq.heappop(self._due)
            if self._due:
                target = self._due[0][0]
            target = min(target, self._first_poll_due(), self._parked_due())
        if target <= now:
            return
        with anyio.CancelScope() as scope:
            self._wake_scope, self._sleep_target = scope, target
            try:
                if target == math.inf:
                    await anyio.sleep_forever()
                else:
                    await self._clock.sleep(target - now)
            finally:
                self._wake_scope, self._sleep_target = None, -math.inf

    def _wake(self) -> None:
        if self._wake_scope is not None:
            self._wake_scope.cancel()

    def _request_done(self) -> None:
        """Wake the dispatcher when a finished request changes what it should do."""
        if (
            self._ready
            or self._finished()
            or (self._sleep_target == math.inf and (self._due or self._first_polls))
        ):
            self._wake()

    def _schedule(self, job: Job, due: float) -> None:
        """Set the job's next request; an earlier schedule of the same job is dropped."""
        job.token += 1
        heapq.heappush(self._due, (due, next(self._seq), job.token, job))
        self._wake_if_earlier(due)

    # -- creates -----------------------------------------------------------------------

    async def _submit(self, job: Job) -> None:
        """Send a job's create once; reschedule it where the policy allows a resend.

        The batch spends the client's retry budget itself (`retries=0` to the
        transport), so a resend waits on the heap, not in a worker, and one job's
        POSTs never exceed `max_retries + 1`.
        """
        events = self._events
        sent = False

        def before_send() -> None:
            nonlocal sent
            sent = True
            if events is not None:
                events.sending(job)

        job.posts += 1
        try:
            submission = await self._ops.submit(
                job.payload or b"", before_send=before_send, retries=0
            )
        except SubmissionUnknownError as exc:
            if events is not None:
                events.unknown(job)
            self._finish(job, error=exc)
        except MusicAPIError as exc:
            if isinstance(exc, RateLimitError) and self._waiting:
                # Maybe the server's limit on jobs running at once: run no more than now.
                # (With nothing running yet it cannot be that limit: only the pace.)
                self._job_cap = float(self._waiting)
            self._after_failed_create(job, exc)
        except anyio.get_cancelled_exc_class():
            job.posts -= 1  # cancelled while pacing or waiting for a slot: nothing was sent
            self._schedule(job, self._clock.now())
            raise
        except Exception as exc:  # a bug outside the SDK (a user's event hook, say)
            error = _unexpected(exc, "create")
            if sent:
                error = SubmissionUnknownError(f"{error.message}, after the create was sent")
                error.__cause__ = exc
                if events is not None:
                    events.unknown(job)
            self._finish(job, error=error)
        else:
            job.task_id = submission.task_id
            job.payload = None
            # Grow faster than the jobs it admits, or the window would stay one job wide.
            self._job_cap = min(float(self._concurrency), self._job_cap * 1.125 + 1)
            now = self._clock.now()
            job.submitted_at = now
            if events is not None:
                events.submitted(job)
            self._begin_waiting(job, now)

    def _after_failed_create(self, job: Job, error: MusicAPIError) -> None:
        decision = decide(
            Idempotency.CREATE,
            retries_done=job.posts - 1,
            max_retries=self._ops.max_retries,
            status_code=error.status_code,
            failure=Failure.NOT_SENT if isinstance(error, APIConnectionError) else None,
            retry_after=error.retry_after if isinstance(error, RateLimitError) else None,
            rng=self._rng,
        )
        if decision.retry:
            self._schedule(job, self._clock.now() + decision.delay)
        else:
            self._finish(job, error=error)

    # -- polls -------------------------------------------------------------------------

    def _begin_waiting(self, job: Job, now: float) -> None:
        """Schedule a job's first poll, from a fixed time or from what the batch learned.

        Until a learning batch knows how long its tasks take, only `PROBE_JOBS` jobs
        poll (on the adaptive schedule); the others are parked, not polled, and are
        scheduled the moment the first probe finishes.
        """
        self._waiting += 1
        if job.deadline is None and self._timeout is not None and job.submitted_at < now:
            job.deadline = now + self._timeout  # resumed: the wait restarts now
        watching = self._router is not None and job.task_id is not None
        if watching and job.webhook and job.first_poll_at is None:
            job.first_poll_at = now + WEBHOOK_FALLBACK_POLICY.next_delay(0.0, rng=self._rng)
        self._schedule_first_poll(job, now)
        if watching and self._router is not None and job.task_id is not None:
            # After the first poll is scheduled, so a delivery that came early wins over it.
            self._watched[job.task_id] = job
            self._router.watch(job.task_id, self._woken)

    def _schedule_first_poll(self, job: Job, now: float) -> None:
        if job.first_poll_at is not None:
            self._schedule(job, job.first_poll_at)
        elif not self._learn:  # a batch that gave up learning: the adaptive schedule
            delay = self._policy.next_delay(now - job.submitted_at, rng=self._rng)
            self._schedule(job, self._clamped(job, now + delay))
        elif self._estimator.estimate is not None:
            self._schedule_at_estimate(job)
        elif self._probing < PROBE_JOBS:
            self._make_probe(job, now)
        else:
            self._park(job)

    def _park(self, job: Job) -> None:
        """Hold a job's first poll until the batch knows its task time.

        Whatever the probes do (they may never finish), a parked job is polled once
        just before its deadline, so a job is never timed out without a poll. Parked
        jobs are in submission order, so only the oldest one's deadline is watched
        (`_parked_due`): no timer per job.
        """
        self._parked[job] = None
        if len(self._parked) == 1:
            self._wake_if_earlier(self._parked_due())

    def _parked_due(self) -> float:
        """When the oldest parked job must have its last-chance poll (before its deadline)."""
        if not self._parked:
            return math.inf
        deadline = self._deadline_of(next(iter(self._parked)))
        return math.inf if deadline is None else deadline - self._policy.min_interval

    def _schedule_at_estimate(self, job: Job) -> None:
        """Queue the job's first poll for its submission time plus the learned task time.

        The queue is in submission order and its due times are read from the current
        estimate, so when the estimate moves, every first poll not yet made moves with
        it: jobs submitted before the batch knew its task time are not left polling at
        a stale one. The estimator itself decides which answers teach it something.
        """
        job.calibrating = True
        job.token += 1  # any other schedule of it is void
        job.queued_token = job.token
        self._first_polls.append(job)
        self._wake_if_earlier(self._first_poll_due())

    def _first_poll_due(self) -> float:
        """When the oldest queued first poll is due (never after its job's deadline)."""
        while self._first_polls and self._first_polls[0].queued_token != self._first_polls[0].token:
            self._first_polls.popleft()  # woken by a delivery and scheduled afresh
        if not self._first_polls:
            return math.inf
        job = self._first_polls[0]
        due = job.submitted_at + (self._estimator.estimate or 0.0)
        deadline = self._deadline_of(job)
        return due if deadline is None else min(due, deadline)

    def _wake_if_earlier(self, due: float) -> None:
        if due < self._sleep_target:
            self._wake()

    def _make_probe(self, job: Job, now: float) -> None:
        taken = {probe.probe_slot for probe in self._probes}
        job.probe_slot = min(slot for slot in range(PROBE_JOBS) if slot not in taken)
        self._probing += 1
        self._probes.add(job)
        job.probe = True
        due = job.submitted_at + self._probe_poll_after(job, now - job.submitted_at)
        self._schedule(job, self._clamped(job, due))

    def _probe_poll_after(self, job: Job, elapsed: float) -> float:
        """Return the probe's next poll, as elapsed time, on the probes' shared ladder.

        The ladder's steps are a `PROBE_JOBS`th of the policy's usual gap, and probe
        `k` polls at every `PROBE_JOBS`th step from step `k`. Each probe costs what
        any wait costs, but between them they poll four times as densely, so the
        first "done" is seen soon after the task time, and the last "running" of any
        probe bounds it from below: the seed is tight without extra requests.
        """
        policy = self._policy
        point, step = 0.0, 0
        # A millisecond's margin: polled exactly at a rung, `now - submitted_at` may round
        # to just below it, and the same rung would come back (a poll loop at one instant).
        while point <= elapsed + 1e-3 or step % PROBE_JOBS != job.probe_slot:
            gap = min(
                policy.max_interval, max(policy.min_interval, point * policy.elapsed_fraction)
            )
            point += gap / PROBE_JOBS
            step += 1
        return point

    async def _poll(self, job: Job) -> None:
        task_id = job.task_id or ""
        elapsed = self._clock.now() - job.submitted_at
        at_estimate = False
        answer: Reading[R] | BaseException
        try:
            answer = await self._ops.poll(task_id, deadline=self._deadline_of(job))
        except anyio.get_cancelled_exc_class():
            self._schedule(job, self._clock.now())
            raise
        except (MusicAPIError, DeadlineExceeded) as exc:
            answer = exc
        except Exception as exc:  # a bug outside the SDK (a user's event hook, say)
            answer = _unexpected(exc, "poll")
        else:
            job.polls += 1
            at_estimate = job.calibrating and job.polls == 1
            if at_estimate:
                self._estimator.first_poll_result(
                    polled_at=elapsed, done=answer.state != TaskState.RUNNING
                )
                self._wake_if_earlier(self._first_poll_due())
            if answer.state == TaskState.RUNNING:
                job.last_running = elapsed
                if job.probe:
                    self._longest_running = max(self._longest_running, elapsed)
            elif (
                job.probe
                and self._estimator.estimate is None
                and answer.state == TaskState.SUCCEEDED
            ):
                # Every probe seen running bounds the task time from below.
                self._estimator.first_sample(max(self._longest_running, job.last_running), elapsed)
                self._release_parked()
        step = after_poll(
            answer,
            task_id=task_id,
            now=self._clock.now(),
            origin=job.submitted_at,
            deadline=self._deadline_of(job),
            timeout=self._timeout,
            policy=self._policy_of(job),
            rng=self._rng,
            soon=at_estimate,
        )
        if (
            step.poll_at is not None
            and job.probe
            and self._estimator.estimate is None
            and isinstance(answer, Reading)
            and answer.hint is None
        ):
            elapsed_now = self._clock.now() - job.submitted_at
            due = job.submitted_at + self._probe_poll_after(job, elapsed_now)
            deadline = self._deadline_of(job)
            step = Step[R](poll_at=due if deadline is None else min(due, deadline))
        if step.poll_at is not None:
            self._schedule(job, step.poll_at)
        else:
            body = answer.body if isinstance(answer, Reading) else None
            self._finish(job, result=step.result, error=step.error, body=body)

    def _deadline_of(self, job: Job) -> float | None:
        """When waiting for the job ends: its own deadline, or submission plus the timeout."""
        if job.deadline is not None:
            return job.deadline
        return None if self._timeout is None else job.submitted_at + self._timeout

    def _policy_of(self, job: Job) -> PollPolicy:
        return _policy_for(
            webhook=job.webhook, listening=self._router is not None, usual=self._policy
        )

    def _release_unlearned(self) -> None:
        """Schedule the parked jobs on the adaptive schedule (learning gave up)."""
        now = self._clock.now()
        for job in self._parked:
            self._schedule(
                job,
                self._clamped(
                    job, now + self._policy.next_delay(now - job.submitted_at, rng=self._rng)
                ),
            )
        self._parked.clear()

    def _clamped(self, job: Job, due: float) -> float:
        """`due`, or the job's deadline if that comes first."""
        deadline = self._deadline_of(job)
        return due if deadline is None else min(due, deadline)

    def _release_parked(self) -> None:
        """Schedule the parked jobs and the other probes from the task time now known.

        The other probes stop polling on their own slow schedule: their next poll is
        moved to the learned time like everyone else's.
        """
        for job in self._parked:
            self._schedule_at_estimate(job)
        self._parked.clear()
        estimate = self._estimator.estimate or 0.0
        now = self._clock.now()
        for probe in self._probes:
            if not probe.busy:  # a probe being polled is rescheduled by its own answer
                self._schedule(probe, max(now, probe.submitted_at + estimate))

    def _finish(
        self,
        job: Job,
        *,
        result: R | None = None,
        error: MusicAPIError | None = None,
        body: Any = None,
    ) -> None:
        job.token += 1  # whatever was scheduled for it is void
        self._active -= 1
        if job.task_id is not None:
            self._waiting -= 1
            self._unwatch(job)
            if self._held:
                self._schedule(self._held.popleft(), self._clock.now())
        if job.probe:
            self._probing -= 1
            self._probes.discard(job)
            if self._estimator.estimate is None and self._parked:
                if error is not None and not isinstance(error, TaskFailedError):
                    # A probe that timed out or broke teaches nothing: stop learning and
                    # poll the parked jobs on the adaptive schedule, within their deadlines.
                    self._learn = False
                    self._release_unlearned()
                else:
                    replacement = next(iter(self._parked))
                    del self._parked[replacement]
                    self._make_probe(replacement, self._clock.now())
        outcome: Outcome[R] = Outcome(
            request=job.request, index=job.index, task_id=job.task_id, result=result, error=error
        )
        if self._events is not None:
            self._events.finished(job, outcome, body)
        self._ready.append(outcome)


class TaskEngine:
    """The client's task engine: what every scheduler of one client shares.

    Args:
        clock: The client's clock.
        policy: The client's poll schedule.
        max_in_flight: The client's cap on requests in flight.
        wakeups: The client's subscription to verified webhook deliveries, if any.
    """

    def __init__(
        self,
        clock: Clock,
        policy: PollPolicy,
        max_in_flight: int,
        *,
        wakeups: Wakeups | None = None,
    ) -> None:
        self.clock = clock
        self.policy = policy
        self.max_in_flight = max_in_flight
        self._router = WakeRouter(wakeups) if wakeups is not None else None
        self._rng = random.Random()  # noqa: S311 (poll jitter)

    def scheduler(
        self,
        ops: TaskOperations[R],
        *,
        feed: Callable[[], Job | Outcome[R] | None],
        concurrency: int,
        timeout: float | None,
        learn: bool,
        events: JobEvents | None = None,
    ) -> Scheduler[R]:
        """Return a scheduler on this client's clock, policy and in-flight cap."""
        return Scheduler(
            ops,
            clock=self.clock,
            policy=self.policy,
            max_in_flight=self.max_in_flight,
            concurrency=concurrency,
            timeout=timeout,
            learn=learn,
            feed=feed,
            events=events,
            rng=self._rng,
            router=self._router,
        )

    async def wait(
        self,
        ops: TaskOperations[R],
        task_id: str,
        *,
        timeout: float | None,  # noqa: ASYNC109 (a deadline on the injected clock, not the loop's)
        submitted_at: float | None = None,
        webhook: bool = False,
    ) -> R:
        """Wait for one task and return its result; raise what ended it otherwise.

        Args:
            ops: The task kind's operations.
            task_id: The task to wait for.
            timeout: Seconds until `WaitTimeoutError`, counted from `submitted_at` if
                given, else from now; `None` waits forever.
            submitted_at: The clock time the task was created, when known (then the
                first poll comes after the policy's shortest gap, not at once).
            webhook: The task was created with a `webhook_url`: with a client that
                listens for deliveries, poll only as a slow fallback.

        Raises:
            TaskFailedError: The task failed upstream.
            WaitTimeoutError: The deadline passed; the task may still finish.
            MusicAPIError: A poll failed for good (unknown task, bad key, ...).
        """
        now = self.clock.now()
        origin = now if submitted_at is None else submitted_at
        policy = _policy_for(webhook=webhook, listening=self._router is not None, usual=self.policy)
        first = now if submitted_at is None else now + policy.next_delay(0.0, rng=self._rng)
        job = Job(
            index=0,
            request=None,
            task_id=task_id,
            submitted_at=origin,
            deadline=None if timeout is None else origin + timeout,
            first_poll_at=first,
            webhook=webhook,
        )
        pending: list[Job] = [job]
        scheduler = self.scheduler(
            ops,
            feed=lambda: pending.pop() if pending else None,
            concurrency=1,
            timeout=timeout,
            learn=False,
        )
        try:
            outcome = await scheduler.next_outcome()
        finally:
            scheduler.close()
        if outcome is None:  # pragma: no cover  (a job always ends in an outcome)
            raise MusicAPIError(f"the wait for task {task_id} ended without an outcome")
        if outcome.error is not None:
            raise outcome.error
        return outcome.result  # type: ignore[return-value]  # a success carries its result


def _policy_for(*, webhook: bool, listening: bool, usual: PollPolicy) -> PollPolicy:
    """The slow fallback schedule for a job a webhook will wake, else the usual one."""
    return WEBHOOK_FALLBACK_POLICY if webhook and listening else usual


def _unexpected(exc: Exception, what: str) -> MusicAPIError:
    """Wrap an exception from outside the SDK so that it ends one job, not the batch."""
    error = MusicAPIError(f"the {what} failed unexpectedly: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error
