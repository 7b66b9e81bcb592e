"""A hostile review of the whole API surface: each break found, pinned as a regression.

* Stems of a stem (and a vocal extraction of an instrumental stem) were cut from the
  whole song, not from the stem: the drums of a vocals stem had drums in them, and the
  stems of a stem did not add up to it.
* An upload of a stem's file URL sounded like the whole song, not like the stem.
* A webhook receiver that answered with an endless body made the sandbox read it all
  into memory (gigabytes in seconds), and one that trickled its answer a byte at a time
  held its delivery forever: no per-read timeout ends either.
* The file host kept every file it ever made: a long-lived sandbox serving many clips
  grew without bound.
"""

from __future__ import annotations

import array
import contextlib
import io
import wave
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import httpx
import pytest

from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable, Callable

AUTH = {"Authorization": "Bearer sk-hostile"}
FILES = "http://localhost/files"
SONG = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "synthwave night drive"}


@contextlib.asynccontextmanager
async def _client(sandbox: Sandbox) -> AsyncGenerator[httpx.AsyncClient, None]:
    async with httpx.AsyncClient(
        transport=sandbox.transport(), base_url=sandbox.base_url, headers=AUTH
    ) as http:
        yield http


async def _finished(http: httpx.AsyncClient, clock: FakeClock, task_id: str) -> dict[str, Any]:
    clock.advance(10)
    response = await http.get(f"/sonic/task/{task_id}")
    body: dict[str, Any] = response.json()
    assert body["code"] == 200, body
    return body


async def _song(http: httpx.AsyncClient, clock: FakeClock) -> str:
    created = await http.post("/sonic/create", json=SONG)
    return str((await _finished(http, clock, created.json()["task_id"]))["data"][0]["clip_id"])


async def _split(
    http: httpx.AsyncClient, clock: FakeClock, clip_id: str, kind: str
) -> dict[str, str]:
    started = await http.post(f"/sonic/stems/{kind}", json={"clip_id": clip_id})
    body = await _finished(http, clock, started.json()["task_id"])
    return {entry["stem_type"]: entry["clip_id"] for entry in body["data"]}


async def _samples(http: httpx.AsyncClient, url: str) -> list[int]:
    response = await http.get(url)
    assert response.status_code == 200
    with wave.open(io.BytesIO(response.content)) as audio:
        return list(array.array("h", audio.readframes(audio.getnframes())))


@pytest.mark.parametrize(
    ("whole", "split"), [("vocals", "full"), ("instrumental", "full"), ("instrumental", "basic")]
)
async def test_the_stems_of_a_stem_add_up_to_that_stem(whole: str, split: str) -> None:
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock, seed=3)
    async with _client(sandbox) as http:
        stems = await _split(http, clock, await _song(http, clock), "basic")
        parts = await _split(http, clock, stems[whole], split)
        expected = (
            ["vocals", "drums", "bass", "other"] if split == "full" else ["vocals", "instrumental"]
        )
        assert sorted(parts) == sorted(expected)  # labelled as asked, whatever they hold
        stem = await _samples(http, f"{FILES}/{stems[whole]}.wav")
        heard = [await _samples(http, f"{FILES}/{clip}.wav") for clip in parts.values()]
        assert [sum(values) for values in zip(*heard, strict=True)] == stem
        if whole == "vocals":  # the drums of the vocals: nothing
            assert not any(await _samples(http, f"{FILES}/{parts['drums']}.wav"))
            asked = await http.post("/sonic/midi", json={"clip_id": parts["drums"]})
            assert asked.status_code == 202
            clock.advance(2)
            ready = await http.post("/sonic/midi", json={"clip_id": parts["drums"]})
            assert ready.json()["data"]["instruments"] == []
        else:  # the vocals of the instrumental: nothing, and no lyrics to align
            assert not any(await _samples(http, f"{FILES}/{parts['vocals']}.wav"))
            aligned = await http.post("/sonic/aligned-lyrics", json={"clip_id": parts["vocals"]})
            assert aligned.status_code == 404


async def test_the_vocals_of_an_instrumental_stem_are_silent() -> None:
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock, seed=4)
    async with _client(sandbox) as http:
        stems = await _split(http, clock, await _song(http, clock), "basic")
        vox = await http.post("/sonic/vox", json={"clip_id": stems["instrumental"]})
        assert vox.status_code == 200
        assert not any(await _samples(http, vox.json()["data"]["wave_response"]["audio_url"]))
        vocals = await http.post("/sonic/vox", json={"clip_id": stems["vocals"]})
        url = vocals.json()["data"]["wave_response"]["audio_url"]
        assert await _samples(http, url) == await _samples(http, f"{FILES}/{stems['vocals']}.wav")


