"""Producer: instrumentals and background music (`/producer/...`, Lyria 3 Pro upstream).

Producer jobs poll like Sonic's (`/producer/task/{id}`: 202, then the clips), so their
results are `GenerationResult`s. `upload` and `download` are jobs too, polled at the
same path: an uploaded clip, or one entry with the exported file's URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from musicapi._family_requests import batch_preparer, producer_body, request_body
from musicapi._kinds import PRODUCER
from musicapi._models import GenerationResult, Task, TaskSubmission
from musicapi._models.producer import (
    ProducerCreateRequest,
    ProducerDownloadRequest,
    ProducerUploadRequest,
)
from musicapi._resources._family import DEFAULT_WAIT_TIMEOUT, TaskFamily
from musicapi._wait import check_timeout

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping

    from musicapi._batch import AsyncBatchRun
    from musicapi._engine import TaskEngine
    from musicapi._transport import Transport


class ProducerResource(TaskFamily[Task, GenerationResult]):
    """Instrumentals and background music: create, upload, download, and their waits."""

    __slots__ = ()

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine, PRODUCER)

    async def create(
        self, /, request: ProducerCreateRequest | None = None, **fields: Any
    ) -> TaskSubmission:
        """Start a producer job and return its task id.

        The task types the API withdrew (`music_variation`, `swap_music_vocals`,
        `swap_music_sound`) are refused here, with what to use instead, rather than
        sent for a 410.

        Args:
            request: A prepared request; or pass the API's JSON fields as keywords
                (`task_type`, `sound`, `lyrics`, `title`, `mv`, `seed`, `clip_id`,
                `starts_at`, `ends_at`, `length`, `strength`, `webhook_url`, ...).
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: The request breaks a documented rule (nothing sent).
            GoneError: The API withdrew what was asked (410).
            SubmissionUnknownError: The request was sent but its answer was lost.
            MusicAPIError: Any other failure, after the retries the policy allows.
        """
        return await self._submit(producer_body(request, fields))

    async def generate(
        self,
        /,
        request: ProducerCreateRequest | None = None,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        **fields: Any,
    ) -> GenerationResult:
        """Create a producer job and wait for its clips.

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
        body = producer_body(request, fields)
        return await self._submit_and_wait(body, timeout=timeout, submitted_at=submitted_at)

    def generate_many(
        self,
        requests: Iterable[ProducerCreateRequest | Mapping[str, Any]],
        *,
        concurrency: int = 64,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        journal: str | os.PathLike[str] | None = None,
        resubmit_unknown: bool = False,
    ) -> AsyncBatchRun[GenerationResult]:
        """Run many producer jobs; one `Outcome` per request, as each finishes.

        Works as `sonic.generate_many` does (see there for the journal and
        `resubmit_unknown`); a request that breaks a rule is its own error outcome.

        Args:
            requests: `ProducerCreateRequest` objects or mappings of `create` fields.
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
            prepare=batch_preparer(ProducerCreateRequest, producer_body),
            concurrency=concurrency,
            timeout=timeout,
            journal=journal,
            resubmit_unknown=resubmit_unknown,
        )

    async def upload(
        self,
        audio_url: str,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> TaskSubmission:
        """Import audio from a URL as a producer clip; `wait` gives the clip.

        Args:
            audio_url: The audio file's URL.
            webhook_url: Where to deliver the finished task, if anywhere.
            webhook_secret: The secret that signs the delivery.

        Raises:
            RequestValidationError: A URL is not an absolute http(s) URL (nothing sent).
            MusicAPIError: Any other failure, after retries.
        """
        fields = {
            "audio_url": audio_url,
            "webhook_url": webhook_url,
            "webhook_secret": webhook_secret,
        }
        body = request_body(ProducerUploadRequest, None, fields, operation="producer.upload")
        return await self._submit(body, path="/producer/upload")

    async def download(
        self,
        clip_id: str,
        *,
        format: str = "mp3",
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> TaskSubmission:
        """Export a producer clip as MP3 or WAV; `wait` gives one entry with its URL.

        Args:
            clip_id: The clip to export.
            format: `"mp3"` (the default) or `"wav"`.
            webhook_url: Where to deliver the finished task, if anywhere.
            webhook_secret: The secret that signs the delivery.

        Raises:
            RequestValidationError: An unknown format or an unusable URL (nothing sent).
            ServerError: 502, the provider returned no job id.
            MusicAPIError: Any other failure, after retries.
        """
        fields = {
            "clip_id": clip_id,
            "format": format,
            "webhook_url": webhook_url,
            "webhook_secret": webhook_secret,
        }
        body = request_body(ProducerDownloadRequest, None, fields, operation="producer.download")
        return await self._submit(body, path="/producer/download")
