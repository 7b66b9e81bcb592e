"""`generate_many` at scale: one outcome per request, no duplicate create, resumable journal."""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from musicapi import (
    Outcome,
    RequestValidationError,
    SonicCreateRequest,
    SubmissionUnknownError,
    TaskFailedError,
    WaitTimeoutError,
)
from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock, sandbox_client

if TYPE_CHECKING:
    from pathlib import Path


def _requests(count: int) -> list[dict[str, Any]]:
    return [{"gpt_description_prompt": f"song number {i}"} for i in range(count)]


async def _collect(sandbox: Sandbox, requests: list[Any], **kwargs: Any) -> list[Outcome]:
    async with sandbox_client(sandbox) as api:
        return [outcome async for outcome in api.sonic.generate_many(requests, **kwargs)]


async def test_every_request_yields_one_outcome_despite_faults(clock: FakeClock) -> None:
    sandbox = Sandbox(
        clock=clock,
        task_seconds=30,
        task_seconds_spread=0.3,
        fail_rate=0.05,
        credits=10**6,
        rate_limit=300,
    )
    sandbox.faults.error_rate = {"task": 0.03, "create": 0.02}
    sandbox.faults.drop_next = {"task": 20}
    sandbox.faults.rate_limit_next = 10
    sandbox.faults.retry_after = 1
    count = 2000
    outcomes = await _collect(sandbox, _requests(count), concurrency=500)
    assert sorted(outcome.index for outcome in outcomes) == list(range(count))
    task_ids = [outcome.task_id for outcome in outcomes if outcome.task_id]
    assert len(task_ids) == len(set(task_ids)) == len(sandbox.tasks) == count
    failures = [outcome for outcome in outcomes if not outcome.ok]
    assert failures and all(isinstance(outcome.error, TaskFailedError) for outcome in failures)
    assert all(
        outcome.result and len(outcome.result.clips) == 2 for outcome in outcomes if outcome.ok
    )
    polls = sandbox.stats.requests["task"]  # retried polls after injected faults included
    assert polls / count < 4, f"{polls / count:.2f} polls per job"


@pytest.mark.parametrize(("spread", "most_polls_per_job"), [(0.0, 2.0), (0.3, 3.5)])
async def test_the_batch_learns_when_to_poll(
    clock: FakeClock, spread: float, most_polls_per_job: float
) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=30, task_seconds_spread=spread, credits=10**6)
    count = 1000
    outcomes = await _collect(sandbox, _requests(count), concurrency=500)
    assert all(outcome.ok for outcome in outcomes)
    polls_per_job = sandbox.stats.requests["task"] / count
    assert polls_per_job <= most_polls_per_job, f"{polls_per_job:.2f} polls per job"


async def test_no_create_is_resent_once_it_was_sent(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=5, credits=10**6)
    sandbox.faults.drop_after_commit_next = {"create": 7}
    sandbox.faults.drop_next = {"create": 5}
    outcomes = await _collect(sandbox, _requests(300), concurrency=100)
    unknown = [outcome for outcome in outcomes if isinstance(outcome.error, SubmissionUnknownError)]
    assert len(unknown) == 12
    assert all(outcome.task_id is None for outcome in unknown)
    assert sandbox.stats.creates == 300  # one POST per request, never a second
    assert len(outcomes) == 300


async def test_invalid_requests_and_typed_requests(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock)
    requests: list[Any] = [
        SonicCreateRequest(gpt_description_prompt="typed"),
        {"gpt_description_prompt": "x" * 500},
        {"not_a_field": 1},
        42,
        {"gpt_description_prompt": "fine"},
    ]
    outcomes = {outcome.index: outcome for outcome in await _collect(sandbox, requests)}
    assert outcomes[0].ok and outcomes[4].ok
    for index in (1, 2, 3):
        assert isinstance(outcomes[index].error, RequestValidationError)
        assert outcomes[index].task_id is None
        assert outcomes[index].request is requests[index]


