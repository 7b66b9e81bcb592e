"""One request budget per client: pacing that learns the server's limit, and an in-flight cap.

Every request of a client, whether a create, a single wait's poll or one of ten thousand
batch polls, passes through the same `RequestBudget`, so a big batch cannot rate-limit
itself and a 429 slows everything the client does. The transport calls `pace()`, then
holds `slot()` around the send, and reports the answer: `on_rate_limited()` for a 429,
`on_answer()` for anything else, right after that request's slot was released.

The rules, and why each one is there:

* **Unpaced until the server says 429.** Without `rate_limit=`, a request that has the
  client to itself (nothing else in flight or waiting for its pace) goes at once: a
  sequential loop of calls never sleeps on the pacer, and that path reads no clock and
  takes no checkpoint. Requests that overlap others are spaced at a start-up pace,
  `DEFAULT_RATE`, which is also the first guess of the server's ceiling: a batch that
  bursts unpaced into a server's limit has all of its `max_in_flight` requests on the wire
  before the first 429 comes back, and collects dozens of them. An explicit `rate_limit`
  is a hard ceiling that the pace never exceeds, and it paces from the start.
* **GCRA spacing, one sleeper at a time.** The schedule is the next free slot: the last
  slot plus one interval, with up to `BURST_SECONDS` of credit after an idle spell. Waiters
  queue in order and only the head sleeps on the clock, to its own slot, then hands the
  turn on: nobody wakes in a herd, and each waiter reads the schedule when its turn comes,
  so a pace change re-bases every queued waiter at once, in O(1) (the head, already
  asleep, re-checks when it wakes: it sleeps again if the pace dropped, and is at most one
  old interval late if it rose).
* **Decrease once per congestion episode.** A burst of 429s is one signal, not a hundred.
  A 429 halves the pace and opens an episode, which lasts until every request paced
  before that decrease (in flight, or queued for an in-flight slot) has come back, or
  `EPISODE_MAX_SECONDS` if one of them hangs. A 429 opens the next episode only after
  that, and only if its own request was granted its slot after the decrease: then the
  halved pace itself was refused.
* **Halve from a rate that means something.** The decrease halves the current pace, or
  the rate the client actually sent if that is lower and was measured over a real window
  (about `MIN_RATE_SAMPLES` answers in the last `RATE_WINDOW_SECONDS`; never `1 / uptime`,
  never one request after an idle minute). It never goes below `MIN_RATE`: no healthy
  server limits a key to less, and below it `Retry-After` and the retry backoff space
  requests anyway.
* **Learn the ceiling, recover fast, probe slowly.** The rate that drew the 429 is the
  learned ceiling. As in TCP CUBIC, the pace climbs back along a concave curve in
  `RECOVERY_SECONDS` to a plateau just below it (`PLATEAU_FRACTION`: a measured overshoot
  includes the server's burst allowance), and only then probes above along a convex
  curve: +5 % after 3 s, +12 % after 4 s, doubled after `PROBE_SECONDS`. Slow near the
  rate that overshot, so 429s stay rare; fast far above it, so a server whose limit was
  raised is followed within seconds.
* **No climbing while not rate-bound.** The climb advances only while requests have
  waited on the pace within `BOUND_GRACE_SECONDS`, and not during a `Retry-After` pause:
  an idle client, or one whose demand is below its pace, learns nothing about the server,
  so a burst after a quiet minute starts at the pace it had, not far above.
* **Honour `Retry-After`.** The 429 that opens an episode pauses every request until its
  `Retry-After` is over (a 429 during that pause may lengthen it); then requests resume
  at the pace without a catch-up burst. A run of 429s that each ask for a pause, with no
  other answer between them, is one episode: each refused request waits its own
  `Retry-After` before it is resent (the transport and the batch see to that), but the
  whole client is neither halved nor paused again for each one. Doing so sank the pace
  to the floor and chained the pauses end to end: 30 early 429s made a 2,000-job batch
  take 2 to 7 times its bound.

Simulated against a token-bucket server (tests/unit/test_budget_simulation.py), 64
senders hold a 250 requests/s limit at 100 % of it with about one 429 every five seconds,
and follow the limit down to 100 and up to 400 requests/s.

The in-flight cap is separate from the pace: httpx's pool slows sharply with thousands of
requests queued on it.
"""

from __future__ import annotations

import math
from collections import deque
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
import attrs

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from musicapi._clock import Clock

