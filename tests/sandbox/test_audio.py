"""The sandbox's "CDN": real WAV files whose length is the reported duration."""

from __future__ import annotations

import io
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
    for url in (clip["image_url"], clip["video_url"], "http://localhost/files/unknown.wav"):
        response = await client.get(str(url))
        assert (response.status_code, response.json()) == (404, {"error": "file not found"})
    assert sandbox.stats.requests["file"] == 3
