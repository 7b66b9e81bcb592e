"""The batch journal: forgiving reads, one writer at a time, submission times, its format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from time import monotonic, time
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from musicapi import _journal
from musicapi._errors import JournalInUseError, MusicAPIError
from musicapi._journal import FORMAT_VERSION, Event, JobRecord, Journal

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

KEY = "k" * 32 + ":0"
OTHER = "o" * 32 + ":0"


def _line(**fields: Any) -> bytes:
    return (json.dumps({"v": 1, **fields}, ensure_ascii=False) + "\n").encode()


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _get(journal: Journal, key: str) -> JobRecord:
    record = journal.get(key)
    assert record is not None
    return record


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return tmp_path / "batch.jsonl"


# -- reading what a crash left ------------------------------------------------------------


def test_a_torn_line_cut_inside_a_multibyte_character_is_skipped(journal_path: Path) -> None:
    whole = _line(key=KEY, event="submitted", task_id="t-1")
    torn = _line(key=OTHER, event="succeeded", task_id="t-2", body={"title": "Café"})
    cut = torn.index("é".encode()) + 1  # the write stopped inside the two-byte "é"
    journal_path.write_bytes(whole + torn[:cut])

    with Journal(journal_path) as journal:
        assert journal.get(KEY) == JobRecord(event="submitted", task_id="t-1")
        assert journal.get(OTHER) is None
        journal.append(OTHER, Event.SUBMITTED, task_id="t-2")

    with Journal(journal_path) as journal:  # the torn line was ended, the new one is whole
        assert _get(journal, OTHER).task_id == "t-2"


def test_an_undecodable_line_in_the_middle_costs_only_that_line(journal_path: Path) -> None:
    journal_path.write_bytes(
        _line(key=KEY, event="sending")
        + b'{"v":1,"key":"\xff\xfe","event":"sending"}\n'
        + _line(key=KEY, event="submitted", task_id="t-1")
    )
    with Journal(journal_path) as journal:
        assert journal.get(KEY) == JobRecord(event="submitted", task_id="t-1")
        assert len(journal.records) == 1


WRONG_TYPES = [
    {"key": 1, "event": []},
    {"key": KEY, "event": []},
    {"key": [KEY], "event": "submitted"},
    {"key": "", "event": "submitted", "task_id": "t-9"},
    {"key": KEY, "event": "resubmitted", "task_id": "t-9"},
    {"key": KEY, "event": "submitted", "task_id": 123},
    {"key": KEY, "event": "submitted", "task_id": {"id": "t-9"}},
    {"key": KEY, "event": "submitted", "task_id": "t-9", "submitted_at": "yesterday"},
    {"key": KEY, "event": "submitted", "task_id": "t-9", "submitted_at": True},
    {"key": KEY, "event": "succeeded", "task_id": "t-1", "body": ["not", "an", "object"]},
    {"key": KEY, "event": "succeeded", "task_id": "t-1", "body": "text"},
    {"key": KEY, "event": "succeeded", "task_id": "t-1", "body": 7},
    {"key": KEY, "event": "failed", "task_id": "t-1", "body": {}, "reason": 500},
    {"key": KEY, "event": "succeeded", "task_id": "t-1", "v": "1"},
]


@pytest.mark.parametrize("fields", WRONG_TYPES, ids=[json.dumps(f)[:60] for f in WRONG_TYPES])
def test_a_line_with_wrong_types_is_skipped(journal_path: Path, fields: dict[str, Any]) -> None:
    line = (json.dumps(fields) + "\n").encode()
    journal_path.write_bytes(_line(key=KEY, event="submitted", task_id="t-1") + line)
    with Journal(journal_path) as journal:
        assert journal.get(KEY) == JobRecord(event="submitted", task_id="t-1")
        assert list(journal.records) == [KEY]


@pytest.mark.parametrize(
    "line",
    [b"[1, 2]\n", b'"text"\n', b"null\n", b"42\n", b"{}\n", b"[" * 100_000 + b"\n", b"\n"],
    ids=["list", "string", "null", "number", "empty", "deeply-nested", "blank"],
)
def test_a_line_that_is_not_a_record_is_skipped(journal_path: Path, line: bytes) -> None:
    journal_path.write_bytes(line + _line(key=KEY, event="submitted", task_id="t-1"))
    with Journal(journal_path) as journal:
        assert journal.records == {KEY: JobRecord(event="submitted", task_id="t-1")}


def test_the_journal_never_writes_a_record_it_would_skip(journal_path: Path) -> None:
    with Journal(journal_path) as journal:
        with pytest.raises(TypeError):
            journal.append(KEY, Event.SUCCEEDED, task_id="t-1", body=["a list"])
        with pytest.raises(TypeError):
            journal.append(KEY, "made-up")
    assert journal_path.read_bytes() == b""


# -- one batch per journal ----------------------------------------------------------------


def test_a_second_journal_on_the_same_file_in_this_process_is_refused(
    journal_path: Path,
) -> None:
    with Journal(journal_path) as first:
        first.append(KEY, Event.SENDING)
        with pytest.raises(JournalInUseError) as caught:
            Journal(journal_path)
        assert str(journal_path) in str(caught.value)
        assert isinstance(caught.value, MusicAPIError)
        first.append(KEY, Event.SUBMITTED, task_id="t-1")  # the holder is unaffected
    with Journal(journal_path) as again:  # released on close
        assert again.get(KEY) is not None


def test_a_failed_open_does_not_leak_the_file(journal_path: Path) -> None:
    with Journal(journal_path):
        for _ in range(3):  # an unclosed file would be a ResourceWarning, an error here
            with pytest.raises(JournalInUseError):
                Journal(journal_path)


def test_close_is_idempotent_and_a_closed_journal_refuses_appends(journal_path: Path) -> None:
    journal = Journal(journal_path)
    journal.close()
    journal.close()
    with pytest.raises(ValueError, match="closed"):
        journal.append(KEY, Event.SENDING)


_HOLDER = textwrap.dedent(
    """
    import sys
    from musicapi._errors import JournalInUseError
    from musicapi._journal import Journal

    try:
        journal = Journal(sys.argv[1])
    except JournalInUseError as exc:
        print("in use:", exc, flush=True)
        sys.exit(3)
    journal.append("child:0", "sending")
    print("locked", flush=True)
    sys.stdin.read()  # hold the journal until the parent closes our stdin
    journal.close()
    print("closed", flush=True)
    """
)


@pytest.fixture
def holder(journal_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process that opens the journal and holds it until its stdin closes."""
    with subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _HOLDER, str(journal_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        try:
            assert process.stdout.readline() == "locked\n"
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)  # Popen's exit closes the pipes


