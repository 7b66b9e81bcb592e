"""Signed webhook deliveries (api-reference §5), in-process: what is sent, when, and the knobs.

Receivers here are `httpx.MockTransport` handlers or ASGI apps behind
`httpx.ASGITransport`; the loopback tests are in `test_webhooks_loopback.py`. The
expected signature is computed here with `hmac` directly, from the headers and the
raw bytes received: not with the sandbox's signer, and not with the SDK's verifier.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from musicapi.sandbox import Faults, Sandbox

if TYPE_CHECKING:
    from collections.abc import Iterable

    from musicapi.sandbox._http import Receive, Scope, Send
    from musicapi.testing import FakeClock

HOOK = "https://hooks.test/in"

# The first attempt at an event that keeps failing is at 0 s; its retries wait 1, 2, 4,
# ... up to 60 s, and none starts more than 600 s after the first: 15 attempts in all.
SCHEDULE = [0, 1, 3, 7, 15, 31, 63, 123, 183, 243, 303, 363, 423, 483, 543]


def _expected_signature(secret: str, request: httpx.Request) -> str:
    message = request.headers["x-webhook-timestamp"].encode() + b"." + request.content
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class Hook:
    """A webhook receiver on an `httpx.MockTransport`.

    It records every request and answers the scripted statuses, then 204. With a
    `secret`, a request whose signature does not match is answered 401 (and spends no
    scripted status), as a verifying receiver does.
    """

    def __init__(self, statuses: Iterable[int] = (), *, secret: str | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.statuses = list(statuses)
        self.secret = secret

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.secret is not None:
            if request.headers["x-webhook-signature"] != _expected_signature(self.secret, request):
                return httpx.Response(401)
        return httpx.Response(self.statuses.pop(0) if self.statuses else 204)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

    def events(self) -> list[tuple[str, str]]:
        """Return (task id, phase) of every request received, in order."""
        return [_event(request) for request in self.requests]


def _event(request: httpx.Request) -> tuple[str, str]:
    payload = json.loads(request.content)
    if "type" in payload:
        return payload["task_id"], "failed"
    (state,) = {clip["state"] for clip in payload["data"]}
    return payload["task_id"], state


async def _create(client: httpx.AsyncClient, body: dict[str, object], **extra: object) -> str:
    response = await client.post("/sonic/create", json={**body, "webhook_url": HOOK, **extra})
    assert response.status_code == 200, response.text
    task_id: str = response.json()["task_id"]
    return task_id


def _webhook_stats(sandbox: Sandbox) -> dict[str, int]:
    return {k: v for k, v in sandbox.stats.as_dict().items() if k.startswith("webhooks_")}


def _stats(
    delivered: int = 0, failed: int = 0, retried: int = 0, dropped: int = 0, given_up: int = 0
) -> dict[str, int]:
    return {
        "webhooks_delivered": delivered,
        "webhooks_failed": failed,
        "webhooks_retried": retried,
        "webhooks_dropped": dropped,
        "webhooks_given_up": given_up,
    }


# -- what is sent ---------------------------------------------------------------------


async def test_success_is_delivered_once_signed_with_the_given_secret(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    task_id = await _create(client, description_body, webhook_secret="s3")
    hook = Hook()
    async with hook.client() as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 0  # not finished yet
        clock.advance(3)  # past the streaming window in one jump: straight to succeeded
        assert await sandbox.deliver_due_webhooks(receiver) == 1
        assert await sandbox.deliver_due_webhooks(receiver) == 0
    (request,) = hook.requests
    assert request.method == "POST"
    assert str(request.url) == HOOK
    headers = request.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-webhook-event"] == "song.completed"
    assert headers["x-webhook-id"].startswith("evt_")
    assert headers["x-webhook-id"] == headers["idempotency-key"]
    assert abs(int(headers["x-webhook-timestamp"]) - (time.time() + 3)) < 5  # clock time + 3 s
    assert headers["x-webhook-signature"] == _expected_signature("s3", request)
    payload = json.loads(request.content)
    assert list(payload) == ["code", "message", "task_id", "data"]
    assert (payload["code"], payload["message"], payload["task_id"]) == (200, "success", task_id)
    assert [clip["state"] for clip in payload["data"]] == ["succeeded", "succeeded"]
    assert _webhook_stats(sandbox) == _stats(delivered=1)
    assert sandbox.pending_webhooks == 0


async def test_a_task_seen_streaming_sends_streaming_then_succeeded(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    task_id = await _create(client, description_body, webhook_secret="s3")
    hook = Hook()
    async with hook.client() as receiver:
        clock.advance(1.5)
        assert await sandbox.deliver_due_webhooks(receiver) == 0
        clock.advance(1.0)  # 2.5 s: past two thirds of the task's 3 s
        assert await sandbox.deliver_due_webhooks(receiver) == 1
        # Streaming: the clips are playable, while the task endpoint still says 202.
        assert sandbox.task(task_id).streaming
        assert sandbox.task(task_id).state == "running"
        assert (await client.get(f"/sonic/task/{task_id}")).status_code == 202
        for clip in json.loads(hook.requests[0].content)["data"]:
            audio = await client.get(clip["audio_url"])
            assert (audio.status_code, audio.headers["content-type"]) == (200, "audio/wav")
        clock.advance(0.5)
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    streaming, succeeded = hook.requests
    assert hook.events() == [(task_id, "streaming"), (task_id, "succeeded")]
    for request in hook.requests:
        assert request.headers["x-webhook-event"] == "song.completed"
        assert request.headers["x-webhook-id"] == request.headers["idempotency-key"]
        assert request.headers["x-webhook-signature"] == _expected_signature("s3", request)
    assert streaming.headers["x-webhook-id"] != succeeded.headers["x-webhook-id"]
    early, final = json.loads(streaming.content), json.loads(succeeded.content)
    assert list(early) == ["code", "message", "task_id", "data"]
    for clip in early["data"]:
        assert isinstance(clip["duration"], str)
    assert [{**c, "state": "succeeded"} for c in early["data"]] == final["data"]
    polled = (await client.get(f"/sonic/task/{task_id}")).json()["data"]
    assert [clip["clip_id"] for clip in polled] == [clip["clip_id"] for clip in final["data"]]
    assert not sandbox.task(task_id).streaming
    assert _webhook_stats(sandbox) == _stats(delivered=2)


async def test_failure_uses_the_default_secret_and_never_streams(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    sandbox.faults.fail_next_tasks = 1
    task_id = await _create(client, description_body)
    hook = Hook()
    async with hook.client() as receiver:
        clock.advance(2.5)
        assert await sandbox.deliver_due_webhooks(receiver) == 0  # a failing task never streams
        clock.advance(0.5)
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    (request,) = hook.requests
    assert request.headers["x-webhook-event"] == "song.failed"
    assert sandbox.webhook_secret == sandbox.default_webhook_secret
    assert request.headers["x-webhook-signature"] == _expected_signature(
        sandbox.default_webhook_secret, request
    )
    assert json.loads(request.content) == {
        "type": "failed",
        "error": "generation failed upstream",
        "task_id": task_id,
    }


def test_the_default_secret_is_documented_stable_and_settable() -> None:
    assert Sandbox().default_webhook_secret == Sandbox().default_webhook_secret
    assert Sandbox(seed=1).default_webhook_secret != Sandbox(seed=2).default_webhook_secret
    assert Sandbox().default_webhook_secret.startswith("whsec_")
    assert Sandbox(default_webhook_secret="mine").default_webhook_secret == "mine"
    for bad in ("", "\ud800"):
        with pytest.raises(ValueError, match="default_webhook_secret"):
            Sandbox(default_webhook_secret=bad)
    with pytest.raises(ValueError, match="webhook_timeout"):
        Sandbox(webhook_timeout=0)
    sandbox = Sandbox()
    with pytest.raises(ValueError, match="default_webhook_secret"):
        sandbox.default_webhook_secret = ""


async def test_a_changed_default_secret_signs_the_next_attempts(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    await _create(client, description_body)
    clock.advance(3)
    hook = Hook(statuses=[500])
    async with hook.client() as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 0
        old = sandbox.default_webhook_secret
        sandbox.default_webhook_secret = "rotated"
        clock.advance(1)
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    first, retry = hook.requests
    assert first.headers["x-webhook-signature"] == _expected_signature(old, first)
    assert retry.headers["x-webhook-signature"] == _expected_signature("rotated", retry)
    assert sandbox.webhook_secret == "rotated"


async def test_tasks_without_webhook_url_send_nothing(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    await client.post("/sonic/create", json=description_body)
    hook = Hook()
    async with hook.client() as receiver:
        clock.advance(2.5)
        assert await sandbox.deliver_due_webhooks(receiver) == 0
        clock.advance(1)
        assert await sandbox.deliver_due_webhooks(receiver) == 0
    assert hook.requests == []
    assert sandbox.pending_webhooks == 0


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
    task_id = await _create(client, description_body)
    clock.advance(3)
    hook = Hook()
    async with hook.client() as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    delivered = json.loads(hook.requests[0].content)["data"]
    polled = (await client.get(f"/sonic/task/{task_id}")).json()["data"]
    for sent, answered in zip(delivered, polled, strict=True):
        assert isinstance(sent["duration"], str)  # "2.72", as in the webhook guide (§2.4)
        assert isinstance(answered["duration"], float)  # the documented number (§2.3)
        assert float(sent["duration"]) == answered["duration"]
        assert {**sent, "duration": answered["duration"]} == answered
    assert (sandbox.stats.webhooks_delivered, sandbox.stats.webhooks_failed) == (1, 0)


# -- retries --------------------------------------------------------------------------


async def test_a_refused_delivery_is_retried_with_the_same_id(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    await _create(client, description_body)
    clock.advance(3)
    hook = Hook(statuses=[500])
    async with hook.client() as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 0
        assert await sandbox.deliver_due_webhooks(receiver) == 0  # backing off
        clock.advance(1)
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    first, second = hook.requests
    assert first.headers["x-webhook-id"] == second.headers["x-webhook-id"]
    assert first.headers["idempotency-key"] == second.headers["idempotency-key"]
    assert first.content == second.content  # the same bytes, re-signed
    assert _webhook_stats(sandbox) == _stats(delivered=1, failed=1, retried=1)


async def _attempt_times(
    sandbox: Sandbox, clock: FakeClock, hook: Hook, seconds: int, start: float
) -> list[float]:
    """Step the clock one second at a time; return when (after `start`) attempts were made."""
    times: list[float] = []
    async with hook.client() as receiver:
        for _ in range(seconds):
            before = len(hook.requests)
            await sandbox.deliver_due_webhooks(receiver)
            times += [clock.now() - start] * (len(hook.requests) - before)
            clock.advance(1)
    return times


async def test_retries_back_off_until_a_2xx(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    await _create(client, description_body, webhook_secret="s3")
    clock.advance(3)
    hook = Hook(statuses=[500, 503, 404, 302])
    assert await _attempt_times(sandbox, clock, hook, 60, start=3) == [0, 1, 3, 7, 15]
    assert _webhook_stats(sandbox) == _stats(delivered=1, failed=4, retried=4)
    assert len({request.headers["x-webhook-id"] for request in hook.requests}) == 1
    stamps = [int(request.headers["x-webhook-timestamp"]) for request in hook.requests]
    assert [stamp - stamps[0] for stamp in stamps] == [0, 1, 3, 7, 15]  # re-signed each time
    for request in hook.requests:
        assert request.headers["x-webhook-signature"] == _expected_signature("s3", request)
    assert sandbox.pending_webhooks == 0


async def test_a_receiver_that_always_fails_is_given_up_after_ten_minutes(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    task_id = await _create(client, description_body)
    clock.advance(3)
    hook = Hook(statuses=[500] * 1000)
    assert await _attempt_times(sandbox, clock, hook, 900, start=3) == SCHEDULE
    assert _webhook_stats(sandbox) == _stats(failed=15, retried=14, given_up=1)
    assert sandbox.pending_webhooks == 0
    # The sandbox itself carries on: the task is there to poll.
    assert (await client.get(f"/sonic/task/{task_id}")).status_code == 200


async def test_a_connection_error_is_retried_like_a_non_2xx(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    calls: list[float] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(clock.now())
        raise httpx.ConnectError("refused", request=request)

    await _create(client, description_body)
    clock.advance(3)
    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as receiver:
        for _ in range(700):
            assert await sandbox.deliver_due_webhooks(receiver) == 0
            clock.advance(1)
    assert [call - 3 for call in calls] == SCHEDULE
    assert _webhook_stats(sandbox) == _stats(failed=15, retried=14, given_up=1)


async def test_deliveries_run_concurrently_up_to_the_bound(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    sandbox._deliveries.max_concurrent = 2
    gate = anyio.Event()
    inside: list[int] = [0]
    most = [0]

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        await gate.wait()
        inside[0] -= 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    for _ in range(5):
        await _create(client, description_body)
    clock.advance(3)
    delivered: list[int] = []
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=slow)) as receiver,
        anyio.create_task_group() as tg,
    ):

        async def deliver() -> None:
            delivered.append(await sandbox.deliver_due_webhooks(receiver))

        tg.start_soon(deliver)
        with anyio.fail_after(5):
            while inside[0] < 2:
                await anyio.lowlevel.checkpoint()
        for _ in range(50):
            await anyio.lowlevel.checkpoint()
        assert inside[0] == 2  # two at once: concurrent, and bounded
        gate.set()
    assert delivered == [5]
    assert most[0] == 2


# -- fault knobs ----------------------------------------------------------------------


async def test_duplicate_next_delivers_an_event_twice_with_one_id(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    sandbox.faults.webhook_duplicate_next = 1
    first = await _create(client, description_body)
    second = await _create(client, description_body)
    clock.advance(3)
    hook = Hook()
    async with hook.client() as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 3
    assert sandbox.faults.webhook_duplicate_next == 0
    assert sorted(hook.events()) == sorted(
        [(first, "succeeded"), (first, "succeeded"), (second, "succeeded")]
    )
    by_id = collections.defaultdict[str, list[httpx.Request]](list)
    for request in hook.requests:
        by_id[request.headers["x-webhook-id"]].append(request)
    twice, once = sorted(by_id.values(), key=len, reverse=True)
    assert (len(twice), len(once)) == (2, 1)
    assert twice[0].content == twice[1].content
    assert _event(twice[0]) == (first, "succeeded")
    assert _webhook_stats(sandbox) == _stats(delivered=3)


async def test_out_of_order_next_sends_streaming_after_succeeded(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    sandbox.faults.webhook_out_of_order_next = 1
    late = await _create(client, description_body)
    hook = Hook()
    async with hook.client() as receiver:
        clock.advance(2.5)
        assert await sandbox.deliver_due_webhooks(receiver) == 0  # held back
        assert sandbox.pending_webhooks == 1
        in_order = await _create(client, description_body)  # the knob is spent
        clock.advance(0.5)
        assert await sandbox.deliver_due_webhooks(receiver) == 2
        clock.advance(1.6)  # the second task streams from 4.5 s to 5.5 s
        assert await sandbox.deliver_due_webhooks(receiver) == 1
        clock.advance(1)
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    assert hook.events() == [
        (late, "succeeded"),
        (late, "streaming"),
        (in_order, "streaming"),
        (in_order, "succeeded"),
    ]
    assert sandbox.pending_webhooks == 0


async def test_a_held_back_streaming_event_is_sent_even_if_succeeded_is_dropped(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    sandbox.faults.webhook_out_of_order_next = 1
    task_id = await _create(client, description_body)
    hook = Hook()
    async with hook.client() as receiver:
        clock.advance(2.5)
        assert await sandbox.deliver_due_webhooks(receiver) == 0
        sandbox.faults.webhook_drop_next = 1
        clock.advance(0.5)
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    assert hook.events() == [(task_id, "streaming")]
    assert _webhook_stats(sandbox) == _stats(delivered=1, dropped=1)


async def test_delay_holds_every_attempt_back_on_the_clock(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    sandbox.faults.webhook_delay = 30
    await _create(client, description_body)
    clock.advance(3)
    hook = Hook(statuses=[500])
    async with hook.client() as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 0
        clock.advance(29)
        assert await sandbox.deliver_due_webhooks(receiver) == 0
        assert hook.requests == []
        clock.advance(1)  # 30 s late: the first attempt, answered 500
        assert await sandbox.deliver_due_webhooks(receiver) == 0
        clock.advance(30)  # the 1 s backoff plus the 30 s delay
        assert await sandbox.deliver_due_webhooks(receiver) == 0
        clock.advance(1)
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    assert len(hook.requests) == 2


async def test_drop_next_never_delivers_and_polling_still_finds_the_result(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    sandbox.faults.webhook_drop_next = 1
    dropped = await _create(client, description_body)
    delivered = await _create(client, description_body)
    clock.advance(3)
    hook = Hook()
    async with hook.client() as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 1
        clock.advance(3600)
        assert await sandbox.deliver_due_webhooks(receiver) == 0  # and no retry, ever
    assert hook.events() == [(delivered, "succeeded")]
    assert _webhook_stats(sandbox) == _stats(delivered=1, dropped=1)
    assert sandbox.pending_webhooks == 0
    polled = await client.get(f"/sonic/task/{dropped}")
    assert polled.status_code == 200
    assert len(polled.json()["data"]) == 2


async def test_bad_signature_next_signs_with_a_wrong_key_then_the_retry_is_right(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    sandbox.faults.webhook_bad_signature_next = 1
    await _create(client, description_body, webhook_secret="s3")
    clock.advance(3)
    hook = Hook(secret="s3")  # answers 401 to a signature that does not verify
    async with hook.client() as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 0
        clock.advance(1)
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    forged, right = hook.requests
    assert forged.headers["x-webhook-id"] == right.headers["x-webhook-id"]
    assert forged.headers["x-webhook-signature"].startswith("sha256=")
    assert len(forged.headers["x-webhook-signature"]) == len("sha256=") + 64
    assert forged.headers["x-webhook-signature"] != _expected_signature("s3", forged)
    assert right.headers["x-webhook-signature"] == _expected_signature("s3", right)
    assert _webhook_stats(sandbox) == _stats(delivered=1, failed=1, retried=1)


async def test_the_webhook_knobs_over_the_control_api(sandbox: Sandbox) -> None:
    knobs: dict[str, Any] = {
        "webhook_duplicate_next": 1,
        "webhook_out_of_order_next": 2,
        "webhook_delay": 1.5,
        "webhook_drop_next": 3,
        "webhook_bad_signature_next": 4,
    }
    transport = sandbox.transport()
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
        answer = await http.post("/_sandbox/faults", json=knobs)
        assert answer.status_code == 200
        assert {name: answer.json()[name] for name in knobs} == knobs
        assert {name: getattr(sandbox.faults, name) for name in knobs} == knobs
        for name in knobs:
            for bad in (-1, True, "1", None):
                refused = await http.post("/_sandbox/faults", json={name: bad})
                assert refused.status_code == 400
                assert refused.json()["error"].startswith(f"{name}: must be")
        refused = await http.post("/_sandbox/faults", content=b'{"webhook_delay": Infinity}')
        assert refused.status_code == 400
        assert (await http.delete("/_sandbox/faults")).json() == Faults().as_dict()
    assert sandbox.faults.webhook_drop_next == 0


async def test_knobs_act_on_the_faults_in_force_when_replaced(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    sandbox.faults = Faults(webhook_drop_next=1)
    await _create(client, description_body)
    clock.advance(3)
    hook = Hook()
    async with hook.client() as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 0
    assert sandbox.stats.webhooks_dropped == 1
