"""`musicapi batch`: file formats, JSON lines, and Ctrl-C then resume without a duplicate create."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from musicapi.sandbox import Sandbox

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

PROMPTS = ["uplifting synthwave", "lofi hip hop", "jazz trio", "ambient piano", "funk groove"]


def _songs(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("*.wav"))


def test_a_text_file_runs_with_json_lines_and_a_summary(
    run: Callable[..., Any], served: Any, tmp_path: Path
) -> None:
    (tmp_path / "prompts.txt").write_text("# my album\n\nlofi hip hop\n  jazz trio  \n")
    result = run("batch", "prompts.txt", "--json", "--out", "album", env=served.env)
    assert result.code == 0, result.err
    *outcomes, summary = result.json_lines()
    assert {outcome["type"] for outcome in outcomes} == {"outcome"}
    assert sorted(outcome["index"] for outcome in outcomes) == [0, 1]
    assert all(outcome["ok"] and len(outcome["songs"]) == 2 for outcome in outcomes)
    assert summary["type"] == "summary"
    assert (summary["jobs"], summary["succeeded"], summary["failed"]) == (2, 2, 0)
    assert summary["credits_used"] == 30
    assert summary["journal"] == "prompts.txt.journal.jsonl"
    assert len(_songs(tmp_path / "album")) == 4
    assert (tmp_path / "prompts.txt.journal.jsonl").exists()


def test_a_create_whose_answer_was_lost_is_reported_as_sent_not_as_never_submitted(
    run: Callable[..., Any], served: Any, tmp_path: Path
) -> None:
    served.sandbox.faults.drop_after_commit_next = {"create": 1}
    (tmp_path / "prompts.txt").write_text("lofi hip hop\n")
    result = run("batch", "prompts.txt", "--out", "album", env=served.env)
    assert result.code == 3, result.err
    failed = [line for line in (result.out + result.err).splitlines() if " failed: " in line]
    assert len(failed) == 1, result.out + result.err
    assert failed[0].startswith("job 1 (sent, task id unknown) failed: SubmissionUnknownError")


def test_csv_and_jsonl_rows_carry_any_create_fields(
    run: Callable[..., Any], served: Any, tmp_path: Path
) -> None:
    (tmp_path / "songs.csv").write_text(
        "title,tags,prompt,make_instrumental\n"
        'Night Drive,"synthwave, retro","[Verse]\nCity lights",false\n'
        "Focus,ambient,,true\n"
    )
    lines = [
        {"gpt_description_prompt": "epic orchestral", "mv": "sonic-v4-5"},
        {"custom_mode": True, "title": "Way Too Long " * 10, "prompt": "la"},  # fails validation
    ]
    (tmp_path / "songs.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))

    csv_run = run("batch", "songs.csv", "--json", env=served.env)
    assert csv_run.code == 0, csv_run.err
    titles = {song["title"] for line in csv_run.json_lines()[:-1] for song in line["songs"]}
    assert titles == {"Night Drive", "Focus"}

    jsonl_run = run("batch", "songs.jsonl", "--json", env=served.env)
    assert jsonl_run.code == 3  # a job failed
    outcomes = {line["index"]: line for line in jsonl_run.json_lines()[:-1]}
    assert outcomes[0]["ok"]
    assert outcomes[1]["error"]["type"] == "RequestValidationError"
    assert outcomes[1]["task_id"] is None
    assert "title" in outcomes[1]["error"]["message"]


def test_a_bad_line_in_a_jsonl_file_is_a_usage_error(
    run: Callable[..., Any], tmp_path: Path
) -> None:
    (tmp_path / "songs.jsonl").write_text('{"title": "ok"}\n[1, 2]\n')
    result = run("batch", "songs.jsonl", "--sandbox")
    assert result.code == 2
    assert "songs.jsonl:2: each line must be a JSON object" in result.err


def _stats(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.stats.as_dict()


def test_ctrl_c_stops_the_batch_and_the_same_command_resumes_it_without_duplicates(
    served_env: Callable[..., Any], tmp_path: Path
) -> None:
    sandbox = Sandbox(task_seconds=0.6)
    (tmp_path / "prompts.txt").write_text("\n".join(PROMPTS) + "\n")
    args = ["batch", "prompts.txt", "--concurrency", "2", "--out", "album"]
    with sandbox.serve_in_thread() as base_url:
        env = served_env(base_url)
        first = subprocess.Popen(  # noqa: S603 - our own interpreter and package
            [sys.executable, "-m", "musicapi", *args],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 20
        while sandbox.stats.creates < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=20)
        sent_before = sandbox.stats.creates
        assert first.returncode == 130, err
        assert 0 < sent_before < len(PROMPTS)
        assert f"{sent_before} of {len(PROMPTS)} jobs were sent" in err
        assert "every task id is in prompts.txt.journal.jsonl" in err
        resume = re.search(r"^  (musicapi batch .*)$", err, re.MULTILINE)
        assert resume is not None
        assert resume.group(1) == "musicapi batch prompts.txt --concurrency 2 --out album"
        assert "Traceback" not in err
        assert not list((tmp_path / "album").glob(".partial-*"))

        second = subprocess.run(  # noqa: S603 - the exact command it printed
            [sys.executable, "-m", "musicapi", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        stats = _stats(sandbox)
    assert second.returncode == 0, second.stderr
    assert stats["creates"] == len(PROMPTS)  # not one create twice
    assert stats["requests"]["create"] == len(PROMPTS)
    songs = _songs(tmp_path / "album")
    assert len(songs) == 2 * len(PROMPTS)
    assert "5 jobs, 5 succeeded, 0 failed" in second.stdout
    assert len([line for line in second.stdout.splitlines() if ".wav" in line]) == 10
