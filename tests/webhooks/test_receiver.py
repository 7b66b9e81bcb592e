"""`WebhookReceiver`: `handle()` for WSGI, the ASGI app, callbacks, and the sandbox's deliveries."""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

import musicapi
from musicapi.sandbox._server import serve_http
from musicapi.webhooks import InProcessBus, WebhookEvent, WebhookReceiver

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, MutableMapping

    from conftest import WebhookKit

    from musicapi import AsyncMusicAPI
    from musicapi.sandbox import Sandbox
    from musicapi.testing import FakeClock

URL = "https://receiver.test/webhooks/musicapi"


def _receiver(wh: WebhookKit, **kwargs: Any) -> WebhookReceiver:
    kwargs.setdefault("unix_now", lambda: float(wh.now))
    return WebhookReceiver(wh.secret, **kwargs)


def _answer(result: tuple[int, bytes]) -> tuple[int, dict[str, Any]]:
    status, body = result
    return status, json.loads(body)


# -- handle(): the WSGI path ------------------------------------------------------------


def test_a_verified_delivery_is_acknowledged_and_handed_on(wh: WebhookKit) -> None:
    receiver = _receiver(wh)
    subscription = receiver.subscribe()
    seen: list[WebhookEvent] = []
    receiver.on_event(seen.append)
    body, headers = wh.delivery(wh.success_body())
    assert _answer(receiver.handle(body, headers)) == (200, {"ok": True})
    (event,) = subscription.drain()
    assert seen == [event]
    assert (event.task_id, event.state, len(event.clips)) == (wh.task_id, "succeeded", 2)


def test_a_duplicate_is_acknowledged_but_not_handed_on(wh: WebhookKit) -> None:
    receiver = _receiver(wh)
    subscription = receiver.subscribe()
    seen: list[WebhookEvent] = []
    receiver.on_event(seen.append)
    body, headers = wh.delivery(wh.success_body())
    assert receiver.handle(body, headers)[0] == 200
    # A redelivery: same id, fresh signature and timestamp.
    again, again_headers = wh.delivery(wh.success_body(), timestamp=wh.now + 5)
    assert _answer(receiver.handle(again, again_headers)) == (
        200,
        {"ok": True, "ignored": "duplicate"},
    )
    assert len(subscription.drain()) == 1
    assert len(seen) == 1


def test_a_late_streaming_never_follows_a_succeeded(wh: WebhookKit) -> None:
    receiver = _receiver(wh)
    subscription = receiver.subscribe()
    done, done_headers = wh.delivery(wh.success_body(), event_id="evt_done")
    late, late_headers = wh.delivery(
        wh.success_body(states=("streaming", "streaming")), event_id="evt_streaming"
    )
    assert receiver.handle(done, done_headers)[0] == 200
    assert _answer(receiver.handle(late, late_headers)) == (
        200,
        {"ok": True, "ignored": "superseded"},
    )
    assert [event.state for event in subscription.drain()] == ["succeeded"]


def test_streaming_then_succeeded_are_both_handed_on(wh: WebhookKit) -> None:
    receiver = _receiver(wh)
    subscription = receiver.subscribe()
    for event_id, states in (("evt_a", ("streaming", "streaming")), ("evt_b", ("succeeded",) * 2)):
        body, headers = wh.delivery(wh.success_body(states=states), event_id=event_id)
        assert _answer(receiver.handle(body, headers)) == (200, {"ok": True})
    assert [event.state for event in subscription.drain()] == ["streaming", "succeeded"]


def test_a_final_state_is_never_replaced(wh: WebhookKit) -> None:
    receiver = _receiver(wh)
    subscription = receiver.subscribe()
    failed, failed_headers = wh.delivery(wh.failure_body(), event_id="evt_failed")
    success, success_headers = wh.delivery(wh.success_body(), event_id="evt_success")
    assert receiver.handle(failed, failed_headers)[0] == 200
    assert _answer(receiver.handle(success, success_headers))[1]["ignored"] == "superseded"
    assert [event.state for event in subscription.drain()] == ["failed"]


def test_a_replayed_body_under_a_fresh_id_is_not_handed_on_twice(wh: WebhookKit) -> None:
    # The id is not signed: a replay within the tolerance can change it at will.
    receiver = _receiver(wh)
    subscription = receiver.subscribe()
    body, headers = wh.delivery(wh.success_body())
    assert receiver.handle(body, headers)[0] == 200
    headers["X-Webhook-Id"] = "evt_forged"
    assert _answer(receiver.handle(body, headers))[1]["ignored"] == "superseded"
    assert len(subscription.drain()) == 1


