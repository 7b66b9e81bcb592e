"""Every task-creating operation but `/sonic/create`, in-process, on a fake clock.

Each family: create, the interim answers, the finished result in the shape
plan/wire.md documents; failures and refunds; the rules (400 naming the field, shared
with the SDK through `tests/vectors/task_operation_rules.json`); unknown ids; the
withdrawn surfaces (410); batches; uploads, stems and voices whose clips really exist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx
import pytest

from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "task_operation_rules.json"
AUTH = {"Authorization": "Bearer sk-task-ops"}
HOOK = "https://hooks.test/in"
SONG = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "lofi piano study"}
STUDIO = {
    "prompt": "jazzy late night piano",
    "lyrics_type": "instrumental",
    "prompt_strength": 0.5,
    "clarity_strength": 0.5,
    "lyrics_strength": 0.5,
    "generation_quality": 0.75,
    "model_type": "v130-1.5",
    "config": {},
}
NURO_GONE = (
    "Nuro has been discontinued: use /sonic/create for songs "
    "or /producer/create for background music"
)


class Api:
    """A raw client on one sandbox, with the few steps every test repeats."""

    def __init__(self, sandbox: Sandbox, clock: FakeClock, http: httpx.AsyncClient) -> None:
        self.sandbox = sandbox
        self.clock = clock
        self.http = http

    async def post(self, path: str, body: object) -> httpx.Response:
        return await self.http.post(path, json=body)

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(path)

    async def task_id(self, path: str, body: object) -> str:
        answer = await self.post(path, body)
        assert answer.status_code == 200, answer.text
        return cast("str", answer.json()["task_id"])

    async def song(self, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Make a song and return its first clip, as `GET /sonic/task/{id}` shows it."""
        task_id = await self.task_id("/sonic/create", body or SONG)
        self.clock.advance(3)
        return cast("dict[str, Any]", (await self.get(f"/sonic/task/{task_id}")).json()["data"][0])

    async def finished(self, path: str) -> dict[str, Any]:
        """Advance past any task's end and return the poll's JSON (which must be a 200)."""
        self.clock.advance(3)
        answer = await self.get(path)
        assert answer.status_code == 200, answer.text
        return cast("dict[str, Any]", answer.json())


async def _api(sandbox: Sandbox) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(
        transport=sandbox.transport(), base_url=sandbox.base_url, headers=AUTH
    ) as http:
        assert isinstance(sandbox.clock, FakeClock)
        yield Api(sandbox, sandbox.clock, http)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    """A raw client on a default sandbox (5000 credits, 3 s tasks) on a fake clock."""
    async for made in _api(Sandbox(clock=FakeClock(autojump=False), seed=7)):
        yield made


@pytest.fixture
async def nuro_api() -> AsyncIterator[Api]:
    """A raw client on a sandbox that still serves Nuro (`legacy_nuro=True`)."""
    async for made in _api(Sandbox(clock=FakeClock(autojump=False), legacy_nuro=True)):
        yield made


async def _file_status(api: Api, url: str) -> int:
    return (await api.http.get(url)).status_code


# -- Sonic ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "parts", "cost"),
    [("basic", ["vocals", "instrumental"], 15), ("full", ["vocals", "drums", "bass", "other"], 75)],
)
async def test_stems_make_one_existing_clip_per_part(
    api: Api, kind: str, parts: list[str], cost: int
) -> None:
    source = await api.song()
    before = api.sandbox.credits
    task_id = await api.task_id(f"/sonic/stems/{kind}", {"clip_id": source["clip_id"]})
    assert api.sandbox.credits == before - cost
    assert (await api.get(f"/sonic/task/{task_id}")).status_code == 202
    result = await api.finished(f"/sonic/task/{task_id}")
    assert (result["code"], result["message"]) == (200, "success")
    stems = result["data"]
    assert [stem["stem_type"] for stem in stems] == parts
    for stem in stems:
        assert stem["state"] == "succeeded"
        assert stem["source_clip_id"] == source["clip_id"]
        assert stem["duration"] == source["duration"]
        assert stem["title"] == f"{source['title']} ({stem['stem_type'].title()})"
        record = api.sandbox.app.store.clips[stem["clip_id"]]
        assert (record.part, record.source_clip_id) == (stem["stem_type"], source["clip_id"])
        assert record.tune == api.sandbox.app.store.clips[source["clip_id"]].tune
        assert stem["audio_url"].endswith(f"/files/{stem['clip_id']}.wav")
        assert await _file_status(api, stem["audio_url"]) == 200


