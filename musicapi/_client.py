"""`AsyncMusicAPI`: the async client, and the owner of everything one client shares.

One client owns one pooled `httpx.AsyncClient`, one request budget (pacing and the
in-flight cap every wait and batch of this client shares) and one clock. Resources
(`client.sonic`, ...) are thin views over those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from musicapi._budget import PacingSnapshot, RequestBudget
from musicapi._clock import REAL_CLOCK
from musicapi._config import DEFAULT_TIMEOUT, ClientConfig
from musicapi._download import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_BYTES,
    download_clip,
    download_file,
    download_many,
)
from musicapi._engine import TaskEngine
from musicapi._logging import configure_from_env
from musicapi._resources.credits import CreditsResource
from musicapi._resources.nuro import NuroResource
from musicapi._resources.producer import ProducerResource
from musicapi._resources.riffusion import RiffusionResource
from musicapi._resources.sonic import SonicResource
from musicapi._resources.studio import StudioResource
from musicapi._resources.suno import SunoResource
from musicapi._transport import Transport
from musicapi._wait import PollPolicy

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable
    from pathlib import Path
    from types import TracebackType

    import httpx
    from typing_extensions import Self

    from musicapi._clock import Clock
    from musicapi._download import ClipFile, FileKind, Progress
    from musicapi._models import Clip, Credits, GenerationResult
    from musicapi.webhooks import EventBus, WebhookReceiver


class AsyncMusicAPI:
    """The asynchronous MusicAPI client (asyncio or trio, through anyio).

    Args:
        api_key: The API key; defaults to the `MUSICAPI_KEY` environment variable.
        base_url: The API root; defaults to `MUSICAPI_BASE_URL`, then the public API.
            Plain `http://` is accepted only for loopback hosts (the sandbox).
        timeout: Seconds allowed for one HTTP request.
        max_retries: Resends of a retryable request (a paid create is resent only when
            the server surely did not take it).
        http_client: An `httpx.AsyncClient` to use (you close it); its pool is shared.
        transport: An httpx transport for the client we create, e.g.
            `musicapi.sandbox.Sandbox().transport()`.
        rate_limit: A ceiling on this client's requests per second; by default the
            pace adapts to the server's 429s.
        max_in_flight: The most HTTP requests in flight at once.
        clock: The clock for waits and backoff (`musicapi.testing.FakeClock` in tests).
        poll_policy: How often waits poll.
        webhooks: A `musicapi.webhooks.WebhookReceiver` (or an event bus that its
            deliveries reach, such as a `RedisBus` shared by several workers): waits for
            tasks created with a `webhook_url` return the moment a verified delivery
            for them arrives, and poll only as a slow fallback meanwhile.

    Raises:
        ConfigurationError: A malformed base URL, http to a non-loopback host, or a
            number out of range.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limit: float | None = None,
        max_in_flight: int = 64,
        clock: Clock | None = None,
        poll_policy: PollPolicy | None = None,
        webhooks: WebhookReceiver | EventBus | None = None,
    ) -> None:
        configure_from_env()
        self._setup(
            ClientConfig.resolve(
                api_key=api_key,
                base_url=base_url,
                timeout=timeout,
                max_retries=max_retries,
                max_in_flight=max_in_flight,
                rate_limit=rate_limit,
                http_client=http_client,
                transport=transport,
                clock=clock,
                poll_policy=poll_policy,
                webhooks=webhooks,
            )
        )

    @classmethod
    def _from_config(cls, config: ClientConfig) -> Self:
        """Build a client from an already resolved config (the sync facade's path)."""
        client = cls.__new__(cls)
        client._setup(config)
        return client

    def _setup(self, config: ClientConfig) -> None:
        self._config = config
        self._clock = config.clock or REAL_CLOCK
        self._budget = RequestBudget(
            self._clock, rate_limit=config.rate_limit, max_in_flight=config.max_in_flight
        )
        self._transport = Transport(
            config,
            clock=self._clock,
            budget=self._budget,
            http_client=config.http_client,
            transport=config.transport,
        )
        self._wakeups = config.webhooks.subscribe() if config.webhooks is not None else None
        self._engine = TaskEngine(
            self._clock,
            config.poll_policy or PollPolicy(),
            self._budget.max_in_flight,
            wakeups=self._wakeups,
        )
        self._credits = CreditsResource(self._transport, self._clock)
        self.sonic = SonicResource(self._transport, self._engine)
        """Song generation and its tools: `create`, `get`, `wait`, `generate`, stems, WAV, ..."""
        self.suno = SunoResource(self._transport, self._engine)
        """The legacy `/suno/...` aliases of Sonic, and lyrics tasks."""
        self.producer = ProducerResource(self._transport, self._engine)
        """Instrumentals and background music (`/producer/...`)."""
        self.studio = StudioResource(self._transport, self._engine)
        """Udio-style generation (`/studio/...`)."""
        self.riffusion = RiffusionResource(self._transport, self._engine)
        """Deprecated by the API: the FUZZ models (`/riffusion/...`)."""
        self.nuro = NuroResource(self._transport, self._engine)
        """Withdrawn by the API (410): kept so that old code gets a clear `GoneError`."""

    def __repr__(self) -> str:
        key = "set" if self._config.api_key else "missing"
        return f"AsyncMusicAPI(base_url={self._config.base_url!r}, api_key=<{key}>)"

    @property
    def base_url(self) -> str:
        """The API root this client talks to."""
        return self._config.base_url

    @property
    def pacing(self) -> PacingSnapshot:
        """A read-only snapshot of the pacing every request of this client shares."""
        return self._budget.snapshot()

    async def get_credits(self) -> Credits:
        """Return the account's balance (`.credits`, `.extra_credits`): a check that the key works."""
        return await self._credits.get()

    async def download(
        self,
        clip: Clip,
        directory: str | os.PathLike[str] = ".",
        *,
        what: ClipFile = "audio",
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        progress: Progress | None = None,
    ) -> Path:
        """Save one of a clip's files (its audio by default) into `directory`; return its path.

        The file streams to disk under a temporary name and is renamed when complete; the
        API key is never sent to the file host; a file of the same name with the same
        bytes is kept, one with other bytes is never overwritten.

        Args:
            clip: The clip whose file to save.
            directory: Where to save it (created if missing).
            what: `"audio"`, `"image"` (the cover) or `"video"`.
            max_bytes: The most bytes to accept (`None`: no cap).
            progress: Called with `(done_bytes, total_bytes_or_None)` as the file arrives,
                on the client's event loop (the loop thread with `MusicAPI`): keep it quick.

        Raises:
            FileUnavailableError: No URL, or the host no longer serves the file (poll the
                task again for fresh links).
            FileTooLargeError: The file is larger than `max_bytes`.
            APIConnectionError: The network failed.
        """
        return await download_clip(
            self._transport.http_client,
            clip,
            directory,
            what=what,
            max_bytes=max_bytes,
            progress=progress,
        )

    async def download_many(
        self,
        items: Clip | GenerationResult | Iterable[Clip | GenerationResult],
        directory: str | os.PathLike[str] = ".",
        *,
        what: ClipFile | Iterable[ClipFile] = "audio",
        concurrency: int = DEFAULT_CONCURRENCY,
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        progress: Progress | None = None,
    ) -> list[Path]:
        """Save the chosen files of many clips or results, a few at a time.

        Every URL is checked before anything is fetched; the first failure stops the
        rest (their partial files removed) and is raised as itself.

        Returns:
            The paths, clip by clip, in `what` order within a clip.
        """
        return await download_many(
            self._transport.http_client,
            items,
            directory,
            what=what,
            concurrency=concurrency,
            max_bytes=max_bytes,
            progress=progress,
        )

    async def download_url(
        self,
        url: str | None,
        directory: str | os.PathLike[str] = ".",
        *,
        name: str,
        kind: FileKind = "audio",
        max_bytes: int | None = DEFAULT_MAX_BYTES,
        progress: Progress | None = None,
    ) -> Path:
        """Save any file a result links to into `directory`, as `name` plus its extension.

        For the URLs that are not a clip's own files: a WAV export's `wav_url`, a MIDI
        transcription's `midi_url`, an isolated vocal's `audio_url`, a Studio song's, ...
        (a stem is a clip: `download` saves it too). It is the same download as
        `download`'s: streamed under a temporary name, never with the API key, an
        identical file kept, a different one never overwritten. The URL only picks
        the extension (with the answer's `Content-Type`), never the name.

        Args:
            url: The file's http(s) URL, e.g. `(await client.sonic.wav(clip_id)).wav_url`.
            directory: Where to save it (created if missing).
            name: The file name without extension, sanitised into one safe component,
                e.g. `f"{clip.title} - {clip.clip_id}"`.
            kind: What the file holds, which picks its extension: `"audio"` (`.mp3`
                unless the host says otherwise), `"wav"`, `"midi"` (`.mid`), `"image"`,
                `"video"`.
            max_bytes: The most bytes to accept (`None`: no cap).
            progress: Called with `(done_bytes, total_bytes_or_None)` as the file arrives,
                on the client's event loop (the loop thread with `MusicAPI`): keep it quick.

        Returns:
            Where the file is.

        Raises:
            FileURLMissingError: `url` is missing or not an absolute http(s) URL (nothing
                sent; also a `RequestValidationError`).
            FileUnavailableError: The host no longer serves the file (403, 404, 410: ask
                the operation again for a fresh link).
            FileTooLargeError: The file is larger than `max_bytes`.
            APIConnectionError: The network failed, or the body was cut short.
        """
        return await download_file(
            self._transport.http_client,
            url,
            directory,
            name_stem=name,
            kind=kind,
            max_bytes=max_bytes,
            progress=progress,
        )

    async def aclose(self) -> None:
        """Close the connection pool (unless it was passed in as `http_client`)."""
        if self._wakeups is not None:
            self._wakeups.close()
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
