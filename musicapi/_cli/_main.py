"""Running one command: parse, check, open a client, dispatch, and turn errors into statuses.

`main` does the work that happens before and after the event loop: parsing, the checks
that need no request (`prepare`), and the Ctrl-C report once the loop is gone. One
`anyio.run` then runs the command on one `AsyncMusicAPI`, an in-process sandbox's with
`--sandbox`; an API error a command does not handle itself is printed here (text, or
JSON with `--json`) and becomes the exit status.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import anyio

from musicapi._cli import _batch, _commands, _downloads
from musicapi._cli._command import Command
from musicapi._cli._exits import (
    EXIT_API_ERROR,
    EXIT_USAGE,
    UsageError,
    error_json,
    error_text,
    exit_code,
)
from musicapi._cli._inputs import prepare
from musicapi._cli._parser import DEFAULT_OUT, DEFAULT_SANDBOX_SECONDS, build_parser, option
from musicapi._cli._session import Session
from musicapi._cli._text import print_json
from musicapi._client import AsyncMusicAPI
from musicapi._errors import MusicAPIError
from musicapi.sandbox.__main__ import main as _sandbox_main

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

__all__ = ["main"]


def _client(args: argparse.Namespace) -> AsyncMusicAPI:
    """Return the client: an in-process sandbox's with `--sandbox`, else the real API's."""
    if option(args, "sandbox", False):
        from musicapi.sandbox import Sandbox

        sandbox = Sandbox(
            task_seconds=option(args, "sandbox_task_seconds", DEFAULT_SANDBOX_SECONDS)
        )
        return AsyncMusicAPI(
            api_key="sandbox", base_url=sandbox.base_url, transport=sandbox.transport()
        )
    return AsyncMusicAPI(base_url=option(args, "base_url", None))


async def _run(args: argparse.Namespace, session: Session, inputs: dict[str, Any]) -> int:
    """Run one command on one client; API errors become a message and an exit status."""
    as_json = option(args, "json", False)
    try:
        async with _client(args) as client:
            command = Command(args, session, client)
            return await _dispatch(command, args.command, inputs)
    except MusicAPIError as exc:
        if as_json:
            print_json({"error": error_json(exc, session.sandbox)})
        else:
            print(error_text(exc, session.sandbox), file=sys.stderr, flush=True)
        return exit_code(exc)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return EXIT_API_ERROR


async def _dispatch(command: Command, name: str, inputs: dict[str, Any]) -> int:
    """Run the command `name`, given what `prepare` read for it."""
    if name == "credits":
        return await _commands.credits(command)
    if name == "get":
        return await _commands.get(command)
    if name == "wait":
        return await _commands.wait(command)
    if name == "download":
        return await _downloads.download(command)
    if name == "generate":
        return await _commands.generate(command, inputs["fields"])
    return await _batch.batch(command, inputs["requests"], inputs["journal"])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `musicapi` command line; return the exit status.

    Args:
        argv: The arguments after the program name; `sys.argv[1:]` if `None`.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(arguments)
    if args.command == "sandbox":
        return _sandbox_main(arguments[arguments.index("sandbox") + 1 :])
    as_json: bool = option(args, "json", False)
    session = Session(
        argv=arguments,
        sandbox=option(args, "sandbox", False),
        out=getattr(args, "out", DEFAULT_OUT),
    )
    try:
        inputs = prepare(args, session)
    except UsageError as exc:
        print(exc.text(args.command), file=sys.stderr)
        return EXIT_USAGE
    try:
        return anyio.run(_run, args, session, inputs)
    except KeyboardInterrupt:
        return session.interrupted(as_json)
