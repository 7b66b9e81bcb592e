"""A FastAPI service that generates songs and hears back from MusicAPI by webhook.

`POST /songs` with `{"description": "..."}` creates a generation with a `webhook_url`
that points back at this same app, waits for it, and answers with the songs' titles
and audio URLs. The app mounts a `musicapi.webhooks.WebhookReceiver` at
`/webhooks/musicapi`: it verifies each delivery's signature, logs the event (through
`@receiver.on_event`), and, because the client is created with
`AsyncMusicAPI(webhooks=receiver)`, wakes the waiting `generate` the moment the
verified delivery arrives. Polling stays on as the fallback: a webhook that is lost or
late only makes the answer slower, never wrong. The client lives in FastAPI's lifespan,
one per app, and is closed there.

Run as a script, it demonstrates the whole loop in one process: it serves the app with
uvicorn on a free loopback port, POSTs one description to it with httpx, prints the
answer and how long it took, and shuts everything down:

    python -m pip install fastapi uvicorn  # example-only dependencies
    python examples/07_webhooks_fastapi.py [--prompt TEXT]

Without `MUSICAPI_KEY` the API is a sandbox served on loopback, which posts its signed
webhooks to the app's loopback URL, like the real platform would. With `MUSICAPI_KEY`
set it spends real credits, and the platform can only reach a public address: set
`PUBLIC_URL` to one that forwards to the app's `--port` (a tunnel, say) and
`MUSICAPI_WEBHOOK_SECRET` to your secret. To serve the app on its own, with the same
variables set:

    uvicorn --factory --app-dir examples 07_webhooks_fastapi:create_app --port 8000
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import secrets
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import attrs
import httpx
from _common import on_sandbox

from musicapi import AsyncMusicAPI, MusicAPIError, RequestValidationError
from musicapi.sandbox import Sandbox
from musicapi.webhooks import WebhookReceiver

try:
    import uvicorn
    from fastapi import FastAPI, HTTPException, Request
    from pydantic import BaseModel, Field
except ImportError as exc:  # example-only dependencies: say how to get them
    sys.exit(f"this example needs FastAPI and uvicorn (pip install fastapi uvicorn): {exc}")

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator

    from musicapi.webhooks import WebhookEvent

WEBHOOK_PATH = "/webhooks/musicapi"
DEFAULT_PROMPT = "uplifting synthwave with female vocals"
SANDBOX_TASK_SECONDS = 1.5
"""How long a generation takes on the demo's sandbox (real seconds)."""

log = logging.getLogger("songs")


@attrs.frozen(kw_only=True)
class Settings:
    """What the service needs to know; `from_env()` reads it from the environment.

    Attributes:
        webhook_secret: Signs and verifies the deliveries (`MUSICAPI_WEBHOOK_SECRET`).
        public_url: Where MusicAPI can reach this app (`PUBLIC_URL`), e.g.
            `https://songs.example.com`: the webhook URL is built from it.
        api_key: The API key; `None` reads `MUSICAPI_KEY`.
        base_url: The API's base URL; `None` reads `MUSICAPI_BASE_URL`, else the real API.
    """

    webhook_secret: str = attrs.field(repr=False)
    public_url: str
    api_key: str | None = attrs.field(default=None, repr=False)
    base_url: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        """Read the settings from `MUSICAPI_WEBHOOK_SECRET` and `PUBLIC_URL`.

        Raises:
            KeyError: One of them is not set.
        """
        return cls(
            webhook_secret=os.environ["MUSICAPI_WEBHOOK_SECRET"],
            public_url=os.environ["PUBLIC_URL"],
        )

    @property
    def webhook_url(self) -> str:
        """The receiver's address, `PUBLIC_URL/webhooks/musicapi/`.

        Mind the final slash: under `app.mount`, the bare path answers with a redirect
        (307), and webhook senders do not follow redirects.
        """
        return f"{self.public_url.rstrip('/')}{WEBHOOK_PATH}/"


class SongRequest(BaseModel):
    """The body of `POST /songs`."""

    description: str = Field(min_length=1, max_length=400, examples=[DEFAULT_PROMPT])


class Song(BaseModel):
    """One generated song."""

    title: str | None
    audio_url: str | None


