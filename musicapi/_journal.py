"""The batch journal: an append-only JSON-lines file that lets a batch resume after a crash.

Each request of a batch is known by its fingerprint (a hash of its JSON body and its
occurrence number in the batch). The journal records, in order: that a create is about
to be sent, the task id the moment it is known (with the wall-clock time of the
submission, so a resumed batch knows how old the task is), a create whose answer was
lost, and the final outcome. Every record is one `write` of a whole line, straight to
the operating system (so it survives the process being killed), and the file is
fsync'd at most every `FSYNC_INTERVAL` seconds and on close (so it survives the machine
going down, at the cost of the last fraction of a second).

Reading is forgiving, because the file is whatever a crash left behind: a line that is
torn, that is not UTF-8 (a write cut inside a multi-byte character), that is not JSON,
or whose fields do not have the types this module writes is skipped, and the records
before and after it still count.

Only one batch may use a journal at a time: two batches resuming from the same file
would each submit the jobs the journal does not know yet, and pay for them twice. An
open journal therefore holds an exclusive, non-blocking OS lock on its file (`flock` on
POSIX, `msvcrt.locking` on Windows) until it is closed or the process dies; a second
`Journal` on the same file, in this process or another, raises `JournalInUseError`.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import math
import os
import sys
import time
from typing import TYPE_CHECKING, Any, cast

import attrs

from musicapi._errors import JournalInUseError
from musicapi._logging import logger

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import TracebackType

    from typing_extensions import Self

__all__ = [
    "FORMAT_VERSION",
    "FSYNC_INTERVAL",
    "Event",
    "JobRecord",
    "Journal",
    "body_digest",
    "key_for",
]

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
    ALL = frozenset({SENDING, SUBMITTED, UNKNOWN, SUCCEEDED, FAILED})


@attrs.define
class JobRecord:
    """What the journal knows of one request.

    Attributes:
        event: The last event recorded (see `Event`).
        task_id: The task id, once a create answered (kept by later records).
        body: The task's JSON object with the final record, else `None`.
        reason: The failure reason of a `failed` record, else `None`.
        submitted_at: When the create was answered, in unix seconds (`time.time()`), so
            a resumed batch can schedule the task's polls from its real age; `None` for
            records written before this field existed (kept by later records).
    """

    event: str
    task_id: str | None = None
    body: Any = None
    reason: str | None = None
    submitted_at: float | None = None


def body_digest(canonical: bytes) -> str:
    """Return the digest part of a key, from a body already encoded as canonical JSON.

    Canonical: sorted keys, compact separators, UTF-8 without escapes; the bytes the
    batch sends (`_converter.encode_body`), so a batch hashes what it already encoded.
    """
    return hashlib.sha256(canonical).hexdigest()[:32]


def key_for(digest: str, occurrence: int) -> str:
    """Return the key of the `occurrence`-th request whose body has this digest."""
    return f"{digest}:{occurrence}"


class Journal:
    """An open, locked journal file: the records read at start, and an appender.

    Args:
        path: The file; created if missing.
        wall_clock: The source of the unix time stamped on `submitted` records;
            `time.time` if not given. Not the batch's clock: that one is monotonic, and
            its readings mean nothing to the next process that resumes the batch.

    Raises:
        JournalInUseError: Another open `Journal`, in this process or another, holds the file.
        OSError: The file cannot be opened or read.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, wall_clock: Callable[[], float] | None = None
    ) -> None:
        self.path = os.fspath(path)
        self._wall_clock = wall_clock
        # Unbuffered: each record reaches the OS in one write, so a killed process
        # loses nothing it has appended. Opened for reading too, so that on Windows,
        # where locks are per handle and mandatory, the records are read through the
        # handle that holds the lock.
        self._file = open(self.path, "a+b", buffering=0)
        try:
            self._locked = _lock(self._file.fileno(), self.path)
            self.records, torn = _load(self._file)
            if torn:
                self._write(b"\n")  # end the torn line, so the next record starts clean
        except BaseException:
            self._file.close()
            raise
        self._last_sync = time.monotonic()

    def get(self, key: str) -> JobRecord | None:
        """Return what is known of the request with this fingerprint."""
        return self.records.get(key)

    def append(self, key: str, event: str, **fields: Any) -> None:
        """Record an event for a request; written to the OS before this returns.

        A `submitted` record is stamped with `submitted_at=` the current unix time
        unless the caller gives one.

        Raises:
            TypeError: The record does not have the types the journal reads back (a bug
                in the caller); nothing was written.
            ValueError: The journal is closed.
        """
        if event == Event.SUBMITTED and fields.get("submitted_at") is None:
            fields["submitted_at"] = (self._wall_clock or time.time)()
        entry = {"v": FORMAT_VERSION, "key": key, "event": event, **fields}
        checked = _checked(entry)
        if checked is None:
            raise TypeError(f"not a valid journal record: event {event!r} with {sorted(fields)}")
        self._write(_encode(entry))
        self.records[key] = _merged(self.records.get(key), checked)
        now = time.monotonic()
        if event != Event.SENDING and now - self._last_sync >= FSYNC_INTERVAL:
            self.sync()

    def sync(self) -> None:
        """Force the journal to disk."""
        if not self._file.closed:
            os.fsync(self._file.fileno())
            self._last_sync = time.monotonic()

    def close(self) -> None:
        """Sync the file, release its lock and close it (idempotent)."""
        if self._file.closed:
            return
        try:
            self.sync()
        finally:
            try:
                if self._locked:
                    _unlock(self._file.fileno())
            finally:
                self._file.close()  # releases the lock in any case

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _write(self, data: bytes) -> None:
        """Write `data` with one system call (a short write, e.g. a full disk, continues)."""
        if self._file.closed:
            raise ValueError(f"the journal {self.path} is closed")
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            if not written:
                raise OSError(errno.EIO, f"cannot write to the journal {self.path}")
            view = view[written:]


