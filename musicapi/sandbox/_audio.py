"""Small, playable WAV files synthesised with the standard library.

Each clip gets a few seconds of melody whose tempo, scale and timbre come from its
style text: a hash of the words picks the notes, and a few keywords pick the sound
("synthwave" is a bright sawtooth at a driving tempo, "lofi" a soft, hissy, slow
tone). The same text and variant always give the same bytes, so tests can compare them.

The length is planned before any sample is made (`plan()`), so the task result can
report a `duration` that equals the file's real length without rendering it.

A tune is played by four voices, rendered apart so that stem separation
(`/sonic/stems/*`) can hand out real parts: the melody (`vocals`), a bass two octaves
below it, a kick on every beat (`drums`) and a noise floor (`other`). Each voice is
rounded to int16 on its own and the mix is their plain sum, so the stems of a split add
up to the song exactly, sample by sample.
"""

from __future__ import annotations

import array
import hashlib
import io
import math
import random
import sys
import wave
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

__all__ = ["PARTS", "RATE", "VOICES", "Tune", "plan", "render", "samples", "voices_of", "wav_bytes"]

RATE = 22050
"""Samples per second (mono, 16-bit)."""

_QUANTUM = 441
"""Frames in 0.02 s: every length is a multiple, so `duration` has two exact decimals."""

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
_PENTATONIC = (0, 2, 4, 7, 9)
_MINOR_PENTATONIC = (0, 3, 5, 7, 10)


def _saw(x: float) -> float:
    return math.sin(x) + math.sin(2 * x) / 2 + math.sin(3 * x) / 3 + math.sin(4 * x) / 4


def _square(x: float) -> float:
    return math.sin(x) + math.sin(3 * x) / 3 + math.sin(5 * x) / 5


def _soft(x: float) -> float:
    return math.sin(x) + 0.2 * math.sin(2 * x)


def _bell(x: float) -> float:
    return math.sin(x) + 0.4 * math.sin(2.76 * x)


def _triangle(x: float) -> float:
    return math.sin(x) - math.sin(3 * x) / 9 + math.sin(5 * x) / 25


_TIMBRES: dict[str, Callable[[float], float]] = {
    "saw": _saw,
    "square": _square,
    "soft": _soft,
    "bell": _bell,
    "triangle": _triangle,
}

# keyword -> (timbre, slowest bpm, fastest bpm, scale, hiss, kick)
_STYLES: tuple[tuple[tuple[str, ...], tuple[str, int, int, tuple[int, ...], bool, bool]], ...] = (
    (
        ("synthwave", "synth", "electronic", "edm", "techno", "disco", "retro"),
        ("saw", 100, 124, _MINOR, False, True),
    ),
    (
        ("lofi", "lo-fi", "chill", "jazz", "study", "studying"),
        ("soft", 70, 88, _MINOR_PENTATONIC, True, True),
    ),
    (("rock", "metal", "punk", "grunge"), ("square", 120, 150, _MINOR_PENTATONIC, False, True)),
    (("ambient", "piano", "classical", "calm", "lullaby"), ("bell", 60, 78, _MAJOR, False, False)),
)
_SAD_WORDS = frozenset({"sad", "dark", "melancholy", "melancholic", "minor", "moody", "gloomy"})


@attrs.frozen
class Tune:
    """The musical plan of one clip.

    Attributes:
        bpm: Beats per minute; every note is an eighth.
        timbre: A key of the timbre table (`saw`, `square`, `soft`, `bell`, `triangle`).
        frequencies: The pitch of each note in Hz.
        step_frames: Frames per note.
        hiss: Whether to add a quiet noise floor (lo-fi).
        kick: Whether to add a kick drum on every beat.
        seed: Seeds the noise, so the file is reproducible.
    """

    bpm: int
    timbre: str
    frequencies: tuple[float, ...]
    step_frames: int
    hiss: bool
    kick: bool
    seed: int

    @property
    def frames(self) -> int:
        """The length of the file in frames."""
        return len(self.frequencies) * self.step_frames

    @property
    def duration(self) -> float:
        """The length of the file in seconds (exact to two decimals)."""
        return round(self.frames / RATE, 2)


