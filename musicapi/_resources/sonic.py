"""Sonic song generation: create, get, wait, generate and generate_many.

The resource builds typed requests and hands the waiting to the client's task engine
(`_engine.py`): `wait`, `generate` and every job of `generate_many` go through the same
scheduler, so they share one deadline rule, one retry rule and one request budget.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel

from musicapi._batch import AsyncBatchRun
from musicapi._converter import encode_body, unstructure_request
from musicapi._errors import RequestValidationError
from musicapi._logging import logger
from musicapi._models import GenerationResult, SonicCreateRequest, Task, TaskSubmission
from musicapi._resources._base import Resource
from musicapi._tasks import SONIC, TaskOps, checked_task_id
from musicapi._transport import log_orphaned_task
from musicapi._validation import prepare_request
from musicapi._wait import check_timeout

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping

    from musicapi._engine import TaskEngine
    from musicapi._transport import Transport
    from musicapi._wait import Reading

DEFAULT_WAIT_TIMEOUT = 900.0
"""Fifteen minutes: longer than the slowest documented generation (about eight minutes)."""


class SonicResource(Resource):
    """Song generation with the Sonic models (`/sonic/create`, `/sonic/task/{id}`)."""

    __slots__ = ("_engine", "_ops")

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine.clock)
        self._engine = engine
        self._ops = TaskOps(transport, SONIC)

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
        return await self._create(prepare_request(request, fields))

    async def _create(self, request: SonicCreateRequest) -> TaskSubmission:
        """Send an already validated create; log its task id if the caller is gone."""
        submission = await self._ops.submit(encode_body(unstructure_request(request)))
        try:
            await anyio.lowlevel.checkpoint_if_cancelled()
        except anyio.get_cancelled_exc_class():
            log_orphaned_task(submission.task_id)
            raise
        return submission

    async def get(self, task_id: str) -> Task:
        """Poll a task once and return its state; a running or failed task is not an error.

        Raises:
            NotFoundError: The task id is unknown.
            RequestValidationError: The id is not a usable task id (nothing sent).
            MusicAPIError: Any other failure, after retries.
        """
        return await self._ops.snapshot(checked_task_id(task_id))

    async def wait(
        self,
        task_id: str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109 (a fixed public name; read from the injected clock)
    ) -> GenerationResult:
        """Poll until the task finishes and return its result.

        The first poll is immediate; later ones back off adaptively (see
        `PollPolicy`). One deadline covers every poll, retry, wait for pacing and
        request: the wait ends within moments of it, whatever it was blocked on.
        Transient failures (5xx, 429, network, an unreadable answer) do not end the
        wait; they are retried until the deadline.

        Args:
            task_id: The task to wait for.
            timeout: Seconds until `WaitTimeoutError`; `None` waits forever.

        Raises:
            TaskFailedError: The task failed upstream (its credits are refunded).
            WaitTimeoutError: The deadline passed; the task may still finish.
        """
        return await self._engine.wait(
            self._ops, checked_task_id(task_id), timeout=check_timeout(timeout)
        )

    async def generate(
        self,
        /,
        request: SonicCreateRequest | None = None,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109 (as in wait)
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
        timeout = check_timeout(timeout)
        submitted_at = self._clock.now()
        prepared = prepare_request(request, fields)
        submission = await self._create(prepared)
        try:
            return await self._engine.wait(
                self._ops,
                submission.task_id,
                timeout=timeout,
                submitted_at=submitted_at,
                webhook=prepared.webhook_url is not None,
            )
        except anyio.get_cancelled_exc_class():
            logger.warning(
                "generate was cancelled while waiting for task %s, which goes on upstream; "
                "wait for it with sonic.wait(%r)",
                submission.task_id,
                submission.task_id,
            )
            raise

    def generate_many(
        self,
        requests: Iterable[SonicCreateRequest | Mapping[str, Any]],
        *,
        concurrency: int = 64,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        journal: str | os.PathLike[str] | None = None,
        resubmit_unknown: bool = False,
    ) -> AsyncBatchRun[GenerationResult]:
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

        Raises:
            RequestValidationError: `concurrency` or `timeout` is out of range, or
                `requests` is not iterable (a bad single request is an outcome instead).
            ClientClosedError: The client was closed.
        """
        self._transport.ensure_open()
        return AsyncBatchRun(
            self._engine,
            self._ops,
            requests,
            prepare=_sonic_body,
            read_journaled=self._read_journaled,
            concurrency=concurrency,
            timeout=timeout,
            journal=journal,
            resubmit_unknown=resubmit_unknown,
        )

    def _read_journaled(self, task_id: str, body: Any) -> Reading[GenerationResult]:
        return SONIC.read(SONIC.parse(task_id, 200, body, None))


def _sonic_body(request: Any) -> dict[str, Any]:
    """Validate one batch request and return its JSON body."""
    if isinstance(request, SonicCreateRequest):
        return unstructure_request(prepare_request(request, {}))
    if isinstance(request, MappingABC):
        return unstructure_request(prepare_request(None, dict(request)))  # pyright: ignore[reportUnknownArgumentType]
    raise RequestValidationError(
        "each request must be a SonicCreateRequest or a mapping of create fields, "
        f"not {type(request).__name__}",
        field="requests",
    )