async def test_stems_of_an_unknown_clip_are_404(api: Api) -> None:
    answer = await api.post("/sonic/stems/basic", {"clip_id": "nope"})
    assert (answer.status_code, answer.json()) == (404, {"error": "clip not found"})
    assert api.sandbox.credits == 5000


async def test_create_voice_gives_a_persona_for_persona_music(api: Api) -> None:
    answer = await api.post("/sonic/create-voice", {"audio_url": "https://example.com/me.wav"})
    assert answer.status_code == 200
    created = answer.json()
    assert created["message"] == "success"
    assert created["warning"].startswith("Voices are kept for 30 days")
    (voice,) = (await api.finished(f"/sonic/task/{created['task_id']}"))["data"]
    assert (voice["title"], voice["state"]) == ("Voice", "succeeded")
    assert voice["duration"] > 0
    persona = voice["persona_id"]
    assert api.sandbox.app.store.personas[persona].clip_id == voice["clip_id"]
    body = {**SONG, "task_type": "persona_music", "persona_id": persona}
    task_id = await api.task_id("/sonic/create", body)
    assert len((await api.finished(f"/sonic/task/{task_id}"))["data"]) == 2


async def test_persona_music_with_an_unknown_persona_is_404(api: Api) -> None:
    body = {**SONG, "task_type": "persona_music", "persona_id": "nobody"}
    answer = await api.post("/suno/create", body)
    assert (answer.status_code, answer.json()) == (404, {"error": "persona not found"})


async def test_mashup_mixes_both_styles(api: Api) -> None:
    first = await api.song()
    second = await api.song({**SONG, "gpt_description_prompt": "synthwave night drive"})
    body = {
        "mashup_clip_ids": [first["clip_id"], second["clip_id"]],
        "custom_mode": False,
        "mv": "sonic-v5",
    }
    clips = (await api.finished(f"/sonic/task/{await api.task_id('/sonic/mashup', body)}"))["data"]
    assert len(clips) == 2
    assert clips[0]["tags"] == f"{first['tags']}, {second['tags']}"
    assert clips[0]["title"] == f"{first['title']} x {second['title']}"
    missing = await api.post("/sonic/mashup", {**body, "mashup_clip_ids": [first["clip_id"], "x"]})
    assert missing.status_code == 404


async def test_replace_section_keeps_the_source_but_the_window(api: Api) -> None:
    source = await api.song()
    body = {"clip_id": source["clip_id"], "mv": "sonic-v5", "infill_start_s": 0.5}
    clips = (
        await api.finished(
            f"/sonic/task/{await api.task_id('/sonic/replace-section', {**body, 'infill_end_s': 1})}"
        )
    )["data"]
    assert [clip["duration"] for clip in clips] == [source["duration"]] * 2
    store = api.sandbox.app.store
    old, new = store.clips[source["clip_id"]].tune, store.clips[clips[0]["clip_id"]].tune
    assert (new.bpm, new.timbre) == (old.bpm, old.timbre)
    assert new.frequencies[0] == old.frequencies[0]  # before the window
    too_late = await api.post("/sonic/replace-section", {**body, "infill_end_s": 60})
    assert too_late.status_code == 400
    assert too_late.json()["error"].startswith("infill_end_s: ")
    unknown = await api.post("/sonic/replace-section", {**body, "clip_id": "x", "infill_end_s": 1})
    assert unknown.status_code == 404


