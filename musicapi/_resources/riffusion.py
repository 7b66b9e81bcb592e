"""Riffusion: the FUZZ models (`/riffusion/...`), deprecated by the API.

Every public call warns `DeprecationWarning`: the docs mark the family deprecated, and
new code should use `client.sonic` (songs) or `client.producer` (instrumentals). The
task endpoint may answer an interim 200 (`code: 102`, "processing"), which its task
kind (`RIFFUSION` in `_kinds.py`) reads as running: only `code: 200` is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from musicapi._converter import structure
from musicapi._family_requests import batch_preparer, request_body, riffusion_body
from musicapi._kinds import RIFFUSION
from musicapi._models import GenerationResult, Task, TaskSubmission
from musicapi._models.riffusion import RiffusionCreateRequest, RiffusionUploadRequest
from musicapi._models.sonic_tools import Upload
from musicapi._resources._deprecated import warn_deprecated
from musicapi._resources._family import DEFAULT_WAIT_TIMEOUT, TaskFamily
from musicapi._wait import check_timeout

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping

    from musicapi._batch import AsyncBatchRun
    from musicapi._engine import TaskEngine
    from musicapi._transport import Transport

DEPRECATED = (
    "the Riffusion API is deprecated by MusicAPI; use client.sonic for songs or "
    "client.producer for instrumentals"
)


class RiffusionResource(TaskFamily[Task, GenerationResult]):
    """Deprecated FUZZ-model generation; every call warns `DeprecationWarning`."""

    __slots__ = ()

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine, RIFFUSION)

    async def create(
        self, /, request: RiffusionCreateRequest | None = None, **fields: Any
    ) -> TaskSubmission:
        """Start a Riffusion generation (deprecated) and return its task id.

        Args:
            request: A prepared request; or pass the API's JSON fields as keywords
                (`task_type`, `mv`, `custom_mode`, `lyrics`, `prompt`, `sound`,
                `title`, `continue_clip_id`, ...).
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: The request breaks a documented rule (nothing sent).
            SubmissionUnknownError: The request was sent but its answer was lost.
            MusicAPIError: Any other failure, after the retries the policy allows.
        """
        warn_deprecated(DEPRECATED)
        return await self._submit(riffusion_body(request, fields))

    async def get(self, task_id: str) -> Task:
        """Poll a Riffusion task once (deprecated); the interim "processing" is running.

        Raises:
            NotFoundError: The task id is unknown.
            RequestValidationError: The id is not a usable task id (nothing sent).
        """
        warn_deprecated(DEPRECATED)
        return await super().get(task_id)

    async def wait(
        self,
        task_id: str | TaskSubmission,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
    ) -> GenerationResult:
        """Poll a Riffusion task until it is done (deprecated) and return its clips.

        Args:
            task_id: The task, or the submission `create` returned.
            timeout: Seconds until `WaitTimeoutError`; `None` waits forever.

        Raises:
            TaskFailedError: The task failed upstream.
            WaitTimeoutError: The deadline passed; the task may still finish.
        """
        warn_deprecated(DEPRECATED)
        return await super().wait(task_id, timeout=timeout)

    async def generate(
        self,
        /,
        request: RiffusionCreateRequest | None = None,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        **fields: Any,
    ) -> GenerationResult:
        """Create a Riffusion generation and wait for it (deprecated).

        Args:
            request: A prepared request, or the API's JSON fields as keywords.
            timeout: Seconds to wait for the result after submission.
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: The request breaks a documented rule (nothing sent).
            TaskFailedError: The task failed upstream.
            WaitTimeoutError: The deadline passed; wait on `.task_id` to resume.
        """
        warn_deprecated(DEPRECATED)
        timeout = check_timeout(timeout)
        submitted_at = self._clock.now()
        body = riffusion_body(request, fields)
        return await self._submit_and_wait(body, timeout=timeout, submitted_at=submitted_at)

    def generate_many(
        self,
        requests: Iterable[RiffusionCreateRequest | Mapping[str, Any]],
        *,
        concurrency: int = 64,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        journal: str | os.PathLike[str] | None = None,
        resubmit_unknown: bool = False,
    ) -> AsyncBatchRun[GenerationResult]:
        """Run many Riffusion generations (deprecated); one `Outcome` per request.

        Args:
            requests: `RiffusionCreateRequest` objects or mappings of `create` fields.
            concurrency: The most jobs submitted and not yet finished at once.
            timeout: Seconds each job may take after its submission.
            journal: A JSON-lines file that makes the batch resumable.
            resubmit_unknown: Submit again the jobs whose create answer was lost.

        Raises:
            RequestValidationError: `concurrency` or `timeout` is out of range.
            ClientClosedError: The client was closed.
        """
        warn_deprecated(DEPRECATED)
        return self._batch(
            requests,
            prepare=batch_preparer(RiffusionCreateRequest, riffusion_body),
            concurrency=concurrency,
            timeout=timeout,
            journal=journal,
            resubmit_unknown=resubmit_unknown,
        )

    async def upload(self, url: str) -> Upload:
        """Import audio from a URL as a clip (deprecated; `sonic.upload` does the same).

        Args:
            url: The audio file's URL.

        Raises:
            RequestValidationError: `url` is not an absolute http(s) URL (nothing sent).
            MusicAPIError: Any other failure, after retries.
        """
        warn_deprecated(DEPRECATED)
        body = request_body(
            RiffusionUploadRequest, None, {"url": url}, operation="riffusion.upload"
        )
        response = await self._transport.request("POST", "/riffusion/upload", json_body=body)
        return structure(response.body, Upload, what="riffusion upload answer")
