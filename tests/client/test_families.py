"""The Suno, Producer, Studio, Riffusion and Nuro families against the in-process sandbox."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import pytest

from musicapi import (
    AsyncMusicAPI,
    BadRequestError,
    GoneError,
    NotFoundError,
    RequestValidationError,
    TaskFailedError,
    WaitTimeoutError,
)
from musicapi._models.nuro import NuroBgmRequest, NuroTask, NuroVocalRequest
from musicapi._models.producer import ProducerCreateRequest
from musicapi._models.studio import StudioCreateRequest, StudioResult, StudioStatus
from musicapi._models.suno import LyricsStatus
from musicapi.models import TaskState
from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock, sandbox_client

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

STUDIO_FIELDS: dict[str, Any] = {
    "prompt": "a dreamy indie ballad",
    "lyrics_type": "generate",
    "prompt_strength": 0.5,
    "clarity_strength": 0.25,
    "lyrics_strength": 0.5,
    "generation_quality": 0.75,
    "model_type": "udio130-v1.5",
    "config": {"mode": "regular"},
}


@pytest.fixture
def quiet() -> Iterator[None]:
    """Silence the deprecation warnings of riffusion and nuro (checked in their own tests)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@pytest.fixture
async def legacy(clock: FakeClock) -> AsyncIterator[tuple[AsyncMusicAPI, Sandbox]]:
    sandbox = Sandbox(clock=clock, task_seconds=3.0, legacy_nuro=True)
    async with sandbox_client(sandbox) as api:
        yield api, sandbox


def _sent(sandbox: Sandbox) -> int:
    return sum(sandbox.stats.requests.values())


# -- suno ---------------------------------------------------------------------------------


async def test_suno_create_get_wait(client: AsyncMusicAPI, clock: FakeClock) -> None:
    submission = await client.suno.create(custom_mode=True, prompt="la la", title="Old Name")
    task = await client.suno.get(submission.task_id)
    assert task.state == TaskState.RUNNING and not task.clips
    result = await client.suno.wait(submission)
    assert len(result.clips) == 2 and {clip.title for clip in result.clips} == {"Old Name"}
    assert clock.now() >= 3.0


