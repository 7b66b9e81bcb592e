"""What each operation's result is made of: the clip makers of `TaskRecord.make`.

A maker runs once, when a task's clips are due (streaming or finished), and returns
the clips; the store keeps them, so their ids work everywhere (files, stems, extends).
They are written from the task's body and its source clips only, so the same task
gives the same audio every time:

* stems: one clip per part, each with the source's tune and `part` set, so the file
  host renders that part of the same mix (the parts sum to the source);
* a voice: the uploaded audio as a clip, and a persona that `persona_music` accepts;
* a mashup: the two sources' style text mixed; a replaced section: the source's tune
  with the window's notes rewritten; Producer, Riffusion, Studio and Nuro songs from
  their own fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from musicapi.sandbox._audio import RATE, Tune, plan, voices_of
from musicapi.sandbox._state import ClipRecord, PersonaRecord, words

if TYPE_CHECKING:
    from musicapi.sandbox._state import ClipMaker, TaskRecord, TaskStore

__all__ = [
    "BASIC_PARTS",
    "FULL_PARTS",
    "download_clips",
    "mashup_clips",
    "no_clips",
    "nuro_clips",
    "producer_clips",
    "replace_clips",
    "riffusion_clips",
    "stem_maker",
    "studio_clips",
    "upload_clips",
    "voice_clips",
]

BASIC_PARTS = ("vocals", "instrumental")
"""The stems of `/sonic/stems/basic`."""
FULL_PARTS = ("vocals", "drums", "bass", "other")
"""The stems of `/sonic/stems/full`."""
VOICE_TITLE = "Voice"


def _clip(
    store: TaskStore, record: TaskRecord, *, title: str, tags: str, lyrics: str, mv: str, tune: Tune
) -> ClipRecord:
    return ClipRecord(
        clip_id=store.new_id(),
        task_id=record.task_id,
        title=title,
        tags=tags,
        lyrics=lyrics,
        mv=mv,
        tune=tune,
    )


def _sources(store: TaskStore, record: TaskRecord) -> list[ClipRecord]:
    return [store.clips[clip_id] for clip_id in record.sources if clip_id in store.clips]


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    return value if isinstance(value, str) else ""


def _sung(found: list[str], title: str) -> str:
    """Lyrics written from words, in the `[Verse]`/`[Chorus]` shape of generated songs."""
    return f"[Verse]\n{' '.join(found)}\n[Chorus]\n{title}, {title.lower()}"


def no_clips(_store: TaskStore, _record: TaskRecord) -> list[ClipRecord]:
    """A task whose result holds no clip (lyrics)."""
    return []


def stem_maker(parts: tuple[str, ...]) -> ClipMaker:
    """Return the maker of a split into `parts` of the task's one source clip."""

    def make(store: TaskStore, record: TaskRecord) -> list[ClipRecord]:
        source = store.clips[record.sources[0]]
        made: list[ClipRecord] = []
        for part in parts:
            # A part of what the source holds: a stem of a stem keeps only what both
            # splits keep, so the stems of any clip add up to that clip's audio.
            voices = source.sounding & voices_of(part)
            made.append(
                ClipRecord(
                    clip_id=store.new_id(),
                    task_id=record.task_id,
                    title=f"{source.title} ({part.title()})",
                    tags=source.tags,
                    lyrics=source.lyrics if "vocals" in voices else "[Instrumental]",
                    mv=source.mv,
                    tune=source.tune,
                    part=part,
                    source_clip_id=source.clip_id,
                    voices=voices,
                )
            )
        return made

    return make


def voice_clips(store: TaskStore, record: TaskRecord) -> list[ClipRecord]:
    """Upload the voice sample as a clip and make the persona it stands for."""
    voice = store.upload(_text(record.payload, "audio_url"), record.task_id)
    voice.title = VOICE_TITLE
    persona = PersonaRecord(persona_id=store.new_id(), name=VOICE_TITLE, clip_id=voice.clip_id)
    store.personas[persona.persona_id] = persona
    record.persona_id = persona.persona_id
    return [voice]


def upload_clips(store: TaskStore, record: TaskRecord) -> list[ClipRecord]:
    """Producer's upload: the uploaded clip is the result."""
    return [store.upload(_text(record.payload, "audio_url"), record.task_id)]


def download_clips(store: TaskStore, record: TaskRecord) -> list[ClipRecord]:
    """Producer's download: the result links the source clip itself."""
    return _sources(store, record)


def mashup_clips(store: TaskStore, record: TaskRecord) -> list[ClipRecord]:
    """Two songs whose style mixes both sources' tags (unless the body gives its own)."""
    body = record.payload
    first, second = _sources(store, record)
    tags = _text(body, "tags") or f"{first.tags}, {second.tags}".strip(", ")
    title = _text(body, "title") or f"{first.title} x {second.title}"
    if body.get("make_instrumental"):
        lyrics = "[Instrumental]"
    else:
        lyrics = _text(body, "prompt") or first.lyrics
    style = f"{first.tags} {second.tags} {_text(body, 'tags')}"
    mv = _text(body, "mv") or first.mv
    return [
        _clip(
            store, record, title=title, tags=tags, lyrics=lyrics, mv=mv, tune=plan(style, variant)
        )
        for variant in (0, 1)
    ]


