"""Regression tests for races a hostile review of the task engine found.

A scripted server (an httpx transport) decides when tasks end and when their webhook
deliveries arrive, down to "between reading the task's state and answering".
Deliveries are signed here with `hmac` (api-reference §5) and handed to the receiver's
`handle()`, as a web framework would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from musicapi import AsyncMusicAPI, ClientClosedError, MusicAPIError, WaitTimeoutError
from musicapi.webhooks import WebhookReceiver

if TYPE_CHECKING:
    from pathlib import Path

    from musicapi.testing import FakeClock

SECRET = "whsec_races"
HOOK = "https://hooks.example/musicapi/"
RUNNING: dict[str, Any] = {
    "code": 200,
    "data": [{"clip_id": "c1", "state": "running"}, {"clip_id": "c2", "state": "running"}],
}


def _done(task_id: str) -> dict[str, Any]:
    clips = [{"clip_id": f"{task_id}-{n}", "state": "succeeded", "duration": 3} for n in (1, 2)]
    return {"code": 200, "message": "success", "task_id": task_id, "data": clips}


def _deliver(receiver: WebhookReceiver, task_id: str) -> None:
    body = json.dumps(_done(task_id)).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    headers = {
        "X-Webhook-Id": f"evt-{task_id}-{time.monotonic_ns()}",
        "X-Webhook-Event": "song.completed",
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": f"sha256={digest.hexdigest()}",
    }
    assert receiver.handle(body, headers)[0] == 200


class Server(httpx.AsyncBaseTransport):
    """Tasks `t0`, `t1`, ... that end when the test says; counts polls per task."""

    def __init__(self) -> None:
        self.created = 0
        self.done: set[str] = set()
        self.polls: dict[str, int] = {}
        self.on_create: Any = None
        self.on_poll: Any = None
        self.is_done: Any = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            task_id = f"t{self.created}"
            self.created += 1
            if self.on_create is not None:
                await self.on_create(task_id)
            return httpx.Response(200, json={"message": "success", "task_id": task_id})
        task_id = request.url.path.rsplit("/", 1)[1]
        self.polls[task_id] = self.polls.get(task_id, 0) + 1
        done = task_id in self.done or (self.is_done is not None and self.is_done(task_id))
        answer = _done(task_id) if done else RUNNING
        if self.on_poll is not None:
            await self.on_poll(task_id)
        return httpx.Response(200, json=answer)


def _client(server: Server, clock: FakeClock, **kwargs: Any) -> AsyncMusicAPI:
    return AsyncMusicAPI(
        api_key="k", base_url="http://localhost/api/v1", transport=server, clock=clock, **kwargs
    )


async def _settle() -> None:
    for _ in range(20):
        await anyio.lowlevel.checkpoint()


async def test_a_delivery_before_the_create_answers_wakes_a_batch_job(clock: FakeClock) -> None:
    receiver, server = WebhookReceiver(SECRET), Server()

    async def finish_and_deliver(task_id: str) -> None:
        server.done.add(task_id)
        _deliver(receiver, task_id)  # the delivery beats the create's answer
        await _settle()

    server.on_create = finish_and_deliver
    async with _client(server, clock, webhooks=receiver) as api:
        requests = [{"gpt_description_prompt": "x", "webhook_url": HOOK}]
        outcomes = [o async for o in api.sonic.generate_many(requests)]
    assert outcomes[0].ok and clock.now() < 1.0  # not at the 15 s fallback poll


async def test_an_early_delivery_wakes_generate_beside_another_wait(clock: FakeClock) -> None:
    receiver, server = WebhookReceiver(SECRET), Server()

    async def finish_and_deliver(task_id: str) -> None:
        if task_id == "t1":
            server.done.add(task_id)
            _deliver(receiver, task_id)
            await _settle()

    server.on_create = finish_and_deliver
    async with _client(server, clock, webhooks=receiver) as api:
        async with anyio.create_task_group() as group:
            other = await api.sonic.create(gpt_description_prompt="other")
            group.start_soon(api.sonic.wait, other.task_id)
            await _settle()
            result = await api.sonic.generate(gpt_description_prompt="x", webhook_url=HOOK)
            group.cancel_scope.cancel()
    # Not at the 15 s fallback poll. (A delivery handed over between threads is not
    # "activity" to FakeClock's autojump, which may move time on by one of the other
    # wait's poll gaps before the router sees it.)
    assert result.task_id == "t1" and clock.now() < 5.0


async def test_a_delivery_during_a_poll_that_saw_running_is_not_lost(clock: FakeClock) -> None:
    receiver, server = WebhookReceiver(SECRET), Server()

    async def end_while_answering(task_id: str) -> None:
        if task_id not in server.done:  # the server read "running" ...
            server.done.add(task_id)  # ... then the task ended and its delivery came
            _deliver(receiver, task_id)
            await _settle()

    server.on_poll = end_while_answering
    async with _client(server, clock, webhooks=receiver) as api:
        await api.sonic.generate(gpt_description_prompt="x", webhook_url=HOOK)
        first_poll = 15 * 0.8
    assert clock.now() < first_poll + 25 * 0.8  # the second poll came at once, not 15+ s later
    assert server.polls["t0"] == 2


async def test_two_waits_on_one_task_are_both_woken(clock: FakeClock) -> None:
    receiver, server = WebhookReceiver(SECRET), Server()
    ended: dict[str, float] = {}
    async with _client(server, clock, webhooks=receiver) as api:
        task = await api.sonic.create(gpt_description_prompt="x", webhook_url=HOOK)

        async def wait(name: str) -> None:
            await api.sonic.wait(task.task_id, timeout=300)
            ended[name] = clock.now()

        async with anyio.create_task_group() as group:
            group.start_soon(wait, "a")
            group.start_soon(wait, "b")
            await clock.sleep(60.05)
            server.done.add(task.task_id)
            _deliver(receiver, task.task_id)
    assert set(ended) == {"a", "b"}
    assert max(ended.values()) - 60.05 < 0.5


async def test_closing_the_client_during_a_woken_wait_is_client_closed(clock: FakeClock) -> None:
    receiver, server = WebhookReceiver(SECRET), Server()
    api = _client(server, clock, webhooks=receiver)
    task = await api.sonic.create(gpt_description_prompt="x")

    errors: list[BaseException] = []

    async def waiting() -> None:
        try:
            await api.sonic.wait(task.task_id, timeout=300)
        except Exception as exc:
            errors.append(exc)

    async with anyio.create_task_group() as group:
        group.start_soon(waiting)
        await clock.sleep(5)
        await api.aclose()
    assert len(errors) == 1 and isinstance(errors[0], ClientClosedError)


async def test_cancelled_waits_leave_no_watch_behind(clock: FakeClock) -> None:
    receiver, server = WebhookReceiver(SECRET), Server()
    async with _client(server, clock, webhooks=receiver) as api:
        for n in range(20):
            with anyio.CancelScope() as scope:

                async def cancel_soon(scope: anyio.CancelScope = scope) -> None:
                    await clock.sleep(1)
                    scope.cancel()

                async with anyio.create_task_group() as group:
                    group.start_soon(cancel_soon)
                    await api.sonic.wait(f"w{n}", timeout=600)
        assert api._engine._router is not None
        assert api._engine._router._waiting == {}


async def test_stuck_probes_do_not_starve_the_rest(clock: FakeClock) -> None:
    server = Server()
    stuck = {"t0", "t1", "t2", "t3"}
    created: dict[str, float] = {}

    async def note(task_id: str) -> None:
        created[task_id] = clock.now()

    def ended(task_id: str) -> bool:
        return task_id not in stuck and clock.now() - created[task_id] >= 10

    server.on_create, server.is_done = note, ended
    async with _client(server, clock) as api:
        requests = [{"gpt_description_prompt": f"s{n}"} for n in range(20)]
        outcomes = [o async for o in api.sonic.generate_many(requests, timeout=60)]
    timed_out = {o.task_id for o in outcomes if isinstance(o.error, WaitTimeoutError)}
    assert timed_out <= stuck
    assert sum(o.ok for o in outcomes) == 16
    assert all(server.polls.get(task_id, 0) >= 1 for task_id in created)


async def test_a_user_hook_that_raises_ends_one_job_not_the_batch(
    clock: FakeClock,
) -> None:
    server = Server()
    server.done.update({"t0", "t1"})
    calls = [0]

    async def flaky(response: httpx.Response) -> None:
        if response.request.method == "GET":
            calls[0] += 1
            if calls[0] == 1:
                raise ValueError("flaky user hook")

    http = httpx.AsyncClient(transport=server, event_hooks={"response": [flaky]})
    async with (
        http,
        AsyncMusicAPI(
            api_key="k", base_url="http://localhost/api/v1", http_client=http, clock=clock
        ) as api,
    ):
        requests = [{"gpt_description_prompt": f"s{n}"} for n in range(2)]
        outcomes = [o async for o in api.sonic.generate_many(requests)]
    assert sorted(o.ok for o in outcomes) == [False, True]
    (failed,) = [o for o in outcomes if not o.ok]
    assert isinstance(failed.error, MusicAPIError) and "ValueError" in str(failed.error)
    assert isinstance(failed.error.__cause__, ValueError)


async def test_closing_a_batch_during_a_step_journals_the_creates_on_the_wire(
    clock: FakeClock, tmp_path: Path
) -> None:
    server = Server()
    gate = anyio.Event()
    on_the_wire = [0]

    async def hold(task_id: str) -> None:
        on_the_wire[0] += 1
        await gate.wait()

    server.on_create = hold
    journal = tmp_path / "batch.jsonl"
    async with _client(server, clock) as api:
        run = api.sonic.generate_many(
            [{"gpt_description_prompt": f"s{n}"} for n in range(3)], journal=journal
        )

        async def step() -> None:
            try:
                await run.__anext__()
            except StopAsyncIteration:
                pass

        async with anyio.create_task_group() as group:
            group.start_soon(step)
            while on_the_wire[0] < 3:  # noqa: ASYNC110 (waiting for the creates to be held)
                await anyio.sleep(0.001)
            await run.aclose()
            gate.set()
    events = [json.loads(line)["event"] for line in journal.read_text().splitlines()]
    assert events.count("submitted") == 3


async def test_a_long_retry_after_ends_a_wait_at_its_deadline_not_before(
    clock: FakeClock,
) -> None:
    server = Server()
    limited = [True]

    class Limited(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "GET" and limited[0]:
                return httpx.Response(429, json={"error": "slow"}, headers={"retry-after": "30"})
            return await server.handle_async_request(request)

    async with AsyncMusicAPI(
        api_key="k", base_url="http://localhost/api/v1", transport=Limited(), clock=clock
    ) as api:
        with pytest.raises(WaitTimeoutError):
            await api.sonic.wait("t0", timeout=10)
    assert clock.now() >= 10 - 0.01
