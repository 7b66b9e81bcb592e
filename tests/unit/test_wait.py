from __future__ import annotations

import random
from typing import Any

import pytest

from musicapi._clock import DeadlineExceeded
from musicapi._errors import (
    APIConnectionError,
    AuthenticationError,
    MalformedResponseError,
    MusicAPIError,
    NotFoundError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    TaskFailedError,
    WaitTimeoutError,
)
from musicapi._models import TaskState
from musicapi._wait import PollPolicy, Reading, Step, after_poll, check_timeout

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


class TestAfterPoll:
    """The one decision every wait makes after a poll (a single wait and a batch job alike)."""

    def _step(self, answer: Reading[str] | BaseException, **kwargs: Any) -> Step[str]:
        args: dict[str, Any] = {
            "task_id": "t1",
            "now": 10.0,
            "origin": 0.0,
            "deadline": None,
            "timeout": 60.0,
            "policy": POLICY,
            "rng": random.Random(0),
        }
        args.update(kwargs)
        return after_poll(answer, **args)

    def test_success_finishes_with_the_result(self) -> None:
        step = self._step(Reading(TaskState.SUCCEEDED, result="song"))
        assert step.poll_at is None and step.result == "song" and step.error is None

    def test_failure_finishes_with_task_failed(self) -> None:
        step = self._step(Reading(TaskState.FAILED, reason="timeout: upstream", body={"a": 1}))
        assert isinstance(step.error, TaskFailedError)
        assert step.error.task_id == "t1" and step.error.reason == "timeout: upstream"
        assert step.error.body == {"a": 1}

    def test_running_polls_again_on_the_adaptive_schedule(self) -> None:
        step = self._step(Reading(TaskState.RUNNING))
        low, high = _bounds(POLICY, 10.0)
        assert step.poll_at is not None and 10.0 + low <= step.poll_at <= 10.0 + high

    def test_server_hint_wins(self) -> None:
        step = self._step(Reading(TaskState.RUNNING, hint=7.0))
        assert step.poll_at == pytest.approx(17.0)

    @pytest.mark.parametrize(
        "error",
        [
            ServerError("HTTP 503", status_code=503),
            APIConnectionError("reset"),
            MalformedResponseError("HTML page"),
            RateLimitError("slow down", retry_after=3.0, status_code=429),
        ],
    )
    def test_transient_errors_poll_again(self, error: MusicAPIError) -> None:
        step = self._step(error)
        assert step.error is None and step.poll_at is not None and step.poll_at > 10.0

    def test_rate_limit_hint_is_honoured(self) -> None:
        step = self._step(RateLimitError("slow down", retry_after=3.0, status_code=429))
        assert step.poll_at == pytest.approx(13.0)

    @pytest.mark.parametrize(
        "error",
        [NotFoundError("gone", status_code=404), AuthenticationError("no", status_code=401)],
    )
    def test_permanent_errors_finish(self, error: MusicAPIError) -> None:
        assert self._step(error).error is error

    def test_deadline_reached_times_out_with_the_last_error_as_cause(self) -> None:
        cause = ServerError("HTTP 500", status_code=500)
        step = self._step(cause, now=20.0, deadline=20.0, timeout=20.0)
        assert isinstance(step.error, WaitTimeoutError)
        assert step.error.task_id == "t1" and step.error.__cause__ is cause

    def test_deadline_exceeded_mid_request_times_out(self) -> None:
        step = self._step(DeadlineExceeded(), deadline=11.0)
        assert isinstance(step.error, WaitTimeoutError)

    def test_next_poll_is_clipped_to_the_deadline(self) -> None:
        step = self._step(Reading(TaskState.RUNNING, hint=30.0), deadline=12.0)
        assert step.poll_at == 12.0

    def test_soon_after_a_poll_at_the_learned_time(self) -> None:
        normal = self._step(Reading(TaskState.RUNNING), now=30.0, rng=random.Random(1))
        soon = self._step(Reading(TaskState.RUNNING), now=30.0, soon=True, rng=random.Random(1))
        assert soon.poll_at is not None and normal.poll_at is not None
        assert soon.poll_at - 30.0 < normal.poll_at - 30.0

    def test_anything_else_is_raised(self) -> None:
        with pytest.raises(KeyError):
            self._step(KeyError("bug"))


class TestCheckTimeout:
    @pytest.mark.parametrize("value", [None, 0.001, 0.5, 900])
    def test_accepts(self, value: float | None) -> None:
        assert check_timeout(value) == (None if value is None else float(value))

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, 0, "5", True, [1]])
    def test_refuses_naming_the_field(self, value: object) -> None:
        with pytest.raises(RequestValidationError) as info:
            check_timeout(value)
        assert info.value.field == "timeout"


class TestPollPolicyValidation:
    @pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, "1"])
    def test_refuses_bad_numbers(self, value: Any) -> None:
        with pytest.raises(ValueError, match="min_interval"):
            PollPolicy(min_interval=value)
