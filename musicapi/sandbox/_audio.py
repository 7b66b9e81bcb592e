"""Small, playable WAV files synthesised with the standard library.

Each clip gets a few seconds of melody whose tempo, scale and timbre come from its
style text: a hash of the words picks the notes, and a few keywords pick the sound
("synthwave" is a bright sawtooth at a driving tempo, "lofi" a soft, hissy, slow
tone). The same text and variant always give the same bytes, so tests can compare them.

The length is planned before any sample is made (`plan()`), so the task result can
report a `duration` that equals the file's real length without rendering it.
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
    from collections.abc import Callable

__all__ = ["RATE", "Tune", "plan", "render"]

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


def render(tune: Tune) -> bytes:
    """Synthesise `tune` as a mono 16-bit WAV file and return its bytes."""
    wavefn = _TIMBRES[tune.timbre]
    decay = 4.0 / (tune.step_frames / RATE)
    attack = RATE // 200
    noise = random.Random(tune.seed)
    samples = array.array("h")
    for note, freq in enumerate(tune.frequencies):
        omega = 2 * math.pi * freq / RATE
        bass_omega = omega / 4
        on_beat = note % 2 == 0
        for i in range(tune.step_frames):
            t = i / RATE
            envelope = min(1.0, i / attack) * math.exp(-decay * t)
            value = 0.5 * envelope * wavefn(omega * i) + 0.2 * math.sin(bass_omega * i)
            if tune.kick and on_beat and t < 0.12:
                value += (
                    0.6
                    * math.exp(-30 * t)
                    * math.sin(2 * math.pi * (50 + 70 * math.exp(-40 * t)) * t)
                )
            if tune.hiss:
                value += noise.uniform(-0.03, 0.03)
            samples.append(int(max(-1.0, min(1.0, value * 0.6)) * 32767))
    if sys.byteorder == "big":
        samples.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()
