"""Sonic operations on a clip's audio: exports, analysis, separation and uploads.

`wav`, `bpm`, `aligned_lyrics`, `vox` and `upload` answer at once with a typed result;
`midi` answers at once or with 202 ("not ready: ask again"), which it waits out on the
client's task engine; `stems_basic`, `stems_full`, `upload_cover` and `upload_extend`
start a job and return its `TaskSubmission`, resolved by `sonic.wait`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from musicapi._converter import parse_aligned_lyrics, structure, structure_data
from musicapi._models import AlignedLyrics, Bpm, Midi, Upload, Vox, WavFile
from musicapi._resources._family import DEFAULT_WAIT_TIMEOUT
from musicapi._resources._sonic_base import SonicBase, body_for
from musicapi._retry import Idempotency
from musicapi._tasks import MIDI, TaskOps
from musicapi._wait import check_timeout

if TYPE_CHECKING:
    from musicapi._models import TaskSubmission, UploadCoverRequest, UploadExtendRequest


class SonicAudioOps(SonicBase):
    """Exports, analysis, stems and uploads (a mixin of `SonicResource`)."""

    __slots__ = ()

    async def wav(self, clip_id: str) -> WavFile:
        """Export a clip as lossless WAV and return the file's URL (2 credits).

        Charged, so never resent blindly: a request whose answer was lost raises
        `SubmissionUnknownError` rather than risk paying twice.

        Raises:
            RequestValidationError: `clip_id` is missing (nothing sent).
            NotFoundError: The clip is unknown.
            SubmissionUnknownError: The request was sent but its answer was lost.
        """
        body = await self._call("sonic/wav", {"clip_id": clip_id}, idempotency=Idempotency.CREATE)
        return structure_data(body, WavFile, what="wav answer", clip_id=clip_id)

    async def midi(
        self,
        clip_id: str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
    ) -> Midi:
        """Transcribe a clip to MIDI, asking again while the API answers "not ready".

        The API answers 202 until the transcription is ready; the request is repeated on
        the client's task engine (adaptive backoff, shared request budget, one deadline),
        exactly as a task is polled.

        Args:
            clip_id: The clip to transcribe.
            timeout: Seconds until `WaitTimeoutError`; `None` waits forever.

        Raises:
            RequestValidationError: `clip_id` is missing (nothing sent).
            NotFoundError: The clip is unknown.
            WaitTimeoutError: The MIDI was not ready in time (its `task_id` is the clip id).
        """
        timeout = check_timeout(timeout)
        body = body_for("sonic/midi", None, {"clip_id": clip_id})
        return await self._engine.wait(
            TaskOps(self._transport, MIDI), body["clip_id"], timeout=timeout
        )

    async def bpm(self, clip_id: str) -> Bpm:
        """Measure a clip's tempo: average, maximum and minimum beats per minute.

        Raises:
            RequestValidationError: `clip_id` is missing (nothing sent).
            NotFoundError: The clip is unknown.
        """
        body = await self._call("sonic/bpm", {"clip_id": clip_id})
        return structure_data(body, Bpm, what="bpm answer")

    async def aligned_lyrics(self, clip_id: str) -> AlignedLyrics:
        """Return when each word of a clip's lyrics is sung, grouped into lines (karaoke).

        Raises:
            RequestValidationError: `clip_id` is missing (nothing sent).
            NotFoundError: The clip is unknown or has no lyrics (an instrumental).
        """
        body = await self._call("sonic/aligned-lyrics", {"clip_id": clip_id})
        return parse_aligned_lyrics(clip_id, body)

    async def vox(
        self,
        clip_id: str,
        *,
        vocal_start_s: float | None = None,
        vocal_end_s: float | None = None,
    ) -> Vox:
        """Isolate a clip's vocals (optionally a window of them) for use in a persona.

        Args:
            clip_id: The clip to take the voice from.
            vocal_start_s: Where the window starts, in seconds (0 or more).
            vocal_end_s: Where it ends: after the start, within the clip.

        Raises:
            RequestValidationError: A bad window (nothing sent); `.field` names the bound.
            NotFoundError: The clip is unknown.
        """
        fields = {"clip_id": clip_id, "vocal_start_s": vocal_start_s, "vocal_end_s": vocal_end_s}
        body = await self._call("sonic/vox", fields)
        return structure_data(body, Vox, what="vox answer")

    async def upload(self, url: str) -> Upload:
        """Import audio from a URL as a clip, to extend or cover it.

        Extend or cover the clip with `task_type="extend_upload_music"` or
        `"cover_upload_music"`: the API refuses `extend_music`/`cover_music` on uploads.

        Raises:
            RequestValidationError: `url` is not an absolute http(s) URL (nothing sent).
        """
        body = await self._call("sonic/upload", {"url": url})
        return structure(body, Upload, what="upload answer")

    async def stems_basic(
        self, clip_id: str, *, webhook_url: str | None = None, webhook_secret: str | None = None
    ) -> TaskSubmission:
        """Start splitting a clip into vocals and instrumental (15 credits).

        Wait with `sonic.wait(submission)`: the result's clips are the stems, each with
        `stem_type` and `source_clip_id`.

        Raises:
            RequestValidationError: A bad field (nothing sent).
            NotFoundError: The clip is unknown.
            SubmissionUnknownError: The request was sent but its answer was lost.
        """
        return await self._stems("sonic/stems/basic", clip_id, webhook_url, webhook_secret)

    async def stems_full(
        self, clip_id: str, *, webhook_url: str | None = None, webhook_secret: str | None = None
    ) -> TaskSubmission:
        """Start splitting a clip into every part: vocals, drums, bass, other (75 credits).

        Wait with `sonic.wait(submission)`: the result's clips are the stems, each with
        `stem_type` and `source_clip_id`.

        Raises:
            RequestValidationError: A bad field (nothing sent).
            NotFoundError: The clip is unknown.
            SubmissionUnknownError: The request was sent but its answer was lost.
        """
        return await self._stems("sonic/stems/full", clip_id, webhook_url, webhook_secret)

    async def _stems(
        self, operation: str, clip_id: str, webhook_url: str | None, webhook_secret: str | None
    ) -> TaskSubmission:
        fields = {"clip_id": clip_id, "webhook_url": webhook_url, "webhook_secret": webhook_secret}
        return await self._submit(body_for(operation, None, fields), path=f"/{operation}")

    async def upload_cover(
        self, /, request: UploadCoverRequest | None = None, **fields: Any
    ) -> TaskSubmission:
        """Upload audio from a URL and cover it in one call (a charged generation).

        Args:
            request: A prepared `UploadCoverRequest`; or pass the API's JSON fields as
                keywords (`url`, `custom_mode`, `mv` required; `prompt`, `tags`, ...).
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: A rule of §3.1 is broken (nothing sent).
            SubmissionUnknownError: The request was sent but its answer was lost.
        """
        body = body_for("sonic/upload-cover", request, fields)
        return await self._submit(body, path="/sonic/upload-cover")

    async def upload_extend(
        self, /, request: UploadExtendRequest | None = None, **fields: Any
    ) -> TaskSubmission:
        """Upload audio from a URL and extend it from `continue_at` (a charged generation).

        Args:
            request: A prepared `UploadExtendRequest`; or pass the API's JSON fields as
                keywords (`url`, `custom_mode`, `mv` required; `continue_at`, ...).
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: A rule of §3.1 is broken (nothing sent).
            SubmissionUnknownError: The request was sent but its answer was lost.
        """
        body = body_for("sonic/upload-extend", request, fields)
        return await self._submit(body, path="/sonic/upload-extend")