class Songs(BaseModel):
    """The answer of `POST /songs`: the task and its songs (usually two)."""

    task_id: str
    songs: list[Song]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service: `POST /songs` and the webhook receiver, sharing one client.

    Args:
        settings: What the service needs; `Settings.from_env()` if `None` (so that
            `uvicorn --factory` can call it without arguments).
    """
    config = settings if settings is not None else Settings.from_env()
    receiver = WebhookReceiver(config.webhook_secret)

    @receiver.on_event
    async def log_event(event: WebhookEvent) -> None:
        # Runs for each new verified delivery, before the receiver answers the platform:
        # keep it short (hand long work to a queue).
        log.info(
            "webhook %s: task %s %s, %d clips",
            event.type,
            event.task_id,
            event.state,
            len(event.clips),
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[dict[str, Any], None]:
        # One client for the app's whole life: its connection pool, its request budget
        # and its webhook subscription are shared by every request, then closed.
        # With `webhooks=receiver`, a wait for a task created with a `webhook_url` ends
        # the moment the receiver hands on a verified delivery for it (one GET then
        # confirms the result); meanwhile it polls only as a slow fallback.
        async with AsyncMusicAPI(
            config.api_key, base_url=config.base_url, webhooks=receiver
        ) as client:
            yield {"musicapi": client}  # each request finds it in `request.state`

    app = FastAPI(title="songs", lifespan=lifespan)
    app.mount(WEBHOOK_PATH, receiver)

    @app.post("/songs")
    async def create_songs(song: SongRequest, request: Request) -> Songs:
        client: AsyncMusicAPI = request.state.musicapi
        try:
            result = await client.sonic.generate(
                custom_mode=False,
                mv="sonic-v5",
                gpt_description_prompt=song.description,
                webhook_url=config.webhook_url,
                webhook_secret=config.webhook_secret,
            )
        except RequestValidationError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from None
        except MusicAPIError as exc:
            raise HTTPException(status_code=502, detail=f"{type(exc).__name__}: {exc}") from None
        return Songs(
            task_id=result.task_id,
            songs=[Song(title=clip.title, audio_url=clip.audio_url) for clip in result.clips],
        )

    return app


# -- the demo: the app, a caller and (without a key) the API, in one process -----------------


@contextlib.contextmanager
def serve(app: FastAPI, sock: socket.socket) -> Generator[None, None, None]:
    """Serve `app` with uvicorn on the bound socket `sock`, in a thread, until the block ends.

    In a thread uvicorn installs no signal handlers, so Ctrl-C stays with the script.
    """
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            lifespan="on",
            ws="none",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,  # on Ctrl-C, cancel a request still waiting
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    )
    thread.start()
    try:
        while not server.started:  # the lifespan (the client) is up, the socket listens
            if not thread.is_alive():
                raise RuntimeError("the app did not start (see the log above)")
            time.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        thread.join()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--prompt", default=DEFAULT_PROMPT, help="what the song should be like")
    parser.add_argument(
        "--port", type=int, default=0, help="the app's loopback port (default: a free one)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(format="%(message)s", stream=sys.stdout)
    log.setLevel(logging.INFO)
    sandbox: Sandbox | None = None
    with contextlib.ExitStack() as stack:
        sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        sock.bind(("127.0.0.1", args.port))
        app_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        if on_sandbox():
            print("using the sandbox (no MUSICAPI_KEY set)")
            print(f"a generation takes {SANDBOX_TASK_SECONDS:g} s on this sandbox")
            sandbox = Sandbox(task_seconds=SANDBOX_TASK_SECONDS)
            api_url = stack.enter_context(sandbox.serve_in_thread("127.0.0.1"))
            settings = Settings(
                webhook_secret=secrets.token_hex(16),
                public_url=app_url,
                api_key="sandbox-key",
                base_url=api_url,
            )
        else:
            public_url = os.environ.get("PUBLIC_URL")
            if not public_url:
                print("error: set PUBLIC_URL: MusicAPI cannot reach loopback", file=sys.stderr)
                return 2
            settings = Settings(
                webhook_secret=os.environ.get("MUSICAPI_WEBHOOK_SECRET") or secrets.token_hex(16),
                public_url=public_url,
            )
        stack.enter_context(serve(create_app(settings), sock))
        print(f"the app listens on {app_url}; its webhook URL is {settings.webhook_url}")

        print(f"POST /songs {{'description': {args.prompt!r}}}")
        started = time.perf_counter()
        try:
            response = httpx.post(
                f"{app_url}/songs", json={"description": args.prompt}, timeout=900
            )
        except httpx.HTTPError as exc:
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:  # Ctrl-C: the app stops, cancelling the wait
            print("interrupted", file=sys.stderr)
            return 130
        took = time.perf_counter() - started
        if response.status_code != 200:
            print(f"error: {response.status_code} {response.text}", file=sys.stderr)
            return 1
        answer: dict[str, Any] = response.json()  # a `Songs`
        print(f"answered {response.status_code} in {took:.1f} s: task {answer['task_id']}")
        for song in answer["songs"]:
            print(f"  {song['title']}  {song['audio_url']}")

        if sandbox is not None:  # no polling loop: one request per webhook that woke it
            print(f"requests for the task's state: {sandbox.stats.requests.get('task', 0)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