def plan(style: str, variant: int = 0) -> Tune:
    """Plan the tune for a clip from its style text.

    Args:
        style: Tags or a description; words pick the sound, their hash the notes.
        variant: Which of a task's clips this is, so the two clips differ.

    Returns:
        A tune of 2 to 4 seconds.
    """
    words = {word.strip(",.;:!?").lower() for word in style.split()}
    text = f"{variant}:{' '.join(sorted(words))}"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
    rng = random.Random(digest)
    timbre, slow, fast, scale, hiss, kick = next(
        (sound for keys, sound in _STYLES if words & set(keys)),
        ("triangle", 84, 132, _MINOR if words & _SAD_WORDS else _PENTATONIC, False, True),
    )
    bpm = rng.randint(slow, fast)
    step_frames = max(1, round(RATE * 30 / bpm / _QUANTUM)) * _QUANTUM
    steps = max(1, round(rng.uniform(2.4, 3.6) * RATE / step_frames))
    root = rng.randint(55, 64)  # MIDI note of the key's tonic
    degree, notes = 0, list[float]()
    for _ in range(steps):
        degree = max(-3, min(len(scale) + 3, degree + rng.choice((-2, -1, -1, 0, 1, 1, 2))))
        octave, index = divmod(degree, len(scale))
        notes.append(440.0 * 2 ** ((root + 12 * octave + scale[index] - 69) / 12))
    return Tune(bpm, timbre, tuple(notes), step_frames, hiss, kick, rng.getrandbits(32))


PARTS = ("vocals", "instrumental", "drums", "bass", "other")
"""The parts `render` can isolate: what `/sonic/stems/basic` and `/sonic/stems/full` split.

A basic split is `vocals` + `instrumental`; a full split is `vocals` + `drums` + `bass`
+ `other`. `instrumental` is `drums` + `bass` + `other`.
"""

_VOICES = ("vocals", "bass", "drums", "other")
VOICES = _VOICES
"""The voices a mix is the sum of; a part is a set of them (`voices_of`)."""
_PART_VOICES: dict[str | None, tuple[str, ...]] = {
    None: _VOICES,
    "vocals": ("vocals",),
    "instrumental": ("bass", "drums", "other"),
    "drums": ("drums",),
    "bass": ("bass",),
    "other": ("other",),
}

_GAIN = 0.6 * 32767
"""Full scale times the headroom that keeps the mix unclipped.

The loudest the voices can be at once is 0.5 x 1.53 (the sawtooth's peak) + 0.2
(bass) + 0.6 (kick) + 0.03 (hiss) = 1.6, and 0.6 x 1.6 < 1: the sum of the parts
never leaves the int16 range, so it needs no clipping and stays their exact sum.
"""


def _notes(tune: Tune, block: Callable[[float], array.array[int]]) -> array.array[int]:
    """Join one block of samples per note, each distinct pitch synthesised once.

    A melody repeats its pitches, so a tune of a dozen steps needs only a few blocks;
    joining arrays is done in C. The samples are exactly those of a note-by-note loop.
    """
    blocks: dict[float, array.array[int]] = {}
    out = array.array("h")
    for freq in tune.frequencies:
        if freq not in blocks:
            blocks[freq] = block(freq)
        out += blocks[freq]
    return out


def _lead(tune: Tune) -> array.array[int]:
    """The melody (the "vocals" of a stem split): one enveloped note per step."""
    wavefn = _TIMBRES[tune.timbre]
    decay = 4.0 / (tune.step_frames / RATE)
    attack = RATE // 200
    envelope = [
        0.5 * min(1.0, i / attack) * math.exp(-decay * i / RATE) for i in range(tune.step_frames)
    ]

    def note(freq: float) -> array.array[int]:
        omega = 2 * math.pi * freq / RATE
        return array.array(
            "h", [round(level * wavefn(omega * i) * _GAIN) for i, level in enumerate(envelope)]
        )

    return _notes(tune, note)


def _bass(tune: Tune) -> array.array[int]:
    """A sine two octaves under each melody note."""

    def note(freq: float) -> array.array[int]:
        omega = 2 * math.pi * freq / RATE / 4
        return array.array(
            "h", [round(0.2 * math.sin(omega * i) * _GAIN) for i in range(tune.step_frames)]
        )

    return _notes(tune, note)


