"""Regression tests for the task engine under every fault issue 8 found.

Each test names the finding it pins. The sandbox runs in-process on a `FakeClock`
unless the finding is about real sockets (a trickling server).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

from musicapi import (
    AsyncMusicAPI,
    ClientClosedError,
    MalformedResponseError,
    Outcome,
    RequestValidationError,
    SonicCreateRequest,
    SubmissionUnknownError,
    WaitTimeoutError,
)
from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock, sandbox_client

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator


def _requests(count: int) -> list[dict[str, Any]]:
    return [{"gpt_description_prompt": f"song number {i}"} for i in range(count)]


class GatedPolls(httpx.AsyncBaseTransport):
    """Forwards to the sandbox, but holds every poll at a gate until it is opened."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.gate = anyio.Event()
        self.held = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "/sonic/task/" in request.url.path and not self.gate.is_set():
            self.held += 1
            try:
                await self.gate.wait()
            finally:
                self.held -= 1
        return await self.inner.handle_async_request(request)


class GatedCreates(GatedPolls):
    """Forwards to the sandbox, but holds every create at a gate until it is opened."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            await self.gate.wait()
        return await self.inner.handle_async_request(request)


class Scripted(httpx.AsyncBaseTransport):
    """Answers creates and polls from a script; counts what it saw."""

    def __init__(self, create: list[httpx.Response], poll: list[httpx.Response]) -> None:
        self.create, self.poll = create, poll
        self.creates = self.polls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.creates += 1
            script = self.create
        else:
            self.polls += 1
            script = self.poll
        return script.pop(0) if len(script) > 1 else script[0]


def _scripted_client(transport: httpx.AsyncBaseTransport, **kwargs: Any) -> AsyncMusicAPI:
    kwargs.setdefault("clock", FakeClock())
    return AsyncMusicAPI(
        api_key="sk-test", base_url="http://localhost/api/v1", transport=transport, **kwargs
    )


DONE = httpx.Response(
    200,
    json={
        "code": 200,
        "message": "success",
        "data": [
            {"clip_id": "c1", "state": "succeeded", "title": "a", "duration": 3},
            {"clip_id": "c2", "state": "succeeded", "title": "b", "duration": 3},
        ],
    },
)
CREATED = httpx.Response(200, json={"message": "success", "task_id": "t1"})


# -- a cancelled step never loses a job ---------------------------------------------


async def test_a_cancelled_step_puts_its_polls_back(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=3)
    gated = GatedPolls(sandbox.transport())
    async with AsyncMusicAPI(
        api_key="k", base_url=sandbox.base_url, transport=gated, clock=clock
    ) as api:
        run = api.sonic.generate_many(_requests(20), concurrency=20)
        with anyio.CancelScope() as scope:

            async def cancel_when_polls_are_held() -> None:
                while gated.held == 0:  # noqa: ASYNC110 (polling a counter the transport bumps)
                    await anyio.sleep(0.001)
                scope.cancel()

            async with anyio.create_task_group() as group:
                group.start_soon(cancel_when_polls_are_held)
                await run.__anext__()
        assert scope.cancelled_caught
        gated.gate.set()
        outcomes = [outcome async for outcome in run]
    assert sorted(outcome.index for outcome in outcomes) == list(range(20))
    assert all(outcome.ok for outcome in outcomes)
    assert sandbox.stats.creates == 20


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_asyncio_wait_for_on_a_step_loses_no_job(clock: FakeClock) -> None:
    import asyncio

    sandbox = Sandbox(clock=clock, task_seconds=3)
    gated = GatedPolls(sandbox.transport())
    async with AsyncMusicAPI(
        api_key="k", base_url=sandbox.base_url, transport=gated, clock=clock
    ) as api:
        run = api.sonic.generate_many(_requests(20), concurrency=20)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(run.__anext__(), 0.3)
        gated.gate.set()
        outcomes = [outcome async for outcome in run]
    assert sorted(outcome.index for outcome in outcomes) == list(range(20))
    assert sandbox.stats.creates == 20


# -- one bad input is one bad outcome -------------------------------------------------


async def test_unpreparable_requests_are_outcomes_and_the_batch_goes_on(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=2)
    requests: list[Any] = [
        *_requests(3),
        {"gpt_description_prompt": "lone \ud800 surrogate"},
        SonicCreateRequest(custom_mode="no", gpt_description_prompt="x"),  # type: ignore[arg-type]
        {"continue_at": float("nan"), "task_type": "extend_music", "continue_clip_id": "c"},
        42,
        *_requests(3),
    ]
    async with sandbox_client(sandbox) as api:
        outcomes = [outcome async for outcome in api.sonic.generate_many(requests)]
    assert sorted(outcome.index for outcome in outcomes) == list(range(len(requests)))
    bad = {outcome.index: outcome for outcome in outcomes if not outcome.ok}
    assert set(bad) == {3, 4, 5, 6}
    assert all(
        isinstance(o.error, RequestValidationError) and o.task_id is None for o in bad.values()
    )
    assert sandbox.stats.creates == 6


async def test_a_failing_input_iterator_is_re_raised_after_every_sent_job(
    clock: FakeClock,
) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=2)

    def requests() -> Iterator[dict[str, Any]]:
        yield from _requests(5)
        raise LookupError("the caller's source broke")

    seen: list[Outcome[Any]] = []

    async def consume(api: AsyncMusicAPI) -> None:
        async for outcome in api.sonic.generate_many(requests()):
            seen.append(outcome)  # noqa: PERF401 (the outcomes before the error must be kept)

    async with sandbox_client(sandbox) as api:
        with pytest.raises(LookupError, match="source broke"):
            await consume(api)
    assert sorted(outcome.index for outcome in seen) == list(range(5))
    assert all(outcome.ok for outcome in seen)
    assert sandbox.stats.creates == 5


# -- a create's POSTs never exceed max_retries + 1 --------------------------------------


@pytest.mark.parametrize("status", [502, 504])
async def test_a_gateway_answer_to_a_create_is_unknown_after_one_post(status: int) -> None:
    transport = Scripted([httpx.Response(status, json={"error": "bad gateway"})], [DONE])
    async with _scripted_client(transport) as api:
        with pytest.raises(SubmissionUnknownError) as info:
            await api.sonic.create(gpt_description_prompt="x")
        assert info.value.status_code == status
        outcomes = [o async for o in api.sonic.generate_many(_requests(3))]
    assert transport.creates == 1 + 3
    assert all(isinstance(o.error, SubmissionUnknownError) for o in outcomes)


@pytest.mark.parametrize("status", [429, 500, 503])
@pytest.mark.parametrize("max_retries", [0, 2, 3])
async def test_a_batch_spends_at_most_max_retries_plus_one_posts(
    status: int, max_retries: int
) -> None:
    headers = {"retry-after": "0"} if status == 429 else {}
    transport = Scripted([httpx.Response(status, json={"error": "no"}, headers=headers)], [DONE])
    async with _scripted_client(transport, max_retries=max_retries) as api:
        outcomes = [o async for o in api.sonic.generate_many(_requests(4), concurrency=4)]
    assert len(outcomes) == 4 and not any(o.ok for o in outcomes)
    assert transport.creates == 4 * (max_retries + 1)


# -- every wait ends near its deadline, whatever it waits on --------------------------


async def test_wait_is_not_held_past_its_deadline_by_a_retry_after_pause(
    clock: FakeClock,
) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=100)
    async with sandbox_client(sandbox) as api:
        task = await api.sonic.create(gpt_description_prompt="x")
        sandbox.faults.rate_limit_next = 1
        sandbox.faults.retry_after = 30
        async with anyio.create_task_group() as group:
            group.start_soon(api.get_credits)  # its 429 pauses the client for 30 s
            while api.pacing.rate_limited == 0:  # noqa: ASYNC110 (a snapshot has no event)
                await anyio.sleep(0.001)
            started = clock.now()
            with pytest.raises(WaitTimeoutError):
                await api.sonic.wait(task.task_id, timeout=1)
            assert clock.now() - started <= 1.5
            group.cancel_scope.cancel()


async def test_wait_is_not_held_past_its_deadline_by_a_busy_slot(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=100)
    async with sandbox_client(sandbox, max_in_flight=1) as api:
        task = await api.sonic.create(gpt_description_prompt="x")
        sandbox.faults.delay = {"credits": 50}
        async with anyio.create_task_group() as group:
            group.start_soon(api.get_credits)  # holds the only slot for 50 s
            await anyio.sleep(0.01)
            started = clock.now()
            with pytest.raises(WaitTimeoutError):
                await api.sonic.wait(task.task_id, timeout=1)
            assert clock.now() - started <= 1.5
            group.cancel_scope.cancel()


@pytest.fixture
async def trickling_server() -> AsyncIterator[str]:
    """A server that answers a poll's headers, then one byte of body every 0.2 s."""

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            try:
                await stream.receive(65536)
                await stream.send(
                    b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\n"
                    b"content-length: 1000\r\n\r\n"
                )
                for _ in range(1000):
                    await stream.send(b" ")
                    await anyio.sleep(0.2)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                return

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)  # noqa: S610
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, handle)
        yield f"http://127.0.0.1:{port}/api/v1"
        group.cancel_scope.cancel()