async def test_sample_from_a_url_or_a_clip(api: Api) -> None:
    body = {
        "chop_sample_start_s": 0,
        "chop_sample_end_s": 2,
        "custom_mode": False,
        "mv": "sonic-v5",
        "make_instrumental": True,
    }
    by_url = await api.post("/sonic/sample", {**body, "url": "https://example.com/loop.wav"})
    assert by_url.status_code == 200
    assert by_url.json()["steps"] == {"upload": "succeeded", "sample": "submitted"}
    assert by_url.json()["code"] == 200
    source = await api.song()
    by_clip = await api.post("/sonic/sample", {**body, "sample_clip_id": source["clip_id"]})
    assert by_clip.json()["steps"] == {"sample": "submitted"}
    clips = (await api.finished(f"/sonic/task/{by_clip.json()['task_id']}"))["data"]
    assert all(clip["lyrics"] == "[Instrumental]" for clip in clips)
    unknown = await api.post("/sonic/sample", {**body, "sample_clip_id": "x"})
    assert unknown.status_code == 404


@pytest.mark.parametrize("step", ["cover", "extend"])
async def test_upload_then_generate(api: Api, step: str) -> None:
    source = await api.song()
    url = f"http://localhost/files/{source['clip_id']}.wav"
    answer = await api.post(
        f"/sonic/upload-{step}", {"url": url, "custom_mode": False, "mv": "sonic-v5"}
    )
    assert answer.status_code == 200
    assert answer.json()["steps"] == {"upload": "succeeded", step: "submitted"}
    record = api.sandbox.task(answer.json()["task_id"])
    assert record.task_type == f"{step}_upload_music"
    uploaded = api.sandbox.app.store.clips[record.sources[0]]
    assert uploaded.uploaded
    assert uploaded.source_clip_id == source["clip_id"]
    assert uploaded.tune == api.sandbox.app.store.clips[source["clip_id"]].tune
    clips = (await api.finished(f"/sonic/task/{record.task_id}"))["data"]
    assert len(clips) == 2
    assert api.sandbox.credits == 5000 - 30


async def test_uploaded_clips_need_the_upload_task_types(api: Api) -> None:
    answer = await api.post(
        "/sonic/upload-cover",
        {"url": "https://example.com/a.mp3", "custom_mode": False, "mv": "sonic-v5"},
    )
    uploaded = api.sandbox.task(answer.json()["task_id"]).sources[0]
    extend = {"custom_mode": True, "mv": "sonic-v5", "continue_clip_id": uploaded, "continue_at": 1}
    refused = await api.post("/sonic/create", {**extend, "task_type": "extend_music"})
    assert refused.status_code == 400
    assert refused.json()["error"].startswith("continue_clip_id: ")
    cover = {**extend, "task_type": "cover_music"}
    assert (await api.post("/suno/create", cover)).status_code == 400
    allowed = await api.post("/sonic/create", {**extend, "task_type": "extend_upload_music"})
    assert allowed.status_code == 200


# -- batch ----------------------------------------------------------------------------


async def test_batch_starts_the_valid_items_and_reports_the_others(api: Api) -> None:
    items = [
        SONG,
        {**SONG, "title": "x" * 81},
        {**SONG, "task_type": "cover_music", "continue_clip_id": "x"},
        7,
    ]
    answer = await api.post("/sonic/batch", {"items": items})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["message"], body["submitted"]) == ("success", 1)
    first, second, third, fourth = body["tasks"]
    assert first["index"] == 0
    assert set(first) == {"index", "task_id"}
    assert (second["index"], second["error"].split(":")[0]) == (1, "title")
    assert third == {"index": 2, "error": "continue_clip_id: clip not found"}
    assert fourth["index"] == 3
    assert api.sandbox.credits == 5000 - 15

    status = await api.get(f"/sonic/batch?batch_id={body['batch_id']}")
    assert status.json() == {
        "code": 200,
        "batch_id": body["batch_id"],
        "tasks": [{"index": 0, "task_id": first["task_id"], "state": "running"}],
    }
    api.clock.advance(3)
    status = await api.get("/sonic/batch")
    assert status.status_code == 400
    done = (await api.get(f"/sonic/batch?batch_id={body['batch_id']}")).json()
    assert done["tasks"][0]["state"] == "succeeded"
    assert (await api.get(f"/sonic/task/{first['task_id']}")).json()["code"] == 200
    assert (await api.get("/sonic/batch?batch_id=nope")).status_code == 404


