"""Fixtures that drive the `musicapi` command as a user would: in a subprocess.

`sys.executable -m musicapi` is used rather than the console script, so the tests do
not depend on the script being on PATH. Every subprocess gets an environment without
the caller's `MUSICAPI_*` variables, so a developer's real key is never used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from musicapi.sandbox import Sandbox

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

KEY = "sk-cli-test-key"
TASK_SECONDS = 0.3
"""How long a sandbox generation takes in these tests (real seconds)."""


@attrs.frozen
class Result:
    """What one run of the command did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@attrs.frozen
class Served:
    """A sandbox served over loopback by this test process, and the env that points at it."""

    sandbox: Sandbox
    base_url: str
    env: dict[str, str]

    def stats(self) -> dict[str, Any]:
        """Read the stats through the control route, as another process would."""
        origin = self.base_url.removesuffix("/api/v1")
        with urllib.request.urlopen(f"{origin}/_sandbox/stats", timeout=10) as answer:  # noqa: S310 - loopback
            stats: dict[str, Any] = json.load(answer)
        return stats


def clean_env(**extra: str) -> dict[str, str]:
    """Return this process's environment without `MUSICAPI_*`, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MUSICAPI_")}
    env.pop("TERM", None)
    return {**env, "PYTHONIOENCODING": "utf-8", **extra}


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "musicapi", *args]


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., Result]:
    """Run `musicapi ARGS...` in `tmp_path` and return its status and output."""

    def run_command(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60, stdin: str = ""
    ) -> Result:
        done = subprocess.run(  # noqa: S603 - our own interpreter and package
            command(*args),
            cwd=tmp_path,
            env=clean_env(**(env or {})),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
            input=stdin,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run_command


@pytest.fixture
def served() -> Iterator[Served]:
    """A sandbox on a loopback port, in a thread of this process, with short tasks."""
    sandbox = Sandbox(task_seconds=TASK_SECONDS)
    with sandbox.serve_in_thread() as base_url:
        yield Served(sandbox, base_url, {"MUSICAPI_BASE_URL": base_url, "MUSICAPI_KEY": KEY})


@pytest.fixture
def served_env() -> Callable[[str], dict[str, str]]:
    """Return the full environment of a subprocess that talks to the sandbox at a base URL."""

    def make(base_url: str) -> dict[str, str]:
        return clean_env(MUSICAPI_BASE_URL=base_url, MUSICAPI_KEY=KEY)

    return make