# -- reading -----------------------------------------------------------------------------


@attrs.frozen
class _Entry:
    """One record's fields, with their types checked."""

    key: str
    event: str
    task_id: str | None
    body: dict[str, Any] | None
    reason: str | None
    submitted_at: float | None


def _load(file: io.FileIO) -> tuple[dict[str, JobRecord], bool]:
    """Read every valid record; also tell whether the file ends in a torn line.

    Bytes are read and decoded line by line, so one undecodable line (a write cut
    inside a multi-byte character) costs that line only.
    """
    records: dict[str, JobRecord] = {}
    file.seek(0)
    reader = io.BufferedReader(file)
    last = b""
    try:
        for line in reader:
            last = line
            entry = _checked(_parse(line))
            if entry is not None:
                records[entry.key] = _merged(records.get(entry.key), entry)
    finally:
        reader.detach()  # the raw file stays open for appending
    return records, bool(last) and not last.endswith(b"\n")


def _parse(line: bytes) -> object:
    """Return the JSON value of a line, or `None` if it is not UTF-8 JSON."""
    try:
        return json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None


def _checked(value: object) -> _Entry | None:
    """Return a record's fields if each has the type this module writes, else `None`."""
    if not isinstance(value, dict):
        return None
    entry = cast("dict[str, object]", value)
    key, event = entry.get("key"), entry.get("event")
    version = entry.get("v", FORMAT_VERSION)
    task_id, body = entry.get("task_id"), entry.get("body")
    reason, submitted_at = entry.get("reason"), entry.get("submitted_at")
    if (
        not isinstance(key, str)
        or not key
        or not isinstance(event, str)
        or event not in Event.ALL
        or not _is_int(version)
        or not isinstance(task_id, (str, type(None)))
        or not isinstance(body, (dict, type(None)))
        or not isinstance(reason, (str, type(None)))
        or not (submitted_at is None or _is_finite_number(submitted_at))
    ):
        return None
    return _Entry(
        key=key,
        event=event,
        task_id=task_id or None,
        body=cast("dict[str, Any] | None", body),
        reason=reason,
        submitted_at=None if submitted_at is None else float(cast("float", submitted_at)),
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _merged(previous: JobRecord | None, entry: _Entry) -> JobRecord:
    """Return the new state of a request: the entry, keeping earlier task id and submit time."""
    return JobRecord(
        event=entry.event,
        task_id=entry.task_id or (previous.task_id if previous else None),
        body=entry.body,
        reason=entry.reason,
        submitted_at=(
            entry.submitted_at
            if entry.submitted_at is not None
            else (previous.submitted_at if previous else None)
        ),
    )


def _encode(entry: Mapping[str, Any]) -> bytes:
    """Return a record as one line of UTF-8 JSON.

    Text stays readable (`ensure_ascii=False`) unless it holds something UTF-8 cannot
    encode (a lone surrogate from an odd server answer); then the line is escaped to
    ASCII, which reads back the same.
    """
    line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n"
    try:
        return line.encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(entry, separators=(",", ":")) + "\n").encode("ascii")


# -- locking -----------------------------------------------------------------------------

_HELD = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK})
"""The errnos that mean "someone else holds the lock" (POSIX flock, Windows locking)."""

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> None:
        # Windows locks byte ranges per handle; every journal locks its first byte,
        # which may lie past the end of an empty file.
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass  # closing the handle releases it anyway

else:
    import fcntl

    def _try_lock(fd: int) -> None:
        # flock locks belong to the open file, not the process, so a second open of
        # the same journal in this process is refused too (fcntl/lockf locks are not).
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _lock(fd: int, path: str) -> bool:
    """Take the journal's exclusive lock without waiting; return whether it is held.

    A file system that cannot lock at all (some network and FUSE mounts) gets a
    warning and no lock, rather than making journals unusable there.

    Raises:
        JournalInUseError: Another open journal holds the lock.
    """
    try:
        _try_lock(fd)
    except OSError as exc:
        if exc.errno in _HELD:
            raise JournalInUseError(
                f"the batch journal {path} is in use by another batch (in this process or "
                "another one); two batches resuming from one journal would submit, and pay "
                "for, the same jobs twice. Let the other batch finish, or use another file."
            ) from None
        logger.warning(
            "cannot lock the batch journal %s (%s): nothing stops a second batch from using it",
            path,
            exc.strerror or type(exc).__name__,
        )
        return False
    return True
