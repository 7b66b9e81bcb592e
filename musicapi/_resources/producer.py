"""Producer: instrumentals and background music (`/producer/...`, Lyria 3 Pro upstream).

Producer jobs poll like Sonic's (`/producer/task/{id}`: 202, then the clips), so their
results are `GenerationResult`s. `upload` and `download` are jobs too, polled at the
same path: an uploaded clip, or one entry with the exported file's URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from musicapi._family_requests import producer_body, request_body
from musicapi._kinds import PRODUCER
from musicapi._models import GenerationResult, Task, TaskSubmission
from musicapi._models.producer import (
    ProducerCreateRequest,
    ProducerDownloadRequest,
    ProducerUploadRequest,
)
from musicapi._resources._family import CreatingFamily

if TYPE_CHECKING:
    from collections.abc import Mapping

    from musicapi._engine import TaskEngine
    from musicapi._transport import Transport


class ProducerResource(CreatingFamily[ProducerCreateRequest, Task, GenerationResult]):
    """Instrumentals and background music: create, upload, download, and their waits."""

    __slots__ = ()

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine, PRODUCER)

    _request_types: ClassVar[tuple[type, ...]] = (ProducerCreateRequest,)

    def _body(
        self, request: ProducerCreateRequest | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Validate a create request (`_family_requests.producer_body`) and return its JSON body."""
        return producer_body(request, fields)

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