DEFAULT_RATE = 250.0
"""The start-up pace, in requests/s, of requests that overlap others before any 429.

High enough not to slow a healthy batch (>= 200 requests/s), and the first guess of the
server's ceiling, probed upwards like a learned one. A request alone is not paced at all.
"""
MIN_RATE = 1.0
"""The floor of adaptive pacing, in requests/s (an explicit lower `rate_limit` wins).

No healthy API limits a key to less than one request a second; a server that does still
gets its `Retry-After` honoured, so the floor only stops the pace collapsing to nothing.
"""
MAX_ADAPTIVE_RATE = 5000.0
"""The most the adaptive pace climbs to when no `rate_limit` caps it."""
DECREASE_FACTOR = 0.5
"""The multiplicative decrease applied once per congestion episode (halving, as in AIMD)."""
RECOVERY_SECONDS = 2.0
"""Rate-bound seconds to climb from the halved pace back to the plateau.

A halving then costs about a quarter of a second's worth of requests, which a server's
burst allowance (refilled while the pace is low) mostly gives back.
"""
PLATEAU_FRACTION = 0.95
"""Where the climb flattens, as a fraction of the learned ceiling.

The rate measured when a token-bucket server starts refusing includes the burst it let
through first: against 250 requests/s it comes out at 265-270 in simulation, so the
plateau sits about at the real limit instead of 7 % above it.
"""
PROBE_SECONDS = 8.0
"""Rate-bound seconds on the plateau after which the probe has doubled the pace.

In simulation 6 s doubled the 429s at a steady limit, and 10 s took over 25 s to follow
a limit raised from 100 to 400 requests/s; 8 s keeps a steady 250 requests/s limit at
about one 429 every five seconds and follows that rise in about 12 s.
"""
EPISODE_MAX_SECONDS = 1.0
"""The longest one request sent before a decrease can keep its episode open.

Far longer than a healthy answer takes, far shorter than a request timeout: a hung
request must not stop the pace from reacting to 429s that the halved pace draws.
"""
BURST_SECONDS = 0.05
"""How much unused pacing may be spent at once, as seconds of the current pace."""
BOUND_GRACE_SECONDS = 0.25
"""How long after a request last waited on the pace the client still counts as rate-bound
(or two intervals of the pace, if longer)."""
RATE_WINDOW_SECONDS = 1.0
"""The time constant of the measured sending rate."""
MIN_RATE_SAMPLES = 16.0
"""How many answers the window must hold (exponentially weighted) before the measured
rate counts: fewer say nothing about what the server accepts."""


@attrs.frozen(kw_only=True)
class PacingSnapshot:
    """A read-only view of a client's pacing at one moment (`client.pacing`).

    Attributes:
        rate: The current pace in requests per second, or `None` while unpaced (no
            `rate_limit` and no 429 yet).
        ceiling: The explicit `rate_limit`, or `None` when only the server's 429s set the pace.
        in_flight: Requests in flight now.
        max_in_flight: The cap on requests in flight.
        rate_limited: How many 429s this client has received.
        learned_ceiling: The rate that drew the last decrease (the pace probes above it
            slowly), or `None` before any 429.
        paused_for: Seconds left of a `Retry-After` pause (0.0 when not paused).
    """

    rate: float | None
    ceiling: float | None
    in_flight: int
    max_in_flight: int
    rate_limited: int
    learned_ceiling: float | None = None
    paused_for: float = 0.0


class _Waiter:
    """One request queued for its pacing slot."""

    __slots__ = ("cancelled", "turn")

    def __init__(self, turn: anyio.Event | None) -> None:
        self.turn = turn
        self.cancelled = False


class _SlotWaiter:
    """One request queued for an in-flight slot; `seq` is set when the slot is handed over."""

    __slots__ = ("event", "seq")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.seq = 0


class _RateMeter:
    """Events per second, exponentially weighted over about `RATE_WINDOW_SECONDS`."""

    __slots__ = ("_at", "_born", "_value")

    def __init__(self) -> None:
        self._value = 0.0
        self._at = 0.0
        self._born: float | None = None

    def add(self, now: float) -> None:
        """Count one event at `now`."""
        if self._born is None:
            self._born = self._at = now
        elif now > self._at:
            self._value *= math.exp((self._at - now) / RATE_WINDOW_SECONDS)
            self._at = now
        self._value += 1.0 / RATE_WINDOW_SECONDS

    def rate(self, now: float) -> float | None:
        """Return the rate at `now`, or `None` unless the window holds enough events."""
        if self._born is None:
            return None
        value = self._value * math.exp(min(0.0, self._at - now) / RATE_WINDOW_SECONDS)
        if value * RATE_WINDOW_SECONDS < MIN_RATE_SAMPLES:
            return None
        # Early on the average has seen less than a window: correct for its start at zero.
        filled = -math.expm1(-max(now - self._born, 1e-9) / RATE_WINDOW_SECONDS)
        return value / filled


