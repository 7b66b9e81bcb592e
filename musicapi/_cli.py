"""The `musicapi` command: generate, get, wait, credits, download, batch and sandbox.

It is built on the SDK only: each command is one `anyio.run` of a coroutine that uses
one `AsyncMusicAPI`. The async client, not the sync facade, because a command runs
several things at once (waits, downloads, a batch and its display) and because Ctrl-C
then arrives as a cancellation of that one coroutine: `generate_many`'s `async with`
stops submitting, creates already on the wire finish and are journaled, partial
downloads are removed, and the command reports what was sent and how to resume.

Results go to stdout (text, or one JSON document with `--json`; a batch writes one JSON
line per job, then a summary line); progress, notes and errors go to stderr. With the
`cli` extra (rich) and stderr on a terminal, progress is drawn live; otherwise it is
plain lines, so logs and pipes stay readable. argparse is the only parser used (the
httpx `_main.py` way of keeping the command usable without its extra: rich is imported
only when it is installed and wanted).

Exit statuses: 0 success, 1 an API or network error (the message names the class and
HTTP status), 2 a usage error (bad arguments or input, no API key), 3 a job failed
upstream, 4 a wait timed out (the job may still finish), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import logging
import os
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anyio
import attrs

from musicapi._client import AsyncMusicAPI
from musicapi._download import DEFAULT_MAX_BYTES
from musicapi._errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    FileTooLargeError,
    FileUnavailableError,
    InsufficientCreditsError,
    JournalInUseError,
    MusicAPIError,
    NotFoundError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    SubmissionUnknownError,
    TaskFailedError,
    WaitTimeoutError,
)
from musicapi._journal import Event, Journal
from musicapi._logging import _redactor, logger
from musicapi._models import Clip, TaskState
from musicapi._validation import BOOL_FIELDS, NUMBER_FIELDS
from musicapi._version import __version__
from musicapi.sandbox.__main__ import _parser as _sandbox_parser
from musicapi.sandbox.__main__ import main as _sandbox_main

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from types import TracebackType

    from rich.progress import Progress, TaskID
    from typing_extensions import Self

    from musicapi._batch import Outcome
    from musicapi._download import ClipFile
    from musicapi._models import Credits, GenerationResult

__all__ = ["main"]

PROG = "musicapi"
EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_JOB_FAILED = 3
EXIT_TIMEOUT = 4
EXIT_INTERRUPTED = 130
_SEVERITY = (EXIT_USAGE, EXIT_API_ERROR, EXIT_JOB_FAILED, EXIT_TIMEOUT)
"""When several things went wrong, the status of the first kind in this order wins."""

CREDITS_PER_GENERATION = 15
"""What one Sonic generation costs (two songs), for the live estimate of a batch."""
DEFAULT_TIMEOUT = 900.0
DEFAULT_OUT = "songs"
DEFAULT_BATCH_CONCURRENCY = 16
DEFAULT_SANDBOX_SECONDS = 3.0
SAVES_AT_ONCE = 4
"""Songs of a batch saved at once, while the batch goes on."""
TITLE_WIDTH = 60

NO_KEY = """\
error: no API key. Set MUSICAPI_KEY to the key from your MusicAPI dashboard (API Keys):

    export MUSICAPI_KEY="your_key_here"          # macOS, Linux
    $env:MUSICAPI_KEY = "your_key_here"          # Windows PowerShell

or try the command without a key, against a local sandbox that makes real audio:

    {prog} {command} --sandbox {example}
"""

MAIN_EXAMPLES = """\
examples:
  musicapi generate --sandbox "uplifting synthwave"       no key needed: a local sandbox
  musicapi generate "lofi hip hop for studying" --out songs
  musicapi generate --lyrics night.txt --title "Night Drive" --tags "synthwave, retro"
  musicapi credits
  musicapi batch prompts.txt --concurrency 32               resumable: run it again after Ctrl-C
  musicapi download TASK_ID --out songs --cover

environment:
  MUSICAPI_KEY        your API key (never passed on the command line)
  MUSICAPI_BASE_URL   another API root, e.g. a sandbox served by `musicapi sandbox`
  MUSICAPI_LOG=debug  log every request to stderr, the key redacted

exit status: 0 ok, 1 API or network error, 2 usage error or no key,
3 a job failed, 4 a wait timed out (the job may still finish), 130 interrupted
"""


# -- the command line --------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < 1e9:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text}")
    return value


_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def _size(text: str) -> int | None:
    """Parse a size such as `500K`, `20M`, `1G` or `1048576`; `none` means no cap."""
    cleaned = text.strip().upper().removesuffix("IB").removesuffix("B")
    if cleaned in ("NONE", "UNLIMITED"):
        return None
    number, unit = cleaned.rstrip("KMGT"), cleaned[len(cleaned.rstrip("KMGT")) :]
    try:
        value = float(number) * _UNITS[unit]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"not a size (like 500K, 20M, 1G): {text!r}") from None
    if not 1 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be at least 1 byte: {text!r}")
    return int(value)


def _common_options() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name.

    Their defaults are `SUPPRESS`, so a subcommand's copy does not overwrite a value
    given before the command name; `_option` reads them with the real default.
    """
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("common options")
    group.add_argument(
        "--sandbox",
        action="store_true",
        default=argparse.SUPPRESS,
        help="run against a local in-process sandbox (no key, no cost, real audio)",
    )
    group.add_argument(
        "--sandbox-task-seconds",
        type=_seconds,
        metavar="S",
        default=argparse.SUPPRESS,
        help=f"how long a generation takes on --sandbox (default: {DEFAULT_SANDBOX_SECONDS:g})",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print machine-readable JSON on stdout",
    )
    group.add_argument(
        "--base-url",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="the API root (default: $MUSICAPI_BASE_URL, else the public API)",
    )
    return common


