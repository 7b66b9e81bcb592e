"""Sonic song generation: create, get, wait and generate.

The waiting loop lives here but makes no decisions of its own: when to poll comes from
`_wait.PollPolicy`, retries from the transport, and the deadline from the clock, so a
`FakeClock` can drive all of it.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from musicapi._batch import AsyncBatchRun
from musicapi._converter import parse_task, result_of, structure, unstructure_request
from musicapi._errors import (
    APIConnectionError,
    MusicAPIError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    TaskFailedError,
    WaitTimeoutError,
)
from musicapi._models import GenerationResult, SonicCreateRequest, Task, TaskState, TaskSubmission
from musicapi._resources._base import Resource
from musicapi._retry import Idempotency
from musicapi._transport import DeadlineExceeded
from musicapi._validation import prepare_request
from musicapi._wait import PollPolicy, sleep_before_next_poll

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable, Mapping

    from musicapi._clock import Clock
    from musicapi._transport import Transport

DEFAULT_WAIT_TIMEOUT = 900.0
"""Fifteen minutes: longer than the slowest documented generation (about eight minutes)."""

_TRANSIENT = (ServerError, APIConnectionError, RateLimitError)


class SonicResource(Resource):
    """Song generation with the Sonic models (`/sonic/create`, `/sonic/task/{id}`)."""

    __slots__ = ("_max_in_flight", "_policy", "_rng")

    def __init__(
        self, transport: Transport, clock: Clock, *, policy: PollPolicy, max_in_flight: int
    ) -> None:
        super().__init__(transport, clock)
        self._policy = policy
        self._max_in_flight = max_in_flight
        self._rng = random.Random()  # noqa: S311 (poll jitter, not security)

    @property
    def clock(self) -> Clock:
        """The clock this client's waits run on."""
        return self._clock

    @property
    def policy(self) -> PollPolicy:
        """The poll schedule of this client's waits."""
        return self._policy

    async def create(
        self, /, request: SonicCreateRequest | None = None, **fields: Any
    ) -> TaskSubmission:
        """Start a generation and return its task id; the job is charged now.

        Args:
            request: A prepared request; or pass the API's JSON fields as keywords
                (`custom_mode`, `mv`, `prompt`, `gpt_description_prompt`, `title`,
                `tags`, `task_type`, `continue_clip_id`, `webhook_url`, ...).
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: The request breaks a documented rule (nothing sent).
            SubmissionUnknownError: The request was sent but its answer was lost.
            MusicAPIError: Any other failure, after the retries the policy allows.
        """
        return await self._submit(prepare_request(request, fields))

    async def _submit(
        self, request: SonicCreateRequest, *, before_send: Callable[[], None] | None = None
    ) -> TaskSubmission:
        """Send an already validated create request (`before_send` runs just before it goes out)."""
        response = await self._transport.request(
            "POST",
            "/sonic/create",
            json_body=unstructure_request(request),
            idempotency=Idempotency.CREATE,
            before_send=before_send,
        )
        return structure(response.body, TaskSubmission, what="create response")

    async def get(self, task_id: str) -> Task:
        """Poll a task once and return its state; a running or failed task is not an error.

        Raises:
            NotFoundError: The task id is unknown.
            MusicAPIError: Any other failure, after retries.
        """
        return await self._poll(_checked_task_id(task_id))

    async def wait(
        self, task_id: str, *, timeout: float | None = DEFAULT_WAIT_TIMEOUT
    ) -> GenerationResult:
        """Poll until the task finishes and return its result.

        The first poll is immediate; later ones back off adaptively (see
        `PollPolicy`). One deadline covers every poll, retry and request timeout.
        Transient failures (5xx, 429, network) after the transport's own retries do
        not end the wait; they are retried until the deadline.

        Args:
            task_id: The task to wait for.
            timeout: Seconds until `WaitTimeoutError`; `None` waits forever.

        Raises:
            TaskFailedError: The task failed upstream (its credits are refunded).
            WaitTimeoutError: The deadline passed; the task may still finish.
        """
        return await self._wait_submitted(
            _checked_task_id(task_id), timeout=timeout, submitted_at=None
        )

    async def generate(
        self,
        /,
        request: SonicCreateRequest | None = None,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        **fields: Any,
    ) -> GenerationResult:
        """Create a generation and wait for it: the quickstart's whole loop in one call.

        Args:
            request: A prepared request, or the API's JSON fields as keywords.
            timeout: Seconds to wait for the result after submission.
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: The request breaks a documented rule (nothing sent).
            TaskFailedError: The task failed upstream.
            WaitTimeoutError: The deadline passed; wait on `.task_id` to resume.
        """
        submitted_at = self._clock.now()
        submission = await self.create(request, **fields)
        return await self._wait_submitted(
            submission.task_id, timeout=timeout, submitted_at=submitted_at
        )

    def generate_many(
        self,
        requests: Iterable[SonicCreateRequest | Mapping[str, Any]],
        *,
        concurrency: int = 64,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        journal: str | os.PathLike[str] | None = None,
        resubmit_unknown: bool = False,
    ) -> AsyncBatchRun:
        """Generate many songs; yield one `Outcome` per request as each job finishes.

        Use it directly, `async for outcome in client.sonic.generate_many(requests)`, or as
        an async context manager to stop the batch when the block ends. A failed job is
        an outcome with `.error`, never an exception out of the loop, and every submitted
        task id is reported.

        Args:
            requests: `SonicCreateRequest` objects or mappings of `create` fields; read
                lazily, so a generator of millions is fine.
            concurrency: The most jobs submitted and not yet finished at once.
            timeout: Seconds each job may take after its submission.
            journal: A JSON-lines file that makes the batch resumable: run the same batch
                with the same journal after a crash and no job with a task id is
                submitted again, and finished jobs are skipped.
            resubmit_unknown: Submit again the jobs whose create was sent but whose answer
                was lost (`SubmissionUnknownError`); they may be charged twice.
        """
        return AsyncBatchRun(
            self,
            requests,
            concurrency=concurrency,
            timeout=timeout,
            journal=journal,
            resubmit_unknown=resubmit_unknown,
            max_in_flight=self._max_in_flight,
        )

    async def _wait_submitted(
        self, task_id: str, *, timeout: float | None, submitted_at: float | None
    ) -> GenerationResult:
        """Wait for a task, scheduling polls from its submission time if known."""
        clock = self._clock
        started = clock.now()
        deadline = None if timeout is None else started + timeout
        origin = started if submitted_at is None else submitted_at
        next_delay = 0.0 if submitted_at is None else self._policy.min_interval
        last_error: MusicAPIError | None = None
        while True:
            pause = sleep_before_next_poll(next_delay, now=clock.now(), deadline=deadline)
            if pause is None:
                raise WaitTimeoutError(task_id, timeout or 0.0) from last_error
            await clock.sleep(pause)
            hint: float | None = None
            try:
                task = await self._poll(task_id, deadline=deadline)
            except DeadlineExceeded:
                raise WaitTimeoutError(task_id, timeout or 0.0) from last_error
            except _TRANSIENT as exc:
                last_error = exc
            else:
                if task.state == TaskState.SUCCEEDED:
                    return result_of(task)
                if task.state == TaskState.FAILED:
                    raise TaskFailedError(task_id, task.reason or "failed", body=dict(task.raw))
                hint = task.retry_after
            if deadline is not None and clock.now() >= deadline:
                raise WaitTimeoutError(task_id, timeout or 0.0) from last_error
            next_delay = self._policy.next_delay(clock.now() - origin, hint=hint, rng=self._rng)

    async def _poll(self, task_id: str, *, deadline: float | None = None) -> Task:
        """Poll a task once (no input checks; `deadline` bounds the retries)."""
        response = await self._transport.request(
            "GET", f"/sonic/task/{quote(task_id, safe='')}", deadline=deadline
        )
        return parse_task(
            task_id, response.status_code, response.body, retry_after=response.retry_after
        )


def _checked_task_id(task_id: str) -> str:
    if not isinstance(task_id, str) or not task_id.strip():  # pyright: ignore[reportUnnecessaryIsInstance]
        raise RequestValidationError("task_id must be a non-empty string", field="task_id")
    return task_id.strip()