async def test_an_upload_of_a_stem_file_sounds_like_the_stem() -> None:
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock, seed=5)
    async with _client(sandbox) as http:
        stems = await _split(http, clock, await _song(http, clock), "full")
        for part, clip_id in stems.items():
            url = f"{FILES}/{clip_id}.wav"
            uploaded = await http.post("/sonic/upload", json={"url": url})
            copy = uploaded.json()["clip_id"]
            assert await _samples(http, f"{FILES}/{copy}.wav") == await _samples(http, url), part


@contextlib.asynccontextmanager
async def _receiver(
    handle: Callable[[anyio.abc.SocketStream], Awaitable[None]],
) -> AsyncGenerator[str, None]:
    """Serve `handle` on a loopback port; yield its webhook URL."""

    async def guarded(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                received = b""
                while b"\r\n\r\n" not in received:
                    received += await stream.receive()
                await handle(stream)

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)  # noqa: S610
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, guarded)
        try:
            yield f"http://127.0.0.1:{port}/hook"
        finally:
            tg.cancel_scope.cancel()


async def _endless_body(stream: anyio.abc.SocketStream) -> None:
    await stream.send(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    while True:
        await stream.send(chunk)


async def _trickle(stream: anyio.abc.SocketStream) -> None:
    for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n" * 1000:
        await stream.send(bytes([byte]))
        await anyio.sleep(0.02)  # the receiver's pace, well within any per-read timeout


async def test_a_receiver_that_streams_an_endless_answer_gets_its_delivery() -> None:
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock, seed=6)
    async with _receiver(_endless_body) as hook, _client(sandbox) as http:
        created = await http.post("/sonic/create", json={**SONG, "webhook_url": hook})
        assert created.status_code == 200
        clock.advance(10)
        with anyio.fail_after(10):
            assert await sandbox.deliver_due_webhooks() == 1  # its 200 counts; its body is not read
    assert sandbox.stats.webhooks_delivered == 1


async def test_a_receiver_that_trickles_its_answer_times_out() -> None:
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock, seed=7, webhook_timeout=0.3)
    async with _receiver(_trickle) as hook, _client(sandbox) as http:
        created = await http.post("/sonic/create", json={**SONG, "webhook_url": hook})
        assert created.status_code == 200
        clock.advance(10)
        with anyio.fail_after(10):
            assert await sandbox.deliver_due_webhooks() == 0
    assert (sandbox.stats.webhooks_failed, sandbox.pending_webhooks) == (1, 1)  # retried later


async def test_the_file_cache_stays_within_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("musicapi.sandbox._files.CACHE_BYTES", 400_000)
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock, seed=8)
    async with _client(sandbox) as http:
        created = [await http.post("/sonic/create", json=SONG) for _ in range(3)]
        clips = [
            entry["clip_id"]
            for answer in created
            for entry in (await _finished(http, clock, answer.json()["task_id"]))["data"]
        ]
        names = [f"{clip}.{ext}" for clip in clips for ext in ("wav", "lossless.wav", "mid", "jpg")]
        first = {name: (await http.get(f"{FILES}/{name}")).content for name in names}
        assert 0 < sandbox.app.files.cached_bytes <= 400_000
        again = {name: (await http.get(f"{FILES}/{name}")).content for name in reversed(names)}
        assert again == first  # made again, byte for byte
        assert sandbox.app.files.cached_bytes <= 400_000


async def test_files_answer_head_as_a_cdn_does() -> None:
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock, seed=9)
    async with _client(sandbox) as http:
        clip = await _song(http, clock)
        full = await http.get(f"{FILES}/{clip}.wav")
        head = await http.head(f"{FILES}/{clip}.wav")
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == str(len(full.content))
        assert head.headers["content-type"] == "audio/wav"
        wrong = await http.post(f"{FILES}/{clip}.wav")
        assert (wrong.status_code, wrong.headers["allow"]) == (405, "GET, HEAD")
        assert (await http.head(f"{FILES}/{clip}.flac")).status_code == 404


async def test_an_absolute_form_request_target_is_served_over_loopback() -> None:
    sandbox = Sandbox()
    async with sandbox.serve() as base_url:
        port = int(base_url.split(":")[2].split("/")[0])
        async with await anyio.connect_tcp("127.0.0.1", port) as stream:
            await stream.send(
                f"GET http://127.0.0.1:{port}/api/v1/get-credits?x=1 HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer k\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            answer = b""
            with anyio.fail_after(5), contextlib.suppress(anyio.EndOfStream):
                while True:
                    answer += await stream.receive()
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert answer.endswith(b'{"credits":5000,"extra_credits":0}')
