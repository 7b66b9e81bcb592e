"""The operations that answer at once, in-process: documented shapes, rules, 404s, credits.

The rules are also pinned, with the SDK's own table, by the shared vectors in
tests/vectors/sync_operation_rules.json (see `test_shared_vectors`).
"""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from musicapi.sandbox import Sandbox
from musicapi.sandbox._audio import plan, render
from musicapi.sandbox._media import midi_file
from musicapi.sandbox._state import ClipRecord
from musicapi.testing import FakeClock

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractAsyncContextManager

    from musicapi.sandbox._state import ClipRecord as Clip

    ClientFactory = Callable[[Sandbox], AbstractAsyncContextManager[httpx.AsyncClient]]

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "sync_operation_rules.json"
FILES = "http://localhost/files"
CLIP_OPERATIONS = ["sonic/aligned-lyrics", "sonic/bpm", "sonic/vox", "sonic/midi", "sonic/wav"]
ALL_OPERATIONS = [
    "sonic/lyrics",
    *CLIP_OPERATIONS,
    "sonic/upsample-tags",
    "sonic/persona",
    "sonic/upload",
    "suno/get-song",
    "riffusion/upload",
]


async def _clip(client: httpx.AsyncClient, clock: FakeClock, body: dict[str, object]) -> str:
    """Create a song and return the id of its first clip, once it is done."""
    task_id = (await client.post("/sonic/create", json=body)).json()["task_id"]
    clock.advance(3)
    answer = await client.get(f"/sonic/task/{task_id}")
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"][0]["clip_id"])


@pytest.fixture
async def clip_id(
    client: httpx.AsyncClient, clock: FakeClock, custom_body: dict[str, object]
) -> str:
    """The id of a finished clip with lyrics (the quickstart's custom-mode song)."""
    return await _clip(client, clock, custom_body)


def _record(sandbox: Sandbox, clip_id: str) -> Clip:
    return sandbox.app.store.clips[clip_id]


def _samples(wav_bytes: bytes) -> bytes:
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        frames: bytes = wav.readframes(wav.getnframes())
    return frames


# -- happy paths ------------------------------------------------------------------------


async def test_lyrics_two_candidates_with_sections(client: httpx.AsyncClient) -> None:
    answer = await client.post("/sonic/lyrics", json={"description": "a rainy morning in Tokyo"})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["code"], body["message"]) == (200, "success")
    assert len(body["results"]) == 2
    for result in body["results"]:
        assert set(result) == {"title", "lyrics"}
        assert "[Verse]" in result["lyrics"]
        assert "[Chorus]" in result["lyrics"]
        assert result["title"]
    assert body["results"][0] != body["results"][1]
    again = await client.post("/sonic/lyrics", json={"description": "a rainy morning in Tokyo"})
    assert again.json() == body  # deterministic


async def test_lyrics_are_not_charged(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    before = sandbox.credits
    assert (await client.post("/sonic/lyrics", json={"description": "the"})).status_code == 200
    assert sandbox.credits == before


async def test_aligned_lyrics(
    client: httpx.AsyncClient, sandbox: Sandbox, clip_id: str, custom_body: dict[str, object]
) -> None:
    answer = await client.post("/sonic/aligned-lyrics", json={"clip_id": clip_id})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["code"], body["message"]) == (200, "success")
    words = body["data"]["alignment"]
    for word in words:
        assert set(word) == {"word", "start_s", "end_s", "success", "p_align"}
        assert word["success"] is True
    lines = "".join(word["word"] for word in words).splitlines()
    assert lines == ["City lights, neon dreams", "Drive on, drive on"]
    assert custom_body["prompt"] == "[Verse]\n" + lines[0] + "\n[Chorus]\n" + lines[1]
    duration = _record(sandbox, clip_id).tune.duration
    starts = [word["start_s"] for word in words]
    assert starts == sorted(starts)
    assert all(0 <= w["start_s"] < w["end_s"] <= duration for w in words)