def _add_command(
    commands: Any, name: str, common: argparse.ArgumentParser, summary: str, examples: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        parents=[common],
        help=summary,
        description=summary,
        epilog=f"examples:\n{examples}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def _add_file_options(parser: argparse.ArgumentParser, *, timeout: bool = True) -> None:
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=DEFAULT_OUT,
        help="the folder to save songs in (default: %(default)s)",
    )
    parser.add_argument(
        "--max-size",
        type=_size,
        metavar="SIZE",
        default=DEFAULT_MAX_BYTES,
        help="refuse files larger than this, e.g. 200M; `none` for no cap (default: 1G)",
    )
    if timeout:
        _add_timeout(parser)


def _add_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=_seconds,
        metavar="S",
        default=DEFAULT_TIMEOUT,
        help="seconds to wait for a job (default: %(default)g)",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the whole command line."""
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog=PROG,
        parents=[common],
        description="Generate music with MusicAPI from the command line.",
        epilog=MAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_generate(commands, common)
    _add_credits(commands, common)
    _add_get(commands, common)
    _add_wait(commands, common)
    _add_download(commands, common)
    _add_batch(commands, common)
    _add_sandbox(commands)
    return parser


def _add_generate(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _add_command(
        commands,
        "generate",
        common,
        "Create songs, wait for them and save their audio (two songs per generation).",
        '  musicapi generate --sandbox "uplifting synthwave"\n'
        '  musicapi generate "lofi hip hop for studying" --count 3 --out songs\n'
        '  musicapi generate --lyrics night.txt --title "Night Drive" --tags "synthwave"\n'
        '  musicapi generate --instrumental --title "Focus" --tags "ambient, piano"\n'
        '  musicapi generate --json "jazz trio" > songs.json',
    )
    parser.add_argument("description", nargs="?", help="what the song should be like")
    parser.add_argument(
        "--lyrics", metavar="FILE", help="a file of lyrics (`-` reads stdin): custom mode"
    )
    parser.add_argument("--title", help="the song's title (custom mode)")
    parser.add_argument("--tags", help="style tags, e.g. 'synthwave, retro' (custom mode)")
    parser.add_argument("--instrumental", action="store_true", help="no vocals")
    parser.add_argument("--model", metavar="MV", help="the model version (default: sonic-v5)")
    parser.add_argument(
        "--count",
        type=_positive_int,
        default=1,
        metavar="N",
        help="how many generations to run, two songs each (default: %(default)s)",
    )
    _add_file_options(parser)


def _add_credits(commands: Any, common: argparse.ArgumentParser) -> None:
    _add_command(
        commands,
        "credits",
        common,
        "Show the account's credit balance (a check that the key works).",
        "  musicapi credits\n  musicapi credits --json",
    )


def _add_get(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _add_command(
        commands,
        "get",
        common,
        "Poll a task once and show its state (and its songs once finished).",
        "  musicapi get 0b7f6c1e-...\n  musicapi get 0b7f6c1e-... --json",
    )
    parser.add_argument("task_id", metavar="TASK_ID")


def _add_wait(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _add_command(
        commands,
        "wait",
        common,
        "Wait for a task to finish and show its songs.",
        "  musicapi wait 0b7f6c1e-...\n  musicapi wait 0b7f6c1e-... --timeout 600 --json",
    )
    parser.add_argument("task_id", metavar="TASK_ID")
    _add_timeout(parser)


def _add_download(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _add_command(
        commands,
        "download",
        common,
        "Save a task's songs (waiting for it first if it is still running).",
        "  musicapi download 0b7f6c1e-... --out songs\n"
        "  musicapi download 0b7f6c1e-... --cover --video",
    )
    parser.add_argument("task_id", metavar="TASK_ID")
    parser.add_argument("--cover", action="store_true", help="also save each song's cover image")
    parser.add_argument("--video", action="store_true", help="also save each song's video")
    later = parser.add_argument_group("not available yet")
    for flag, what in (("--stems", "stems"), ("--wav", "a WAV"), ("--midi", "MIDI")):
        later.add_argument(flag, action="store_true", help=f"save {what} (not available yet)")
    _add_file_options(parser)


def _add_batch(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = _add_command(
        commands,
        "batch",
        common,
        "Generate many songs from a file, resumably (a journal sits next to the file).",
        "  musicapi batch prompts.txt                 one description per line (# comments)\n"
        "  musicapi batch songs.csv --concurrency 32  a header row of create fields\n"
        "  musicapi batch songs.jsonl --out album     one JSON object of create fields a line\n"
        "\n"
        "After Ctrl-C or a crash, run the same command again: finished jobs are skipped,\n"
        "running ones are waited for, and no job is ever sent twice. The journal is\n"
        "FILE.journal.jsonl; delete it to start the batch over.",
    )
    parser.add_argument("file", metavar="FILE", help="a .txt, .csv or .jsonl file of requests")
    parser.add_argument(
        "--concurrency",
        type=_positive_int,
        default=DEFAULT_BATCH_CONCURRENCY,
        metavar="N",
        help="the most jobs running at once (default: %(default)s)",
    )
    _add_file_options(parser)


def _add_sandbox(commands: Any) -> None:
    commands.add_parser(
        "sandbox",
        parents=[_sandbox_parser()],
        add_help=False,
        help="Serve a local MusicAPI (the flags of python -m musicapi.sandbox).",
        description="Serve a local MusicAPI on a loopback port until Ctrl-C; "
        "it prints its base URL first.",
        epilog="examples:\n"
        "  musicapi sandbox --port 8000\n"
        "  MUSICAPI_BASE_URL=http://127.0.0.1:8000/api/v1 MUSICAPI_KEY=any "
        'musicapi generate "lofi"',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _option(args: argparse.Namespace, name: str, default: Any) -> Any:
    return getattr(args, name, default)


# -- output ------------------------------------------------------------------------------


def _shown(text: object, limit: int = TITLE_WIDTH) -> str:
    """Return text that is safe to print on a terminal: no control or format characters."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _title(clip: Clip) -> str:
    return _shown(clip.title) if clip.title else "(untitled)"


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "?:??"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"  # pragma: no cover


