"""One run of one command: its arguments, client, display and results, and shared steps.

Every command is a coroutine given a `Command`: the steps they share (wait for a task
with a progress row, save a clip's files, read the balance, print songs) live here, so
each command's module holds only what that command does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from musicapi._cli._display import Live, Plain, rich_wanted, show_sdk_warnings
from musicapi._cli._exits import error_json, error_text, exit_code
from musicapi._cli._parser import option
from musicapi._cli._text import clip_json, minutes, print_json, title
from musicapi._errors import MusicAPIError
from musicapi._models import Clip

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from musicapi._cli._session import Session
    from musicapi._client import AsyncMusicAPI
    from musicapi._download import ClipFile, FileKind, Progress
    from musicapi._models import Credits, GenerationResult

__all__ = ["Command", "Song"]


@attrs.define
class Song:
    """One song and the files saved for it, or the error that stopped them.

    `files` maps what each file is to where it went: `audio`, `image`, `video`, `wav`,
    `midi`, and `stem:<type>` for each stem (`stem:vocals`, ...), in the order saved.
    Two may share a path: a file already saved with the same bytes is kept, not copied
    (the sandbox's WAV export is its audio).
    """

    task_id: str
    clip: Clip
    files: dict[str, str] = attrs.Factory(dict[str, str])
    error: BaseException | None = None

    def as_json(self, sandbox: bool) -> dict[str, Any]:
        """Return the song as JSON: the clip's fields, the files saved, the error if any."""
        return {
            "task_id": self.task_id,
            **clip_json(self.clip),
            "path": self.files.get("audio"),
            "files": self.files,
            "error": None if self.error is None else error_json(self.error, sandbox),
        }

    def line(self) -> str:
        """Return the song as one line: title, duration and where each file went."""
        where = "  ".join(dict.fromkeys(self.files.values())) or "(not saved)"
        return f"{title(self.clip)}  {minutes(self.clip.duration)}  {where}"


class Command:
    """One run of one command: its arguments, client, display and results."""

    def __init__(self, args: argparse.Namespace, session: Session, client: AsyncMusicAPI) -> None:
        self.args = args
        self.session = session
        self.client = client
        self.json: bool = option(args, "json", False)
        self.plain = not rich_wanted()
        """Progress as plain lines; else drawn live (with its own elapsed and ETA columns)."""
        self.display: Plain = Plain() if self.plain else Live()
        self.codes: list[int] = []
        show_sdk_warnings(self.display)

    def fail(self, error: BaseException) -> None:
        """Record an error and tell the user about it (on stderr)."""
        self.codes.append(exit_code(error))
        self.display.note(error_text(error, self.session.sandbox))

    async def balance(self) -> Credits | None:
        """Read the balance, for the credits-used summary; `None` if it cannot be read."""
        try:
            return await self.client.get_credits()
        except MusicAPIError:
            return None

    async def wait(
        self, task_id: str, doing: str = "generating", *, made: str = "songs"
    ) -> GenerationResult:
        """Wait for a Sonic task with a progress row.

        Args:
            task_id: The task (a generation, or a stems split: both poll the same way).
            doing: What the row says while it waits.
            made: What the task's clips are, for the row's last words.
        """
        key = f"wait:{task_id}"
        self.display.start(key, f"task {task_id}: {doing}")
        try:
            result = await self.client.sonic.wait(task_id, timeout=self.args.timeout)
        except MusicAPIError as exc:
            self.display.finish(key, f"task {task_id}: {type(exc).__name__}")
            raise
        self.display.finish(key, f"task {task_id}: done, {len(result.clips)} {made}")
        return result

    async def save(self, task_id: str, clip: Clip, kinds: tuple[ClipFile, ...]) -> Song:
        """Save a clip's files with a progress row each; report failures in the song."""
        song = Song(task_id, clip)
        for kind in kinds:
            key = f"save:{clip.clip_id}:{kind}"
            self.display.start(key, f"saving {title(clip)} ({kind})", quiet=True)
            try:
                path = await self.client.download(
                    clip,
                    self.args.out,
                    what=kind,
                    max_bytes=self.args.max_size,
                    progress=self.progress(key),
                )
            except (MusicAPIError, OSError) as exc:
                self.display.finish(key, remove=True)
                song.error = exc
                self.fail(exc)
                break
            self.display.finish(key, remove=True)
            song.files[kind] = str(path)
        return song

    async def save_url(
        self, url: str | None, *, name: str, kind: FileKind, label: str, row: str
    ) -> Path:
        """Save any file by its URL into `--out`, with a progress row like a song's.

        Args:
            url: The file's URL, from the operation that made it.
            name: The file name without extension (sanitised by the SDK).
            kind: What it holds, which picks the extension.
            label: What the file is, for the row (`"WAV"`, `"vocals stem"`).
            row: The row's key, unique while it runs.
        """
        self.display.start(row, f"saving {label}", quiet=True)
        try:
            return await self.client.download_url(
                url,
                self.args.out,
                name=name,
                kind=kind,
                max_bytes=self.args.max_size,
                progress=self.progress(row),
            )
        finally:
            self.display.finish(row, remove=True)

    def progress(self, key: str) -> Progress:
        """Return the download progress callback that moves the row `key`."""

        def update(done: int, total: int | None) -> None:
            self.display.update(key, done, total)

        return update

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

    def report_songs(self, songs: list[Song], extra: dict[str, Any]) -> None:
        """Print the songs: one line each, or one JSON document."""
        if self.json:
            sandbox = self.session.sandbox
            print_json({**extra, "songs": [song.as_json(sandbox) for song in songs]})
            return
        for song in songs:
            print(song.line(), flush=True)
