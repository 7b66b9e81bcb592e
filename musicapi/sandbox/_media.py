"""What the sandbox derives from a clip's tune besides its audio: MIDI, word timings, tempo.

Everything here is read off the same `Tune` the audio is synthesised from, so that a
client can check one against the other: the MIDI file's notes are the melody's
pitches at the melody's tempo, the BPM is the tempo the audio was rendered at, and the
word timings fit inside the audio's real length. Only the standard library is used.

Standard MIDI File layout (format 1, 480 ticks per quarter note; every note an eighth,
as every step of a tune is an eighth):

* track 0: the tempo (from `Tune.bpm`) and a 4/4 time signature;
* then one track per instrument the clip holds: `lead` (the melody, the part a stem
  split calls `vocals`), `bass` (two octaves under the melody, as `_audio` plays it)
  and `drums` (a kick, General MIDI note 36 on channel 10, on every beat), each with
  its name and program change. A stem clip holds only its part's instruments.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from collections.abc import Collection

    from musicapi.sandbox._audio import Tune

__all__ = [
    "TICKS_PER_QUARTER",
    "AlignedWord",
    "Instrument",
    "align",
    "bpm_of",
    "instruments",
    "midi_file",
    "midi_note",
    "sung_lines",
]

TICKS_PER_QUARTER = 480
"""The SMF division: ticks per quarter note."""

_EIGHTH = TICKS_PER_QUARTER // 2
_KICK_NOTE = 36  # General MIDI "Bass Drum 1"
_DRUM_CHANNEL = 9  # channel 10, counted from 1
_LEAD_PROGRAMS = {"saw": 81, "square": 80, "soft": 4, "bell": 14, "triangle": 79}
"""General MIDI programs (0-based) closest to each timbre of `_audio`."""
_BASS_PROGRAM = 38  # Synth Bass 1
_PART_INSTRUMENTS: dict[str | None, tuple[str, ...]] = {
    None: ("lead", "bass", "drums"),
    "vocals": ("lead",),
    "instrumental": ("bass", "drums"),
    "drums": ("drums",),
    "bass": ("bass",),
    "other": (),
}
_VOICE_INSTRUMENTS = (("vocals", "lead"), ("bass", "bass"), ("drums", "drums"))
"""The instrument that plays each voice of `_audio` (the `other` voice, a hiss, has none)."""
_HEADER_LINE = re.compile(r"\s*\[[^\]]*\]\s*")


@attrs.frozen
class Instrument:
    """One instrument of a MIDI file: one track, one channel.

    Attributes:
        name: `lead`, `bass` or `drums`.
        program: Its General MIDI program (0-based).
        channel: Its MIDI channel (0-based; drums on 9).
        velocity: How hard its notes are struck.
        notes: `(step, pitch)` pairs: the eighth-note step each note starts on, and
            its MIDI pitch; each note lasts one eighth.
    """

    name: str
    program: int
    channel: int
    velocity: int
    notes: tuple[tuple[int, int], ...]


def midi_note(frequency: float) -> int:
    """Return the MIDI pitch nearest to `frequency` (A4 = 440 Hz = 69)."""
    return round(69 + 12 * math.log2(frequency / 440.0))


def bpm_of(tune: Tune) -> float:
    """Return the tempo `tune` was synthesised at, which is what a BPM detector would find."""
    return float(tune.bpm)


def instruments(
    tune: Tune, part: str | None = None, *, voices: Collection[str] | None = None
) -> list[Instrument]:
    """Return the instruments of `tune`, or of one part of it (a stem clip's).

    A tune without a kick has no drums; the `other` part (the hiss) has no notes.

    Args:
        tune: The tune.
        part: The part (`None` for the whole mix); ignored if `voices` is given.
        voices: The voices of `_audio` the clip holds (a stem of a stem's), if not a
            whole part.

    Raises:
        ValueError: `part` is not a part `_audio.render` knows.
    """
    if voices is None:
        if part not in _PART_INSTRUMENTS:
            raise ValueError(f"unknown part {part!r}")
        names = _PART_INSTRUMENTS[part]
    else:
        names = tuple(name for voice, name in _VOICE_INSTRUMENTS if voice in voices)
    steps = range(len(tune.frequencies))
    made = {
        "lead": Instrument(
            name="lead",
            program=_LEAD_PROGRAMS.get(tune.timbre, 81),
            channel=0,
            velocity=100,
            notes=tuple((step, midi_note(tune.frequencies[step])) for step in steps),
        ),
        "bass": Instrument(
            name="bass",
            program=_BASS_PROGRAM,
            channel=1,
            velocity=90,
            notes=tuple((step, midi_note(tune.frequencies[step] / 4)) for step in steps),
        ),
        "drums": Instrument(
            name="drums",
            program=0,
            channel=_DRUM_CHANNEL,
            velocity=110,
            notes=tuple((step, _KICK_NOTE) for step in steps if step % 2 == 0),
        ),
    }
    return [made[name] for name in names if name != "drums" or tune.kick]


def _varlen(value: int) -> bytes:
    """Encode a delta time as an SMF variable-length quantity (7 bits a byte, MSB first)."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack(">I", len(data)) + data


def _track(events: list[tuple[int, bytes]]) -> bytes:
    """Return an `MTrk` chunk of `(absolute tick, event bytes)` in order, ended properly."""
    data = bytearray()
    last = 0
    for tick, event in events:
        data += _varlen(tick - last) + event
        last = tick
    data += _varlen(0) + b"\xff\x2f\x00"
    return _chunk(b"MTrk", bytes(data))


def _tempo_track(tune: Tune) -> bytes:
    microseconds = round(60_000_000 / tune.bpm)
    return _track(
        [
            (0, b"\xff\x51\x03" + microseconds.to_bytes(3, "big")),
            (0, b"\xff\x58\x04\x04\x02\x18\x08"),  # 4/4, 24 clocks a click, 8 32nds a quarter
        ]
    )


def _instrument_track(instrument: Instrument) -> bytes:
    name = instrument.name.encode("ascii")
    channel = instrument.channel
    events: list[tuple[int, bytes]] = [
        (0, b"\xff\x03" + _varlen(len(name)) + name),
        (0, bytes((0xC0 | channel, instrument.program))),
    ]
    for step, pitch in instrument.notes:
        start = step * _EIGHTH
        # A note ends where the next may start: its note-off is written first.
        events.append((start, bytes((0x90 | channel, pitch, instrument.velocity))))
        events.append((start + _EIGHTH, bytes((0x80 | channel, pitch, 0))))
    events.sort(key=lambda event: (event[0], (event[1][0] & 0xF0) != 0x80))
    return _track(events)


def midi_file(
    tune: Tune, part: str | None = None, *, voices: Collection[str] | None = None
) -> bytes:
    """Write `tune` (or one part of it, see `instruments`) as a format 1 Standard MIDI File.

    Raises:
        ValueError: `part` is not a part `_audio.render` knows.
    """
    tracks = [_tempo_track(tune), *map(_instrument_track, instruments(tune, part, voices=voices))]
    header = _chunk(b"MThd", struct.pack(">HHH", 1, len(tracks), TICKS_PER_QUARTER))
    return header + b"".join(tracks)


@attrs.frozen
class AlignedWord:
    """One sung word and when it is sung.

    Attributes:
        word: The word with what follows it: a space, or a line break at a line's end.
        start_s: When it starts, in seconds from the start of the clip.
        end_s: When it ends.
        p_align: How sure the aligner is (0..1).
    """

    word: str
    start_s: float
    end_s: float
    p_align: float


def sung_lines(lyrics: str) -> list[list[str]]:
    """Return the words of each sung line of `lyrics`.

    Section headers (`[Verse]`, `[Chorus]`, `[Instrumental]`) are directions, not
    sung, and blank lines hold nothing: neither gives a line.
    """
    lines = (line.split() for line in lyrics.splitlines() if not _HEADER_LINE.fullmatch(line))
    return [line for line in lines if line]


def _decimals(slot: float) -> int:
    """Return the fewest decimals (at least 2) that keep `slot / 20` apart.

    Rounding is monotonic, so it keeps times in order; a resolution finer than a
    twentieth of a word's slot also keeps every word's start before its end.
    """
    decimals = 2
    while 10.0**-decimals > slot / 20 and decimals < 12:
        decimals += 1
    return decimals


def _confidence(index: int, word: str) -> float:
    digest = hashlib.sha256(f"{index}:{word}".encode("utf-8", "surrogatepass")).digest()
    return round(0.85 + 0.14 * digest[0] / 255, 2)


def align(lyrics: str, duration: float) -> list[AlignedWord]:
    """Time the sung words of `lyrics` across a clip of `duration` seconds.

    The words share the clip evenly, in order: each gets an equal slot and is sung for
    the first 80 % of it. So every time lies within `[0, duration]`, times never go
    back, and each word starts before it ends. The last word of a line carries the
    line break, as Suno's aligner writes it, so the lines can be put back together.

    Returns:
        The words, in sung order; empty if `lyrics` has none (an instrumental).
    """
    tokens = [
        word + ("\n" if at == len(line) - 1 else " ")
        for line in sung_lines(lyrics)
        for at, word in enumerate(line)
    ]
    if not tokens or duration <= 0:
        return []
    slot = duration / len(tokens)
    places = _decimals(slot)
    return [
        AlignedWord(
            word=token,
            start_s=round(slot * index, places),
            end_s=round(slot * (index + 0.8), places),
            p_align=_confidence(index, token),
        )
        for index, token in enumerate(tokens)
    ]