def _clip_line(clip: Clip) -> str:
    """Return a clip as one line of text: title, duration and where its audio is."""
    return f"  {_title(clip)}  {_minutes(clip.duration)}  {_shown(clip.audio_url, 1000)}"


def _clip_json(clip: Clip) -> dict[str, Any]:
    return {
        "clip_id": clip.clip_id,
        "title": clip.title,
        "tags": clip.tags,
        "duration": clip.duration,
        "state": clip.state,
        "audio_url": clip.audio_url,
        "image_url": clip.image_url,
        "video_url": clip.video_url,
    }


def _json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _print_json(value: object) -> None:
    print(_json_text(value), flush=True)


def _rich_wanted() -> bool:
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


class _Plain:
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


class _Live(_Plain):
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
            detail = f"{_bytes(completed)}" + (f" / {_bytes(total)}" if total else "")
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


class _NoteHandler(logging.Handler):
    """Shows the SDK's warnings (an orphaned task id, for one) as notes of the display.

    Through the display, so that a live progress area is not torn by them.
    """

    def __init__(self, display: _Plain) -> None:
        super().__init__(logging.WARNING)
        self.display = display
        self.addFilter(_redactor)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.display.note(f"warning: {self.format(record)}")
        except Exception:  # pragma: no cover - logging must never break the command
            self.handleError(record)


def _show_sdk_warnings(display: _Plain) -> None:
    """Print the SDK's warnings unless `MUSICAPI_LOG` already routes its log somewhere."""
    if os.environ.get("MUSICAPI_LOG"):
        return
    for handler in logger.handlers:
        if isinstance(handler, _NoteHandler):
            handler.display = display
            return
    logger.addHandler(_NoteHandler(display))
    if logger.level == logging.NOTSET or logger.level > logging.WARNING:
        logger.setLevel(logging.WARNING)


# -- errors ------------------------------------------------------------------------------


def _exit_code(error: BaseException) -> int:
    """Return the exit status for an error."""
    if isinstance(error, FileUnavailableError):
        return EXIT_API_ERROR  # a missing file URL is the result's fault, not the user's
    if isinstance(error, (RequestValidationError, ConfigurationError)):
        return EXIT_USAGE
    if isinstance(error, TaskFailedError):
        return EXIT_JOB_FAILED
    if isinstance(error, WaitTimeoutError):
        return EXIT_TIMEOUT
    return EXIT_API_ERROR


def _worst(codes: list[int]) -> int:
    """Return the status that describes several outcomes: the most severe one."""
    return next((code for code in _SEVERITY if code in codes), EXIT_OK)


def _hint(error: BaseException, sandbox: bool) -> str | None:
    """Return what the user can do about an error, if there is something to say."""
    if isinstance(error, AuthenticationError):
        return "the API key was refused: check MUSICAPI_KEY"
    if isinstance(error, InsufficientCreditsError):
        return "top up or upgrade in the MusicAPI dashboard; `musicapi credits` shows the balance"
    if isinstance(error, WaitTimeoutError):
        return f"the task may still finish: musicapi wait {error.task_id}"
    if isinstance(error, FileUnavailableError):
        return "links expire: `musicapi download TASK_ID` fetches fresh ones"
    if isinstance(error, FileTooLargeError):
        return "raise the cap with --max-size (e.g. --max-size 4G, or none)"
    if isinstance(error, NotFoundError) and sandbox:
        return (
            "an in-process --sandbox starts empty on every run: serve one with "
            "`musicapi sandbox --port 8000` and set "
            "MUSICAPI_BASE_URL=http://127.0.0.1:8000/api/v1 instead"
        )
    if isinstance(error, SubmissionUnknownError):
        return "the job may or may not exist (and be charged): check `musicapi credits` first"
    if isinstance(error, JournalInUseError):
        return "another `musicapi batch` runs on this file; let it finish"
    if isinstance(error, (RateLimitError, ServerError)):
        return "the SDK already retried; try again later"
    if isinstance(error, APIConnectionError):
        return "a network problem: try again (a saved song is never saved twice)"
    return None


