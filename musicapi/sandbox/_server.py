"""A loopback HTTP/1.1 server for any ASGI app, on anyio and h11.

It exists so that the sandbox can be reached over real sockets (another process, a
client with its own connection pool, socket-level faults) without any dependency
beyond httpx's own. It keeps connections alive, serves each connection in its own
task, reads `Content-Length` and chunked request bodies, and runs on asyncio and on
trio alike.

It never stops serving because of what happens on a connection, in the app or in the
operating system, since a sandbox that dies in the middle of a test run fails every
test after it, far from the cause:

* a request it cannot parse gets a 400 (431 for a head over h11's 16 KiB);
* an app that raises, or answers something h11 cannot send, gets a 500;
* a body over `ServerLimits.max_body_bytes` gets a 413 before it is read (from its
  `Content-Length`, or as soon as a chunked body grows past the limit), and the
  connection is closed;
* a connection blocked on the network for `ServerLimits.idle_timeout` (an idle
  keep-alive connection, a client that stops halfway through a request or stops reading
  the answer) is closed;
* `accept()` failing (`EMFILE` when the process is out of file descriptors, `ENOBUFS`,
  `ECONNABORTED`, ...) makes the server wait a little, longer each time up to a cap,
  and try again;
* anything else that goes wrong on one connection closes that connection only.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import unquote

import anyio
import anyio.abc
import attrs
import h11
from anyio.abc import SocketAttribute

from musicapi._clock import REAL_CLOCK, Clock
from musicapi.sandbox._http import (
    MAX_BODY_BYTES,
    DroppedConnection,
    Message,
    Receive,
    Scope,
    Send,
    new_request_id,
)

__all__ = ["ASGIApp", "Acceptor", "ServerLimits", "serve_http", "serve_listeners"]


ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_JSON = (b"content-type", b"application/json")
_SERVER_ERROR = b'{"error":"internal server error"}'
_READ_SIZE = 65536
_DRAIN_BYTES = 8 << 20
"""How much of a refused body is read and dropped after the 413, at most.

