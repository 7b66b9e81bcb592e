"""When to poll next: the adaptive interval and the overall deadline, as pure decisions.

A poll is due about a third of the time elapsed since submission later (at least
`min_interval`, at most `max_interval`, with jitter), so a short task is seen soon and a
long one costs few requests: a result is seen at most about 40 % late, a 3 s task takes
about six polls and a two-minute one about twenty. A server hint (`Retry-After` on a
not-ready answer) wins over the schedule. The wait loop in `_resources/sonic.py` and
the batch scheduler in `_batch.py` carry these decisions out.
"""

from __future__ import annotations

import random

import attrs


@attrs.frozen(kw_only=True)
class PollPolicy:
    """How often to poll a running task.

    Attributes:
        min_interval: The shortest gap between two polls, in seconds.
        max_interval: The longest gap, in seconds.
        elapsed_fraction: The gap as a share of the time since submission.
        jitter: The relative spread (0.2 = ±20 %), so that waits started together drift apart.
    """

    min_interval: float = 0.5
    max_interval: float = 10.0
    elapsed_fraction: float = 1 / 3
    jitter: float = 0.2

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


def sleep_before_next_poll(delay: float, *, now: float, deadline: float | None) -> float | None:
    """Clip a poll delay to the deadline.

    Returns:
        The seconds to sleep before the next poll, or `None` if the deadline has passed
        and the wait must end.
    """
    if deadline is None:
        return delay
    remaining = deadline - now
    if remaining <= 0:
        return None
    return min(delay, remaining)