def _error_json(error: BaseException, sandbox: bool) -> dict[str, Any]:
    return {
        "type": type(error).__name__,
        "message": str(error),
        "status_code": getattr(error, "status_code", None),
        "task_id": getattr(error, "task_id", None),
        "exit_code": _exit_code(error),
        "hint": _hint(error, sandbox),
    }


def _error_text(error: BaseException, sandbox: bool) -> str:
    status = getattr(error, "status_code", None)
    message = _shown(error, 2000)
    name = type(error).__name__
    if status and f"HTTP {status}" not in message:
        name += f" (HTTP {status})"
    hint = _hint(error, sandbox)
    text = f"error: {name}: {message}"
    return f"{text}\nhint: {hint}" if hint else text


# -- state shared with the Ctrl-C handler ------------------------------------------------


@attrs.define
class _Session:
    """What a command has done so far, kept outside the event loop for Ctrl-C's report."""

    argv: list[str]
    sandbox: bool
    out: str = DEFAULT_OUT
    submitted: list[str] = attrs.Factory(list[str])
    journal: Path | None = None
    total: int = 0

    def resume_command(self) -> str:
        """Return the command exactly as it was run: running it again resumes a batch."""
        return shlex.join([PROG, *self.argv])

    def interrupted(self, as_json: bool) -> int:
        """Report an interruption on stderr (and stdout with --json); return 130."""
        lines, info = self._report()
        print("\n".join(lines), file=sys.stderr, flush=True)
        if as_json:
            _print_json({"interrupted": True, **info})
        return EXIT_INTERRUPTED

    def _report(self) -> tuple[list[str], dict[str, Any]]:
        if self.journal is not None:
            return self._batch_report(self.journal)
        if not self.submitted:
            return ["interrupted: nothing was submitted, nothing was charged"], {"task_ids": []}
        lines = [
            (
                f"interrupted: {len(self.submitted)} task(s) were submitted and go on "
                "upstream; save their songs later with:"
            )
        ]
        lines += [
            f"  {PROG} download {task_id} --out {shlex.quote(self.out)}"
            for task_id in self.submitted
        ]
        if self.sandbox:
            lines.append("(on --sandbox they lived in this process and are gone with it)")
        return lines, {"task_ids": self.submitted}

    def _batch_report(self, journal: Path) -> tuple[list[str], dict[str, Any]]:
        try:
            with Journal(journal) as opened:
                records = list(opened.records.values())
        except (OSError, MusicAPIError):
            records = None
        resume = self.resume_command()
        info: dict[str, Any] = {"journal": str(journal), "resume": resume}
        if records is None:
            head = f"interrupted: every task id sent is in {journal}"
        else:
            sent = sum(1 for record in records if record.task_id is not None)
            finished = sum(1 for record in records if record.event in Event.FINAL)
            info.update(sent=sent, finished=finished, total=self.total)
            head = (
                f"interrupted: {sent} of {self.total} jobs were sent ({finished} finished, "
                f"{sent - finished} still running upstream); every task id is in {journal}"
            )
        if self.sandbox:
            return [head, "(on --sandbox the jobs lived in this process and are gone)"], info
        return [
            head,
            "resume (finished jobs are skipped, running ones waited for, none sent twice):",
            f"  {resume}",
        ], info


# -- the commands ------------------------------------------------------------------------


@attrs.define
class _Song:
    """One saved song, or one that could not be saved."""

    task_id: str
    clip: Clip
    files: dict[str, str] = attrs.Factory(dict[str, str])
    error: BaseException | None = None

    def as_json(self, sandbox: bool) -> dict[str, Any]:
        """Return the song as JSON: the clip's fields, the files saved, the error if any."""
        return {
            "task_id": self.task_id,
            **_clip_json(self.clip),
            "path": self.files.get("audio"),
            "files": self.files,
            "error": None if self.error is None else _error_json(self.error, sandbox),
        }

    def line(self) -> str:
        """Return the song as one line: title, duration and where each file went."""
        where = "  ".join(self.files.values()) or "(not saved)"
        return f"{_title(self.clip)}  {_minutes(self.clip.duration)}  {where}"


@attrs.define
class _BatchStats:
    """The counts a batch shows while it runs."""

    total: int
    started: float = attrs.Factory(time.monotonic)
    taken: int = 0
    done: int = 0
    failed: int = 0
    resumed: int = 0
    succeeded_now: int = 0

    def record(self, outcome: Outcome[Any]) -> None:
        """Count one finished job."""
        self.done += 1
        self.failed += not outcome.ok
        self.resumed += outcome.from_journal
        self.succeeded_now += outcome.ok and not outcome.from_journal

    def detail(self, *, times: bool) -> str:
        """Say where the batch stands; with `times`, also its elapsed time and ETA.

        The rate counts only jobs finished in this run (not those the journal already
        had); credits are estimated at `CREDITS_PER_GENERATION` per job that succeeded
        in this run (the summary measures them from the balance).
        """
        running = max(0, self.taken - self.done)
        elapsed = time.monotonic() - self.started
        fresh = self.done - self.resumed
        rate = fresh / elapsed * 60 if elapsed > 0 else 0.0
        credits = CREDITS_PER_GENERATION * self.succeeded_now
        text = (
            f"{self.done}/{self.total} done, {self.failed} failed, {running} running, "
            f"{rate:.1f}/min, ~{credits} credits"
        )
        if not times:
            return text
        eta = (self.total - self.done) / (rate / 60) if rate > 0 else None
        eta_text = _minutes(eta) if eta is not None else "?:??"
        return f"{text}, {_minutes(elapsed)} elapsed, ETA {eta_text}"


