"""Hostile input never makes the sandbox crash, lie about its status, or stop serving.

Properties, for any request: the answer is an HTTP response whose body is strict JSON
(no NaN) and whose status is one the API documents for a client's mistake or success,
{200, 202, 400, 401, 404, 405, 413, 429}, never a 500; and the sandbox answers a
normal request afterwards. Most examples go straight to the ASGI app (fast, and free to
send what httpx would refuse to build); fewer go over the loopback server as raw bytes.

Examples are bounded and derandomized, so the run is the same on every machine and
takes seconds.
"""

from __future__ import annotations

import contextlib
import json
from typing import TYPE_CHECKING

import anyio
import h11
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicapi.sandbox import Faults, Sandbox
from musicapi.sandbox._validate import FIELD_TYPES
from musicapi.testing import FakeClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from musicapi.sandbox._http import Message

ALLOWED = {200, 202, 400, 401, 404, 405, 413, 429}
KEY = b"Bearer sk-fuzz"
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- strategies ------------------------------------------------------------------------

_SURROGATES = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])
_TEXT = st.text(st.characters() | _SURROGATES, max_size=30)
_NUMBERS = (
    st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([10**400, -(10**400), 1e308, 5e-324, -0.0])
)
_JSON = st.recursive(
    st.none() | st.booleans() | _NUMBERS | _TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4),
    max_leaves=12,
)
_FIELDS = st.sampled_from([*FIELD_TYPES, "lyric", "", "some_future_field"])
_BASES: list[dict[str, object]] = [
    {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "lofi"},
    {"custom_mode": True, "mv": "sonic-v4", "prompt": "la", "tags": "rock"},
    {"task_type": "extend_music", "continue_clip_id": "c", "continue_at": 1, "custom_mode": True},
    {"task_type": "concat_music", "continue_clip_id": "c"},
]


def _merge(base: dict[str, object], changes: dict[str, object]) -> dict[str, object]:
    return {**base, **changes}


_CHANGES: st.SearchStrategy[dict[str, object]] = st.dictionaries(
    _FIELDS, _JSON | st.sampled_from(["", "x" * 6000]), max_size=4
)
_CREATE_SHAPED = st.builds(_merge, st.sampled_from(_BASES), _CHANGES)


def _json_text(value: object) -> bytes:
    """Serialize as Python does, NaN tokens and escaped lone surrogates included."""
    return json.dumps(value, allow_nan=True).encode()


_BODIES = st.one_of(
    st.just(b""),
    _JSON.map(_json_text),
    _CREATE_SHAPED.map(_json_text),
    st.binary(max_size=200),
    st.integers(1, 3000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, 3000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.integers(1, 200_000).map(lambda depth: b"[" * depth),
    st.sampled_from(
        [
            b"1" * 5000,
            b'{"continue_at": ' + b"9" * 5000 + b"}",
            b'{"style_weight": 1e999}',
            b'{"style_weight": NaN, "custom_mode": false}',
            b'{"tags": "\\ud800"}',
            b'{"tags": "\xed\xa0\x80"}',  # a surrogate encoded as (invalid) UTF-8
            b"\xef\xbb\xbf{}",
            b'{"a": 1, "a": 2}',
        ]
    ),
)
_SEGMENTS = st.sampled_from(
    ["api", "v1", "sonic", "task", "create", "get-credits", "files", "_sandbox", "faults"]
    + ["clock", "stats", "..", ".", "", "%2F", "%00", "%ZZ", "x.wav", "x.jpg", "\x00", "\r\n"]
)
_PATHS = st.one_of(
    st.lists(_SEGMENTS | _TEXT, max_size=6).map(lambda parts: "/" + "/".join(parts)),
    st.sampled_from(["/api/v1/sonic/task/", "/files/", "/_sandbox/", "/api/v1/"]).flatmap(
        lambda prefix: (_TEXT | st.text(min_size=1000, max_size=4000)).map(
            lambda tail: prefix + tail
        )
    ),
    st.sampled_from(
        [
            "/api/v1/get-credits",
            "/api/v1/sonic/create",
            "/api/v1/sonic/task/x",
            "/_sandbox/faults",
            "/_sandbox/clock",
            "/_sandbox/stats",
        ]
    ),
)
_METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "FOO"])
_HEADERS = st.lists(
    st.tuples(
        st.sampled_from([b"authorization", b"content-type", b"host", b"x-odd"]) | st.binary(),
        st.binary(max_size=60)
        | st.sampled_from([KEY, b"Bearer", b"Bearer ", b"bearer  x  ", b"Basic x"]),
    ),
    max_size=4,
)

# -- the in-process app ----------------------------------------------------------------


