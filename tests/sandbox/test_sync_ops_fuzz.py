"""Hostile bodies never make the sync operations crash or answer a 5xx.

Properties, for any body sent to any of the operations that answer at once: the app
returns (never raises), the status is one the API documents for a client's mistake or
success, the body is strict JSON (no NaN), and any file an accepted request links to is
served. Bodies are built around each operation's documented fields (the clip id of a
real clip among them, so that the handlers run past validation) and filled with what
JSON can and cannot hold: nulls, booleans, huge and non-finite numbers, lone
surrogates, deep nesting, bytes that are not JSON at all.

Examples are bounded and derandomized, so the run is the same on every machine.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, cast

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from musicapi.sandbox import Sandbox
from musicapi.sandbox._audio import plan
from musicapi.sandbox._state import ClipRecord
from musicapi.sandbox._sync_rules import RULES
from musicapi.testing import FakeClock

if TYPE_CHECKING:
    from musicapi.sandbox._http import Message

ALLOWED = {200, 202, 400, 401, 403, 404}
KEY = b"Bearer sk-fuzz"
CLIP = "fuzz-clip"
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_SURROGATES = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])
_TEXT = st.text(st.characters() | _SURROGATES, max_size=30)
_NUMBERS = (
    st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([10**400, -(10**400), 1e308, 5e-324, -0.0, 0, 1.5, 2.5])
)
_URLS = st.sampled_from(
    [
        "https://example.com/a.mp3",
        f"http://localhost/files/{CLIP}.wav",
        f"https://x.example/files/{CLIP}.lossless.wav",
        "https://example.com/files/unknown.wav",
        "ftp://example.com/a",
        "https:///a",
        "http://[::1]:99999/",
        "http://xn--a.com/",
    ]
)
_JSON = st.recursive(
    st.none() | st.booleans() | _NUMBERS | _TEXT | _URLS | st.just(CLIP),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4),
    max_leaves=12,
)
_PLAUSIBLE = st.floats(0, 4) | st.sampled_from(["Nova", "synthwave, retro", CLIP])
"""Values that a documented field may well accept, so that handlers run to the end."""
_OPERATIONS = st.sampled_from(sorted(RULES))
_BASES: dict[str, dict[str, object]] = {
    "sonic/lyrics": {"description": "rainy day"},
    "sonic/upsample-tags": {"tags": "lofi"},
    "sonic/persona": {"name": "Nova", "clip_id": CLIP},
    "sonic/upload": {"url": "https://example.com/a.mp3"},
    "suno/get-song": {"share_link": "https://suno.com/song/x"},
    "riffusion/upload": {"url": "https://example.com/a.mp3"},
}


def _json_text(value: object) -> bytes:
    """Serialize as Python does, NaN tokens and escaped lone surrogates included."""
    return json.dumps(value, allow_nan=True).encode()


@st.composite
def _request(draw: st.DrawFn) -> tuple[str, bytes]:
    """An operation and a body for it: mostly its own fields, changed; sometimes junk."""
    operation = draw(_OPERATIONS)
    fields = [rule.name for rule in RULES[operation]]
    names = st.sampled_from([*fields, "some_future_field", ""])
    base = _BASES.get(operation, {"clip_id": CLIP})
    values = _JSON | _PLAUSIBLE | st.sampled_from(["", "x" * 3000])
    changes = draw(st.dictionaries(names, values, max_size=4))
    shaped = _json_text({**base, **changes})
    body = draw(
        st.one_of(
            st.just(shaped),
            st.just(shaped),
            _JSON.map(_json_text),
            st.binary(max_size=100),
            st.integers(1, 3000).map(lambda depth: b'{"clip_id":' + b"[" * depth),
            st.sampled_from(
                [
                    b"",
                    b'{"vocal_end_s": ' + b"9" * 5000 + b"}",
                    b'{"clip_id": "' + CLIP.encode() + b'", "vocal_end_s": 1e999}',
                    b'{"description": "\xed\xa0\x80"}',
                    b"\xef\xbb\xbf{}",
                ]
            ),
        )
    )
    return operation, body


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
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 50000),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await sandbox.app(scope, receive, send)
    start = sent[0]
    answer_headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], answer_headers, b"".join(m.get("body", b"") for m in sent[1:])


def _reject_constant(token: str) -> object:
    raise AssertionError(f"the answer holds {token}, which is not JSON")


def _links(answer: object) -> list[str]:
    """Every file URL in an answer, at any depth."""
    if isinstance(answer, dict):
        values = list(cast("dict[str, object]", answer).values())
        return [url for value in values for url in _links(value)]
    if isinstance(answer, list):
        return [url for value in cast("list[object]", answer) for url in _links(value)]
    return [answer] if isinstance(answer, str) and answer.startswith("http://localhost/") else []


def _sandbox(clock: FakeClock) -> Sandbox:
    """A sandbox holding one clip with lyrics, and credits for one WAV export."""
    sandbox = Sandbox(clock=clock, credits=3)
    tune = plan("lofi chill")
    sandbox.app.store.add_clip(
        ClipRecord(
            clip_id=CLIP,
            task_id="",
            title="Fuzz",
            tags="lofi",
            lyrics="[Verse]\nla la la\n[Chorus]\nna na",
            mv="sonic-v5",
            tune=tune,
        )
    )
    return sandbox


@settings(FUZZ, max_examples=400)
@given(request=_request(), authorized=st.sampled_from([True, True, True, False]))
async def test_any_body_of_a_sync_operation(request: tuple[str, bytes], authorized: bool) -> None:
    operation, body = request
    clock = FakeClock(autojump=False)
    sandbox = _sandbox(clock)
    headers = [(b"authorization", KEY)] if authorized else []
    for _ in range(2):  # twice: MIDI answers 202 first, and the wav credits run out
        status, answer_headers, content = await _asgi(
            sandbox, "POST", f"/api/v1/{operation}", headers, body
        )
        assert status in ALLOWED, (status, content)
        event(f"{operation}: {status}")
        assert answer_headers["content-type"] == "application/json"
        parsed: object = json.loads(content, parse_constant=_reject_constant)
        assert isinstance(parsed, dict)
        answer = cast("dict[str, object]", parsed)
        if status == 400:
            assert isinstance(answer["error"], str)
            assert ": " in answer["error"]
        for url in _links(answer):
            path = url.removeprefix("http://localhost")
            assert (await _asgi(sandbox, "GET", path, [], b""))[0] == 200, url
        clock.advance(1)
    status, _, _ = await _asgi(
        sandbox, "GET", "/api/v1/get-credits", [(b"authorization", KEY)], b""
    )
    assert status == 200
