"""Shared helpers for the benchmarks: a sandbox child process, stats, tables and JSON results.

Not a benchmark itself. Every benchmark script in this folder imports it as `_common`
(the script's own folder is first on `sys.path` when run as `python benchmarks/x.py`).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from typing_extensions import Self

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
OFFICIAL_SDK_DIR = HERE / ".official-sdk"
"""Where `musicapi-sdk==0.1.0` is installed with `pip --target`, outside the venv.

The official SDK's import name is also `musicapi`: installed into the same environment
as this package it shadows it (site-packages comes before the editable install's path).
So it lives in its own folder and runs only in a child process that puts this folder
first on `PYTHONPATH`.
"""
OFFICIAL_SDK_VERSION = "0.1.0"
API_KEY = "bench-key"


class ChildServer:
    """A server in a child process that prints its base URL on its first line of output."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""

    def command(self) -> list[str]:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.proc = subprocess.Popen(
            [*self.command(), *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            err = self.proc.stderr.read() if self.proc.stderr else ""
            self.proc.kill()
            raise RuntimeError(f"{self.command()} did not start: {line!r} {err}")
        self.base_url = line
        return self

    @property
    def origin(self) -> str:
        return self.base_url.rsplit("/api/", 1)[0]

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the server process has used so far, from /proc."""
        if self.proc is None:
            return None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Sandbox(ChildServer):
    """A `python -m musicapi.sandbox` child process on a free loopback port."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "musicapi.sandbox", "--host", "127.0.0.1", "--port", "0"]

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.origin}/_sandbox/stats", timeout=10) as r:
            return json.loads(r.read())

    def set_faults(self, **knobs: Any) -> dict[str, Any]:
        """Set fault knobs through `POST /_sandbox/faults`; return the knobs now in force."""
        request = urllib.request.Request(
            f"{self.origin}/_sandbox/faults",
            data=json.dumps(knobs).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            return json.loads(r.read())


class FixedServer(ChildServer):
    """`_fixed_server.py` in a child process: fixed bodies for `GET /sonic/task/<id>`."""

    def command(self) -> list[str]:
        return [sys.executable, str(HERE / "_fixed_server.py"), "--port", "0"]


def cpu_now() -> float:
    """CPU seconds (user + system, all threads) of this process."""
    return time.process_time()


def rusage_cpu() -> float:
    """CPU seconds of this process according to getrusage (a cross-check of `cpu_now`)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def environment() -> dict[str, Any]:
    from importlib.metadata import version

    import anyio  # noqa: F401  (version lookups below)
    import httpx

    def v(name: str) -> str | None:
        try:
            return version(name)
        except Exception:
            return None

    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "httpx": httpx.__version__,
        "anyio": v("anyio"),
        "attrs": v("attrs"),
        "cattrs": v("cattrs"),
        "musicapi": v("musicapi"),
        "requests": v("requests"),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"benchmark": name, "environment": environment(), **data}
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    return path


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> str:
    cells = [[str(h) for h in headers], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    if title:
        lines.append(title)
    sep = "  "
    for n, row in enumerate(cells):
        lines.append(
            sep.join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append(sep.join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


def verdict(value: float, target: float) -> str:
    return "ok" if value <= target else "MISSED"


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max of some runs' values (the figures every table quotes)."""
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "min": ordered[0],
        "max": ordered[-1],
        "n": len(ordered),
    }


def fmt_spread(s: dict[str, float], fmt: str = "{:.2f}") -> str:
    """`median (min–max)`, or just the value when there was one run."""
    if s["n"] == 1 or s["min"] == s["max"]:
        return fmt.format(s["median"])
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}–{fmt.format(s['max'])})"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table, first column left-aligned, the others right-aligned."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(":---" if i == 0 else "---:" for i in range(len(headers))) + "|",
    ]
    lines.extend("| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows)
    return "\n".join(lines)


@contextlib.contextmanager
def timer() -> Iterator[dict[str, float]]:
    out: dict[str, float] = {}
    w0, c0 = time.perf_counter(), cpu_now()
    try:
        yield out
    finally:
        out["wall"] = time.perf_counter() - w0
        out["cpu"] = cpu_now() - c0


def ensure_official_sdk() -> Path:
    """Install `musicapi-sdk==0.1.0` into `benchmarks/.official-sdk` if it is not there yet."""
    marker = OFFICIAL_SDK_DIR / f"musicapi_sdk-{OFFICIAL_SDK_VERSION}.dist-info"
    if not marker.exists():
        print(
            f"installing musicapi-sdk=={OFFICIAL_SDK_VERSION} into {OFFICIAL_SDK_DIR} "
            "(isolated: its import name `musicapi` would shadow this package)",
            flush=True,
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--target",
                str(OFFICIAL_SDK_DIR),
                f"musicapi-sdk=={OFFICIAL_SDK_VERSION}",
            ],
            check=True,
        )
    return OFFICIAL_SDK_DIR
