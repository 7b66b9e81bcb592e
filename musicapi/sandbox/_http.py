"""The sandbox's own small HTTP vocabulary on top of ASGI: a read request and an answer.

Kept apart from the routes so that `_app.py` reads as API behaviour, and so that the
in-process transport and the loopback server share one definition of what "drop the
connection" means.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import attrs

__all__ = [
    "MAX_BODY_BYTES",
    "Answer",
    "BodyTooLarge",
    "DroppedConnection",
    "Message",
    "NonFinite",
    "Receive",
    "Request",
    "Scope",
    "Send",
    "format_seconds",
    "json_answer",
    "json_object",
    "new_request_id",
    "parse_json",
    "read_request",
    "send_answer",
]

MAX_BODY_BYTES = 1 << 20
"""The largest request body the sandbox reads (1 MiB); a larger one is answered 413.

A create body is a few kilobytes at most (5000 characters of lyrics); the limit only
keeps a stray upload from being held in memory.
"""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyTooLarge(Exception):
    """Raised while reading a request whose body is over the limit; answered with 413."""


@attrs.frozen
class NonFinite:
    """What the sandbox's JSON parser makes of a number no JSON document can carry.

    RFC 8259 has no `NaN` or `Infinity`, and a number such as `1e999` has no finite
    value; Python's `json` module accepts all of them by default. The parser turns each
    into this marker instead, so that validation can name the field that holds it
    rather than failing on the whole body.

    Attributes:
        text: The token as it was written (`NaN`, `-Infinity`, `1e999`).
    """

    text: str


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
        query: The raw query string (after `?`, percent-encoded), `""` if none.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    origin: str
    query: str = ""


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


def _number(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


def _integer(text: str) -> int | NonFinite:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        return NonFinite(text)


def parse_json(body: bytes) -> object:
    """Parse a request body as JSON, the strict way.

    `NaN`, `Infinity`, `-Infinity` and numbers beyond a double become `NonFinite`
    markers (see there); lone surrogates (escaped in the JSON, or even sent as UTF-8
    bytes, which `json` decodes with `surrogatepass`) stay in the strings, for
    validation to reject by field.

    Raises:
        ValueError: The body is not JSON (bad syntax, bad encoding, nesting deeper than
            the parser's recursion limit).
    """
    try:
        return json.loads(body, parse_constant=NonFinite, parse_float=_number, parse_int=_integer)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def json_object(body: bytes) -> dict[str, Any] | None:
    """Parse a request body that should be a JSON object; `None` if it is not one."""
    try:
        parsed = parse_json(body)
    except ValueError:
        return None
    return cast("dict[str, Any]", parsed) if isinstance(parsed, dict) else None


def new_request_id() -> str:
    """Return a fresh, unique value for the `x-request-id` header."""
    return f"req_{secrets.token_hex(12)}"


def format_seconds(seconds: float) -> str:
    """Format seconds for `Retry-After`: `"2"`, `"0.5"`, `"0.125"`."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


async def read_request(
    scope: Scope, receive: Receive, max_body_bytes: int = MAX_BODY_BYTES
) -> Request:
    """Read the whole request of an ASGI `http` scope.

    Raises:
        BodyTooLarge: The body is longer than `max_body_bytes`. What comes past the
            limit is received and dropped, not kept: the sender (in-process, an
            `httpx` request stream) expects its body to be consumed.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size <= max_body_bytes:
            chunks.append(chunk)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    if size > max_body_bytes:
        raise BodyTooLarge
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]
    }
    host = headers.get("host")
    if not host:
        server_host, server_port = scope.get("server") or ("localhost", None)
        host = server_host if server_port in (None, 80) else f"{server_host}:{server_port}"
    return Request(
        scope["method"],
        scope["path"],
        headers,
        b"".join(chunks),
        f"{scope['scheme']}://{host}",
        bytes(scope.get("query_string", b"")).decode("latin-1"),
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