async def test_job_timeout_reports_the_task_id(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=100)
    outcomes = await _collect(sandbox, _requests(5), timeout=10)
    assert all(isinstance(outcome.error, WaitTimeoutError) for outcome in outcomes)
    assert all(outcome.task_id in sandbox.tasks for outcome in outcomes)


async def test_concurrency_caps_jobs_in_flight(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=10, max_concurrent_jobs=20)
    outcomes = await _collect(sandbox, _requests(100), concurrency=20)
    assert all(outcome.ok for outcome in outcomes)
    assert sandbox.stats.rate_limited == 0


async def test_server_concurrent_job_limit_is_ridden_out(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=10, max_concurrent_jobs=20)
    outcomes = await _collect(sandbox, _requests(100), concurrency=100)
    assert all(outcome.ok for outcome in outcomes)
    assert sandbox.stats.rate_limited > 0


async def test_cancelling_the_consumer_stops_submissions(clock: FakeClock, tmp_path: Path) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=5)
    journal = tmp_path / "batch.jsonl"
    seen: list[Outcome] = []
    async with sandbox_client(sandbox) as api:
        with anyio.move_on_after(5):  # real seconds: a guard, the break below ends it
            async with api.sonic.generate_many(
                _requests(200), concurrency=10, journal=journal
            ) as run:
                async for outcome in run:
                    seen.append(outcome)
                    if len(seen) == 15:
                        break
        creates_at_stop = sandbox.stats.creates
        clock.advance(60)
        assert sandbox.stats.creates == creates_at_stop <= 15 + 10
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    submitted = {line["key"] for line in lines if line["event"] == "submitted"}
    assert len(submitted) == creates_at_stop


@pytest.mark.parametrize("seed", range(6))
async def test_journal_resumes_after_a_crash_at_a_random_point(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    clock = FakeClock()
    sandbox = Sandbox(
        clock=clock,
        task_seconds=20,
        task_seconds_spread=0.3,
        fail_rate=0.1,
        credits=10**6,
        seed=seed,
    )
    journal = tmp_path / "batch.jsonl"
    requests = _requests(150) + _requests(10)  # ten exact duplicates: still ten separate jobs
    crash_after = rng.randrange(1, 120)
    first: list[Outcome] = []
    async with sandbox_client(sandbox) as api:
        async with api.sonic.generate_many(requests, concurrency=40, journal=journal) as run:
            async for outcome in run:
                first.append(outcome)
                if len(first) == crash_after:
                    break  # the process "dies" here
    if rng.random() < 0.5:  # and sometimes it died in the middle of writing a line
        with journal.open("a") as file:
            file.write('{"v":1,"key":"torn')
    creates_before = sandbox.stats.creates
    tasks_before = set(sandbox.tasks)
    second = await _collect(sandbox, requests, concurrency=40, journal=journal)

    assert sorted(outcome.index for outcome in second) == list(range(len(requests)))
    finished_first = {outcome.index for outcome in first if outcome.task_id}
    for outcome in second:
        if outcome.index in finished_first:
            assert outcome.from_journal
    new_creates = sandbox.stats.creates - creates_before
    assert new_creates == len(requests) - len(
        tasks_before
    )  # nothing with a task id was resubmitted
    resumed_ids = {outcome.task_id for outcome in second if outcome.task_id}
    assert tasks_before <= resumed_ids
    assert len(resumed_ids) == len(requests)
    third = await _collect(sandbox, requests, concurrency=40, journal=journal)
    assert all(outcome.from_journal for outcome in third)
    assert sandbox.stats.creates == creates_before + new_creates


async def test_unknown_submissions_are_not_resubmitted_unless_asked(
    clock: FakeClock, tmp_path: Path
) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=2)
    journal = tmp_path / "batch.jsonl"
    sandbox.faults.drop_after_commit_next = {"create": 2}
    first = await _collect(sandbox, _requests(10), journal=journal)
    assert sum(isinstance(outcome.error, SubmissionUnknownError) for outcome in first) == 2
    second = await _collect(sandbox, _requests(10), journal=journal)
    assert sum(isinstance(outcome.error, SubmissionUnknownError) for outcome in second) == 2
    assert sandbox.stats.creates == 10
    third = await _collect(sandbox, _requests(10), journal=journal, resubmit_unknown=True)
    assert all(outcome.ok for outcome in third)
    assert sandbox.stats.creates == 12


