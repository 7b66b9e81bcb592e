"""`MusicAPI`: the synchronous facade, a thin typed forwarder onto the async client.

One long-lived event-loop thread per client (an anyio blocking portal), started on first
use under a lock and stopped by `close()`. The `AsyncMusicAPI` is created inside that
loop, so its connection pool lives on exactly one loop (httpx #2473). Each sync method
is the async one, forwarded: `_Forward` is a ParamSpec descriptor, so type checkers see
the same parameters and return type minus the `await`, and no behaviour is written
twice. Because the loop has its own thread, the facade works from many threads at once
and from a thread that already runs an event loop (Jupyter). Ctrl-C while a call
blocks cancels that call on the loop before the `KeyboardInterrupt` propagates.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from musicapi._client import AsyncMusicAPI
from musicapi._config import DEFAULT_TIMEOUT, ClientConfig
from musicapi._errors import MusicAPIError
from musicapi._resources.sonic import SonicResource

if TYPE_CHECKING:
    from collections.abc import Awaitable
    from types import TracebackType

    import httpx
    from typing_extensions import Self

    from musicapi._batch import AsyncBatchRun, Outcome
    from musicapi._clock import Clock
    from musicapi._wait import PollPolicy

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
C = TypeVar("C", bound="Callable[..., Any]")


class _Bridge:
    """Owns the portal thread and the async client living on it."""

    def __init__(
        self,
        make_client: Callable[[], AsyncMusicAPI],
        backend: str,
        backend_options: dict[str, Any] | None,
    ) -> None:
        self._make_client = make_client
        self._backend = backend
        self._backend_options = backend_options
        self._lock = threading.Lock()
        self._stack: ExitStack | None = None
        self._portal: BlockingPortal | None = None
        self._client: AsyncMusicAPI | None = None
        self._closed = False

    def started(self) -> tuple[BlockingPortal, AsyncMusicAPI]:
        """Return the portal and the async client, starting them on first use."""
        portal, client = self._portal, self._client
        if portal is not None and client is not None:
            return portal, client
        with self._lock:
            if self._closed:
                raise MusicAPIError("this MusicAPI client is closed")
            if self._portal is None or self._client is None:
                with ExitStack() as stack:
                    portal = stack.enter_context(
                        start_blocking_portal(self._backend, self._backend_options)
                    )
                    client = portal.call(self._make_client)
                    stack.enter_context(portal.wrap_async_context_manager(client))
                    self._stack = stack.pop_all()
                self._portal, self._client = portal, client
            return self._portal, self._client

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `fn(*args)` on the loop thread and block for its result; Ctrl-C cancels it."""
        portal, _ = self.started()
        return _result(portal, fn, *args)

    def close(self) -> None:
        """Close the async client, then stop the loop thread (idempotent)."""
        with self._lock:
            self._closed = True
            stack, self._stack = self._stack, None
            self._portal = self._client = None
        if stack is not None:
            stack.close()