@pytest.mark.parametrize("items", [None, [], [SONG] * 11, "x", {"a": SONG}])
async def test_batch_items_must_be_1_to_10_bodies(api: Api, items: object) -> None:
    body = {} if items is None else {"items": items}
    answer = await api.post("/sonic/batch", body)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("items: ")


async def test_batch_items_beyond_the_credits_are_not_charged() -> None:
    async for api in _api(Sandbox(clock=FakeClock(autojump=False), credits=20)):
        body = (await api.post("/sonic/batch", {"items": [SONG, SONG]})).json()
        assert body["submitted"] == 1
        assert body["tasks"][1] == {"index": 1, "error": "Insufficient credits"}
        assert api.sandbox.credits == 5


# -- Suno aliases and lyrics ----------------------------------------------------------


async def test_suno_create_and_clip_are_sonic(api: Api) -> None:
    task_id = await api.task_id("/suno/create", SONG)
    assert (await api.get(f"/suno/clip/{task_id}")).status_code == 202
    result = await api.finished(f"/suno/clip/{task_id}")
    assert result == (await api.get(f"/sonic/task/{task_id}")).json()


async def test_make_lyrics_then_get_lyrics(api: Api) -> None:
    answer = await api.post("/suno/make-lyrics", {"prompt": "a song about green tea"})
    assert answer.status_code == 200
    task_id = answer.json()["data"]["task_id"]
    assert answer.json() == {"code": 200, "data": {"task_id": task_id}, "message": "success"}
    running = (await api.get(f"/suno/get-lyrics/{task_id}")).json()
    assert running == {
        "code": 200,
        "data": {"task_id": task_id, "status": "running"},
        "message": "success",
    }
    done = (await api.finished(f"/suno/get-lyrics/{task_id}"))["data"]
    assert (done["status"], done["title"]) == ("complete", "Green Tea")
    assert "[Verse]" in done["text"]
    assert (await api.get("/suno/get-lyrics/nope")).status_code == 404
    assert (await api.get(f"/sonic/task/{task_id}")).status_code == 404  # another family
    assert api.sandbox.credits == 5000


# -- Producer -------------------------------------------------------------------------


async def test_producer_create_upload_download(api: Api) -> None:
    task_id = await api.task_id(
        "/producer/create", {"sound": "calm piano, instrumental", "seed": 5}
    )
    assert (await api.get(f"/producer/task/{task_id}")).json() == {"type": "not_ready"}
    tracks = (await api.finished(f"/producer/task/{task_id}"))["data"]
    assert len(tracks) == 2
    for track in tracks:
        assert {"clip_id", "title", "sound", "lyrics", "audio_url", "image_url", "duration"} <= set(
            track
        )
        assert (track["mv"], track["seed"], track["state"]) == ("Lyria 3 Pro", 5, "succeeded")
        assert (track["sound"], track["lyrics"]) == ("calm piano, instrumental", "[Instrumental]")
    upload = await api.task_id("/producer/upload", {"audio_url": "https://example.com/a.mp3"})
    (uploaded,) = (await api.finished(f"/producer/task/{upload}"))["data"]
    assert uploaded["uploaded"] is True
    assert api.sandbox.app.store.clips[uploaded["clip_id"]].uploaded
    download = await api.task_id(
        "/producer/download", {"clip_id": tracks[0]["clip_id"], "format": "mp3"}
    )
    (file,) = (await api.finished(f"/producer/task/{download}"))["data"]
    assert file == {
        "clip_id": tracks[0]["clip_id"],
        "state": "succeeded",
        "format": "wav",
        "audio_url": f"http://localhost/files/{tracks[0]['clip_id']}.wav",
    }
    assert await _file_status(api, file["audio_url"]) == 200
    assert api.sandbox.credits == 5000
    assert (await api.get(f"/sonic/task/{task_id}")).status_code == 404


