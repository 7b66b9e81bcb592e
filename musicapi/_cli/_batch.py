"""`musicapi batch`: many songs from a file, resumably, saved while the batch goes on.

The batch is the SDK's `generate_many` with a journal next to the file: after Ctrl-C or
a crash the same command resumes without sending any job twice. Each finished job's
songs are saved a few at a time while the others run, and each job is reported as it
finishes (a line per song, or one JSON line per job), then a summary line.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from musicapi._cli._exits import EXIT_JOB_FAILED, error_json, worst
from musicapi._cli._text import json_text, minutes, print_json, shown
from musicapi._errors import MusicAPIError, SubmissionUnknownError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from musicapi._batch import Outcome
    from musicapi._cli._command import Command, Song
    from musicapi._models import GenerationResult

__all__ = ["BatchStats", "batch"]

CREDITS_PER_GENERATION = 15
"""What one Sonic generation costs (two songs), for the live estimate of a batch."""
SAVES_AT_ONCE = 4
"""Songs of a batch saved at once, while the batch goes on."""


@attrs.define
class BatchStats:
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
        eta_text = minutes(eta) if eta is not None else "?:??"
        return f"{text}, {minutes(elapsed)} elapsed, ETA {eta_text}"


async def batch(command: Command, requests: list[dict[str, Any]], journal: Path) -> int:
    """`musicapi batch`: `generate_many` with a journal, songs saved as jobs finish."""
    stats = BatchStats(total=len(requests))
    before = await command.balance()
    name = Path(command.args.file).name
    with command.display:
        command.display.start("batch", f"batch {name}", total=stats.total)
        command.display.status("batch", 0, stats.total, stats.detail(times=command.plain))
        await _run_batch(command, requests, journal, stats)
        command.display.finish("batch", f"batch {name}: finished")
    spent = command.credits_summary(before, await command.balance())
    summary = {
        "jobs": stats.total,
        "succeeded": stats.done - stats.failed,
        "failed": stats.failed,
        "from_journal": stats.resumed,
        "journal": str(journal),
        "out": command.args.out,
        **spent,
    }
    if command.json:
        print_json({"type": "summary", **summary})
    else:
        print(
            f"batch: {stats.total} jobs, {summary['succeeded']} succeeded, "
            f"{stats.failed} failed; songs in {command.args.out}; {command.credits_text(spent)}"
        )
    return worst(command.codes)


async def _run_batch(
    command: Command, requests: list[dict[str, Any]], journal: Path, stats: BatchStats
) -> None:
    """Run the batch; save each job's songs while the others go on.

    Raises:
        MusicAPIError: The batch as a whole could not run (its journal is in use,
            the client closed), after the songs already being saved are saved.
    """
    limiter = anyio.CapacityLimiter(SAVES_AT_ONCE)
    failure: MusicAPIError | None = None
    async with anyio.create_task_group() as saves:
        run = command.client.sonic.generate_many(
            _counting(requests, stats),
            concurrency=command.args.concurrency,
            timeout=command.args.timeout,
            journal=journal,
        )
        try:
            async with run:
                async for outcome in run:
                    stats.record(outcome)
                    detail = stats.detail(times=command.plain)
                    command.display.status("batch", stats.done, stats.total, detail)
                    saves.start_soon(_save_outcome, command, outcome, limiter)
        except MusicAPIError as exc:  # raised below: a task group would wrap it
            failure = exc
    if failure is not None:
        raise failure


async def _save_outcome(
    command: Command, outcome: Outcome[GenerationResult], limiter: anyio.CapacityLimiter
) -> None:
    """Save one job's songs (a few jobs at a time) and report the job.

    Any failed job, whatever its reason, makes the batch exit 3; the reason is in
    its line (and in its JSON outcome).
    """
    songs: list[Song] = []
    if outcome.error is not None:
        command.codes.append(EXIT_JOB_FAILED)
        if outcome.task_id:
            task = f"task {outcome.task_id}"
        elif isinstance(outcome.error, SubmissionUnknownError):
            task = "sent, task id unknown"
        else:
            task = "never submitted"
        command.display.note(
            f"job {outcome.index + 1} ({task}) failed: "
            f"{type(outcome.error).__name__}: {shown(outcome.error, 300)}"
        )
    elif outcome.result is not None:
        async with limiter:
            task_id = outcome.task_id or ""
            songs = [await command.save(task_id, clip, ("audio",)) for clip in outcome.result.clips]
    if command.json:
        sandbox = command.session.sandbox
        error = None if outcome.error is None else error_json(outcome.error, sandbox)
        command.display.result(
            json_text(
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
                command.display.result(song.line())


def _counting(requests: list[dict[str, Any]], stats: BatchStats) -> Iterator[dict[str, Any]]:
    """Yield the requests, counting how many the batch has taken (to show what runs)."""
    for request in requests:
        stats.taken += 1
        yield request
