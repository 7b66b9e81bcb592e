"""Learning how long a batch's tasks take, so most jobs are polled once, near completion.

Before any job has finished, a few probe jobs poll on the usual adaptive schedule and
the rest are parked. The first finished probe gives a first estimate (the midpoint
between its last "running" poll and its "done" poll); from then on every job's first
poll comes at that estimate after its submission, and each first poll nudges the
estimate: down a little when the job was already done, up more when it was not, so
that about `target` of first polls find the job done (a stochastic quantile tracker).
Pure: no I/O, no clock.
"""

from __future__ import annotations

import attrs


@attrs.define
class DurationEstimator:
    """Tracks the elapsed time at which a target share of jobs are done.

    Attributes:
        target: The share of first polls that should find the job done.
        step: The relative size of each nudge.
        estimate: The current estimate in seconds, or `None` before any job finished.
    """

    target: float = 0.8
    step: float = 0.1
    estimate: float | None = None

    def first_sample(self, last_running: float, done: float) -> None:
        """Seed the estimate from a job seen running at `last_running` s and done at `done` s.

        The task ended somewhere in between; the seed is the midpoint, wrong by at most
        half the probe's last poll gap. Seeding at the "done" time instead made every
        first poll of a long batch come up to a whole gap (ten seconds) after its task
        was done; a seed that is early costs some jobs a second poll, and the tracker
        below moves it within a wave or two of first polls.
        """
        if self.estimate is None:
            self.estimate = (last_running + done) / 2 if done > last_running else done

    def first_poll_result(self, *, polled_at: float, done: bool) -> None:
        """Nudge the estimate after a job's first poll, `polled_at` s after its submission.

        Only an informative poll moves it: "done" at or before the current estimate
        says the estimate is late, "not done" at or after it says it is early. Polls
        scheduled from an older estimate often say nothing about the current one, and
        counting them anyway would let a burst of jobs drag the estimate far off.
        """
        if self.estimate is None:
            return
        if done and polled_at <= self.estimate:
            self.estimate *= 1 - self.step * (1 - self.target)
        elif not done and polled_at >= self.estimate:
            self.estimate *= 1 + self.step * self.target
