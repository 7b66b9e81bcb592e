"""The new API surface against a hostile user and a hostile server.

Each test pins a break found by attacking the methods of every family: an input that
escaped as a bare Python error, a charged job whose log pointed at the wrong family
or lost its task ids, an API key a server echoed back into an exception. Async tests
run on both anyio backends (see `conftest.py`).
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING

import anyio
import httpx
import pytest

from musicapi import AsyncMusicAPI, MusicAPIError, RequestValidationError
from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock, sandbox_client

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

HUGE = 10**400
"""An integer no float can hold: `math.isfinite` and `float()` raise OverflowError on it."""

KEY = "sk-live-0123456789abcdef"

CREATE = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "a calm song"}
PRODUCER = {"task_type": "create_music", "sound": "lofi beat"}


def _sonic_waits(api: AsyncMusicAPI) -> dict[str, Callable[[], Awaitable[object]]]:
    return {
        "sonic.wait": lambda: api.sonic.wait("t", timeout=HUGE),
        "sonic.midi": lambda: api.sonic.midi("c", timeout=HUGE),
        "sonic.generate": lambda: api.sonic.generate(**CREATE, timeout=HUGE),
        "suno.wait_lyrics": lambda: api.suno.wait_lyrics("t", timeout=HUGE),
        "producer.wait": lambda: api.producer.wait("t", timeout=HUGE),
        "studio.wait": lambda: api.studio.wait("t", timeout=HUGE),
    }


async def test_a_timeout_too_large_for_a_float_is_refused_by_name(
    client: AsyncMusicAPI, sandbox: Sandbox
) -> None:
    for name, call in _sonic_waits(client).items():
        with pytest.raises(RequestValidationError, match="too large") as caught:
            await call()
        assert caught.value.field == "timeout", name
    assert sandbox.stats.creates == 0


async def test_a_concurrency_too_large_for_a_float_is_capped(client: AsyncMusicAPI) -> None:
    outcomes = [
        outcome
        async for outcome in client.producer.generate_many(
            [PRODUCER, PRODUCER], concurrency=HUGE, timeout=60
        )
    ]
    assert [outcome.ok for outcome in outcomes] == [True, True]


@pytest.mark.parametrize("requests", ["abc", b"abc", CREATE], ids=["str", "bytes", "mapping"])
async def test_one_request_is_not_taken_for_a_batch_of_its_characters_or_keys(
    client: AsyncMusicAPI, sandbox: Sandbox, requests: object
) -> None:
    for family in (client.sonic, client.suno, client.producer):
        with pytest.raises(RequestValidationError, match="single") as caught:
            family.generate_many(requests)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
        assert caught.value.field == "requests"
    assert sandbox.stats.creates == 0


async def _cancel_while_in_flight(clock: FakeClock, call: Callable[[], Awaitable[object]]) -> None:
    """Cancel `call` one clock second in, while the sandbox holds its answer back."""
    with anyio.CancelScope() as scope:

        async def cancel_soon() -> None:
            await clock.sleep(1.0)
            scope.cancel()

        async with anyio.create_task_group() as group:
            group.start_soon(cancel_soon)
            await call()
    assert scope.cancelled_caught


@pytest.mark.parametrize(
    ("route", "waiter"),
    [
        ("producer/create", "producer.wait"),
        ("suno/make-lyrics", "suno.wait_lyrics"),
        ("sonic/stems/basic", "sonic.wait"),
    ],
)
async def test_a_job_created_for_a_cancelled_caller_is_logged_with_its_family_wait(
    client: AsyncMusicAPI,
    sandbox: Sandbox,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    route: str,
    waiter: str,
) -> None:
    caplog.set_level(logging.WARNING, logger="musicapi")
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "producer/create": lambda: client.producer.create(**PRODUCER),
        "suno/make-lyrics": lambda: client.suno.make_lyrics("a drive at night"),
    }
    if route == "sonic/stems/basic":
        song = await client.sonic.generate(**CREATE)
        clip_id = song.clips[0].clip_id
        calls[route] = lambda: client.sonic.stems_basic(clip_id)
    sandbox.faults.delay = {route: 5.0}
    await _cancel_while_in_flight(clock, calls[route])
    messages = [record.getMessage() for record in caplog.records]
    assert any(f"wait for it with {waiter}(" in message for message in messages), messages


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_batch_cancelled_natively_on_asyncio_logs_every_task_it_started(
    client: AsyncMusicAPI,
    sandbox: Sandbox,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import asyncio

    caplog.set_level(logging.WARNING, logger="musicapi")
    sandbox.faults.delay = {"sonic/batch": 5.0}
    task = asyncio.ensure_future(client.sonic.batch([CREATE, CREATE]))
    await clock.sleep(1.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await clock.sleep(10.0)  # the shielded POST finishes and its callback logs
    for _ in range(5):
        await asyncio.sleep(0)
    started = list(sandbox.tasks)
    assert len(started) == 2
    text = "\n".join(record.getMessage() for record in caplog.records)
    for task_id in started:
        assert task_id in text
    assert "None" not in text


def _echoing_client(status: int, body: bytes) -> AsyncMusicAPI:
    """A client whose server answers every request with `body`, echoing the key."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    return AsyncMusicAPI(
        api_key=KEY,
        base_url="https://api.example/api/v1",
        transport=httpx.MockTransport(handler),
        clock=FakeClock(),
        max_retries=0,
    )


@pytest.mark.parametrize("status", [200, 400, 401, 404, 500, 502])
@pytest.mark.parametrize(
    "body",
    [
        b'{"error": "invalid key ' + KEY.encode() + b'"}',
        b"<html>bad key " + KEY.encode() + b"</html>",
    ],
    ids=["json", "html"],
)
async def test_a_key_the_server_echoes_never_reaches_an_exception(status: int, body: bytes) -> None:
    async with _echoing_client(status, body) as api:
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: api.sonic.bpm("c"),
            lambda: api.sonic.wav("c"),
            lambda: api.suno.make_lyrics("x"),
            lambda: api.suno.get_lyrics("t"),
            lambda: api.studio.get("t"),
            lambda: api.get_credits(),
        ]
        for call in calls:
            try:
                result = await call()
            except MusicAPIError as exc:
                seen = f"{exc} {exc!r} {exc.body!r}"
            else:
                seen = repr(result)
            assert KEY not in seen


async def test_a_key_the_server_echoes_is_masked_in_a_result_too() -> None:
    body = b'{"task_id": "t", "status": "failed", "error": "bad key ' + KEY.encode() + b'"}'
    async with _echoing_client(200, body) as api:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            task = await api.nuro.get("t")
    assert task.error is not None and "***" in task.error
    assert KEY not in repr(task) and KEY not in repr(dict(task.raw))


async def test_a_short_test_key_does_not_rewrite_the_answers() -> None:
    sandbox = Sandbox(clock=FakeClock(), task_seconds=3.0)
    async with sandbox_client(sandbox, api_key="k") as api:
        submission = await api.sonic.create(**CREATE)
        result = await api.sonic.wait(submission, timeout=60)
    assert result.task_id == submission.task_id
    assert len(result.clips) == 2
