"""Static checks of every family's types, async and sync; never executed.

Each sync twin must have the async method's parameters and return type, minus the
`await`, for every operation of the API.
"""

from __future__ import annotations

from pathlib import Path

from typing_extensions import assert_type

from musicapi import AsyncBatchRun, AsyncMusicAPI, BatchRun, GenerationResult, MusicAPI, Task
from musicapi.models import (
    AlignedLyrics,
    Bpm,
    LyricsResult,
    LyricsTask,
    Midi,
    NuroTask,
    Persona,
    SongInfo,
    SonicBatch,
    SonicBatchStatus,
    StudioResult,
    StudioTask,
    TaskSubmission,
    Upload,
    UpsampledTags,
    Vox,
    WavFile,
)


async def async_sonic_tools(client: AsyncMusicAPI) -> None:
    sonic = client.sonic
    assert_type(await sonic.lyrics("rain"), LyricsResult)
    assert_type(await sonic.aligned_lyrics("c"), AlignedLyrics)
    assert_type(await sonic.bpm("c"), Bpm)
    assert_type(await sonic.upsample_tags("lofi"), UpsampledTags)
    assert_type(await sonic.persona(name="n", clip_id="c"), Persona)
    assert_type(await sonic.vox("c", vocal_start_s=0.0, vocal_end_s=1.0), Vox)
    assert_type(await sonic.midi("c", timeout=30.0), Midi)
    assert_type(await sonic.wav("c"), WavFile)
    assert_type(await sonic.upload("https://example.com/a.mp3"), Upload)
    stems = await sonic.stems_basic("c")
    assert_type(stems, TaskSubmission)
    assert_type(await sonic.wait(stems), GenerationResult)
    assert_type(await sonic.stems_full("c"), TaskSubmission)
    assert_type(await sonic.create_voice("https://example.com/v.mp3"), TaskSubmission)
    assert_type(await sonic.mashup(mashup_clip_ids=["a", "b"]), TaskSubmission)
    assert_type(await sonic.replace_section(clip_id="c"), TaskSubmission)
    assert_type(await sonic.sample(sample_clip_id="c"), TaskSubmission)
    assert_type(await sonic.upload_cover(url="https://example.com/a.mp3"), TaskSubmission)
    assert_type(await sonic.upload_extend(url="https://example.com/a.mp3"), TaskSubmission)
    assert_type(await sonic.batch([{"gpt_description_prompt": "x"}]), SonicBatch)
    assert_type(await sonic.get_batch("b"), SonicBatchStatus)


def sync_sonic_tools(client: MusicAPI) -> None:
    sonic = client.sonic
    assert_type(sonic.lyrics("rain"), LyricsResult)
    assert_type(sonic.aligned_lyrics("c"), AlignedLyrics)
    assert_type(sonic.bpm("c"), Bpm)
    assert_type(sonic.midi("c"), Midi)
    assert_type(sonic.wav("c"), WavFile)
    assert_type(sonic.wait(sonic.stems_full("c")), GenerationResult)
    assert_type(sonic.batch([{"gpt_description_prompt": "x"}]), SonicBatch)
    sonic.bpm(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


async def async_families(client: AsyncMusicAPI) -> None:
    assert_type(await client.suno.create(gpt_description_prompt="x"), TaskSubmission)
    assert_type(await client.suno.get("t"), Task)
    assert_type(await client.suno.generate(gpt_description_prompt="x"), GenerationResult)
    assert_type(await client.suno.make_lyrics("tea"), TaskSubmission)
    assert_type(await client.suno.get_lyrics("t"), LyricsTask)
    assert_type(await client.suno.wait_lyrics("t"), LyricsTask)
    assert_type(await client.suno.get_song("https://suno.com/song/x"), SongInfo)
    assert_type(await client.producer.generate(sound="piano"), GenerationResult)
    assert_type(await client.producer.upload("https://example.com/a.mp3"), TaskSubmission)
    assert_type(await client.producer.download("c", format="wav"), TaskSubmission)
    assert_type(client.producer.generate_many([{"sound": "x"}]), AsyncBatchRun[GenerationResult])
    assert_type(await client.studio.get("t"), StudioTask)
    assert_type(await client.studio.wait("t"), StudioResult)
    assert_type(client.studio.generate_many([]), AsyncBatchRun[StudioResult])
    assert_type(await client.riffusion.wait("t"), GenerationResult)
    assert_type(await client.riffusion.upload("https://example.com/a.mp3"), Upload)
    assert_type(await client.nuro.get("t"), NuroTask)
    assert_type(await client.nuro.wait("t"), NuroTask)


def sync_families(client: MusicAPI) -> None:
    assert_type(client.suno.wait("t"), GenerationResult)
    assert_type(client.suno.get_song("https://suno.com/song/x"), SongInfo)
    assert_type(client.producer.generate(sound="piano"), GenerationResult)
    assert_type(client.producer.generate_many([{"sound": "x"}]), BatchRun[GenerationResult])
    assert_type(client.studio.generate(prompt="x"), StudioResult)
    assert_type(client.studio.generate_many([]), BatchRun[StudioResult])
    assert_type(client.riffusion.get("t"), Task)
    assert_type(client.nuro.generate(type="bgm", description="x"), NuroTask)
    client.studio.get(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


async def async_downloads(client: AsyncMusicAPI) -> None:
    wav = await client.sonic.wav("c")
    assert_type(await client.download_url(wav.wav_url, "out", name="song"), Path)
    midi = await client.sonic.midi("c")
    assert_type(await client.download_url(midi.midi_url, name="song", kind="midi"), Path)


def sync_downloads(client: MusicAPI) -> None:
    assert_type(client.download_url(client.sonic.wav("c").wav_url, name="song"), Path)
    client.download_url("https://example.com/a.wav")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