async def test_wait_is_not_held_past_its_deadline_by_a_trickling_body(
    trickling_server: str,
) -> None:
    async with AsyncMusicAPI(api_key="k", base_url=trickling_server) as api:
        started = anyio.current_time()
        with pytest.raises(WaitTimeoutError):
            await api.sonic.wait("t1", timeout=1.0)
        assert anyio.current_time() - started < 1.5


# -- numbers and types ----------------------------------------------------------------


@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), -1, "5", True])
async def test_wait_refuses_a_timeout_that_is_not_seconds(
    client: AsyncMusicAPI,
    timeout: Any,  # noqa: ASYNC109 (the value under test)
) -> None:
    with pytest.raises(RequestValidationError) as info:
        await client.sonic.wait("t1", timeout=timeout)
    assert info.value.field == "timeout"


@pytest.mark.parametrize("concurrency", [float("nan"), 0, -3, 1.5, True, "10"])
async def test_generate_many_refuses_a_concurrency_that_is_not_a_count(
    client: AsyncMusicAPI, concurrency: Any
) -> None:
    with pytest.raises(RequestValidationError) as info:
        client.sonic.generate_many(_requests(1), concurrency=concurrency)
    assert info.value.field == "concurrency"


async def test_json_bodies_refuse_nan(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    request = SonicCreateRequest(
        task_type="extend_music",
        continue_clip_id="c1",
        continue_at=float("inf"),
        custom_mode=False,
        mv="sonic-v5",
    )
    with pytest.raises(RequestValidationError):
        await client.sonic.create(request)
    assert sandbox.stats.creates == 0


# -- malformed answers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [{"task_id": None}, {"task_id": {"a": 1}}, {"task_id": ["x"]}, {"message": "success"}],
)
async def test_a_create_answer_without_a_usable_task_id_is_malformed(body: Any) -> None:
    transport = Scripted([httpx.Response(200, json=body)], [DONE])
    async with _scripted_client(transport) as api:
        with pytest.raises(MalformedResponseError):
            await api.sonic.create(gpt_description_prompt="x")


