"""When to poll next, and what a poll's answer means for the job: pure decisions.

A poll is due about a third of the time elapsed since submission later (at least
`min_interval`, at most `max_interval`, with jitter), so a short task is seen soon and a
long one costs few requests: a result is seen at most about 40 % late, a 3 s task takes
about six polls and a two-minute one about twenty. A server hint (`Retry-After` on a
not-ready answer) wins over the schedule.

`after_poll()` is the one decision every wait makes, a single `wait` and every job of a
batch alike: given what a poll returned (a `Reading`, or an error), the job's origin and
deadline, the clock's time and the policy, it says "poll again at T" or "finished" (with
the result, the task's failure, or a timeout). Transient failures (5xx, 429, network,
an answer we could not read) mean "poll again"; the deadline ends the job whatever it
was waiting on. The scheduler in `_engine.py` carries the decisions out.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from musicapi._clock import DeadlineExceeded
from musicapi._errors import (
    APIConnectionError,
    MalformedResponseError,
    MusicAPIError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    TaskFailedError,
    WaitTimeoutError,
)
from musicapi._models import TaskState

if TYPE_CHECKING:
    from musicapi._errors import MusicAPIError as _Error

R = TypeVar("R")

TRANSIENT_POLL_ERRORS = (ServerError, RateLimitError, APIConnectionError, MalformedResponseError)
"""Poll failures that end a single attempt, not the wait: the task itself is unharmed."""


def _check_interval(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value == value:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ValueError(f"PollPolicy.{attribute.name} must be a number, got {value!r}")
    if value < 0 or value == float("inf"):
        raise ValueError(f"PollPolicy.{attribute.name} must be finite and not negative")


@attrs.frozen(kw_only=True)
class PollPolicy:
    """How often to poll a running task.

    Attributes:
        min_interval: The shortest gap between two polls, in seconds.
        max_interval: The longest gap, in seconds.
        elapsed_fraction: The gap as a share of the time since submission.
        jitter: The relative spread (0.2 = ±20 %), so that waits started together drift apart.
    """

    min_interval: float = attrs.field(default=0.5, validator=_check_interval)
    max_interval: float = attrs.field(default=10.0, validator=_check_interval)
    elapsed_fraction: float = attrs.field(default=1 / 3, validator=_check_interval)
    jitter: float = attrs.field(default=0.2, validator=_check_interval)

    def next_delay(
        self,
        elapsed: float,
        *,
        hint: float | None = None,
        rng: random.Random | None = None,
    ) -> float:
        """Return the seconds until the next poll.

        Args:
            elapsed: Seconds since the task was submitted (or since the wait began).
            hint: A server-suggested delay, honoured as given.
            rng: The source of jitter.
        """
        if hint is not None:
            return max(0.0, hint)
        base = min(self.max_interval, max(self.min_interval, elapsed * self.elapsed_fraction))
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return max(self.min_interval * (1 - self.jitter), base * (1 + spread))


@attrs.frozen
class Reading(Generic[R]):
    """What one poll said about a task, whatever its family's answer looked like.

    Attributes:
        state: `running`, `succeeded` or `failed` (see `TaskState`).
        result: The finished result, when succeeded.
        reason: Why it failed, when failed.
        hint: The server's suggested delay before the next poll, if any.
        body: The answer's JSON, kept for the journal and for `TaskFailedError.body`.
    """

    state: str
    result: R | None = None
    reason: str | None = None
    hint: float | None = None
    body: Any = None


@attrs.frozen
class Step(Generic[R]):
    """What to do with a job after a poll: poll again at `poll_at`, or finish.

    Attributes:
        poll_at: The clock time of the next poll, or `None` when the job is finished.
        result: The result of a job that succeeded.
        error: The error that ended a job that did not.
    """

    poll_at: float | None = None
    result: R | None = None
    error: MusicAPIError | None = None


def after_poll(
    answer: Reading[R] | BaseException,
    *,
    task_id: str,
    now: float,
    origin: float,
    deadline: float | None,
    timeout: float | None,
    policy: PollPolicy,
    rng: random.Random,
    soon: bool = False,
) -> Step[R]:
    """Decide what follows a poll of `task_id`.

    Args:
        answer: The poll's reading, or the error it raised (`DeadlineExceeded` when the
            deadline cut it short).
        task_id: The task polled.
        now: The clock's time.
        origin: When the task was submitted (or the wait began), for the adaptive gap.
        deadline: The clock time at which the wait ends, or `None`.
        timeout: The wait's length in seconds, for the timeout's message.
        policy: The poll schedule.
        rng: The source of jitter.
        soon: The poll came at the batch's learned task time and found the task still
            running: poll again after a small share of the elapsed time, not a third.

    Returns:
        The next poll's time, or the job's end.
    """
    hint: float | None = None
    cause: BaseException | None = None
    if isinstance(answer, Reading):
        if answer.state == TaskState.SUCCEEDED:
            return Step(result=answer.result)
        if answer.state == TaskState.FAILED:
            return Step(error=TaskFailedError(task_id, answer.reason or "failed", body=answer.body))
        hint = answer.hint
    elif isinstance(answer, TRANSIENT_POLL_ERRORS):
        cause = answer
        hint = answer.retry_after if isinstance(answer, RateLimitError) else None
    elif isinstance(answer, DeadlineExceeded):
        return Step(error=timed_out(task_id, timeout, cause=None))
    elif isinstance(answer, MusicAPIError):
        return Step(error=answer)
    else:
        raise answer
    if deadline is not None and now >= deadline:
        return Step(error=timed_out(task_id, timeout, cause=cause))
    elapsed = now - origin
    if soon and hint is None:
        elapsed *= 0.3
    due = now + policy.next_delay(elapsed, hint=hint, rng=rng)
    return Step(poll_at=due if deadline is None else min(due, deadline))


def check_timeout(timeout: object, *, field: str = "timeout") -> float | None:
    """Return a wait's timeout as float seconds, or raise if it is not one.

    NaN would never time out and a string would fail deep inside a comparison, so both
    are refused before anything is sent. So is 0: a wait that may not last at all could
    never make its first poll (`get()` polls once).

    Raises:
        RequestValidationError: Not `None` and not a finite number of seconds above 0.
    """
    if timeout is None:
        return None
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not _finite(timeout)
        or timeout <= 0
    ):
        huge = isinstance(timeout, int) and not _finite(timeout)
        shown = "an integer too large for a float" if huge else repr(timeout)[:60]
        raise RequestValidationError(
            f"{field} must be a finite number of seconds above 0, or None; got {shown}",
            field=field,
        )
    return float(timeout)


def _finite(value: object) -> bool:
    """Tell whether `value` is a finite float, or an int a float can hold (not `10**400`)."""
    if not isinstance(value, (int, float)):
        return True
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def timed_out(task_id: str, timeout: float | None, *, cause: BaseException | None) -> _Error:
    """Return the `WaitTimeoutError` of a wait that reached its deadline."""
    error = WaitTimeoutError(task_id, timeout or 0.0)
    error.__cause__ = cause
    return error
