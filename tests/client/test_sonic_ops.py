"""Every Sonic operation beyond `create`, round trip through the in-process sandbox.

The sandbox runs on the fake clock the client shares, so waits (stems, mashups, MIDI's
202s) take no real time; its answers are its own literals (`plan/wire.md`), so these
tests check our parsing, not a copy of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from musicapi import BadRequestError, NotFoundError

if TYPE_CHECKING:
    from musicapi import AsyncMusicAPI
    from musicapi.models import Clip, GenerationResult
    from musicapi.sandbox import Sandbox
    from musicapi.testing import FakeClock

LYRICS = "[Verse]\nNeon lights glow\nDrive on tonight\n[Chorus]\nHome again"


@pytest.fixture
async def song(client: AsyncMusicAPI) -> GenerationResult:
    return await client.sonic.generate(
        custom_mode=True, mv="sonic-v5", prompt=LYRICS, title="Night Drive", tags="synthwave"
    )


@pytest.fixture
def clip(song: GenerationResult) -> Clip:
    return song.clips[0]


async def test_lyrics_gives_two_candidates(client: AsyncMusicAPI, sandbox: Sandbox) -> None:
    before = sandbox.credits
    result = await client.sonic.lyrics("a drive through a neon city")
    assert len(result.candidates) == 2
    for candidate in result.candidates:
        assert candidate.title and candidate.lyrics and "[Verse]" in candidate.lyrics
    assert sandbox.credits == before  # lyrics use their own pool


async def test_aligned_lyrics_lines_follow_the_prompt(client: AsyncMusicAPI, clip: Clip) -> None:
    lyrics = await client.sonic.aligned_lyrics(clip.clip_id)
    assert lyrics.clip_id == clip.clip_id
    assert [line.text for line in lyrics.lines] == [
        "Neon lights glow",
        "Drive on tonight",
        "Home again",
    ]
    starts = [word.start_s for word in lyrics.words]
    assert starts == sorted(starts)
    assert all(word.start_s < word.end_s for word in lyrics.words)
    assert clip.duration is not None and lyrics.words[-1].end_s <= clip.duration
    middle = lyrics.lines[1]
    moment = (middle.start_s + middle.end_s) / 2
    assert lyrics.line_at(moment) == middle
    word = lyrics.word_at(middle.words[0].start_s)
    assert word is not None and word.text == "Drive"


async def test_aligned_lyrics_of_an_instrumental_is_not_found(client: AsyncMusicAPI) -> None:
    song = await client.sonic.generate(custom_mode=True, make_instrumental=True, tags="ambient")
    with pytest.raises(NotFoundError):
        await client.sonic.aligned_lyrics(song.clips[0].clip_id)


async def test_bpm(client: AsyncMusicAPI, clip: Clip) -> None:
    bpm = await client.sonic.bpm(clip.clip_id)
    assert bpm.avg_bpm is not None and 40 <= bpm.avg_bpm <= 240
    assert bpm.min_bpm is not None and bpm.max_bpm is not None
    assert bpm.min_bpm <= bpm.avg_bpm <= bpm.max_bpm


async def test_upsample_tags(client: AsyncMusicAPI) -> None:
    tags = await client.sonic.upsample_tags("lofi")
    assert tags.upsampled_tags and "lofi" in tags.upsampled_tags


async def test_wav_costs_two_credits(client: AsyncMusicAPI, sandbox: Sandbox, clip: Clip) -> None:
    before = sandbox.credits
    wav = await client.sonic.wav(clip.clip_id)
    assert wav.clip_id == clip.clip_id and wav.wav_url and wav.wav_url.endswith(".wav")
    assert sandbox.credits == before - 2


async def test_wav_of_an_unknown_clip(client: AsyncMusicAPI) -> None:
    with pytest.raises(NotFoundError):
        await client.sonic.wav("no-such-clip")


async def test_midi_waits_for_the_transcription(
    client: AsyncMusicAPI, clip: Clip, clock: FakeClock
) -> None:
    started = clock.now()
    midi = await client.sonic.midi(clip.clip_id)
    assert clock.now() - started >= 1.0  # the sandbox answers 202 for one second
    assert midi.clip_id == clip.clip_id and midi.midi_url and midi.midi_url.endswith(".mid")
    assert midi.instruments and all(item.name for item in midi.instruments)
    assert any(item.notes for item in midi.instruments)
    again = await client.sonic.midi(clip.clip_id)  # ready now: one answer
    assert again.midi_url == midi.midi_url


async def test_midi_of_an_unknown_clip(client: AsyncMusicAPI) -> None:
    with pytest.raises(NotFoundError):
        await client.sonic.midi("no-such-clip", timeout=30)


async def test_vox_then_persona_then_persona_music(client: AsyncMusicAPI, clip: Clip) -> None:
    vox = await client.sonic.vox(clip.clip_id, vocal_start_s=0.5, vocal_end_s=1.5)
    assert vox.source_clip_id == clip.clip_id and vox.status == "complete"
    assert (vox.vocal_start_s, vox.vocal_end_s) == (0.5, 1.5)
    assert vox.audio_url
    persona = await client.sonic.persona(
        name="Nova", clip_id=clip.clip_id, vox_audio_id=vox.vox_audio_id, styles="synthwave"
    )
    assert persona.persona_id
    song = await client.sonic.generate(
        task_type="persona_music", persona_id=persona.persona_id, custom_mode=True, prompt="hi"
    )
    assert len(song.clips) == 2


async def test_vox_window_past_the_clip_is_refused(client: AsyncMusicAPI, clip: Clip) -> None:
    assert clip.duration is not None
    with pytest.raises(BadRequestError):
        await client.sonic.vox(clip.clip_id, vocal_end_s=clip.duration + 10)


async def test_persona_with_an_unknown_vox(client: AsyncMusicAPI, clip: Clip) -> None:
    with pytest.raises(NotFoundError):
        await client.sonic.persona(name="Nova", clip_id=clip.clip_id, vox_audio_id="nope")


async def test_create_voice_gives_a_persona(client: AsyncMusicAPI) -> None:
    submission = await client.sonic.create_voice("https://example.com/my-voice.wav")
    assert submission.warning
    result = await client.sonic.wait(submission)
    (voice,) = result.clips
    assert voice.persona_id
    song = await client.sonic.generate(
        task_type="persona_music", persona_id=voice.persona_id, custom_mode=True, prompt="la"
    )
    assert len(song.clips) == 2


@pytest.mark.parametrize(
    ("method", "parts", "cost"),
    [
        ("stems_basic", ["vocals", "instrumental"], 15),
        ("stems_full", ["vocals", "drums", "bass", "other"], 75),
    ],
)
async def test_stems(
    client: AsyncMusicAPI,
    sandbox: Sandbox,
    clip: Clip,
    method: str,
    parts: list[str],
    cost: int,
) -> None:
    before = sandbox.credits
    submission = await getattr(client.sonic, method)(clip.clip_id)
    result = await client.sonic.wait(submission)
    assert result.task_id == submission.task_id
    assert [stem.stem_type for stem in result.clips] == parts
    for stem in result.clips:
        assert stem.source_clip_id == clip.clip_id and stem.audio_url
        assert stem.clip_id != clip.clip_id and stem.state == "succeeded"
    assert sandbox.credits == before - cost


async def test_stems_of_an_unknown_clip(client: AsyncMusicAPI) -> None:
    with pytest.raises(NotFoundError):
        await client.sonic.stems_basic("no-such-clip")


async def test_mashup(client: AsyncMusicAPI, song: GenerationResult) -> None:
    ids = [clip.clip_id for clip in song.clips]
    submission = await client.sonic.mashup(
        mashup_clip_ids=ids, custom_mode=False, mv="sonic-v5", gpt_description_prompt="blend"
    )
    result = await client.sonic.wait(submission)
    assert len(result.clips) == 2


async def test_replace_section(client: AsyncMusicAPI, clip: Clip) -> None:
    submission = await client.sonic.replace_section(
        clip_id=clip.clip_id,
        mv="sonic-v4-5",
        infill_start_s=0.5,
        infill_end_s=1.0,
        infill_lyrics="new words here",
        vocal_gender="f",
    )
    assert len((await client.sonic.wait(submission)).clips) == 2


async def test_replace_section_past_the_clip_is_refused_by_the_server(
    client: AsyncMusicAPI, clip: Clip
) -> None:
    assert clip.duration is not None
    with pytest.raises(BadRequestError):
        await client.sonic.replace_section(
            clip_id=clip.clip_id, mv="sonic-v5", infill_start_s=0, infill_end_s=clip.duration + 5
        )


async def test_sample_from_a_clip_and_from_a_url(client: AsyncMusicAPI, clip: Clip) -> None:
    common = {
        "chop_sample_start_s": 0,
        "chop_sample_end_s": 1,
        "custom_mode": False,
        "mv": "sonic-v5",
        "make_instrumental": True,
        "gpt_description_prompt": "a beat",
    }
    from_clip = await client.sonic.sample(sample_clip_id=clip.clip_id, **common)
    assert from_clip.steps is not None and set(from_clip.steps) == {"sample"}
    from_url = await client.sonic.sample(url="https://example.com/loop.wav", **common)
    assert from_url.steps is not None and set(from_url.steps) == {"upload", "sample"}
    for submission in (from_clip, from_url):
        assert len((await client.sonic.wait(submission)).clips) == 2


async def test_upload_then_extend_it(client: AsyncMusicAPI, sandbox: Sandbox, clip: Clip) -> None:
    upload = await client.sonic.upload(
        f"{sandbox.base_url.split('/api/')[0]}/files/{clip.clip_id}.wav"
    )
    assert upload.clip_id and upload.clip_id != clip.clip_id
    with pytest.raises(BadRequestError):  # an uploaded clip needs the *_upload_music types
        await client.sonic.create(
            task_type="extend_music",
            continue_clip_id=upload.clip_id,
            continue_at=1.0,
            custom_mode=True,
            prompt="la",
        )
    result = await client.sonic.generate(
        task_type="extend_upload_music",
        continue_clip_id=upload.clip_id,
        continue_at=1.0,
        custom_mode=True,
        prompt="la la",
    )
    assert len(result.clips) == 2


@pytest.mark.parametrize("method", ["upload_cover", "upload_extend"])
async def test_upload_cover_and_extend(client: AsyncMusicAPI, method: str) -> None:
    fields: dict[str, object] = {
        "url": "https://example.com/song.mp3",
        "custom_mode": True,
        "mv": "sonic-v5",
        "prompt": "la la",
    }
    if method == "upload_extend":
        fields["continue_at"] = 1.0
    submission = await getattr(client.sonic, method)(**fields)
    step = "cover" if method == "upload_cover" else "extend"
    assert submission.steps == {"upload": "succeeded", step: "submitted"}
    assert len((await client.sonic.wait(submission)).clips) == 2


async def test_batch_then_poll_it(
    client: AsyncMusicAPI, sandbox: Sandbox, clock: FakeClock
) -> None:
    before = sandbox.credits
    batch = await client.sonic.batch(
        [{"gpt_description_prompt": "one"}, {"gpt_description_prompt": "two"}]
    )
    assert batch.submitted == 2 and len(batch.task_ids) == 2
    assert [item.index for item in batch.tasks] == [0, 1]
    assert sandbox.credits == before - 30
    status = await client.sonic.get_batch(batch.batch_id)
    assert status.batch_id == batch.batch_id and not status.is_done
    results = [await client.sonic.wait(task_id) for task_id in batch.task_ids]
    assert all(len(result.clips) == 2 for result in results)
    status = await client.sonic.get_batch(batch.batch_id)
    assert status.is_done and {item.state for item in status.tasks} == {"succeeded"}


async def test_get_batch_of_an_unknown_batch(client: AsyncMusicAPI) -> None:
    with pytest.raises(NotFoundError):
        await client.sonic.get_batch("no-such-batch")
