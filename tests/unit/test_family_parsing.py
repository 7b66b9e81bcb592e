"""How the families' answers are read: unknown fields kept, odd shapes tolerated,
malformed ones a `MalformedResponseError` (never a KeyError or TypeError).

The bodies are written from plan/wire.md and api-reference §2-§4 by hand, not taken
from the sandbox, so that these tests pin the parsers to the documented shapes.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from musicapi import AsyncMusicAPI, MalformedResponseError, TaskFailedError
from musicapi._kinds import (
    LYRICS,
    NURO,
    PRODUCER,
    RIFFUSION,
    STUDIO,
    SUNO,
    parse_lyrics_task,
    parse_nuro_task,
    parse_riffusion_task,
    parse_studio_task,
    read_lyrics_submission,
    read_studio_submission,
    song_info,
)
from musicapi._models.studio import StudioResult
from musicapi.models import TaskState
from musicapi.testing import FakeClock

if TYPE_CHECKING:
    from collections.abc import Iterator

    from musicapi._tasks import TaskKind

FAKE_KEY = "sk-family-tests-7f3a9c2e51"  # distinctive: the log filter redacts every key used
CLIP = {
    "clip_id": "c1",
    "state": "succeeded",
    "title": "T",
    "audio_url": "https://cdn.example/c1.mp3",
    "duration": "104.88",
    "sound": "lofi",
    "seed": 7,
}
SONG = {
    "id": "s1",
    "title": "Song",
    "tags": ["indie", "dreamy"],
    "lyrics": "la",
    "artist": "A",
    "audio_url": "https://cdn.example/s1.mp3",
    "image_url": "https://cdn.example/s1.jpg",
    "duration": 95.5,
    "bpm": 120,
}


def studio(status: str, *, songs: list[Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "code": "success",
        "message": "",
        "data": {
            "task_id": "st1",
            "notify_hook": None,
            "action": "studio-generate",
            "status": status,
            "fail_reason": "",
            "submit_time": 1,
            "start_time": 1,
            "finish_time": None,
            "progress": "40%",
            "data": {"songs": songs or []},
            **extra,
        },
    }


def nuro(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "task_id": "n1",
        "status": status,
        "progress": 100 if status == "succeeded" else 40,
        "audio_url": "https://cdn.example/n1.wav" if status == "succeeded" else None,
        "lyrics": "la",
        "duration": 30,
        "genre": "Pop",
        **extra,
    }


# -- submissions --------------------------------------------------------------------------


def test_lyrics_submission() -> None:
    submission = read_lyrics_submission(
        {"code": 200, "data": {"task_id": "l1", "extra": 1}, "message": "success"}
    )
    assert submission.task_id == "l1" and submission.message == "success"
    assert submission.raw["data"]["extra"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"code": 200, "data": {}, "message": "success"},
        {"code": 200, "data": {"task_id": None}},
        {"code": 200, "data": {"task_id": ""}},
        {"code": 200, "data": "l1"},
        {"task_id": ["x"]},
        [],
        None,
        "l1",
    ],
)
def test_malformed_lyrics_submission(body: Any) -> None:
    with pytest.raises(MalformedResponseError):
        read_lyrics_submission(body)


@pytest.mark.parametrize(
    ("body", "task_id"),
    [
        ({"code": "success", "data": "st1"}, "st1"),
        ({"code": 200, "data": {"task_id": "st2"}, "message": "ok"}, "st2"),
        ({"code": "success", "data": 12345}, "12345"),
    ],
)
def test_studio_submission(body: dict[str, Any], task_id: str) -> None:
    submission = read_studio_submission(body)
    assert submission.task_id == task_id and submission.raw["code"] == body["code"]


@pytest.mark.parametrize(
    "body",
    [
        {"code": "error", "message": "model busy"},
        {"code": "success", "data": ""},
        {"code": "success", "data": None},
        {"code": "success", "data": ["st1"]},
        ["st1"],
    ],
)
def test_malformed_studio_submission(body: Any) -> None:
    with pytest.raises(MalformedResponseError) as caught:
        read_studio_submission(body)
    if isinstance(body, dict) and body.get("message"):
        assert "model busy" in str(caught.value)


# -- suno lyrics tasks --------------------------------------------------------------------


def test_lyrics_task_states_and_unknown_fields() -> None:
    running = parse_lyrics_task(
        "l1", 200, {"code": 200, "data": {"task_id": "l1", "status": "running"}}, None
    )
    assert running.status == "running" and not running.is_done
    assert LYRICS.read(running).state == TaskState.RUNNING
    body = {
        "code": 200,
        "data": {
            "task_id": "l1",
            "status": "complete",
            "title": "Rain",
            "text": "[Verse]",
            "mood": "sad",
        },
        "message": "success",
    }
    done = parse_lyrics_task("l1", 200, body, None)
    assert (done.title, done.text) == ("Rain", "[Verse]")
    assert done.raw["data"]["mood"] == "sad" and done.raw["message"] == "success"
    reading = LYRICS.read(done)
    assert reading.state == TaskState.SUCCEEDED and reading.result == done
    failed = parse_lyrics_task(
        "l1",
        200,
        {"code": 200, "data": {"task_id": "l1", "status": "error", "error": "blocked"}},
        None,
    )
    reading = LYRICS.read(failed)
    assert reading.state == TaskState.FAILED and reading.reason == "blocked"


def test_lyrics_task_odd_shapes() -> None:
    assert parse_lyrics_task("l1", 202, {"type": "not_ready"}, None).status == "running"
    assert parse_lyrics_task("l1", 202, None, None).status == "running"
    missing_id = parse_lyrics_task("l1", 200, {"code": 200, "data": {"status": "running"}}, None)
    assert missing_id.task_id == "l1"
    failed = parse_lyrics_task("l1", 200, {"type": "timeout", "error": "upstream"}, None)
    assert failed.status == "error" and failed.error == "timeout: upstream"
    queued = parse_lyrics_task("l1", 200, {"code": 200, "data": {"status": "queued"}}, None)
    assert LYRICS.read(queued).state == TaskState.RUNNING


@pytest.mark.parametrize(
    "body",
    [
        {"code": 200, "data": None},
        {"code": 200, "data": ["x"]},
        {"code": 200},
        {"code": 200, "data": {"status": "complete", "title": ["not", "text"]}},
        {"type": 5},
        "complete",
    ],
)
def test_malformed_lyrics_task(body: Any) -> None:
    with pytest.raises(MalformedResponseError):
        parse_lyrics_task("l1", 200, body, None)


def test_song_info() -> None:
    body = {
        "audio_url": "https://cdn.example/a.mp3",
        "video_url": None,
        "cover_image": "https://cdn.example/a.jpg",
        "song_title": "Title",
        "song_author": "Author",
        "music_styles": ["pop", "rock"],
        "plays": 3,
    }
    song = song_info(body)
    assert song.music_styles == "pop, rock" and song.video_url is None
    assert song.raw["plays"] == 3 and song.raw["music_styles"] == ["pop", "rock"]
    with pytest.raises(MalformedResponseError):
        song_info([body])
    with pytest.raises(MalformedResponseError):
        song_info({"audio_url": {"href": "x"}})


# -- studio -------------------------------------------------------------------------------


def test_studio_running_and_progress() -> None:
    task = parse_studio_task("st1", 200, studio("IN_PROGRESS"), None)
    assert task.status == "IN_PROGRESS" and task.percent == 40 and not task.is_done
    assert STUDIO.read(task).state == TaskState.RUNNING
    assert task.raw["data"]["action"] == "studio-generate"
    numeric = parse_studio_task("st1", 200, studio("IN_PROGRESS", progress=55), None)
    assert numeric.progress == "55%" and numeric.percent == 55
    odd = parse_studio_task("st1", 200, studio("QUEUED", progress="soon"), None)
    assert odd.percent is None and STUDIO.read(odd).state == TaskState.RUNNING


def test_studio_success_keeps_unknown_fields_and_coerces() -> None:
    songs = [SONG, {**SONG, "id": "s2", "tags": "rock, pop", "duration": "104.88"}]
    task = parse_studio_task("st1", 200, studio("SUCCESS", songs=songs), None)
    reading = STUDIO.read(task)
    assert reading.state == TaskState.SUCCEEDED
    result = reading.result
    assert isinstance(result, StudioResult) and result.task_id == "st1"
    first, second = result.songs
    assert first.tags == ("indie", "dreamy") and first.raw["bpm"] == 120
    assert second.tags == ("rock", "pop") and second.duration == pytest.approx(104.88)
    assert second.raw["tags"] == "rock, pop"  # raw is what the server sent


def test_studio_failures() -> None:
    failure = parse_studio_task("st1", 200, studio("FAILURE", fail_reason="content policy"), None)
    reading = STUDIO.read(failure)
    assert reading.state == TaskState.FAILED and reading.reason == "content policy"
    bare = STUDIO.read(parse_studio_task("st1", 200, studio("FAILURE"), None))
    assert bare.state == TaskState.FAILED and bare.reason == "FAILURE"
    reason_only = parse_studio_task("st1", 200, studio("IN_PROGRESS", fail_reason="gpu lost"), None)
    assert reason_only.failed and STUDIO.read(reason_only).state == TaskState.FAILED
    stray = parse_studio_task(
        "st1", 200, studio("SUCCESS", songs=[SONG], fail_reason="retried"), None
    )
    assert not stray.failed and STUDIO.read(stray).state == TaskState.SUCCEEDED


def test_studio_missing_optional_parts() -> None:
    body = {"code": "success", "data": {"status": "IN_PROGRESS"}}
    task = parse_studio_task("st9", 200, body, None)
    assert task.task_id == "st9" and task.songs == () and task.progress is None
    no_inner = {"code": "success", "data": {"status": "SUCCESS", "data": None}}
    assert parse_studio_task("st9", 200, no_inner, None).songs == ()


@pytest.mark.parametrize(
    "body",
    [
        {"code": "success", "data": "st1"},
        {"code": "success"},
        {"code": "success", "data": {"status": "SUCCESS", "data": ["x"]}},
        {"code": "success", "data": {"status": "SUCCESS", "data": {"songs": "s1"}}},
        {"code": "success", "data": {"status": "SUCCESS", "data": {"songs": [{"title": "no id"}]}}},
        {"code": "success", "data": {"status": ["SUCCESS"]}},
        ["SUCCESS"],
    ],
)
def test_malformed_studio_task(body: Any) -> None:
    with pytest.raises(MalformedResponseError):
        parse_studio_task("st1", 200, body, None)


# -- riffusion ----------------------------------------------------------------------------


def test_riffusion_only_code_200_is_done() -> None:
    assert parse_riffusion_task("r1", 202, {"type": "not_ready"}, 2.0).retry_after == 2.0
    interim = parse_riffusion_task(
        "r1", 200, {"code": 102, "message": "processing", "data": []}, None
    )
    assert interim.state == TaskState.RUNNING and interim.raw["code"] == 102
    early = parse_riffusion_task("r1", 200, {"code": 102, "data": [CLIP]}, None)
    assert early.state == TaskState.RUNNING and early.clips == ()
    as_text = parse_riffusion_task("r1", 200, {"code": "200", "data": [CLIP]}, None)
    assert as_text.state == TaskState.RUNNING
    done = parse_riffusion_task(
        "r1",
        200,
        {"code": 200, "message": "success", "data": [CLIP, {**CLIP, "clip_id": "c2"}]},
        None,
    )
    assert done.state == TaskState.SUCCEEDED and len(done.clips) == 2
    assert done.clips[0].raw["sound"] == "lofi" and done.clips[0].duration == pytest.approx(104.88)
    failed = parse_riffusion_task("r1", 200, {"type": "failed", "error": "nope"}, None)
    assert RIFFUSION.read(failed).state == TaskState.FAILED


@pytest.mark.parametrize("body", [{}, {"code": 200, "data": {"clip_id": "c1"}}, "done", [CLIP]])
def test_malformed_riffusion_task(body: Any) -> None:
    with pytest.raises(MalformedResponseError):
        parse_riffusion_task("r1", 200, body, None)


def test_producer_and_suno_read_sonic_shapes() -> None:
    body = {"code": 200, "message": "success", "data": [{**CLIP, "mv": "Lyria 3 Pro"}]}
    for kind in (PRODUCER, SUNO):
        task = kind.parse("p1", 200, body, None)
        assert task.state == TaskState.SUCCEEDED and task.clips[0].raw["seed"] == 7
        with pytest.raises(MalformedResponseError):
            kind.parse("p1", 200, {"code": 200, "data": "nope"}, None)


# -- nuro ---------------------------------------------------------------------------------


def test_nuro_states() -> None:
    pending = parse_nuro_task("n1", 200, nuro("pending", progress=0), None)
    assert not pending.is_done and NURO.read(pending).state == TaskState.RUNNING
    queued = parse_nuro_task("n1", 200, nuro("queued"), None)
    assert NURO.read(queued).state == TaskState.RUNNING
    done = parse_nuro_task("n1", 200, nuro("succeeded", mood="Happy"), None)
    reading = NURO.read(done)
    assert reading.state == TaskState.SUCCEEDED and reading.result == done
    assert done.audio_url and done.raw["mood"] == "Happy"
    failed = parse_nuro_task("n1", 200, nuro("failed", error="semantic error"), None)
    reading = NURO.read(failed)
    assert reading.state == TaskState.FAILED and reading.reason == "semantic error"


def test_nuro_odd_shapes() -> None:
    text_numbers = parse_nuro_task("n1", 200, nuro("running", progress="55", duration="30.5"), None)
    assert text_numbers.progress == 55 and text_numbers.duration == 30.5
    listed = parse_nuro_task("n1", 200, nuro("succeeded", genre=["Ambient", "Jazz"]), None)
    assert listed.genre == "Ambient, Jazz" and listed.raw["genre"] == ["Ambient", "Jazz"]
    no_id = parse_nuro_task("n7", 200, {"status": "running", "progress": 10}, None)
    assert no_id.task_id == "n7"
    envelope = parse_nuro_task("n1", 200, {"type": "api_error", "error": "algorithm error"}, None)
    assert envelope.failed and envelope.error == "api_error: algorithm error"
    not_ready = parse_nuro_task("n1", 202, {"type": "not_ready"}, None)
    assert not not_ready.is_done
    error_only = parse_nuro_task("n1", 200, {"status": "running", "error": "boom"}, None)
    assert error_only.failed


@pytest.mark.parametrize(
    "body",
    [["succeeded"], "succeeded", {"status": {"s": 1}}, {"status": "running", "progress": "half"}],
)
def test_malformed_nuro_task(body: Any) -> None:
    with pytest.raises(MalformedResponseError):
        parse_nuro_task("n1", 200, body, None)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (
            LYRICS,
            {
                "code": 200,
                "data": {"task_id": "x", "status": "complete", "title": "T", "text": "L"},
            },
        ),
        (STUDIO, studio("SUCCESS", songs=[SONG])),
        (RIFFUSION, {"code": 200, "message": "success", "data": [CLIP]}),
        (PRODUCER, {"code": 200, "message": "success", "data": [CLIP]}),
        (NURO, nuro("succeeded")),
    ],
)
def test_a_journaled_body_reads_back_the_same(kind: TaskKind[Any, Any], body: Any) -> None:
    first = kind.read(kind.parse("x", 200, body, None))
    again = kind.read(kind.parse("x", 200, first.body, None))
    assert first.state == again.state == TaskState.SUCCEEDED
    assert first.result == again.result


# -- through the client, on a mock transport ----------------------------------------------


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _client(answers: list[httpx.Response], seen: list[httpx.Request]) -> AsyncMusicAPI:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return AsyncMusicAPI(
        FAKE_KEY,
        base_url="https://api.example/api/v1",
        transport=httpx.MockTransport(handler),
        clock=FakeClock(),
        max_retries=0,
    )


async def test_studio_wait_rides_out_a_malformed_answer() -> None:
    seen: list[httpx.Request] = []
    answers = [
        httpx.Response(200, json={"code": "success", "data": "st1"}),
        httpx.Response(200, json=studio("IN_PROGRESS")),
        httpx.Response(200, json={"code": "success", "data": ["garbage"]}),
        httpx.Response(200, json=studio("SUCCESS", songs=[SONG])),
    ]
    async with _client(answers, seen) as api:
        result = await api.studio.generate(
            prompt="p",
            lyrics_type="instrumental",
            prompt_strength=0.5,
            clarity_strength=0.5,
            lyrics_strength=0.5,
            generation_quality=0.5,
            model_type="m",
            config={},
        )
    assert result.songs[0].id == "s1"
    assert [request.url.path for request in seen] == [
        "/api/v1/studio/create",
        *["/api/v1/studio/task/st1"] * 3,
    ]


async def test_a_single_get_surfaces_malformed_answers() -> None:
    seen: list[httpx.Request] = []
    async with _client([httpx.Response(200, json=["?"])], seen) as api:
        with pytest.raises(MalformedResponseError):
            await api.suno.get_lyrics("l1")
        with pytest.raises(MalformedResponseError):
            await api.riffusion.get("r1")
        with pytest.raises(MalformedResponseError):
            await api.studio.get("st1")
        with pytest.raises(MalformedResponseError):
            await api.nuro.get("n1")
    assert [request.url.path for request in seen] == [
        "/api/v1/suno/get-lyrics/l1",
        "/api/v1/riffusion/task/r1",
        "/api/v1/studio/task/st1",
        "/api/v1/nuro/task/n1",
    ]


async def test_lyrics_wait_on_a_mock_transport() -> None:
    seen: list[httpx.Request] = []
    answers = [
        httpx.Response(200, json={"code": 200, "data": {"task_id": "l1"}, "message": "success"}),
        httpx.Response(200, json={"code": 200, "data": {"task_id": "l1", "status": "running"}}),
        httpx.Response(
            200,
            json={"code": 200, "data": {"task_id": "l1", "status": "error", "error": "flagged"}},
        ),
    ]
    async with _client(answers, seen) as api:
        submission = await api.suno.make_lyrics("a prompt")
        with pytest.raises(TaskFailedError, match="flagged"):
            await api.suno.wait_lyrics(submission)
    assert seen[0].url.path == "/api/v1/suno/make-lyrics"
    assert seen[0].content == b'{"prompt":"a prompt"}'
