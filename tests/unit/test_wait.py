from __future__ import annotations

import random

import pytest

from musicapi._wait import PollPolicy, sleep_before_next_poll

POLICY = PollPolicy()
SEEDS = range(1000)


def _bounds(policy: PollPolicy, elapsed: float) -> tuple[float, float]:
    base = min(policy.max_interval, max(policy.min_interval, elapsed * policy.elapsed_fraction))
    low = max(policy.min_interval * (1 - policy.jitter), base * (1 - policy.jitter))
    return low, base * (1 + policy.jitter)


class TestNextDelay:
    def test_defaults_match_the_design(self) -> None:
        assert POLICY.min_interval == 0.5
        assert POLICY.max_interval == 10.0
        assert POLICY.elapsed_fraction == pytest.approx(1 / 3)
        assert POLICY.jitter == 0.2

    @pytest.mark.parametrize("elapsed", [0.0, 0.1, 1.0, 1.5, 3.0, 9.0, 30.0, 60.0, 600.0, 1e9])
    def test_within_jitter_bounds(self, elapsed: float) -> None:
        rng = random.Random(elapsed)
        low, high = _bounds(POLICY, elapsed)
        samples = [POLICY.next_delay(elapsed, rng=rng) for _ in range(400)]
        assert all(low - 1e-12 <= s <= high + 1e-12 for s in samples)
        # The jitter is real: polls started together drift apart.
        assert max(samples) - min(samples) > (high - low) * 0.5

    def test_never_shorter_than_jittered_minimum_nor_longer_than_jittered_cap(self) -> None:
        rng = random.Random(0)
        for _ in range(2000):
            elapsed = rng.uniform(0, 10_000)
            delay = POLICY.next_delay(elapsed, rng=rng)
            assert 0.5 * 0.8 <= delay <= 10.0 * 1.2

    def test_about_a_third_of_elapsed(self) -> None:
        rng = random.Random(1)
        samples = [POLICY.next_delay(12.0, rng=rng) for _ in range(2000)]
        assert sum(samples) / len(samples) == pytest.approx(4.0, rel=0.03)

    @pytest.mark.parametrize("hint", [0.0, 0.25, 3.0, 17.0, 45.0])
    @pytest.mark.parametrize("elapsed", [0.0, 5.0, 500.0])
    def test_hint_wins(self, hint: float, elapsed: float) -> None:
        assert POLICY.next_delay(elapsed, hint=hint, rng=random.Random(2)) == hint

    def test_negative_hint_is_zero(self) -> None:
        assert POLICY.next_delay(10.0, hint=-3.0) == 0.0

    def test_no_jitter_policy_is_deterministic(self) -> None:
        policy = PollPolicy(jitter=0.0, min_interval=1.0, max_interval=4.0)
        assert [policy.next_delay(e) for e in (0.0, 3.0, 6.0, 9.0, 100.0)] == [
            1.0,
            1.0,
            2.0,
            3.0,
            4.0,
        ]


def _simulate(ready_at: float, seed: int, policy: PollPolicy = POLICY) -> tuple[int, float]:
    """Poll a task that is ready `ready_at` s after submission, as `wait_submitted` does.

    The first poll comes `min_interval` after submission, each later one `next_delay(elapsed)`
    after the last. Returns the number of polls and when the result was seen.
    """
    rng = random.Random(seed)
    now = policy.min_interval
    polls = 0
    while True:
        polls += 1
        if now >= ready_at:
            return polls, now
        now += policy.next_delay(now, rng=rng)


class TestDesignClaims:
    def test_three_second_task(self) -> None:
        results = [_simulate(3.0, seed) for seed in SEEDS]
        assert max(polls for polls, _ in results) <= 8
        assert max(seen - 3.0 for _, seen in results) <= 1.5

    def test_two_minute_task_costs_about_twenty_polls(self) -> None:
        results = [_simulate(120.0, seed) for seed in SEEDS]
        assert max(polls for polls, _ in results) <= 25
        assert sum(polls for polls, _ in results) / len(results) <= 24  # the quickstart's 5 s loop
        # Never more than the cap (plus jitter) late.
        assert max(seen - 120.0 for _, seen in results) <= 12.0

    @pytest.mark.parametrize("ready_at", [1.0, 2.0, 5.0, 10.0, 20.0, 45.0, 90.0])
    def test_seen_at_most_about_forty_percent_late(self, ready_at: float) -> None:
        for seed in range(300):
            _, seen = _simulate(ready_at, seed)
            assert seen - ready_at <= 0.4 * ready_at + POLICY.min_interval * 1.2

    def test_long_task_polls_at_the_cap(self) -> None:
        polls, _ = _simulate(600.0, 3)
        # ~10 s apart once past 30 s: far fewer than a fixed 5 s loop's 120.
        assert polls <= 80


class TestSleepBeforeNextPoll:
    def test_no_deadline_passes_delay_through(self) -> None:
        assert sleep_before_next_poll(7.5, now=1000.0, deadline=None) == 7.5

    def test_delay_within_deadline(self) -> None:
        assert sleep_before_next_poll(2.0, now=10.0, deadline=20.0) == 2.0

    def test_clipped_at_deadline(self) -> None:
        assert sleep_before_next_poll(5.0, now=18.0, deadline=20.0) == pytest.approx(2.0)

    @pytest.mark.parametrize("now", [20.0, 20.001, 1e6])
    def test_none_at_or_after_deadline(self, now: float) -> None:
        assert sleep_before_next_poll(5.0, now=now, deadline=20.0) is None

    def test_zero_delay_before_deadline(self) -> None:
        assert sleep_before_next_poll(0.0, now=0.0, deadline=1.0) == 0.0