def test_events_of_different_tasks_are_independent(wh: WebhookKit) -> None:
    receiver = _receiver(wh)
    subscription = receiver.subscribe()
    for n in range(3):
        body, headers = wh.delivery(wh.success_body(task_id=f"task-{n}"), event_id=f"evt_{n}")
        assert _answer(receiver.handle(body, headers)) == (200, {"ok": True})
    assert [event.task_id for event in subscription.drain()] == ["task-0", "task-1", "task-2"]


def test_the_memory_is_bounded(wh: WebhookKit) -> None:
    receiver = _receiver(wh, max_remembered=2)
    subscription = receiver.subscribe()
    deliveries = [wh.delivery(wh.success_body(task_id=None), event_id=f"evt_{n}") for n in range(3)]
    for body, headers in deliveries:
        receiver.handle(body, headers)
    assert len(subscription.drain()) == 3
    receiver.handle(*deliveries[0])  # forgotten: the oldest of three, with a memory of two
    receiver.handle(*deliveries[2])  # remembered
    assert [event.id for event in subscription.drain()] == ["evt_0"]


@pytest.mark.parametrize(
    ("change", "status", "match"),
    [
        ({"X-Webhook-Signature": "sha256=" + "0" * 64}, 401, "does not match"),
        ({"X-Webhook-Signature": "md5=abc"}, 401, "malformed X-Webhook-Signature"),
        ({"X-Webhook-Timestamp": "soon"}, 401, "malformed X-Webhook-Timestamp"),
        ({"X-Webhook-Id": None}, 401, "missing webhook header: X-Webhook-Id"),
        ({"X-Webhook-Event": None}, 401, "missing webhook header: X-Webhook-Event"),
    ],
)
def test_unverified_deliveries_get_a_401(
    wh: WebhookKit, change: dict[str, str | None], status: int, match: str
) -> None:
    receiver = _receiver(wh)
    subscription = receiver.subscribe()
    body, headers = wh.delivery(wh.success_body())
    for name, value in change.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    answer_status, answer = _answer(receiver.handle(body, headers))
    assert answer_status == status
    assert match in answer["error"]
    assert wh.secret not in answer["error"]
    assert subscription.drain() == []