async def test_aligned_lyrics_of_an_instrumental_is_404(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    body: dict[str, object] = {
        "custom_mode": True,
        "mv": "sonic-v5",
        "tags": "lofi",
        "make_instrumental": True,
    }
    clip_id = await _clip(client, clock, body)
    answer = await client.post("/sonic/aligned-lyrics", json={"clip_id": clip_id})
    assert (answer.status_code, answer.json()) == (404, {"error": "clip has no lyrics"})


async def test_bpm_is_the_tempo_of_the_audio(
    client: httpx.AsyncClient, sandbox: Sandbox, clip_id: str
) -> None:
    answer = await client.post("/sonic/bpm", json={"clip_id": clip_id})
    tempo = float(_record(sandbox, clip_id).tune.bpm)
    assert answer.json() == {
        "code": 200,
        "message": "success",
        "data": {"avg_bpm": tempo, "max_bpm": tempo, "min_bpm": tempo},
    }


async def test_upsample_tags(client: httpx.AsyncClient) -> None:
    answer = await client.post("/sonic/upsample-tags", json={"tags": "synthwave, retro"})
    body = answer.json()
    assert (answer.status_code, body["code"], body["message"]) == (200, 200, "success")
    upsampled = body["data"]["upsampled_tags"]
    assert upsampled.startswith("synthwave, retro, ")
    assert len(upsampled) > len("synthwave, retro")


async def test_persona(client: httpx.AsyncClient, sandbox: Sandbox, clip_id: str) -> None:
    answer = await client.post("/sonic/persona", json={"name": "Nova", "clip_id": clip_id})
    body = answer.json()
    assert (answer.status_code, body["code"], body["message"]) == (200, 200, "success")
    persona = sandbox.app.store.personas[body["persona_id"]]
    assert (persona.name, persona.clip_id) == ("Nova", clip_id)


async def test_persona_from_a_vox(client: httpx.AsyncClient, clip_id: str) -> None:
    vox = (await client.post("/sonic/vox", json={"clip_id": clip_id})).json()["data"]
    body = {"name": "Nova", "clip_id": clip_id, "vox_audio_id": vox["vox_audio_id"]}
    assert (await client.post("/sonic/persona", json=body)).status_code == 200
    body["vox_audio_id"] = "no-such-vox"
    answer = await client.post("/sonic/persona", json=body)
    assert (answer.status_code, answer.json()) == (404, {"error": "vox audio not found"})


async def test_vox_links_the_vocals_stem(
    client: httpx.AsyncClient, sandbox: Sandbox, clip_id: str
) -> None:
    window = {"clip_id": clip_id, "vocal_start_s": 0.5, "vocal_end_s": 1.5}
    answer = await client.post("/sonic/vox", json=window)
    body = answer.json()
    assert (answer.status_code, body["code"], body["message"]) == (200, 200, "success")
    data = body["data"]
    assert set(data) == {
        "vox_audio_id",
        "status",
        "source_clip_id",
        "vocal_start_s",
        "vocal_end_s",
        "wave_response",
    }
    assert (data["status"], data["source_clip_id"]) == ("complete", clip_id)
    assert (data["vocal_start_s"], data["vocal_end_s"]) == (0.5, 1.5)
    audio = await client.get(data["wave_response"]["audio_url"])
    assert audio.status_code == 200
    assert audio.content == render(_record(sandbox, clip_id).tune, "vocals")


async def test_vox_window_defaults_to_the_whole_clip(
    client: httpx.AsyncClient, sandbox: Sandbox, clip_id: str
) -> None:
    data = (await client.post("/sonic/vox", json={"clip_id": clip_id})).json()["data"]
    duration = _record(sandbox, clip_id).tune.duration
    assert (data["vocal_start_s"], data["vocal_end_s"]) == (0.0, duration)


async def test_vocal_window_must_be_inside_the_clip(
    client: httpx.AsyncClient, sandbox: Sandbox, clip_id: str
) -> None:
    duration = _record(sandbox, clip_id).tune.duration
    cases: list[tuple[dict[str, float], str]] = [
        ({"vocal_end_s": duration + 0.01}, "vocal_end_s"),
        ({"vocal_end_s": 1e308}, "vocal_end_s"),
        ({"vocal_start_s": duration}, "vocal_start_s"),
        ({"vocal_start_s": 10**400}, "vocal_start_s"),
    ]
    routes: list[tuple[str, dict[str, str]]] = [
        ("/sonic/vox", {}),
        ("/sonic/persona", {"name": "Nova"}),
    ]
    for route, extra in routes:
        for window, field in cases:
            answer = await client.post(route, json={"clip_id": clip_id, **extra, **window})
            assert answer.status_code == 400, (route, window)
            assert answer.json()["error"].startswith(f"{field}: "), answer.text
    ok = await client.post("/sonic/vox", json={"clip_id": clip_id, "vocal_end_s": duration})
    assert ok.status_code == 200


async def test_midi_is_202_until_a_second_after_the_first_request(
    client: httpx.AsyncClient, sandbox: Sandbox, clock: FakeClock, clip_id: str
) -> None:
    ask = {"clip_id": clip_id}
    first = await client.post("/sonic/midi", json=ask)
    assert (first.status_code, first.json()) == (202, {"type": "not_ready"})
    clock.advance(0.99)
    assert (await client.post("/sonic/midi", json=ask)).status_code == 202
    clock.advance(0.01)
    answer = await client.post("/sonic/midi", json=ask)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["code"], body["message"]) == (200, "success")
    assert body["data"]["midi_url"] == f"{FILES}/{clip_id}.mid"
    tune = _record(sandbox, clip_id).tune
    steps = len(tune.frequencies)
    assert body["data"]["instruments"] == [
        {"name": "lead", "program": 81, "channel": 0, "notes": steps},
        {"name": "bass", "program": 38, "channel": 1, "notes": steps},
        {"name": "drums", "program": 0, "channel": 9, "notes": (steps + 1) // 2},
    ]
    async with httpx.AsyncClient(transport=sandbox.transport()) as cdn:  # no key
        file = await cdn.get(body["data"]["midi_url"])
    assert (file.status_code, file.headers["content-type"]) == (200, "audio/midi")
    assert file.content == midi_file(tune)
    assert (await client.post("/sonic/midi", json=ask)).status_code == 200  # stays ready


async def test_midi_readiness_is_per_clip(
    client: httpx.AsyncClient, clock: FakeClock, clip_id: str, description_body: dict[str, object]
) -> None:
    assert (await client.post("/sonic/midi", json={"clip_id": clip_id})).status_code == 202
    clock.advance(0.5)
    other = await _clip(client, clock, description_body)  # advances the clock by 3 s
    assert (await client.post("/sonic/midi", json={"clip_id": clip_id})).status_code == 200
    assert (await client.post("/sonic/midi", json={"clip_id": other})).status_code == 202


async def test_wav_costs_two_credits_and_holds_the_same_samples(
    client: httpx.AsyncClient, sandbox: Sandbox, clip_id: str
) -> None:
    before = sandbox.credits
    answer = await client.post("/sonic/wav", json={"clip_id": clip_id})
    assert answer.json() == {
        "message": "success",
        "data": {"wav_url": f"{FILES}/{clip_id}.lossless.wav"},
    }
    assert sandbox.credits == before - 2
    lossless = await client.get(answer.json()["data"]["wav_url"])
    audio = await client.get(f"{FILES}/{clip_id}.wav")
    assert (lossless.status_code, lossless.headers["content-type"]) == (200, "audio/wav")
    assert _samples(lossless.content) == _samples(audio.content)


async def test_wav_without_credits_is_403(
    client_for: ClientFactory, custom_body: dict[str, object]
) -> None:
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock, credits=16)
    async with client_for(sandbox) as client:
        clip_id = await _clip(client, clock, custom_body)
        assert (await client.post("/sonic/wav", json={"clip_id": "nope"})).status_code == 404
        answer = await client.post("/sonic/wav", json={"clip_id": clip_id})
    assert answer.status_code == 403
    assert answer.json()["error"] == "Insufficient credits"
    assert sandbox.credits == 1