def test_a_journal_held_by_another_process_is_refused_with_its_path(
    journal_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(JournalInUseError, match=str(journal_path).replace("\\", "\\\\")):
        Journal(journal_path)
    assert holder.stdin is not None
    holder.stdin.close()  # the other batch finishes and closes its journal
    assert holder.wait(timeout=30) == 0
    with Journal(journal_path) as journal:
        assert journal.get("child:0") == JobRecord(event="sending")


def test_the_lock_dies_with_the_process(journal_path: Path, holder: subprocess.Popen[str]) -> None:
    with pytest.raises(JournalInUseError):
        Journal(journal_path)
    holder.kill()  # no close(): the OS releases the lock
    holder.wait(timeout=30)
    with Journal(journal_path) as journal:
        assert journal.get("child:0") == JobRecord(event="sending")


def test_another_process_is_refused_while_we_hold_the_journal(journal_path: Path) -> None:
    with Journal(journal_path):
        child = subprocess.run(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", _HOLDER, str(journal_path)],
            input="",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert child.returncode == 3, child.stderr
    assert child.stdout.startswith("in use:")
    assert str(journal_path) in child.stdout


# -- submission times ---------------------------------------------------------------------


def test_submitted_records_carry_the_wall_clock_time(journal_path: Path) -> None:
    with Journal(journal_path, wall_clock=lambda: 1_700_000_000.25) as journal:
        journal.append(KEY, Event.SENDING)
        assert journal.get(KEY) == JobRecord(event="sending")
        journal.append(KEY, Event.SUBMITTED, task_id="t-1")
        assert journal.get(KEY) == JobRecord(
            event="submitted", task_id="t-1", submitted_at=1_700_000_000.25
        )
        journal.append(KEY, Event.SUCCEEDED, task_id="t-1", body={"data": []})
    assert _records(journal_path)[1] == {
        "v": FORMAT_VERSION,
        "key": KEY,
        "event": "submitted",
        "task_id": "t-1",
        "submitted_at": 1_700_000_000.25,
    }
    with Journal(journal_path) as reopened:
        record = reopened.get(KEY)
        assert record == JobRecord(
            event="succeeded", task_id="t-1", body={"data": []}, submitted_at=1_700_000_000.25
        )


def test_submitted_at_defaults_to_time_time(
    journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_journal, "time", SimpleNamespace(time=lambda: 1234.5, monotonic=monotonic))
    with Journal(journal_path) as journal:
        journal.append(KEY, Event.SUBMITTED, task_id="t-1")
        journal.append(OTHER, Event.SUBMITTED, task_id="t-2", submitted_at=1000.0)
        assert _get(journal, KEY).submitted_at == 1234.5
        assert _get(journal, OTHER).submitted_at == 1000.0


def test_journals_written_before_submitted_at_still_resume(journal_path: Path) -> None:
    journal_path.write_bytes(
        b'{"v":1,"key":"%s","event":"sending"}\n'
        b'{"v":1,"key":"%s","event":"submitted","task_id":"t-1"}\n' % (KEY.encode(), KEY.encode())
    )
    with Journal(journal_path) as journal:
        assert journal.get(KEY) == JobRecord(event="submitted", task_id="t-1", submitted_at=None)


def test_an_integer_submitted_at_reads_as_a_float(journal_path: Path) -> None:
    journal_path.write_bytes(_line(key=KEY, event="submitted", task_id="t", submitted_at=17))
    with Journal(journal_path) as journal:
        submitted_at = _get(journal, KEY).submitted_at
        assert submitted_at == 17.0
        assert isinstance(submitted_at, float)


# -- the format and its durability --------------------------------------------------------


def test_each_record_is_one_whole_line_on_disk_before_append_returns(journal_path: Path) -> None:
    with Journal(journal_path) as journal:
        journal.append(KEY, Event.SENDING)
        assert journal_path.read_bytes() == b'{"v":1,"key":"%s","event":"sending"}\n' % (
            KEY.encode()
        )
        journal.append(KEY, Event.FAILED, task_id="t-1", body={"title": "Café"}, reason="x")
        last = journal_path.read_bytes().splitlines(keepends=True)[-1]
        assert last.endswith(b"\n")
        assert "Café" in last.decode()  # text stays readable
        assert json.loads(last) == {
            "v": 1,
            "key": KEY,
            "event": "failed",
            "task_id": "t-1",
            "body": {"title": "Café"},
            "reason": "x",
        }


def test_a_body_utf8_cannot_encode_is_written_escaped(journal_path: Path) -> None:
    body = {"title": "broken \ud800 surrogate"}  # what json.loads makes of "\ud800"
    with Journal(journal_path) as journal:
        journal.append(KEY, Event.SUCCEEDED, task_id="t-1", body=body)
    with Journal(journal_path) as journal:
        assert journal.get(KEY) == JobRecord(event="succeeded", task_id="t-1", body=body)


def test_the_task_id_survives_later_records_without_one(journal_path: Path) -> None:
    with Journal(journal_path) as journal:
        journal.append(KEY, Event.SUBMITTED, task_id="t-1", submitted_at=5.0)
        journal.append(KEY, Event.SUCCEEDED, body={})
    with Journal(journal_path) as journal:
        assert journal.get(KEY) == JobRecord(
            event="succeeded", task_id="t-1", body={}, submitted_at=5.0
        )


def test_fsync_at_most_every_interval_and_on_close(
    journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    now = [100.0]
    monkeypatch.setattr("os.fsync", fsync)
    monkeypatch.setattr(_journal, "time", SimpleNamespace(time=time, monotonic=lambda: now[0]))
    journal = Journal(journal_path)
    for index in range(50):
        journal.append(f"{index}:0", Event.SENDING)
        journal.append(f"{index}:0", Event.SUBMITTED, task_id=f"t-{index}")
    assert synced == []  # all within one interval
    now[0] += _journal.FSYNC_INTERVAL
    journal.append("late:0", Event.SENDING)
    assert synced == []  # a "sending" record alone never waits for the disk
    journal.append("late:0", Event.SUBMITTED, task_id="t-late")
    assert len(synced) == 1
    journal.append("later:0", Event.SUBMITTED, task_id="t-later")
    assert len(synced) == 1
    journal.close()
    assert len(synced) == 2


def test_keys_hash_the_bytes_a_batch_sends_and_match_older_journals() -> None:
    # Journals written before keys were taken from the sent bytes hashed
    # json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).
    import hashlib
    import json

    from musicapi._converter import encode_body
    from musicapi._journal import body_digest, key_for

    body = {"mv": "sonic-v5", "gpt_description_prompt": "ünïcode ♪", "custom_mode": False}
    old = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256(old.encode()).hexdigest()[:32]
    assert key_for(body_digest(encode_body(body)), 3) == f"{expected}:3"
