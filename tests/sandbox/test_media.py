"""What the sandbox derives from a tune: stems that sum to the mix, MIDI, word timings, BPM."""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest

from musicapi.sandbox._audio import PARTS, RATE, Tune, plan, render, samples
from musicapi.sandbox._media import (
    TICKS_PER_QUARTER,
    align,
    bpm_of,
    instruments,
    midi_file,
    midi_note,
    sung_lines,
)

STYLES = ["synthwave, retro", "lofi chill", "rock anthem", "ambient piano", "sad ballad"]
BASIC = ("vocals", "instrumental")
FULL = ("vocals", "drums", "bass", "other")


@pytest.fixture(params=STYLES)
def tune(request: pytest.FixtureRequest) -> Tune:
    """A tune of each timbre (lo-fi has hiss, ambient has no kick)."""
    return plan(str(request.param))


def _frames(wav_bytes: bytes) -> tuple[int, ...]:
    """Read a mono 16-bit WAV with the stdlib `wave` module; return its samples."""
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        data = wav.readframes(wav.getnframes())
        assert len(data) == 2 * wav.getnframes()
    return struct.unpack(f"<{len(data) // 2}h", data)


# -- stems ------------------------------------------------------------------------------


@pytest.mark.parametrize("split", [BASIC, FULL], ids=["basic", "full"])
def test_stems_sum_exactly_to_the_mix(tune: Tune, split: tuple[str, ...]) -> None:
    mix = _frames(render(tune))
    stems = [_frames(render(tune, part)) for part in split]
    assert all(len(stem) == len(mix) == tune.frames for stem in stems)
    assert [sum(values) for values in zip(*stems, strict=True)] == list(mix)


def test_each_stem_is_a_playable_wav_as_long_as_the_song(tune: Tune) -> None:
    for part in PARTS:
        frames = _frames(render(tune, part))
        assert len(frames) == tune.frames
        assert len(frames) / RATE == tune.duration


def test_the_mix_has_headroom_and_sounds(tune: Tune) -> None:
    mix = samples(tune)
    assert 5000 < max(map(abs, mix)) < 32767  # audible, never clipped
    assert any(samples(tune, "vocals"))
    assert any(samples(tune, "bass"))


def test_silent_parts_are_silent_and_present_parts_are_not() -> None:
    ambient = plan("ambient piano")  # no kick, no hiss
    lofi = plan("lofi chill")  # kick and hiss
    assert (ambient.kick, ambient.hiss, lofi.kick, lofi.hiss) == (False, False, True, True)
    assert not any(samples(ambient, "drums"))
    assert not any(samples(ambient, "other"))
    assert any(samples(lofi, "drums"))
    assert any(samples(lofi, "other"))


def test_rendering_is_deterministic_and_parts_differ() -> None:
    tune = plan("synthwave")
    assert render(tune) == render(plan("synthwave"))
    assert len({render(tune, part) for part in PARTS} | {render(tune)}) == len(PARTS) + 1


def test_plan_is_unchanged_by_the_stems() -> None:
    # Pinned from before the stem split: a task's reported duration must not move.
    planned = [plan(style) for style in ("synthwave", "lofi", "x")]
    assert [(t.duration, t.bpm, len(t.frequencies)) for t in planned] == [
        (3.12, 124, 13),
        (3.42, 78, 9),
        (2.72, 87, 8),
    ]


def test_unknown_part_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown part"):
        render(plan("x"), "kazoo")


# -- MIDI -------------------------------------------------------------------------------


def _varlen(data: bytes, at: int) -> tuple[int, int]:
    value = 0
    while True:
        byte = data[at]
        at += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at


def _parse_track(data: bytes) -> list[tuple[int, bytes]]:
    """Parse one MTrk's events as (absolute tick, event bytes); check it ends properly."""
    events: list[tuple[int, bytes]] = []
    at, tick = 0, 0
    while at < len(data):
        delta, at = _varlen(data, at)
        tick += delta
        status = data[at]
        assert status & 0x80, "running status is not used"
        if status == 0xFF:
            length, body = _varlen(data, at + 2)
            end = body + length
        elif status & 0xF0 in (0xC0, 0xD0):
            end = at + 2
        else:
            end = at + 3
        events.append((tick, data[at:end]))
        at = end
    assert at == len(data)
    assert events[-1][1] == b"\xff\x2f\x00", "no end-of-track"
    assert all(event[1] != b"\xff\x2f\x00" for event in events[:-1])
    return events


def _parse_smf(data: bytes) -> tuple[int, int, list[list[tuple[int, bytes]]]]:
    """Parse a Standard MIDI File: (format, division, tracks); check every chunk length."""
    assert data[:4] == b"MThd"
    (header_length,) = struct.unpack(">I", data[4:8])
    assert header_length == 6
    file_format, count, division = struct.unpack(">HHH", data[8:14])
    at = 14
    tracks: list[list[tuple[int, bytes]]] = []
    while at < len(data):
        assert data[at : at + 4] == b"MTrk"
        (length,) = struct.unpack(">I", data[at + 4 : at + 8])
        assert at + 8 + length <= len(data)
        tracks.append(_parse_track(data[at + 8 : at + 8 + length]))
        at += 8 + length
    assert at == len(data)
    assert len(tracks) == count
    return file_format, division, tracks


