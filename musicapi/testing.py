"""Helpers for testing code that uses musicapi, without the network and without waiting.

`FakeClock` is virtual time that both the client and the sandbox read, so a wait of
ten minutes finishes in milliseconds on asyncio and on trio alike. `sandbox_client`
and `sandbox_sync_client` build clients wired to an in-process sandbox.

The autojump idea comes from trio's `MockClock`: when every task that uses the clock is
asleep and nothing else has touched the clock for a few scheduler passes, time jumps
straight to the earliest wake-up. Unlike `MockClock` it is backend-neutral: it is only
used by code that sleeps through a `musicapi` clock, not by the event loop itself.
"""

from __future__ import annotations

import heapq
import itertools
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel

if TYPE_CHECKING:
    from collections.abc import Callable, Generator

    from musicapi._client import AsyncMusicAPI
    from musicapi._sync import MusicAPI
    from musicapi.sandbox import Sandbox

__all__ = ["FakeClock", "sandbox_client", "sandbox_sync_client"]


class _Sleeper:
    """A sleeping task, or (with `on_due`) a timer that no task sleeps on."""

    __slots__ = ("cancelled", "on_due", "seq", "target", "wakeup")

    def __init__(self, target: float, seq: int, on_due: Callable[[], None] | None = None) -> None:
        self.target = target
        self.seq = seq
        self.cancelled = False
        self.wakeup = anyio.Event()
        self.on_due = on_due

    def __lt__(self, other: _Sleeper) -> bool:
        return (self.target, self.seq) < (other.target, other.seq)


class FakeClock:
    """Virtual, monotonic time for tests; a drop-in `musicapi` clock.

    Args:
        start: The initial reading of `now()`.
        autojump: Jump to the earliest sleeper's wake-up time once all clock users are
            idle. With `False`, time moves only through `advance()`.
        settle_passes: How many consecutive scheduler passes without any clock activity
            count as "idle". Raise it if the code under test does much work between
            two clock calls; the default suits the in-process sandbox.
    """

    def __init__(
        self, start: float = 0.0, *, autojump: bool = True, settle_passes: int = 8
    ) -> None:
        self._now = float(start)
        self._autojump = autojump
        self._settle_passes = settle_passes
        self._sleepers: list[_Sleeper] = []
        self._timers: list[_Sleeper] = []
        self._seq = itertools.count()
        self._activity = 0

    def __repr__(self) -> str:
        return f"FakeClock(now={self._now!r}, autojump={self._autojump!r})"

    def now(self) -> float:
        """Return the virtual time in seconds."""
        self._activity += 1
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` and wake every sleeper that is now due."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._jump_to(self._now + seconds)

    @contextmanager
    def cancel_scope_at(self, deadline: float) -> Generator[anyio.CancelScope, None, None]:
        """Open a cancel scope that is cancelled when virtual time reaches `deadline`.

        The deadline is a timer in the same queue as the sleepers, so autojump moves
        time to it when every clock user is idle, even if the scope's task is blocked
        on something other than the clock (a lock, an event, another task), provided
        some task sleeps on this clock: autojump runs inside `sleep()`. With nothing
        sleeping on it (say, every task waits on a server that never answers), call
        `advance()` to move time.
        """
        with anyio.CancelScope() as scope:
            if self._now >= deadline:
                scope.cancel()
                yield scope
                return
            timer = _Sleeper(deadline, next(self._seq), on_due=scope.cancel)
            heapq.heappush(self._timers, timer)
            try:
                yield scope
            finally:
                timer.cancelled = True

    async def sleep(self, seconds: float) -> None:
        """Sleep for `seconds` of virtual time."""
        self._activity += 1
        if seconds <= 0:
            await anyio.lowlevel.checkpoint()
            return
        sleeper = _Sleeper(self._now + seconds, next(self._seq))
        heapq.heappush(self._sleepers, sleeper)
        try:
            while self._now < sleeper.target:
                if self._autojump and await self._is_idle_and_first(sleeper):
                    first = self._first()
                    self._jump_to(first.target if first is not None else sleeper.target)
                    continue
                if self._now >= sleeper.target:
                    break
                sleeper.wakeup = anyio.Event()
                await sleeper.wakeup.wait()
        finally:
            sleeper.cancelled = True
            self._wake_earliest()

    async def _is_idle_and_first(self, sleeper: _Sleeper) -> bool:
        """Tell whether `sleeper` is the earliest sleeping task and every clock user is idle.

        Timers that precede it are fine: the caller jumps to the earliest entry, a
        timer or itself, and fires it.
        """
        if self._first_task() is not sleeper:
            return False
        quiet = 0
        for _ in range(self._settle_passes * 64):
            seen = self._activity
            await anyio.lowlevel.checkpoint()
            quiet = quiet + 1 if seen == self._activity else 0
            if quiet >= self._settle_passes:
                break
        return self._first_task() is sleeper and self._now < sleeper.target

    def _first(self) -> _Sleeper | None:
        """Return the earliest entry, a sleeping task or a timer."""
        return min(filter(None, (self._first_task(), _head(self._timers))), default=None)

    def _first_task(self) -> _Sleeper | None:
        """Return the earliest sleeper that is a task, not a timer."""
        return _head(self._sleepers)

    def _jump_to(self, when: float) -> None:
        self._now = max(self._now, when)
        while (timer := _head(self._timers)) is not None and timer.target <= self._now:
            heapq.heappop(self._timers)
            timer.cancelled = True
            if timer.on_due is not None:
                timer.on_due()
        for sleeper in self._sleepers:
            if not sleeper.cancelled and sleeper.target <= self._now:
                sleeper.wakeup.set()
        self._wake_earliest()

    def _wake_earliest(self) -> None:
        first = self._first_task()
        if first is not None:
            first.wakeup.set()


def _head(queue: list[_Sleeper]) -> _Sleeper | None:
    """Drop the cancelled entries at the front of a heap and return its first live one."""
    while queue and queue[0].cancelled:
        heapq.heappop(queue)
    return queue[0] if queue else None


def sandbox_client(sandbox: Sandbox | None = None, **kwargs: Any) -> AsyncMusicAPI:
    """Return an `AsyncMusicAPI` wired to an in-process sandbox (a new one if not given).

    The client shares the sandbox's clock unless `clock=` is passed, so waits and the
    sandbox's task timers move together.
    """
    from musicapi._client import AsyncMusicAPI
    from musicapi.sandbox import Sandbox

    sandbox = sandbox if sandbox is not None else Sandbox()
    kwargs.setdefault("clock", sandbox.clock)
    kwargs.setdefault("api_key", "sandbox-key")
    return AsyncMusicAPI(base_url=sandbox.base_url, transport=sandbox.transport(), **kwargs)


def sandbox_sync_client(sandbox: Sandbox | None = None, **kwargs: Any) -> MusicAPI:
    """Return a `MusicAPI` (sync facade) wired to an in-process sandbox."""
    from musicapi._sync import MusicAPI
    from musicapi.sandbox import Sandbox

    sandbox = sandbox if sandbox is not None else Sandbox()
    kwargs.setdefault("clock", sandbox.clock)
    kwargs.setdefault("api_key", "sandbox-key")
    return MusicAPI(base_url=sandbox.base_url, transport=sandbox.transport(), **kwargs)
