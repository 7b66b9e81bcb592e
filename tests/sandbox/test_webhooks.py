"""Signed webhook deliveries (api-reference §5)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from musicapi.sandbox import Sandbox
    from musicapi.testing import FakeClock


def _expected_signature(secret: str, request: httpx.Request) -> str:
    message = request.headers["x-webhook-timestamp"].encode() + b"." + request.content
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _receiver(
    received: list[httpx.Request], statuses: list[int] | None = None
) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(statuses.pop(0) if statuses else 204)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


async def test_success_is_delivered_once_signed_with_the_given_secret(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    body = {**description_body, "webhook_url": "https://hooks.test/in", "webhook_secret": "s3"}
    task_id = (await client.post("/sonic/create", json=body)).json()["task_id"]
    received: list[httpx.Request] = []
    async with _receiver(received) as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 0  # not finished yet
        clock.advance(3)
        assert await sandbox.deliver_due_webhooks(receiver) == 1
        assert await sandbox.deliver_due_webhooks(receiver) == 0
    (request,) = received
    assert str(request.url) == "https://hooks.test/in"
    headers = request.headers
    assert headers["x-webhook-event"] == "song.completed"
    assert headers["x-webhook-id"] == headers["idempotency-key"]
    assert abs(int(headers["x-webhook-timestamp"]) - (time.time() + 3)) < 5  # clock time + 3 s
    assert headers["x-webhook-signature"] == _expected_signature("s3", request)
    payload = json.loads(request.content)
    assert payload["task_id"] == task_id
    assert payload["code"] == 200
    assert len(payload["data"]) == 2


async def test_failure_uses_the_account_secret(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    sandbox.faults.fail_next_tasks = 1
    body = {**description_body, "webhook_url": "https://hooks.test/in"}
    task_id = (await client.post("/sonic/create", json=body)).json()["task_id"]
    clock.advance(3)
    received: list[httpx.Request] = []
    async with _receiver(received) as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    (request,) = received
    assert request.headers["x-webhook-event"] == "song.failed"
    assert request.headers["x-webhook-signature"] == _expected_signature(
        sandbox.webhook_secret, request
    )
    assert json.loads(request.content) == {
        "type": "failed",
        "error": "generation failed upstream",
        "task_id": task_id,
    }


async def test_a_refused_delivery_is_retried_with_the_same_id(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    body = {**description_body, "webhook_url": "https://hooks.test/in"}
    await client.post("/sonic/create", json=body)
    clock.advance(3)
    received: list[httpx.Request] = []
    async with _receiver(received, statuses=[500]) as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 0
        assert await sandbox.deliver_due_webhooks(receiver) == 0  # backing off
        clock.advance(2)
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    first, second = received
    assert first.headers["x-webhook-id"] == second.headers["x-webhook-id"]


async def test_tasks_without_webhook_url_send_nothing(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    await client.post("/sonic/create", json=description_body)
    clock.advance(3)
    received: list[httpx.Request] = []
    async with _receiver(received) as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 0
    assert received == []


async def test_an_unusable_webhook_url_is_refused_at_create_time(
    client: httpx.AsyncClient, sandbox: Sandbox, description_body: dict[str, object]
) -> None:
    response = await client.post(
        "/sonic/create", json={**description_body, "webhook_url": "http://[::1"}
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("webhook_url: ")
    assert sandbox.tasks == {}


async def test_webhook_bodies_carry_duration_as_a_string_as_the_vendor_example_does(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    body = {**description_body, "webhook_url": "https://hooks.test/in"}
    task_id = (await client.post("/sonic/create", json=body)).json()["task_id"]
    clock.advance(3)
    received: list[httpx.Request] = []
    async with _receiver(received) as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    delivered = json.loads(received[0].content)["data"]
    polled = (await client.get(f"/sonic/task/{task_id}")).json()["data"]
    for sent, answered in zip(delivered, polled, strict=True):
        assert isinstance(sent["duration"], str)  # "2.72", as in the webhook guide (§2.4)
        assert isinstance(answered["duration"], float)  # the documented number (§2.3)
        assert float(sent["duration"]) == answered["duration"]
        assert {**sent, "duration": answered["duration"]} == answered
    assert (sandbox.stats.webhooks_delivered, sandbox.stats.webhooks_failed) == (1, 0)
