"""Results of the Sonic operations that answer at once (api-reference §3.1, §3.7b).

Each model keeps, in `raw`, the JSON mapping its fields were read from: the `data`
object for the answers wrapped in `{"code", "data", "message"}`, else the whole
answer. Unknown fields therefore survive, and every field but the identifying ones
may be missing.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Any

import attrs

from musicapi._models.common import EMPTY_RAW


def _raw() -> Any:
    return attrs.field(default=EMPTY_RAW, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class LyricsCandidate:
    """One set of lyrics `/sonic/lyrics` wrote (it writes two).

    Attributes:
        title: A title for the song.
        lyrics: The lyrics, with `[Verse]`/`[Chorus]` section lines: pass them as the
            `prompt` of a custom-mode `sonic.create`.
    """

    title: str | None = None
    lyrics: str | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class LyricsResult:
    """The answer of `/sonic/lyrics`: the candidates, usually two."""

    candidates: tuple[LyricsCandidate, ...] = ()
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class AlignedWord:
    r"""One sung word and when it is sung.

    Attributes:
        word: The word as sung, with its trailing space; the last word of a lyric line
            ends with `"\\n"`.
        start_s: When the word starts, in seconds into the clip.
        end_s: When it ends.
        success: Whether the aligner placed it confidently.
        p_align: The aligner's confidence, 0 to 1.
    """

    word: str
    start_s: float
    end_s: float
    success: bool | None = None
    p_align: float | None = None
    raw: Mapping[str, Any] = _raw()

    @property
    def text(self) -> str:
        """The word without its surrounding whitespace."""
        return self.word.strip()


@attrs.frozen(kw_only=True)
class AlignedLine:
    """One lyric line: its words and the time from its first word to its last.

    Attributes:
        text: The line's words joined as sung, without the line break.
        start_s: When the first word starts.
        end_s: When the last word ends.
        words: The words of the line, in sung order.
    """

    text: str
    start_s: float
    end_s: float
    words: tuple[AlignedWord, ...]


def lines_of(words: tuple[AlignedWord, ...]) -> tuple[AlignedLine, ...]:
    """Group sung words into lines: a word ending with a line break ends its line."""
    lines: list[AlignedLine] = []
    current: list[AlignedWord] = []
    for word in words:
        current.append(word)
        if word.word.endswith("\n"):
            lines.append(_line(current))
            current = []
    if current:
        lines.append(_line(current))
    return tuple(lines)


def _line(words: list[AlignedWord]) -> AlignedLine:
    text = " ".join("".join(word.word for word in words).split())
    return AlignedLine(
        text=text,
        start_s=words[0].start_s,
        end_s=max(word.end_s for word in words),
        words=tuple(words),
    )


def _at(spans: tuple[Any, ...], seconds: float) -> Any:
    """Return the span (anything with `start_s`/`end_s`) sounding at `seconds`, or `None`.

    Spans come in sung order, so the candidate is the last one starting at or before
    `seconds`: a binary search, cheap enough to call on every video frame.
    """
    index = bisect.bisect_right(spans, seconds, key=lambda span: span.start_s) - 1
    if index >= 0 and seconds < spans[index].end_s:
        return spans[index]
    return None


@attrs.frozen(kw_only=True)
class AlignedLyrics:
    r"""A clip's lyrics with the time of every sung word (`/sonic/aligned-lyrics`), for karaoke.

    Attributes:
        clip_id: The clip the lyrics belong to.
        words: The sung words in order; section headers (`[Verse]`) are not sung and
            not listed.
        lines: The words grouped into lyric lines (by the `"\\n"` ending a line's last
            word), computed once.
        raw: The answer's `data` object.
    """

    clip_id: str
    words: tuple[AlignedWord, ...] = ()
    raw: Mapping[str, Any] = _raw()
    lines: tuple[AlignedLine, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        # Frozen: set the derived field as attrs' own __init__ does.
        object.__setattr__(self, "lines", lines_of(self.words))

    @property
    def text(self) -> str:
        """The sung lyrics, one line per lyric line."""
        return "\n".join(line.text for line in self.lines)

    def word_at(self, seconds: float) -> AlignedWord | None:
        """Return the word being sung `seconds` into the clip, or `None` between words."""
        found: AlignedWord | None = _at(self.words, seconds)
        return found

    def line_at(self, seconds: float) -> AlignedLine | None:
        """Return the line being sung `seconds` into the clip, or `None` between lines."""
        found: AlignedLine | None = _at(self.lines, seconds)
        return found

    def line_index_at(self, seconds: float) -> int | None:
        """Return the index in `lines` of the line to show at `seconds`.

        Unlike `line_at`, a pause keeps the line just sung (the one before the first
        line is `None`), which is what a karaoke display wants to keep on screen.
        """
        index = bisect.bisect_right(self.lines, seconds, key=lambda line: line.start_s) - 1
        return index if index >= 0 else None


@attrs.frozen(kw_only=True)
class Bpm:
    """A clip's tempo (`/sonic/bpm`), in beats per minute."""

    avg_bpm: float | None = None
    max_bpm: float | None = None
    min_bpm: float | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class UpsampledTags:
    """Style tags rewritten richer by `/sonic/upsample-tags`; use them as `tags`."""

    upsampled_tags: str | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class Persona:
    """A reusable singer (`/sonic/persona`): pass `persona_id` to a `persona_music` create."""

    persona_id: str
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class Vox:
    """A clip's isolated vocals (`/sonic/vox`), usable as a persona's `vox_audio_id`.

    Attributes:
        vox_audio_id: The id of the isolated vocals.
        status: The server's word on them (`complete`); an open set of strings.
        source_clip_id: The clip they came from.
        vocal_start_s: The start of the window, in seconds.
        vocal_end_s: The end of the window.
        wave_response: The server's audio details (`audio_url`, ...), as sent.
    """

    vox_audio_id: str
    status: str | None = None
    source_clip_id: str | None = None
    vocal_start_s: float | None = None
    vocal_end_s: float | None = None
    wave_response: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = _raw()

    @property
    def audio_url(self) -> str | None:
        """The URL of the vocals audio, if the server gave one."""
        url = (self.wave_response or {}).get("audio_url")
        return url if isinstance(url, str) else None


