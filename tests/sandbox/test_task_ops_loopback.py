"""A few task operations over a real socket (`Sandbox.serve()`), on both anyio backends.

The in-process tests (`test_task_ops.py`) cover the behaviour; these check what only a
real server shows: absolute file URLs on the bound port, the query string of
`GET /sonic/batch`, and answers that are not 202/200 (400, 410) over HTTP/1.1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest

from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

AUTH = {"Authorization": "Bearer sk-loopback"}
SONG = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "rock anthem"}


@pytest.fixture
async def served() -> AsyncIterator[tuple[httpx.AsyncClient, FakeClock, str]]:
    """A raw client on a sandbox served on a loopback port, its clock and base URL."""
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock)
    async with (
        sandbox.serve() as base_url,
        httpx.AsyncClient(base_url=base_url, headers=AUTH, timeout=10) as http,
    ):
        yield http, clock, base_url


async def _done(http: httpx.AsyncClient, clock: FakeClock, path: str) -> dict[str, Any]:
    clock.advance(3)
    answer = await http.get(path)
    assert answer.status_code == 200, answer.text
    return cast("dict[str, Any]", answer.json())


async def test_stems_over_loopback(served: tuple[httpx.AsyncClient, FakeClock, str]) -> None:
    http, clock, base_url = served
    song = (await http.post("/sonic/create", json=SONG)).json()["task_id"]
    source = (await _done(http, clock, f"/sonic/task/{song}"))["data"][0]
    created = await http.post("/sonic/stems/full", json={"clip_id": source["clip_id"]})
    assert created.status_code == 200
    stems = (await _done(http, clock, f"/sonic/task/{created.json()['task_id']}"))["data"]
    assert [stem["stem_type"] for stem in stems] == ["vocals", "drums", "bass", "other"]
    origin = base_url.removesuffix("/api/v1")
    for stem in stems:
        assert stem["audio_url"] == f"{origin}/files/{stem['clip_id']}.wav"
        audio = await http.get(stem["audio_url"])
        assert (audio.status_code, audio.content[:4]) == (200, b"RIFF")


async def test_batch_status_reads_the_query(
    served: tuple[httpx.AsyncClient, FakeClock, str],
) -> None:
    http, clock, _ = served
    body = (await http.post("/sonic/batch", json={"items": [SONG, {"title": 1}]})).json()
    assert body["submitted"] == 1
    clock.advance(3)
    status = await http.get("/sonic/batch", params={"batch_id": body["batch_id"]})
    assert status.json()["tasks"][0]["state"] == "succeeded"
    assert (await http.get("/sonic/batch")).status_code == 400
    assert (await http.get("/sonic/batch", params={"batch_id": "x"})).status_code == 404


async def test_producer_studio_and_nuro_over_loopback(
    served: tuple[httpx.AsyncClient, FakeClock, str],
) -> None:
    http, clock, _ = served
    producer = (await http.post("/producer/create", json={"sound": "lofi"})).json()["task_id"]
    assert (await http.get(f"/producer/task/{producer}")).status_code == 202
    assert len((await _done(http, clock, f"/producer/task/{producer}"))["data"]) == 2
    gone = await http.post("/producer/create", json={"task_type": "swap_music_sound"})
    assert gone.status_code == 410
    assert (await http.post("/studio/create", json={"prompt": "x"})).status_code == 400
    assert (await http.get("/studio/task/nope")).status_code == 400
    assert (await http.post("/nuro/create", json={"type": "bgm"})).status_code == 410