async def test_suno_generate_uses_the_suno_paths(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    result = await client.suno.generate(gpt_description_prompt="late night jazz")
    assert len(result.clips) == 2
    assert sandbox.stats.requests.get("suno/create") == 1
    assert sandbox.stats.requests.get("suno/clip", 0) >= 1
    assert "create" not in sandbox.stats.requests


async def test_suno_validates_like_sonic(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await client.suno.create(custom_mode=True, prompt="x", title="t" * 81)
    assert caught.value.field == "title"
    assert _sent(sandbox) == 0


async def test_suno_failure(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    sandbox.faults.fail_next_tasks = 1
    with pytest.raises(TaskFailedError):
        await client.suno.generate(gpt_description_prompt="x")


async def test_suno_generate_many(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    requests: list[Any] = [{"gpt_description_prompt": "a"}, {"title": "t" * 81, "prompt": "x"}]
    outcomes = sorted(
        [outcome async for outcome in client.suno.generate_many(requests)],
        key=lambda outcome: outcome.index,
    )
    assert outcomes[0].result and len(outcomes[0].result.clips) == 2
    assert isinstance(outcomes[1].error, RequestValidationError)
    assert sandbox.stats.requests.get("suno/create") == 1


async def test_suno_lyrics_task(client: AsyncMusicAPI, clock: FakeClock) -> None:
    submission = await client.suno.make_lyrics("rain on a tin roof")
    running = await client.suno.get_lyrics(submission.task_id)
    assert running.status == LyricsStatus.RUNNING and not running.is_done
    assert running.raw["code"] == 200
    lyrics = await client.suno.wait_lyrics(submission)
    assert lyrics.status == LyricsStatus.COMPLETE and lyrics.is_done
    assert lyrics.title and lyrics.text and "[Verse]" in lyrics.text
    assert lyrics.task_id == submission.task_id
    assert clock.now() >= 3.0


async def test_suno_lyrics_failure_and_unknown_id(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    sandbox.faults.fail_next_tasks = 1
    submission = await client.suno.make_lyrics("doomed")
    with pytest.raises(TaskFailedError) as caught:
        await client.suno.wait_lyrics(submission.task_id)
    assert caught.value.task_id == submission.task_id
    task = await client.suno.get_lyrics(submission.task_id)
    assert task.status == LyricsStatus.ERROR and task.error
    with pytest.raises(NotFoundError):
        await client.suno.get_lyrics("no-such-task")


async def test_suno_lyrics_prompt_is_checked(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await client.suno.make_lyrics("x" * 120)
    assert caught.value.field == "prompt"
    assert _sent(sandbox) == 0


async def test_suno_lyrics_wait_times_out(client: AsyncMusicAPI) -> None:
    submission = await client.suno.make_lyrics("slow")
    with pytest.raises(WaitTimeoutError):
        await client.suno.wait_lyrics(submission, timeout=1.0)


async def test_suno_get_song(client: AsyncMusicAPI) -> None:
    song = await client.suno.get_song("https://suno.com/song/abc123")
    assert song.audio_url and song.song_title
    assert "audio_url" in song.raw
    with pytest.raises(RequestValidationError, match="share_link"):
        await client.suno.get_song("not a link")


# -- producer -----------------------------------------------------------------------------


async def test_producer_generate(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    result = await client.producer.generate(
        sound="lofi hip hop, instrumental, no vocals", title="Study", length=30
    )
    assert len(result.clips) == 2
    assert all(clip.raw.get("sound") for clip in result.clips)  # kept though not modelled
    assert sandbox.task(result.task_id).payload["length"] == 30


async def test_producer_get_while_running(client: AsyncMusicAPI, clock: FakeClock) -> None:
    submission = await client.producer.create(ProducerCreateRequest(sound="ambient"))
    task = await client.producer.get(submission.task_id)
    assert task.state == TaskState.RUNNING
    clock.advance(10)
    task = await client.producer.get(submission.task_id)
    assert task.state == TaskState.SUCCEEDED and len(task.clips) == 2


async def test_producer_cover_extend_replace(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    source = await client.producer.generate(sound="funk groove")
    clip_id = source.clips[0].clip_id
    cover = await client.producer.generate(task_type="cover_music", clip_id=clip_id, strength=0.7)
    assert cover.clips
    assert sandbox.task(cover.task_id).payload["strength"] == 0.7
    extend = await client.producer.generate(task_type="extend_music", clip_id=clip_id, extend_s=10)
    assert extend.clips
    replace = await client.producer.generate(
        task_type="replace_music", clip_id=clip_id, starts_at=1.0, ends_at=2.0
    )
    assert replace.clips


async def test_producer_upload_and_download(client: AsyncMusicAPI) -> None:
    upload = await client.producer.upload("https://example.com/track.mp3")
    uploaded = await client.producer.wait(upload)
    assert len(uploaded.clips) == 1
    download = await client.producer.download(uploaded.clips[0].clip_id, format="wav")
    exported = await client.producer.wait(download)
    (entry,) = exported.clips
    assert entry.audio_url and entry.raw.get("format") == "wav"


async def test_producer_failure(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    sandbox.faults.fail_next_tasks = 1
    with pytest.raises(TaskFailedError):
        await client.producer.generate(sound="x")


async def test_producer_withdrawn_task_type_is_refused_locally(
    client: AsyncMusicAPI, sandbox: Sandbox
) -> None:
    with pytest.raises(RequestValidationError, match=r"withdrawn.*410.*replace_music") as caught:
        await client.producer.create(task_type="swap_music_vocals", clip_id="c")
    assert caught.value.field == "task_type"
    assert _sent(sandbox) == 0


async def test_producer_generate_many(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    requests: list[Any] = [
        {"sound": "ambient pads"},
        ProducerCreateRequest(sound="drum and bass", length=60),
        {"sound": "too long", "length": 500},
        {"task_type": "music_variation", "clip_id": "c"},
    ]
    outcomes = [outcome async for outcome in client.producer.generate_many(requests)]
    by_index = {outcome.index: outcome for outcome in outcomes}
    assert sorted(by_index) == [0, 1, 2, 3]
    assert by_index[0].ok and by_index[0].result and len(by_index[0].result.clips) == 2
    assert by_index[1].ok
    assert isinstance(by_index[2].error, RequestValidationError)
    assert by_index[2].task_id is None
    assert isinstance(by_index[3].error, RequestValidationError)
    assert "withdrawn" in str(by_index[3].error)
    assert sandbox.stats.requests.get("producer/create") == 2


# -- studio -------------------------------------------------------------------------------


async def test_studio_generate(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    result = await client.studio.generate(**STUDIO_FIELDS)
    assert isinstance(result, StudioResult)
    assert len(result.songs) == 2
    for song in result.songs:
        assert song.id and song.audio_url and isinstance(song.tags, tuple)
        assert isinstance(song.duration, float)
    assert result.raw["data"]["status"] == StudioStatus.SUCCESS
    assert sandbox.task(result.task_id).payload["config"] == {"mode": "regular"}


async def test_studio_create_get_wait(client: AsyncMusicAPI, clock: FakeClock) -> None:
    submission = await client.studio.create(StudioCreateRequest(**STUDIO_FIELDS))
    assert submission.task_id and submission.raw["code"] == "success"
    clock.advance(1.5)
    task = await client.studio.get(submission.task_id)
    assert task.status == StudioStatus.IN_PROGRESS and not task.is_done and task.songs == ()
    assert task.percent is not None and 0 <= task.percent < 100
    result = await client.studio.wait(submission)
    assert result.task_id == submission.task_id and len(result.songs) == 2
    task = await client.studio.get(submission.task_id)
    assert task.status == StudioStatus.SUCCESS and task.percent == 100 and task.is_done


async def test_studio_failure_ends_the_wait(
    client: AsyncMusicAPI, sandbox: Sandbox, clock: FakeClock
) -> None:
    sandbox.faults.fail_next_tasks = 1
    submission = await client.studio.create(**STUDIO_FIELDS)
    with pytest.raises(TaskFailedError) as caught:
        await client.studio.wait(submission, timeout=600)
    assert caught.value.reason
    assert clock.now() < 30  # seen as failed, not polled until the timeout
    task = await client.studio.get(submission.task_id)
    assert task.status == StudioStatus.FAILURE and task.failed and task.fail_reason


async def test_studio_unknown_id_is_a_bad_request(client: AsyncMusicAPI) -> None:
    with pytest.raises(BadRequestError) as caught:
        await client.studio.get("no-such-task")
    assert caught.value.status_code == 400


async def test_studio_required_fields(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    fields = {key: value for key, value in STUDIO_FIELDS.items() if key != "model_type"}
    with pytest.raises(RequestValidationError) as caught:
        await client.studio.create(**fields)
    assert caught.value.field == "model_type"
    assert _sent(sandbox) == 0


async def test_studio_generate_many(client: AsyncMusicAPI) -> None:
    requests: list[Any] = [
        STUDIO_FIELDS,
        StudioCreateRequest(**{**STUDIO_FIELDS, "prompt": "a second song"}),
        {**STUDIO_FIELDS, "lyrics": "x" * 1001},
    ]
    outcomes = [outcome async for outcome in client.studio.generate_many(requests)]
    by_index = {outcome.index: outcome for outcome in outcomes}
    assert by_index[0].result and len(by_index[0].result.songs) == 2
    assert by_index[1].result and len(by_index[1].result.songs) == 2
    assert isinstance(by_index[2].error, RequestValidationError)


# -- riffusion ----------------------------------------------------------------------------


async def test_riffusion_generate(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    before = sandbox.credits
    with pytest.warns(DeprecationWarning, match="sonic"):
        result = await client.riffusion.generate(prompt="sunny reggae", mv="FUZZ-1.1")
    assert len(result.clips) == 2
    assert sandbox.credits == before - 12


@pytest.mark.usefixtures("quiet")
async def test_riffusion_interim_answer_is_running(client: AsyncMusicAPI, clock: FakeClock) -> None:
    submission = await client.riffusion.create(prompt="x")
    first = await client.riffusion.get(submission.task_id)
    assert first.state == TaskState.RUNNING
    clock.advance(1.5)  # past the first third: the interim 200 "processing"
    interim = await client.riffusion.get(submission.task_id)
    assert interim.state == TaskState.RUNNING and interim.clips == ()
    assert interim.raw["code"] != 200
    clock.advance(2.0)
    done = await client.riffusion.get(submission.task_id)
    assert done.state == TaskState.SUCCEEDED and len(done.clips) == 2
    result = await client.riffusion.wait(submission)
    assert result.task_id == submission.task_id


@pytest.mark.usefixtures("quiet")
async def test_riffusion_failure_and_rules(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    sandbox.faults.fail_next_tasks = 1
    with pytest.raises(TaskFailedError):
        await client.riffusion.generate(prompt="x")
    before = _sent(sandbox)
    with pytest.raises(RequestValidationError) as caught:
        await client.riffusion.create(prompt="x" * 201)
    assert caught.value.field == "prompt"
    with pytest.raises(RequestValidationError) as caught:
        await client.riffusion.create(task_type="extend_music")
    assert caught.value.field == "continue_clip_id"
    assert _sent(sandbox) == before


@pytest.mark.usefixtures("quiet")
async def test_riffusion_upload_and_batch(client: AsyncMusicAPI) -> None:
    upload = await client.riffusion.upload("https://example.com/a.mp3")
    assert upload.clip_id and upload.raw["clip_id"] == upload.clip_id
    outcomes = [o async for o in client.riffusion.generate_many([{"prompt": "a"}, {"prompt": "b"}])]
    assert len(outcomes) == 2 and all(outcome.ok for outcome in outcomes)


async def test_riffusion_warns_on_every_call_at_the_caller(client: AsyncMusicAPI) -> None:
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        submission = await client.riffusion.create(prompt="x")
        await client.riffusion.get(submission.task_id)
        await client.riffusion.wait(submission)
        await client.riffusion.upload("https://example.com/a.mp3")
        run = client.riffusion.generate_many([])
        _ = [outcome async for outcome in run]
    deprecations = [w for w in record if issubclass(w.category, DeprecationWarning)]
    assert len(deprecations) == 5
    assert {w.filename for w in deprecations} == {__file__}


# -- nuro ---------------------------------------------------------------------------------


async def test_nuro_is_gone_by_default(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    with pytest.warns(DeprecationWarning, match="withdrawn") as record:
        with pytest.raises(GoneError) as caught:
            await client.nuro.create(type="vocal", lyrics="la la la")
    assert caught.value.status_code == 410
    assert "sonic" in str(caught.value)
    assert record[0].filename == __file__
    with pytest.warns(DeprecationWarning, match="withdrawn"), pytest.raises(GoneError):
        await client.nuro.get("any-old-task")
    with pytest.warns(DeprecationWarning, match="withdrawn"), pytest.raises(GoneError):
        await client.nuro.wait("any-old-task")
    with pytest.warns(DeprecationWarning, match="withdrawn"), pytest.raises(GoneError):
        await client.nuro.generate(NuroBgmRequest(description="calm piano", duration=30))
    assert sandbox.stats.by_status.get(410) == 4


async def test_nuro_batch_reports_gone_per_request(client: AsyncMusicAPI) -> None:
    with pytest.warns(DeprecationWarning, match="withdrawn"):
        run = client.nuro.generate_many([{"type": "vocal", "lyrics": "a"}])
    outcomes = [outcome async for outcome in run]
    assert len(outcomes) == 1 and isinstance(outcomes[0].error, GoneError)


@pytest.mark.usefixtures("quiet")
async def test_nuro_legacy_vocal_flow(
    legacy: tuple[AsyncMusicAPI, Sandbox], clock: FakeClock
) -> None:
    api, sandbox = legacy
    before = sandbox.credits
    submission = await api.nuro.create(NuroVocalRequest(lyrics="la la la", gender="Female"))
    task = await api.nuro.get(submission.task_id)
    assert task.status in ("pending", "running") and not task.is_done
    clock.advance(2.0)
    task = await api.nuro.get(submission.task_id)
    assert task.status == "running" and task.progress and 0 < task.progress < 100
    done = await api.nuro.wait(submission)
    assert isinstance(done, NuroTask) and done.succeeded and done.progress == 100
    assert done.audio_url and done.audio_url.endswith(".wav") and done.lyrics == "la la la"
    assert sandbox.credits == before - 10


@pytest.mark.usefixtures("quiet")
async def test_nuro_legacy_bgm_failure_and_unknown(legacy: tuple[AsyncMusicAPI, Sandbox]) -> None:
    api, sandbox = legacy
    result = await api.nuro.generate(
        type="bgm", description="calm", genre=["Ambient", "Jazz"], duration=30
    )
    assert result.succeeded and result.genre == "Ambient, Jazz"
    sandbox.faults.fail_next_tasks = 1
    with pytest.raises(TaskFailedError) as caught:
        await api.nuro.generate(type="vocal", lyrics="x")
    assert caught.value.reason
    with pytest.raises(NotFoundError):
        await api.nuro.get("no-such-task")
    outcomes = [o async for o in api.nuro.generate_many([NuroBgmRequest(description="a")])]
    assert outcomes[0].ok and outcomes[0].result and outcomes[0].result.audio_url


@pytest.mark.usefixtures("quiet")
async def test_nuro_rules_before_sending(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await client.nuro.create(lyrics="no type")
    assert caught.value.field == "type"
    with pytest.raises(RequestValidationError) as caught:
        await client.nuro.create(type="bgm", description="x", duration=90)
    assert caught.value.field == "duration"
    assert _sent(sandbox) == 0