async def test_a_clip_without_an_id_is_malformed() -> None:
    body = {"code": 200, "data": [{"clip_id": None, "state": "succeeded"}]}
    transport = Scripted([CREATED], [httpx.Response(200, json=body)])
    async with _scripted_client(transport) as api:
        with pytest.raises(MalformedResponseError):
            await api.sonic.get("t1")


async def test_deeply_nested_json_is_malformed_not_a_recursion_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    transport = Scripted([httpx.Response(200, content=deep)], [httpx.Response(200, content=deep)])
    async with _scripted_client(transport) as api:
        with pytest.raises(MalformedResponseError):
            await api.sonic.create(gpt_description_prompt="x")
        with pytest.raises(MalformedResponseError):
            await api.sonic.get("t1")


async def test_one_malformed_poll_does_not_end_a_wait_or_a_batch_job() -> None:
    html = httpx.Response(200, content=b"<html>oops</html>", headers={"content-type": "text/html"})
    transport = Scripted([CREATED], [html, DONE])
    async with _scripted_client(transport) as api:
        result = await api.sonic.wait("t1", timeout=60)
        assert [clip.clip_id for clip in result.clips] == ["c1", "c2"]
    transport = Scripted([CREATED], [html, html, DONE])
    async with _scripted_client(transport) as api:
        outcomes = [o async for o in api.sonic.generate_many(_requests(1))]
    assert outcomes[0].ok


