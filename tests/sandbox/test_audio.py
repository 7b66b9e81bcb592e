"""The sandbox's "CDN": real WAV files whose length is the reported duration, JPEG covers."""

from __future__ import annotations

import io
import struct
import wave
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from musicapi.sandbox import Sandbox
    from musicapi.testing import FakeClock


async def _finished_clips(
    client: httpx.AsyncClient, clock: FakeClock, body: dict[str, object]
) -> list[dict[str, object]]:
    task_id = (await client.post("/sonic/create", json=body)).json()["task_id"]
    clock.advance(3)
    clips: list[dict[str, object]] = (await client.get(f"/sonic/task/{task_id}")).json()["data"]
    return clips


async def test_wav_is_playable_and_as_long_as_reported(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    for clip in await _finished_clips(client, clock, description_body):
        async with httpx.AsyncClient(transport=sandbox.transport()) as cdn:  # no key sent
            response = await cdn.get(str(clip["audio_url"]))
        assert response.status_code == 200
        assert response.headers["content-type"] == "audio/wav"
        with wave.open(io.BytesIO(response.content)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 22050)
            seconds = wav.getnframes() / wav.getframerate()
        assert seconds == float(str(clip["duration"]))
        assert 2 <= seconds <= 4


async def test_audio_follows_the_style_and_is_cached(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    synthwave = await _finished_clips(
        client, clock, {"custom_mode": True, "mv": "sonic-v5", "tags": "synthwave", "prompt": "la"}
    )
    lofi = await _finished_clips(
        client, clock, {"custom_mode": True, "mv": "sonic-v5", "tags": "lofi", "prompt": "la"}
    )
    files = [(await client.get(str(clip["audio_url"]))).content for clip in synthwave + lofi]
    assert len(set(files)) == 4  # two styles, two variants each
    assert (await client.get(str(synthwave[0]["audio_url"]))).content == files[0]


async def test_missing_files_are_404(
    client: httpx.AsyncClient, sandbox: Sandbox, clock: FakeClock, custom_body: dict[str, object]
) -> None:
    clip = (await _finished_clips(client, clock, custom_body))[0]
    assert clip["video_url"] is None  # nullable (§2.3): no link rather than a dead one
    origin = "http://localhost/files"
    for url in (
        f"{origin}/{clip['clip_id']}.mp4",
        f"{origin}/unknown.wav",
        f"{origin}/unknown.jpg",
        f"{origin}/{clip['clip_id']}",
    ):
        response = await client.get(url)
        assert (response.status_code, response.json()) == (404, {"error": "file not found"})
    assert sandbox.stats.requests["file"] == 4


def _jpeg_segments(data: bytes) -> dict[int, bytes]:
    """Walk a JPEG's marker segments up to the scan (T.81 B.1); marker -> payload."""
    assert data[:2] == b"\xff\xd8", "no SOI"
    assert data[-2:] == b"\xff\xd9", "no EOI"
    segments: dict[int, bytes] = {}
    at = 2
    while True:
        assert data[at] == 0xFF, f"no marker at {at}"
        marker = data[at + 1]
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        segments[marker] = data[at + 4 : at + 2 + length]
        at += 2 + length
        if marker == 0xDA:  # SOS: entropy-coded data follows
            scan = data[at:-2]
            assert all(scan[i + 1] == 0 for i in range(len(scan) - 1) if scan[i] == 0xFF)
            return segments


async def test_image_url_is_a_real_jpeg_cover(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
    custom_body: dict[str, object],
) -> None:
    covers: list[bytes] = []
    for body in (description_body, custom_body):
        for clip in await _finished_clips(client, clock, body):
            assert str(clip["image_url"]).endswith(f"/files/{clip['clip_id']}.jpg")
            async with httpx.AsyncClient(transport=sandbox.transport()) as cdn:  # no key sent
                response = await cdn.get(str(clip["image_url"]))
            assert response.status_code == 200
            assert response.headers["content-type"] == "image/jpeg"
            segments = _jpeg_segments(response.content)
            assert segments[0xE0].startswith(b"JFIF\x00")
            precision, height, width, components = struct.unpack(">BHHB", segments[0xC0][:6])
            assert (precision, height, width, components) == (8, 128, 128, 3)
            assert {0xDB, 0xC4, 0xDA} <= segments.keys()
            covers.append(response.content)
            assert (await client.get(str(clip["image_url"]))).content == response.content
    assert len(set(covers)) == 4  # a cover per clip
