"""Each command of `musicapi`, run in a subprocess against the sandbox, as a user would."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import wave
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from musicapi import MusicAPI
from musicapi._cli import main
from musicapi.sandbox import Sandbox

if TYPE_CHECKING:
    from collections.abc import Callable

COMMANDS = ["generate", "credits", "get", "wait", "download", "batch", "sandbox"]
SHORT = ["--sandbox", "--sandbox-task-seconds", "0.2"]


def _wav_ok(path: str | Path) -> bool:
    with wave.open(str(path)) as audio:
        return audio.getnframes() > 0


# -- help and usage errors -----------------------------------------------------------------


@pytest.mark.parametrize("name", [None, *COMMANDS])
def test_help_on_every_command_shows_examples(
    capsys: pytest.CaptureFixture[str], name: str | None
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*([name] if name else []), "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: musicapi {name or ''}".rstrip())
    assert "examples:" in out


def test_help_and_version_in_a_subprocess(run: Callable[..., Any]) -> None:
    helped = run("batch", "--help")
    assert helped.code == 0
    assert "FILE.journal.jsonl" in helped.out
    version = run("--version")
    assert version.code == 0
    assert re.fullmatch(r"musicapi \S+\n", version.out)


TASK = "0b7f6c1e-1111-2222-3333-444455556666"
USAGE_ERRORS = [
    ([], "required: COMMAND"),
    (["bogus"], "invalid choice"),
    (["generate", *SHORT], "give a DESCRIPTION"),
    (["generate", *SHORT, "x", "--count", "0"], "must be 1 or more"),
    (["generate", *SHORT, "x", "--max-size", "lots"], "not a size"),
    (["generate", *SHORT, "x", "--timeout", "-1"], "more than 0 seconds"),
    (["generate", *SHORT, "--lyrics", "missing.txt", "--title", "T"], "cannot read"),
    (["batch", *SHORT, "missing.txt"], "cannot read"),
    (["get"], "TASK_ID"),
    (["download", *SHORT, TASK, "--stems", "half"], "invalid choice: 'half'"),
    (["download", *SHORT, "--stems", TASK], "invalid choice"),  # TASK_ID comes first
]


@pytest.mark.parametrize(("args", "message"), USAGE_ERRORS)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    try:
        code = main(args)
    except SystemExit as exited:  # argparse's own errors
        code = exited.code
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bogus"], "invalid choice"),
        (["download", *SHORT, TASK, "--stems", "all"], "invalid choice: 'all'"),
        (["generate", *SHORT, "x" * 401], "gpt_description_prompt"),  # the SDK's own check
    ],
)
def test_usage_errors_exit_2_in_a_subprocess(
    run: Callable[..., Any], args: list[str], message: str
) -> None:
    result = run(*args)
    assert result.code == 2, (result.out, result.err)
    assert message in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    "args", [["generate", "lofi"], ["credits"], ["batch", "prompts.txt"], ["get", TASK]]
)
def test_a_missing_key_says_how_to_set_it_or_use_the_sandbox(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    args: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MUSICAPI_KEY", raising=False)
    (tmp_path / "prompts.txt").write_text("lofi\n")
    assert main(args) == 2
    captured = capsys.readouterr()
    assert 'export MUSICAPI_KEY="your_key_here"' in captured.err
    assert "$env:MUSICAPI_KEY" in captured.err
    assert "--sandbox" in captured.err
    assert captured.out == ""


def test_a_missing_key_in_a_subprocess(run: Callable[..., Any]) -> None:
    result = run("generate", "lofi")
    assert result.code == 2
    assert "musicapi generate --sandbox" in result.err
    assert result.out == ""


def test_a_refused_key_is_an_api_error_naming_the_status(run: Callable[..., Any]) -> None:
    sandbox = Sandbox(api_key="the-right-key")
    with sandbox.serve_in_thread() as base_url:
        result = run("credits", env={"MUSICAPI_BASE_URL": base_url, "MUSICAPI_KEY": "wrong"})
        as_json = run(
            "credits", "--json", env={"MUSICAPI_BASE_URL": base_url, "MUSICAPI_KEY": "wrong"}
        )
    assert result.code == 1
    assert "AuthenticationError" in result.err
    assert "HTTP 401" in result.err
    assert "check MUSICAPI_KEY" in result.err
    assert "wrong" not in result.err
    error = as_json.json()["error"]
    assert (as_json.code, error["type"], error["status_code"]) == (1, "AuthenticationError", 401)


def test_a_plain_http_base_url_off_loopback_is_a_usage_error(run: Callable[..., Any]) -> None:
    result = run(
        "credits", env={"MUSICAPI_BASE_URL": "http://example.com/api/v1", "MUSICAPI_KEY": "k"}
    )
    assert result.code == 2
    assert "ConfigurationError" in result.err


# -- the commands ----------------------------------------------------------------------------


def test_generate_on_the_in_process_sandbox_saves_two_playable_songs(
    run: Callable[..., Any], tmp_path: Path
) -> None:
    result = run("generate", *SHORT, "uplifting synthwave")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert len(lines) == 3
    for line in lines[:2]:
        title, duration, path = line.split("  ")
        assert title == "Uplifting Synthwave"
        assert re.fullmatch(r"\d+:\d\d", duration)
        assert _wav_ok(tmp_path / path)
    assert lines[2] == "2 songs saved in songs; credits used: 15 (balance 5000 -> 4985)"
    assert "submitted task" in result.err


def test_generate_json_is_one_parseable_document(run: Callable[..., Any], tmp_path: Path) -> None:
    result = run(
        "--json", "generate", *SHORT, "--title", "Night Drive", "--tags", "synthwave",
        "--lyrics", "-", "--count", "2", "--out", "album",
        stdin="[Verse]\nCity lights\n[Chorus]\nDrive on",
    )  # fmt: skip
    assert result.code == 0, result.err
    document = result.json()
    assert len(document["task_ids"]) == 2
    assert document["saved"] == 4
    assert document["credits_used"] == 30
    for song in document["songs"]:
        assert song["title"] == "Night Drive"
        assert song["error"] is None
        assert Path(song["path"]).parent == Path("album")
        assert _wav_ok(tmp_path / song["path"])
        assert song["files"] == {"audio": song["path"]}


def test_credits(run: Callable[..., Any]) -> None:
    text = run("credits", "--sandbox")
    assert text.code == 0
    assert text.out.split() == ["credits:", "5000", "extra", "credits:", "0", "total:", "5000"]
    as_json = run("credits", "--sandbox", "--json")
    assert as_json.json() == {"credits": 5000, "extra_credits": 0, "total": 5000}


def _generated_task(run: Callable[..., Any], served: Any) -> str:
    result = run("generate", "--json", "lofi hip hop", env=served.env)
    assert result.code == 0, result.err
    [task_id] = result.json()["task_ids"]
    return str(task_id)


def test_get_wait_and_download_a_task_on_a_served_sandbox(
    run: Callable[..., Any], served: Any, tmp_path: Path
) -> None:
    task_id = _generated_task(run, served)

    got = run("get", task_id, "--json", env=served.env)
    assert got.code == 0
    assert got.json()["state"] == "succeeded"
    assert len(got.json()["clips"]) == 2
    text = run("get", task_id, env=served.env)
    assert text.out.splitlines()[0] == f"task {task_id}: succeeded"

    waited = run("wait", task_id, "--json", env=served.env)
    assert waited.code == 0
    assert [clip["clip_id"] for clip in waited.json()["clips"]] == [
        clip["clip_id"] for clip in got.json()["clips"]
    ]

    saved = run("download", task_id, "--cover", "--out", "again", "--json", env=served.env)
    assert saved.code == 0, saved.err
    songs = saved.json()["songs"]
    assert len(songs) == 2
    for song in songs:
        assert set(song["files"]) == {"audio", "image"}
        assert _wav_ok(tmp_path / song["files"]["audio"])
        assert (tmp_path / song["files"]["image"]).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
        assert song["files"]["image"].endswith(".jpg")
    first = sorted(path.name for path in (tmp_path / "again").iterdir())
    assert run("download", task_id, "--cover", "--out", "again", env=served.env).code == 0
    assert sorted(path.name for path in (tmp_path / "again").iterdir()) == first  # kept, not copied


def test_download_waits_for_a_running_task(run: Callable[..., Any], tmp_path: Path) -> None:
    # Long enough for two interpreter start-ups (each well under a second) to see it run.
    sandbox = Sandbox(task_seconds=3.0)
    with sandbox.serve_in_thread() as base_url:
        env = {"MUSICAPI_BASE_URL": base_url, "MUSICAPI_KEY": "k"}
        with MusicAPI(api_key="k", base_url=base_url) as api:
            task_id = api.sonic.create(gpt_description_prompt="jazz trio").task_id
        assert run("get", task_id, env=env).out.strip() == f"task {task_id}: running"
        result = run("download", task_id, env=env)
    assert result.code == 0, result.err
    assert f"task {task_id}: generating" in result.err
    assert len(list((tmp_path / "songs").glob("*.wav"))) == 2


def test_unknown_task_is_an_api_error_with_a_hint_on_the_sandbox(run: Callable[..., Any]) -> None:
    result = run("get", "0b7f6c1e-1111-2222-3333-444455556666", "--sandbox")
    assert result.code == 1
    assert "NotFoundError" in result.err
    assert "musicapi sandbox --port 8000" in result.err


def test_a_failed_job_exits_3(run: Callable[..., Any], served: Any) -> None:
    served.sandbox.faults.fail_next_tasks = 1
    result = run("generate", "doomed song", env=served.env)
    assert result.code == 3
    assert "TaskFailedError" in result.err
    assert "0 songs saved" in result.out
    [task_id] = re.findall(r"submitted task (\S+)", result.err)
    got = run("get", task_id, env=served.env)
    assert got.code == 3
    assert "failed" in got.out


def test_a_wait_that_times_out_exits_4_and_says_how_to_resume(run: Callable[..., Any]) -> None:
    sandbox = Sandbox(task_seconds=60)
    with sandbox.serve_in_thread() as base_url:
        env = {"MUSICAPI_BASE_URL": base_url, "MUSICAPI_KEY": "k"}
        with MusicAPI(api_key="k", base_url=base_url) as api:
            task_id = api.sonic.create(gpt_description_prompt="slow").task_id
        result = run("wait", task_id, "--timeout", "0.3", env=env)
    assert result.code == 4
    assert "WaitTimeoutError" in result.err
    assert f"musicapi wait {task_id}" in result.err


def test_sandbox_command_serves_with_the_sandbox_flags() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "musicapi", "sandbox", "--port", "0", "--task-seconds", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v1", base_url)
        with MusicAPI(api_key="any", base_url=base_url) as api:
            assert api.get_credits().credits == 5000
            result = api.sonic.generate(gpt_description_prompt="quick")
            assert len(result.clips) == 2
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err


def test_ctrl_c_during_generate_loses_no_task_id(
    served_env: Callable[..., Any], tmp_path: Path
) -> None:
    sandbox = Sandbox(task_seconds=60)
    with sandbox.serve_in_thread() as base_url:
        proc = subprocess.Popen(
            [sys.executable, "-m", "musicapi", "generate", "slow song", "--count", "2"],
            cwd=tmp_path,
            env=served_env(base_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        submitted = [proc.stderr.readline(), proc.stderr.readline()]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        created = set(sandbox.tasks)
    assert proc.returncode == 130, err
    ids = {line.split()[-1] for line in submitted if line.startswith("submitted task ")}
    assert ids == created
    assert "interrupted: 2 task(s) were submitted and go on upstream" in err
    for task_id in ids:
        assert f"  musicapi download {task_id} --out songs" in err
    assert "Traceback" not in err
    assert out == ""