@pytest.mark.parametrize("task_type", ["music_variation", "swap_music_vocals", "swap_music_sound"])
async def test_producer_withdrawn_task_types_are_410(api: Api, task_type: str) -> None:
    answer = await api.post("/producer/create", {"task_type": task_type, "sound": "x"})
    assert answer.status_code == 410
    assert answer.json() == {
        "error": f"task_type {task_type} is not supported by the upstream model platform"
    }


async def test_producer_unknown_ids(api: Api) -> None:
    assert (await api.get("/producer/task/nope")).status_code == 404
    extend = {"task_type": "extend_music", "clip_id": "nope"}
    assert (await api.post("/producer/create", extend)).status_code == 404
    assert (await api.post("/producer/download", {"clip_id": "nope"})).status_code == 404


# -- Studio, Riffusion, Nuro ----------------------------------------------------------


async def test_studio_progresses_then_succeeds(api: Api) -> None:
    answer = await api.post("/studio/create", STUDIO)
    assert answer.status_code == 200
    assert answer.json()["code"] == "success"
    task_id = answer.json()["data"]
    assert api.sandbox.credits == 5000 - 15
    api.clock.advance(1.5)
    running = (await api.get(f"/studio/task/{task_id}")).json()
    assert (running["code"], running["message"]) == ("success", "")
    data = running["data"]
    assert (data["status"], data["progress"], data["finish_time"]) == ("IN_PROGRESS", "50%", None)
    assert (data["action"], data["notify_hook"], data["fail_reason"]) == (
        "studio-generate",
        None,
        "",
    )
    assert data["data"] == {"songs": []}
    done = (await api.finished(f"/studio/task/{task_id}"))["data"]
    assert (done["status"], done["progress"]) == ("SUCCESS", "100%")
    assert done["finish_time"] >= done["start_time"] == done["submit_time"]
    songs = done["data"]["songs"]
    assert len(songs) == 2
    assert songs[0]["tags"] == ["jazzy", "late", "night", "piano"]
    assert songs[0]["lyrics"] == "[Instrumental]"
    assert {"id", "title", "artist", "audio_url", "image_url", "duration"} <= set(songs[0])
    unknown = await api.get("/studio/task/nope")
    assert (unknown.status_code, unknown.json()) == (
        400,
        {"code": "error", "message": "task not found"},
    )


async def test_riffusion_not_ready_then_processing_then_done(api: Api) -> None:
    task_id = await api.task_id("/riffusion/create", {"prompt": "indie pop about summer"})
    assert api.sandbox.credits == 5000 - 12
    assert (await api.get(f"/riffusion/task/{task_id}")).status_code == 202
    api.clock.advance(1.5)
    interim = await api.get(f"/riffusion/task/{task_id}")
    assert (interim.status_code, interim.json()) == (
        200,
        {"code": 102, "message": "processing", "data": []},
    )
    clips = (await api.finished(f"/riffusion/task/{task_id}"))["data"]
    assert len(clips) == 2
    assert all(
        clip["sound"] == "indie, pop, summer" and clip["mv"] == "FUZZ-1.1 Pro" for clip in clips
    )
    assert (await api.get("/riffusion/task/nope")).status_code == 404