async def test_long_tasks_end_near_their_bound(clock: FakeClock) -> None:
    # Issue 9: the first learned estimate comes from a probe's coarse last poll; first
    # polls queued before it was refined must follow the estimate as it moves.
    sandbox = Sandbox(clock=clock, task_seconds=30, credits=10**6)
    outcomes = await _collect(sandbox, _requests(300), concurrency=300)
    assert all(outcome.ok for outcome in outcomes)
    assert clock.now() <= 30 * 1.15, f"{clock.now():.1f} s for 30 s tasks"
    polls_per_job = sandbox.stats.requests["task"] / 300
    assert polls_per_job <= 1.3, f"{polls_per_job:.2f} polls per job"


async def test_resumed_jobs_are_polled_from_their_real_age(
    clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 8: resumed jobs taught the estimator a tiny task time, costing ~2.4 polls each.
    import musicapi._batch
    import musicapi._journal

    wall = [1_000_000.0]
    monkeypatch.setattr(musicapi._journal.time, "time", lambda: wall[0])
    monkeypatch.setattr(musicapi._batch.time, "time", lambda: wall[0])
    sandbox = Sandbox(clock=clock, task_seconds=20, credits=10**6)
    journal = tmp_path / "batch.jsonl"
    async with sandbox_client(sandbox) as api:
        async with api.sonic.generate_many(_requests(100), concurrency=100, journal=journal) as run:
            async for _ in run:
                break  # "crash" once every job is submitted and the first is done
    clock.advance(5)
    wall[0] += 25
    polls_before = sandbox.stats.requests["task"]
    second = await _collect(sandbox, _requests(100), concurrency=100, journal=journal)
    assert len(second) == 100 and all(outcome.ok for outcome in second)
    assert sandbox.stats.creates == 100
    resumed_polls = sandbox.stats.requests["task"] - polls_before
    assert resumed_polls <= 100 * 1.1, f"{resumed_polls / 100:.2f} polls per resumed job"


def test_a_probe_polled_on_its_rung_gets_a_later_rung() -> None:
    # A probe polled exactly at its rung saw `now - submitted_at` round just below it
    # and was given the same rung again: a poll loop at one instant of virtual time.
    from musicapi._engine import Job, Scheduler
    from musicapi._wait import PollPolicy

    class _Bare:
        _policy = PollPolicy()

    for slot in range(4):
        job = Job(index=0, request=None, probe_slot=slot)
        elapsed = 0.0
        for _ in range(60):
            rung = Scheduler._probe_poll_after(_Bare(), job, elapsed)  # type: ignore[arg-type]
            assert rung > elapsed
            elapsed = rung - 1e-12  # the clock reads the rung a hair early


async def test_a_batch_with_early_429s_stays_near_its_bound(clock: FakeClock) -> None:
    # Issue 8: 30 early 429s made a 2,000-job batch take 45 s instead of 14 s.
    sandbox = Sandbox(clock=clock, task_seconds=2, rate_limit=250, credits=10**6)
    sandbox.faults.rate_limit_next = 30
    sandbox.faults.retry_after = 0.5
    count = 2000
    async with sandbox_client(sandbox) as api:
        outcomes = [o async for o in api.sonic.generate_many(_requests(count), concurrency=count)]
        assert api.pacing.rate is not None and api.pacing.rate >= 50
    assert len(outcomes) == count and all(outcome.ok for outcome in outcomes)
    bound = max(2.0, 2 * count / 250)
    assert clock.now() <= 1.3 * bound, f"{clock.now():.1f} s against a bound of {bound:.0f} s"