async def _asgi(
    sandbox: Sandbox, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    """Call the sandbox's ASGI app directly; return status, headers and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogatepass"),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 50000),
    }
    received = False
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal received
        if received:
            return {"type": "http.disconnect"}
        received = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await sandbox.app(scope, receive, send)
    start = sent[0]
    assert start["type"] == "http.response.start"
    answer_headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], answer_headers, b"".join(m.get("body", b"") for m in sent[1:])


def _reject_constant(token: str) -> object:
    raise AssertionError(f"the answer holds {token}, which is not JSON")


def _check_answer(status: int, content_type: str, body: bytes) -> None:
    assert status in ALLOWED, (status, body)
    assert content_type == "application/json"
    assert isinstance(json.loads(body, parse_constant=_reject_constant), dict)


async def _still_answers(sandbox: Sandbox) -> None:
    sandbox.faults = Faults()  # what the example may have turned on, off again
    status, _, body = await _asgi(
        sandbox, "GET", "/api/v1/get-credits", [(b"authorization", KEY)], b""
    )
    assert (status, json.loads(body)["credits"] > 0) == (200, True)


@settings(FUZZ, max_examples=150)
@given(method=_METHODS, path=_PATHS, headers=_HEADERS, body=_BODIES)
async def test_any_request_in_process(
    method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    sandbox = Sandbox(clock=FakeClock(autojump=False))
    status, answer_headers, content = await _asgi(sandbox, method, path, headers, body)
    _check_answer(status, answer_headers["content-type"], content)
    await _still_answers(sandbox)


@settings(FUZZ, max_examples=200)
@given(body=_BODIES, authorized=st.booleans())
async def test_any_create_body_in_process(body: bytes, authorized: bool) -> None:
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock)
    headers = [(b"authorization", KEY)] if authorized else []
    status, answer_headers, content = await _asgi(
        sandbox, "POST", "/api/v1/sonic/create", headers, body
    )
    _check_answer(status, answer_headers["content-type"], content)
    if status == 200:
        # What was accepted runs to the end: its result, audio, cover and webhook.
        task_id = json.loads(content)["task_id"]
        clock.advance(3)
        auth = [(b"authorization", KEY)]
        path = f"/api/v1/sonic/task/{task_id}"
        status, _, content = await _asgi(sandbox, "GET", path, auth, b"")
        _check_answer(status, "application/json", content)
        for clip in json.loads(content)["data"]:
            for url in (clip["audio_url"], clip["image_url"]):
                path = url.removeprefix("http://localhost")
                assert (await _asgi(sandbox, "GET", path, [], b""))[0] == 200
        async with httpx.AsyncClient(transport=httpx.MockTransport(_refuse)) as receiver:
            assert await sandbox.deliver_due_webhooks(receiver) == 0
    await _still_answers(sandbox)


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


@settings(FUZZ, max_examples=100)
@given(body=_CREATE_SHAPED)
async def test_create_bodies_through_httpx(body: dict[str, object]) -> None:
    # The same app through the transport users have; httpx refuses to build some bodies
    # (NaN, lone surrogates), so those are sent as Python's json writes them.
    sandbox = Sandbox(clock=FakeClock(autojump=False))
    async with httpx.AsyncClient(
        transport=sandbox.transport(),
        base_url=sandbox.base_url,
        headers={"Authorization": KEY.decode()},
    ) as http:
        response = await http.post("/sonic/create", content=_json_text(body))
        _check_answer(response.status_code, response.headers["content-type"], response.content)
        assert (await http.get("/get-credits")).status_code == 200


# -- over loopback ---------------------------------------------------------------------


@pytest.fixture
async def loopback() -> AsyncIterator[tuple[Sandbox, int]]:
    """One serving sandbox for all the examples of a test."""
    sandbox = Sandbox(clock=FakeClock(autojump=False), credits=10**9)
    async with sandbox.serve() as base_url:
        yield sandbox, int(base_url.split(":")[2].split("/")[0])


_TARGETS = st.one_of(
    _PATHS.map(lambda path: path.encode("utf-8", "surrogatepass")),
    st.binary(min_size=1, max_size=100),
    st.sampled_from([b"*", b"http://127.0.0.1/api/v1/get-credits", b"/a b", b"/%", b"//"]),
)


async def _exchange(port: int, data: bytes) -> bytes:
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        with contextlib.suppress(anyio.BrokenResourceError):
            await stream.send(data)
            await stream.send_eof()
        chunks: list[bytes] = []
        with (
            anyio.fail_after(10),
            contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError),
        ):
            while True:
                chunks.append(await stream.receive())
    return b"".join(chunks)


def _first_response(data: bytes, method: bytes) -> tuple[int, bytes]:
    client = h11.Connection(h11.CLIENT)
    client.send(h11.Request(method=method, target="/", headers=[("host", "x")]))
    client.send(h11.EndOfMessage())
    client.receive_data(data)
    client.receive_data(b"")
    status, body = 0, b""
    while True:
        event = client.next_event()
        if isinstance(event, h11.Response):
            status = event.status_code
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return status, body
        else:
            raise AssertionError(f"no complete response: {event!r} in {data[:300]!r}")


@settings(FUZZ, max_examples=30)
@given(method=_METHODS, target=_TARGETS, headers=_HEADERS, body=_BODIES)
async def test_any_request_over_loopback(
    loopback: tuple[Sandbox, int],
    method: str,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
) -> None:
    sandbox, port = loopback
    head = [f"{method} ".encode() + target + b" HTTP/1.1", b"host: 127.0.0.1"]
    head += [name + b": " + value for name, value in headers]
    head.append(b"content-length: %d" % len(body))
    reply = await _exchange(port, b"\r\n".join(head) + b"\r\n\r\n" + body)
    status, content = _first_response(reply, method.encode() if method != "FOO" else b"GET")
    assert status in ALLOWED, (status, reply[:300])
    if method != "HEAD":
        assert isinstance(json.loads(content, parse_constant=_reject_constant), dict)
    sandbox.faults = Faults()
    request = b"GET /api/v1/get-credits HTTP/1.1\r\nhost: x\r\nauthorization: " + KEY + b"\r\n\r\n"
    assert _first_response(await _exchange(port, request), b"GET")[0] == 200
