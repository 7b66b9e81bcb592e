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
import anyio.abc
import anyio.to_thread

from musicapi._clock import REAL_CLOCK, Clock
from musicapi.sandbox._app import API_PREFIX, SandboxApp
from musicapi.sandbox._deliveries import DEFAULT_TIMEOUT, Deliveries
from musicapi.sandbox._faults import Faults
from musicapi.sandbox._server import ServerLimits, serve_http
from musicapi.sandbox._state import Account, TaskRecord, TaskStore
from musicapi.sandbox._stats import Stats
from musicapi.sandbox._transport import SandboxTransport

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator, Mapping

    import httpx

__all__ = ["WEBHOOK_POLL_SECONDS", "Sandbox"]

WEBHOOK_POLL_SECONDS = 0.02
"""How often a serving sandbox looks for due webhook deliveries (real seconds)."""

_log = logging.getLogger("musicapi.sandbox")


def _usable_secret(secret: object) -> bool:
    if not isinstance(secret, str) or not secret:
        return False
    try:
        secret.encode()
    except UnicodeEncodeError:
        return False
    return True


class Sandbox:
    """A faithful local MusicAPI: real paths, status codes, bodies, credits and audio.

    It runs in-process through `transport()` (fast, no sockets) or on a loopback port
    through `serve()` / `serve_in_thread()`. Time comes only from `clock`, so a
    `musicapi.testing.FakeClock` makes a task of minutes finish in no time. Every
    fault is off until a test turns it on through `faults`.

    Webhooks (api-reference §5): a task created with `webhook_url` is announced by a
    signed `POST` when it streams (if the sandbox sees it streaming, see
    `musicapi.sandbox._state`), succeeds or fails. A delivery that gets no 2xx is
    retried with backoff on the sandbox's clock (1, 2, 4 ... 60 seconds) for 10
    minutes of that clock, then given up. A serving sandbox delivers in the background;
    in-process, `deliver_due_webhooks()` delivers what is due. `Stats` counts the
    attempts, and `Faults` can duplicate, reorder, delay, drop or wrongly sign them.
    The wire format and the schedule are described in `musicapi.sandbox._deliveries`.

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
        default_webhook_secret: The account's default webhook secret, which signs the
            deliveries of tasks created without `webhook_secret` (the real platform's
            per-account secret, shown in its dashboard). `None` derives one from
            `seed` (from seed 0 without one), the same in every run, so that a test in
            another process can know it; read it back from `default_webhook_secret`.
        webhook_timeout: Real seconds a webhook delivery attempt may take before it
            counts as failed and is retried.
        legacy_nuro: Serve `/nuro/create` and `/nuro/task/{id}` as they were
            documented; by default they answer 410 Gone, as the live API now does.
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
        default_webhook_secret: str | None = None,
        webhook_timeout: float = DEFAULT_TIMEOUT,
        legacy_nuro: bool = False,
    ) -> None:
        if api_key is not None and not api_key:
            raise ValueError("api_key must not be empty")
        if default_webhook_secret is not None and not _usable_secret(default_webhook_secret):
            raise ValueError("default_webhook_secret must be a non-empty, UTF-8 encodable str")
        if not webhook_timeout > 0:
            raise ValueError("webhook_timeout must be a positive number of seconds")
        self.clock: Clock = clock if clock is not None else REAL_CLOCK
        self.stats = Stats()
        rolls = seed if seed is not None else 0
        if default_webhook_secret is None:
            digest = hashlib.sha256(f"sandbox-{rolls}".encode()).hexdigest()
            default_webhook_secret = f"whsec_{digest[:32]}"
        self._store = TaskStore(
            self.clock,
            Account(credits, extra_credits),
            task_seconds=task_seconds,
            task_seconds_spread=task_seconds_spread,
            fail_rate=fail_rate,
            seed=seed,
            on_finish=self._task_finished,
            on_stream=self._task_streams,
            legacy_nuro=legacy_nuro,
        )
        self._deliveries = Deliveries(
            self.clock,
            self._store.unix_now,
            default_webhook_secret,
            self.stats,
            lambda: self.app.faults,
            timeout=webhook_timeout,
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

    def _task_streams(self, record: TaskRecord) -> None:
        self._deliveries.enqueue(record, "streaming")

    def _task_finished(self, record: TaskRecord) -> None:
        self._deliveries.enqueue(record, record.state)

    @property
    def default_webhook_secret(self) -> str:
        """The account's default webhook secret.

        It signs the deliveries of tasks created without `webhook_secret`, as the real
        platform's per-account secret (shown in its dashboard) does. Unless given to
        the constructor (or `--default-webhook-secret`), it is `whsec_` and 32 hex
        digits derived from the seed alone, the same in every run: a local test value,
        not a secret. It can be changed at any time; deliveries already signed keep
        the old one, and their retries are signed with the new one.

        Raises:
            ValueError: (on assignment) The secret is empty or not UTF-8 encodable.
        """
        return self._deliveries.default_secret

    @default_webhook_secret.setter
    def default_webhook_secret(self, secret: str) -> None:
        if not _usable_secret(secret):
            raise ValueError("default_webhook_secret must be a non-empty, UTF-8 encodable str")
        self._deliveries.default_secret = secret

    @property
    def webhook_secret(self) -> str:
        """The same as `default_webhook_secret` (its older name)."""
        return self.default_webhook_secret

    @property
    def pending_webhooks(self) -> int:
        """Webhook events not yet delivered nor given up (queued, held back or in flight)."""
        return self._deliveries.pending

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
        """Deliver every webhook that is due by now, and wait for the answers.

        Tasks are settled first, so a task found streaming or finished has its event
        delivered in this call. Deliveries run concurrently; a failed one is retried
        by a later call, once its backoff has passed on the sandbox's clock.

        Args:
            client: The HTTP client to post with (e.g. one on an `httpx.MockTransport`);
                a short-lived one if `None`.

        Returns:
            How many delivery attempts were acknowledged with a 2xx.
        """
        self._store.settle()
        return await self._deliveries.deliver_due(self._files_url, client)

    def _start_due_webhooks(
        self, task_group: anyio.abc.TaskGroup, client: httpx.AsyncClient
    ) -> None:
        """Settle the tasks and start the due deliveries in the background."""
        self._store.settle()
        self._deliveries.start_due(task_group, client, self._files_url)

    async def _deliver_forever(self, client: httpx.AsyncClient) -> None:
        """Start due webhook deliveries fifty times a second, whatever goes wrong in one round.

        Fifty: a delivery then leaves within about 20 ms of its task's end, so a waiter
        woken by it returns well within the 50 ms users can expect; a round with nothing
        due is a heap peek.

        Deliveries run in their own tasks, so a receiver that hangs delays no other
        delivery and no later round. Paced by real time on purpose: sleeping on a fake
        clock with autojump would make an idle server drive the test's virtual time
        forward. A round that fails is logged and the next one runs as usual: this loop
        shares the server's task group, so an exception here would stop the server.
        """
        async with anyio.create_task_group() as deliveries:
            while True:
                await REAL_CLOCK.sleep(WEBHOOK_POLL_SECONDS)
                try:
                    self._start_due_webhooks(deliveries, client)
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
            self._deliveries.new_client() as hooks,
            anyio.create_task_group() as tg,
        ):
            origin = f"http://{f'[{host}]' if ':' in host else host}:{bound}"
            previous, self._files_url = self._files_url, f"{origin}/files"
            offloaded, self.app.files.offload = self.app.files.offload, True
            tg.start_soon(self._deliver_forever, hooks)
            try:
                yield f"{origin}{API_PREFIX}"
            finally:
                self._files_url = previous
                self.app.files.offload = offloaded
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