@attrs.frozen(kw_only=True)
class MidiInstrument:
    """One instrument track of a MIDI transcription.

    Attributes:
        name: The part (`lead`, `bass`, ...).
        program: Its General MIDI program number.
        channel: Its MIDI channel.
        notes: How many notes it plays.
    """

    name: str | None = None
    program: int | None = None
    channel: int | None = None
    notes: int | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class Midi:
    """A clip transcribed to MIDI (`/sonic/midi`): a Standard MIDI File and its tracks."""

    clip_id: str
    midi_url: str | None = None
    instruments: tuple[MidiInstrument, ...] = ()
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class WavFile:
    """A clip's lossless WAV export (`/sonic/wav`)."""

    clip_id: str
    wav_url: str | None = None
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class Upload:
    """An imported audio file (`/sonic/upload`, `/riffusion/upload`), now a clip.

    Use `clip_id` as the `continue_clip_id` of an `extend_upload_music` or
    `cover_upload_music` create: uploaded clips cannot use `extend_music`/`cover_music`.
    """

    clip_id: str
    raw: Mapping[str, Any] = _raw()


@attrs.frozen(kw_only=True)
class SonicBatchItem:
    """One item of a `/sonic/batch`, by its index in the request.

    Attributes:
        index: The item's position in the submitted list.
        task_id: Its task, if it started one; wait on it with `sonic.wait`.
        state: Its task's state (`running`, `succeeded`, `failed`), when polled.
        error: Why the item started no task (it was not charged).
    """

    index: int
    task_id: str | None = None
    state: str | None = None
    error: str | None = None
    raw: Mapping[str, Any] = _raw()

    @property
    def ok(self) -> bool:
        """Whether the item started a task that has not failed."""
        return self.task_id is not None and self.error is None and self.state != "failed"


@attrs.frozen(kw_only=True)
class SonicBatch:
    """The answer of `POST /sonic/batch` (experimental; not in the spec).

    Attributes:
        batch_id: Poll the whole batch with `sonic.get_batch(batch_id)`.
        submitted: How many items started a task (and were charged).
        tasks: One entry per item: its task id, or the error that refused it.
    """

    batch_id: str
    submitted: int | None = None
    tasks: tuple[SonicBatchItem, ...] = ()
    raw: Mapping[str, Any] = _raw()

    @property
    def task_ids(self) -> tuple[str, ...]:
        """The ids of the tasks started, in item order."""
        return tuple(item.task_id for item in self.tasks if item.task_id is not None)


@attrs.frozen(kw_only=True)
class SonicBatchStatus:
    """One poll of a batch (`GET /sonic/batch?batch_id=...`): each item's state."""

    batch_id: str
    tasks: tuple[SonicBatchItem, ...] = ()
    raw: Mapping[str, Any] = _raw()

    @property
    def is_done(self) -> bool:
        """Whether no item is still running (refused items count as done)."""
        return all(
            item.task_id is None or item.state in ("succeeded", "failed") for item in self.tasks
        )
