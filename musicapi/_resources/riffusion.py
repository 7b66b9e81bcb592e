"""Riffusion: the FUZZ models (`/riffusion/...`), deprecated by the API.

Every public call warns `DeprecationWarning`: the docs mark the family deprecated, and
new code should use `client.sonic` (songs) or `client.producer` (instrumentals). The
task endpoint may answer an interim 200 (`code: 102`, "processing"), which its task
kind (`RIFFUSION` in `_kinds.py`) reads as running: only `code: 200` is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from musicapi._converter import structure
from musicapi._family_requests import request_body, riffusion_body
from musicapi._kinds import RIFFUSION
from musicapi._models import GenerationResult, Task
from musicapi._models.riffusion import RiffusionCreateRequest, RiffusionUploadRequest
from musicapi._models.sonic_tools import Upload
from musicapi._resources._deprecated import warn_deprecated
from musicapi._resources._family import CreatingFamily

if TYPE_CHECKING:
    from collections.abc import Mapping

    from musicapi._engine import TaskEngine
    from musicapi._transport import Transport

DEPRECATED = (
    "the Riffusion API is deprecated by MusicAPI; use client.sonic for songs or "
    "client.producer for instrumentals"
)


class RiffusionResource(CreatingFamily[RiffusionCreateRequest, Task, GenerationResult]):
    """Deprecated FUZZ-model generation; every call warns `DeprecationWarning`."""

    __slots__ = ()

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine, RIFFUSION)

    _deprecated: ClassVar[str | None] = DEPRECATED

    _request_types: ClassVar[tuple[type, ...]] = (RiffusionCreateRequest,)

    def _body(
        self, request: RiffusionCreateRequest | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Validate a create request (`_family_requests.riffusion_body`) and return its JSON body."""
        return riffusion_body(request, fields)

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
