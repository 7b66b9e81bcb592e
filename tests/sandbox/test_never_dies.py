"""Issue 8, section 3: no request, delivery or OS error stops the loopback server.

Each finding of the issue is reproduced here over real loopback sockets (where it was
about the loopback server) and pinned as a regression test:

* a lone surrogate in `tags` or a prompt made the task's audio planning raise in the
  background delivery loop a moment after the task ended, and the server died with it;
* a `webhook_url` such as `http://xn--a.com/hook` made trio's IDNA encoding raise out
  of the delivery, with the same result;
* `accept()` failing with EMFILE ("too many open files") ended the server;
* a 400 MB body was read whole into memory, with or without a key;
* idle connections were kept forever.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
from typing import TYPE_CHECKING

import anyio
import anyio.abc
import anyio.lowlevel
import h11
import httpx
import idna
import pytest

from musicapi.sandbox import Sandbox, ServerLimits
from musicapi.sandbox._audio import plan
from musicapi.sandbox._server import serve_http, serve_listeners
from musicapi.testing import FakeClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from musicapi.sandbox._http import Receive, Scope, Send

AUTH = {"Authorization": "Bearer sk-loopback"}
DESCRIPTION = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "lofi"}


def _port(base_url: str) -> int:
    return int(base_url.split(":")[2].split("/")[0])


async def _read_until_closed(stream: anyio.abc.SocketStream) -> bytes:
    chunks: list[bytes] = []
    with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
        while True:
            chunks.append(await stream.receive())
    return b"".join(chunks)


async def _still_serves(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers=AUTH) as http:
        assert (await http.get("/get-credits")).status_code == 200


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b'{"ok":true}'})


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("tags", "\\ud800"),
        ("prompt", "la la \\udfff"),
        ("title", "\\udbff"),
        ("negative_tags", "x\\ud800y"),
        ("webhook_secret", "\\ud800"),
    ],
)
@pytest.mark.usefixtures("fast_deliveries")
async def test_a_lone_surrogate_is_a_400_and_the_server_lives(field: str, text: str) -> None:
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock)
    body = {
        "custom_mode": True,
        "mv": "sonic-v5",
        "prompt": "la",
        "webhook_url": "http://127.0.0.1:9/hook",
    }
    raw = json.dumps(body)[:-1] + f', "{field}": "{text}"}}'  # escaped: \ud800 in the JSON
    async with sandbox.serve() as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers=AUTH) as http:
            response = await http.post("/sonic/create", content=raw.encode())
        assert response.status_code == 400
        assert response.json()["error"].startswith(f"{field}: must be valid Unicode")
        clock.advance(60)
        await _still_serves(base_url)
    assert sandbox.tasks == {}


def test_audio_planning_tolerates_a_lone_surrogate() -> None:
    # The crash itself: hashing the style text raised UnicodeEncodeError. Validation now
    # keeps such text out, and the planner would survive it anyway.
    assert plan("\ud800 rock").frames > 0


@pytest.mark.parametrize(
    "url",
    [
        "http://xn--a.com/hook",
        "http://xn--zz.example/hook",
        "http://",
        "http://exa mple.com/hook",
        "http://a..b/hook",
        "https://-bad-.example/hook",
        "http://hook.example:99999/",
        "http://[::1/hook",
        "http://256.1.1.1/hook",
        "hook.example.com/in",
        "",
    ],
)
async def test_a_malformed_webhook_url_is_a_400_at_create_time(url: str) -> None:
    sandbox = Sandbox(clock=FakeClock(autojump=False))
    async with sandbox.serve() as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers=AUTH) as http:
            response = await http.post("/sonic/create", json={**DESCRIPTION, "webhook_url": url})
        assert response.status_code == 400
        assert response.json()["error"].startswith("webhook_url: ")
        await _still_serves(base_url)
    assert sandbox.credits == 5000


@pytest.mark.parametrize(
    "error",
    [
        idna.IDNAError("Codepoint U+0080 not allowed"),  # trio's IDNA encoding of xn--a
        UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadTimeout("timed out"),
        OSError(errno.EMFILE, "Too many open files"),
        RuntimeError("a bug in a receiver's stack"),
    ],
    ids=lambda error: type(error).__name__,
)
async def test_a_delivery_that_raises_is_a_failed_delivery(
    sandbox: Sandbox, clock: FakeClock, error: Exception
) -> None:
    calls: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise error
        return httpx.Response(204)

    async with httpx.AsyncClient(
        transport=sandbox.transport(), base_url=sandbox.base_url, headers=AUTH
    ) as http:
        body = {**DESCRIPTION, "webhook_url": "https://hooks.example/in"}
        await http.post("/sonic/create", json=body)
    clock.advance(3)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 0
        assert (sandbox.stats.webhooks_delivered, sandbox.stats.webhooks_failed) == (0, 1)
        clock.advance(2)  # the retry is due
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    assert (sandbox.stats.webhooks_delivered, sandbox.stats.webhooks_failed) == (1, 1)
    assert calls[0].headers["x-webhook-id"] == calls[1].headers["x-webhook-id"]


@pytest.mark.usefixtures("fast_deliveries")
async def test_the_delivery_loop_outlives_a_failing_round(monkeypatch: pytest.MonkeyPatch) -> None:
    received = anyio.Event()

    async def receiver(scope: Scope, receive: Receive, send: Send) -> None:
        await _ok(scope, receive, send)
        received.set()

    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock)
    start_round = sandbox._start_due_webhooks
    rounds: list[int] = []

    def flaky(task_group: anyio.abc.TaskGroup, client: httpx.AsyncClient) -> None:
        rounds.append(1)
        if len(rounds) <= 3:
            raise RuntimeError("a round of deliveries broke")
        start_round(task_group, client)

    monkeypatch.setattr(sandbox, "_start_due_webhooks", flaky)
    async with serve_http(receiver, "127.0.0.1", 0) as hook_port, sandbox.serve() as base_url:
        body = {**DESCRIPTION, "webhook_url": f"http://127.0.0.1:{hook_port}/hook"}
        async with httpx.AsyncClient(base_url=base_url, headers=AUTH) as http:
            assert (await http.post("/sonic/create", json=body)).status_code == 200
        clock.advance(3)
        with anyio.fail_after(5):
            await received.wait()
        await _still_serves(base_url)
    assert len(rounds) > 3
    assert sandbox.stats.webhooks_delivered == 1


@pytest.mark.usefixtures("fast_deliveries")
async def test_a_refused_delivery_over_loopback_is_counted_and_serving_goes_on() -> None:
    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as closed:
        dead_port = closed.extra(anyio.abc.SocketAttribute.local_port)  # noqa: S610
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock)
    async with sandbox.serve() as base_url:
        body = {**DESCRIPTION, "webhook_url": f"http://127.0.0.1:{dead_port}/hook"}
        async with httpx.AsyncClient(base_url=base_url, headers=AUTH) as http:
            assert (await http.post("/sonic/create", json=body)).status_code == 200
        clock.advance(3)
        with anyio.fail_after(5):
            while sandbox.stats.webhooks_failed == 0:
                await anyio.lowlevel.checkpoint()  # the delivery runs on the server's loop
        await _still_serves(base_url)


class _FailingAcceptor:
    """Wraps a real listener; its first `accept()` calls fail with `errors`."""

    def __init__(
        self, inner: anyio.abc.SocketListener, errors: list[Exception], clock: FakeClock
    ) -> None:
        self.inner = inner
        self.errors = errors
        self.clock = clock
        self.attempts: list[float] = []

    async def accept(self) -> anyio.abc.SocketStream:
        self.attempts.append(self.clock.now())
        if self.errors:
            raise self.errors.pop(0)
        return await self.inner.accept()


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EMFILE, "Too many open files"),
        OSError(errno.ENFILE, "Too many open files in system"),
        OSError(errno.ENOBUFS, "No buffer space available"),
        OSError(errno.ECONNABORTED, "Software caused connection abort"),
        RuntimeError("anything else"),
    ],
    ids=lambda error: str(error),
)
async def test_accept_errors_back_off_and_serving_goes_on(error: Exception) -> None:
    clock = FakeClock()  # the server's own: backoff waits take no real time
    limits = ServerLimits(
        clock=clock, accept_backoff=0.5, accept_backoff_max=2.0, idle_timeout=3600.0
    )
    async with await anyio.create_tcp_listener(local_host="127.0.0.1") as listener:
        port = listener.extra(anyio.abc.SocketAttribute.local_port)  # noqa: S610
        inner = listener.listeners[0]
        assert isinstance(inner, anyio.abc.SocketListener)
        acceptor = _FailingAcceptor(inner, [error] * 4, clock)
        async with serve_listeners(_ok, [acceptor], limits), httpx.AsyncClient() as http:
            with anyio.fail_after(5):
                response = await http.get(f"http://127.0.0.1:{port}/")
    assert response.json() == {"ok": True}
    gaps = [later - earlier for earlier, later in itertools.pairwise(acceptor.attempts)]
    assert gaps[:4] == [0.5, 1.0, 2.0, 2.0]  # doubling up to the cap


def _head(declared: int, *, auth: bool) -> bytes:
    lines = [
        b"POST /api/v1/sonic/create HTTP/1.1",
        b"host: 127.0.0.1",
        b"content-type: application/json",
        b"content-length: %d" % declared,
    ]
    if auth:
        lines.append(b"authorization: Bearer sk-loopback")
    return b"\r\n".join(lines) + b"\r\n\r\n"


@pytest.mark.parametrize("auth", [False, True])
async def test_a_huge_content_length_gets_413_before_the_body_is_read(auth: bool) -> None:
    sandbox = Sandbox()
    async with sandbox.serve() as base_url:
        async with await anyio.connect_tcp("127.0.0.1", _port(base_url)) as stream:
            await stream.send(_head(400_000_000, auth=auth) + b'{"custom_mode":')
            with anyio.fail_after(5):  # answered at once: nothing waits for 400 MB
                reply = await _read_until_closed(stream)
        assert reply.startswith(b"HTTP/1.1 413 ")
        assert b"\r\nconnection: close\r\n" in reply.lower()
        assert reply.endswith(b'{"error":"body: larger than 1048576 bytes"}')
        await _still_serves(base_url)
    assert sandbox.stats.creates == 0


async def test_bodies_over_the_limit_get_413_from_httpx_too() -> None:
    sandbox = Sandbox()
    limits = ServerLimits(max_body_bytes=1000)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 100  # chunked: the size is only known as it grows

    async with sandbox.serve(limits=limits) as base_url:
        async with httpx.AsyncClient(base_url=base_url, headers=AUTH) as http:
            sized = await http.post("/sonic/create", content=b" " * 200_000)
            chunked = await http.post("/sonic/create", content=chunks())
            at_limit = await http.post("/sonic/create", content=json.dumps(DESCRIPTION).ljust(1000))
        assert (sized.status_code, chunked.status_code, at_limit.status_code) == (413, 413, 200)
        assert sized.json() == {"error": "body: larger than 1000 bytes"}
        await _still_serves(base_url)


async def test_in_process_bodies_over_a_mebibyte_get_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/sonic/create", content=b" " * (1024 * 1024 + 1))
    assert (response.status_code, response.json()) == (
        413,
        {"error": "body: larger than 1048576 bytes"},
    )


def test_default_limits() -> None:
    limits = ServerLimits()
    assert limits.max_body_bytes == 1024 * 1024
    assert 5 <= limits.idle_timeout <= 15
    with pytest.raises(ValueError, match="idle_timeout"):
        ServerLimits(idle_timeout=0)


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # connected, never sent anything
        b"GET /api/v1/get-credits HTTP/1.1\r\nhost: x\r\n",  # stopped halfway through a head
        _head(100, auth=True) + b'{"custom_mode"',  # stopped halfway through a body
    ],
)
async def test_idle_connections_are_closed(sent: bytes) -> None:
    clock = FakeClock()  # the server's own: the idle timeout passes in no real time
    limits = ServerLimits(idle_timeout=7.0, clock=clock)
    async with serve_http(_ok, "127.0.0.1", 0, limits) as port:
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(sent)
            with anyio.fail_after(5):
                assert await _read_until_closed(stream) == b""
        assert 7.0 <= clock.now() <= 7.0 * 1.25 + 0.01
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/")).status_code == 200


async def test_an_idle_keep_alive_connection_is_closed_after_its_answers() -> None:
    clock = FakeClock()
    limits = ServerLimits(idle_timeout=7.0, clock=clock)
    async with serve_http(_ok, "127.0.0.1", 0, limits) as port:
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            conn = h11.Connection(h11.CLIENT)
            request = h11.Request(method="GET", target="/", headers=[("host", "x")])
            await stream.send(conn.send(request) + conn.send(h11.EndOfMessage()))
            with anyio.fail_after(5):
                reply = await _read_until_closed(stream)
    assert reply.startswith(b"HTTP/1.1 200 ")
    assert reply.endswith(b'{"ok":true}')  # answered, kept alive, then closed when idle


async def test_a_head_over_16_kib_gets_431_and_the_server_lives() -> None:
    sandbox = Sandbox()
    async with sandbox.serve() as base_url:
        async with await anyio.connect_tcp("127.0.0.1", _port(base_url)) as stream:
            await stream.send(b"GET /api/v1/sonic/task/" + b"x" * 20_000 + b" HTTP/1.1\r\n")
            with anyio.fail_after(5):
                reply = await _read_until_closed(stream)
        assert reply.startswith(b"HTTP/1.1 431 ")
        assert reply.endswith(b'{"error":"request header fields too large"}')
        await _still_serves(base_url)


async def test_answers_h11_cannot_send_become_500() -> None:
    odd_answers: list[tuple[int, list[tuple[bytes, bytes]]]] = [
        (99, []),  # not a final status
        (200, [(b"x-bad", b"new\nline")]),  # a header h11 refuses
        (200, [(b"content-length", b"3")]),  # a wrong length is replaced
    ]
    answers = iter(odd_answers)

    async def odd(scope: Scope, receive: Receive, send: Send) -> None:
        status, headers = next(answers)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"ok":true}'})

    async with serve_http(odd, "127.0.0.1", 0) as port, httpx.AsyncClient() as http:
        first = await http.get(f"http://127.0.0.1:{port}/")
        second = await http.get(f"http://127.0.0.1:{port}/")
        third = await http.get(f"http://127.0.0.1:{port}/")
    assert (first.status_code, first.json()) == (500, {"error": "internal server error"})
    assert second.status_code == 500
    assert (third.status_code, third.json()) == (200, {"ok": True})


async def test_head_requests_get_headers_only() -> None:
    sandbox = Sandbox()
    async with sandbox.serve() as base_url, httpx.AsyncClient(headers=AUTH) as http:
        response = await http.head(f"{base_url}/get-credits")
        assert (response.status_code, response.content) == (405, b"")
        assert int(response.headers["content-length"]) > 0
        await _still_serves(base_url)


async def test_auth_before_routing_over_loopback() -> None:
    sandbox = Sandbox()
    async with sandbox.serve() as base_url, httpx.AsyncClient(base_url=base_url) as http:
        assert (await http.get("/no/such/path")).status_code == 401
        assert (await http.get("/no/such/path", headers=AUTH)).status_code == 404
        assert (await http.get("/sonic/create")).status_code == 401
        wrong = await http.get("/sonic/create", headers=AUTH)
        assert (wrong.status_code, wrong.headers["allow"]) == (405, "POST")
