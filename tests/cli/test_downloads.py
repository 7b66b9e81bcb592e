"""`musicapi download` against a hostile API and file host: names, bodies, expired links.

The sandbox cannot make these answers (its titles obey the API's 80-character rule and
its files are always whole), so a small stub server in this process plays both the task
endpoint and the file host, over loopback; and the stems, WAV and MIDI operations, whose
stem types are as hostile as the titles.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{n}" for p in ("COM", "LPT") for n in range(10)
}
HOSTILE_TITLES = [
    "../../../../etc/passwd",
    "/abs/path/evil",
    "C:\\Windows\\System32\\drivers",
    "nul\x00byte",
    "x" * 5000,
    "CON",
    "nul.txt",
    "\x1b[31mred\x1b]0;pwned\x07",
    "\u202eevil\u202c.exe",
    "..",
    "",
]
RIFF = b"RIFF....WAVEfmt "
MTHD = b"MThd\x00\x00\x00\x06"
HOSTILE_PARTS = ["vocals", "../../etc/passwd", "CON", "\x1b[31mred\x07", "", "y" * 500]
"""The `stem_type` of each stem a split makes: the first is honest, the rest are not."""
TASKS = {
    "11111111-0000-4000-8000-000000000001": "hostile",
    "11111111-0000-4000-8000-000000000002": "truncated",
    "11111111-0000-4000-8000-000000000003": "declared-too-big",
    "11111111-0000-4000-8000-000000000004": "streamed-too-big",
    "11111111-0000-4000-8000-000000000005": "gone",
    "11111111-0000-4000-8000-000000000006": "expired",
    "11111111-0000-4000-8000-000000000007": "no-url",
    "11111111-0000-4000-8000-000000000008": "wav-expired",
}
TASK_OF = {name: task_id for task_id, name in TASKS.items()}


def _clip(origin: str, clip_id: str, title: str, file: str | None) -> dict[str, Any]:
    return {
        "clip_id": clip_id,
        "state": "succeeded",
        "title": title,
        "tags": "test",
        "duration": 2.5,
        "audio_url": None if file is None else f"{origin}/files/{file}",
        "image_url": None,
        "video_url": None,
    }


def _clips(name: str, origin: str) -> list[dict[str, Any]]:
    if name == "hostile":
        return [
            _clip(origin, f"clip-{n}", title, f"ok-{n}.wav")
            for n, title in enumerate(HOSTILE_TITLES)
        ] + [
            _clip(origin, "../../x", "ok", "ok-99.wav"),
            _clip(origin, "/etc/y\x00", "ok", "ok-98.wav"),
        ]
    if name == "wav-expired":
        return [_clip(origin, f"{name}-clip", name.title(), "ok-wav-expired.wav")]
    return [
        _clip(origin, f"{name}-clip", name.title(), None if name == "no-url" else f"{name}.wav")
    ]


def _stems(origin: str, task_id: str) -> list[dict[str, Any]]:
    return [
        {
            **_clip(origin, f"{task_id}-{n}", f"stem {n}", f"ok-stem-{task_id}-{n}.wav"),
            "stem_type": part,
        }
        for n, part in enumerate(HOSTILE_PARTS)
    ]


class _Stub(BaseHTTPRequestHandler):
    """Answers task polls with the clips above, and serves their files, good and bad.

    It also splits any clip into stems (a task), exports WAVs and transcribes MIDI.
    """

    origin: ClassVar[str] = ""
    numbers: ClassVar[itertools.count[int]] = itertools.count()
    splits: ClassVar[set[str]] = set()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        number = next(self.numbers)
        if self.path == "/api/v1/sonic/stems/basic":
            task_id = f"33333333-0000-4000-8000-{number:012d}"
            self.splits.add(task_id)
            body: dict[str, Any] = {"message": "success", "task_id": task_id}
        elif self.path == "/api/v1/sonic/wav":
            file = "expired.wav" if request["clip_id"] == "wav-expired-clip" else "ok-wav"
            body = {
                "message": "success",
                "data": {"wav_url": f"{self.origin}/files/{file}{number}"},
            }
        elif self.path == "/api/v1/sonic/midi":
            url = f"{self.origin}/files/ok-notes-{number}.mid"
            body = {"code": 200, "message": "success", "data": {"midi_url": url, "instruments": []}}
        else:
            self._send(404, b'{"error": "not found"}', "application/json")
            return
        self._send(200, json.dumps(body).encode(), "application/json")

    def do_GET(self) -> None:
        if self.path.startswith("/api/v1/sonic/task/"):
            task_id = self.path.rsplit("/", 1)[1]
            name = TASKS.get(task_id)
            if task_id in self.splits:
                clips = _stems(self.origin, task_id)
            else:
                clips = _clips(name, self.origin) if name else None
            body = {"code": 200, "message": "success", "data": clips} if clips else {}
            self._send(200 if clips else 404, json.dumps(body).encode(), "application/json")
            return
        file = self.path.removeprefix("/files/")
        if file.startswith("ok-") and file.endswith(".mid"):
            self._send(200, MTHD + file.encode(), "audio/midi")
        elif file.startswith("ok-wav"):
            self._send(200, RIFF + file.encode(), "application/octet-stream")  # no type
        elif file.startswith("ok-"):
            self._send(200, RIFF + file.encode(), "audio/wav")
        elif file == "truncated.wav":
            self._send_head(200, "audio/wav", length=100_000)
            self.wfile.write(RIFF * 10)  # then the connection closes
        elif file == "declared-too-big.wav":
            self._send_head(200, "audio/wav", length=50 * 1024 * 1024)
            self.wfile.write(RIFF)
        elif file == "streamed-too-big.wav":
            self._send_head(200, "audio/wav", length=None)  # ends when the connection closes
            for _ in range(40):
                self.wfile.write(b"\0" * 16384)
        elif file == "gone.wav":
            self._send(410, b'{"error": "gone"}', "application/json")
        else:  # expired.wav: what S3 answers for an expired signed link
            self._send(
                403,
                b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                "application/xml",
            )

    def _send_head(self, status: int, content_type: str, length: int | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self._send_head(status, content_type, len(body))
        self.wfile.write(body)


@pytest.fixture
def stub() -> Iterator[dict[str, str]]:
    """Serve the stub on a loopback port; yield the environment that points at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    _Stub.origin = origin
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield {"MUSICAPI_BASE_URL": f"{origin}/api/v1", "MUSICAPI_KEY": "k"}
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _check_safe_file(path: Path, out: Path) -> None:
    assert path.parent == out
    assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*\.(wav|mid)", path.name), path.name
    assert len(path.name) <= 120
    assert path.name.split(".", 1)[0].upper() not in WINDOWS_DEVICES
    assert path.read_bytes().startswith(MTHD if path.suffix == ".mid" else RIFF)