class _Command:
    """One run of one command: its arguments, client, display and results."""

    def __init__(self, args: argparse.Namespace, session: _Session, client: AsyncMusicAPI) -> None:
        self.args = args
        self.session = session
        self.client = client
        self.json: bool = _option(args, "json", False)
        self.plain = not _rich_wanted()
        """Progress as plain lines; else drawn live (with its own elapsed and ETA columns)."""
        self.display: _Plain = _Plain() if self.plain else _Live()
        self.codes: list[int] = []
        _show_sdk_warnings(self.display)

    # -- shared steps --------------------------------------------------------------------

    def fail(self, error: BaseException) -> None:
        """Record an error and tell the user about it (on stderr)."""
        self.codes.append(_exit_code(error))
        self.display.note(_error_text(error, self.session.sandbox))

    async def balance(self) -> Credits | None:
        """Read the balance, for the credits-used summary; `None` if it cannot be read."""
        try:
            return await self.client.get_credits()
        except MusicAPIError:
            return None

    async def wait(self, task_id: str) -> GenerationResult:
        """Wait for a task with a progress row."""
        key = f"wait:{task_id}"
        self.display.start(key, f"task {task_id}: generating")
        try:
            result = await self.client.sonic.wait(task_id, timeout=self.args.timeout)
        except MusicAPIError as exc:
            self.display.finish(key, f"task {task_id}: {type(exc).__name__}")
            raise
        self.display.finish(key, f"task {task_id}: done, {len(result.clips)} songs")
        return result

    async def save(self, task_id: str, clip: Clip, kinds: tuple[ClipFile, ...]) -> _Song:
        """Save a clip's files with a progress row each; report failures in the song."""
        song = _Song(task_id, clip)
        for kind in kinds:
            key = f"save:{clip.clip_id}:{kind}"
            self.display.start(key, f"saving {_title(clip)} ({kind})", quiet=True)
            try:
                path = await self._download(clip, kind, key)
            except (MusicAPIError, OSError) as exc:
                self.display.finish(key, remove=True)
                song.error = exc
                self.fail(exc)
                break
            self.display.finish(key, remove=True)
            song.files[kind] = str(path)
        return song

    async def _download(self, clip: Clip, kind: ClipFile, key: str) -> Path:
        """Download one file through the client (the sandbox's pool with --sandbox)."""

        def progress(done: int, total: int | None) -> None:
            self.display.update(key, done, total)

        return await self.client.download(
            clip, self.args.out, what=kind, max_bytes=self.args.max_size, progress=progress
        )

    def credits_summary(self, before: Credits | None, after: Credits | None) -> dict[str, Any]:
        """Measure the credits used from the balance before and after (both pools).

        Measured rather than counted, so refunds of failed jobs and other task types'
        prices are right; spending by other programs on the account at the same time
        would count too.
        """
        if before is None or after is None:
            return {"credits_used": None}
        return {
            "credits_used": before.total - after.total,
            "balance_before": before.total,
            "balance_after": after.total,
        }

    @staticmethod
    def credits_text(summary: dict[str, Any]) -> str:
        """Return the credits summary as text."""
        if summary["credits_used"] is None:
            return "credits used: unknown (the balance could not be read)"
        return (
            f"credits used: {summary['credits_used']:g} "
            f"(balance {summary['balance_before']:g} -> {summary['balance_after']:g})"
        )

    # -- credits, get, wait --------------------------------------------------------------

    async def credits(self) -> int:
        """`musicapi credits`: both pools and their total."""
        balance = await self.client.get_credits()
        if self.json:
            _print_json(
                {
                    "credits": balance.credits,
                    "extra_credits": balance.extra_credits,
                    "total": balance.total,
                }
            )
        else:
            print(f"credits:       {balance.credits:g}")
            print(f"extra credits: {balance.extra_credits:g}")
            print(f"total:         {balance.total:g}")
        return EXIT_OK

    async def get(self) -> int:
        """`musicapi get`: one poll; a failed task exits 3, like every failed job."""
        task = await self.client.sonic.get(self.args.task_id)
        if self.json:
            _print_json(
                {
                    "task_id": task.task_id,
                    "state": task.state,
                    "reason": task.reason,
                    "clips": [_clip_json(clip) for clip in task.clips],
                }
            )
        else:
            reason = f" ({_shown(task.reason, 200)})" if task.reason else ""
            print(f"task {task.task_id}: {task.state}{reason}")
            for clip in task.clips:
                print(_clip_line(clip))
        return EXIT_JOB_FAILED if task.state == TaskState.FAILED else EXIT_OK

    async def wait_command(self) -> int:
        """`musicapi wait`: poll until done, drawing progress; print the songs' URLs."""
        with self.display:
            result = await self.wait(self.args.task_id)
        if self.json:
            _print_json(
                {
                    "task_id": result.task_id,
                    "state": TaskState.SUCCEEDED,
                    "clips": [_clip_json(clip) for clip in result.clips],
                }
            )
        else:
            print(f"task {result.task_id}: succeeded")
            for clip in result.clips:
                print(_clip_line(clip))
        return EXIT_OK

    # -- download ------------------------------------------------------------------------

    async def download(self) -> int:
        """`musicapi download`: save a task's songs, waiting for it first if it runs.

        Also the way to resume after Ctrl-C, and to get fresh links: it always polls.
        """
        wanted: dict[ClipFile, bool] = {
            "audio": True,
            "image": self.args.cover,
            "video": self.args.video,
        }
        kinds: tuple[ClipFile, ...] = tuple(kind for kind, chosen in wanted.items() if chosen)
        task_id = self.args.task_id
        with self.display:
            task = await self.client.sonic.get(task_id)
            if task.state == TaskState.FAILED:
                raise TaskFailedError(task_id, task.reason or "failed", body=dict(task.raw))
            clips = task.clips if task.is_done else (await self.wait(task_id)).clips
            songs = [await self.save(task_id, clip, kinds) for clip in clips]
        self.report_songs(songs, {"task_ids": [task_id]})
        return _worst(self.codes)

    def report_songs(self, songs: list[_Song], extra: dict[str, Any]) -> None:
        """Print the songs: one line each, or one JSON document."""
        if self.json:
            sandbox = self.session.sandbox
            _print_json({**extra, "songs": [song.as_json(sandbox) for song in songs]})
            return
        for song in songs:
            print(song.line(), flush=True)

    # -- generate ------------------------------------------------------------------------

    async def generate(self, fields: dict[str, Any]) -> int:
        """`musicapi generate`: create, wait with progress, save, and sum up.

        Creates are sent one by one and each task id is kept as soon as it is known
        (Ctrl-C prints them); then every task is waited for at once, and a task that
        fails does not stop the others.
        """
        before = await self.balance()
        songs: list[_Song] = []
        with self.display:
            await self._submit(fields)
            async with anyio.create_task_group() as group:
                for task_id in self.session.submitted:
                    group.start_soon(self._finish_task, task_id, songs)
        after = await self.balance()
        credits = self.credits_summary(before, after)
        saved = sum(1 for song in songs if song.files)
        if self.json:
            _print_json(
                {
                    "task_ids": self.session.submitted,
                    "songs": [song.as_json(self.session.sandbox) for song in songs],
                    "saved": saved,
                    "out": self.args.out,
                    **credits,
                }
            )
        else:
            print(f"{saved} songs saved in {self.args.out}; {self.credits_text(credits)}")
        return _worst(self.codes)

    async def _submit(self, fields: dict[str, Any]) -> None:
        """Create the generations one after another, remembering each task id at once."""
        for _ in range(self.args.count):
            try:
                submission = await self.client.sonic.create(**fields)
            except MusicAPIError as exc:
                if not self.session.submitted:
                    raise
                self.fail(exc)
                return
            self.session.submitted.append(submission.task_id)
            self.display.note(f"submitted task {submission.task_id}")

    async def _finish_task(self, task_id: str, songs: list[_Song]) -> None:
        """Wait for one task and save its songs, printing each as it is saved."""
        try:
            result = await self.wait(task_id)
        except MusicAPIError as exc:
            self.fail(exc)
            return
        for clip in result.clips:
            song = await self.save(task_id, clip, ("audio",))
            songs.append(song)
            if not self.json and song.files:
                self.display.result(song.line())

    # -- batch ---------------------------------------------------------------------------

    async def batch(self, requests: list[dict[str, Any]], journal: Path) -> int:
        """`musicapi batch`: `generate_many` with a journal, songs saved as jobs finish."""
        stats = _BatchStats(total=len(requests))
        before = await self.balance()
        name = Path(self.args.file).name
        with self.display:
            self.display.start("batch", f"batch {name}", total=stats.total)
            self.display.status("batch", 0, stats.total, stats.detail(times=self.plain))
            await self._run_batch(requests, journal, stats)
            self.display.finish("batch", f"batch {name}: finished")
        credits = self.credits_summary(before, await self.balance())
        summary = {
            "jobs": stats.total,
            "succeeded": stats.done - stats.failed,
            "failed": stats.failed,
            "from_journal": stats.resumed,
            "journal": str(journal),
            "out": self.args.out,
            **credits,
        }
        if self.json:
            _print_json({"type": "summary", **summary})
        else:
            print(
                f"batch: {stats.total} jobs, {summary['succeeded']} succeeded, "
                f"{stats.failed} failed; songs in {self.args.out}; {self.credits_text(credits)}"
            )
        return _worst(self.codes)

    async def _run_batch(
        self, requests: list[dict[str, Any]], journal: Path, stats: _BatchStats
    ) -> None:
        """Run the batch; save each job's songs while the others go on.

        Raises:
            MusicAPIError: The batch as a whole could not run (its journal is in use,
                the client closed), after the songs already being saved are saved.
        """
        limiter = anyio.CapacityLimiter(SAVES_AT_ONCE)
        failure: MusicAPIError | None = None
        async with anyio.create_task_group() as saves:
            run = self.client.sonic.generate_many(
                _counting(requests, stats),
                concurrency=self.args.concurrency,
                timeout=self.args.timeout,
                journal=journal,
            )
            try:
                async with run:
                    async for outcome in run:
                        stats.record(outcome)
                        detail = stats.detail(times=self.plain)
                        self.display.status("batch", stats.done, stats.total, detail)
                        saves.start_soon(self._save_outcome, outcome, limiter)
            except MusicAPIError as exc:  # raised below: a task group would wrap it
                failure = exc
        if failure is not None:
            raise failure

    async def _save_outcome(
        self, outcome: Outcome[GenerationResult], limiter: anyio.CapacityLimiter
    ) -> None:
        """Save one job's songs (a few jobs at a time) and report the job.

        Any failed job, whatever its reason, makes the batch exit 3; the reason is in
        its line (and in its JSON outcome).
        """
        songs: list[_Song] = []
        if outcome.error is not None:
            self.codes.append(EXIT_JOB_FAILED)
            task = f"task {outcome.task_id}" if outcome.task_id else "never submitted"
            self.display.note(
                f"job {outcome.index + 1} ({task}) failed: "
                f"{type(outcome.error).__name__}: {_shown(outcome.error, 300)}"
            )
        elif outcome.result is not None:
            async with limiter:
                task_id = outcome.task_id or ""
                songs = [
                    await self.save(task_id, clip, ("audio",)) for clip in outcome.result.clips
                ]
        if self.json:
            sandbox = self.session.sandbox
            error = None if outcome.error is None else _error_json(outcome.error, sandbox)
            self.display.result(
                _json_text(
                    {
                        "type": "outcome",
                        "index": outcome.index,
                        "task_id": outcome.task_id,
                        "ok": outcome.ok,
                        "from_journal": outcome.from_journal,
                        "error": error,
                        "songs": [song.as_json(sandbox) for song in songs],
                    }
                )
            )
        else:
            for song in songs:
                if song.files:
                    self.display.result(song.line())


