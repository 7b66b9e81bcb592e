"""`MusicAPI`: the synchronous facade, a thin typed forwarder onto the async client.

One long-lived event-loop thread per client (an anyio blocking portal), started on first
use under a lock and stopped by `close()`. The `AsyncMusicAPI` is built inside that loop
from the one `ClientConfig` resolved by the constructor, so its connection pool lives on
exactly one loop (httpx #2473) and the environment is read once. Because the loop has
its own thread, the facade works from many threads at once and from a thread that
already runs an event loop (Jupyter).

Each sync member is declared in one line: `Forward` turns an async method into a
blocking one (or `generate_many` into one returning a plain iterator, `BatchRun`), and
`ForwardProperty` turns an async property into a sync one. Type checkers see the async
parameters and return type minus the `await` (ParamSpec); at run time each twin has its
own name, module and signature, so `help()` and Jupyter's `?` show a synchronous method.

Lifecycle rules (the last three once hung processes or leaked threads):

- Ctrl-C while a call blocks cancels that call on the loop before the
  `KeyboardInterrupt` propagates.
- `close()` is idempotent and thread-safe. It refuses new calls at once, cancels the
  calls in flight (their callers get `ClientClosedError`; a create already on the wire
  still reads its answer, see `_transport.py`), closes the pool, and joins the thread.
- A client that is garbage-collected, or still open at interpreter exit, is closed by a
  `weakref.finalize`, so an unclosed client neither keeps its thread nor hangs exit.
- After `os.fork()` the child has no loop thread: a client whose pool the SDK owns
  starts a fresh loop and pool there on its next call; one built on the caller's own
  `http_client` raises `ClientClosedError`, since that pool cannot cross a fork.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import itertools
import os
import threading
import time
import weakref
from collections import deque
from concurrent.futures import CancelledError, Future
from typing import (
    TYPE_CHECKING,
    Any,
    ParamSpec,
    TypeVar,
)

import anyio
from anyio.from_thread import BlockingPortal

from musicapi._client import AsyncMusicAPI
from musicapi._config import DEFAULT_TIMEOUT, ClientConfig
from musicapi._errors import ClientClosedError, ConfigurationError
from musicapi._forward import (
    BatchRun,
    Bridge,
    Forward,
    ForwardProperty,
    HasBridge,
    facade_thread,
    on_facade_thread,
    the_client,
)
from musicapi._logging import configure_from_env
from musicapi._sync_families import (
    SyncNuro,
    SyncProducer,
    SyncRiffusion,
    SyncSonic,
    SyncStudio,
    SyncSuno,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    import httpx
    from typing_extensions import Self

    from musicapi._clock import Clock
    from musicapi._wait import PollPolicy
    from musicapi.webhooks import EventBus, WebhookReceiver

__all__ = ["BatchRun", "MusicAPI", "SyncSonic"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
V = TypeVar("V")
R_co = TypeVar("R_co", covariant=True)

BACKENDS = ("asyncio", "trio")

_DRAIN_SECONDS = 1.0
"""How long `close()` waits for calls that are between "client open" and "task queued"."""

_thread_numbers = itertools.count(1)


def _outcome(future: Future[Any]) -> Any:
    """Wait for a call on the loop; if this thread is interrupted, cancel the call there.

    Raises:
        ClientClosedError: The call was cancelled because the client was closed.
    """
    try:
        return future.result()
    except CancelledError:
        raise ClientClosedError("the MusicAPI client was closed while this call ran") from None
    except BaseException:  # KeyboardInterrupt here, or the call's own error (then a no-op)
        future.cancel()
        raise


class _Loop:
    """One client's event-loop thread, its portal and the `AsyncMusicAPI` living there.

    Nothing here refers to the `MusicAPI` or its `Bridge`, so the finalizer that closes
    a `_Loop` when its `Bridge` is collected does not keep the bridge alive.

    Args:
        config: The resolved settings the async client is built from (on the loop).
        backend: `"asyncio"` or `"trio"`.
        backend_options: Passed to `anyio.run`.
    """

    def __init__(
        self, config: ClientConfig, backend: str, backend_options: dict[str, Any] | None
    ) -> None:
        self.config = config
        self._backend = backend
        self._backend_options = backend_options
        self.live: tuple[BlockingPortal, AsyncMusicAPI] | None = None
        """The portal and client while they run: the only field the hot path reads."""
        self.entries: deque[None] = deque()
        """One item per call between reading `live` and having its task queued."""
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._ready: Future[tuple[BlockingPortal, AsyncMusicAPI]] | None = None
        self.closed = False
        self._stopped = threading.Event()
        self._fork_error: str | None = None
        _LOOPS.add(self)

    def run(
        self,
        method: Callable[..., Any],
        target: Callable[[AsyncMusicAPI], Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """Run `method(target(client), *args, **kwargs)` on the loop and block for its result.

        This is the hot path of every sync call: one portal hop and no lock. `entries`
        lets `close()` wait for a call that read `live` just before it was cleared,
        until that call's task is queued (and so cancellable), instead of stopping the
        loop under it.

        Raises:
            ClientClosedError: The client is closed, or was closed during the call.
        """
        entries = self.entries
        entries.append(None)
        try:
            portal, client = self.live or self.start()
            call = functools.partial(method, target(client), *args, **kwargs)
            try:
                future = portal.start_task_soon(call)
            except RuntimeError:  # anyio: "This portal is not running" (stopped under us)
                raise ClientClosedError(
                    "the MusicAPI client was closed" if self.closed else "its event loop stopped"
                ) from None
        finally:
            entries.pop()
        return _outcome(future)

    def start(self) -> tuple[BlockingPortal, AsyncMusicAPI]:
        """Start the loop thread and the async client on it, once; return both.

        Raises:
            ClientClosedError: The client is closed, or its pool cannot cross a fork.
        """
        with self._lock:
            if self.live is not None:
                return self.live
            if self.closed:
                raise ClientClosedError("this MusicAPI client is closed")
            if self._fork_error is not None:
                raise ClientClosedError(self._fork_error)
            if self._ready is None:
                ready: Future[tuple[BlockingPortal, AsyncMusicAPI]] = Future()
                thread = threading.Thread(
                    target=self._main,
                    args=(ready,),
                    name=f"musicapi-portal-{self._backend}-{next(_thread_numbers)}",
                    daemon=True,
                )
                self._thread, self._ready = thread, ready
                thread.start()
            ready = self._ready
            try:
                self.live = ready.result()
            except Exception:
                if ready.done():  # a failed start (not an interrupted wait): retry next time
                    self._thread = self._ready = None
                raise
            return self.live

    def _main(self, ready: Future[tuple[BlockingPortal, AsyncMusicAPI]]) -> None:
        """The loop thread: run the portal until `close()` stops it."""
        facade_thread.running = True
        try:
            anyio.run(
                self._serve, ready, backend=self._backend, backend_options=self._backend_options
            )
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            elif not self.closed:
                raise  # the loop died on its own: let threading's excepthook report it
        finally:
            with self._lock:
                if self._thread is threading.current_thread():
                    self.live = None  # the next call starts a new loop
                    self._thread = self._ready = None

    async def _serve(self, ready: Future[tuple[BlockingPortal, AsyncMusicAPI]]) -> None:
        """Build the client on this loop, serve portal calls, then close the client.

        The client is closed only after the portal's task group has exited, that is
        after every call still running has finished or been cancelled, so the pool is
        never closed under a request.
        """
        client = AsyncMusicAPI._from_config(self.config)
        try:
            async with BlockingPortal() as portal:
                ready.set_result((portal, client))
                await portal.sleep_until_stopped()
        finally:
            with anyio.CancelScope(shield=True):
                await client.aclose()

    def close(self, timeout: float | None = None) -> None:
        """Refuse new calls, cancel those in flight, close the client, stop the thread.

        Idempotent and thread-safe: a second call waits for the first to finish.

        Args:
            timeout: The most seconds to wait for the thread (`None`: until it stops).
        """
        with self._lock:
            first, self.closed = not self.closed, True
            self.live = None
            thread, ready = self._thread, self._ready
        if not first:
            self._stopped.wait(timeout)
            return
        if thread is None:
            self._stopped.set()
        elif on_facade_thread():
            # A finalizer run by the garbage collector on a loop thread (this client's
            # own, which cannot wait for itself, or another's, which must not stall): a
            # helper thread stops the loop.
            threading.Thread(target=self._stop, args=(thread, ready, timeout), daemon=True).start()
        else:
            self._stop(thread, ready, timeout)

    def _stop(
        self,
        thread: threading.Thread,
        ready: Future[tuple[BlockingPortal, AsyncMusicAPI]] | None,
        timeout: float | None,
    ) -> None:
        try:
            deadline = time.monotonic() + _DRAIN_SECONDS
            while self.entries and time.monotonic() < deadline:
                time.sleep(0.001)
            portal: BlockingPortal | None = None
            if ready is not None:
                with contextlib.suppress(Exception):
                    portal = ready.result(timeout)[0]
            if portal is not None:
                with contextlib.suppress(RuntimeError):  # already stopped
                    portal.start_task_soon(portal.stop, True)
            thread.join(timeout)
        finally:
            self._stopped.set()

    def forget_parent(self) -> None:
        """Reset after `os.fork()`, in the child: the parent's loop thread is not here.

        The parent's portal and client are kept referenced, never used or collected:
        finalizing them would touch a loop that does not exist in this process. Locks
        are replaced, since another thread may have held them at the fork.
        """
        started = self._thread is not None
        if started:
            _ABANDONED_AT_FORK.append((self.live, self._ready))
        self._lock = threading.Lock()
        self.entries = deque()
        self.live = None
        self._thread = self._ready = None
        self._stopped = threading.Event()
        if self.closed:
            self._stopped.set()
        elif started and self.config.http_client is not None:
            self._fork_error = (
                "this MusicAPI client was started before os.fork() on the http_client you "
                "passed, whose connections belong to the parent process and cannot be "
                "shared: create the MusicAPI (and its httpx.AsyncClient) in the child"
            )


_LOOPS: weakref.WeakSet[_Loop] = weakref.WeakSet()
_ABANDONED_AT_FORK: list[object] = []


def _after_fork_in_child() -> None:
    for loop in list(_LOOPS):
        loop.forget_parent()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _check_backend(backend: object, backend_options: object) -> None:
    """Check the loop's backend at construction, not in the loop thread at first use.

    Raises:
        ConfigurationError: An unknown backend, trio not installed, or options that
            are not a dict.
    """
    if backend not in BACKENDS:
        raise ConfigurationError(
            f"backend must be one of {', '.join(map(repr, BACKENDS))}, not {backend!r}"
            if isinstance(backend, str)
            else f"backend must be a string, not {type(backend).__name__}"
        )
    if backend == "trio" and importlib.util.find_spec("trio") is None:
        raise ConfigurationError("backend='trio' needs the trio package: pip install trio")
    if backend_options is not None and not isinstance(backend_options, dict):
        raise ConfigurationError(
            f"backend_options must be a dict or None, not {type(backend_options).__name__}"
        )


class MusicAPI(HasBridge):
    """The synchronous MusicAPI client: the same constructor and methods as `AsyncMusicAPI`.

    Calls run on one event-loop thread owned by this client, started on first use.
    Use it as a context manager, or call `close()`, to stop that thread and release
    the connections (a client that is garbage-collected or still open at exit is closed
    for you). `backend` and `backend_options` choose the loop (`"asyncio"` or
    `"trio"`), as in anyio's `start_blocking_portal`.

    Raises:
        ConfigurationError: An argument or environment value is wrong (see
            `AsyncMusicAPI`), or `backend` / `backend_options` is.
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
        backend: str = "asyncio",
        backend_options: dict[str, Any] | None = None,
    ) -> None:
        configure_from_env()  # here, not on the loop thread: the environment is read once
        config = ClientConfig.resolve(
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
        _check_backend(backend, backend_options)
        self._bridge = Bridge(_Loop(config, backend, backend_options))
        self.sonic = SyncSonic(self._bridge)
        """Song generation and its tools: `create`, `get`, `wait`, `generate`, stems, WAV, ..."""
        self.suno = SyncSuno(self._bridge)
        """The legacy `/suno/...` aliases of Sonic, and lyrics tasks."""
        self.producer = SyncProducer(self._bridge)
        """Instrumentals and background music (`/producer/...`)."""
        self.studio = SyncStudio(self._bridge)
        """Udio-style generation (`/studio/...`)."""
        self.riffusion = SyncRiffusion(self._bridge)
        """Deprecated by the API: the FUZZ models (`/riffusion/...`)."""
        self.nuro = SyncNuro(self._bridge)
        """Withdrawn by the API (410): kept so that old code gets a clear `GoneError`."""

    def __repr__(self) -> str:
        config = self._bridge.loop.config
        key = "set" if config.api_key else "missing"
        return f"MusicAPI(base_url={config.base_url!r}, api_key=<{key}>)"

    base_url = ForwardProperty(AsyncMusicAPI.base_url, config=lambda config: config.base_url)
    pacing = ForwardProperty(AsyncMusicAPI.pacing, lambda client: client.pacing)

    get_credits = Forward(AsyncMusicAPI.get_credits, the_client)
    download = Forward(AsyncMusicAPI.download, the_client)
    download_many = Forward(AsyncMusicAPI.download_many, the_client)
    download_url = Forward(AsyncMusicAPI.download_url, the_client)

    def close(self) -> None:
        """Close the connections and stop this client's event-loop thread.

        Calls in flight in other threads are cancelled and raise `ClientClosedError`,
        as does any call made afterwards. Calling `close()` again does nothing.
        """
        self._bridge.loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
