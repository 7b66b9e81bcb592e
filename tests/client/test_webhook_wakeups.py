"""Waits that wake on webhook deliveries (issue 11, part 3), in-process on a FakeClock.

Deliveries are signed here with a few lines of `hmac` (api-reference §5) and handed to
the receiver's `handle()`, as a web framework would; the sandbox's own deliveries over
loopback are tested in tests/sandbox and tests/webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock, sandbox_client
from musicapi.webhooks import WebhookReceiver

if TYPE_CHECKING:
    from musicapi import AsyncMusicAPI

SECRET = "whsec_wakeups"
HOOK = "https://hooks.example/musicapi"


def _headers(event_id: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {
        "X-Webhook-Id": event_id,
        "Idempotency-Key": event_id,
        "X-Webhook-Event": "song.completed",
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature": f"sha256={digest.hexdigest()}",
    }


DELIVERY_GETS: list[str] = []
"""Task ids the delivery helper fetched (its GETs are not the client's polls)."""


async def _deliver(api: AsyncMusicAPI, receiver: WebhookReceiver, task_id: str) -> None:
    """Deliver the task's finished result to the receiver, as the platform would."""
    DELIVERY_GETS.append(task_id)
    task = await api.sonic.get(task_id)
    body = json.dumps({**task.raw, "task_id": task_id}).encode()
    status, _ = receiver.handle(body, _headers(f"evt-{task_id}", body))
    assert status == 200


async def _deliver_when_done(
    api: AsyncMusicAPI,
    receiver: WebhookReceiver,
    clock: FakeClock,
    sandbox: Sandbox,
    drop: int = 0,
) -> None:
    """Deliver each task's result the moment it ends, except the first `drop` ones."""
    delivered: set[str] = set()
    dropped = 0
    while True:
        await clock.sleep(0.01)
        for task_id, record in list(sandbox.tasks.items()):
            if task_id in delivered or record.ends > clock.now():
                continue
            delivered.add(task_id)
            if dropped < drop:
                dropped += 1
                continue
            await _deliver(api, receiver, task_id)


def _client_polls(sandbox: Sandbox) -> int:
    return sandbox.stats.requests["task"] - len(DELIVERY_GETS)


@pytest.fixture
def receiver() -> WebhookReceiver:
    DELIVERY_GETS.clear()
    return WebhookReceiver(SECRET)


async def test_a_delivery_wakes_generate_at_once(
    clock: FakeClock, receiver: WebhookReceiver
) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=60)
    async with sandbox_client(sandbox, webhooks=receiver) as api:
        async with anyio.create_task_group() as group:
            group.start_soon(_deliver_when_done, api, receiver, clock, sandbox)
            result = await api.sonic.generate(
                gpt_description_prompt="x", webhook_url=HOOK, webhook_secret=SECRET
            )
            group.cancel_scope.cancel()
    ends = sandbox.tasks[result.task_id].ends
    assert clock.now() - ends < 0.1  # woken by the delivery, not by the next poll
    assert len(result.clips) == 2
    polls = _client_polls(sandbox)
    assert polls <= 60 / 15 + 2, f"{polls} polls: the fallback polls slowly"


async def test_a_lost_delivery_falls_back_to_slow_polling(
    clock: FakeClock, receiver: WebhookReceiver
) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=60)
    async with sandbox_client(sandbox, webhooks=receiver) as api:
        async with anyio.create_task_group() as group:
            group.start_soon(_deliver_when_done, api, receiver, clock, sandbox, 1)
            result = await api.sonic.generate(
                gpt_description_prompt="x", webhook_url=HOOK, webhook_secret=SECRET
            )
            group.cancel_scope.cancel()
    ends = sandbox.tasks[result.task_id].ends
    assert 0 < clock.now() - ends <= 25 * 1.2 + 0.1
    assert _client_polls(sandbox) <= 60 / 15 + 2


async def test_deliveries_wake_every_job_of_a_batch(
    clock: FakeClock, receiver: WebhookReceiver
) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=40, task_seconds_spread=0.3)
    requests: list[dict[str, Any]] = [
        {"gpt_description_prompt": f"song {i}", "webhook_url": HOOK, "webhook_secret": SECRET}
        for i in range(40)
    ]
    late: list[float] = []
    async with sandbox_client(sandbox, webhooks=receiver) as api:
        async with anyio.create_task_group() as group:
            group.start_soon(_deliver_when_done, api, receiver, clock, sandbox)
            async for outcome in api.sonic.generate_many(requests, concurrency=40):
                assert outcome.ok and outcome.task_id is not None
                late.append(clock.now() - sandbox.tasks[outcome.task_id].ends)
            group.cancel_scope.cancel()
    assert len(late) == 40 and max(late) < 0.1
    # One confirming GET per job, plus the few slow fallback polls before the end.
    assert _client_polls(sandbox) / 40 <= 40 / 15 + 1.5


async def test_a_wait_is_woken_too_and_unknown_deliveries_are_ignored(
    clock: FakeClock, receiver: WebhookReceiver
) -> None:
    sandbox = Sandbox(clock=clock, task_seconds=30)
    async with sandbox_client(sandbox, webhooks=receiver) as api:
        task = await api.sonic.create(gpt_description_prompt="x", webhook_url=HOOK)
        body = json.dumps({"code": 200, "data": [], "task_id": "someone-else"}).encode()
        assert receiver.handle(body, _headers("evt-other", body))[0] == 200
        async with anyio.create_task_group() as group:
            group.start_soon(_deliver_when_done, api, receiver, clock, sandbox)
            result = await api.sonic.wait(task.task_id, timeout=120)
            group.cancel_scope.cancel()
    assert result.task_id == task.task_id
    assert clock.now() - sandbox.tasks[task.task_id].ends < 0.1


def test_the_sync_client_takes_a_receiver(receiver: WebhookReceiver) -> None:
    from musicapi.testing import sandbox_sync_client

    sandbox = Sandbox(clock=FakeClock(), task_seconds=30)
    with sandbox_sync_client(sandbox, webhooks=receiver) as api:
        result = api.sonic.generate(gpt_description_prompt="x", webhook_url=HOOK)
    assert len(result.clips) == 2
