"""Sonic: song generation (create, get, wait, generate, generate_many) and every tool.

The resource builds typed requests and hands the waiting to the client's task engine
(`_engine.py`) through `TaskFamily`: `wait`, `generate` and every job of
`generate_many` go through the same scheduler, so they share one deadline rule, one
retry rule and one request budget. The other operations of api-reference §3.1 come
from two mixins: `sonic_audio.py` (wav, midi, stems, bpm, aligned lyrics, vox,
uploads) and `sonic_writing.py` (lyrics, tags, voices, personas, mashup,
replace-section, sample, batch); the jobs they start are waited on with the same `wait`.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from typing import TYPE_CHECKING, Any

from musicapi._converter import unstructure_request
from musicapi._errors import RequestValidationError
from musicapi._models import GenerationResult, SonicCreateRequest, TaskSubmission
from musicapi._resources._family import DEFAULT_WAIT_TIMEOUT
from musicapi._resources.sonic_audio import SonicAudioOps
from musicapi._resources.sonic_writing import SonicWritingOps
from musicapi._tasks import SONIC
from musicapi._validation import prepare_request
from musicapi._wait import check_timeout

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping

    from musicapi._batch import AsyncBatchRun
    from musicapi._engine import TaskEngine
    from musicapi._transport import Transport


class SonicResource(SonicAudioOps, SonicWritingOps):
    """Song generation with the Sonic models (`/sonic/*`), polled at `/sonic/task/{id}`."""

    __slots__ = ()

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine, SONIC)

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
        return await self._submit(unstructure_request(prepare_request(request, fields)))

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
        timeout = check_timeout(timeout)
        submitted_at = self._clock.now()
        body = unstructure_request(prepare_request(request, fields))
        return await self._submit_and_wait(body, timeout=timeout, submitted_at=submitted_at)

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
        return self._batch(
            requests,
            prepare=_sonic_body,
            concurrency=concurrency,
            timeout=timeout,
            journal=journal,
            resubmit_unknown=resubmit_unknown,
        )


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
