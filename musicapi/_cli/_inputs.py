"""What a command reads before it sends anything: lyrics and prompt files, and its setup.

Everything that can be checked without the API is checked here first (the arguments,
the input files, the key, the output folder), so a mistake costs nothing: finding the
output folder unusable after paying for songs would be too late.

A batch file is one of: text (one description a line, `#` comments), CSV (a header
row of create fields) or JSON lines (one object of create fields a line). CSV cells
are text, so the fields the API types as booleans or numbers are converted here.
"""

from __future__ import annotations

import csv
import json
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from musicapi._cli._exits import UsageError
from musicapi._cli._parser import PROG, option
from musicapi._validation import BOOL_FIELDS, NUMBER_FIELDS

if TYPE_CHECKING:
    import argparse

    from musicapi._cli._session import Session

__all__ = ["generate_fields", "prepare", "read_requests", "read_text"]

_NO_KEY = """\
error: no API key. Set MUSICAPI_KEY to the key from your MusicAPI dashboard (API Keys):

    export MUSICAPI_KEY="your_key_here"          # macOS, Linux
    $env:MUSICAPI_KEY = "your_key_here"          # Windows PowerShell

or try the command without a key, against a local sandbox that makes real audio:

    {prog} {command} --sandbox {example}
"""


def read_text(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    try:
        return Path(name).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {name}: {exc}") from None


def generate_fields(args: argparse.Namespace) -> dict[str, Any]:
    """Return the create fields of `generate`; the SDK checks them before sending."""
    fields: dict[str, Any] = {}
    if args.description:
        fields["gpt_description_prompt"] = args.description
    if args.lyrics is not None:
        fields["prompt"] = read_text(args.lyrics)
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
        raise UsageError(
            "a DESCRIPTION lets the API write the lyrics, title and tags; with --lyrics, "
            "--title or --tags (custom mode) give no DESCRIPTION and put the style in --tags"
        )
    if not custom and "gpt_description_prompt" not in fields:
        raise UsageError(
            'give a DESCRIPTION (musicapi generate "lofi hip hop"), or --lyrics FILE '
            "with --title and --tags"
        )
    return fields


def read_requests(name: str) -> list[dict[str, Any]]:
    """Read a batch file: text (one description a line), CSV or JSON lines of create fields."""
    text = read_text(name)
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
        raise UsageError(f"{name} holds no requests")
    return requests


def _json_lines(name: str, text: str) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise UsageError(f"{name}:{number}: not JSON ({exc})") from None
        if not isinstance(value, dict):
            raise UsageError(f"{name}:{number}: each line must be a JSON object of create fields")
        requests.append(cast("dict[str, Any]", value))
    return requests


def _csv_rows(name: str, text: str) -> list[dict[str, Any]]:
    rows = csv.DictReader(text.splitlines())
    if not rows.fieldnames:
        raise UsageError(f"{name}: the first row must name the create fields")
    requests: list[dict[str, Any]] = []
    for number, row in enumerate(rows, 2):
        try:
            request = {
                key.strip(): _csv_value(key.strip(), value)
                for key, value in row.items()
                if key and value not in (None, "")
            }
        except ValueError as exc:
            raise UsageError(f"{name}:{number}: {exc}") from None
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


def _inputs(args: argparse.Namespace, session: Session) -> dict[str, Any]:
    """Read and check what a command needs before any request is sent.

    Raises:
        UsageError: Something in the arguments or input files is wrong.
    """
    if args.command == "generate":
        return {"fields": generate_fields(args)}
    if args.command == "batch":
        journal = Path(f"{args.file}.journal.jsonl")
        session.journal, requests = journal, read_requests(args.file)
        session.total = len(requests)
        return {"requests": requests, "journal": journal}
    return {}


def _check_folder(out: str) -> None:
    """Create the output folder now: finding it unusable after paying for songs is too late."""
    try:
        Path(out).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot use --out {out}: {exc.strerror or exc}") from None


def prepare(args: argparse.Namespace, session: Session) -> dict[str, Any]:
    """Check everything that can be checked before a request: inputs, key, output folder.

    Raises:
        UsageError: Something is missing or wrong; nothing was sent.
    """
    inputs = _inputs(args, session)
    if _missing_key(args):
        raise UsageError(_no_key_message(args), bare=True)
    if args.command in ("generate", "download", "batch"):
        _check_folder(args.out)
    return inputs


def _missing_key(args: argparse.Namespace) -> bool:
    return not option(args, "sandbox", False) and not os.environ.get("MUSICAPI_KEY")


def _no_key_message(args: argparse.Namespace) -> str:
    example = {
        "generate": '"uplifting synthwave"',
        "batch": shlex.quote(getattr(args, "file", "prompts.txt")),
    }.get(args.command, "")
    command = args.command if args.command in ("generate", "batch", "credits") else "generate"
    if command == "generate" and not example:
        example = '"uplifting synthwave"'
    return _NO_KEY.format(prog=PROG, command=command, example=example).rstrip()