class RequestBudget:
    """Paces and caps the HTTP requests of one client.

    Args:
        clock: The clock to pace on.
        rate_limit: An explicit ceiling in requests/s, paced from the start; `None` means
            unpaced until the first 429, then adaptive.
        max_in_flight: The most requests in flight at once.
    """

    def __init__(self, clock: Clock, *, rate_limit: float | None, max_in_flight: int) -> None:
        self._clock = clock
        self._explicit = rate_limit
        self._cap = rate_limit if rate_limit is not None else MAX_ADAPTIVE_RATE
        self._floor = min(MIN_RATE, self._cap)
        self._paced = rate_limit is not None
        start = rate_limit if rate_limit is not None else DEFAULT_RATE
        self._rate = start
        self._interval = 1.0 / start
        # The climb curve: from `_base` back to `_target` (the learned ceiling), then above.
        self._target = start
        self._base = start
        self._climb = RECOVERY_SECONDS
        self._learned: float | None = None
        # GCRA state: the next free slot (the last one sent plus one interval), the queue.
        self._next = clock.now()
        self._spaced = False  # whether any request has taken a slot of the schedule yet
        self._paused_until = -math.inf
        self._waiters: deque[_Waiter] = deque()
        self._bound_at = -math.inf
        self._last_answer: float | None = None
        self._sent_rate = _RateMeter()
        # Episodes: requests are numbered as they are granted a slot.
        self._granted = 0
        self._released = 0
        self._returned = 0  # the number of the request whose slot was released last
        self._episode_mark = 0  # the last number paced before the last decrease
        self._episode_at: float | None = None
        self._answered_since_decrease = False
        self._old_in_flight = 0  # requests paced before the last decrease, not yet back
        self._max_in_flight = max_in_flight
        self._in_flight = 0
        self._slot_waiters: deque[_SlotWaiter] = deque()
        self.rate_limited = 0
        """How many 429s this client has received (for stats and benchmarks)."""

    @property
    def rate(self) -> float:
        """The current pace in requests per second.

        While unpaced (no `rate_limit`, no 429 yet) this is the start-up pace that only
        requests overlapping others are held to; `snapshot().rate` is `None` then.
        """
        return self._rate

    @property
    def in_flight(self) -> int:
        """How many requests are in flight now."""
        return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The cap on requests in flight (the connection pool is sized from it too)."""
        return self._max_in_flight

    def snapshot(self) -> PacingSnapshot:
        """Return the pacing state as a frozen snapshot."""
        return PacingSnapshot(
            rate=self._rate if self._paced else None,
            ceiling=self._explicit,
            in_flight=self._in_flight,
            max_in_flight=self._max_in_flight,
            rate_limited=self.rate_limited,
            learned_ceiling=self._learned,
            paused_for=max(0.0, self._paused_until - self._clock.now()),
        )

    @asynccontextmanager
    async def slot(self) -> AsyncGenerator[None, None]:
        """Hold one of the in-flight slots around a send.

        The uncontended path takes no checkpoint, unlike `anyio.CapacityLimiter`: a
        single call stays as cheap as a raw httpx request.
        """
        if self._in_flight >= self._max_in_flight or self._slot_waiters:
            waiter = _SlotWaiter()
            self._slot_waiters.append(waiter)
            try:
                await waiter.event.wait()
            except BaseException:
                if waiter.event.is_set():
                    self._release(waiter.seq)
                else:
                    self._slot_waiters.remove(waiter)
                raise
            seq = waiter.seq
        else:
            self._in_flight += 1
            self._granted += 1
            seq = self._granted
        try:
            yield
        finally:
            self._release(seq)

    def _release(self, seq: int) -> None:
        """Release request `seq`'s slot: hand it straight to the next waiter, or free it."""
        if self._slot_waiters:
            waiter = self._slot_waiters.popleft()
            self._granted += 1
            waiter.seq = self._granted
            waiter.event.set()
        else:
            self._in_flight -= 1
        self._returned = seq
        self._released += 1
        if seq <= self._episode_mark:
            self._old_in_flight -= 1

    async def pace(self) -> None:
        """Wait for this request's slot in the pacing schedule."""
        if not self._paced and not self._in_flight and not self._waiters:
            return  # alone and never rate-limited: not paced at all
        now = self._clock.now()
        if not self._waiters and self._next <= now and self._paused_until <= now:
            self._take(now)
            return
        await self._wait_for_slot()

    def _take(self, now: float) -> None:
        """Take the next slot at `now`; after an idle spell up to `BURST_SECONDS` is spent."""
        self._next = max(self._next, now - BURST_SECONDS, self._paused_until) + self._interval
        self._spaced = True

    async def _wait_for_slot(self) -> None:
        """Queue for a slot; only the head of the queue sleeps on the clock."""
        waiters = self._waiters
        waiter = _Waiter(anyio.Event() if waiters else None)
        waiters.append(waiter)
        try:
            if waiter.turn is not None:
                await waiter.turn.wait()
            clock = self._clock
            while True:
                now = clock.now()
                # Read at every wake-up: a pace change since re-bases this slot.
                at = max(self._next, self._paused_until)
                if at <= now:
                    break
                await clock.sleep(at - now)
            self._bound_at = now
            self._take(now)
        finally:
            self._leave(waiter)

    def _leave(self, waiter: _Waiter) -> None:
        """Take `waiter` out of the queue and hand the turn to the next live waiter."""
        waiters = self._waiters
        if not waiters or waiters[0] is not waiter:
            waiter.cancelled = True  # cancelled before its turn; skipped when reached
            return
        waiters.popleft()
        while waiters and waiters[0].cancelled:
            waiters.popleft()
        if waiters:
            turn = waiters[0].turn
            if turn is not None:
                turn.set()

    def _set_rate(self, rate: float) -> None:
        """Change the pace: the next slot moves to one new interval after the last one."""
        interval = 1.0 / rate
        if self._spaced:
            self._next += interval - self._interval
        self._rate, self._interval = rate, interval

    def _curve(self) -> float:
        """The pace after `_climb` rate-bound seconds since the last decrease."""
        climb, target = self._climb, self._target
        if climb < RECOVERY_SECONDS:
            left = (RECOVERY_SECONDS - climb) / RECOVERY_SECONDS
            rate = target - (target - self._base) * left**3
        else:
            rate = target * (1.0 + ((climb - RECOVERY_SECONDS) / PROBE_SECONDS) ** 3)
        return min(self._cap, rate)

    def on_answer(self) -> None:
        """Record an answer that was not a 429: climb, if the client is rate-bound."""
        now = self._clock.now()
        self._sent_rate.add(now)
        self._answered_since_decrease = True
        last, self._last_answer = self._last_answer, now
        if last is None or self._rate >= self._cap or now < self._paused_until:
            return
        grace = max(BOUND_GRACE_SECONDS, 2.0 * self._interval)
        if now - self._bound_at > grace:
            return  # not rate-bound: the pace is not what limits us, so learn nothing
        self._climb += min(now - last, grace)
        rate = self._curve()
        if rate > self._rate:
            self._set_rate(rate)

    def on_rate_limited(self, retry_after: float | None) -> None:
        """Record a 429: decrease once per episode and hold every request for `Retry-After`.

        Call it right after the refused request's `slot()` was released, with no await in
        between (as the transport does): that is how the budget tells a 429 to a request
        sent at the halved pace from the tail of the burst that drew the last decrease.

        Args:
            retry_after: The answer's `Retry-After` in seconds, if any.
        """
        self.rate_limited += 1
        now = self._clock.now()
        self._sent_rate.add(now)
        self._last_answer = now
        pause = retry_after if retry_after is not None and retry_after > 0 else None
        pausing = pause is not None
        opens_episode = self._episode_at is None or (
            self._returned > self._episode_mark
            and (self._old_in_flight <= 0 or now - self._episode_at >= EPISODE_MAX_SECONDS)
            and (self._answered_since_decrease or not pausing)
        )
        if opens_episode:
            self._decrease(now)
        if pause is not None and (opens_episode or now < self._paused_until):
            self._paused_until = max(self._paused_until, now + pause)
            # Resume at the pace after the pause, without a catch-up burst.
            self._next = max(self._next, self._paused_until)

    def _decrease(self, now: float) -> None:
        """Open a congestion episode: learn the ceiling and halve the pace."""
        # Requests still queued for a slot were paced at the old rate: count them as sent.
        queued = len(self._slot_waiters)
        self._episode_mark, self._episode_at = self._granted + queued, now
        self._old_in_flight = self._granted - self._released + queued
        self._paced = True
        reference = self._rate
        sent = self._sent_rate.rate(now)
        if sent is not None and sent < reference:
            reference = sent
        reference = min(self._cap, max(self._floor, reference))
        self._learned = reference
        self._target = min(self._cap, max(self._floor, reference * PLATEAU_FRACTION))
        self._base = min(self._cap, max(self._floor, reference * DECREASE_FACTOR))
        self._climb = 0.0
        self._answered_since_decrease = False
        self._set_rate(self._base)
        self._next = max(self._next, now)  # no burst credit left
