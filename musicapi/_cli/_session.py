"""What a command has done so far, kept outside its event loop for Ctrl-C's report.

Ctrl-C cancels the command's one coroutine; by then the loop is gone, so the task ids
already submitted (or the batch's journal) are kept here, where `main` can read them to
say what goes on upstream and how to pick it up again.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import attrs

from musicapi._cli._exits import EXIT_INTERRUPTED
from musicapi._cli._parser import DEFAULT_OUT, PROG
from musicapi._cli._text import print_json
from musicapi._errors import MusicAPIError
from musicapi._journal import Event, Journal

__all__ = ["Session"]


@attrs.define
class Session:
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
            print_json({"interrupted": True, **info})
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
