"""`musicapi download --stems/--wav/--midi` against a served sandbox: playable files, named
after their song, in JSON and text, paid as the API charges, failures reported per song."""

from __future__ import annotations

import re
import wave
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def _wav_ok(path: Path) -> bool:
    with wave.open(str(path)) as audio:
        return audio.getnframes() > 0


def _task(run: Callable[..., Any], served: Any) -> str:
    result = run("generate", "--json", "lofi hip hop", env=served.env)
    assert result.code == 0, result.err
    [task_id] = result.json()["task_ids"]
    return str(task_id)


def _balance(run: Callable[..., Any], served: Any) -> float:
    return float(run("credits", "--json", env=served.env).json()["total"])


def test_stems_wav_and_midi_are_saved_playable_and_named_after_their_song(
    run: Callable[..., Any], served: Any, tmp_path: Path
) -> None:
    task_id = _task(run, served)
    before = _balance(run, served)
    result = run("download", task_id, "--stems", "--wav", "--midi", "--json", env=served.env)
    assert result.code == 0, result.err
    assert before - _balance(run, served) == 2 * (15 + 2)  # basic stems and a WAV, per song
    document = result.json()
    assert document["task_ids"] == [task_id]
    songs = document["songs"]
    assert len(songs) == 2
    saved: list[str] = []
    for song in songs:
        files = song["files"]
        assert set(files) == {"audio", "stem:vocals", "stem:instrumental", "wav", "midi"}
        stem = f"Lofi_Hip_Hop_-_{song['clip_id']}"
        assert files["audio"] == f"songs/{stem}.wav"
        for part in ("vocals", "instrumental"):
            assert files[f"stem:{part}"] == f"songs/{stem}-{part}.wav"
            assert _wav_ok(tmp_path / files[f"stem:{part}"])
        assert re.fullmatch(rf"songs/{stem}(-2)?\.wav", files["wav"])
        assert _wav_ok(tmp_path / files["wav"])
        assert files["midi"] == f"songs/{stem}.mid"
        assert (tmp_path / files["midi"]).read_bytes()[:4] == b"MThd"
        assert song["error"] is None
        saved += files.values()
    assert document["paths"] == list(dict.fromkeys(saved))
    on_disk = {f"songs/{path.name}" for path in (tmp_path / "songs").iterdir()}
    assert on_disk == set(saved)
    assert "splitting Lofi Hip Hop into stems" in result.err


def test_full_stems_in_text_mode_one_line_per_song(
    run: Callable[..., Any], served: Any, tmp_path: Path
) -> None:
    task_id = _task(run, served)
    before = _balance(run, served)
    result = run("download", task_id, "--stems", "full", "--out", "parts", env=served.env)
    assert result.code == 0, result.err
    assert before - _balance(run, served) == 2 * 75
    lines = result.out.splitlines()
    assert len(lines) == 2
    for line in lines:
        for part in ("vocals", "drums", "bass", "other"):
            assert f"-{part}.wav" in line
    stems = sorted((tmp_path / "parts").glob("*-*.wav"))
    names = {path.name.rsplit("-", 1)[1] for path in stems}
    assert {"vocals.wav", "drums.wav", "bass.wav", "other.wav"} <= names
    assert all(_wav_ok(path) for path in stems)
    assert len(re.findall(r"submitted task \S+ \(full stems of Lofi Hip Hop\)", result.err)) == 2


def test_a_failed_split_exits_3_names_the_song_and_keeps_the_others(
    run: Callable[..., Any], served: Any, tmp_path: Path
) -> None:
    task_id = _task(run, served)
    served.sandbox.faults.fail_next_tasks = 1  # the first stems task of the two
    result = run("download", task_id, "--stems", "--midi", "--json", env=served.env)
    assert result.code == 3, result.err
    assert "TaskFailedError" in result.err
    assert "Traceback" not in result.err
    failed, fine = sorted(result.json()["songs"], key=lambda song: song["error"] is None)
    assert failed["error"]["type"] == "TaskFailedError"
    assert failed["error"]["exit_code"] == 3
    assert set(failed["files"]) == {"audio"}  # no MIDI after its split failed
    assert set(fine["files"]) == {"audio", "stem:vocals", "stem:instrumental", "midi"}
    assert (tmp_path / fine["files"]["midi"]).read_bytes()[:4] == b"MThd"


@pytest.mark.parametrize("flag", ["--stems", "--wav", "--midi"])
def test_the_options_are_accepted_on_the_in_process_sandbox(
    run: Callable[..., Any], flag: str
) -> None:
    # The options are no longer refused as unavailable (exit 2): an in-process sandbox
    # starts empty, so the task is unknown to it, the API's 404.
    result = run("download", "--sandbox", "0b7f6c1e-1111-2222-3333-444455556666", flag)
    assert result.code == 1
    assert "NotFoundError" in result.err