@pytest.mark.parametrize("route", ["/sonic/upload", "/riffusion/upload"])
@pytest.mark.parametrize(
    "name", ["{clip}.wav", "{clip}.lossless.wav", "{clip}.mid", "{clip}.wav?download=1"]
)
async def test_upload_of_a_sandbox_file_keeps_its_tune(
    client: httpx.AsyncClient, sandbox: Sandbox, clip_id: str, route: str, name: str
) -> None:
    url = f"https://cdn.elsewhere.example/files/{name.format(clip=clip_id)}"
    answer = await client.post(route, json={"url": url})
    body = answer.json()
    assert (answer.status_code, body["code"], body["message"]) == (200, 200, "success")
    uploaded = _record(sandbox, body["clip_id"])
    assert uploaded.uploaded
    assert uploaded.source_clip_id == clip_id
    assert uploaded.tune == _record(sandbox, clip_id).tune
    new = await client.get(f"{FILES}/{body['clip_id']}.wav")
    assert new.content == (await client.get(f"{FILES}/{clip_id}.wav")).content


async def test_upload_of_a_foreign_url_plans_a_tune_from_it(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    url = "https://example.com/audio/my-song.mp3"
    first = (await client.post("/sonic/upload", json={"url": url})).json()["clip_id"]
    second = (await client.post("/sonic/upload", json={"url": url})).json()["clip_id"]
    assert first != second
    record = _record(sandbox, first)
    assert (record.uploaded, record.source_clip_id) == (True, None)
    assert record.title
    assert record.tune == plan(url) == _record(sandbox, second).tune
    assert (await client.get(f"{FILES}/{first}.wav")).status_code == 200


async def test_get_song(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    answer = await client.post("/suno/get-song", json={"share_link": "https://suno.com/song/3f2a"})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {
        "audio_url",
        "video_url",
        "cover_image",
        "song_title",
        "song_author",
        "music_styles",
    }
    assert body["video_url"] is None
    assert all(isinstance(body[k], str) and body[k] for k in set(body) - {"video_url"})
    audio = await client.get(body["audio_url"])
    assert (audio.status_code, audio.headers["content-type"]) == (200, "audio/wav")
    cover = await client.get(body["cover_image"])
    assert (cover.status_code, cover.headers["content-type"]) == (200, "image/jpeg")
    clip_id = body["audio_url"].removeprefix(f"{FILES}/").removesuffix(".wav")
    assert _record(sandbox, clip_id).uploaded


# -- stem clips' files -----------------------------------------------------------------


@pytest.mark.parametrize("part", ["vocals", "instrumental", "drums", "bass", "other"])
async def test_a_stem_clip_sounds_as_its_part(
    client: httpx.AsyncClient, sandbox: Sandbox, clip_id: str, part: str
) -> None:
    source = _record(sandbox, clip_id)
    stem = sandbox.app.store.add_clip(
        ClipRecord(
            clip_id=f"stem-{part}",
            task_id="",
            title=f"{source.title} ({part})",
            tags=source.tags,
            lyrics=source.lyrics,
            mv=source.mv,
            tune=source.tune,
            part=part,
            source_clip_id=clip_id,
        )
    )
    audio = await client.get(f"{FILES}/{stem.clip_id}.wav")
    assert audio.content == render(source.tune, part)
    lossless = await client.get(f"{FILES}/{stem.clip_id}.lossless.wav")
    assert lossless.content == audio.content
    assert (await client.get(f"{FILES}/{stem.clip_id}.mid")).content == midi_file(source.tune, part)


# -- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize("operation", CLIP_OPERATIONS + ["sonic/persona"])
async def test_unknown_clip_is_404(
    client: httpx.AsyncClient, sandbox: Sandbox, operation: str
) -> None:
    before = sandbox.credits
    body = {"clip_id": "no-such-clip", "name": "Nova"}
    answer = await client.post(f"/{operation}", json=body)
    assert (answer.status_code, answer.json()) == (404, {"error": "clip not found"})
    assert sandbox.credits == before


@pytest.mark.parametrize("operation", ALL_OPERATIONS)
async def test_without_a_key_is_401(sandbox: Sandbox, operation: str) -> None:
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as http:
        answer = await http.post(f"/{operation}", json={})
    assert answer.status_code == 401
    assert answer.json() == {"error": "Unauthorized", "message": "Invalid API key"}


@pytest.mark.parametrize("operation", ALL_OPERATIONS)
async def test_get_is_405(client: httpx.AsyncClient, operation: str) -> None:
    answer = await client.get(f"/{operation}")
    assert (answer.status_code, answer.headers["allow"]) == (405, "POST")


@pytest.mark.parametrize("operation", ALL_OPERATIONS)
@pytest.mark.parametrize("content", [b"", b"[]", b"null", b'"clip"', b"{", b"\xff\xfe"])
async def test_a_body_that_is_not_an_object_is_400(
    client: httpx.AsyncClient, operation: str, content: bytes
) -> None:
    answer = await client.post(f"/{operation}", content=content)
    assert (answer.status_code, answer.json()) == (400, {"error": "body: must be a JSON object"})


@pytest.mark.parametrize("operation", ALL_OPERATIONS)
@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"vocal_start_s": NaN}', "vocal_start_s"),
        ('{"vocal_end_s": Infinity}', "vocal_end_s"),
        ('{"whatever": -Infinity}', "whatever"),
        ('{"whatever": [1, {"deep": 1e999}]}', "whatever"),
        ('{"whatever": "\\ud800"}', "whatever"),
        ('{"\\udfff": 1}', "body"),
    ],
)
async def test_what_json_cannot_hold_is_400_naming_the_field(
    client: httpx.AsyncClient, operation: str, raw: str, field: str
) -> None:
    answer = await client.post(f"/{operation}", content=raw.encode())
    assert answer.status_code == 400
    error = answer.json()["error"]
    if field.startswith("vocal_") and operation not in ("sonic/vox", "sonic/persona"):
        assert error.startswith(f"{field}: must not hold NaN"), error  # undocumented here
    else:
        assert error.startswith(f"{field}: "), error


