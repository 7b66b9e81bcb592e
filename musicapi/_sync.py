"""`MusicAPI`: the synchronous facade, a thin typed forwarder onto the async client.

One long-lived event-loop thread per client (an anyio blocking portal), started on first
use under a lock and stopped by `close()`. The `AsyncMusicAPI` is built inside that loop
from the one `ClientConfig` resolved by the constructor, so its connection pool lives on
exactly one loop (httpx #2473) and the environment is read once. Because the loop has
its own thread, the facade works from many threads at once and from a thread that
already runs an event loop (Jupyter).

Each sync member is declared in one line: `_Forward` turns an async method into a
blocking one (or `generate_many` into one returning a plain iterator, `BatchRun`), and
`_ForwardProperty` turns an async property into a sync one. Type checkers see the async
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
import inspect
import itertools
import os
import re
import threading
import time
import weakref
from collections import deque
from concurrent.futures import CancelledError, Future
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    NoReturn,
    ParamSpec,
    Protocol,
    TypeVar,
    cast,
    overload,
)

import anyio
from anyio.from_thread import BlockingPortal

from musicapi._client import AsyncMusicAPI
from musicapi._config import DEFAULT_TIMEOUT, ClientConfig
from musicapi._errors import ClientClosedError, ConfigurationError
from musicapi._logging import configure_from_env
from musicapi._resources.sonic import SonicResource

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import TracebackType

    import httpx
    from typing_extensions import Self

    from musicapi._batch import Outcome
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

_CLOSE_TIMEOUT_UNATTENDED = 5.0
"""How long a close run by the garbage collector or at interpreter exit may wait.