# -- a cancelled create that was answered is never invisible --------------------------


async def test_a_create_cancelled_on_the_wire_logs_its_task_id(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=2)
    sandbox.faults.delay = {"create": 5}
    caplog.set_level(logging.WARNING, logger="musicapi")
    async with sandbox_client(sandbox) as api:
        with anyio.CancelScope() as scope:

            async def cancel_soon() -> None:
                await clock.sleep(1)
                scope.cancel()

            async with anyio.create_task_group() as group:
                group.start_soon(cancel_soon)
                await api.sonic.create(gpt_description_prompt="x")
        assert scope.cancelled_caught
    (task_id,) = sandbox.tasks
    assert any(task_id in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_create_natively_cancelled_still_finishes_and_logs(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio

    sandbox = Sandbox(clock=clock, task_seconds=2)
    gated = GatedCreates(sandbox.transport())
    caplog.set_level(logging.WARNING, logger="musicapi")
    async with AsyncMusicAPI(
        api_key="k", base_url=sandbox.base_url, transport=gated, clock=clock
    ) as api:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(api.sonic.create(gpt_description_prompt="x"), 0.05)
        gated.gate.set()  # the create goes on in its own task: let it be answered
        for _ in range(200):
            if sandbox.tasks and caplog.records:
                break
            await asyncio.sleep(0.01)
    (task_id,) = sandbox.tasks
    assert any(task_id in record.getMessage() for record in caplog.records)


# -- ids, and a closed client ---------------------------------------------------------


@pytest.mark.parametrize("task_id", ["..", ".", " ", "", "x" * 100_000, "a\nb", "\ud800", 7])
async def test_unusable_task_ids_are_refused_before_sending(
    client: AsyncMusicAPI, sandbox: Sandbox, task_id: Any
) -> None:
    with pytest.raises(RequestValidationError) as info:
        await client.sonic.get(task_id)
    assert info.value.field == "task_id"
    with pytest.raises(RequestValidationError):
        await client.sonic.wait(task_id, timeout=1)
    assert sum(sandbox.stats.requests.values()) == 0


async def test_a_slash_in_a_task_id_stays_inside_the_path(client: AsyncMusicAPI) -> None:
    from musicapi import NotFoundError

    with pytest.raises(NotFoundError):
        await client.sonic.get("../../get-credits")


async def test_a_closed_async_client_says_so(sandbox: Sandbox) -> None:
    api = sandbox_client(sandbox)
    await api.aclose()
    with pytest.raises(ClientClosedError, match="closed"):
        await api.get_credits()
    with pytest.raises(ClientClosedError):
        await api.sonic.wait("t1", timeout=1)
    with pytest.raises(ClientClosedError):
        api.sonic.generate_many(_requests(1))


async def test_the_create_body_is_canonical_json(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    task = await client.sonic.create(prompt="ünïcode", title="b, a", tags="x")
    record = sandbox.tasks[task.task_id]
    assert record.payload == {
        "custom_mode": True,
        "prompt": "ünïcode",
        "mv": "sonic-v5",
        "tags": "x",
        "title": "b, a",
    }
