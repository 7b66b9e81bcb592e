"""Progress and notes on stderr: plain lines, or drawn live with rich (the `cli` extra).

Every command writes through one display: `note` for information (stderr), `result`
for what the command found (stdout), and rows of work that start, move and finish. The
plain display prints lines, so logs and pipes stay readable; the live one draws rows
with rich when it is installed and stderr is a terminal (the httpx `_main.py` guarded
import: without rich the command still works). The SDK's own warnings are routed through
the display too, so a live area is never torn by a log line.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import TYPE_CHECKING

from musicapi._cli._text import bytes_text
from musicapi._logging import _redactor, logger

if TYPE_CHECKING:
    from types import TracebackType

    from rich.progress import Progress, TaskID
    from typing_extensions import Self

__all__ = ["Live", "NoteHandler", "Plain", "rich_wanted", "show_sdk_warnings"]


def rich_wanted() -> bool:
    """Tell whether to draw live progress: rich installed and stderr a real terminal.

    The guarded import of httpx's `_main.py`: without the `cli` extra (or with a
    broken rich) the command still works, with plain lines.
    """
    if os.environ.get("TERM") == "dumb" or not sys.stderr.isatty():
        return False
    try:
        importlib.import_module("rich.progress")
    except ImportError:
        return False
    return True


class Plain:
    """Progress as plain lines on stderr, for logs, pipes and terminals without rich.

    Only starts, finishes and batch status lines are printed; byte counts are not.
    """

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def note(self, text: str) -> None:
        """Print a line of information on stderr."""
        print(text, file=sys.stderr, flush=True)

    def result(self, text: str) -> None:
        """Print a line of results on stdout."""
        print(text, flush=True)

    def start(
        self, key: str, text: str, *, total: float | None = None, quiet: bool = False
    ) -> None:
        """Begin a piece of work shown as `text`."""
        if not quiet:
            self.note(text)

    def update(self, key: str, completed: float, total: float | None = None) -> None:
        """Move a piece of work on (not shown in plain mode)."""

    def status(self, key: str, completed: float, total: float | None, detail: str) -> None:
        """Move a piece of work on and say where it stands (a line in plain mode)."""
        count = f"{completed:.0f}/{total:.0f}" if total is not None else f"{completed:.0f}"
        self.note(f"[{count}] {detail}")

    def finish(self, key: str, text: str | None = None, *, remove: bool = False) -> None:
        """End a piece of work, saying `text` about it."""
        if text:
            self.note(text)


class Live(Plain):
    """Progress drawn live with rich on stderr (the `cli` extra).

    Lines are printed above the live area through its console, unwrapped and with
    rich's markup, emoji codes and highlighting off: a title is shown as it is. Results
    take that way only when stdout is a terminal too (then the same one, in practice);
    otherwise they go to stdout as usual, so `musicapi generate ... > out.txt` works.
    Nothing is redirected: rich would print redirected text with markup on.
    """

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress: Progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.fields[detail]}", markup=False),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def note(self, text: str) -> None:
        """Print a line above the live area."""
        self._progress.console.print(
            text, markup=False, highlight=False, emoji=False, soft_wrap=True
        )

    def result(self, text: str) -> None:
        """Print a line of results: above the live area if stdout is the terminal."""
        if sys.stdout.isatty():
            self.note(text)
        else:
            super().result(text)

    def start(
        self, key: str, text: str, *, total: float | None = None, quiet: bool = False
    ) -> None:
        """Add a row."""
        self._tasks[key] = self._progress.add_task(text, total=total, detail="")

    def update(self, key: str, completed: float, total: float | None = None) -> None:
        """Move a row's bar."""
        task = self._tasks.get(key)
        if task is not None:
            detail = f"{bytes_text(completed)}" + (f" / {bytes_text(total)}" if total else "")
            self._progress.update(task, completed=completed, total=total, detail=detail)

    def status(self, key: str, completed: float, total: float | None, detail: str) -> None:
        """Move a row's bar and set its detail text."""
        task = self._tasks.get(key)
        if task is not None:
            self._progress.update(task, completed=completed, total=total, detail=detail)

    def finish(self, key: str, text: str | None = None, *, remove: bool = False) -> None:
        """Complete a row (or remove it)."""
        task = self._tasks.pop(key, None)
        if task is None:
            return
        if remove:
            self._progress.remove_task(task)
            return
        [row] = [row for row in self._progress.tasks if row.id == task]
        done = row.total if row.total else max(row.completed, 1.0)
        if text:
            self._progress.update(task, description=text)
        self._progress.update(task, total=done, completed=done)


class NoteHandler(logging.Handler):
    """Shows the SDK's warnings (an orphaned task id, for one) as notes of the display.

    Through the display, so that a live progress area is not torn by them.
    """

    def __init__(self, display: Plain) -> None:
        super().__init__(logging.WARNING)
        self.display = display
        self.addFilter(_redactor)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.display.note(f"warning: {self.format(record)}")
        except Exception:  # pragma: no cover - logging must never break the command
            self.handleError(record)


def show_sdk_warnings(display: Plain) -> None:
    """Print the SDK's warnings unless `MUSICAPI_LOG` already routes its log somewhere."""
    if os.environ.get("MUSICAPI_LOG"):
        return
    for handler in logger.handlers:
        if isinstance(handler, NoteHandler):
            handler.display = display
            return
    logger.addHandler(NoteHandler(display))
    if logger.level == logging.NOTSET or logger.level > logging.WARNING:
        logger.setLevel(logging.WARNING)
