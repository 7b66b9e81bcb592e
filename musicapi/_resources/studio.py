"""Studio: Udio-style generation (`/studio/create`, `/studio/task/{id}`).

Studio answers unlike the other families (its create returns the task id as a bare
string; its poll always answers 200 with a status), which its task kind (`STUDIO` in
`_kinds.py`) reads, so `wait` and `generate_many` work here exactly as for Sonic.
The docs mark Studio unavailable; the surface is kept for accounts that still have it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from musicapi._family_requests import batch_preparer, studio_body
from musicapi._kinds import STUDIO
from musicapi._models.studio import StudioCreateRequest, StudioResult, StudioTask
from musicapi._resources._family import DEFAULT_WAIT_TIMEOUT, TaskFamily
from musicapi._wait import check_timeout

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping

    from musicapi._batch import AsyncBatchRun
    from musicapi._engine import TaskEngine
    from musicapi._models import TaskSubmission
    from musicapi._transport import Transport


class StudioResource(TaskFamily[StudioTask, StudioResult]):
    """Udio-style songs: `create`, `get` (a `StudioTask`), `wait` (a `StudioResult`)."""

    __slots__ = ()

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine, STUDIO)

    async def create(
        self, /, request: StudioCreateRequest | None = None, **fields: Any
    ) -> TaskSubmission:
        """Start a studio generation and return its task id; the job is charged now.

        Args:
            request: A prepared request; or pass the API's JSON fields as keywords:
                `prompt`, `lyrics_type`, `prompt_strength`, `clarity_strength`,
                `lyrics_strength`, `generation_quality`, `model_type` and `config` are
                required; `lyrics`, `seed`, `negative_prompt`, ... are optional.
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: The request breaks a documented rule (nothing sent).
            SubmissionUnknownError: The request was sent but its answer was lost.
            MusicAPIError: Any other failure, after the retries the policy allows.
        """
        return await self._submit(studio_body(request, fields))

    async def generate(
        self,
        /,
        request: StudioCreateRequest | None = None,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        **fields: Any,
    ) -> StudioResult:
        """Create a studio generation and wait for its songs.

        A task whose status is `FAILURE`, or which reports a `fail_reason`, raises
        `TaskFailedError` rather than being polled until the timeout.

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
        body = studio_body(request, fields)
        return await self._submit_and_wait(body, timeout=timeout, submitted_at=submitted_at)

    def generate_many(
        self,
        requests: Iterable[StudioCreateRequest | Mapping[str, Any]],
        *,
        concurrency: int = 64,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        journal: str | os.PathLike[str] | None = None,
        resubmit_unknown: bool = False,
    ) -> AsyncBatchRun[StudioResult]:
        """Run many studio generations; one `Outcome` per request, as each finishes.

        Works as `sonic.generate_many` does (see there for the journal and
        `resubmit_unknown`); a request that breaks a rule is its own error outcome.

        Args:
            requests: `StudioCreateRequest` objects or mappings of `create` fields.
            concurrency: The most jobs submitted and not yet finished at once.
            timeout: Seconds each job may take after its submission.
            journal: A JSON-lines file that makes the batch resumable.
            resubmit_unknown: Submit again the jobs whose create answer was lost.

        Raises:
            RequestValidationError: `concurrency` or `timeout` is out of range.
            ClientClosedError: The client was closed.
        """
        return self._batch(
            requests,
            prepare=batch_preparer(StudioCreateRequest, studio_body),
            concurrency=concurrency,
            timeout=timeout,
            journal=journal,
            resubmit_unknown=resubmit_unknown,
        )
