"""The argparse declarations of the `musicapi` command: every command, option and default.

Only declarations live here (and the small argument types they use), so `--help` can be
read in one place and checked without running anything. argparse is the only parser,
so the command works with the core dependencies alone.
"""

from __future__ import annotations

import argparse
from typing import Any

from musicapi._download import DEFAULT_MAX_BYTES
from musicapi._version import __version__
from musicapi.sandbox.__main__ import _parser as _sandbox_parser

__all__ = [
    "DEFAULT_BATCH_CONCURRENCY",
    "DEFAULT_OUT",
    "DEFAULT_SANDBOX_SECONDS",
    "DEFAULT_TIMEOUT",
    "PROG",
    "STEM_SPLITS",
    "build_parser",
    "option",
]

PROG = "musicapi"
DEFAULT_TIMEOUT = 900.0
DEFAULT_OUT = "songs"
DEFAULT_BATCH_CONCURRENCY = 16
DEFAULT_SANDBOX_SECONDS = 3.0
STEM_SPLITS = ("basic", "full")
"""`--stems basic` (vocals, instrumental: 15 credits a song) or `full` (vocals, drums,
bass, other: 75 credits a song)."""

MAIN_EXAMPLES = """\
examples:
  musicapi generate --sandbox "uplifting synthwave"       no key needed: a local sandbox
  musicapi generate "lofi hip hop for studying" --out songs
  musicapi generate --lyrics night.txt --title "Night Drive" --tags "synthwave, retro"
  musicapi credits
  musicapi batch prompts.txt --concurrency 32               resumable: run it again after Ctrl-C
  musicapi download TASK_ID --out songs --cover
  musicapi download TASK_ID --stems --wav --midi            paid: split, export, transcribe

environment:
  MUSICAPI_KEY        your API key (never passed on the command line)
  MUSICAPI_BASE_URL   another API root, e.g. a sandbox served by `musicapi sandbox`
  MUSICAPI_LOG=debug  log every request to stderr, the key redacted

exit status: 0 ok, 1 API or network error, 2 usage error or no key,
3 a job failed, 4 a wait timed out (the job may still finish), 130 interrupted
"""


# -- argument types ----------------------------------------------------------------------


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


def option(args: argparse.Namespace, name: str, default: Any) -> Any:
    """Return a common option's value, or `default` when it was not given.

    The common options default to `SUPPRESS` (see `_common_options`), so they may be
    missing from the namespace.
    """
    return getattr(args, name, default)


# -- the parser --------------------------------------------------------------------------


def _common_options() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name.

    Their defaults are `SUPPRESS`, so a subcommand's copy does not overwrite a value
    given before the command name; `option` reads them with the real default.
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
        "Save a task's songs (waiting for it first if it is still running), and on request "
        "their cover, video, stems, WAV export and MIDI transcription.",
        "  musicapi download 0b7f6c1e-... --out songs\n"
        "  musicapi download 0b7f6c1e-... --cover --video\n"
        "  musicapi download 0b7f6c1e-... --stems              vocals + instrumental\n"
        "  musicapi download 0b7f6c1e-... --stems full         vocals, drums, bass, other\n"
        "  musicapi download 0b7f6c1e-... --wav --midi --json\n"
        "\n"
        "--stems, --wav and --midi ask the API to make the files, per song: stems cost\n"
        "15 credits (basic) or 75 (full), a WAV 2. The song's audio is always saved too.",
    )
    parser.add_argument("task_id", metavar="TASK_ID")
    parser.add_argument("--cover", action="store_true", help="also save each song's cover image")
    parser.add_argument("--video", action="store_true", help="also save each song's video")
    parser.add_argument(
        "--stems",
        nargs="?",
        const="basic",
        choices=STEM_SPLITS,
        metavar="basic|full",
        help="also split each song and save its stems: basic (the default: vocals and "
        "instrumental) or full (vocals, drums, bass, other); files end in -vocals, ... "
        "(give TASK_ID before a bare --stems)",
    )
    parser.add_argument(
        "--wav", action="store_true", help="also save each song's lossless WAV export"
    )
    parser.add_argument(
        "--midi", action="store_true", help="also save each song transcribed to MIDI (.mid)"
    )
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