def _result(portal: BlockingPortal, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Start `fn(*args)` on the portal's loop and wait; if the wait is interrupted, cancel it."""
    future = portal.start_task_soon(fn, *args)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


class _HasBridge:
    _bridge: _Bridge


class _Forwarder(Generic[C]):
    """The base of the forwarding descriptors: binds a sync twin once per instance.

    The first access on an instance builds the bound callable and stores it in the
    instance's `__dict__`; being a non-data descriptor, it is not consulted again there,
    so a hot sync call does not rebuild its wrapper. On the class it returns the async
    method, whose signature and docstring the twin shares.

    Args:
        method: The async-side function, unbound.
        target: Picks the object `method` is bound to from the async client.
    """

    def __init__(self, method: Callable[..., Any], target: Callable[[AsyncMusicAPI], Any]) -> None:
        self._method = method
        self._target = target
        self._name = method.__name__
        self.__doc__ = method.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    def __get__(self, instance: _HasBridge | None, owner: type[Any]) -> C:
        if instance is None:
            return self._method  # type: ignore[return-value]
        bound = self._bind(instance._bridge)
        instance.__dict__[self._name] = bound
        return bound

    def _bind(self, bridge: _Bridge) -> C:
        raise NotImplementedError


class _Forward(_Forwarder[Callable[P, R]], Generic[P, R]):
    """Turns an async method into a blocking one that runs on the client's loop thread."""

    _method: Callable[Concatenate[Any, P], Awaitable[R]]

    def __init__(
        self,
        method: Callable[Concatenate[Any, P], Awaitable[R]],
        target: Callable[[AsyncMusicAPI], Any],
    ) -> None:
        super().__init__(method, target)

    def _bind(self, bridge: _Bridge) -> Callable[P, R]:
        method, target = self._method, self._target

        @functools.wraps(method)
        def forwarded(*args: P.args, **kwargs: P.kwargs) -> R:
            portal, client = bridge.started()
            return _result(portal, functools.partial(method, target(client), *args, **kwargs))

        return forwarded


class _ForwardBatch(_Forwarder[Callable[P, "BatchRun"]], Generic[P]):
    """Turns `generate_many` into its sync twin, which returns a plain iterator."""

    _method: Callable[Concatenate[Any, P], AsyncBatchRun]

    def __init__(
        self,
        method: Callable[Concatenate[Any, P], AsyncBatchRun],
        target: Callable[[AsyncMusicAPI], Any],
    ) -> None:
        super().__init__(method, target)

    def _bind(self, bridge: _Bridge) -> Callable[P, BatchRun]:
        method, target = self._method, self._target

        @functools.wraps(method)
        def forwarded(*args: P.args, **kwargs: P.kwargs) -> BatchRun:
            _, client = bridge.started()
            return BatchRun(bridge, method(target(client), *args, **kwargs))

        return forwarded


class BatchRun:
    """The plain iterator the sync `generate_many` returns; also a context manager.

    Each `next()` runs one step of the async batch on the client's loop thread, so
    nothing runs between two steps, and Ctrl-C during a step cancels it there (stopping
    new submissions; creates already on the wire finish and are journaled).
    """

    def __init__(self, bridge: _Bridge, run: AsyncBatchRun) -> None:
        self._bridge = bridge
        self._run = run

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Outcome:
        try:
            return self._bridge.call(self._run.__anext__)
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        """Stop the batch and close its journal."""
        self._bridge.call(self._run.aclose)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _client(client: AsyncMusicAPI) -> AsyncMusicAPI:
    return client


def _sonic(client: AsyncMusicAPI) -> SonicResource:
    return client.sonic


class SyncSonic(_HasBridge):
    """Song generation, synchronously: the methods of `AsyncMusicAPI.sonic` without `await`."""

    def __init__(self, bridge: _Bridge) -> None:
        self._bridge = bridge

    create = _Forward(SonicResource.create, _sonic)
    get = _Forward(SonicResource.get, _sonic)
    wait = _Forward(SonicResource.wait, _sonic)
    generate = _Forward(SonicResource.generate, _sonic)
    generate_many = _ForwardBatch(SonicResource.generate_many, _sonic)


class MusicAPI(_HasBridge):
    """The synchronous MusicAPI client: the same constructor and methods as `AsyncMusicAPI`.

    Calls run on one event-loop thread owned by this client, started on first use.
    Use it as a context manager, or call `close()`, to stop that thread and release
    the connections. `backend` and `backend_options` choose the loop (`"asyncio"` or
    `"trio"`), as in anyio's `start_blocking_portal`.
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
        backend: str = "asyncio",
        backend_options: dict[str, Any] | None = None,
    ) -> None:
        config = ClientConfig.resolve(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            max_in_flight=max_in_flight,
            rate_limit=rate_limit,
        )
        self._base_url = config.base_url
        make_client = functools.partial(
            AsyncMusicAPI,
            api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
            transport=transport,
            rate_limit=rate_limit,
            max_in_flight=max_in_flight,
            clock=clock,
            poll_policy=poll_policy,
        )
        self._bridge = _Bridge(make_client, backend, backend_options)
        self.sonic = SyncSonic(self._bridge)
        """Song generation: `create`, `get`, `wait`, `generate`, `generate_many`."""

    def __repr__(self) -> str:
        return f"MusicAPI(base_url={self._base_url!r})"

    get_credits = _Forward(AsyncMusicAPI.get_credits, _client)
    download = _Forward(AsyncMusicAPI.download, _client)

    def close(self) -> None:
        """Close the connections and stop this client's event-loop thread."""
        self._bridge.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
