"""Suno: the legacy `/suno/...` aliases of Sonic, lyrics tasks and song lookup.

`/suno/create` takes Sonic's create body and `/suno/clip/{id}` answers as
`/sonic/task/{id}` does, so `create` validates exactly like `sonic.create` and the
results are Sonic's. Lyrics tasks are a second task kind (`LYRICS`) on the same engine,
so `wait_lyrics` waits, retries and times out like every other wait.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel

from musicapi._converter import encode_body
from musicapi._family_requests import batch_preparer, request_body, suno_body
from musicapi._kinds import LYRICS, SUNO, song_info
from musicapi._models import GenerationResult, SonicCreateRequest, Task, TaskSubmission
from musicapi._models.suno import GetSongRequest, MakeLyricsRequest
from musicapi._resources._family import DEFAULT_WAIT_TIMEOUT, TaskFamily
from musicapi._tasks import TaskOps, checked_task_id
from musicapi._transport import log_orphaned_task
from musicapi._wait import check_timeout

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Mapping

    from musicapi._batch import AsyncBatchRun
    from musicapi._engine import TaskEngine
    from musicapi._models.suno import LyricsTask, SongInfo
    from musicapi._transport import Transport


class SunoResource(TaskFamily[Task, GenerationResult]):
    """The Suno aliases: `/suno/create`, `/suno/clip/{id}`, lyrics tasks, `/suno/get-song`."""

    __slots__ = ("_lyrics",)

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine, SUNO)
        self._lyrics = TaskOps(transport, LYRICS)

    async def create(
        self, /, request: SonicCreateRequest | None = None, **fields: Any
    ) -> TaskSubmission:
        """Start a generation through `/suno/create`; the job is charged now.

        The body and its rules are `sonic.create`'s: this alias exists for code written
        against the older API.

        Args:
            request: A prepared request; or pass the API's JSON fields as keywords.
            **fields: The request's fields, when `request` is not given.

        Raises:
            RequestValidationError: The request breaks a documented rule (nothing sent).
            SubmissionUnknownError: The request was sent but its answer was lost.
            MusicAPIError: Any other failure, after the retries the policy allows.
        """
        return await self._submit(suno_body(request, fields))

    async def generate(
        self,
        /,
        request: SonicCreateRequest | None = None,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109 (read from the injected clock)
        **fields: Any,
    ) -> GenerationResult:
        """Create a generation through `/suno/create` and wait for it.

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
        body = suno_body(request, fields)
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
        """Generate many songs through `/suno/create`; one `Outcome` per request.

        Works as `sonic.generate_many` does (see there for the journal and
        `resubmit_unknown`).

        Args:
            requests: `SonicCreateRequest` objects or mappings of `create` fields.
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
            prepare=batch_preparer(SonicCreateRequest, suno_body),
            concurrency=concurrency,
            timeout=timeout,
            journal=journal,
            resubmit_unknown=resubmit_unknown,
        )

    async def make_lyrics(self, prompt: str) -> TaskSubmission:
        """Start writing lyrics about `prompt`; wait for them with `wait_lyrics`.

        Lyrics are charged to a separate "lyrics credits" pool.

        Args:
            prompt: What the song is about, at most 119 characters.

        Raises:
            RequestValidationError: The prompt is missing or too long (nothing sent).
            MusicAPIError: Any other failure, after retries.
        """
        body = request_body(
            MakeLyricsRequest, None, {"prompt": prompt}, operation="suno.make_lyrics"
        )
        submission = await self._lyrics.submit(encode_body(body))
        try:
            await anyio.lowlevel.checkpoint_if_cancelled()
        except anyio.get_cancelled_exc_class():
            log_orphaned_task(submission.task_id, waiter="suno.wait_lyrics")
            raise
        return submission

    async def get_lyrics(self, task_id: str) -> LyricsTask:
        """Poll a lyrics task once; a running or failed task is not an error.

        Raises:
            NotFoundError: The task id is unknown.
            RequestValidationError: The id is not a usable task id (nothing sent).
        """
        return await self._lyrics.snapshot(checked_task_id(task_id))

    async def wait_lyrics(
        self,
        task_id: str | TaskSubmission,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,  # noqa: ASYNC109 (read from the injected clock)
    ) -> LyricsTask:
        """Poll a lyrics task until it is complete and return it (`.title`, `.text`).

        Args:
            task_id: The task, or the submission `make_lyrics` returned.
            timeout: Seconds until `WaitTimeoutError`; `None` waits forever.

        Raises:
            TaskFailedError: The task ended with status `error`.
            WaitTimeoutError: The deadline passed; the task may still finish.
        """
        if isinstance(task_id, TaskSubmission):
            task_id = task_id.task_id
        return await self._engine.wait(
            self._lyrics, checked_task_id(task_id), timeout=check_timeout(timeout)
        )

    async def get_song(self, share_link: str) -> SongInfo:
        """Look a song up by its Suno share link: its audio, cover, title and author.

        Args:
            share_link: The song's share URL.

        Raises:
            RequestValidationError: `share_link` is not an absolute http(s) URL.
            MusicAPIError: Any failure, after retries.
        """
        body = request_body(
            GetSongRequest, None, {"share_link": share_link}, operation="suno.get_song"
        )
        response = await self._transport.request("POST", "/suno/get-song", json_body=body)
        return song_info(response.body)
