from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from musicapi._retry import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    GIVE_UP,
    MAX_RETRY_AFTER,
    Decision,
    Failure,
    Idempotency,
    backoff,
    decide,
    parse_retry_after,
)

GET = Idempotency.SAFE
CREATE = Idempotency.CREATE


def _decide(idem: Idempotency, *, retries_done: int = 0, max_retries: int = 3, **kwargs: object):
    return decide(
        idem,
        retries_done=retries_done,
        max_retries=max_retries,
        rng=random.Random(7),
        **kwargs,  # type: ignore[arg-type]
    )


class TestGet:
    @pytest.mark.parametrize("failure", [Failure.NOT_SENT, Failure.NO_ANSWER])
    def test_network_failures_are_retried(self, failure: Failure) -> None:
        decision = _decide(GET, failure=failure)
        assert decision.retry
        assert not decision.submission_unknown
        assert 0.0 <= decision.delay <= BACKOFF_BASE

    @pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
    def test_429_and_5xx_are_retried(self, status: int) -> None:
        decision = _decide(GET, status_code=status)
        assert decision.retry
        assert not decision.submission_unknown

    @pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409, 410, 422])
    def test_client_errors_are_never_retried(self, status: int) -> None:
        assert _decide(GET, status_code=status) == GIVE_UP

    @pytest.mark.parametrize("max_retries", [0, 1, 3, 5])
    @pytest.mark.parametrize(
        "outcome",
        [{"status_code": 503}, {"status_code": 429}, {"failure": Failure.NO_ANSWER}],
    )
    def test_up_to_max_retries(self, max_retries: int, outcome: dict[str, object]) -> None:
        retried = [
            _decide(GET, retries_done=n, max_retries=max_retries, **outcome).retry
            for n in range(max_retries + 2)
        ]
        assert retried == [True] * max_retries + [False, False]

    def test_nothing_happened_is_not_retried(self) -> None:
        # Neither a status nor a failure: there is nothing to retry.
        assert _decide(GET) == GIVE_UP


class TestCreate:
    @pytest.mark.parametrize("status", [502, 504])
    def test_gateway_answer_is_a_submission_unknown(self, status: int) -> None:
        # A gateway answered for an origin that may have taken the job: never resend.
        decision = _decide(CREATE, status_code=status)
        assert not decision.retry and decision.submission_unknown

    @pytest.mark.parametrize("status", [429, 500, 503])
    def test_resent_when_server_answered_retryable(self, status: int) -> None:
        decision = _decide(CREATE, status_code=status)
        assert decision.retry
        assert not decision.submission_unknown

    def test_resent_when_nothing_was_sent(self) -> None:
        decision = _decide(CREATE, failure=Failure.NOT_SENT)
        assert decision.retry
        assert not decision.submission_unknown

    @pytest.mark.parametrize("retries_done", [0, 1, 3, 10])
    def test_no_answer_is_submission_unknown_never_retried(self, retries_done: int) -> None:
        decision = _decide(CREATE, failure=Failure.NO_ANSWER, retries_done=retries_done)
        assert decision == Decision(retry=False, submission_unknown=True)

    def test_no_answer_with_retry_after_still_not_retried(self) -> None:
        decision = _decide(CREATE, failure=Failure.NO_ANSWER, retry_after=1.0)
        assert not decision.retry
        assert decision.submission_unknown

    @pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 408, 422])
    def test_other_statuses_are_not_retried(self, status: int) -> None:
        # 408 means the server may have read the body: a paid create is not resent.
        assert _decide(CREATE, status_code=status) == GIVE_UP

    def test_up_to_max_retries(self) -> None:
        assert _decide(CREATE, status_code=503, retries_done=2).retry
        assert _decide(CREATE, status_code=503, retries_done=3) == GIVE_UP
        assert _decide(CREATE, failure=Failure.NOT_SENT, retries_done=3) == GIVE_UP


