"""The sandbox's own small HTTP vocabulary on top of ASGI: a read request and an answer.

Kept apart from the routes so that `_app.py` reads as API behaviour, and so that the
in-process transport and the loopback server share one definition of what "drop the
connection" means.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import attrs

__all__ = [
    "Answer",
    "DroppedConnection",
    "Message",
    "Receive",
    "Request",
    "Scope",
    "Send",
    "format_seconds",
    "json_answer",
    "json_object",
    "new_request_id",
    "read_request",
    "send_answer",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class DroppedConnection(Exception):
    """Raised by the app to leave a request without any answer at all.

    The in-process transport turns it into `httpx.RemoteProtocolError`; the loopback
    server closes the socket without writing.
    """


@attrs.frozen
class Request:
    """A request, read in full.

    Attributes:
        method: The HTTP method.
        path: The URL path.
        headers: Header names (lower-case) to values; a repeated header keeps its last value.
        body: The raw body.
        origin: `scheme://host[:port]` as the client addressed us, for absolute URLs.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    origin: str


@attrs.frozen
class Answer:
    """A complete response: status, body and any extra headers."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def json_answer(status: int, payload: object, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    """Return an answer whose body is `payload` as JSON."""
    return Answer(status, json.dumps(payload, separators=(",", ":")).encode(), headers=headers)


def json_object(body: bytes) -> dict[str, Any] | None:
    """Parse a request body that should be a JSON object; `None` if it is not one."""
    try:
        parsed: object = json.loads(body)
    except ValueError:
        return None
    return cast("dict[str, Any]", parsed) if isinstance(parsed, dict) else None


def new_request_id() -> str:
    """Return a fresh, unique value for the `x-request-id` header."""
    return f"req_{secrets.token_hex(12)}"


def format_seconds(seconds: float) -> str:
    """Format seconds for `Retry-After`: `"2"`, `"0.5"`, `"0.125"`."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


async def read_request(scope: Scope, receive: Receive) -> Request:
    """Read the whole request of an ASGI `http` scope."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
    }
    host = headers.get("host")
    if not host:
        server_host, server_port = scope.get("server") or ("localhost", None)
        host = server_host if server_port in (None, 80) else f"{server_host}:{server_port}"
    return Request(
        scope["method"], scope["path"], headers, b"".join(chunks), f"{scope['scheme']}://{host}"
    )


async def send_answer(send: Send, answer: Answer) -> None:
    """Send `answer` with its length, type and a fresh `x-request-id`."""
    headers = [
        (b"content-type", answer.content_type.encode()),
        (b"content-length", str(len(answer.body)).encode()),
        (b"x-request-id", new_request_id().encode()),
        *((name.encode(), value.encode()) for name, value in answer.headers),
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