@pytest.mark.parametrize(
    ("operation", "field", "surrogate_body"),
    [
        ("sonic/lyrics", "description", {"description": "\ud800"}),
        ("sonic/bpm", "clip_id", {"clip_id": "\udc00"}),
        ("sonic/upload", "url", {"url": "https://example.com/\udfff.mp3"}),
        ("sonic/persona", "styles", {"name": "N", "clip_id": "c", "styles": "\ud801"}),
    ],
)
async def test_lone_surrogates_are_400_naming_the_field(
    client: httpx.AsyncClient, operation: str, field: str, surrogate_body: dict[str, Any]
) -> None:
    content = json.dumps(surrogate_body).encode()  # escaped, as JSON allows
    answer = await client.post(f"/{operation}", content=content)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(f"{field}: must be valid Unicode"), answer.text


async def test_error_messages_say_what_is_wrong(client: httpx.AsyncClient) -> None:
    cases: list[tuple[str, dict[str, object], str]] = [
        ("sonic/lyrics", {"description": "d" * 120}, "description: at most 119 characters"),
        ("sonic/lyrics", {}, "description: required"),
        ("sonic/bpm", {"clip_id": True}, "clip_id: must be a string, not a boolean"),
        ("sonic/vox", {"clip_id": "c", "vocal_start_s": -1}, "vocal_start_s: must not be"),
        ("sonic/vox", {"clip_id": "c", "vocal_end_s": "1"}, "vocal_end_s: must be a number"),
        ("sonic/upload", {"url": "ftp://x.example/a"}, "url: must be an absolute http(s) URL"),
        ("sonic/persona", {"name": "n", "clip_id": 1}, "clip_id: must be a string, not a number"),
    ]
    for operation, body, message in cases:
        answer = await client.post(f"/{operation}", json=body)
        assert answer.status_code == 400
        assert answer.json()["error"].startswith(message), answer.text


