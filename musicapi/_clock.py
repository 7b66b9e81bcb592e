"""Time, behind one small protocol.

Every wait, backoff and deadline in the SDK reads the time from a `Clock` and sleeps
through it, so that tests can swap in `musicapi.testing.FakeClock` and run a
ten-minute wait in milliseconds on either anyio backend. This is the only module of
the client that calls `anyio.sleep` for a duration.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import anyio

if TYPE_CHECKING:
    from collections.abc import Generator


class DeadlineExceeded(Exception):
    """A request or a retry would end past the caller's deadline; the caller raises its own timeout."""


@runtime_checkable
class Clock(Protocol):
    """A source of monotonic time that can also sleep."""

    def now(self) -> float:
        """Return the current time in seconds (monotonic; only differences matter)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep for `seconds` of this clock's time (a checkpoint even for 0)."""
        ...


class RealClock:
    """The clock of the running process: `time.monotonic` and `anyio.sleep`."""

    __slots__ = ()

    def now(self) -> float:
        """Return `time.monotonic()`."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Sleep for `seconds` real seconds (negative values count as zero)."""
        await anyio.sleep(max(0.0, seconds))

    def __repr__(self) -> str:
        return "RealClock()"


REAL_CLOCK = RealClock()


@contextmanager
def cancel_at(clock: Clock, deadline: float | None) -> Generator[anyio.CancelScope, None, None]:
    """Open a cancel scope that is cancelled when `clock` reaches `deadline`.

    Deadlines are read from the injected clock, not from the event loop's, so that a
    `FakeClock` drives them too: a clock that can cancel a scope itself (it has a
    `cancel_scope_at(deadline)` context manager, as `FakeClock` does) is asked to;
    any other clock's deadline is translated into the loop's time once, at entry.
    `None` means no deadline.
    """
    if deadline is None:
        with anyio.CancelScope() as scope:
            yield scope
        return
    own = getattr(clock, "cancel_scope_at", None)
    if own is not None:
        with own(deadline) as scope:
            yield scope
        return
    remaining = deadline - clock.now()
    with anyio.CancelScope(deadline=anyio.current_time() + remaining) as scope:
        yield scope
