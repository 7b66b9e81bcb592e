"""Run every script in `examples/` against the sandbox, as a user would, and check what it prints.

Each example runs in a subprocess with `MUSICAPI_KEY` removed (so it starts its own
in-process sandbox on the real clock), in a temporary working directory, with warnings
turned into errors. The examples are the README's promises: these tests keep them true.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
import wave
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SANDBOX_LINE = "using the sandbox (no MUSICAPI_KEY set)"

pytestmark = pytest.mark.timeout(90)


def run_example(
    name: str, cwd: Path, *args: str, expect_rc: int = 0
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICAPI_")}
    proc = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-W", "error", str(EXAMPLES / name), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == expect_rc, (
        f"{name} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Exception ignored" not in proc.stderr, proc.stderr
    return proc


def lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return proc.stdout.splitlines()


# -- the examples as a set ------------------------------------------------------------------

TESTED = {
    "01_credits.py",
    "02_generate.py",
    "03_custom_lyrics.py",
    "04_webhook.py",
    "05_errors.py",
    "06_batch.py",
    "07_webhooks_fastapi.py",
    "08_webhook_receiver_wsgi.py",
    "09_karaoke.py",
    "10_stems.py",
    "11_extend_and_concat.py",
    "12_instrumental.py",
    "13_lyrics_to_song.py",
}

WEB_DEPENDENCIES_MISSING = any(
    importlib.util.find_spec(name) is None for name in ("fastapi", "uvicorn")
)
needs_web_dependencies = pytest.mark.skipif(
    WEB_DEPENDENCIES_MISSING and not os.environ.get("CI"),
    reason="fastapi and uvicorn (the `examples` dependency group) are not installed; "
    "under CI this test runs regardless, and fails",
)


def test_every_example_is_tested() -> None:
    found = {path.name for path in EXAMPLES.glob("[0-9][0-9]_*.py")}
    assert found == TESTED


@pytest.mark.parametrize("name", sorted(TESTED))
def test_example_shape(name: str) -> None:
    """Each example opens with a docstring, defines main() and runs it under __main__."""
    source = (EXAMPLES / name).read_text(encoding="utf-8")
    module = ast.parse(source)
    docstring = ast.get_docstring(module)
    assert docstring, f"{name} has no module docstring"
    assert "from __future__ import annotations" in source
    assert any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "main"
        for node in module.body
    )
    assert 'if __name__ == "__main__":' in source


# -- each example ---------------------------------------------------------------------------


def test_01_credits(tmp_path: Path) -> None:
    out = lines(run_example("01_credits.py", tmp_path))
    assert out[0] == SANDBOX_LINE
    assert re.fullmatch(r"credits: \d+, extra credits: \d+", out[1]), out


def _assert_songs(out: list[str], folder: Path) -> None:
    saved = [line for line in out if " saved to " in line]
    assert len(saved) == 2, out
    for line in saved:
        match = re.fullmatch(r"(?P<title>\S.*)  \(\d+\.\d s\)  saved to (?P<path>.+)", line)
        assert match, line
        assert (folder.parent / match["path"]).resolve().parent == folder.resolve()
    files = sorted(folder.iterdir())
    assert len(files) == 2, files
    for file in files:
        assert file.suffix == ".wav"
        with wave.open(str(file), "rb") as audio:
            assert audio.getnframes() > 0
            assert audio.getframerate() > 0


def test_02_generate(tmp_path: Path) -> None:
    out = lines(run_example("02_generate.py", tmp_path))
    assert out[0] == SANDBOX_LINE
    assert out[1] == "generating: 'uplifting synthwave with female vocals'"
    assert re.fullmatch(r"task \S+ finished with 2 songs", out[2]), out
    _assert_songs(out, tmp_path / "songs")


def test_02_generate_options(tmp_path: Path) -> None:
    out = lines(run_example("02_generate.py", tmp_path, "--out", "mine", "--prompt", "calm jazz"))
    assert "generating: 'calm jazz'" in out
    assert not (tmp_path / "songs").exists()
    _assert_songs(out, tmp_path / "mine")


def test_02_generate_error_exits_non_zero(tmp_path: Path) -> None:
    proc = run_example("02_generate.py", tmp_path, "--prompt", "x" * 500, expect_rc=1)
    message = "gpt_description_prompt is 500 characters; the limit is 400"
    assert proc.stderr.strip().splitlines() == [f"error: RequestValidationError: {message}"]
    assert not (tmp_path / "songs").exists()


def test_03_custom_lyrics(tmp_path: Path) -> None:
    out = lines(run_example("03_custom_lyrics.py", tmp_path))
    assert out[0] == SANDBOX_LINE
    assert re.fullmatch(r"task \S+:", out[1]), out
    songs = out[2:]
    assert len(songs) == 2, out
    for line in songs:
        assert line.startswith("  Night Drive [synthwave, retro, energetic] "), line


def test_04_webhook(tmp_path: Path) -> None:
    out = lines(run_example("04_webhook.py", tmp_path))
    assert out[0] == SANDBOX_LINE
    assert re.fullmatch(
        r"created task \S+; the API will POST it to https://your-app\.example\.com/\S+", out[1]
    ), out
    assert out[2] == "right after creating, the task is running"
    assert len([line for line in out if line.startswith("ready: ")]) == 2, out


def test_05_errors(tmp_path: Path) -> None:
    out = run_example("05_errors.py", tmp_path).stdout
    assert "RequestValidationError: title is 200 characters; the limit is 80" in out
    assert "create requests the server saw: 0" in out
    assert re.search(r"TaskFailedError: task \S+ did not succeed \(failed: ", out), out
    assert "credits before: 5000, after: 5000" in out  # refunded
    match = re.search(r"WaitTimeoutError: task (\S+) was not finished", out)
    assert match, out
    assert f"resumed: task {match[1]} finished with 2 songs" in out


def test_06_batch_resumes_from_journal(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# my batch\nfirst song\n\nsecond song\nthird song\n", encoding="utf-8")
    args = ("--prompts", str(prompts), "--journal", "run.jsonl")

    first = lines(run_example("06_batch.py", tmp_path, *args))
    done = [line for line in first if line.startswith(("ok ", "failed "))]
    assert len(done) == 3, first
    assert all(line.startswith("ok ") and "[now]" in line for line in done), first
    assert first[-1] == (
        "summary: 3 jobs, 3 ok, 0 failed; "
        "0 from the journal, 3 finished in this run, 3 create requests sent"
    )
    assert (tmp_path / "run.jsonl").exists()

    second = lines(run_example("06_batch.py", tmp_path, *args))
    again = [line for line in second if line.startswith(("ok ", "failed "))]
    assert len(again) == 3, second
    assert all("[journal]" in line for line in again), second
    task_ids = {line.split()[2] for line in done}
    assert {line.split()[2] for line in again} == task_ids
    assert second[-1] == (
        "summary: 3 jobs, 3 ok, 0 failed; "
        "3 from the journal, 0 finished in this run, 0 create requests sent"
    )


def test_06_batch_default_prompts(tmp_path: Path) -> None:
    out = lines(run_example("06_batch.py", tmp_path))
    assert out[0].startswith("no --prompts given: using the built-in list")
    assert out[-1].startswith(
        "summary: 4 jobs, 4 ok, 0 failed; 0 from the journal, 4 finished in this run"
    )
    assert (tmp_path / "batch.journal.jsonl").exists()


@needs_web_dependencies
def test_07_webhooks_fastapi(tmp_path: Path) -> None:
    out = lines(run_example("07_webhooks_fastapi.py", tmp_path))
    assert out[0] == SANDBOX_LINE
    assert out[1] == "a generation takes 1.5 s on this sandbox"
    listens = re.fullmatch(
        r"the app listens on (http://127\.0\.0\.1:\d+); its webhook URL is (\S+)", out[2]
    )
    assert listens, out
    assert listens[2] == f"{listens[1]}/webhooks/musicapi/"
    assert out[3] == "POST /songs {'description': 'uplifting synthwave with female vocals'}"

    answered = [i for i, line in enumerate(out) if line.startswith("answered ")]
    assert len(answered) == 1, out
    answer = re.fullmatch(r"answered 200 in (\d+\.\d) s: task (\S+)", out[answered[0]])
    assert answer, out
    took, task_id = float(answer[1]), answer[2]
    assert 1.5 <= took < 10.0, out  # never before the generation ends; woken, not polled late
    # A webhook may still be logged after the answer (see below): not part of the rest.
    rest = [line for line in out[answered[0] + 1 :] if not line.startswith("webhook ")]
    assert len(rest) == 3, out
    for line in rest[:2]:
        assert re.fullmatch(r"  \S.*  http://127\.0\.0\.1:\d+/files/\S+\.wav", line), out

    # `@receiver.on_event` logged each verified webhook before the receiver handed it on;
    # the last of them woke `generate` (its fallback polls start 15 s in, so an answer
    # within 10 s was woken), which asked the API once per webhook: no polling loop.
    # Usually a `streaming` event then a `succeeded` one; on a slow machine the poll
    # after `streaming` may already find the task succeeded.
    webhooks = [line for line in out[: answered[0]] if line.startswith("webhook ")]
    assert webhooks, out
    logged = rf"webhook song\.completed: task {task_id} (streaming|succeeded), 2 clips"
    assert all(re.fullmatch(logged, line) for line in out if line.startswith("webhook ")), out
    polls = re.fullmatch(r"requests for the task's state: (\d+)", rest[2])
    assert polls, out
    assert 1 <= int(polls[1]) <= len(webhooks), out


def test_08_webhook_receiver_wsgi(tmp_path: Path) -> None:
    out = lines(run_example("08_webhook_receiver_wsgi.py", tmp_path))
    assert out[0] == SANDBOX_LINE
    listens = re.fullmatch(
        r"the WSGI app listens on (http://127\.0\.0\.1:\d+); its webhook URL is (\S+)", out[1]
    )
    assert listens, out
    assert listens[2] == f"{listens[1]}/webhooks/musicapi"
    assert out[2].startswith("a forged delivery: 401 "), out
    assert out[3] == "created 2 tasks; waiting for their webhooks"
    final = [
        re.fullmatch(r"verified: song\.completed for task (\S+), succeeded: (.+)", line)
        for line in out[4:]
        if line.startswith("verified: ") and ", succeeded: " in line
    ]
    assert len(final) == 2, out
    assert all(final), out
    confirmed = [line for line in out if line.startswith("the API confirms: ")]
    assert out[-2:] == confirmed, out
    assert sorted(confirmed) == sorted(
        f"the API confirms: task {match[1]} succeeded, 2 clips" for match in final if match
    )


# -- the examples of the whole API surface ----------------------------------------------------


def test_09_karaoke_prints_each_line_in_time(tmp_path: Path) -> None:
    out = lines(run_example("09_karaoke.py", tmp_path, "--speed", "8"))
    assert out[0] == SANDBOX_LINE
    assert re.fullmatch(r"Neon Rivers: 4 lines, \d+ words", out[1]), out
    timed = [re.fullmatch(r"\[ *(\d+\.\d\d)s - *(\d+\.\d\d)s\] (.+)", line) for line in out[2:]]
    assert all(timed), out
    starts = [float(match[1]) for match in timed if match]
    assert starts == sorted(starts)
    assert [match[3] for match in timed if match][0] == "NEON rivers under midnight skies"


def test_10_stems_saves_each_stem(tmp_path: Path) -> None:
    out = lines(run_example("10_stems.py", tmp_path))
    assert out[0] == SANDBOX_LINE
    assert [line.split(":")[0] for line in out[2:]] == ["vocals", "instrumental"]
    files = sorted((tmp_path / "stems").iterdir())
    assert len(files) == 2
    for file in files:
        with wave.open(str(file), "rb") as audio:
            assert audio.getnframes() > 0


def test_10_stems_full_split(tmp_path: Path) -> None:
    out = lines(run_example("10_stems.py", tmp_path, "--full"))
    assert [line.split(":")[0] for line in out[2:]] == ["vocals", "drums", "bass", "other"]


def test_11_extend_and_concat(tmp_path: Path) -> None:
    out = lines(run_example("11_extend_and_concat.py", tmp_path))
    assert out[0] == SANDBOX_LINE
    assert out[2].startswith("extended from ")
    assert " saved to " in out[3]
    assert len(list((tmp_path / "songs").iterdir())) == 1


def test_12_instrumental(tmp_path: Path) -> None:
    out = lines(run_example("12_instrumental.py", tmp_path))
    assert out[0] == SANDBOX_LINE
    saved = [line for line in out if " saved to " in line]
    assert len(saved) == 2, out


def test_13_lyrics_to_song(tmp_path: Path) -> None:
    out = lines(run_example("13_lyrics_to_song.py", tmp_path))
    assert out[0] == SANDBOX_LINE
    assert re.fullmatch(r"lyrics: '.+', \d+ lines", out[1]), out
    assert len(out) == 4, out
