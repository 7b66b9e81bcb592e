"""Nuro: withdrawn by the API, which answers 410 Gone on both of its endpoints.

Kept so that code written against the documented Nuro API fails clearly: every public
call warns `DeprecationWarning`, and the API's 410 surfaces as `musicapi.GoneError`,
whose message says to use `sonic.create` for songs and `producer.create` for
background music. A platform that still serves Nuro (the sandbox's `legacy_nuro`
mode) works through the same calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from musicapi._family_requests import batch_preparer, nuro_body
from musicapi._kinds import NURO
from musicapi._models.nuro import NuroBgmRequest, NuroTask, NuroVocalRequest
from musicapi._resources._deprecated import warn_deprecated
from musicapi._resources._family import DEFAULT_WAIT_TIMEOUT, TaskFamily
from musicapi._wait import check_timeout

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping

    from musicapi._batch import AsyncBatchRun
    from musicapi._engine import TaskEngine
    from musicapi._models import TaskSubmission
    from musicapi._transport import Transport

DEPRECATED = (
    "the Nuro API was withdrawn by MusicAPI (it answers 410 Gone); use client.sonic for "
    "songs or client.producer for background music"
)


class NuroResource(TaskFamily[NuroTask, NuroTask]):
    """Withdrawn Nuro songs and background music; every call warns and the API answers 410."""

    __slots__ = ()

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine, NURO)

    async def create(
        self, /, request: NuroVocalRequest | NuroBgmRequest | None = None, **fields: Any
    ) -> TaskSubmission:
        """Start a Nuro song (`type="vocal"`) or background music (`type="bgm"`).

        Args:
            request: A prepared `NuroVocalRequest` or `NuroBgmRequest`; or pass the
                API's JSON fields as keywords, `type` choosing the shape.
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: The request breaks a documented rule (nothing sent).
            GoneError: The API has withdrawn Nuro (410); nothing was charged.
            MusicAPIError: Any other failure, after the retries the policy allows.
        """
        warn_deprecated(DEPRECATED)
        return await self._submit(nuro_body(request, fields))

    async def get(self, task_id: str) -> NuroTask:
        """Poll a Nuro task once (its `status` and `progress`).

        Raises:
            GoneError: The API has withdrawn Nuro (410).
            NotFoundError: The task id is unknown.
        """
        warn_deprecated(DEPRECATED)
        return await super().get(task_id)

    async def wait(
        self,
        task_id: str | TaskSubmission,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
    ) -> NuroTask:
        """Poll a Nuro task until it has succeeded and return it (`.audio_url`, a WAV).

        Args:
            task_id: The task, or the submission `create` returned.
            timeout: Seconds until `WaitTimeoutError`; `None` waits forever.

        Raises:
            GoneError: The API has withdrawn Nuro (410).
            TaskFailedError: The task failed upstream.
            WaitTimeoutError: The deadline passed; the task may still finish.
        """
        warn_deprecated(DEPRECATED)
        return await super().wait(task_id, timeout=timeout)

    async def generate(
        self,
        /,
        request: NuroVocalRequest | NuroBgmRequest | None = None,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        **fields: Any,
    ) -> NuroTask:
        """Create a Nuro song or background music and wait for it.

        Args:
            request: A prepared request, or the API's JSON fields as keywords.
            timeout: Seconds to wait for the result after submission.
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: The request breaks a documented rule (nothing sent).
            GoneError: The API has withdrawn Nuro (410).
            TaskFailedError: The task failed upstream.
            WaitTimeoutError: The deadline passed; wait on `.task_id` to resume.
        """
        warn_deprecated(DEPRECATED)
        timeout = check_timeout(timeout)
        submitted_at = self._clock.now()
        body = nuro_body(request, fields)
        return await self._submit_and_wait(body, timeout=timeout, submitted_at=submitted_at)

    def generate_many(
        self,
        requests: Iterable[NuroVocalRequest | NuroBgmRequest | Mapping[str, Any]],
        *,
        concurrency: int = 64,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        journal: str | os.PathLike[str] | None = None,
        resubmit_unknown: bool = False,
    ) -> AsyncBatchRun[NuroTask]:
        """Run many Nuro jobs; one `Outcome` per request (each a `GoneError` on the API).

        Args:
            requests: `NuroVocalRequest`/`NuroBgmRequest` objects or mappings of fields.
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
            prepare=batch_preparer((NuroVocalRequest, NuroBgmRequest), nuro_body),
            concurrency=concurrency,
            timeout=timeout,
            journal=journal,
            resubmit_unknown=resubmit_unknown,
        )