def _counting(requests: list[dict[str, Any]], stats: _BatchStats) -> Iterator[dict[str, Any]]:
    """Yield the requests, counting how many the batch has taken (to show what runs)."""
    for request in requests:
        stats.taken += 1
        yield request


# -- reading inputs ----------------------------------------------------------------------


class _UsageError(Exception):
    """A problem with the command line, its input files or the setup (exit status 2)."""

    def __init__(self, message: str, *, bare: bool = False) -> None:
        super().__init__(message)
        self.bare = bare

    def text(self, command: str) -> str:
        """Return the message as printed, argparse-style unless it stands alone."""
        return str(self) if self.bare else f"{PROG} {command}: error: {self}"


def _read_text(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _UsageError(f"cannot read {name}: {exc}") from None


def _generate_fields(args: argparse.Namespace) -> dict[str, Any]:
    """Return the create fields of `generate`; the SDK checks them before sending."""
    fields: dict[str, Any] = {}
    if args.description:
        fields["gpt_description_prompt"] = args.description
    if args.lyrics is not None:
        fields["prompt"] = _read_text(args.lyrics)
    if args.title:
        fields["title"] = args.title
    if args.tags:
        fields["tags"] = args.tags
    if args.instrumental:
        fields["make_instrumental"] = True
    if args.model:
        fields["mv"] = args.model
    custom = {"prompt", "title", "tags"} & fields.keys()
    if custom and "gpt_description_prompt" in fields:
        raise _UsageError(
            "a DESCRIPTION lets the API write the lyrics, title and tags; with --lyrics, "
            "--title or --tags (custom mode) give no DESCRIPTION and put the style in --tags"
        )
    if not custom and "gpt_description_prompt" not in fields:
        raise _UsageError(
            'give a DESCRIPTION (musicapi generate "lofi hip hop"), or --lyrics FILE '
            "with --title and --tags"
        )
    return fields


def _read_requests(name: str) -> list[dict[str, Any]]:
    """Read a batch file: text (one description a line), CSV or JSON lines of create fields."""
    text = _read_text(name)
    suffix = Path(name).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        requests = _json_lines(name, text)
    elif suffix == ".csv":
        requests = _csv_rows(name, text)
    else:
        requests = [
            {"gpt_description_prompt": line.strip()}
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
    if not requests:
        raise _UsageError(f"{name} holds no requests")
    return requests


def _json_lines(name: str, text: str) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise _UsageError(f"{name}:{number}: not JSON ({exc})") from None
        if not isinstance(value, dict):
            raise _UsageError(f"{name}:{number}: each line must be a JSON object of create fields")
        requests.append(cast("dict[str, Any]", value))
    return requests


def _csv_rows(name: str, text: str) -> list[dict[str, Any]]:
    rows = csv.DictReader(text.splitlines())
    if not rows.fieldnames:
        raise _UsageError(f"{name}: the first row must name the create fields")
    requests: list[dict[str, Any]] = []
    for number, row in enumerate(rows, 2):
        try:
            request = {
                key.strip(): _csv_value(key.strip(), value)
                for key, value in row.items()
                if key and value not in (None, "")
            }
        except ValueError as exc:
            raise _UsageError(f"{name}:{number}: {exc}") from None
        if request:
            requests.append(request)
    return requests


def _csv_value(field: str, value: Any) -> Any:
    """Turn a CSV cell into the field's JSON type (CSV only has text)."""
    if not isinstance(value, str):  # extra cells beyond the header: keep them visible
        raise ValueError(f"more cells than named fields ({value!r})")
    if field in BOOL_FIELDS:
        lowered = value.strip().lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"{field} must be true or false, not {value!r}")
        return lowered in ("true", "1", "yes")
    if field in NUMBER_FIELDS:
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{field} must be a number, not {value!r}") from None
    return value


# -- running -----------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> AsyncMusicAPI:
    """Return the client: an in-process sandbox's with `--sandbox`, else the real API's."""
    if _option(args, "sandbox", False):
        from musicapi.sandbox import Sandbox

        sandbox = Sandbox(
            task_seconds=_option(args, "sandbox_task_seconds", DEFAULT_SANDBOX_SECONDS)
        )
        return AsyncMusicAPI(
            api_key="sandbox", base_url=sandbox.base_url, transport=sandbox.transport()
        )
    return AsyncMusicAPI(base_url=_option(args, "base_url", None))


async def _run(args: argparse.Namespace, session: _Session, inputs: dict[str, Any]) -> int:
    """Run one command on one client; API errors become a message and an exit status."""
    as_json = _option(args, "json", False)
    try:
        async with _client(args) as client:
            command = _Command(args, session, client)
            return await _dispatch(command, args.command, inputs)
    except MusicAPIError as exc:
        if as_json:
            _print_json({"error": _error_json(exc, session.sandbox)})
        else:
            print(_error_text(exc, session.sandbox), file=sys.stderr, flush=True)
        return _exit_code(exc)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return EXIT_API_ERROR


async def _dispatch(command: _Command, name: str, inputs: dict[str, Any]) -> int:
    if name == "credits":
        return await command.credits()
    if name == "get":
        return await command.get()
    if name == "wait":
        return await command.wait_command()
    if name == "download":
        return await command.download()
    if name == "generate":
        return await command.generate(inputs["fields"])
    return await command.batch(inputs["requests"], inputs["journal"])


def _inputs(args: argparse.Namespace, session: _Session) -> dict[str, Any]:
    """Read and check what a command needs before any request is sent.

    Raises:
        _UsageError: Something in the arguments or input files is wrong.
    """
    if args.command == "download":
        wanted = [flag for flag in ("stems", "wav", "midi") if getattr(args, flag)]
        if wanted:
            raise _UsageError(
                f"--{wanted[0]} is not available yet: this version of the SDK cannot "
                "request stems, WAV or MIDI; download the audio without it"
            )
    if args.command == "generate":
        return {"fields": _generate_fields(args)}
    if args.command == "batch":
        journal = Path(f"{args.file}.journal.jsonl")
        session.journal, requests = journal, _read_requests(args.file)
        session.total = len(requests)
        return {"requests": requests, "journal": journal}
    return {}


def _check_folder(out: str) -> None:
    """Create the output folder now: finding it unusable after paying for songs is too late."""
    try:
        Path(out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _UsageError(f"cannot use --out {out}: {exc.strerror or exc}") from None


def _prepare(args: argparse.Namespace, session: _Session) -> dict[str, Any]:
    """Check everything that can be checked before a request: inputs, key, output folder.

    Raises:
        _UsageError: Something is missing or wrong; nothing was sent.
    """
    inputs = _inputs(args, session)
    if _missing_key(args):
        raise _UsageError(_no_key_message(args), bare=True)
    if args.command in ("generate", "download", "batch"):
        _check_folder(args.out)
    return inputs


def _missing_key(args: argparse.Namespace) -> bool:
    return not _option(args, "sandbox", False) and not os.environ.get("MUSICAPI_KEY")


def _no_key_message(args: argparse.Namespace) -> str:
    example = {
        "generate": '"uplifting synthwave"',
        "batch": shlex.quote(getattr(args, "file", "prompts.txt")),
    }.get(args.command, "")
    command = args.command if args.command in ("generate", "batch", "credits") else "generate"
    if command == "generate" and not example:
        example = '"uplifting synthwave"'
    return NO_KEY.format(prog=PROG, command=command, example=example).rstrip()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `musicapi` command line; return the exit status.

    Args:
        argv: The arguments after the program name; `sys.argv[1:]` if `None`.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(arguments)
    if args.command == "sandbox":
        return _sandbox_main(arguments[arguments.index("sandbox") + 1 :])
    as_json: bool = _option(args, "json", False)
    session = _Session(
        argv=arguments,
        sandbox=_option(args, "sandbox", False),
        out=getattr(args, "out", DEFAULT_OUT),
    )
    try:
        inputs = _prepare(args, session)
    except _UsageError as exc:
        print(exc.text(args.command), file=sys.stderr)
        return EXIT_USAGE
    try:
        return anyio.run(_run, args, session, inputs)
    except KeyboardInterrupt:
        return session.interrupted(as_json)