def _notes(track: list[tuple[int, bytes]]) -> list[tuple[int, int, int]]:
    """Return (on tick, off tick, pitch) of each note of a track; check on/off pairing."""
    open_notes: dict[int, int] = {}
    notes: list[tuple[int, int, int]] = []
    for tick, event in track:
        kind = event[0] & 0xF0
        if kind == 0x90 and event[2] > 0:
            assert event[1] not in open_notes, "a note struck twice before it ended"
            open_notes[event[1]] = tick
        elif kind == 0x80 or (kind == 0x90 and event[2] == 0):
            notes.append((open_notes.pop(event[1]), tick, event[1]))
    assert not open_notes, "a note never ends"
    return sorted(notes)


def _track_name(track: list[tuple[int, bytes]]) -> str:
    return next(event[3:].decode() for _, event in track if event[:2] == b"\xff\x03")


def test_smf_is_valid_and_follows_the_melody(tune: Tune) -> None:
    file_format, division, tracks = _parse_smf(midi_file(tune))
    assert (file_format, division) == (1, TICKS_PER_QUARTER)
    tempo = next(event for _, event in tracks[0] if event[:3] == b"\xff\x51\x03")
    assert int.from_bytes(tempo[3:], "big") == round(60_000_000 / tune.bpm)
    names = [_track_name(track) for track in tracks[1:]]
    assert names == (["lead", "bass", "drums"] if tune.kick else ["lead", "bass"])
    eighth = TICKS_PER_QUARTER // 2
    melody = [round(69 + 12 * math.log2(f / 440)) for f in tune.frequencies]
    lead = _notes(tracks[1])
    assert [pitch for _, _, pitch in lead] == melody
    assert [(on, off) for on, off, _ in lead] == [
        (step * eighth, (step + 1) * eighth) for step in range(len(melody))
    ]
    assert [pitch for _, _, pitch in _notes(tracks[2])] == [p - 24 for p in melody]
    if tune.kick:
        drums = _notes(tracks[3])
        assert [on for on, _, _ in drums] == list(range(0, len(melody) * eighth, 2 * eighth))
        assert {event[0] & 0x0F for _, event in tracks[3] if event[0] & 0xF0 == 0x90} == {9}


@pytest.mark.parametrize(
    ("part", "names"),
    [
        ("vocals", ["lead"]),
        ("instrumental", ["bass", "drums"]),
        ("bass", ["bass"]),
        ("drums", ["drums"]),
        ("other", []),
    ],
)
def test_smf_of_a_stem_holds_its_part(part: str, names: list[str]) -> None:
    tune = plan("synthwave")
    _, _, tracks = _parse_smf(midi_file(tune, part))
    assert [_track_name(track) for track in tracks[1:]] == names
    assert [i.name for i in instruments(tune, part)] == names


def test_midi_note() -> None:
    assert [midi_note(f) for f in (440.0, 261.6256, 880.0, 27.5)] == [69, 60, 81, 21]


# -- aligned lyrics, BPM ---------------------------------------------------------------

LYRICS = "[Verse]\nCity lights, neon dreams\n\n[Chorus]\nDrive on, drive on\n[Outro]"


def test_alignment_lists_the_sung_words_line_by_line() -> None:
    timed = align(LYRICS, 2.72)
    assert [word.word for word in timed] == [
        "City ",
        "lights, ",
        "neon ",
        "dreams\n",
        "Drive ",
        "on, ",
        "drive ",
        "on\n",
    ]
    lines = "".join(word.word for word in timed).splitlines()
    assert lines == ["City lights, neon dreams", "Drive on, drive on"]
    assert sung_lines(LYRICS) == [
        ["City", "lights,", "neon", "dreams"],
        ["Drive", "on,", "drive", "on"],
    ]


@pytest.mark.parametrize("count", [1, 7, 300, 5000])
@pytest.mark.parametrize("duration", [2.0, 2.72, 3.98])
def test_alignment_invariants(count: int, duration: float) -> None:
    lyrics = "\n".join(f"word{i} and more" for i in range(count))
    timed = align(lyrics, duration)
    assert len(timed) == 3 * count
    starts = [word.start_s for word in timed]
    assert starts == sorted(starts)
    for word, following in zip(timed, [*timed[1:], None], strict=True):
        assert 0 <= word.start_s < word.end_s <= duration
        if following is not None:
            assert word.end_s <= following.start_s
        assert 0 < word.p_align <= 1


def test_an_instrumental_has_no_alignment() -> None:
    assert align("[Instrumental]", 3.0) == []
    assert align("", 3.0) == []
    assert align("  \n[Verse]\n\n", 3.0) == []


def test_bpm_is_the_tempo_of_the_audio(tune: Tune) -> None:
    assert bpm_of(tune) == float(tune.bpm)
    # Every step is an eighth at that tempo, to within the 0.02 s quantum of a step.
    assert abs(tune.step_frames / RATE - 30 / tune.bpm) <= 0.01
