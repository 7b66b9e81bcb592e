"""The retry policy: pure decisions, no I/O and no sleeping.

The transport reports what happened to one attempt; `decide()` answers whether to send
again and after how long. The asymmetry that matters: a GET can always be resent, but
a create starts a paid job, so it is resent only when we know the server did not take
it (it answered 429, 500 or 503, or the connection never opened). A create that went out and
got no answer, or whose answer came from a gateway (502, 504: the origin behind it may
have taken the job), becomes `SubmissionUnknownError`, never a silent second job.
"""

from __future__ import annotations

import enum
import math
import random
from email.utils import parsedate_to_datetime

import attrs

MAX_RETRY_AFTER = 60.0
"""The longest server-requested pause we honour, in seconds (a guard against a bogus date)."""

BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRYABLE_CREATE_STATUSES = frozenset({429, 500, 503})
"""Answers that prove the origin did not take the job: a create may be sent again."""
GATEWAY_STATUSES = frozenset({502, 504})
"""A gateway answered for an origin that may have taken the job: a create's fate is unknown."""


class Idempotency(enum.Enum):
    """Whether resending a request can do harm."""

    SAFE = "safe"
    """Reads (GET): resend freely."""
    CREATE = "create"
    """A POST that starts a paid job: resend only if the server surely did not take it."""


class Failure(enum.Enum):
    """How an attempt ended without an HTTP answer."""

    NOT_SENT = "not_sent"
    """The connection never opened (connect error, connect or pool timeout)."""
    NO_ANSWER = "no_answer"
    """The request may have reached the server, but no answer came back."""


@attrs.frozen
class Decision:
    """What to do after a failed attempt.

    Attributes:
        retry: Send the request again.
        delay: Seconds to wait first.
        submission_unknown: A create's fate cannot be known; raise `SubmissionUnknownError`.
    """

    retry: bool
    delay: float = 0.0
    submission_unknown: bool = False


GIVE_UP = Decision(retry=False)


def decide(
    idempotency: Idempotency,
    *,
    retries_done: int,
    max_retries: int,
    status_code: int | None = None,
    failure: Failure | None = None,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> Decision:
    """Decide whether an attempt that ended in `status_code` or `failure` is sent again.

    Args:
        idempotency: Whether the request can be resent safely.
        retries_done: Resends already made (0 after the first attempt).
        max_retries: The most resends allowed.
        status_code: The answer's status, if the server answered.
        failure: How the attempt failed, if no answer came.
        retry_after: The server's `Retry-After`, already parsed and capped.
        rng: The source of jitter (tests pass a seeded one).
    """
    if failure is Failure.NO_ANSWER and idempotency is Idempotency.CREATE:
        return Decision(retry=False, submission_unknown=True)
    if idempotency is Idempotency.CREATE and status_code in GATEWAY_STATUSES:
        return Decision(retry=False, submission_unknown=True)
    if status_code is not None:
        allowed = (
            RETRYABLE_CREATE_STATUSES if idempotency is Idempotency.CREATE else RETRYABLE_STATUSES
        )
        if status_code not in allowed:
            return GIVE_UP
    elif failure is None:
        return GIVE_UP
    if retries_done >= max_retries:
        return GIVE_UP
    delay = retry_after if retry_after is not None else backoff(retries_done, rng=rng)
    return Decision(retry=True, delay=delay)


def backoff(
    retries_done: int,
    *,
    base: float = BACKOFF_BASE,
    cap: float = BACKOFF_CAP,
    rng: random.Random | None = None,
) -> float:
    """Return a capped exponential backoff with full jitter, overflow-safe for any count."""
    exponent = min(retries_done, 62)
    ceiling = min(cap, base * math.ldexp(1.0, exponent))
    return (rng or random).uniform(0.0, ceiling)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Parse a `Retry-After` header given in seconds or as an HTTP date, capped.

    Args:
        value: The header's value, or `None`.
        now: The current unix time, for the HTTP-date form.

    Returns:
        Seconds to wait (0 to `MAX_RETRY_AFTER`), or `None` if absent or unreadable.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(text).timestamp() - now
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
