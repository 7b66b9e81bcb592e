"""`musicapi generate` in a pseudo-terminal: live progress is drawn, the summary is right.

A pty makes the command believe it runs in a terminal, as it does for a user: with rich
(the `cli` extra) it draws live progress on stderr; with `TERM=dumb`, or without rich,
it prints plain lines. POSIX only (`pty`).
"""

from __future__ import annotations

import importlib.util
import os
import re
import select
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pty is POSIX only")

HAS_RICH = importlib.util.find_spec("rich") is not None
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
SUMMARY = "2 songs saved in songs; credits used: 15 (balance 5000 -> 4985)"


def _run_in_pty(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 30
) -> tuple[int, str]:
    """Run `python -m musicapi ARGS` on a 120x40 pty; return its status and everything it drew."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and package
        [sys.executable, "-m", "musicapi", *args],
        cwd=cwd,
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the child closed its side
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    return code, b"".join(chunks).decode("utf-8", errors="replace")


def _env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("MUSICAPI_")}
    return {**env, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", **extra}


ARGS = ["generate", "--sandbox", "--sandbox-task-seconds", "0.6", "uplifting synthwave"]


@pytest.mark.skipif(
    not HAS_RICH,
    reason="rich (the cli extra) is not installed here: only the plain output can be "
    "checked, by test_plain_lines_in_a_dumb_terminal",
)
def test_progress_is_drawn_live_and_the_summary_is_right(tmp_path: Path) -> None:
    code, screen = _run_in_pty(ARGS, tmp_path, _env())
    assert code == 0, screen
    assert "\x1b[" in screen  # drawn, not printed line by line
    assert "━" in screen  # rich's bar
    assert re.search(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]", screen)  # its spinner turned while waiting
    text = ANSI.sub("", screen)
    assert "generating" in text
    assert re.search(r"done, 2 songs", text)
    assert SUMMARY in text
    assert len(re.findall(r"Uplifting Synthwave  \d+:\d\d  songs/\S+\.wav", text)) == 2
    assert len(list((tmp_path / "songs").glob("*.wav"))) == 2


def test_plain_lines_in_a_dumb_terminal(tmp_path: Path) -> None:
    code, screen = _run_in_pty(ARGS, tmp_path, _env(TERM="dumb"))
    assert code == 0, screen
    assert "\x1b[" not in screen
    lines = screen.replace("\r\n", "\n").splitlines()
    assert lines[0].startswith("submitted task ")
    assert re.fullmatch(r"task \S+: generating", lines[1])
    assert re.fullmatch(r"task \S+: done, 2 songs", lines[2])
    assert lines[-1] == SUMMARY
    assert len(list((tmp_path / "songs").glob("*.wav"))) == 2


@pytest.mark.skipif(not HAS_RICH, reason="rich (the cli extra) is not installed here")
def test_a_batch_draws_its_counts_live(tmp_path: Path) -> None:
    (tmp_path / "prompts.txt").write_text("lofi\njazz\nfunk\n")
    args = ["batch", "--sandbox", "--sandbox-task-seconds", "0.5", "prompts.txt"]
    code, screen = _run_in_pty([*args, "--concurrency", "2"], tmp_path, _env())
    assert code == 0, screen
    text = ANSI.sub("", screen)
    assert re.search(r"1/3 done, 0 failed, \d running, [\d.]+/min, ~15 credits", text)
    assert "3/3 done, 0 failed, 0 running" in text
    assert "batch: 3 jobs, 3 succeeded, 0 failed; songs in songs; credits used: 45" in text
    assert len(list((tmp_path / "songs").glob("*.wav"))) == 6


def test_without_rich_a_terminal_gets_plain_lines(tmp_path: Path) -> None:
    hidden = tmp_path / "no-rich"
    (hidden / "rich").mkdir(parents=True)
    (hidden / "rich" / "__init__.py").write_text("raise ImportError('rich is not installed')\n")
    code, screen = _run_in_pty(ARGS, tmp_path, _env(PYTHONPATH=str(hidden)))
    assert code == 0, screen
    assert "\x1b[" not in screen
    assert screen.replace("\r\n", "\n").splitlines()[-1] == SUMMARY