Exit must be prompt; a create on the wire that has not answered by then is abandoned
with the process (its task id is in the journal, if the batch had one).
"""

_DRAIN_SECONDS = 1.0
"""How long `close()` waits for calls that are between "client open" and "task queued"."""

_thread_numbers = itertools.count(1)
_loop_thread = threading.local()
"""`_loop_thread.running` is true on every facade loop thread, where `close()` must not block."""


class _AsyncRun(Protocol[R_co]):
    """What the sync facade needs of an async batch iterator such as `AsyncBatchRun`."""

    def __anext__(self) -> Awaitable[Outcome[R_co]]: ...

    async def aclose(self) -> None: ...


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

    Nothing here refers to the `MusicAPI` or its `_Bridge`, so the finalizer that closes
    a `_Loop` when its `_Bridge` is collected does not keep the bridge alive.

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
        _loop_thread.running = True
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
        elif getattr(_loop_thread, "running", False):
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


class _Bridge:
    """The handle every sync object holds (client, `sonic`, bound methods, batches).

    When the last of them is gone, the finalizer closes the loop; at interpreter exit
    it closes the loops still open, so exit does not hang on them.
    """

    __slots__ = ("__weakref__", "loop")

    def __init__(self, loop: _Loop) -> None:
        self.loop = loop
        weakref.finalize(self, loop.close, _CLOSE_TIMEOUT_UNATTENDED)


class _HasBridge:
    _bridge: _Bridge


def _dress(fn: object, **attributes: object) -> None:
    """Set metadata attributes (name, module, signature, ...) on a function or descriptor."""
    for name, value in attributes.items():
        setattr(fn, name, value)


def _batch_annotation(annotation: object) -> object:
    """Map the async batch type in a return annotation to its sync twin, for `help()`."""
    if isinstance(annotation, str):
        return re.sub(r"\bAsyncBatchRun\b", "BatchRun", annotation)
    return annotation


class _Forward(Generic[T]):
    """The sync twin of an async method, bound once per instance.

    A coroutine method becomes a blocking call on the client's loop. A plain method
    that returns an async batch iterator (`generate_many`) becomes one that returns a
    `BatchRun`; it is called on the loop too, since the iterator may create objects
    that belong to the loop.
    The first access on an instance builds the bound function and stores it in the
    instance's `__dict__`; being a non-data descriptor, it is not consulted again there,
    so a hot sync call does not rebuild its wrapper. On the class it is itself: a
    callable with the sync signature, so `help()` shows a synchronous method.

    Args:
        method: The async-side function, unbound.
        target: Picks the object `method` is bound to from the async client.
    """

    @overload
    def __init__(
        self: _Forward[Callable[P, R]],
        method: Callable[Concatenate[Any, P], Awaitable[R]],
        target: Callable[[AsyncMusicAPI], Any],
    ) -> None: ...

    @overload
    def __init__(
        self: _Forward[Callable[P, BatchRun[V]]],
        method: Callable[Concatenate[Any, P], _AsyncRun[V]],
        target: Callable[[AsyncMusicAPI], Any],
    ) -> None: ...

    def __init__(self, method: Callable[..., Any], target: Callable[[AsyncMusicAPI], Any]) -> None:
        self._method = method
        self._target = target
        self._batch = not inspect.iscoroutinefunction(method)
        signature = inspect.signature(method)
        if self._batch:
            annotation = _batch_annotation(signature.return_annotation)
            signature = signature.replace(return_annotation=annotation)
        self._bound_signature = signature.replace(
            parameters=list(signature.parameters.values())[1:]
        )
        self._name = self._qualname = method.__name__
        self._module = __name__
        _dress(self, __name__=self._name, __doc__=method.__doc__, __signature__=signature)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name, self._qualname = name, f"{owner.__qualname__}.{name}"
        self._module = owner.__module__
        _dress(self, __name__=name, __qualname__=self._qualname, __module__=self._module)

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, instance: _HasBridge, owner: type[Any]) -> T: ...

    def __get__(self, instance: _HasBridge | None, owner: type[Any]) -> Self | T:
        if instance is None:
            return self
        bound = self._bind(instance._bridge)
        instance.__dict__[self._name] = bound
        return bound

    def __call__(self, instance: _HasBridge, /, *args: Any, **kwargs: Any) -> Any:
        """Call the twin on `instance`, as `MusicAPI.get_credits(client)` would."""
        return cast("Callable[..., Any]", self.__get__(instance, type(instance)))(*args, **kwargs)

    def _bind(self, bridge: _Bridge) -> T:
        method, target = self._method, self._target

        if self._batch:

            def forwarded(*args: Any, **kwargs: Any) -> Any:
                run = bridge.loop.run(method, target, args, kwargs)
                return BatchRun(bridge, run) if hasattr(run, "__anext__") else run

        else:

            def forwarded(*args: Any, **kwargs: Any) -> Any:
                return bridge.loop.run(method, target, args, kwargs)

        _dress(
            forwarded,
            __name__=self._name,
            __qualname__=self._qualname,
            __module__=self._module,
            __doc__=self._method.__doc__,
            __signature__=self._bound_signature,
        )
        return cast("T", forwarded)


def _client(client: AsyncMusicAPI) -> AsyncMusicAPI:
    return client


def _sonic(client: AsyncMusicAPI) -> SonicResource:
    return client.sonic


class _ForwardProperty(property, Generic[V]):
    """The sync twin of an async read-only property.

    With `read`, the value is read on the client's loop (where its state changes, so a
    snapshot is never torn); with `config`, straight from the resolved config, with no
    loop at all. Either way the property's docstring and signature are the async one's.

    Args:
        source: The async-side property (for its docstring and signature).
        read: Reads the value from the async client, on its loop.
        config: Reads the value from the config, on the calling thread.
    """

    @overload
    def __init__(self, source: object, read: Callable[[AsyncMusicAPI], V]) -> None: ...

    @overload
    def __init__(self, source: object, *, config: Callable[[ClientConfig], V]) -> None: ...

    def __init__(
        self,
        source: object,
        read: Callable[[AsyncMusicAPI], V] | None = None,
        *,
        config: Callable[[ClientConfig], V] | None = None,
    ) -> None:
        if not isinstance(source, property) or source.fget is None:
            raise TypeError(f"not a property: {source!r}")
        if config is not None:
            from_config = config

            def fget(instance: _HasBridge) -> V:
                return from_config(instance._bridge.loop.config)

        elif read is not None:
            on_loop = read

            def fget(instance: _HasBridge) -> V:
                return cast("V", instance._bridge.loop.run(on_loop, _client, (), {}))

        else:
            raise TypeError("pass read= or config=")
        _dress(fget, __doc__=source.__doc__, __signature__=inspect.signature(source.fget))
        super().__init__(fget, doc=source.__doc__)
        self.__doc__ = source.__doc__  # a subclass's own docstring would shadow `doc=`

    def __set_name__(self, owner: type[Any], name: str) -> None:
        qualname = f"{owner.__qualname__}.{name}"
        _dress(self.fget, __name__=name, __qualname__=qualname, __module__=owner.__module__)

    if TYPE_CHECKING:

        @overload
        def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...

        @overload
        def __get__(self, instance: _HasBridge, owner: type[Any] | None = None) -> V: ...

        def __get__(
            self, instance: _HasBridge | None, owner: type[Any] | None = None
        ) -> Self | V: ...

        def __set__(self, instance: Any, value: NoReturn, /) -> None:
            """Read-only: type checkers reject every assignment, as for a plain property."""


class BatchRun(Generic[R]):
    """The plain iterator the sync `generate_many` returns; also a context manager.

    Each `next()` runs one step of the async batch on the client's loop thread, so
    nothing runs between two steps, and Ctrl-C during a step cancels it there (stopping
    new submissions; creates already on the wire finish and are journaled).
    """

    def __init__(self, bridge: _Bridge, run: _AsyncRun[R]) -> None:
        self._bridge = bridge
        self._run = run

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Outcome[R]:
        try:
            return cast("Outcome[R]", self._bridge.loop.run(_step, _client, (self._run,), {}))
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        """Stop the batch and close its journal (nothing to do once the client is closed).

        Closing the client already cancelled the batch with everything else on its loop.
        """
        with contextlib.suppress(ClientClosedError):
            self._bridge.loop.run(_stop_run, _client, (self._run,), {})

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _step(_client: AsyncMusicAPI, run: _AsyncRun[T]) -> Awaitable[Outcome[T]]:
    return run.__anext__()


def _stop_run(_client: AsyncMusicAPI, run: _AsyncRun[Any]) -> Awaitable[None]:
    return run.aclose()


class SyncSonic(_HasBridge):
    """Song generation, synchronously: the methods of `AsyncMusicAPI.sonic` without `await`."""

    def __init__(self, bridge: _Bridge) -> None:
        self._bridge = bridge

    create = _Forward(SonicResource.create, _sonic)
    get = _Forward(SonicResource.get, _sonic)
    wait = _Forward(SonicResource.wait, _sonic)
    generate = _Forward(SonicResource.generate, _sonic)
    generate_many = _Forward(SonicResource.generate_many, _sonic)


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


class MusicAPI(_HasBridge):
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
        self._bridge = _Bridge(_Loop(config, backend, backend_options))
        self.sonic = SyncSonic(self._bridge)
        """Song generation: `create`, `get`, `wait`, `generate`, `generate_many`."""

    def __repr__(self) -> str:
        config = self._bridge.loop.config
        key = "set" if config.api_key else "missing"
        return f"MusicAPI(base_url={config.base_url!r}, api_key=<{key}>)"

    base_url = _ForwardProperty(AsyncMusicAPI.base_url, config=lambda config: config.base_url)
    pacing = _ForwardProperty(AsyncMusicAPI.pacing, lambda client: client.pacing)

    get_credits = _Forward(AsyncMusicAPI.get_credits, _client)
    download = _Forward(AsyncMusicAPI.download, _client)
    download_many = _Forward(AsyncMusicAPI.download_many, _client)

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
