"""Static checks of the public API's types; never executed.

Run with `mypy --strict tests/typing` and `pyright tests/typing`. Each sync method of
`MusicAPI` must have the async method's parameters and return type, minus the `await`.
"""

from __future__ import annotations

from typing_extensions import assert_type

import musicapi
from musicapi import (
    AsyncBatchRun,
    AsyncMusicAPI,
    BatchRun,
    Credits,
    GenerationResult,
    MusicAPI,
    Outcome,
    PacingSnapshot,
    Task,
    TaskSubmission,
)


def sync_client() -> None:
    client = MusicAPI(api_key="k", base_url="http://localhost:8000/api/v1")
    assert_type(client.sonic.generate(gpt_description_prompt="x"), GenerationResult)
    assert_type(client.sonic.generate(gpt_description_prompt="x", timeout=30.0), GenerationResult)
    assert_type(client.sonic.create(gpt_description_prompt="x"), TaskSubmission)
    assert_type(
        client.sonic.create(custom_mode=True, mv="sonic-v5", prompt="la", title="t"),
        TaskSubmission,
    )
    assert_type(client.sonic.get("id"), Task)
    assert_type(client.sonic.wait("id", timeout=1.0), GenerationResult)
    assert_type(client.sonic.wait("id", timeout=None), GenerationResult)
    assert_type(client.get_credits(), Credits)
    assert_type(client.get_credits().credits, int | float)
    assert_type(client.base_url, str)
    assert_type(client.pacing, PacingSnapshot)
    assert_type(client.pacing.max_in_flight, int)
    client.close()
    with MusicAPI() as same:
        assert_type(same, MusicAPI)


async def async_client() -> None:
    client = AsyncMusicAPI(api_key="k", base_url="http://localhost:8000/api/v1")
    assert_type(await client.sonic.generate(gpt_description_prompt="x"), GenerationResult)
    assert_type(await client.sonic.create(gpt_description_prompt="x"), TaskSubmission)
    assert_type(await client.sonic.get("id"), Task)
    assert_type(await client.sonic.wait("id", timeout=1.0), GenerationResult)
    assert_type(await client.get_credits(), Credits)
    assert_type(client.base_url, str)
    assert_type(client.pacing, PacingSnapshot)
    await client.aclose()
    async with AsyncMusicAPI() as same:
        assert_type(same, AsyncMusicAPI)


def sync_results_match_async() -> None:
    client = MusicAPI()
    result = client.sonic.generate(gpt_description_prompt="x")
    assert_type(result.task_id, str)
    for clip in result.clips:
        assert_type(clip.clip_id, str)
        assert_type(clip.duration, "float | None")
    task = client.sonic.get(result.task_id)
    assert_type(task.state, str)
    assert_type(task.reason, "str | None")


def errors() -> None:
    try:
        MusicAPI().sonic.wait("id", timeout=1.0)
    except musicapi.RateLimitError as exc:
        assert_type(exc.retry_after, "float | None")
    except musicapi.TaskFailedError as exc:
        assert_type(exc.task_id, str)
        assert_type(exc.reason, str)
    except musicapi.WaitTimeoutError as exc:
        assert_type(exc.task_id, str)


def wrong_calls_are_rejected() -> None:
    client = MusicAPI()
    client.sonic.get(123)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    client.sonic.wait("id", timeout="soon")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    client.sonic.wait("id", 1.0)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


def wrong_uses_are_rejected() -> None:
    client = MusicAPI()
    client.base_url = "x"  # type: ignore[assignment]  # pyright: ignore[reportAttributeAccessIssue]
    client.pacing.rate = 1.0  # type: ignore[misc]  # pyright: ignore[reportAttributeAccessIssue]
    client.get_credits(1)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]


def sync_batch() -> None:
    client = MusicAPI()
    run = client.sonic.generate_many([{"gpt_description_prompt": "x"}], concurrency=4)
    assert_type(run, BatchRun[GenerationResult])
    for outcome in run:
        assert_type(outcome, Outcome[GenerationResult])
        assert_type(outcome.ok, bool)
    with client.sonic.generate_many([{"gpt_description_prompt": "x"}]) as same:
        assert_type(same, BatchRun[GenerationResult])
        for outcome in same:
            assert_type(outcome, Outcome[GenerationResult])
            if outcome.result is not None:
                assert_type(outcome.result, GenerationResult)
    assert_type(next(run), Outcome[GenerationResult])
    run.close()


async def async_batch() -> None:
    client = AsyncMusicAPI()
    run = client.sonic.generate_many([{"gpt_description_prompt": "x"}])
    assert_type(run, AsyncBatchRun[GenerationResult])
    async for outcome in run:
        assert_type(outcome, Outcome[GenerationResult])
    async with client.sonic.generate_many([{"gpt_description_prompt": "x"}]) as same:
        async for outcome in same:
            assert_type(outcome, Outcome[GenerationResult])
