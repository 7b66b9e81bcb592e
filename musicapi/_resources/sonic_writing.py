"""Sonic operations that write: lyrics, tags, voices and personas, and new songs from clips.

`lyrics`, `upsample_tags` and `persona` answer at once; `create_voice`, `mashup`,
`replace_section` and `sample` start a job and return its `TaskSubmission`, resolved by
`sonic.wait`; `batch` starts up to ten creates at once (experimental: §3.7b, not in
the spec) and `get_batch` polls them together.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

import anyio
import anyio.lowlevel

from musicapi._converter import parse_lyrics, structure, structure_data
from musicapi._errors import RequestValidationError
from musicapi._logging import logger
from musicapi._models import (
    LyricsResult,
    Persona,
    SonicBatch,
    SonicBatchStatus,
    SonicCreateRequest,
    UpsampledTags,
)
from musicapi._resources._sonic_base import SonicBase, body_for
from musicapi._retry import Idempotency
from musicapi._tasks import checked_task_id

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from musicapi._models import (
        MashupRequest,
        PersonaRequest,
        ReplaceSectionRequest,
        SampleRequest,
        TaskSubmission,
    )

MAX_BATCH_ITEMS = 10
"""`/sonic/batch` takes 1 to 10 create bodies (§3.7b)."""


class SonicWritingOps(SonicBase):
    """Lyrics, tags, voices, personas, remixes and batches (a mixin of `SonicResource`)."""

    __slots__ = ()

    async def lyrics(self, description: str) -> LyricsResult:
        """Write lyrics for a song described in a sentence; two candidates come back.

        Lyrics use their own credit pool, which `get_credits` does not report.

        Args:
            description: What the song is about, at most 119 characters.

        Raises:
            RequestValidationError: `description` is missing or too long (nothing sent).
            ServerError: 504 when the upstream writer timed out (not charged).
        """
        body = await self._call("sonic/lyrics", {"description": description})
        return parse_lyrics(body)

    async def upsample_tags(self, tags: str) -> UpsampledTags:
        """Rewrite terse style tags (`"lofi"`) into the richer tags the models follow best.

        Raises:
            RequestValidationError: `tags` is missing (nothing sent).
        """
        body = await self._call("sonic/upsample-tags", {"tags": tags})
        return structure_data(body, UpsampledTags, what="upsample-tags answer")

    async def persona(self, /, request: PersonaRequest | None = None, **fields: Any) -> Persona:
        """Make a reusable singer from a clip's voice; sing with it via `persona_music`.

        Args:
            request: A prepared `PersonaRequest`; or pass the API's JSON fields as
                keywords (`name` and `clip_id` required; `describe`, `vox_audio_id`,
                `vocal_start_s`, `vocal_end_s`, `styles`).
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: A rule of §3.1 is broken (nothing sent).
            NotFoundError: The clip or the `vox_audio_id` is unknown.
        """
        body = await self._call("sonic/persona", fields, request=request)
        return structure(body, Persona, what="persona answer")

    async def create_voice(
        self, audio_url: str, *, webhook_url: str | None = None, webhook_secret: str | None = None
    ) -> TaskSubmission:
        """Start training a voice on a sample of singing; its result carries a `persona_id`.

        The submission's `warning` says how long voices are kept (30 days). Wait with
        `sonic.wait(submission)`; the result's clip has `persona_id`.

        Raises:
            RequestValidationError: `audio_url` is not an absolute http(s) URL (nothing sent).
            InsufficientCreditsError: 402 (this operation's documented status) or 403.
            SubmissionUnknownError: The request was sent but its answer was lost.
        """
        fields = {
            "audio_url": audio_url,
            "webhook_url": webhook_url,
            "webhook_secret": webhook_secret,
        }
        return await self._submit(
            body_for("sonic/create-voice", None, fields), path="/sonic/create-voice"
        )

    async def mashup(
        self, /, request: MashupRequest | None = None, **fields: Any
    ) -> TaskSubmission:
        """Start a song that blends two clips (a charged generation; two clips result).

        Args:
            request: A prepared `MashupRequest`; or pass the API's JSON fields as keywords
                (`mashup_clip_ids` (exactly two), `custom_mode`, `mv` required).
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: A rule of §3.1 is broken (nothing sent).
            SubmissionUnknownError: The request was sent but its answer was lost.
        """
        return await self._submit(body_for("sonic/mashup", request, fields), path="/sonic/mashup")

    async def replace_section(
        self, /, request: ReplaceSectionRequest | None = None, **fields: Any
    ) -> TaskSubmission:
        """Start re-singing a window of a clip (infill) with new lyrics or style.

        Args:
            request: A prepared `ReplaceSectionRequest`; or pass the API's JSON fields as
                keywords (`clip_id`, `mv` (not `sonic-v3-5`), `infill_start_s`,
                `infill_end_s` required).
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: A rule of §3.1 is broken (nothing sent).
            SubmissionUnknownError: The request was sent but its answer was lost.
        """
        body = body_for("sonic/replace-section", request, fields)
        return await self._submit(body, path="/sonic/replace-section")

    async def sample(
        self, /, request: SampleRequest | None = None, **fields: Any
    ) -> TaskSubmission:
        """Start a song built on a chopped sample, from a URL or an existing clip.

        The submission's `steps` reports each step (`upload`, `sample`).

        Args:
            request: A prepared `SampleRequest`; or pass the API's JSON fields as keywords
                (`url` or `sample_clip_id`, `chop_sample_start_s`, `chop_sample_end_s`,
                `custom_mode`, `mv`, `make_instrumental` required).
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: A rule of §3.1 is broken (nothing sent).
            SubmissionUnknownError: The request was sent but its answer was lost.
        """
        return await self._submit(body_for("sonic/sample", request, fields), path="/sonic/sample")

    async def batch(self, items: Iterable[SonicCreateRequest | Mapping[str, Any]]) -> SonicBatch:
        """Start up to ten creates in one request (experimental: documented outside the spec).

        Every item is validated like `sonic.create` before anything is sent. The server
        may still refuse single items: their entry in `tasks` has an `error` and they are
        not charged. Wait on each started task with `sonic.wait`, or poll them together
        with `get_batch`. For more than ten, or to get results as they finish, prefer
        `generate_many`, which batches on the client.

        Args:
            items: One to ten `SonicCreateRequest` objects or mappings of create fields.

        Raises:
            RequestValidationError: Not 1 to 10 items, or an item breaks a rule (nothing
                sent); `.field` is `items`, or `items[i].<field>`.
            SubmissionUnknownError: The request was sent but its answer was lost.
        """
        bodies = self._batch_bodies(items)
        response = await self._transport.request(
            "POST", "/sonic/batch", json_body={"items": bodies}, idempotency=Idempotency.CREATE
        )
        batch = structure(response.body, SonicBatch, what="batch answer")
        try:
            await anyio.lowlevel.checkpoint_if_cancelled()
        except anyio.get_cancelled_exc_class():
            logger.warning(
                "a sonic batch was answered after its caller was cancelled: batch %s started "
                "tasks %s, which may be charged",
                batch.batch_id,
                ", ".join(batch.task_ids) or "<none>",
            )
            raise
        return batch

    async def get_batch(self, batch_id: str) -> SonicBatchStatus:
        """Poll every task of a batch at once (one request).

        Raises:
            RequestValidationError: `batch_id` is not a usable id (nothing sent).
            NotFoundError: The batch is unknown.
        """
        checked = checked_task_id(batch_id, field="batch_id")
        response = await self._transport.request(
            "GET", f"/sonic/batch?batch_id={quote(checked, safe='')}"
        )
        return structure(response.body, SonicBatchStatus, what="batch status")

    def _batch_bodies(self, items: object) -> list[dict[str, Any]]:
        """Validate the items of a batch like `sonic.create` and return their bodies.

        Raises:
            RequestValidationError: Not 1 to 10 items, or an item breaks a rule.
        """
        if isinstance(items, (str, bytes, MappingABC)) or not hasattr(items, "__iter__"):
            raise RequestValidationError(
                "items must be a list of create requests or mappings of create fields",
                field="items",
            )
        listed: list[Any] = list(cast("Iterable[Any]", items))
        if not 1 <= len(listed) <= MAX_BATCH_ITEMS:
            raise RequestValidationError(
                f"items must hold 1 to {MAX_BATCH_ITEMS} create requests, not {len(listed)}",
                field="items",
            )
        return [self._batch_item_body(index, item) for index, item in enumerate(listed)]

    def _batch_item_body(self, index: int, item: object) -> dict[str, Any]:
        """Validate item `index` of a batch through the family's `_body`, naming it in errors."""
        if not isinstance(item, (SonicCreateRequest, MappingABC)):
            raise RequestValidationError(
                f"items[{index}] must be a SonicCreateRequest or a mapping of create fields, "
                f"not {type(item).__name__}",
                field=f"items[{index}]",
            )
        try:
            if isinstance(item, SonicCreateRequest):
                return self._body(item, {})
            return self._body(None, dict(cast("Mapping[str, Any]", item)))
        except RequestValidationError as exc:
            where = f"items[{index}]" + (f".{exc.field}" if exc.field else "")
            raise RequestValidationError(f"{where}: {exc}", field=where) from None
