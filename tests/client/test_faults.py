"""Each retry rule, against sandbox faults: in-process on a fake clock, and over loopback."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest

from musicapi import (
    APIConnectionError,
    APITimeoutError,
    AsyncMusicAPI,
    MalformedResponseError,
    MusicAPIError,
    RateLimitError,
    ServerError,
    SubmissionUnknownError,
)
from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock, sandbox_client

KEY = "sk-live-very-secret-key-0123456789"


async def test_get_retries_server_errors(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    sandbox.faults.fail_next = {"credits": 2}
    await client.get_credits()
    assert sandbox.stats.requests["credits"] == 3


async def test_get_gives_up_after_max_retries(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    sandbox.faults.fail_next = {"credits": 10}
    sandbox.faults.error_status = 503
    with pytest.raises(ServerError) as caught:
        await client.get_credits()
    assert caught.value.status_code == 503
    assert caught.value.request_id
    assert sandbox.stats.requests["credits"] == 4  # one try and max_retries=3 resends


async def test_429_honours_retry_after_seconds(
    client: AsyncMusicAPI, sandbox: Sandbox, clock: FakeClock
) -> None:
    sandbox.faults.rate_limit_next = 1
    sandbox.faults.retry_after = 7
    await client.get_credits()
    assert clock.now() >= 7.0
    assert client.pacing.rate_limited == 1


async def test_429_honours_retry_after_http_date(
    client: AsyncMusicAPI, sandbox: Sandbox, clock: FakeClock
) -> None:
    sandbox.faults.rate_limit_next = 1
    sandbox.faults.retry_after = format_datetime(
        datetime.now(timezone.utc).replace(microsecond=0), usegmt=True
    )
    await client.get_credits()
    assert clock.now() <= 60.0


async def test_429_exhausted_carries_retry_after(sandbox: Sandbox) -> None:
    sandbox.faults.rate_limit_next = 5
    sandbox.faults.retry_after = 2
    async with sandbox_client(sandbox, max_retries=1) as api:
        with pytest.raises(RateLimitError) as caught:
            await api.get_credits()
    assert caught.value.retry_after == 2.0
    assert caught.value.status_code == 429


async def test_get_retries_a_dropped_connection(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    sandbox.faults.drop_next = {"credits": 1}
    await client.get_credits()
    assert sandbox.stats.requests["credits"] == 2


@pytest.mark.parametrize("fault", ["rate_limit_next", "fail_next", "refuse_next"])
async def test_create_is_resent_only_when_the_job_was_not_taken(
    client: AsyncMusicAPI, sandbox: Sandbox, fault: str
) -> None:
    if fault == "rate_limit_next":
        sandbox.faults.rate_limit_next = 1
        sandbox.faults.retry_after = 1
    elif fault == "fail_next":
        sandbox.faults.fail_next = {"create": 1}
    else:
        sandbox.faults.refuse_next = {"create": 1}
    submission = await client.sonic.create(gpt_description_prompt="x")
    assert list(sandbox.tasks) == [submission.task_id]


@pytest.mark.parametrize("fault", ["drop_next", "drop_after_commit_next"])
async def test_create_with_a_lost_answer_is_never_resent(
    client: AsyncMusicAPI, sandbox: Sandbox, fault: str
) -> None:
    setattr(sandbox.faults, fault, {"create": 1})
    with pytest.raises(SubmissionUnknownError) as caught:
        await client.sonic.create(gpt_description_prompt="x")
    assert "not resent" in str(caught.value)
    assert sandbox.stats.creates == 1
    assert len(sandbox.tasks) == (1 if fault == "drop_after_commit_next" else 0)


@pytest.mark.parametrize("kind", ["not_json", "wrong_shape"])
@pytest.mark.parametrize("route", ["credits", "create", "task"])
async def test_malformed_bodies_raise_typed_errors(
    client: AsyncMusicAPI, sandbox: Sandbox, clock: FakeClock, kind: str, route: str
) -> None:
    submission = await client.sonic.create(gpt_description_prompt="x")
    clock.advance(10)
    sandbox.faults.malformed_next = {route: 1}
    sandbox.faults.malformed_kind = kind
    calls = {
        "credits": client.get_credits,
        "create": lambda: client.sonic.create(gpt_description_prompt="y"),
        "task": lambda: client.sonic.get(submission.task_id),
    }
    with pytest.raises(MalformedResponseError) as caught:
        await calls[route]()
    assert isinstance(caught.value, MusicAPIError)
    assert not isinstance(caught.value, (KeyError, TypeError))


async def test_wait_rides_out_transient_errors(
    client: AsyncMusicAPI, sandbox: Sandbox, clock: FakeClock
) -> None:
    submission = await client.sonic.create(gpt_description_prompt="x")
    sandbox.faults.fail_next = {"task": 6}
    result = await client.sonic.wait(submission.task_id, timeout=120)
    assert result.task_id == submission.task_id


async def test_key_never_appears_in_reprs_errors_or_debug_logs(
    caplog: pytest.LogCaptureFixture, clock: FakeClock
) -> None:
    sandbox = Sandbox(clock=clock, api_key="another-key")
    caplog.set_level(logging.DEBUG, logger="musicapi")
    async with sandbox_client(sandbox, api_key=KEY, max_retries=1) as api:
        assert KEY not in repr(api)
        with pytest.raises(MusicAPIError) as caught:
            await api.get_credits()
        sandbox.faults.fail_next = {"*": 5}
        with pytest.raises(MusicAPIError) as caught_again:
            await api.sonic.create(gpt_description_prompt="x")
        logging.getLogger("musicapi").debug("a careless message with %s", KEY)
    texts = [
        repr(caught.value),
        str(caught.value),
        repr(caught_again.value),
        str(caught_again.value),
    ]
    assert all(KEY not in text for text in texts)
    assert caplog.records, "DEBUG logging produced no records"
    assert KEY not in caplog.text
    assert "GET /get-credits -> 401" in caplog.text


# -- over loopback, with the real network and the real clock ------------------------------


async def test_loopback_generate_and_faults() -> None:
    sandbox = Sandbox(task_seconds=0.3)
    async with sandbox.serve() as base_url:
        async with AsyncMusicAPI(api_key="k", base_url=base_url) as api:
            result = await api.sonic.generate(gpt_description_prompt="x")
            assert len(result.clips) == 2
            assert result.clips[0].audio_url and result.clips[0].audio_url.startswith(
                base_url.removesuffix("/api/v1")
            )

            sandbox.faults.drop_next = {"credits": 1}
            await api.get_credits()

            sandbox.faults.drop_after_commit_next = {"create": 1}
            with pytest.raises(SubmissionUnknownError):
                await api.sonic.create(gpt_description_prompt="x")
            assert sandbox.stats.creates == 2


async def test_loopback_read_timeouts() -> None:
    sandbox = Sandbox(task_seconds=0.3)
    async with sandbox.serve() as base_url:
        async with AsyncMusicAPI(api_key="k", base_url=base_url, timeout=0.2, max_retries=1) as api:
            sandbox.faults.delay = {"credits": 1.0, "create": 1.0}
            with pytest.raises(APITimeoutError) as caught:
                await api.get_credits()
            assert isinstance(caught.value, APIConnectionError)
            assert sandbox.stats.requests["credits"] == 2
            with pytest.raises(SubmissionUnknownError):
                await api.sonic.create(gpt_description_prompt="x")
            assert sandbox.stats.creates == 1


async def test_connection_refused_is_a_connection_error() -> None:
    async with AsyncMusicAPI(
        api_key="k", base_url="http://127.0.0.1:9/api/v1", max_retries=0
    ) as api:
        with pytest.raises(APIConnectionError):
            await api.get_credits()