async def test_nuro_is_gone_by_default(api: Api) -> None:
    for answer in (
        await api.post("/nuro/create", {"type": "vocal", "lyrics": "la"}),
        await api.get("/nuro/task/anything"),
    ):
        assert (answer.status_code, answer.json()) == (410, {"error": NURO_GONE})
    assert api.sandbox.credits == 5000


async def test_legacy_nuro_serves_vocal_and_bgm(nuro_api: Api) -> None:
    api = nuro_api
    vocal = await api.task_id(
        "/nuro/create", {"type": "vocal", "lyrics": "[Verse]\nsunny days", "genre": "Pop"}
    )
    bgm = await api.task_id(
        "/nuro/create", {"type": "bgm", "description": "calm piano", "genre": ["Ambient", "Jazz"]}
    )
    assert api.sandbox.credits == 5000 - 20
    pending = (await api.get(f"/nuro/task/{vocal}")).json()
    assert (pending["status"], pending["progress"], pending["audio_url"]) == ("pending", 0, None)
    api.clock.advance(1.5)
    running = (await api.get(f"/nuro/task/{vocal}")).json()
    assert (running["status"], running["progress"]) == ("running", 50)
    done = await api.finished(f"/nuro/task/{vocal}")
    assert (done["status"], done["progress"], done["genre"]) == ("succeeded", 100, "Pop")
    assert done["lyrics"] == "[Verse]\nsunny days"
    assert done["audio_url"].endswith(".wav")
    assert await _file_status(api, done["audio_url"]) == 200
    music = (await api.get(f"/nuro/task/{bgm}")).json()
    assert (music["genre"], music["lyrics"], music["duration"] > 0) == ("Ambient, Jazz", None, True)
    unknown = await api.get("/nuro/task/nope")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"type": "not_found", "error": "task not found"},
    )


# -- failures, refunds, limits --------------------------------------------------------


async def test_failed_tasks_of_every_family_are_refunded() -> None:
    async for api in _api(Sandbox(clock=FakeClock(autojump=False), legacy_nuro=True)):
        source = await api.song()
        api.sandbox.faults.fail_next_tasks = 6
        api.sandbox.faults.fail_type = "timeout"
        stems = await api.task_id("/sonic/stems/full", {"clip_id": source["clip_id"]})
        studio = (await api.post("/studio/create", STUDIO)).json()["data"]
        riffusion = await api.task_id("/riffusion/create", {"prompt": "x"})
        nuro = await api.task_id("/nuro/create", {"type": "bgm", "description": "x"})
        producer = await api.task_id("/producer/create", {"sound": "x"})
        lyrics = (await api.post("/suno/make-lyrics", {"prompt": "x"})).json()["data"]["task_id"]
        assert api.sandbox.credits == 5000 - 15 - 75 - 15 - 12 - 10
        failure = {"type": "timeout", "error": "upstream generation timed out"}
        assert await api.finished(f"/sonic/task/{stems}") == failure
        assert (await api.get(f"/riffusion/task/{riffusion}")).json() == failure
        assert (await api.get(f"/producer/task/{producer}")).json() == failure
        data = (await api.get(f"/studio/task/{studio}")).json()["data"]
        assert (data["status"], data["fail_reason"]) == ("FAILURE", "upstream generation timed out")
        body = (await api.get(f"/nuro/task/{nuro}")).json()
        assert (body["status"], body["audio_url"]) == ("failed", None)
        assert body["error"] == "upstream generation timed out"
        data = (await api.get(f"/suno/get-lyrics/{lyrics}")).json()["data"]
        assert (data["status"], data["error"]) == ("error", "upstream generation timed out")
        assert api.sandbox.credits == 5000 - 15


