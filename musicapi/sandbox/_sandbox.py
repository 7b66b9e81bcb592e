"""`Sandbox`: one local MusicAPI, its state and knobs, reachable in-process or over loopback."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import threading
from types import MappingProxyType
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

from musicapi._clock import REAL_CLOCK, Clock
from musicapi.sandbox._app import API_PREFIX, SandboxApp
from musicapi.sandbox._deliveries import Deliveries
from musicapi.sandbox._faults import Faults
from musicapi.sandbox._server import ServerLimits, serve_http
from musicapi.sandbox._state import Account, TaskRecord, TaskStore
from musicapi.sandbox._stats import Stats
from musicapi.sandbox._transport import SandboxTransport

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator, Mapping

    import httpx

__all__ = ["WEBHOOK_POLL_SECONDS", "Sandbox"]

WEBHOOK_POLL_SECONDS = 0.2
"""How often a serving sandbox looks for due webhook deliveries (real seconds)."""

_log = logging.getLogger("musicapi.sandbox")


class Sandbox:
    """A faithful local MusicAPI: real paths, status codes, bodies, credits and audio.

    It runs in-process through `transport()` (fast, no sockets) or on a loopback port
    through `serve()` / `serve_in_thread()`. Time comes only from `clock`, so a
    `musicapi.testing.FakeClock` makes a task of minutes finish in no time. Every
    fault is off until a test turns it on through `faults`.

    Args:
        clock: Where time comes from; the real clock by default.
        api_key: The only key accepted; `None` accepts any non-empty key.
        task_seconds: The median time a generation takes.
        task_seconds_spread: The sigma of a lognormal factor on `task_seconds`, so
            that a batch of tasks has a spread of durations (0 = all equal).
        credits: The starting subscription credits.
        extra_credits: The starting extra (one-time pack) credits, spent first.
        fail_rate: The share of tasks that end failed.
        seed: Seeds everything random: durations, outcomes, ids, error rolls. With
            `None` (the default) task and clip ids are fresh random UUIDs in every
            run, as the real API's are, while durations, outcomes and error rolls
            still come from seed 0, so a test's timing does not change between runs.
        rate_limit: Requests per second allowed per key (a token bucket), or `None`.
        max_concurrent_jobs: Running tasks allowed per key, or `None`.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        api_key: str | None = None,
        task_seconds: float = 3.0,
        task_seconds_spread: float = 0.0,
        credits: int = 5000,
        extra_credits: int = 0,
        fail_rate: float = 0.0,
        seed: int | None = None,
        rate_limit: float | None = None,
        max_concurrent_jobs: int | None = None,
    ) -> None:
        if api_key is not None and not api_key:
            raise ValueError("api_key must not be empty")
        self.clock: Clock = clock if clock is not None else REAL_CLOCK
        self.stats = Stats()
        rolls = seed if seed is not None else 0
        self.webhook_secret = (
            "whsec_" + hashlib.sha256(f"sandbox-{rolls}".encode()).hexdigest()[:32]
        )
        """The account's default webhook secret, used for tasks created without `webhook_secret`."""
        self._store = TaskStore(
            self.clock,
            Account(credits, extra_credits),
            task_seconds=task_seconds,
            task_seconds_spread=task_seconds_spread,
            fail_rate=fail_rate,
            seed=seed,
            on_finish=lambda record: self._deliveries.enqueue(record),
        )
        self._deliveries = Deliveries(
            self.clock, self._store.unix_now, self.webhook_secret, self.stats
        )
        self.app = SandboxApp(
            self._store,
            Faults(),
            self.stats,
            api_key=api_key,
            rate_limit=rate_limit,
            max_concurrent_jobs=max_concurrent_jobs,
            seed=rolls,
        )
        self._files_url = "http://localhost/files"

    def __repr__(self) -> str:
        return f"Sandbox(clock={self.clock!r}, tasks={len(self._store.tasks)})"

    @property
    def base_url(self) -> str:
        """The base URL for in-process use with `transport()`."""
        return f"http://localhost{API_PREFIX}"

    @property
    def faults(self) -> Faults:
        """The fault knobs; change them, or assign a new `Faults`, at any time."""
        return self.app.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self.app.faults = faults

    @property
    def credits(self) -> int:
        """The subscription credits left, after settling finished tasks."""
        self._store.settle()
        return self._store.account.credits

    @property
    def extra_credits(self) -> int:
        """The extra credits left, after settling finished tasks."""
        self._store.settle()
        return self._store.account.extra_credits

    @property
    def tasks(self) -> Mapping[str, TaskRecord]:
        """Every task by id, read-only and up to date with the clock."""
        self._store.settle()
        return MappingProxyType(self._store.tasks)

    def task(self, task_id: str) -> TaskRecord:
        """Return the record of one task, up to date with the clock.

        Raises:
            KeyError: No task has this id.
        """
        return self.tasks[task_id]

    def transport(self) -> httpx.AsyncBaseTransport:
        """Return a transport that runs the sandbox in-process, for `httpx.AsyncClient`."""
        return SandboxTransport(self.app)

    async def deliver_due_webhooks(self, client: httpx.AsyncClient | None = None) -> int:
        """Deliver the webhooks of every task that has finished by now.

        Args:
            client: The HTTP client to post with (e.g. one on an `httpx.MockTransport`);
                a short-lived one if `None`.

        Returns:
            How many deliveries were acknowledged with a 2xx.
        """
        self._store.settle()
        return await self._deliveries.deliver_due(self._files_url, client)

    async def _deliver_forever(self) -> None:
        """Deliver due webhooks a few times a second, whatever goes wrong in one round.

        Paced by real time on purpose: sleeping on a fake clock with autojump would
        make an idle server drive the test's virtual time forward. A round that fails
        is logged and the next one runs as usual: this loop shares the server's task
        group, so an exception here would stop the server.
        """
        while True:
            await REAL_CLOCK.sleep(WEBHOOK_POLL_SECONDS)
            try:
                await self.deliver_due_webhooks()
            except Exception:
                _log.exception("a round of webhook deliveries failed; the next one will run")

    @contextlib.asynccontextmanager
    async def serve(
        self, host: str = "127.0.0.1", port: int = 0, *, limits: ServerLimits | None = None
    ) -> AsyncGenerator[str, None]:
        """Serve the sandbox over HTTP/1.1 on the current event loop (asyncio or trio).

        Webhooks are delivered in the background while it serves. Nothing a client
        sends, no delivery and no error of the operating system stops the server (see
        `musicapi.sandbox._server`).

        Args:
            host: The address to bind.
            port: The port to bind; 0 picks a free one.
            limits: The server's body limit, idle timeout and accept backoff; the
                defaults (1 MiB, 10 s, 0.01 s to 1 s) if `None`.

        Yields:
            The base URL, e.g. `http://127.0.0.1:PORT/api/v1`.
        """
        async with (
            serve_http(self.app, host, port, limits) as bound,
            anyio.create_task_group() as tg,
        ):
            origin = f"http://{f'[{host}]' if ':' in host else host}:{bound}"
            previous, self._files_url = self._files_url, f"{origin}/files"
            tg.start_soon(self._deliver_forever)
            try:
                yield f"{origin}{API_PREFIX}"
            finally:
                self._files_url = previous
                tg.cancel_scope.cancel()

    @contextlib.contextmanager
    def serve_in_thread(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        backend: str = "asyncio",
        limits: ServerLimits | None = None,
    ) -> Generator[str, None, None]:
        """Serve the sandbox on a daemon thread with its own event loop, until the block ends.

        For synchronous tests and demos. While it runs, change the sandbox through the
        control routes (`/_sandbox/...`) or plain attribute writes; a `FakeClock`
        should be advanced through `POST /_sandbox/clock`, on the server's loop.

        Args:
            host: The address to bind.
            port: The port to bind; 0 picks a free one.
            backend: The anyio backend of the thread's loop (`asyncio` or `trio`).
            limits: The server's limits, as for `serve()`.

        Yields:
            The base URL, e.g. `http://127.0.0.1:PORT/api/v1`.
        """
        started: queue.Queue[str | BaseException] = queue.Queue()
        stop = threading.Event()

        async def run() -> None:
            async with self.serve(host, port, limits=limits) as base_url:
                started.put(base_url)
                await anyio.to_thread.run_sync(stop.wait)

        def main() -> None:
            try:
                anyio.run(run, backend=backend)
            except BaseException as exc:
                started.put(exc)

        thread = threading.Thread(target=main, name="musicapi-sandbox", daemon=True)
        thread.start()
        first = started.get()
        if isinstance(first, BaseException):
            raise first
        try:
            yield first
        finally:
            stop.set()
            thread.join()
