"""The sandbox over real loopback sockets: the h11 server, serve_in_thread, the command."""

from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import sys
from typing import TYPE_CHECKING

import anyio
import h11
import httpx
import pytest

import musicapi
from musicapi.sandbox import Sandbox
from musicapi.sandbox._server import serve_http
from musicapi.testing import FakeClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from musicapi.sandbox._http import Receive, Scope, Send

AUTH = {"Authorization": "Bearer sk-loopback"}


async def _exchange(
    stream: anyio.abc.SocketStream, conn: h11.Connection, request: h11.Request
) -> tuple[h11.Response, bytes]:
    """Send one request on a raw connection and read its whole response."""
    await stream.send(conn.send(request) + conn.send(h11.EndOfMessage()))
    response: h11.Response | None = None
    body = b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await stream.receive())
        elif isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert response is not None
            conn.start_next_cycle()
            return response, body


async def _read_until_closed(stream: anyio.abc.SocketStream) -> bytes:
    chunks: list[bytes] = []
    with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
        while True:
            chunks.append(await stream.receive())
    return b"".join(chunks)


def _get(path: str, port: int) -> h11.Request:
    headers = [("host", f"127.0.0.1:{port}"), ("authorization", AUTH["Authorization"])]
    return h11.Request(method="GET", target=path, headers=headers)


async def test_keep_alive_and_concurrent_connections() -> None:
    sandbox = Sandbox(clock=FakeClock(autojump=False))
    async with sandbox.serve() as base_url:
        port = int(base_url.split(":")[2].split("/")[0])
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            conn = h11.Connection(h11.CLIENT)
            for _ in range(3):  # three requests on one connection
                response, body = await _exchange(stream, conn, _get("/api/v1/get-credits", port))
                assert response.status_code == 200
                assert body == b'{"credits":5000,"extra_credits":0}'

        statuses: list[int] = []
        async with httpx.AsyncClient(base_url=base_url, headers=AUTH) as http:

            async def fetch() -> None:
                statuses.append((await http.get("/get-credits")).status_code)

            async with anyio.create_task_group() as tg:
                for _ in range(10):
                    tg.start_soon(fetch)
        assert statuses == [200] * 10
    assert sandbox.stats.requests == {"credits": 13}


async def test_lifecycle_and_absolute_audio_urls_over_loopback() -> None:
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock)
    body = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "lofi study"}
    async with sandbox.serve() as base_url, httpx.AsyncClient(base_url=base_url) as http:
        created = await http.post("/sonic/create", json=body, headers=AUTH)
        task_id = created.json()["task_id"]
        assert (await http.get(f"/sonic/task/{task_id}", headers=AUTH)).status_code == 202
        clock.advance(3)
        clip = (await http.get(f"/sonic/task/{task_id}", headers=AUTH)).json()["data"][0]
        origin = base_url.removesuffix("/api/v1")
        assert clip["audio_url"] == f"{origin}/files/{clip['clip_id']}.wav"
        audio = await http.get(clip["audio_url"])
        assert (audio.status_code, audio.content[:4]) == (200, b"RIFF")


async def test_chunked_request_body() -> None:
    sandbox = Sandbox()

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"custom_mode": false, "mv": "sonic-v5", '
        yield b'"gpt_description_prompt": "ambient piano"}'

    async with sandbox.serve() as base_url, httpx.AsyncClient(base_url=base_url) as http:
        response = await http.post("/sonic/create", content=chunks(), headers=AUTH)
    assert response.status_code == 200
    assert "task_id" in response.json()


