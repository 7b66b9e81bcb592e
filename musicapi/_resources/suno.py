"""Suno: the legacy `/suno/...` aliases of Sonic, lyrics tasks and song lookup.

`/suno/create` takes Sonic's create body and `/suno/clip/{id}` answers as
`/sonic/task/{id}` does, so `create` validates exactly like `sonic.create` and the
results are Sonic's. Lyrics tasks are a second task kind (`LYRICS`) on the same engine,
so `wait_lyrics` waits, retries and times out like every other wait.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from musicapi._family_requests import request_body, suno_body
from musicapi._kinds import LYRICS, SUNO, song_info
from musicapi._models import GenerationResult, SonicCreateRequest, Task, TaskSubmission
from musicapi._models.suno import GetSongRequest, MakeLyricsRequest
from musicapi._resources._family import DEFAULT_WAIT_TIMEOUT, CreatingFamily
from musicapi._tasks import TaskOps, checked_task_id

if TYPE_CHECKING:
    from collections.abc import Mapping

    from musicapi._engine import TaskEngine
    from musicapi._models.suno import LyricsTask, SongInfo
    from musicapi._transport import Transport


class SunoResource(CreatingFamily[SonicCreateRequest, Task, GenerationResult]):
    """The Suno aliases: `/suno/create`, `/suno/clip/{id}`, lyrics tasks, `/suno/get-song`."""

    __slots__ = ("_lyrics",)

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine, SUNO)
        self._lyrics = TaskOps(transport, LYRICS)

    _request_types: ClassVar[tuple[type, ...]] = (SonicCreateRequest,)

    def _body(
        self, request: SonicCreateRequest | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Validate a create request (`_family_requests.suno_body`) and return its JSON body."""
        return suno_body(request, fields)

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
        return await self._submit(body, ops=self._lyrics)

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
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
    ) -> LyricsTask:
        """Poll a lyrics task until it is complete and return it (`.title`, `.text`).

        Args:
            task_id: The task, or the submission `make_lyrics` returned.
            timeout: Seconds until `WaitTimeoutError`; `None` waits forever.

        Raises:
            TaskFailedError: The task ended with status `error`.
            WaitTimeoutError: The deadline passed; the task may still finish.
        """
        return await self._wait_on(self._lyrics, task_id, timeout)

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
