"""The typed forwarders that give each async member its sync twin.

`Forward` turns an async method into a blocking one (or `generate_many` into one
returning a plain iterator, `BatchRun`), and `ForwardProperty` turns an async property
into a sync one. Type checkers see the async parameters and return type minus the
`await` (ParamSpec); at run time each twin has its own name, module and signature, so
`help()` and Jupyter's `?` show a synchronous method. Every call goes through a
`Bridge` to the client's one event-loop thread (`_sync._Loop`).
"""

from __future__ import annotations

import contextlib
import inspect
import re
import threading
import warnings
import weakref
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

from musicapi._errors import ClientClosedError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import TracebackType

    from typing_extensions import Self

    from musicapi._batch import Outcome
    from musicapi._client import AsyncMusicAPI
    from musicapi._config import ClientConfig
    from musicapi._sync import _Loop

__all__ = [
    "facade_thread",
    "on_facade_thread",
    "BatchRun",
    "Bridge",
    "Forward",
    "ForwardProperty",
    "HasBridge",
    "the_client",
]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
V = TypeVar("V")
R_co = TypeVar("R_co", covariant=True)

CLOSE_TIMEOUT_UNATTENDED = 5.0
"""How long a close run by the garbage collector or at interpreter exit may wait.

Exit must be prompt; a create on the wire that has not answered by then is abandoned
with the process (its task id is in the journal, if the batch had one).
"""


facade_thread = threading.local()
"""`facade_thread.running` is true on every facade loop thread."""


def on_facade_thread() -> bool:
    """Whether this thread is a `MusicAPI` loop thread (where `close()` must not block).

    Also how a deprecated async method knows that its sync twin already warned, in the
    caller's own thread, where the warning belongs.
    """
    return bool(getattr(facade_thread, "running", False))


class _AsyncRun(Protocol[R_co]):
    """What the sync facade needs of an async batch iterator such as `AsyncBatchRun`."""

    def __anext__(self) -> Awaitable[Outcome[R_co]]: ...

    async def aclose(self) -> None: ...


class Bridge:
    """The handle every sync object holds (client, `sonic`, bound methods, batches).

    When the last of them is gone, the finalizer closes the loop; at interpreter exit
    it closes the loops still open, so exit does not hang on them.
    """

    __slots__ = ("__weakref__", "loop")

    def __init__(self, loop: _Loop) -> None:
        self.loop = loop
        weakref.finalize(self, loop.close, CLOSE_TIMEOUT_UNATTENDED)


class HasBridge:
    _bridge: Bridge


def _dress(fn: object, **attributes: object) -> None:
    """Set metadata attributes (name, module, signature, ...) on a function or descriptor."""
    for name, value in attributes.items():
        setattr(fn, name, value)


def _batch_annotation(annotation: object) -> object:
    """Map the async batch type in a return annotation to its sync twin, for `help()`."""
    if isinstance(annotation, str):
        return re.sub(r"\bAsyncBatchRun\b", "BatchRun", annotation)
    return annotation


class Forward(Generic[T]):
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
        self: Forward[Callable[P, R]],
        method: Callable[Concatenate[Any, P], Awaitable[R]],
        target: Callable[[AsyncMusicAPI], Any],
        *,
        deprecated: str | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self: Forward[Callable[P, BatchRun[V]]],
        method: Callable[Concatenate[Any, P], _AsyncRun[V]],
        target: Callable[[AsyncMusicAPI], Any],
        *,
        deprecated: str | None = None,
    ) -> None: ...

    def __init__(
        self,
        method: Callable[..., Any],
        target: Callable[[AsyncMusicAPI], Any],
        *,
        deprecated: str | None = None,
    ) -> None:
        self._method = method
        self._target = target
        self._deprecated = deprecated
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
    def __get__(self, instance: HasBridge, owner: type[Any]) -> T: ...

    def __get__(self, instance: HasBridge | None, owner: type[Any]) -> Self | T:
        if instance is None:
            return self
        bound = self._bind(instance._bridge)
        instance.__dict__[self._name] = bound
        return bound

    def __call__(self, instance: HasBridge, /, *args: Any, **kwargs: Any) -> Any:
        """Call the twin on `instance`, as `MusicAPI.get_credits(client)` would."""
        return cast("Callable[..., Any]", self.__get__(instance, type(instance)))(*args, **kwargs)

    def _bind(self, bridge: Bridge) -> T:
        method, target, deprecated = self._method, self._target, self._deprecated

        if self._batch:

            def forwarded(*args: Any, **kwargs: Any) -> Any:
                if deprecated is not None:
                    warnings.warn(deprecated, DeprecationWarning, stacklevel=2)
                run = bridge.loop.run(method, target, args, kwargs)
                return BatchRun(bridge, run) if hasattr(run, "__anext__") else run

        else:

            def forwarded(*args: Any, **kwargs: Any) -> Any:
                if deprecated is not None:
                    warnings.warn(deprecated, DeprecationWarning, stacklevel=2)
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


def the_client(client: AsyncMusicAPI) -> AsyncMusicAPI:
    return client


class ForwardProperty(property, Generic[V]):
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

            def fget(instance: HasBridge) -> V:
                return from_config(instance._bridge.loop.config)

        elif read is not None:
            on_loop = read

            def fget(instance: HasBridge) -> V:
                return cast("V", instance._bridge.loop.run(on_loop, the_client, (), {}))

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
        def __get__(self, instance: HasBridge, owner: type[Any] | None = None) -> V: ...

        def __get__(
            self, instance: HasBridge | None, owner: type[Any] | None = None
        ) -> Self | V: ...

        def __set__(self, instance: Any, value: NoReturn, /) -> None:
            """Read-only: type checkers reject every assignment, as for a plain property."""


class BatchRun(Generic[R]):
    """The plain iterator the sync `generate_many` returns; also a context manager.

    Each `next()` runs one step of the async batch on the client's loop thread, so
    nothing runs between two steps, and Ctrl-C during a step cancels it there (stopping
    new submissions; creates already on the wire finish and are journaled).
    """

    def __init__(self, bridge: Bridge, run: _AsyncRun[R]) -> None:
        self._bridge = bridge
        self._run = run

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Outcome[R]:
        try:
            return cast("Outcome[R]", self._bridge.loop.run(_step, the_client, (self._run,), {}))
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        """Stop the batch and close its journal (nothing to do once the client is closed).

        Closing the client already cancelled the batch with everything else on its loop.
        """
        with contextlib.suppress(ClientClosedError):
            self._bridge.loop.run(_stop_run, the_client, (self._run,), {})

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _step(the_client: AsyncMusicAPI, run: _AsyncRun[T]) -> Awaitable[Outcome[T]]:
    return run.__anext__()


def _stop_run(the_client: AsyncMusicAPI, run: _AsyncRun[Any]) -> Awaitable[None]:
    return run.aclose()