def _infill(tune: Tune, fresh: Tune, start: float, end: float) -> Tune:
    """Return `tune` with the notes that start within [start, end) taken from `fresh`."""
    step = tune.step_frames / RATE
    notes = [
        fresh.frequencies[index % len(fresh.frequencies)] if start <= index * step < end else note
        for index, note in enumerate(tune.frequencies)
    ]
    return attrs.evolve(tune, frequencies=tuple(notes), seed=fresh.seed)


def replace_clips(store: TaskStore, record: TaskRecord) -> list[ClipRecord]:
    """Two versions of the source whose window is rewritten in the source's own style."""
    body = record.payload
    (source,) = _sources(store, record)
    lyrics = _text(body, "infill_lyrics") or _text(body, "prompt") or source.lyrics
    start, end = float(body["infill_start_s"]), float(body["infill_end_s"])
    return [
        _clip(
            store,
            record,
            title=_text(body, "title") or source.title,
            tags=_text(body, "tags") or source.tags,
            lyrics=lyrics,
            mv=_text(body, "mv") or source.mv,
            tune=_infill(source.tune, plan(f"{source.tags} {variant}", variant), start, end),
        )
        for variant in (0, 1)
    ]


def producer_clips(store: TaskStore, record: TaskRecord) -> list[ClipRecord]:
    """Two Producer tracks from `sound`, `lyrics` and `title` (or the source clip's)."""
    body = record.payload
    sources = _sources(store, record)
    source = sources[0] if sources else None
    sound = _text(body, "sound") or (source.tags if source else "")
    found = words(sound)
    title = _text(body, "title") or " ".join(found[:4]).title() or (source.title if source else "")
    lyrics = _text(body, "lyrics") or "[Instrumental]"
    style = f"{sound} {_text(body, 'instruction')}"
    return [
        _clip(
            store,
            record,
            title=title or "Untitled",
            tags=sound,
            lyrics=lyrics,
            mv="Lyria 3 Pro",
            tune=plan(style, variant),
        )
        for variant in (0, 1)
    ]


def riffusion_clips(store: TaskStore, record: TaskRecord) -> list[ClipRecord]:
    """Two Riffusion songs from `sound`/`prompt`, `lyrics` and `title`."""
    body = record.payload
    sources = _sources(store, record)
    source = sources[0] if sources else None
    prompt = _text(body, "prompt")
    found = words(prompt)
    sound = _text(body, "sound") or ", ".join(found[:4]) or (source.tags if source else "")
    title = _text(body, "title") or " ".join(found[:4]).title()
    title = title or (source.title if source else "Untitled")
    if body.get("make_instrumental"):
        lyrics = "[Instrumental]"
    else:
        lyrics = _text(body, "lyrics") or (_sung(found, title) if found else "")
        lyrics = lyrics or (source.lyrics if source else "")
    mv = _text(body, "mv") or "FUZZ-1.1 Pro"
    return [
        _clip(
            store, record, title=title, tags=sound, lyrics=lyrics, mv=mv, tune=plan(sound, variant)
        )
        for variant in (0, 1)
    ]


def studio_clips(store: TaskStore, record: TaskRecord) -> list[ClipRecord]:
    """Two Studio songs from `prompt` and `lyrics`."""
    body = record.payload
    found = words(_text(body, "prompt"))
    title = " ".join(found[:4]).title() or "Untitled"
    tags = ", ".join(found[:4])
    if _text(body, "lyrics_type") == "instrumental":
        lyrics = "[Instrumental]"
    else:
        lyrics = _text(body, "lyrics") or _sung(found, title)
    mv = _text(body, "model_type")
    return [
        _clip(store, record, title=title, tags=tags, lyrics=lyrics, mv=mv, tune=plan(tags, variant))
        for variant in (0, 1)
    ]


def nuro_clips(store: TaskStore, record: TaskRecord) -> list[ClipRecord]:
    """One Nuro song: a vocal song from its lyrics, or BGM from its description."""
    body = record.payload
    if body.get("type") == "vocal":
        style = [_text(body, name) for name in ("genre", "mood", "timbre")]
        lyrics = _text(body, "lyrics")
        found = words(lyrics)
    else:
        genres: list[Any] = body.get("genre") or []
        style = [*(str(genre) for genre in genres), *words(_text(body, "description"))[:4]]
        lyrics = "[Instrumental]"
        found = words(_text(body, "description"))
    tags = ", ".join(part for part in style if part)
    title = " ".join(found[:4]).title() or "Untitled"
    return [_clip(store, record, title=title, tags=tags, lyrics=lyrics, mv="nuro", tune=plan(tags))]