def _kick(tune: Tune) -> array.array[int]:
    """A falling-pitch thump at the start of every beat (every other step); silent if none."""
    rest = array.array("h", bytes(2 * tune.step_frames))
    if not tune.kick:
        return array.array("h", bytes(2 * tune.frames))
    thump = array.array("h", rest)
    for i in range(min(tune.step_frames, math.ceil(0.12 * RATE))):
        t = i / RATE
        if t < 0.12:
            value = (
                0.6 * math.exp(-30 * t) * math.sin(2 * math.pi * (50 + 70 * math.exp(-40 * t)) * t)
            )
            thump[i] = round(value * _GAIN)
    out = array.array("h")
    for note in range(len(tune.frequencies)):
        out += thump if note % 2 == 0 else rest
    return out


def _hiss(tune: Tune) -> array.array[int]:
    """A quiet, seeded noise floor (lo-fi); silent for a tune without hiss."""
    if not tune.hiss:
        return array.array("h", bytes(2 * tune.frames))
    noise = random.Random(tune.seed)
    return array.array("h", [round(noise.uniform(-0.03, 0.03) * _GAIN) for _ in range(tune.frames)])


_VOICE_MAKERS: dict[str, Callable[[Tune], array.array[int]]] = {
    "vocals": _lead,
    "bass": _bass,
    "drums": _kick,
    "other": _hiss,
}


def _voice(tune: Tune, voice: str) -> array.array[int]:
    """Return one voice as int16 samples (each rounded on its own, so sums of voices are exact)."""
    return _VOICE_MAKERS[voice](tune)


def voices_of(part: str | None) -> frozenset[str]:
    """Return the voices of `part` (see `PARTS`; `None` for the whole mix).

    Raises:
        ValueError: `part` is not one of `PARTS`.
    """
    if part not in _PART_VOICES:
        raise ValueError(f"unknown part {part!r}; expected one of {', '.join(PARTS)}")
    return frozenset(_PART_VOICES[part])


def samples(
    tune: Tune, part: str | None = None, *, voices: Collection[str] | None = None
) -> array.array[int]:
    """Synthesise `tune` (or one part of it, see `PARTS`) as int16 samples.

    The whole mix is, sample by sample, the sum of its voices (vocals, bass, drums,
    other), each rounded to int16 first: so the parts of a stem split add up exactly
    to the mix, as a real separation's stems add up (near enough) to the song.

    Args:
        tune: The tune.
        part: The part to play (`None` for the whole mix); ignored if `voices` is given.
        voices: The voices to play (any subset of `VOICES`; none is silence), for a
            clip that holds a part of a part (a stem of a stem).

    Raises:
        ValueError: `part` is not one of `PARTS`, or `voices` holds an unknown voice.
    """
    if voices is None:
        chosen = _PART_VOICES[part] if part in _PART_VOICES else None
        if chosen is None:
            raise ValueError(f"unknown part {part!r}; expected one of {', '.join(PARTS)}")
    else:
        unknown = set(voices) - set(_VOICES)
        if unknown:
            raise ValueError(f"unknown voices {sorted(unknown)}; expected {', '.join(_VOICES)}")
        chosen = tuple(voice for voice in _VOICES if voice in voices)
    if not chosen:
        return array.array("h", bytes(2 * tune.frames))
    tracks = [_voice(tune, voice) for voice in chosen]
    if len(tracks) == 1:
        return tracks[0]
    return array.array("h", map(sum, zip(*tracks, strict=True)))


def wav_bytes(frames: array.array[int]) -> bytes:
    """Wrap int16 samples in a mono WAV file at `RATE`."""
    data = array.array("h", frames)
    if sys.byteorder == "big":
        data.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(data.tobytes())
    return buffer.getvalue()


def render(tune: Tune, part: str | None = None, *, voices: Collection[str] | None = None) -> bytes:
    """Synthesise `tune`, or one part of it (see `PARTS`, `samples`), as a mono 16-bit WAV file.

    Raises:
        ValueError: `part` is not one of `PARTS`, or `voices` holds an unknown voice.
    """
    return wav_bytes(samples(tune, part, voices=voices))
