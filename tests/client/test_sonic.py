"""The async client against the in-process sandbox, on a fake clock."""

from __future__ import annotations

import wave
from typing import TYPE_CHECKING

import pytest

import musicapi
from musicapi import (
    AsyncMusicAPI,
    AuthenticationError,
    InsufficientCreditsError,
    NotFoundError,
    RequestValidationError,
    TaskFailedError,
    WaitTimeoutError,
)
from musicapi.models import TaskState
from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock, sandbox_client

if TYPE_CHECKING:
    from pathlib import Path


async def test_credits_match_the_sandbox(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    credits = await client.get_credits()
    assert credits.credits == sandbox.credits
    assert credits.extra_credits == sandbox.extra_credits
    assert "credits" in credits.raw


async def test_description_mode_generates_two_clips(
    client: AsyncMusicAPI, sandbox: Sandbox, clock: FakeClock
) -> None:
    before = sandbox.credits
    result = await client.sonic.generate(
        custom_mode=False, mv="sonic-v5", gpt_description_prompt="uplifting synthwave"
    )
    assert len(result.clips) == 2
    for clip in result.clips:
        assert clip.clip_id and clip.audio_url and clip.image_url
        assert isinstance(clip.duration, float) and clip.duration > 0
        assert clip.state == "succeeded"
        assert "play_count" in clip.raw or set(clip.raw) >= {"clip_id", "audio_url"}
    assert sandbox.credits == before - 15
    assert sandbox.task(result.task_id).payload["gpt_description_prompt"] == "uplifting synthwave"
    assert 3.0 <= clock.now() <= 3.0 + 1.5 + 0.5


async def test_custom_mode_sends_the_quickstart_payload(
    client: AsyncMusicAPI, sandbox: Sandbox
) -> None:
    result = await client.sonic.generate(
        custom_mode=True,
        mv="sonic-v5",
        prompt="[Verse]\nCity lights, neon dreams\n[Chorus]\nDrive on, drive on",
        title="Night Drive",
        tags="synthwave, retro, energetic",
    )
    assert {clip.title for clip in result.clips} == {"Night Drive"}
    payload = sandbox.task(result.task_id).payload
    assert payload["title"] == "Night Drive" and payload["custom_mode"] is True
    assert "lyrics" not in payload  # None fields are not sent


@pytest.mark.parametrize(
    "fields",
    [
        {"custom_mode": True, "make_instrumental": True, "tags": "ambient"},
        {"custom_mode": True, "auto_lyrics": True, "prompt": "a song about rain"},
    ],
)
async def test_other_create_music_modes(client: AsyncMusicAPI, fields: dict[str, object]) -> None:
    result = await client.sonic.generate(mv="sonic-v4-5", **fields)
    assert len(result.clips) == 2


@pytest.mark.parametrize(
    ("task_type", "extra"),
    [
        (
            "extend_music",
            {"continue_at": 1.0, "custom_mode": False, "gpt_description_prompt": "more"},
        ),
        ("cover_music", {"custom_mode": True, "tags": "jazz", "make_instrumental": True}),
        ("concat_music", {}),
        ("remaster", {}),
        ("add_instrumental", {}),
        ("add_vocals", {}),
        ("extend_upload_music", {"continue_at": 0.5, "custom_mode": True, "prompt": "la la"}),
        ("cover_upload_music", {"custom_mode": True, "prompt": "la la"}),
    ],
)
async def test_task_types_that_build_on_a_clip(
    client: AsyncMusicAPI, task_type: str, extra: dict[str, object]
) -> None:
    source = await client.sonic.generate(gpt_description_prompt="a seed song")
    result = await client.sonic.generate(
        task_type=task_type, continue_clip_id=source.clips[0].clip_id, **extra
    )
    assert result.clips


async def test_persona_music(client: AsyncMusicAPI) -> None:
    song = await client.sonic.generate(gpt_description_prompt="a voice to keep")
    persona = await client.sonic.persona(name="Nova", clip_id=song.clips[0].clip_id)
    result = await client.sonic.generate(
        task_type="persona_music", persona_id=persona.persona_id, custom_mode=True, prompt="hello"
    )
    assert len(result.clips) == 2


async def test_persona_music_with_an_unknown_persona_is_not_found(client: AsyncMusicAPI) -> None:
    with pytest.raises(NotFoundError, match="persona not found"):
        await client.sonic.create(
            task_type="persona_music", persona_id="p-1", custom_mode=True, prompt="hello"
        )


async def test_get_reports_running_then_succeeded(client: AsyncMusicAPI, clock: FakeClock) -> None:
    submission = await client.sonic.create(gpt_description_prompt="x")
    task = await client.sonic.get(submission.task_id)
    assert task.state == TaskState.RUNNING and not task.is_done and task.clips == ()
    clock.advance(10)
    task = await client.sonic.get(submission.task_id)
    assert task.state == TaskState.SUCCEEDED and len(task.clips) == 2


async def test_failed_task_get_and_wait(
    client: AsyncMusicAPI, sandbox: Sandbox, clock: FakeClock
) -> None:
    sandbox.faults.fail_next_tasks = 1
    sandbox.faults.fail_type = "timeout"
    before = sandbox.credits
    submission = await client.sonic.create(gpt_description_prompt="x")
    with pytest.raises(TaskFailedError) as caught:
        await client.sonic.wait(submission.task_id)
    assert caught.value.task_id == submission.task_id
    assert caught.value.reason.startswith("timeout")
    task = await client.sonic.get(submission.task_id)
    assert task.state == TaskState.FAILED and task.reason and task.reason.startswith("timeout")
    assert sandbox.credits == before  # refunded


async def test_wait_times_out_on_time_and_can_resume(
    client: AsyncMusicAPI, clock: FakeClock
) -> None:
    submission = await client.sonic.create(gpt_description_prompt="x")
    started = clock.now()
    with pytest.raises(WaitTimeoutError) as caught:
        await client.sonic.wait(submission.task_id, timeout=1.0)
    assert caught.value.task_id == submission.task_id
    assert clock.now() - started == pytest.approx(1.0, abs=0.01)
    result = await client.sonic.wait(submission.task_id)
    assert result.task_id == submission.task_id


async def test_short_task_costs_few_polls_and_is_seen_soon(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    async with sandbox_client(sandbox) as api:
        await api.sonic.generate(gpt_description_prompt="x")
    assert sandbox.stats.requests["task"] <= 8
    assert clock.now() <= 3.0 + 1.5


async def test_unknown_task_is_not_found(client: AsyncMusicAPI) -> None:
    with pytest.raises(NotFoundError) as caught:
        await client.sonic.get("no-such-task")
    assert caught.value.status_code == 404
    assert caught.value.request_id


async def test_validation_happens_before_sending(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await client.sonic.create(
            custom_mode=False, mv="sonic-v5", gpt_description_prompt="x" * 401
        )
    assert caught.value.field == "gpt_description_prompt"
    with pytest.raises(RequestValidationError, match="continue_clip_id"):
        await client.sonic.create(task_type="extend_music", continue_at=3.0, custom_mode=False)
    with pytest.raises(RequestValidationError, match="promt"):
        await client.sonic.create(promt="typo")
    with pytest.raises(RequestValidationError, match="task_id"):
        await client.sonic.get("")
    assert sandbox.stats.creates == 0


async def test_bad_key_is_an_authentication_error(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, api_key="right-key")
    async with sandbox_client(sandbox, api_key="wrong-key") as api:
        with pytest.raises(AuthenticationError) as caught:
            await api.get_credits()
    assert caught.value.status_code == 401
    assert "wrong-key" not in str(caught.value)


async def test_out_of_credits(clock: FakeClock) -> None:
    sandbox = Sandbox(clock=clock, credits=10)
    async with sandbox_client(sandbox) as api:
        with pytest.raises(InsufficientCreditsError) as caught:
            await api.sonic.create(gpt_description_prompt="x")
    assert caught.value.status_code == 403


async def test_missing_key_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox
) -> None:
    monkeypatch.delenv("MUSICAPI_KEY", raising=False)
    async with AsyncMusicAPI(base_url=sandbox.base_url, transport=sandbox.transport()) as api:
        with pytest.raises(musicapi.ConfigurationError, match="MUSICAPI_KEY"):
            await api.get_credits()


async def test_download_writes_a_playable_file_without_the_key(
    client: AsyncMusicAPI, sandbox: Sandbox, tmp_path: Path
) -> None:
    result = await client.sonic.generate(custom_mode=True, prompt="la la", title="../../etc/passwd")
    path = await client.download(result.clips[0], tmp_path)
    assert path.parent == tmp_path
    with wave.open(str(path)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
    assert seconds == pytest.approx(result.clips[0].duration or 0, abs=0.05)
    assert not list(tmp_path.glob(".partial-*"))
