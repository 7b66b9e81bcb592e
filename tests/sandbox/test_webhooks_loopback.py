"""Webhook deliveries of a serving sandbox to a receiver on a real loopback socket.

The receiver is an ASGI app behind the sandbox's own loopback server (`serve_http`).
The sandbox runs on a `FakeClock` that only the test moves, so retries and backoff
happen when the test says; the only real waits are for the sockets, and for the one
network timeout a hanging receiver needs (no fake clock can drive that one).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pathlib
import subprocess
import sys
from typing import TYPE_CHECKING

import anyio
import anyio.abc
import httpx
import pytest

import musicapi
from musicapi.sandbox import Sandbox
from musicapi.sandbox.__main__ import main
from musicapi.sandbox._server import serve_http
from musicapi.testing import FakeClock

if TYPE_CHECKING:
    from collections.abc import Callable

    from musicapi.sandbox._http import Receive, Scope, Send

AUTH = {"Authorization": "Bearer sk-loopback"}
DESCRIPTION = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "lofi"}

pytestmark = pytest.mark.usefixtures("fast_deliveries")


class Receiver:
    """A webhook receiver: records every delivery and answers by path.

    `/fail` answers 500; `/hang` waits until `release` is set, then answers 204;
    anything else answers 204 at once.
    """

    def __init__(self) -> None:
        self.deliveries: list[tuple[str, dict[str, str], bytes]] = []
        self.release = anyio.Event()
        self.hanging = 0
        self.most_hanging = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path: str = scope["path"]
        headers = {name.decode(): value.decode() for name, value in scope["headers"]}
        self.deliveries.append((path, headers, body))
        status = 500 if path == "/fail" else 204
        if path == "/hang":
            self.hanging += 1
            self.most_hanging = max(self.most_hanging, self.hanging)
            try:
                await self.release.wait()
            finally:
                self.hanging -= 1
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def on(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        return [(headers, body) for where, headers, body in self.deliveries if where == path]


async def _wait_until(predicate: Callable[[], bool], seconds: float = 5.0) -> None:
    with anyio.fail_after(seconds):
        while not predicate():  # noqa: ASYNC110 - the state belongs to the code under test
            await anyio.sleep(0.001)


async def _create(base_url: str, **extra: object) -> str:
    async with httpx.AsyncClient(base_url=base_url, headers=AUTH) as http:
        response = await http.post("/sonic/create", json={**DESCRIPTION, **extra})
    assert response.status_code == 200, response.text
    task_id: str = response.json()["task_id"]
    return task_id


async def _still_serves(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers=AUTH, timeout=5) as http:
        assert (await http.get("/get-credits")).status_code == 200


def _signed_by(secret: str, headers: dict[str, str], body: bytes) -> bool:
    message = headers["x-webhook-timestamp"].encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return headers["x-webhook-signature"] == expected


async def _closed_port() -> int:
    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listener:
        port: int = listener.extra(anyio.abc.SocketAttribute.local_port)  # noqa: S610
    return port


async def test_streaming_success_and_failure_over_loopback() -> None:
    receiver = Receiver()
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock)
    async with serve_http(receiver, "127.0.0.1", 0) as hook_port, sandbox.serve() as base_url:
        hook = f"http://127.0.0.1:{hook_port}/hook"
        origin = base_url.removesuffix("/api/v1")
        good = await _create(base_url, webhook_url=hook, webhook_secret="s3")
        async with httpx.AsyncClient(base_url=origin) as control:
            assert (await control.post("/_sandbox/faults", json={"fail_next_tasks": 1})).is_success
            bad = await _create(base_url, webhook_url=hook)
            assert (await control.post("/_sandbox/clock", json={"advance": 2.5})).is_success
            await _wait_until(lambda: len(receiver.deliveries) == 1)
            headers, body = receiver.on("/hook")[0]
            streaming = json.loads(body)
            assert (headers["x-webhook-event"], streaming["task_id"]) == ("song.completed", good)
            for clip in streaming["data"]:
                assert clip["state"] == "streaming"
                assert clip["audio_url"].startswith(f"{origin}/files/")
                audio = await control.get(clip["audio_url"])
                assert (audio.status_code, audio.headers["content-type"]) == (200, "audio/wav")
            assert (await control.post("/_sandbox/clock", json={"advance": 0.5})).is_success
            await _wait_until(lambda: len(receiver.deliveries) == 3)
            # The receiver has the bodies a moment before the sandbox has counted its answers.
            await _wait_until(lambda: sandbox.stats.webhooks_delivered == 3)
            stats = (await control.get("/_sandbox/stats")).json()
        await _still_serves(base_url)
    seen = {}
    for headers, body in receiver.on("/hook"):
        payload = json.loads(body)
        assert headers["x-webhook-id"] == headers["idempotency-key"]
        assert headers["content-type"] == "application/json"
        secret = "s3" if payload["task_id"] == good else sandbox.default_webhook_secret
        assert _signed_by(secret, headers, body)
        state = "failed" if "type" in payload else payload["data"][0]["state"]
        seen[payload["task_id"], state] = headers["x-webhook-event"]
    assert seen == {
        (good, "streaming"): "song.completed",
        (good, "succeeded"): "song.completed",
        (bad, "failed"): "song.failed",
    }
    assert stats["webhooks_delivered"] == 3
    assert stats["webhooks_failed"] == 0


@pytest.mark.parametrize("target", ["answers 500", "refuses connections"])
async def test_a_receiver_that_never_takes_it_is_retried_then_given_up(target: str) -> None:
    receiver = Receiver()
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock)
    async with serve_http(receiver, "127.0.0.1", 0) as hook_port, sandbox.serve() as base_url:
        port = hook_port if target == "answers 500" else await _closed_port()
        await _create(base_url, webhook_url=f"http://127.0.0.1:{port}/fail")
        clock.advance(3)
        attempts = 0
        while sandbox.stats.webhooks_given_up == 0:
            attempts += 1
            await _wait_until(lambda n=attempts: sandbox.stats.webhooks_failed == n)
            if attempts == 5:
                await _still_serves(base_url)
            clock.advance(60)  # every retry is due within 60 s
            assert attempts < 20
        await _still_serves(base_url)
    # First attempt at 3 s, then one every 60 s; the 11th is at 603 s, after which the
    # next would start more than 600 s after the first.
    assert attempts == 11
    assert sandbox.stats.webhooks_failed == 11
    assert sandbox.stats.webhooks_retried == 10
    assert sandbox.stats.webhooks_delivered == 0
    assert sandbox.pending_webhooks == 0
    assert len(receiver.on("/fail")) == (11 if target == "answers 500" else 0)


async def test_a_hanging_receiver_delays_no_other_delivery_and_times_out() -> None:
    receiver = Receiver()
    clock = FakeClock(autojump=False)
    # Long enough that the other delivery lands first even on a loaded CI machine.
    sandbox = Sandbox(clock=clock, webhook_timeout=1.5)
    async with serve_http(receiver, "127.0.0.1", 0) as hook_port, sandbox.serve() as base_url:
        await _create(base_url, webhook_url=f"http://127.0.0.1:{hook_port}/hang")
        await _create(base_url, webhook_url=f"http://127.0.0.1:{hook_port}/hook")
        clock.advance(3)
        await _wait_until(lambda: len(receiver.on("/hook")) == 1)
        assert receiver.hanging == 1  # the other delivery is still waiting
        await _still_serves(base_url)
        await _wait_until(lambda: sandbox.stats.webhooks_failed == 1)  # timed out
        assert sandbox.stats.webhooks_delivered == 1
        assert sandbox.pending_webhooks == 1  # its retry
        receiver.release.set()
        clock.advance(1)
        await _wait_until(lambda: sandbox.stats.webhooks_delivered == 2)
        assert sandbox.stats.webhooks_retried == 1
    assert len(receiver.on("/hang")) == 2
    hang_ids = {headers["x-webhook-id"] for headers, _ in receiver.on("/hang")}
    assert len(hang_ids) == 1


async def test_deliveries_in_flight_are_bounded() -> None:
    receiver = Receiver()
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock, webhook_timeout=30)
    sandbox._deliveries.max_concurrent = 3
    async with serve_http(receiver, "127.0.0.1", 0) as hook_port, sandbox.serve() as base_url:
        for _ in range(7):
            await _create(base_url, webhook_url=f"http://127.0.0.1:{hook_port}/hang")
        clock.advance(3)
        await _wait_until(lambda: receiver.hanging == 3)
        for _ in range(20):  # a few more rounds of the delivery loop start nothing more
            await anyio.sleep(0.002)
        assert receiver.hanging == 3
        assert sandbox.pending_webhooks == 7
        await _still_serves(base_url)
        receiver.release.set()
        await _wait_until(lambda: sandbox.stats.webhooks_delivered == 7)
    assert receiver.most_hanging == 3
    assert sandbox.stats.webhooks_failed == 0
    assert sandbox.pending_webhooks == 0


async def test_stopping_the_server_mid_delivery_keeps_the_event_pending() -> None:
    receiver = Receiver()
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock, webhook_timeout=30)
    async with serve_http(receiver, "127.0.0.1", 0) as hook_port:
        async with sandbox.serve() as base_url:
            await _create(base_url, webhook_url=f"http://127.0.0.1:{hook_port}/hang")
            clock.advance(3)
            await _wait_until(lambda: receiver.hanging == 1)
        assert sandbox.pending_webhooks == 1  # not lost, not counted as an attempt
        assert sandbox.stats.webhooks_failed == 0
        receiver.release.set()
        async with sandbox.serve():
            await _wait_until(lambda: sandbox.stats.webhooks_delivered == 1)
    assert sandbox.pending_webhooks == 0


async def test_knobs_set_over_the_control_api_shape_loopback_deliveries() -> None:
    receiver = Receiver()
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock)
    async with serve_http(receiver, "127.0.0.1", 0) as hook_port, sandbox.serve() as base_url:
        origin = base_url.removesuffix("/api/v1")
        knobs = {"webhook_duplicate_next": 1, "webhook_out_of_order_next": 1}
        async with httpx.AsyncClient(base_url=origin) as control:
            assert (await control.post("/_sandbox/faults", json=knobs)).is_success
        task_id = await _create(base_url, webhook_url=f"http://127.0.0.1:{hook_port}/hook")
        clock.advance(2.5)  # streaming: duplicated, and both copies held back
        for _ in range(20):
            await anyio.sleep(0.002)
        assert receiver.deliveries == []
        clock.advance(0.5)
        await _wait_until(lambda: len(receiver.deliveries) == 3)
    states = []
    for headers, body in receiver.on("/hook"):
        payload = json.loads(body)
        assert payload["task_id"] == task_id
        states.append((payload["data"][0]["state"], headers["x-webhook-id"]))
    (succeeded, done_id), (first, first_id), (second, second_id) = states
    assert (succeeded, first, second) == ("succeeded", "streaming", "streaming")
    assert first_id == second_id != done_id


def test_command_line_flags_for_webhooks() -> None:
    root = pathlib.Path(musicapi.__file__).parent.parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "musicapi.sandbox",
            "--port",
            "0",
            "--faults",
            '{"webhook_drop_next": 2, "webhook_delay": 1.5}',
            "--default-webhook-secret",
            "whsec_cli",
            "--webhook-timeout",
            "2",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        origin = base_url.removesuffix("/api/v1")
        faults = httpx.get(f"{origin}/_sandbox/faults", timeout=5).json()
        assert (faults["webhook_drop_next"], faults["webhook_delay"]) == (2, 1.5)
    finally:
        process.terminate()
        process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize(
    "argv",
    [
        ["--faults", "[]"],
        ["--faults", "{"],
        ["--faults", '{"webhook_drop_next": -1}'],
        ["--faults", '{"nope": 1}'],
        ["--webhook-timeout", "0"],
        ["--default-webhook-secret", ""],
    ],
)
def test_command_line_refuses_bad_webhook_flags(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--port", "0", *argv]) == 2
    assert capsys.readouterr().err.startswith("error: ")