class TestRetryAfter:
    @pytest.mark.parametrize("idem", [GET, CREATE])
    @pytest.mark.parametrize("retry_after", [0.0, 2.5, 30.0, MAX_RETRY_AFTER])
    def test_retry_after_wins_over_backoff(self, idem: Idempotency, retry_after: float) -> None:
        decision = _decide(idem, status_code=429, retry_after=retry_after, retries_done=2)
        assert decision == Decision(retry=True, delay=retry_after)

    def test_retry_after_does_not_extend_max_retries(self) -> None:
        assert _decide(GET, status_code=429, retry_after=1.0, retries_done=3) == GIVE_UP

    def test_retry_after_does_not_make_a_4xx_retryable(self) -> None:
        assert _decide(GET, status_code=400, retry_after=1.0) == GIVE_UP


class TestBackoff:
    @pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 8, 30])
    def test_within_full_jitter_bounds(self, n: int) -> None:
        rng = random.Random(n)
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2**n)
        samples = [backoff(n, rng=rng) for _ in range(500)]
        assert all(0.0 <= s <= ceiling for s in samples)
        # Full jitter: the samples really spread over the interval.
        assert min(samples) < ceiling * 0.1
        assert max(samples) > ceiling * 0.9

    def test_seeded_rng_is_reproducible(self) -> None:
        a = [backoff(n, rng=random.Random(42)) for n in range(6)]
        b = [backoff(n, rng=random.Random(42)) for n in range(6)]
        assert a == b

    def test_custom_base_and_cap(self) -> None:
        rng = random.Random(1)
        assert all(0.0 <= backoff(3, base=0.1, cap=100.0, rng=rng) <= 0.8 for _ in range(200))
        assert all(0.0 <= backoff(20, base=1.0, cap=2.0, rng=rng) <= 2.0 for _ in range(200))

    @pytest.mark.parametrize("n", [63, 64, 1024, 10_000, 10**9])
    def test_overflow_safe(self, n: int) -> None:
        delay = backoff(n, rng=random.Random(3))
        assert math.isfinite(delay)
        assert 0.0 <= delay <= BACKOFF_CAP

    def test_decide_uses_capped_backoff_for_huge_counts(self) -> None:
        decision = decide(
            GET, retries_done=10_000, max_retries=20_000, status_code=503, rng=random.Random(0)
        )
        assert decision.retry
        assert 0.0 <= decision.delay <= BACKOFF_CAP


NOW = datetime(2024, 5, 17, 12, 0, 0, tzinfo=timezone.utc)


class TestParseRetryAfter:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [("3", 3.0), ("1.5", 1.5), ("0", 0.0), (" 7 ", 7.0), ("60", 60.0)],
    )
    def test_seconds(self, value: str, expected: float) -> None:
        assert parse_retry_after(value, now=NOW.timestamp()) == expected

    @pytest.mark.parametrize("offset", [0, 1, 5, 42])
    def test_http_date(self, offset: int) -> None:
        value = format_datetime(NOW + timedelta(seconds=offset), usegmt=True)
        assert parse_retry_after(value, now=NOW.timestamp()) == pytest.approx(offset)

    def test_http_date_in_the_past_is_zero(self) -> None:
        value = format_datetime(NOW - timedelta(seconds=30), usegmt=True)
        assert parse_retry_after(value, now=NOW.timestamp()) == 0.0

    def test_http_date_far_future_is_capped(self) -> None:
        value = format_datetime(NOW + timedelta(days=3), usegmt=True)
        assert parse_retry_after(value, now=NOW.timestamp()) == MAX_RETRY_AFTER

    @pytest.mark.parametrize(
        "value",
        ["", "   ", "soon", "3 seconds", "Someday, 99 Foo 20xx", "nan", "NaN", "0x10"],
    )
    def test_garbage_is_none(self, value: str) -> None:
        assert parse_retry_after(value, now=NOW.timestamp()) is None

    def test_absent_is_none(self) -> None:
        assert parse_retry_after(None, now=NOW.timestamp()) is None

    @pytest.mark.parametrize("value", ["-1", "-0.5", "-inf"])
    def test_negative_is_zero(self, value: str) -> None:
        assert parse_retry_after(value, now=NOW.timestamp()) == 0.0

    @pytest.mark.parametrize("value", ["61", "3600", "1e12", "1e400", "inf"])
    def test_huge_is_capped(self, value: str) -> None:
        assert parse_retry_after(value, now=NOW.timestamp()) == MAX_RETRY_AFTER
