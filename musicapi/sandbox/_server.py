"""A loopback HTTP/1.1 server for any ASGI app, on anyio and h11.

It exists so that the sandbox can be reached over real sockets (another process, a
client with its own connection pool, socket-level faults) without any dependency
beyond httpx's own. It keeps connections alive, serves each connection in its own
task, reads `Content-Length` and chunked request bodies, answers a request it cannot
parse with a 400, and never lets one connection's trouble stop the server. It runs on
asyncio and on trio alike.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import anyio
import anyio.abc
import h11
from anyio.abc import SocketAttribute

from musicapi.sandbox._http import (
    DroppedConnection,
    Message,
    Receive,
    Scope,
    Send,
    new_request_id,
)

__all__ = ["ASGIApp", "serve_http"]


ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_BAD_REQUEST = b'{"error":"bad request"}'
_SERVER_ERROR = b'{"error":"internal server error"}'
_READ_SIZE = 65536


async def _next_event(conn: h11.Connection, stream: anyio.abc.SocketStream) -> Any:
    """Return h11's next event, reading from the socket as needed."""
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        try:
            data = await stream.receive(_READ_SIZE)
        except anyio.EndOfStream:
            data = b""
        conn.receive_data(data)


async def _read_body(conn: h11.Connection, stream: anyio.abc.SocketStream) -> bytes:
    chunks: list[bytes] = []
    while True:
        event = await _next_event(conn, stream)
        if isinstance(event, h11.EndOfMessage):
            return b"".join(chunks)
        if isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
        else:
            raise h11.RemoteProtocolError(f"unexpected {type(event).__name__} in a request body")


def _scope(request: h11.Request, stream: anyio.abc.SocketStream) -> Scope:
    target = bytes(request.target)
    raw_path, _, query = target.partition(b"?")
    local = stream.extra(SocketAttribute.local_address)  # noqa: S610
    remote = stream.extra(SocketAttribute.remote_address)  # noqa: S610
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": request.http_version.decode("ascii"),
        "method": request.method.decode("ascii"),
        "scheme": "http",
        "path": unquote(raw_path.decode("latin-1")),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": [(bytes(name).lower(), bytes(value)) for name, value in request.headers],
        "server": tuple(local[:2]) if isinstance(local, tuple) else None,
        "client": tuple(remote[:2]) if isinstance(remote, tuple) else None,
    }


async def _call_app(
    app: ASGIApp, scope: Scope, body: bytes
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run `app` on one request; return status, headers and body (a 500 if the app broke)."""
    sent: list[Message] = []
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    try:
        await app(scope, receive, send)
        start = next(message for message in sent if message["type"] == "http.response.start")
    except DroppedConnection:
        raise
    except Exception:
        return 500, [(b"content-type", b"application/json")], _SERVER_ERROR
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], list(start.get("headers", [])), payload


async def _respond(
    conn: h11.Connection,
    stream: anyio.abc.SocketStream,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
) -> None:
    if not any(name.lower() == b"content-length" for name, _ in headers):
        headers = [*headers, (b"content-length", str(len(body)).encode())]
    if not any(name.lower() == b"x-request-id" for name, _ in headers):
        headers = [*headers, (b"x-request-id", new_request_id().encode())]
    await stream.send(conn.send(h11.Response(status_code=status, headers=headers)))
    if body:
        await stream.send(conn.send(h11.Data(data=body)))
    await stream.send(conn.send(h11.EndOfMessage()))


async def _serve_connection(app: ASGIApp, stream: anyio.abc.SocketStream) -> None:
    """Serve every request of one connection until either side closes it."""
    conn = h11.Connection(h11.SERVER)
    while True:
        try:
            event = await _next_event(conn, stream)
            if not isinstance(event, h11.Request):
                return  # the client closed the connection
            body = await _read_body(conn, stream)
        except h11.RemoteProtocolError as exc:
            if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                status = exc.error_status_hint
                await _respond(
                    conn, stream, status, [(b"content-type", b"application/json")], _BAD_REQUEST
                )
            return
        try:
            status, headers, payload = await _call_app(app, _scope(event, stream), body)
        except DroppedConnection:
            return
        await _respond(conn, stream, status, headers, payload)
        if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return
        conn.start_next_cycle()


async def _handle(app: ASGIApp, stream: anyio.abc.SocketStream) -> None:
    """Serve one connection; whatever goes wrong with it closes it and nothing else."""
    async with stream:
        with contextlib.suppress(
            anyio.BrokenResourceError, anyio.ClosedResourceError, OSError, h11.LocalProtocolError
        ):
            await _serve_connection(app, stream)


@contextlib.asynccontextmanager
async def serve_http(app: ASGIApp, host: str, port: int) -> AsyncGenerator[int, None]:
    """Serve `app` over HTTP/1.1 on `host:port` while the context is open.

    Args:
        app: The ASGI application.
        host: The address to bind, e.g. `127.0.0.1`.
        port: The port to bind; 0 picks a free one.

    Yields:
        The bound port.
    """
    listener = await anyio.create_tcp_listener(local_host=host, local_port=port, reuse_port=False)
    bound = listener.extra(SocketAttribute.local_port)  # noqa: S610

    async def handle(stream: anyio.abc.SocketStream) -> None:
        await _handle(app, stream)

    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, handle)
        try:
            yield bound
        finally:
            tg.cancel_scope.cancel()