def _tree(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*")}


def test_hostile_titles_and_ids_give_safe_names_inside_the_folder(
    run: Callable[..., Any], stub: dict[str, str], tmp_path: Path
) -> None:
    before = _tree(tmp_path)
    result = run("download", TASK_OF["hostile"], "--out", "out", "--json", env=stub)
    assert result.code == 0, result.err
    out = (tmp_path / "out").resolve()
    songs = result.json()["songs"]
    assert len(songs) == len(HOSTILE_TITLES) + 2
    names = set()
    for song in songs:
        path = (tmp_path / song["path"]).resolve()
        assert path.parent == out
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*\.wav", path.name), path.name
        assert len(path.name) <= 120
        assert path.name.split(".", 1)[0].upper() not in WINDOWS_DEVICES
        assert path.read_bytes().startswith(RIFF)
        names.add(path.name)
    assert len(names) == len(songs)  # nothing overwrote anything
    assert _tree(tmp_path) - before == {"out"} | {f"out/{name}" for name in names}
    assert [song["title"] for song in songs][: len(HOSTILE_TITLES)] == HOSTILE_TITLES


def test_hostile_titles_never_reach_the_terminal_raw(
    run: Callable[..., Any], stub: dict[str, str]
) -> None:
    result = run("download", TASK_OF["hostile"], "--out", "out", env=stub)
    assert result.code == 0, result.err
    for stream in (result.out, result.err):
        assert not set(stream) & {"\x00", "\x1b", "\x07", "\u202e"}
    assert len(result.out.splitlines()) == len(HOSTILE_TITLES) + 2
    assert max(len(line) for line in result.out.splitlines()) < 250  # 5,000 chars cut short


@pytest.mark.parametrize(
    ("task", "args", "error", "words"),
    [
        ("truncated", [], "APIConnectionError", "of 100000 bytes) failed"),
        ("declared-too-big", ["--max-size", "1M"], "FileTooLargeError", "1048576-byte cap"),
        ("streamed-too-big", ["--max-size", "100K"], "FileTooLargeError", "102400-byte cap"),
        ("gone", [], "FileGoneError", "HTTP 410"),
        ("expired", [], "FileForbiddenError", "HTTP 403"),
        ("no-url", [], "FileURLMissingError", "no http(s) audio_url"),
    ],
)
def test_bad_bodies_and_links_are_typed_errors_and_leave_no_file(
    run: Callable[..., Any],
    stub: dict[str, str],
    tmp_path: Path,
    task: str,
    args: list[str],
    error: str,
    words: str,
) -> None:
    result = run("download", TASK_OF[task], "--out", "out", *args, env=stub)
    assert result.code == 1, result.err
    assert error in result.err
    assert words in result.err
    assert f"clip {task}-clip" in result.err  # names the clip
    assert "audio" in result.err  # and which of its files
    assert "Traceback" not in result.err
    assert os.listdir(tmp_path / "out") == [] if (tmp_path / "out").exists() else True
    if "FileTooLarge" in error:
        assert "--max-size" in result.err
    if task in ("gone", "expired", "no-url"):
        assert "musicapi download TASK_ID" in result.err


def test_an_error_as_json_names_the_clip_and_the_file(
    run: Callable[..., Any], stub: dict[str, str]
) -> None:
    result = run("download", TASK_OF["expired"], "--json", env=stub)
    assert result.code == 1
    [song] = result.json()["songs"]
    assert song["files"] == {}
    assert song["error"]["type"] == "FileForbiddenError"
    assert song["error"]["status_code"] == 403
    assert "expired-clip" in song["error"]["message"]


def test_hostile_titles_and_stem_types_give_safe_names_for_stems_wav_and_midi(
    run: Callable[..., Any], stub: dict[str, str], tmp_path: Path
) -> None:
    before = _tree(tmp_path)
    args = ("--stems", "--wav", "--midi", "--json")
    result = run("download", TASK_OF["hostile"], "--out", "out", *args, env=stub)
    assert result.code == 0, result.err
    out = (tmp_path / "out").resolve()
    document = result.json()
    songs = document["songs"]
    assert len(songs) == len(HOSTILE_TITLES) + 2
    every: list[str] = []
    for song in songs:
        files = song["files"]
        stems = [kind for kind in files if kind.startswith("stem:")]
        assert len(stems) == len(HOSTILE_PARTS)  # every stem kept, whatever its type
        assert {"audio", "wav", "midi"} <= set(files)
        assert files["wav"].endswith(".wav")  # a WAV, though its host gave no type
        assert files["midi"].endswith(".mid")
        for path in files.values():
            _check_safe_file((tmp_path / path).resolve(), out)
        every += files.values()
    assert len(set(every)) == len(every)  # nothing overwrote anything
    assert document["paths"] == every
    names = {os.path.basename(path) for path in every}
    assert _tree(tmp_path) - before == {"out"} | {f"out/{name}" for name in names}


def test_hostile_stem_types_never_reach_the_terminal_raw(
    run: Callable[..., Any], stub: dict[str, str]
) -> None:
    result = run("download", TASK_OF["hostile"], "--out", "out", "--stems", "--midi", env=stub)
    assert result.code == 0, result.err
    for stream in (result.out, result.err):
        assert not set(stream) & {"\x00", "\x1b", "\x07", "\u202e"}
    assert len(result.out.splitlines()) == len(HOSTILE_TITLES) + 2


def test_an_expired_wav_link_is_a_typed_error_naming_the_file(
    run: Callable[..., Any], stub: dict[str, str], tmp_path: Path
) -> None:
    result = run("download", TASK_OF["wav-expired"], "--out", "out", "--wav", "--json", env=stub)
    assert result.code == 1, result.err
    [song] = result.json()["songs"]
    assert set(song["files"]) == {"audio"}
    assert song["error"]["type"] == "FileForbiddenError"
    assert "the wav file Wav-Expired_-_wav-expired-clip" in song["error"]["message"]
    assert "FileForbiddenError" in result.err
    assert "Traceback" not in result.err
    assert [path.name for path in (tmp_path / "out").iterdir()] == [
        os.path.basename(song["files"]["audio"])
    ]
