"""`musicapi download`: a task's songs, and on request their stems, WAV and MIDI.

Also their cover and video. The song's own files come with its clip (`client.download`). Stems, WAV and MIDI are made
by the API on request, per song, through the SDK's Sonic operations: a stems split is a
task of its own whose clips are the stems (`sonic.stems_basic`/`stems_full`, then
`sonic.wait`), a WAV export and a MIDI transcription answer with a link (`sonic.wav`,
`sonic.midi`). Every such file is then saved by `client.download_url`, named after its
song (`Title_-_clip-id-vocals.wav`, `Title_-_clip-id.wav`, `Title_-_clip-id.mid`) so a
song's files sort together; the SDK sanitises those names as it does a song's.

Stems and WAV cost credits, and each run asks again: a song whose own files could not
be saved gets no extras in that run (it will be run again), and the first failure of a
song's extras stops the rest of that song's. Songs are worked on at once, since a split
is a task that may take minutes. Every stems task id is kept for Ctrl-C's report, as a
generation's is: `musicapi download STEMS_TASK_ID` saves that split's stems later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio

from musicapi._cli._exits import worst
from musicapi._cli._text import title
from musicapi._download import clip_stem
from musicapi._errors import MusicAPIError, TaskFailedError
from musicapi._models import TaskState

if TYPE_CHECKING:
    from musicapi._cli._command import Command, Song
    from musicapi._download import ClipFile
    from musicapi._models import Clip

__all__ = ["download"]


async def download(command: Command) -> int:
    """`musicapi download`: save a task's songs, waiting for it first if it runs.

    Also the way to resume after Ctrl-C, and to get fresh links: it always polls.
    """
    args = command.args
    wanted: dict[ClipFile, bool] = {"audio": True, "image": args.cover, "video": args.video}
    kinds: tuple[ClipFile, ...] = tuple(kind for kind, chosen in wanted.items() if chosen)
    task_id = args.task_id
    with command.display:
        task = await command.client.sonic.get(task_id)
        if task.state == TaskState.FAILED:
            raise TaskFailedError(task_id, task.reason or "failed", body=dict(task.raw))
        clips = task.clips if task.is_done else (await command.wait(task_id)).clips
        songs = [await command.save(task_id, clip, kinds) for clip in clips]
        if args.stems or args.wav or args.midi:
            async with anyio.create_task_group() as group:
                for song in songs:
                    if song.error is None:
                        group.start_soon(_save_extras, command, song)
    paths = list(dict.fromkeys(path for song in songs for path in song.files.values()))
    command.report_songs(songs, {"task_ids": [task_id], "paths": paths})
    return worst(command.codes)


async def _save_extras(command: Command, song: Song) -> None:
    """Save what was asked for beyond the song's own files: stems, then WAV, then MIDI.

    The first failure is recorded on the song and reported; the song's other extras
    are not asked for (they may cost credits, and the run will be made again).
    """
    args = command.args
    try:
        if args.stems:
            await _save_stems(command, song, args.stems)
        if args.wav:
            await _save_wav(command, song)
        if args.midi:
            await _save_midi(command, song)
    except (MusicAPIError, OSError) as exc:
        song.error = exc
        command.fail(exc)


async def _save_stems(command: Command, song: Song, split: str) -> None:
    """Split the song into stems (a task: submit, wait), then save each stem's audio.

    Each stem is saved as the song's stem plus its part (`-vocals`), from the stem
    clip's `stem_type`; a stem without one is numbered (`-stem2`).
    """
    clip = song.clip
    sonic = command.client.sonic
    split_song = sonic.stems_full if split == "full" else sonic.stems_basic
    submission = await split_song(clip.clip_id)
    command.session.submitted.append(submission.task_id)
    command.display.note(f"submitted task {submission.task_id} ({split} stems of {title(clip)})")
    result = await command.wait(
        submission.task_id, f"splitting {title(clip)} into stems", made="stems"
    )
    for number, stem in enumerate(result.clips, 1):
        part = _stem_type(stem) or f"stem{number}"
        path = await command.save_url(
            stem.audio_url,
            name=clip_stem(clip, part),
            kind="audio",
            label=f"{title(clip)} ({part} stem)",
            row=f"stem:{stem.clip_id}",
        )
        key = f"stem:{part}"
        while key in song.files:  # two stems of one type: keep both
            key += "+"
        song.files[key] = str(path)


def _stem_type(stem: Clip) -> str | None:
    """Return a stem's part (`vocals`, `drums`, ...) from the model, else its raw JSON."""
    if stem.stem_type:
        return stem.stem_type
    raw = stem.raw.get("stem_type")
    return raw if isinstance(raw, str) and raw else None


async def _save_wav(command: Command, song: Song) -> None:
    """Ask for the song's lossless WAV export and save it as the song's stem + `.wav`."""
    clip = song.clip
    row = f"wav:{clip.clip_id}"
    command.display.start(row, f"exporting {title(clip)} as WAV", quiet=True)
    try:
        wav = await command.client.sonic.wav(clip.clip_id)
    finally:
        command.display.finish(row, remove=True)
    path = await command.save_url(
        wav.wav_url, name=clip_stem(clip), kind="wav", label=f"{title(clip)} (WAV)", row=row
    )
    song.files["wav"] = str(path)


async def _save_midi(command: Command, song: Song) -> None:
    """Ask for the song transcribed to MIDI (the SDK waits while it is made) and save it."""
    clip = song.clip
    row = f"midi:{clip.clip_id}"
    command.display.start(row, f"transcribing {title(clip)} to MIDI", quiet=True)
    try:
        midi = await command.client.sonic.midi(clip.clip_id, timeout=command.args.timeout)
    finally:
        command.display.finish(row, remove=True)
    path = await command.save_url(
        midi.midi_url, name=clip_stem(clip), kind="midi", label=f"{title(clip)} (MIDI)", row=row
    )
    song.files["midi"] = str(path)
