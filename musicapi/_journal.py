"""The batch journal: an append-only JSON-lines file that lets a batch resume after a crash.

Each request of a batch is known by its fingerprint (a hash of its JSON body and its
occurrence number in the batch). The journal records, in order: that a create is about
to be sent, the task id the moment it is known, a create whose answer was lost, and the
final outcome. Every record is one `write` of a whole line, flushed at once (so it
survives the process being killed), and the file is fsync'd at most every
`FSYNC_INTERVAL` seconds and on close (so it survives the machine going down, at the
cost of the last fraction of a second). A torn last line from a crash is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from collections.abc import Mapping

FSYNC_INTERVAL = 0.5
FORMAT_VERSION = 1


class Event:
    """The kinds of journal record, in the order a job goes through them."""

    SENDING = "sending"
    SUBMITTED = "submitted"
    UNKNOWN = "unknown"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    FINAL = frozenset({SUCCEEDED, FAILED})


@attrs.define
class JobRecord:
    """What the journal knows of one request: its last event, task id and final body."""

    event: str
    task_id: str | None = None
    body: Any = None
    reason: str | None = None


def fingerprint(body: Mapping[str, Any], occurrence: int) -> str:
    """Return a stable key for the `occurrence`-th request with this JSON body."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    return f"{digest}:{occurrence}"


class Journal:
    """An open journal file: the records read at start, and an appender.

    Args:
        path: The file; created if missing.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.records, torn = _load(self.path)
        self._file = open(self.path, "a", encoding="utf-8")
        if torn:
            self._file.write("\n")  # end the torn line, so the next record starts clean
        self._last_sync = time.monotonic()

    def get(self, key: str) -> JobRecord | None:
        """Return what is known of the request with this fingerprint."""
        return self.records.get(key)

    def append(self, key: str, event: str, **fields: Any) -> None:
        """Record an event for a request; written and flushed before this returns."""
        record = {"v": FORMAT_VERSION, "key": key, "event": event, **fields}
        self._file.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
        self._file.flush()
        previous = self.records.get(key)
        self.records[key] = JobRecord(
            event=event,
            task_id=fields.get("task_id") or (previous.task_id if previous else None),
            body=fields.get("body"),
            reason=fields.get("reason"),
        )
        now = time.monotonic()
        if event != Event.SENDING and now - self._last_sync >= FSYNC_INTERVAL:
            self.sync()

    def sync(self) -> None:
        """Force the journal to disk."""
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._last_sync = time.monotonic()

    def close(self) -> None:
        """Sync and close the file (idempotent)."""
        if not self._file.closed:
            self.sync()
            self._file.close()


def _load(path: str) -> tuple[dict[str, JobRecord], bool]:
    """Read every whole record; also tell whether the file ends in a torn line."""
    records: dict[str, JobRecord] = {}
    try:
        with open(path, encoding="utf-8") as file:
            lines = file.readlines()
    except FileNotFoundError:
        return records, False
    for line in lines:
        try:
            entry = json.loads(line)
            key, event = entry["key"], entry["event"]
        except (ValueError, KeyError, TypeError):
            continue  # a torn line from a crash mid-write
        previous = records.get(key)
        records[key] = JobRecord(
            event=event,
            task_id=entry.get("task_id") or (previous.task_id if previous else None),
            body=entry.get("body"),
            reason=entry.get("reason"),
        )
    return records, bool(lines) and not lines[-1].endswith("\n")
