"""Time, behind one small protocol.

Every wait, backoff and deadline in the SDK reads the time from a `Clock` and sleeps
through it, so that tests can swap in `musicapi.testing.FakeClock` and run a
ten-minute wait in milliseconds on either anyio backend. This is the only module of
the client that calls `anyio.sleep` for a duration.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

import anyio


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
