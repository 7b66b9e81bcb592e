"""Helpers for the webhook tests: a signer of our own, bodies, and a real Redis server.

The signer here is deliberately a few lines of `hmac` written from api-reference §5,
not a call into `musicapi`: a test that signs with the code it tests proves nothing.
Tests reach the helpers through the `wh` fixture (test modules cannot import a
conftest under `--import-mode=importlib`).
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import os
import shutil
import socket
import subprocess
import threading
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

SECRET = "whsec_test_0123456789"
NOW = 1_700_000_000
TASK_ID = "task-0001"


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    """Return `X-Webhook-Signature` for `body`: sha256=hex(HMAC(secret, f"{ts}.{body}"))."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def success_body(
    task_id: str | None = TASK_ID,
    states: tuple[str, ...] = ("succeeded", "succeeded"),
    duration: Any = "104.88",
) -> dict[str, Any]:
    """A success body as the platform sends it: clips with `duration` as a string."""
    clips = [
        {
            "clip_id": f"clip-{n}",
            "state": state,
            "title": "Night Drive",
            "tags": "synthwave",
            "audio_url": f"https://cdn.example/clip-{n}.mp3",
            "duration": duration,
            "mv": "chirp-v5",
            "play_count": 0,
        }
        for n, state in enumerate(states)
    ]
    body: dict[str, Any] = {"code": 200, "message": "success", "data": clips}
    if task_id is not None:
        body["task_id"] = task_id
    return body


def failure_body(task_id: str = TASK_ID, kind: str = "failed") -> dict[str, Any]:
    return {"type": kind, "error": "generation failed upstream", "task_id": task_id}


def delivery(
    payload: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    timestamp: int | str = NOW,
    event_id: str = "evt_0001",
    event_type: str = "song.completed",
) -> tuple[bytes, dict[str, str]]:
    """Return the raw body and headers of one signed delivery of `payload`."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Webhook-Id": event_id,
        "Idempotency-Key": event_id,
        "X-Webhook-Event": event_type,
        "X-Webhook-Timestamp": str(timestamp),
        "X-Webhook-Signature": sign(secret, timestamp, body),
    }
    return body, headers


class WebhookKit:
    """The helpers above, as one fixture value."""

    secret = SECRET
    now = NOW
    task_id = TASK_ID
    sign = staticmethod(sign)
    success_body = staticmethod(success_body)
    failure_body = staticmethod(failure_body)
    delivery = staticmethod(delivery)


@pytest.fixture
def wh() -> WebhookKit:
    return WebhookKit()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start_redis(binary: str) -> tuple[subprocess.Popen[str], int, threading.Thread] | None:
    """Start redis-server on a free loopback port; `None` if it did not come up."""
    port = _free_port()
    arguments = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(  # noqa: S603  # the redis-server found on PATH
        [binary, *arguments, "--daemonize", "no", "--loglevel", "notice"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:  # no sleeping: the server says when it is ready
        if "Ready to accept connections" in line:
            drain = threading.Thread(target=process.stdout.read, daemon=True)
            drain.start()  # keep reading its log, so that the pipe never fills up
            return process, port, drain
    process.wait()  # it exited (a port taken between probe and bind): try another
    process.stdout.close()
    return None


@pytest.fixture(scope="session")
def redis_package() -> None:
    """Skip without the `redis` package, unless `CI` is set: there it is a failure."""
    try:
        importlib.import_module("redis")
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("the redis package is missing (it is in the test dependency group)")
        pytest.skip("the redis package is not installed (pip install 'musicapi[redis]')")


@pytest.fixture(scope="session")
def redis_url(redis_package: None) -> Iterator[str]:
    """A real redis-server on a free loopback port, for the whole session.

    Skipped only when the binary is missing and `CI` is not set; under CI a missing
    redis-server (or `redis` package) is a failure (`.ci/install-redis.sh` installs it).
    """
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed: run .ci/install-redis.sh first")
        pytest.skip(
            "redis-server is not installed (apt-get install redis-server, or "
            ".ci/install-redis.sh); under CI this is a failure, not a skip"
        )
    for _ in range(5):
        started = _start_redis(binary)
        if started is not None:
            break
    else:
        pytest.fail("redis-server did not start on a free loopback port in 5 attempts")
    process, port, drain = started
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        drain.join(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