def test_stale_and_future_deliveries_get_a_401(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    late = _receiver(wh, unix_now=lambda: wh.now + 301.0)
    early = _receiver(wh, unix_now=lambda: wh.now - 301.0, tolerance=300)
    assert "old" in _answer(late.handle(body, headers))[1]["error"]
    assert "future" in _answer(early.handle(body, headers))[1]["error"]
    assert late.handle(body, headers)[0] == early.handle(body, headers)[0] == 401


def test_a_signed_but_unreadable_body_gets_a_400(wh: WebhookKit) -> None:
    receiver = _receiver(wh)
    body, headers = wh.delivery(b"<html>not json</html>")
    status, answer = _answer(receiver.handle(body, headers))
    assert (status, answer) == (400, {"error": "the delivery's body is not UTF-8 JSON"})


def test_a_body_over_the_limit_gets_a_413(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    assert _receiver(wh, max_body=len(body)).handle(body, headers)[0] == 200
    status, answer = _answer(_receiver(wh, max_body=len(body) - 1).handle(body, headers))
    assert status == 413
    assert "larger than" in answer["error"]


def test_handle_wants_bytes(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    with pytest.raises(TypeError, match="raw request bytes"):
        _receiver(wh).handle(body.decode(), headers)  # type: ignore[arg-type]
    assert _receiver(wh).handle(bytearray(body), headers)[0] == 200  # type: ignore[arg-type]


def test_the_default_clock_is_the_real_time(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())  # signed in 2023
    assert "old" in _answer(WebhookReceiver(wh.secret).handle(body, headers))[1]["error"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"secret": ""}, musicapi.WebhookVerificationError),
        ({"secret": []}, musicapi.WebhookVerificationError),
        ({"tolerance": -1}, musicapi.WebhookVerificationError),
        ({"tolerance": float("nan")}, musicapi.WebhookVerificationError),
        ({"max_body": 0}, ValueError),
        ({"max_body": 1.5}, ValueError),
        ({"max_remembered": 0}, ValueError),
    ],
)
def test_unusable_settings_fail_at_construction(
    wh: WebhookKit, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    kwargs.setdefault("secret", wh.secret)
    with pytest.raises(error):
        WebhookReceiver(**kwargs)


def test_the_repr_never_shows_the_secret(wh: WebhookKit) -> None:
    receiver = WebhookReceiver([wh.secret, "old-secret"])
    assert wh.secret not in repr(receiver)
    assert "secrets=2" in repr(receiver)


def test_a_rotated_secret_receiver(wh: WebhookKit) -> None:
    receiver = _receiver(wh)
    rotated = WebhookReceiver(["next-secret", wh.secret], unix_now=lambda: float(wh.now))
    body, headers = wh.delivery(wh.success_body(), secret="next-secret")
    assert receiver.handle(body, headers)[0] == 401
    assert rotated.handle(body, headers)[0] == 200


# -- callbacks --------------------------------------------------------------------------


def test_callbacks_sync_and_async_under_handle(wh: WebhookKit) -> None:
    receiver = _receiver(wh)
    calls: list[tuple[str, str]] = []

    @receiver.on_event
    def plain(event: WebhookEvent) -> None:
        calls.append(("plain", event.id))

    @receiver.on_event
    async def coroutine(event: WebhookEvent) -> None:
        await anyio.lowlevel.checkpoint()
        calls.append(("async", event.id))

    assert plain.__name__ == "plain"  # the decorator returns the function
    body, headers = wh.delivery(wh.success_body())
    receiver.handle(body, headers)
    receiver.handle(body, headers)  # a duplicate calls nobody
    assert calls == [("plain", "evt_0001"), ("async", "evt_0001")]


def test_a_raising_callback_is_logged_and_the_answer_is_still_200(
    wh: WebhookKit, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = _receiver(wh)
    after: list[str] = []

    @receiver.on_event
    def broken(event: WebhookEvent) -> None:
        raise RuntimeError("the user's bug")

    @receiver.on_event
    async def broken_too(event: WebhookEvent) -> None:
        raise KeyError("another bug")

    @receiver.on_event
    def fine(event: WebhookEvent) -> None:
        after.append(event.id)

    body, headers = wh.delivery(wh.success_body())
    with caplog.at_level(logging.ERROR, logger="musicapi"):
        assert _answer(receiver.handle(body, headers)) == (200, {"ok": True})
    assert after == ["evt_0001"]  # later callbacks still run
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 2
    assert all(record.name == "musicapi" for record in errors)
    assert errors[0].exc_info is not None
    assert "the user's bug" in str(errors[0].exc_info[1])


def test_a_broken_bus_does_not_fail_the_delivery(
    wh: WebhookKit, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenBus(InProcessBus):
        def publish(self, event: WebhookEvent) -> None:
            raise ConnectionError("bus down")

    receiver = _receiver(wh, bus=BrokenBus())
    called: list[str] = []

    @receiver.on_event
    def record(event: WebhookEvent) -> None:
        called.append(event.id)

    body, headers = wh.delivery(wh.success_body())
    with caplog.at_level(logging.ERROR, logger="musicapi"):
        assert receiver.handle(body, headers)[0] == 200
    assert called == ["evt_0001"]
    assert any("bus down" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_handle_from_many_threads_hands_each_event_on_once(wh: WebhookKit) -> None:
    receiver = _receiver(wh)
    subscription = receiver.subscribe(max_buffered=1000)
    deliveries = [
        wh.delivery(wh.success_body(task_id=f"task-{n}"), event_id=f"evt_{n}") for n in range(50)
    ]
    statuses: list[int] = []

    def post_all() -> None:
        statuses.extend(receiver.handle(body, headers)[0] for body, headers in deliveries)

    threads = [threading.Thread(target=post_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 200
    assert sorted(event.id for event in subscription.drain()) == sorted(
        f"evt_{n}" for n in range(50)
    )


# -- the ASGI app -----------------------------------------------------------------------


@pytest.fixture
async def asgi(wh: WebhookKit) -> AsyncIterator[tuple[WebhookReceiver, httpx.AsyncClient]]:
    receiver = _receiver(wh, max_body=4096)
    transport = httpx.ASGITransport(app=receiver)
    async with httpx.AsyncClient(transport=transport) as http:
        yield receiver, http


async def test_asgi_accepts_a_verified_delivery(
    asgi: tuple[WebhookReceiver, httpx.AsyncClient], wh: WebhookKit
) -> None:
    receiver, http = asgi
    subscription = receiver.subscribe()
    body, headers = wh.delivery(wh.success_body())
    response = await http.post(URL, content=body, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"ok": True}
    (event,) = subscription.drain()
    assert event.task_id == wh.task_id
    response = await http.post(URL, content=body, headers=headers)
    assert response.json() == {"ok": True, "ignored": "duplicate"}


async def test_asgi_answers_401_and_400(
    asgi: tuple[WebhookReceiver, httpx.AsyncClient], wh: WebhookKit
) -> None:
    _, http = asgi
    body, headers = wh.delivery(wh.success_body())
    response = await http.post(URL, content=body + b" ", headers=headers)
    assert response.status_code == 401
    assert "does not match" in response.json()["error"]
    body, headers = wh.delivery(b"[]")
    response = await http.post(URL, content=body, headers=headers)
    assert response.status_code == 400


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
async def test_asgi_allows_only_post(
    asgi: tuple[WebhookReceiver, httpx.AsyncClient], method: str
) -> None:
    _, http = asgi
    response = await http.request(method, URL)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_asgi_refuses_a_declared_length_over_the_limit_without_reading(
    wh: WebhookKit,
) -> None:
    receiver = _receiver(wh, max_body=100)
    body, headers = wh.delivery(wh.success_body())
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent, read = await _call(
        receiver, _scope("POST", {**headers, "content-length": str(len(body))}), messages
    )
    assert sent[0]["status"] == 413
    assert read == 0  # refused on Content-Length alone
    sent, _ = await _call(receiver, _scope("POST", {**headers, "content-length": "12x"}), messages)
    assert sent[0]["status"] == 400


async def test_asgi_refuses_a_chunked_body_over_the_limit_while_reading(wh: WebhookKit) -> None:
    # No Content-Length (chunked): the limit is checked as the chunks arrive. Driven
    # directly, because httpx's ASGITransport leaves its request stream unfinished
    # when an app stops reading, which trio reports as an unraisable error.
    receiver = _receiver(wh, max_body=4096)
    _, headers = wh.delivery(wh.success_body())
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b" " * 1024, "more_body": True}
    ] * 100
    sent, read = await _call(receiver, _scope("POST", headers), messages)
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"]) == {"error": "the body is larger than 4096 bytes"}
    assert read == 5  # it stopped at the first chunk past the limit


async def test_asgi_reads_a_chunked_body_under_the_limit(
    asgi: tuple[WebhookReceiver, httpx.AsyncClient], wh: WebhookKit
) -> None:
    _, http = asgi
    body, headers = wh.delivery(wh.success_body())

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 100):
            yield body[start : start + 100]

    response = await http.post(URL, content=chunks(), headers=headers)
    assert response.status_code == 200
    assert "content-length" not in response.request.headers


async def test_asgi_callbacks_run_sync_in_a_thread_and_async_on_the_loop(
    asgi: tuple[WebhookReceiver, httpx.AsyncClient], wh: WebhookKit
) -> None:
    receiver, http = asgi
    loop_thread = threading.current_thread()
    calls: list[tuple[str, bool]] = []

    @receiver.on_event
    def plain(event: WebhookEvent) -> None:
        calls.append(("plain", threading.current_thread() is loop_thread))

    @receiver.on_event
    async def coroutine(event: WebhookEvent) -> None:
        calls.append(("async", threading.current_thread() is loop_thread))

    body, headers = wh.delivery(wh.success_body())
    assert (await http.post(URL, content=body, headers=headers)).status_code == 200
    assert calls == [("plain", False), ("async", True)]


async def test_asgi_survives_a_raising_callback(
    asgi: tuple[WebhookReceiver, httpx.AsyncClient],
    wh: WebhookKit,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver, http = asgi

    @receiver.on_event
    async def broken(event: WebhookEvent) -> None:
        raise RuntimeError("boom")

    body, headers = wh.delivery(wh.success_body())
    with caplog.at_level(logging.ERROR, logger="musicapi"):
        response = await http.post(URL, content=body, headers=headers)
    assert response.status_code == 200
    assert [r.levelno for r in caplog.records if r.name == "musicapi"] == [logging.ERROR]


async def test_asgi_repeated_signature_headers_are_refused(wh: WebhookKit) -> None:
    receiver = _receiver(wh)
    body, headers = wh.delivery(wh.success_body())
    scope = _scope("POST", headers)
    scope["headers"].append((b"x-webhook-signature", headers["X-Webhook-Signature"].encode()))
    sent, _ = await _call(receiver, scope, [{"type": "http.request", "body": body}])
    assert sent[0]["status"] == 401


async def test_asgi_a_client_that_leaves_mid_body_gets_nothing(wh: WebhookKit) -> None:
    receiver = _receiver(wh)
    body, headers = wh.delivery(wh.success_body())
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent, _ = await _call(receiver, _scope("POST", headers), messages)
    assert sent == []


async def test_asgi_lifespan_and_websocket(wh: WebhookKit) -> None:
    receiver = _receiver(wh)
    lifespan = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent, _ = await _call(receiver, {"type": "lifespan"}, lifespan)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    sent, _ = await _call(receiver, {"type": "websocket"}, [{"type": "websocket.connect"}])
    assert sent == [{"type": "websocket.close", "code": 1008}]


async def test_asgi_over_a_loopback_socket(wh: WebhookKit) -> None:
    # A real HTTP/1.1 server (the sandbox's own) in front of the receiver.
    receiver = _receiver(wh, max_body=4096)
    subscription = receiver.subscribe()
    body, headers = wh.delivery(wh.success_body())
    async with serve_http(receiver, "127.0.0.1", 0) as port, httpx.AsyncClient() as http:
        url = f"http://127.0.0.1:{port}/hooks"
        response = await http.post(url, content=body, headers=headers)
        assert (response.status_code, response.json()) == (200, {"ok": True})

        async def big() -> AsyncIterator[bytes]:
            for _ in range(8):
                yield b" " * 1024

        response = await http.post(url, content=big(), headers=headers)
        assert response.status_code == 413
        response = await http.get(url)
        assert response.status_code == 405
    assert [event.id for event in subscription.drain()] == ["evt_0001"]


# -- the sandbox's deliveries -----------------------------------------------------------


async def test_the_sandbox_signs_what_the_receiver_verifies(
    client: AsyncMusicAPI, sandbox: Sandbox, clock: FakeClock
) -> None:
    # The sandbox's signer and our verifier share no code; here they meet.
    receiver = WebhookReceiver("sandbox-hook-secret")
    subscription = receiver.subscribe()
    task = await client.sonic.create(
        gpt_description_prompt="lofi hip hop for studying",
        webhook_url=URL,
        webhook_secret="sandbox-hook-secret",
    )
    clock.advance(3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver)) as http:
        assert await sandbox.deliver_due_webhooks(http) == 1
    (event,) = subscription.drain()
    assert (event.task_id, event.type, event.state) == (task.task_id, "song.completed", "succeeded")
    assert len(event.clips) == 2
    assert all(isinstance(clip.duration, float) for clip in event.clips)  # sent as strings
    polled = await client.sonic.get(task.task_id)
    assert [clip.clip_id for clip in event.clips] == [clip.clip_id for clip in polled.clips]


async def test_a_sandbox_failure_with_the_account_secret(
    client: AsyncMusicAPI, sandbox: Sandbox, clock: FakeClock
) -> None:
    receiver = WebhookReceiver(["some-other-secret", sandbox.webhook_secret])
    subscription = receiver.subscribe()
    sandbox.faults.fail_next_tasks = 1
    task = await client.sonic.create(gpt_description_prompt="a song", webhook_url=URL)
    clock.advance(3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver)) as http:
        assert await sandbox.deliver_due_webhooks(http) == 1
    (event,) = subscription.drain()
    assert (event.task_id, event.type, event.state) == (task.task_id, "song.failed", "failed")
    assert event.reason == "failed: generation failed upstream"


async def test_a_sandbox_delivery_with_the_wrong_secret_is_retried(
    client: AsyncMusicAPI, sandbox: Sandbox, clock: FakeClock
) -> None:
    receiver = WebhookReceiver("not-the-sandbox-secret")
    await client.sonic.create(gpt_description_prompt="a song", webhook_url=URL)
    clock.advance(3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver)) as http:
        assert await sandbox.deliver_due_webhooks(http) == 0  # 401: the platform retries
    assert sandbox.stats.webhooks_failed == 1


# -- a tiny ASGI driver for the edge cases ----------------------------------------------


def _scope(method: str, headers: dict[str, str]) -> MutableMapping[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }


async def _call(
    app: WebhookReceiver, scope: MutableMapping[str, Any], messages: list[dict[str, Any]]
) -> tuple[list[MutableMapping[str, Any]], int]:
    """Run `app` on `scope`, feeding `messages`; return what it sent and how many it read."""
    sent: list[MutableMapping[str, Any]] = []
    queue = list(messages)
    read = 0

    async def receive() -> MutableMapping[str, Any]:
        nonlocal read
        read += 1
        if not queue:
            raise AssertionError("the app read past the end")
        return queue.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent, read