# -- the shared vectors -----------------------------------------------------------------


def _vector_cases() -> list[Any]:
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))
    return [pytest.param(case, id=case["id"]) for case in cases]


def test_vectors_cover_every_operation() -> None:
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))
    assert {case["operation"] for case in cases} == set(ALL_OPERATIONS)
    for operation in ALL_OPERATIONS:
        valid = {case["valid"] for case in cases if case["operation"] == operation}
        assert valid == {True, False}, operation
    assert all(set(case) == {"id", "operation", "body", "valid", "field"} for case in cases)


@pytest.mark.parametrize("case", _vector_cases())
async def test_shared_vectors(
    case: dict[str, Any], client: httpx.AsyncClient, sandbox: Sandbox, clip_id: str
) -> None:
    before = (len(sandbox.app.store.clips), len(sandbox.app.store.personas), sandbox.credits)
    text = json.dumps(case["body"]).replace("$CLIP_ID", clip_id)
    answer = await client.post(f"/{case['operation']}", content=text.encode())
    if case["valid"]:
        assert answer.status_code in (200, 202), answer.text  # midi: 202 at first
    else:
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"].startswith(f"{case['field']}: "), answer.text
        after = (len(sandbox.app.store.clips), len(sandbox.app.store.personas), sandbox.credits)
        assert after == before  # a refused request changes nothing