@pytest.mark.parametrize(
    "garbage",
    [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", b"\x16\x03\x01\x02\x00"],
)
async def test_a_malformed_request_gets_400_and_the_server_lives_on(garbage: bytes) -> None:
    sandbox = Sandbox()
    async with sandbox.serve() as base_url:
        port = int(base_url.split(":")[2].split("/")[0])
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(garbage)
            with anyio.fail_after(5):
                reply = await _read_until_closed(stream)
        assert reply.startswith(b"HTTP/1.1 400 ")
        assert b"\r\nx-request-id: req_" in reply
        assert reply.endswith(b'{"error":"bad request"}')
        async with httpx.AsyncClient(base_url=base_url, headers=AUTH) as http:
            assert (await http.get("/get-credits")).status_code == 200


async def test_drop_next_closes_the_socket_without_a_response() -> None:
    sandbox = Sandbox()
    sandbox.faults.drop_next["credits"] = 1
    async with sandbox.serve() as base_url:
        port = int(base_url.split(":")[2].split("/")[0])
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            conn = h11.Connection(h11.CLIENT)
            await stream.send(conn.send(_get("/api/v1/get-credits", port)))
            await stream.send(conn.send(h11.EndOfMessage()))
            with anyio.fail_after(5), pytest.raises(anyio.EndOfStream):
                await stream.receive()
        async with httpx.AsyncClient(base_url=base_url, headers=AUTH) as http:
            assert (await http.get("/get-credits")).status_code == 200
    assert sandbox.stats.dropped == 1


async def test_app_errors_become_500_without_stopping_the_server() -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    async with serve_http(broken, "127.0.0.1", 0) as port, httpx.AsyncClient() as http:
        for _ in range(2):
            response = await http.get(f"http://127.0.0.1:{port}/")
            assert response.status_code == 500
            assert response.headers["x-request-id"].startswith("req_")


async def test_webhooks_are_delivered_while_serving() -> None:
    received: list[bytes] = []
    arrived = anyio.Event()

    async def receiver(scope: Scope, receive: Receive, send: Send) -> None:
        received.append((await receive())["body"])
        arrived.set()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock)
    async with serve_http(receiver, "127.0.0.1", 0) as hook_port, sandbox.serve() as base_url:
        body = {
            "custom_mode": False,
            "mv": "sonic-v5",
            "gpt_description_prompt": "disco",
            "webhook_url": f"http://127.0.0.1:{hook_port}/hook",
        }
        async with httpx.AsyncClient(base_url=base_url, headers=AUTH) as http:
            task_id = (await http.post("/sonic/create", json=body)).json()["task_id"]
        clock.advance(3)
        with anyio.fail_after(5):
            await arrived.wait()
    assert task_id.encode() in received[0]
    assert base_url.removesuffix("/api/v1").encode() + b"/files/" in received[0]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_serve_in_thread(backend: str) -> None:
    sandbox = Sandbox(clock=FakeClock(autojump=False))
    with sandbox.serve_in_thread(backend=backend) as base_url, httpx.Client() as http:
        assert base_url.startswith("http://127.0.0.1:")
        created = http.post(
            f"{base_url}/sonic/create",
            json={"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "rock"},
            headers=AUTH,
        )
        task_id = created.json()["task_id"]
        origin = base_url.removesuffix("/api/v1")
        assert http.post(f"{origin}/_sandbox/clock", json={"advance": 3}).status_code == 200
        assert http.get(f"{base_url}/sonic/task/{task_id}", headers=AUTH).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/get-credits", headers=AUTH)


def test_serve_in_thread_reports_a_bind_failure() -> None:
    serving = Sandbox().serve_in_thread(host="203.0.113.1")  # an address this host does not have
    with pytest.raises(OSError, match="assign requested address"):
        serving.__enter__()


def test_command_line_serves_until_terminated() -> None:
    root = pathlib.Path(musicapi.__file__).parent.parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "musicapi.sandbox", "--port", "0", "--credits", "42"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        assert not base_url.endswith(":0/api/v1")
        response = httpx.get(f"{base_url}/get-credits", headers=AUTH, timeout=5)
        assert response.json() == {"credits": 42, "extra_credits": 0}
    finally:
        process.terminate()
        process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
