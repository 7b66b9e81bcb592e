"""`RedisBus` against a real redis-server (started by the `redis_url` fixture), across processes."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import httpx
import pytest

from musicapi.webhooks import EventBus, RedisBus, WebhookEvent, WebhookReceiver, verify

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conftest import WebhookKit

SUBSCRIBER = Path(__file__).resolve().parent / "redis_subscriber.py"
HANG_GUARD = 30


@pytest.fixture
def channel() -> str:
    return f"musicapi:test:{uuid.uuid4().hex}"  # no two tests hear each other


@pytest.fixture
def bus(redis_url: str, channel: str) -> Iterator[RedisBus]:
    with RedisBus(redis_url, channel, timeout=10) as made:
        yield made


def _publish_raw(redis_url: str, channel: str, data: bytes) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)  # pyright: ignore[reportUnknownMemberType]
    try:
        client.publish(channel, data)  # pyright: ignore[reportUnknownMemberType]
    finally:
        client.close()


async def _read_line(stream: anyio.abc.ByteReceiveStream, buffer: bytearray) -> str:
    while b"\n" not in buffer:
        buffer.extend(await stream.receive())
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line.decode()


def test_the_bus_meets_the_protocol(bus: RedisBus) -> None:
    assert isinstance(bus, EventBus)


async def test_an_event_round_trips_through_redis(bus: RedisBus, wh: WebhookKit) -> None:
    subscription = bus.subscribe()
    await anyio.to_thread.run_sync(bus.start)
    body, headers = wh.delivery(wh.success_body(), event_id="evt_redis")
    sent = verify(body, headers, wh.secret, now=wh.now)
    bus.publish(sent)
    with anyio.fail_after(HANG_GUARD):
        received = await subscription.receive()
    assert received == sent  # id, type, task id, state, clips (typed), reason, timestamp
    assert received.timestamp == sent.timestamp
    assert received.raw == sent.raw
    assert received.clips[0].raw == sent.clips[0].raw


async def test_events_arrive_in_the_order_published(bus: RedisBus) -> None:
    subscription = bus.subscribe()
    await anyio.to_thread.run_sync(bus.start)
    events = [WebhookEvent(**_event_kwargs(id=f"evt_{n}", task_id=f"t{n}")) for n in range(100)]
    for event in events:
        bus.publish(event)
    await anyio.to_thread.run_sync(bus.flush)
    received: list[WebhookEvent] = []
    with anyio.fail_after(HANG_GUARD):
        while len(received) < len(events):
            received.append(await subscription.receive())
    assert received == events  # made without a body: rebuilt from their own fields


async def test_a_receiver_on_a_redis_bus_wakes_a_local_subscriber(
    bus: RedisBus, wh: WebhookKit
) -> None:
    receiver = WebhookReceiver(wh.secret, bus=bus, unix_now=lambda: float(wh.now))
    subscription = receiver.subscribe()
    await anyio.to_thread.run_sync(bus.start)
    body, headers = wh.delivery(wh.failure_body(), event_type="song.failed")
    # handle() from a plain thread, as a WSGI worker would call it.
    statuses: list[int] = []
    worker = threading.Thread(target=lambda: statuses.append(receiver.handle(body, headers)[0]))
    worker.start()
    with anyio.fail_after(HANG_GUARD):
        event = await subscription.receive()
    await anyio.to_thread.run_sync(worker.join)
    assert statuses == [200]
    assert (event.id, event.state, event.reason) == (
        "evt_0001",
        "failed",
        "failed: generation failed upstream",
    )


async def test_junk_on_the_channel_is_ignored(
    bus: RedisBus, redis_url: str, channel: str, wh: WebhookKit, caplog: pytest.LogCaptureFixture
) -> None:
    subscription = bus.subscribe()
    await anyio.to_thread.run_sync(bus.start)
    future = json.dumps({"musicapi": 2, "anything": "new"}).encode()
    junk = [b"not json", b"[]", b'{"other": "app"}', future]
    bad: dict[str, Any] = {"musicapi": 1, "id": "e", "type": "t", "timestamp": 1, "body": {"x": 1}}
    junk.append(json.dumps(bad).encode())  # our format, but a body of no known shape
    with caplog.at_level(logging.WARNING, logger="musicapi"):
        for data in junk:
            await anyio.to_thread.run_sync(_publish_raw, redis_url, channel, data)
        body, headers = wh.delivery(wh.success_body())
        bus.publish(verify(body, headers, wh.secret, now=wh.now))
        with anyio.fail_after(HANG_GUARD):
            event = await subscription.receive()
    assert event.id == "evt_0001"  # the only event that came through
    assert subscription.drain() == []
    ignored = [r for r in caplog.records if "ignored a message" in r.getMessage()]
    assert len(ignored) == 4  # the newer format is skipped without a word


@pytest.mark.parametrize("subscriber_backend", ["asyncio", "trio"])
async def test_a_delivery_verified_in_one_process_wakes_a_subscriber_in_another(
    redis_url: str, channel: str, wh: WebhookKit, subscriber_backend: str
) -> None:
    # Process B subscribes (on asyncio or trio); this process (A) verifies deliveries
    # through the ASGI app with a RedisBus; B must receive both events, typed.
    command = [sys.executable, str(SUBSCRIBER), redis_url, channel, subscriber_backend, "2"]
    async with await anyio.open_process(command, stderr=subprocess.STDOUT) as process:
        assert process.stdout is not None
        buffer = bytearray()
        with anyio.fail_after(HANG_GUARD):
            assert await _read_line(process.stdout, buffer) == "ready"
        bus = RedisBus(redis_url, channel)
        try:
            receiver = WebhookReceiver(wh.secret, bus=bus, unix_now=lambda: float(wh.now))
            transport = httpx.ASGITransport(app=receiver)
            async with httpx.AsyncClient(transport=transport) as http:
                done, done_headers = wh.delivery(wh.success_body(), event_id="evt_done")
                failed, failed_headers = wh.delivery(
                    wh.failure_body(task_id="task-0002"),
                    event_id="evt_failed",
                    event_type="song.failed",
                )
                for body, headers in ((done, done_headers), (failed, failed_headers)):
                    response = await http.post("http://a.test/hooks", content=body, headers=headers)
                    assert response.status_code == 200
            await anyio.to_thread.run_sync(bus.flush)
            with anyio.fail_after(HANG_GUARD):
                lines = [json.loads(await _read_line(process.stdout, buffer)) for _ in range(2)]
                assert await process.wait() == 0
        finally:
            await anyio.to_thread.run_sync(bus.close)
    first, second = lines
    assert first["id"] == "evt_done"
    assert (first["type"], first["task_id"], first["state"]) == (
        "song.completed",
        wh.task_id,
        "succeeded",
    )
    assert first["clips"] == [["clip-0", 104.88], ["clip-1", 104.88]]  # floats, rebuilt
    assert first["timestamp"] == wh.now
    assert first["raw"] == wh.success_body()
    assert (second["id"], second["task_id"], second["state"], second["reason"]) == (
        "evt_failed",
        "task-0002",
        "failed",
        "failed: generation failed upstream",
    )


@pytest.mark.usefixtures("redis_package")
def test_start_fails_promptly_without_a_server(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    import redis.exceptions

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with caplog.at_level(logging.WARNING, logger="musicapi"):
        bus = RedisBus(f"redis://127.0.0.1:{port}/0", timeout=5)
        try:
            with pytest.raises(redis.exceptions.ConnectionError):
                bus.start()
        finally:
            bus.close(timeout=5)
    assert any("retrying" in record.getMessage() for record in caplog.records)


def test_a_closed_bus_refuses_work(redis_url: str, wh: WebhookKit) -> None:
    bus = RedisBus(redis_url)
    subscription = bus.subscribe()
    bus.close()
    bus.close()  # idempotent
    assert subscription.closed
    event = WebhookEvent(id="e", type="song.completed", task_id="t", state="succeeded")
    with pytest.raises(RuntimeError, match="closed"):
        bus.publish(event)
    with pytest.raises(RuntimeError, match="closed"):
        bus.subscribe()


@pytest.mark.usefixtures("redis_package")
def test_a_bus_never_used_closes_without_a_thread() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0")
    bus.close()
    assert not any(t.name == "musicapi-redis-bus" and t.is_alive() for t in threading.enumerate())


@pytest.mark.usefixtures("redis_package")
def test_settings_are_checked_and_the_password_never_shown() -> None:
    bus = RedisBus("redis://user:hunter2@127.0.0.1:6390/0", "chan")
    assert "hunter2" not in repr(bus)
    assert "***" in repr(bus)
    assert bus.channel == "chan"
    bus.close()
    with pytest.raises(ValueError, match="channel"):
        RedisBus(channel="")
    with pytest.raises(ValueError, match="timeout"):
        RedisBus(timeout=0)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603  # our own interpreter, our own code
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )


def test_redis_is_imported_only_when_a_redis_bus_is_made() -> None:
    result = _python(
        "import sys, musicapi, musicapi.webhooks\n"
        "assert not any(name == 'redis' or name.startswith('redis.') for name in sys.modules)\n"
    )
    assert result.returncode == 0, result.stderr


def test_without_the_extra_the_error_says_what_to_install() -> None:
    result = _python(
        "import sys\n"
        "sys.modules['redis'] = None\n"
        "sys.modules['redis.asyncio'] = None\n"
        "from musicapi.webhooks import RedisBus, WebhookReceiver\n"
        "WebhookReceiver('secret')  # the core works without redis\n"
        "try:\n"
        "    RedisBus()\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    assert result.returncode == 0, result.stderr
    assert "pip install 'musicapi[redis]'" in result.stdout


def _event_kwargs(**overrides: Any) -> dict[str, Any]:
    return {"id": "e", "type": "song.completed", "task_id": "t", "state": "succeeded", **overrides}