async def test_an_empty_account_and_a_busy_key() -> None:
    async for api in _api(Sandbox(clock=FakeClock(autojump=False), credits=20)):
        source = await api.song()
        broke = await api.post("/sonic/stems/basic", {"clip_id": source["clip_id"]})
        assert (broke.status_code, broke.json()["error"]) == (403, "Insufficient credits")
        assert (await api.post("/studio/create", STUDIO)).status_code == 403
    async for api in _api(Sandbox(clock=FakeClock(autojump=False), max_concurrent_jobs=1)):
        await api.task_id("/producer/create", {"sound": "x"})
        busy = await api.post("/studio/create", STUDIO)
        assert busy.status_code == 429
        assert busy.headers["retry-after"] == "3"


async def test_the_same_seed_gives_the_same_results() -> None:
    async def run() -> list[Any]:
        results: list[Any] = []
        async for api in _api(Sandbox(clock=FakeClock(autojump=False), seed=3)):
            source = await api.song()
            stems = await api.task_id("/sonic/stems/basic", {"clip_id": source["clip_id"]})
            producer = await api.task_id("/producer/create", {"sound": "dub techno"})
            results.append(await api.finished(f"/sonic/task/{stems}"))
            results.append((await api.get(f"/producer/task/{producer}")).json())
        return results

    first, second = await run(), await run()
    for body in (*first, *second):
        for clip in body["data"]:
            clip.pop("created_at", None)
    assert first == second


async def test_a_webhook_carries_the_family_s_finished_body(api: Api) -> None:
    received: list[httpx.Request] = []

    def hook(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(204)

    producer = await api.task_id("/producer/create", {"sound": "x", "webhook_url": HOOK})
    studio = (await api.post("/studio/create", {**STUDIO, "webhook_url": HOOK})).json()["data"]
    api.clock.advance(3)
    async with httpx.AsyncClient(transport=httpx.MockTransport(hook)) as client:
        assert await api.sandbox.deliver_due_webhooks(client) == 2
    bodies = {
        json.loads(r.content).get("task_id") or json.loads(r.content)["data"]["task_id"]: r
        for r in received
    }
    producer_body = json.loads(bodies[producer].content)
    assert producer_body == {
        **(await api.get(f"/producer/task/{producer}")).json(),
        "task_id": producer,
    }
    assert bodies[producer].headers["x-webhook-event"] == "song.completed"
    studio_body = json.loads(bodies[studio].content)
    assert studio_body["data"]["status"] == "SUCCESS"
    assert len(studio_body["data"]["data"]["songs"]) == 2


# -- the rules ------------------------------------------------------------------------


def _cases() -> list[Any]:
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))
    return [
        pytest.param(case, id=f"{case['operation']}-{number}") for number, case in enumerate(cases)
    ]


@pytest.mark.parametrize("case", _cases())
async def test_shared_rule_vectors(nuro_api: Api, case: dict[str, Any]) -> None:
    api = nuro_api
    first, second = await api.song(), await api.song()
    text = json.dumps(case["body"], ensure_ascii=False)
    text = text.replace("$OTHER_CLIP_ID", second["clip_id"]).replace("$CLIP_ID", first["clip_id"])
    tasks = len(api.sandbox.tasks)
    answer = await api.http.post(f"/{case['operation']}", content=text.encode())
    if case["valid"]:
        assert answer.status_code == 200, answer.text
        assert len(api.sandbox.tasks) == tasks + 1
    else:
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"].startswith(f"{case['field']}: "), answer.text
        assert len(api.sandbox.tasks) == tasks


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/sonic/mashup",
            {"mashup_clip_ids": ["a", "b"], "custom_mode": True, "mv": "chirp-v5"},
            "mv",
        ),
        ("/sonic/stems/basic", {"clip_id": "\ud800"}, "clip_id"),
        ("/producer/create", {"sound": "x", "future": [float("nan")]}, "future"),
        ("/studio/create", {**STUDIO, "config": {"\ud800": 1}}, "config"),
        ("/sonic/create-voice", [], "body"),
    ],
)
async def test_odd_values_name_their_field(api: Api, path: str, body: object, field: str) -> None:
    answer = await api.http.post(path, content=json.dumps(body).encode())
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(f"{field}: ")