Closing a socket with unread data makes the kernel reset the connection, and a client
still writing its body could then lose the 413 it was sent; reading a bounded amount
first gives it time to see the answer without holding anything in memory."""

_log = logging.getLogger("musicapi.sandbox")


def _positive(_inst: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be positive, not {value!r}")


@attrs.frozen(kw_only=True)
class ServerLimits:
    """The loopback server's limits and the clock that paces its timers.

    Attributes:
        max_body_bytes: The largest request body read; a larger one is answered 413
            without being read. (The sandbox's app refuses bodies over 1 MiB on its
            own as well, in-process too, so raising this does not let more through.)
        idle_timeout: Seconds a connection may stay blocked on the network (waiting
            for a request, for more of one, or for the client to read an answer)
            before it is closed.
        accept_backoff: Seconds to wait after the first failed `accept()`; each
            further failure in a row doubles it.
        accept_backoff_max: The longest wait between two `accept()` attempts.
        clock: Paces the idle timeout and the accept backoff. The real clock by
            default; tests pass a `musicapi.testing.FakeClock` of their own (never the
            sandbox's, whose virtual time these timers must not move).
    """

    max_body_bytes: int = attrs.field(default=MAX_BODY_BYTES, validator=_positive)
    idle_timeout: float = attrs.field(default=10.0, validator=_positive)
    accept_backoff: float = attrs.field(default=0.01, validator=_positive)
    accept_backoff_max: float = attrs.field(default=1.0, validator=_positive)
    clock: Clock = attrs.field(default=REAL_CLOCK, repr=False)


class Acceptor(Protocol):
    """What the server needs of a listener: `accept()` one connection at a time."""

    async def accept(self) -> anyio.abc.SocketStream:
        """Wait for and return the next connection."""
        ...


class _TooLarge(Exception):
    """The request body grew past the limit while it was read."""


class _Connection:
    """One client connection: its stream, its cancel scope, and since when it is blocked."""

    __slots__ = ("blocked_since", "clock", "scope", "stream")

    def __init__(self, stream: anyio.abc.SocketStream, clock: Clock) -> None:
        self.stream = stream
        self.clock = clock
        self.scope = anyio.CancelScope()
        self.blocked_since: float | None = None

    async def receive(self) -> bytes:
        """Return the next bytes from the client, `b""` once it has closed its side."""
        self.blocked_since = self.clock.now()
        try:
            return await self.stream.receive(_READ_SIZE)
        except anyio.EndOfStream:
            return b""
        finally:
            self.blocked_since = None

    async def send(self, data: bytes) -> None:
        """Send `data` to the client."""
        self.blocked_since = self.clock.now()
        try:
            await self.stream.send(data)
        finally:
            self.blocked_since = None


async def _next_event(conn: h11.Connection, connection: _Connection) -> Any:
    """Return h11's next event, reading from the socket as needed."""
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.receive_data(await connection.receive())


async def _read_body(conn: h11.Connection, connection: _Connection, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        event = await _next_event(conn, connection)
        if isinstance(event, h11.EndOfMessage):
            return b"".join(chunks)
        if isinstance(event, h11.Data):
            size += len(event.data)
            if size > limit:
                raise _TooLarge
            chunks.append(bytes(event.data))
        else:
            raise h11.RemoteProtocolError(f"unexpected {type(event).__name__} in a request body")


def _declared_length(request: h11.Request) -> int | None:
    """Return the request's `Content-Length` (h11 has checked it is digits), or `None`."""
    for name, value in request.headers:
        if name == b"content-length":
            return int(value)
    return None


_ABSOLUTE_FORM = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*")


def _scope(request: h11.Request, stream: anyio.abc.SocketStream) -> Scope:
    target = bytes(request.target)
    absolute = _ABSOLUTE_FORM.match(target)
    if absolute is not None:  # `GET http://host/path`: a server must accept it (RFC 9112, 3.2.2)
        target = target[absolute.end() :]
        target = target if target.startswith(b"/") else b"/" + target
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
    app: ASGIApp, request: h11.Request, stream: anyio.abc.SocketStream, body: bytes
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
        await app(_scope(request, stream), receive, send)
        start = next(message for message in sent if message["type"] == "http.response.start")
        payload = b"".join(
            bytes(m.get("body", b"")) for m in sent if m["type"] == "http.response.body"
        )
        return start["status"], list(start.get("headers", [])), payload
    except DroppedConnection:
        raise
    except Exception as exc:
        _log.debug("the app failed on %s %r: %r", request.method, request.target, exc)
        return 500, [_JSON], _SERVER_ERROR


def _error_body(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase.lower()
    except ValueError:
        phrase = "bad request"
    return b'{"error":"%s"}' % phrase.encode()


def _response(
    status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> tuple[h11.Response, bytes]:
    """Return the h11 response head for an answer, or a 500 if h11 cannot send it."""
    kept = [(name, value) for name, value in headers if bytes(name).lower() != b"content-length"]
    if not any(bytes(name).lower() == b"x-request-id" for name, _ in kept):
        kept.append((b"x-request-id", new_request_id().encode()))
    try:
        return h11.Response(
            status_code=status, headers=[*kept, (b"content-length", str(len(body)).encode())]
        ), body
    except (h11.LocalProtocolError, TypeError, ValueError):
        return _response(500, [_JSON], _SERVER_ERROR)


async def _respond(
    conn: h11.Connection,
    connection: _Connection,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    *,
    head_only: bool = False,
) -> None:
    response, body = _response(status, headers, body)
    data = conn.send(response)
    if body and not head_only:
        data += conn.send(h11.Data(data=body))
    data += conn.send(h11.EndOfMessage())
    await connection.send(data)


async def _refuse_body(conn: h11.Connection, connection: _Connection, limit: int) -> None:
    """Answer 413 for a body over `limit`, then let the client finish before closing."""
    body = b'{"error":"body: larger than %d bytes"}' % limit
    await _respond(conn, connection, 413, [_JSON, (b"connection", b"close")], body)
    with contextlib.suppress(Exception):
        await connection.stream.send_eof()
        drained = 0
        while drained < _DRAIN_BYTES:
            data = await connection.receive()
            if not data:
                break
            drained += len(data)


async def _serve_connection(app: ASGIApp, connection: _Connection, limits: ServerLimits) -> None:
    """Serve every request of one connection until either side closes it."""
    conn = h11.Connection(h11.SERVER)
    while True:
        try:
            event = await _next_event(conn, connection)
            if not isinstance(event, h11.Request):
                return  # the client closed the connection
            declared = _declared_length(event)
            if declared is not None and declared > limits.max_body_bytes:
                raise _TooLarge
            body = await _read_body(conn, connection, limits.max_body_bytes)
        except _TooLarge:
            await _refuse_body(conn, connection, limits.max_body_bytes)
            return
        except h11.RemoteProtocolError as exc:
            if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                status = exc.error_status_hint
                await _respond(conn, connection, status, [_JSON], _error_body(status))
            return
        try:
            status, headers, payload = await _call_app(app, event, connection.stream, body)
        except DroppedConnection:
            return
        head_only = event.method == b"HEAD"
        await _respond(conn, connection, status, headers, payload, head_only=head_only)
        if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return
        conn.start_next_cycle()


class _Server:
    """The state of one serving loop: the app, the limits and the open connections."""

    def __init__(self, app: ASGIApp, limits: ServerLimits) -> None:
        self.app = app
        self.limits = limits
        self.connections: set[_Connection] = set()

    async def handle(self, stream: anyio.abc.SocketStream) -> None:
        """Serve one connection; whatever goes wrong with it closes it and nothing else."""
        connection = _Connection(stream, self.limits.clock)
        self.connections.add(connection)
        try:
            with connection.scope:
                async with stream:
                    await _serve_connection(self.app, connection, self.limits)
        except Exception as exc:
            _log.debug("connection closed after an error: %r", exc)
        finally:
            self.connections.discard(connection)

    async def accept_forever(self, listener: Acceptor, task_group: anyio.abc.TaskGroup) -> None:
        """Accept connections until the listener is closed; back off when `accept()` fails."""
        pause = 0.0
        while True:
            try:
                stream = await listener.accept()
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                return  # the listener was closed: the server is stopping
            except Exception as exc:
                pause = min(
                    max(2 * pause, self.limits.accept_backoff), self.limits.accept_backoff_max
                )
                _log.warning("accept() failed (%r); trying again in %.3g s", exc, pause)
                await self.limits.clock.sleep(pause)
                continue
            pause = 0.0
            task_group.start_soon(self.handle, stream)

    async def close_idle_forever(self) -> None:
        """Close every connection blocked on the network for `idle_timeout` or longer."""
        clock, timeout = self.limits.clock, self.limits.idle_timeout
        while True:
            await clock.sleep(timeout / 4)
            now = clock.now()
            for connection in list(self.connections):
                since = connection.blocked_since
                if since is not None and now - since >= timeout:
                    connection.scope.cancel()


@contextlib.asynccontextmanager
async def serve_listeners(
    app: ASGIApp, listeners: Sequence[Acceptor], limits: ServerLimits | None = None
) -> AsyncGenerator[None, None]:
    """Serve `app` on connections from `listeners` while the context is open.

    The listeners are not closed here: whoever opened them closes them.

    Args:
        app: The ASGI application.
        listeners: Where connections come from (e.g. the `listeners` of
            `anyio.create_tcp_listener`'s multi-listener).
        limits: The server's limits; the defaults if `None`.
    """
    server = _Server(app, limits if limits is not None else ServerLimits())
    async with anyio.create_task_group() as tg:
        for listener in listeners:
            tg.start_soon(server.accept_forever, listener, tg)
        tg.start_soon(server.close_idle_forever)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()


@contextlib.asynccontextmanager
async def serve_http(
    app: ASGIApp, host: str, port: int, limits: ServerLimits | None = None
) -> AsyncGenerator[int, None]:
    """Serve `app` over HTTP/1.1 on `host:port` while the context is open.

    Args:
        app: The ASGI application.
        host: The address to bind, e.g. `127.0.0.1`.
        port: The port to bind; 0 picks a free one.
        limits: The server's limits; the defaults if `None`.

    Yields:
        The bound port.
    """
    listener = await anyio.create_tcp_listener(local_host=host, local_port=port, reuse_port=False)
    bound = listener.extra(SocketAttribute.local_port)  # noqa: S610
    acceptors = [one for one in listener.listeners if isinstance(one, anyio.abc.SocketListener)]
    async with listener, serve_listeners(app, acceptors, limits):
        yield bound
