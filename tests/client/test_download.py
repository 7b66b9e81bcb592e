"""Downloads: no key on the wire, safe names, no overwrites, errors from the transport's mapping,
any file of a result, a size cap, short bodies, progress, and many files at once."""

from __future__ import annotations

import json
import os
import re
import wave
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

import musicapi
from musicapi import (
    APIConnectionError,
    APITimeoutError,
    AsyncMusicAPI,
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    _download,
    _transport,
)
from musicapi._download import download_clip, file_name_for
from musicapi.models import Clip

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from pathlib import Path

    from musicapi.sandbox import Sandbox

KEY = "sk-live-secret-key-0123456789"
CDN = "https://cdn.test"
WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{port}{n}" for port in ("COM", "LPT") for n in range(10)
}


class Recorder(httpx.AsyncBaseTransport):
    """A transport that records every request, then hands it to `inner`."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def file_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if "/api/" not in r.url.path]


def _carries_credentials(request: httpx.Request) -> bool:
    return "authorization" in request.headers or any(
        KEY in value or "sandbox-key" in value for value in request.headers.values()
    )


def _mock(handler: Callable[[httpx.Request], httpx.Response]) -> Recorder:
    return Recorder(httpx.MockTransport(handler))


def _clip(
    url: str | None = f"{CDN}/a.wav", *, clip_id: str = "clip-1", title: str = "Song"
) -> Clip:
    return Clip(clip_id=clip_id, title=title, audio_url=url)


@pytest.fixture
def mock_api() -> Callable[[Recorder], AsyncMusicAPI]:
    """Build a client with the real key whose every request goes to the given transport."""

    def make(transport: Recorder) -> AsyncMusicAPI:
        return AsyncMusicAPI(api_key=KEY, base_url="https://api.test/api/v1", transport=transport)

    return make


def _files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


# -- the key stays home -------------------------------------------------------------------


async def test_the_file_request_carries_no_key(sandbox: Sandbox, tmp_path: Path) -> None:
    recorder = Recorder(sandbox.transport())
    async with AsyncMusicAPI(
        api_key="sandbox-key",
        base_url=sandbox.base_url,
        transport=recorder,
        clock=sandbox.clock,
    ) as api:
        result = await api.sonic.generate(custom_mode=True, prompt="la la", title="Night Drive")
        path = await api.download(result.clips[0], tmp_path)
    api_requests = [r for r in recorder.requests if "/api/" in r.url.path]
    assert api_requests
    assert all(r.headers["authorization"] == "Bearer sandbox-key" for r in api_requests)
    [file_request] = recorder.file_requests()
    assert not _carries_credentials(file_request)
    assert path.parent == tmp_path
    assert path.name.startswith("Night_Drive_-_")
    with wave.open(str(path)) as audio:
        assert audio.getnframes() > 0


async def test_redirects_are_followed_without_credentials(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.test":
            return httpx.Response(302, headers={"location": "https://mirror.test/hop"})
        if request.url.path == "/hop":
            return httpx.Response(307, headers={"location": "/files/a.wav"})  # relative
        return httpx.Response(200, content=b"RIFF-audio")

    recorder = _mock(handler)
    user_client = httpx.AsyncClient(  # a user's own client, with default credentials
        transport=recorder,
        headers={"Authorization": f"Bearer {KEY}"},
        auth=httpx.BasicAuth("user", KEY),
    )
    async with user_client:
        path = await download_clip(user_client, _clip(), tmp_path)
    assert path.read_bytes() == b"RIFF-audio"
    assert [str(r.url) for r in recorder.requests] == [
        f"{CDN}/a.wav",
        "https://mirror.test/hop",
        "https://mirror.test/files/a.wav",
    ]
    assert not any(_carries_credentials(r) for r in recorder.requests)


async def test_too_many_redirects_is_a_connection_error(
    mock_api: Callable[[Recorder], AsyncMusicAPI], tmp_path: Path
) -> None:
    recorder = _mock(lambda request: httpx.Response(302, headers={"location": "/again"}))
    async with mock_api(recorder) as api:
        with pytest.raises(APIConnectionError, match="clip-1.*redirects"):
            await api.download(_clip(), tmp_path)
    assert len(recorder.requests) == _download.MAX_REDIRECTS + 1
    assert _files(tmp_path) == []


async def test_a_redirect_to_another_scheme_is_refused(
    mock_api: Callable[[Recorder], AsyncMusicAPI], tmp_path: Path
) -> None:
    recorder = _mock(lambda request: httpx.Response(302, headers={"location": "ftp://x/a.wav"}))
    async with mock_api(recorder) as api:
        with pytest.raises(APIConnectionError, match="non-http"):
            await api.download(_clip(), tmp_path)
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "ftp://cdn.test/a.mp3",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "/files/a.mp3",
        "http:///no-host.mp3",
        "http://[not-an-address/a.mp3",
        "http://[::1/a.mp3",
        "https://user@:80/a.mp3",
    ],
)
async def test_a_missing_or_non_http_audio_url_is_a_validation_error(
    mock_api: Callable[[Recorder], AsyncMusicAPI], tmp_path: Path, url: str | None
) -> None:
    recorder = _mock(lambda request: httpx.Response(200, content=b"x"))
    async with mock_api(recorder) as api:
        with pytest.raises(RequestValidationError, match="audio_url") as caught:
            await api.download(_clip(url), tmp_path / "songs")
    assert caught.value.field == "audio_url"
    assert recorder.requests == []


# -- errors: the transport's mapping, naming the clip, never the key ------------------------


ERROR_ANSWERS: list[tuple[Callable[[], httpx.Response], type[Exception]]] = [
    (lambda: httpx.Response(404, json={"error": "file not found"}), NotFoundError),
    (lambda: httpx.Response(500, text="upstream exploded"), ServerError),
    (lambda: httpx.Response(503, json={"message": "busy"}), ServerError),
    (
        lambda: httpx.Response(429, headers={"retry-after": "7"}, json={"error": "slow"}),
        RateLimitError,
    ),
]


@pytest.mark.parametrize(("answer", "error"), ERROR_ANSWERS, ids=["404", "500", "503", "429"])
async def test_error_answers_map_through_the_transport(
    mock_api: Callable[[Recorder], AsyncMusicAPI],
    tmp_path: Path,
    answer: Callable[[], httpx.Response],
    error: type[Exception],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        response = answer()
        response.headers["cf-ray"] = "ray-123"
        return response

    async with mock_api(_mock(handler)) as api:
        with pytest.raises(error) as caught:
            await api.download(_clip(clip_id="clip-404"), tmp_path)
    exc: Any = caught.value
    expected = answer()
    mapped = type(_transport.status_error(expected, None))
    if expected.status_code in (403, 404, 410):  # gone or expired: also FileUnavailableError
        assert type(exc).__mro__[1:3] == (musicapi.FileUnavailableError, mapped)
    else:
        assert type(exc) is mapped
    assert "clip-404" in str(exc)
    assert KEY not in str(exc)
    assert KEY not in repr(exc.body)
    assert exc.status_code == expected.status_code
    assert exc.request_id == "ray-123"
    if expected.headers.get("content-type") == "application/json":
        assert exc.body == json.loads(expected.content)
    else:
        assert exc.body == expected.text
    if isinstance(exc, RateLimitError):
        assert exc.retry_after == 7.0
    assert _files(tmp_path) == []


async def test_a_missing_file_on_the_sandbox_is_not_found(
    client: AsyncMusicAPI, sandbox: Sandbox, tmp_path: Path
) -> None:
    clip = _clip(f"{sandbox.base_url.split('/api/')[0]}/files/no-such-clip.wav")
    with pytest.raises(NotFoundError, match="clip-1") as caught:
        await client.download(clip, tmp_path)
    assert caught.value.status_code == 404
    assert "sandbox-key" not in str(caught.value)


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (httpx.ReadTimeout("slow"), APITimeoutError),
        (httpx.ConnectTimeout("slow"), APITimeoutError),
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.RemoteProtocolError("garbage"), APIConnectionError),
    ],
)
async def test_network_failures_map_through_the_transport(
    mock_api: Callable[[Recorder], AsyncMusicAPI],
    tmp_path: Path,
    failure: httpx.TransportError,
    error: type[Exception],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    async with mock_api(_mock(handler)) as api:
        with pytest.raises(error) as caught:
            await api.download(_clip(clip_id="clip-net"), tmp_path)
    assert type(caught.value) is type(_transport.connection_error("x", failure))
    assert "clip-net" in str(caught.value)
    assert KEY not in str(caught.value)
    assert _files(tmp_path) == []


def test_downloads_use_the_transports_error_mapping() -> None:
    names = vars(_download)
    assert names["connection_error"] is _transport.connection_error
    assert names["status_error"] is _transport.status_error
    assert "error_for_status" not in names


class _Stream(httpx.AsyncByteStream):
    """A body served chunk by chunk, awaiting `between` before each chunk after the first."""

    def __init__(self, chunks: list[bytes], between: Callable[[int], Awaitable[None]]) -> None:
        self.chunks = chunks
        self.between = between

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for index, chunk in enumerate(self.chunks):
            if index:
                await self.between(index)
            yield chunk


async def test_a_failure_mid_stream_leaves_no_file(
    mock_api: Callable[[Recorder], AsyncMusicAPI], tmp_path: Path
) -> None:
    async def fail(index: int) -> None:
        raise httpx.ReadError("connection reset")

    recorder = _mock(lambda request: httpx.Response(200, stream=_Stream([b"a" * 100, b"b"], fail)))
    async with mock_api(recorder) as api:
        with pytest.raises(APIConnectionError, match="clip-1.*ReadError"):
            await api.download(_clip(), tmp_path)
    assert _files(tmp_path) == []


async def test_a_cancelled_download_leaves_no_file(tmp_path: Path) -> None:
    async def stall(index: int) -> None:
        await anyio.sleep_forever()

    handler = lambda request: httpx.Response(200, stream=_Stream([b"a" * 100, b"b"], stall))  # noqa: E731
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        with anyio.move_on_after(0.2):
            await download_clip(http, _clip(), tmp_path)
    assert _files(tmp_path) == []


async def test_the_body_streams_to_disk_in_chunks(tmp_path: Path) -> None:
    chunk = os.urandom(_download.CHUNK_SIZE)
    on_disk: list[int] = []

    async def measure(index: int) -> None:  # before serving chunk `index`, see what is written
        [partial] = tmp_path.glob(".partial-*")
        on_disk.append(partial.stat().st_size)

    handler = lambda request: httpx.Response(200, stream=_Stream([chunk] * 8, measure))  # noqa: E731
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        path = await download_clip(http, _clip(), tmp_path)
    assert path.read_bytes() == chunk * 8
    assert on_disk == [len(chunk) * n for n in range(1, 8)]  # never more than a chunk held


# -- file names ---------------------------------------------------------------------------


def _check_safe(name: str) -> None:
    assert name == os.path.basename(name)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", name), name
    assert not name.startswith(".")
    assert len(name) <= 120
    assert name.split(".", 1)[0].rstrip(" ").upper() not in WINDOWS_DEVICES, name


DEVICE_TITLES = [
    "CON", "con", "Con.x", "NUL", "NUL.x", "nul.tar.gz", "AUX", "aux.mp3", "PRN", "prn.",
    "COM1", "com1.txt", "COM9.x", "LPT1", "LPT9", "lpt9.wav", "COM\u00b9.x", "NUL .x", "  nul.x",
]  # fmt: skip


@pytest.mark.parametrize("title", DEVICE_TITLES)
@pytest.mark.parametrize("clip_id", ["CON", "nul.x", "3f2a-9c"])
def test_windows_device_names_get_a_safe_stem(title: str, clip_id: str) -> None:
    _check_safe(file_name_for(_clip(clip_id=clip_id, title=title), f"{CDN}/a.mp3"))


@pytest.mark.parametrize("title", DEVICE_TITLES)
def test_a_title_or_id_alone_as_a_device_name_is_safe(title: str) -> None:
    _check_safe(file_name_for(Clip(clip_id="", title=title), f"{CDN}/a.mp3"))
    _check_safe(file_name_for(Clip(clip_id=title, title=None), f"{CDN}/a.mp3"))


HOSTILE = [
    "../../etc/passwd",
    "..\\..\\Windows\\System32",
    "/abs/path",
    "..",
    ".hidden",
    "a\x00b\x1fc\x7fd\n\r\t",
    "x" * 10_000,
    "日本語のタイトル",
    "C:\\boot.ini",
    "name:stream",
    "-rf",
    "",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_titles_and_ids_give_one_safe_component(text: str) -> None:
    for clip in (_clip(title=text), _clip(clip_id=text), Clip(clip_id=text, title=text)):
        for url in (f"{CDN}/a.wav", f"{CDN}/../../x.exe", f"{CDN}/{text}"):
            _check_safe(file_name_for(clip, url))


def test_titles_keep_their_letters() -> None:
    assert file_name_for(_clip(title="Café Olé"), f"{CDN}/a.wav") == "Cafe_Ole_-_clip-1.wav"
    assert file_name_for(_clip(title="  "), f"{CDN}/a.m4a?sig=1") == "clip_-_clip-1.m4a"


# -- never overwrite, never duplicate -------------------------------------------------------


def _serve(contents: dict[str, bytes]) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=contents[request.url.path])

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_clips_whose_names_sanitise_alike_never_overwrite_each_other(
    tmp_path: Path,
) -> None:
    first = _clip(f"{CDN}/one.wav", clip_id="abc/1", title="Song?")
    second = _clip(f"{CDN}/two.wav", clip_id="abc\\1", title="Song!")
    assert file_name_for(first, first.audio_url or "") == file_name_for(
        second, second.audio_url or ""
    )
    async with _serve({"/one.wav": b"first song", "/two.wav": b"second song"}) as http:
        one = await download_clip(http, first, tmp_path)
        two = await download_clip(http, second, tmp_path)
        assert one != two
        assert one.read_bytes() == b"first song"
        assert two.read_bytes() == b"second song"
        assert await download_clip(http, first, tmp_path) == one  # no third copy
        assert await download_clip(http, second, tmp_path) == two
    assert _files(tmp_path) == sorted([one.name, two.name])
    assert two.name == "Song_-_abc1-2.wav"


async def test_an_identical_file_is_kept_and_returned(tmp_path: Path) -> None:
    async with _serve({"/a.wav": b"same bytes"}) as http:
        path = await download_clip(http, _clip(), tmp_path)
        before = path.stat()
        again = await download_clip(http, _clip(), tmp_path)
    assert again == path
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert _files(tmp_path) == [path.name]


async def test_a_different_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    name = file_name_for(_clip(), f"{CDN}/a.wav")
    (tmp_path / name).write_bytes(b"the user's own file")
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"do not touch")
    (tmp_path / name.replace(".wav", "-2.wav")).symlink_to(outside)
    async with _serve({"/a.wav": b"downloaded"}) as http:
        path = await download_clip(http, _clip(), tmp_path)
    assert path.name == name.replace(".wav", "-3.wav")
    assert path.read_bytes() == b"downloaded"
    assert (tmp_path / name).read_bytes() == b"the user's own file"
    assert outside.read_bytes() == b"do not touch"


# -- the generic core: any file, its kind, its extension ----------------------------------


def _serving(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("kind", "url", "content_type", "suffix"),
    [
        ("audio", f"{CDN}/file", "audio/mpeg", ".mp3"),
        ("audio", f"{CDN}/file.mp3", "audio/wav; charset=binary", ".wav"),  # the bytes win
        ("audio", f"{CDN}/file.flac", "application/octet-stream", ".flac"),
        ("audio", f"{CDN}/file.png", "image/png", ".mp3"),  # not audio: the kind's default
        ("image", f"{CDN}/cover", "image/png", ".png"),
        ("image", f"{CDN}/cover.jpeg?sig=1", None, ".jpeg"),
        ("image", f"{CDN}/cover", None, ".jpg"),
        ("video", f"{CDN}/clip", "video/mp4", ".mp4"),
        ("video", f"{CDN}/clip.exe", None, ".mp4"),
        ("midi", f"{CDN}/notes", "audio/midi", ".mid"),
        ("midi", f"{CDN}/notes.midi", None, ".midi"),
    ],
)
async def test_download_file_takes_the_extension_from_the_type_then_the_url(
    tmp_path: Path, kind: Any, url: str, content_type: str | None, suffix: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    async with _serving(lambda request: httpx.Response(200, headers=headers, content=b"x")) as http:
        path = await _download.download_file(
            http, url, tmp_path, name_stem="Night Drive - 42", kind=kind
        )
    assert path == tmp_path / f"Night_Drive_-_42{suffix}"
    assert path.read_bytes() == b"x"


@pytest.mark.parametrize("stem", HOSTILE)
async def test_download_file_sanitises_any_stem(tmp_path: Path, stem: str) -> None:
    async with _serving(lambda request: httpx.Response(200, content=b"x")) as http:
        path = await _download.download_file(http, f"{CDN}/a.wav", tmp_path, name_stem=stem)
    assert path.parent == tmp_path
    _check_safe(path.name)


@pytest.mark.parametrize("text", [*HOSTILE, *DEVICE_TITLES])
def test_safe_stem_is_idempotent_and_safe(text: str) -> None:
    stem = _download.safe_stem(text)
    assert _download.safe_stem(stem) == stem
    _check_safe(stem + ".wav")


@pytest.mark.parametrize("url", [None, "", "ftp://x/a", "/relative", "http://[::1/a"])
async def test_download_file_without_a_usable_url_is_file_url_missing(
    tmp_path: Path, url: str | None
) -> None:
    async with _serving(lambda request: httpx.Response(200)) as http:
        with pytest.raises(musicapi.FileURLMissingError) as caught:
            await _download.download_file(http, url, tmp_path, name_stem="x")
    assert isinstance(caught.value, RequestValidationError)
    assert caught.value.field == "url"


# -- a clip's other files -----------------------------------------------------------------


async def test_a_clips_cover_image_is_saved_as_a_jpeg(
    client: AsyncMusicAPI, tmp_path: Path
) -> None:
    result = await client.sonic.generate(custom_mode=True, prompt="la", title="Cover Me")
    clip = result.clips[0]
    path = await download_clip(client._transport.http_client, clip, tmp_path, what="image")
    assert path.name == f"Cover_Me_-_{clip.clip_id}.jpg"
    assert path.read_bytes()[:2] == b"\xff\xd8"


async def test_a_clip_without_the_file_asked_for_names_it(tmp_path: Path) -> None:
    clip = Clip(clip_id="clip-7", title="x", audio_url=f"{CDN}/a.wav", video_url=None)
    async with _serving(lambda request: httpx.Response(200)) as http:
        with pytest.raises(musicapi.FileURLMissingError, match="clip-7.*video_url") as caught:
            await download_clip(http, clip, tmp_path, what="video")
    assert isinstance(caught.value, musicapi.FileUnavailableError)
    assert (caught.value.clip_id, caught.value.kind, caught.value.field) == (
        "clip-7",
        "video",
        "video_url",
    )


@pytest.mark.parametrize(
    ("status", "body", "error", "base"),
    [
        (
            403,
            {"message": "Request has expired"},
            musicapi.FileForbiddenError,
            PermissionDeniedError,
        ),
        (403, {"message": "no subscription"}, musicapi.FileForbiddenError, PermissionDeniedError),
        (404, {"error": "gone"}, musicapi.FileNotFoundOnHostError, NotFoundError),
        (410, {"error": "gone"}, musicapi.FileGoneError, BadRequestError),
    ],
)
async def test_an_expired_or_missing_file_is_file_unavailable_and_the_status_class(
    tmp_path: Path, status: int, body: Any, error: type[Exception], base: type[Exception]
) -> None:
    async with _serving(lambda request: httpx.Response(status, json=body)) as http:
        with pytest.raises(error) as caught:
            await download_clip(http, _clip(clip_id="clip-9"), tmp_path, what="audio")
    exc = caught.value
    assert isinstance(exc, musicapi.FileUnavailableError)
    assert isinstance(exc, base)
    assert (exc.clip_id, exc.kind, exc.status_code, exc.body) == ("clip-9", "audio", status, body)
    assert "the audio of clip clip-9" in str(exc)
    assert "expired" in str(exc)
    assert _files(tmp_path) == []


@pytest.mark.parametrize(
    "error",
    [
        musicapi.FileTooLargeError("m", limit=5, size=9, clip_id="c", kind="audio"),
        musicapi.FileNotFoundOnHostError("m", clip_id="c", kind="image", status_code=404),
        musicapi.FileURLMissingError("m", clip_id="c", kind="video", field="video_url"),
    ],
)
def test_download_errors_pickle(error: Exception) -> None:
    import pickle

    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert type(copy) is type(error)
    assert vars(copy) == vars(error)
    assert str(copy) == str(error)


# -- the size cap, short bodies, progress ---------------------------------------------------


async def test_a_declared_length_over_the_cap_is_refused_before_the_body(tmp_path: Path) -> None:
    served: list[int] = []

    async def count(index: int) -> None:
        served.append(index)

    def handler(request: httpx.Request) -> httpx.Response:
        stream = _Stream([b"a" * 10, b"b" * 10], count)
        return httpx.Response(200, headers={"content-length": "2000000"}, stream=stream)

    async with _serving(handler) as http:
        with pytest.raises(musicapi.FileTooLargeError, match="clip-1.*1000000-byte cap") as caught:
            await download_clip(http, _clip(), tmp_path, max_bytes=1_000_000)
    assert (caught.value.limit, caught.value.size, caught.value.clip_id) == (
        1_000_000,
        2_000_000,
        "clip-1",
    )
    assert served == []  # not one chunk after the first was asked for
    assert _files(tmp_path) == []


async def test_a_body_that_grows_past_the_cap_is_cut_off_and_removed(tmp_path: Path) -> None:
    async def nothing(index: int) -> None:
        pass

    handler = lambda request: httpx.Response(200, stream=_Stream([b"a" * 600] * 5, nothing))  # noqa: E731
    async with _serving(handler) as http:
        with pytest.raises(musicapi.FileTooLargeError) as caught:
            await download_clip(http, _clip(), tmp_path, max_bytes=1000)
        assert caught.value.size is None
        assert _files(tmp_path) == []
        path = await download_clip(http, _clip(), tmp_path, max_bytes=3000)  # exactly the cap
        assert path.stat().st_size == 3000
        assert (await download_clip(http, _clip(), tmp_path, max_bytes=None)) == path


async def test_the_cap_counts_decoded_bytes_not_compressed_ones(tmp_path: Path) -> None:
    import gzip

    body = gzip.compress(b"a" * 100_000)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-encoding": "gzip"}, content=body)

    async with _serving(handler) as http:
        path = await download_clip(http, _clip(), tmp_path)  # no false "cut short"
        assert path.read_bytes() == b"a" * 100_000
        with pytest.raises(musicapi.FileTooLargeError):
            await download_clip(http, _clip(clip_id="bomb"), tmp_path, max_bytes=50_000)


async def test_a_body_shorter_than_declared_is_a_connection_error(tmp_path: Path) -> None:
    async def nothing(index: int) -> None:
        pass

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-length": "100"}, stream=_Stream([b"a" * 10], nothing)
        )

    async with _serving(handler) as http:
        with pytest.raises(APIConnectionError, match="clip-1.*cut short after 10 of 100 bytes"):
            await download_clip(http, _clip(), tmp_path)
    assert _files(tmp_path) == []


@pytest.mark.parametrize("declared", [True, False])
async def test_progress_reports_bytes_as_they_arrive(tmp_path: Path, declared: bool) -> None:
    async def nothing(index: int) -> None:
        pass

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-length": "300"} if declared else {}
        return httpx.Response(200, headers=headers, stream=_Stream([b"a" * 100] * 3, nothing))

    seen: list[tuple[int, int | None]] = []
    async with _serving(handler) as http:
        await download_clip(http, _clip(), tmp_path, progress=lambda *update: seen.append(update))
    total = 300 if declared else None
    assert seen[0] == (0, total)
    assert seen[-1] == (300, total)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_bytes": 0}, "max_bytes"),
        ({"max_bytes": True}, "max_bytes"),
        ({"max_bytes": 1.5}, "max_bytes"),
        ({"what": "stems"}, "what"),
        ({"what": "midi"}, "what"),  # a clip carries no MIDI: that comes from its operation
    ],
)
async def test_bad_download_arguments_are_validation_errors(
    tmp_path: Path, kwargs: dict[str, Any], field: str
) -> None:
    async with _serving(lambda request: httpx.Response(200)) as http:
        with pytest.raises(RequestValidationError) as caught:
            await download_clip(http, _clip(), tmp_path, **kwargs)
    assert caught.value.field == field


# -- many files at once ---------------------------------------------------------------------


async def test_download_many_saves_every_file_of_every_clip_in_order(
    client: AsyncMusicAPI, tmp_path: Path
) -> None:
    first = await client.sonic.generate(gpt_description_prompt="lofi hip hop")
    second = await client.sonic.generate(gpt_description_prompt="jazz trio")
    seen: list[tuple[int, int | None]] = []
    paths = await _download.download_many(
        client._transport.http_client,
        [first, second.clips[1]],
        tmp_path,
        what=("audio", "image", "audio"),
        progress=lambda *update: seen.append(update),
    )
    clips = [*first.clips, second.clips[1]]
    assert [path.name for path in paths] == [
        f"{_download.clip_stem(clip)}{suffix}" for clip in clips for suffix in (".wav", ".jpg")
    ]
    total = sum(path.stat().st_size for path in paths)
    assert seen[-1] == (total, total)
    assert all(isinstance(done, int) for done, _ in seen)


async def test_download_many_keeps_to_its_concurrency(tmp_path: Path) -> None:
    running = peak = 0

    async def pause(index: int) -> None:
        await anyio.sleep(0.01)

    class Counting(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)

            async def finish(index: int) -> None:
                nonlocal running
                await pause(index)
                if index == 2:
                    running -= 1

            return httpx.Response(200, stream=_Stream([b"a", b"b", b""], finish))

    clips = [_clip(f"{CDN}/{n}.wav", clip_id=f"c{n}") for n in range(9)]
    async with httpx.AsyncClient(transport=Counting()) as http:
        paths = await _download.download_many(http, clips, tmp_path, concurrency=3)
    assert len(paths) == 9
    assert peak == 3


async def test_download_many_checks_every_url_before_fetching_any(tmp_path: Path) -> None:
    recorder = _mock(lambda request: httpx.Response(200, content=b"x"))
    clips = [_clip(clip_id="ok"), _clip(None, clip_id="broken")]
    async with httpx.AsyncClient(transport=recorder) as http:
        with pytest.raises(musicapi.FileURLMissingError, match="broken"):
            await _download.download_many(http, clips, tmp_path)
    assert recorder.requests == []


async def test_download_many_stops_at_the_first_failure_and_raises_it_as_itself(
    tmp_path: Path,
) -> None:
    async def stall(index: int) -> None:
        await anyio.sleep_forever()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/gone.wav":
            return httpx.Response(410)
        if request.url.path == "/done.wav":
            return httpx.Response(200, content=b"done")
        return httpx.Response(200, stream=_Stream([b"partial", b"never"], stall))

    names = ("done", "slow-1", "gone", "slow-2")
    clips = [_clip(f"{CDN}/{name}.wav", clip_id=name) for name in names]
    async with _serving(handler) as http:
        with anyio.fail_after(5), pytest.raises(musicapi.FileGoneError, match="clip gone"):
            await _download.download_many(http, clips, tmp_path, concurrency=4)
    assert set(_files(tmp_path)) <= {"Song_-_done.wav"}  # the stalled ones left no partial


@pytest.mark.parametrize(
    ("items", "kwargs", "field"),
    [
        ("not clips", {}, "items"),
        ([object()], {}, "items"),
        ([], {"concurrency": 0}, "concurrency"),
        ([], {"what": ()}, "what"),
        ([], {"what": ["audio", "wav"]}, "what"),
        ([], {"max_bytes": -1}, "max_bytes"),
    ],
)
async def test_download_many_arguments_are_checked(
    tmp_path: Path, items: Any, kwargs: dict[str, Any], field: str
) -> None:
    async with _serving(lambda request: httpx.Response(200)) as http:
        with pytest.raises(RequestValidationError) as caught:
            await _download.download_many(http, items, tmp_path, **kwargs)
    assert caught.value.field == field


async def test_download_many_sends_no_credentials(tmp_path: Path) -> None:
    recorder = _mock(lambda request: httpx.Response(200, content=request.url.path.encode()))
    user_client = httpx.AsyncClient(
        transport=recorder,
        headers={"Authorization": f"Bearer {KEY}"},
        auth=httpx.BasicAuth("u", KEY),
    )
    clips = [Clip(clip_id="c", title="t", audio_url=f"{CDN}/a.mp3", image_url=f"{CDN}/c.png")]
    async with user_client:
        paths = await _download.download_many(user_client, clips, tmp_path, what=["audio", "image"])
    assert [path.suffix for path in paths] == [".mp3", ".png"]
    assert len(recorder.requests) == 2
    assert not any(_carries_credentials(r) for r in recorder.requests)


async def test_download_file_names_the_clip_and_the_file_in_its_errors(tmp_path: Path) -> None:
    async with _serving(lambda request: httpx.Response(404)) as http:
        with pytest.raises(musicapi.FileNotFoundOnHostError, match="the WAV of clip c-1") as caught:
            await _download.download_file(
                http, f"{CDN}/x.wav", tmp_path, name_stem="s", clip_id="c-1", label="WAV"
            )
        with pytest.raises(musicapi.FileURLMissingError, match="clip c-2") as missing:
            await _download.download_file(http, None, tmp_path, name_stem="s", clip_id="c-2")
    assert (caught.value.clip_id, caught.value.kind) == ("c-1", "audio")
    assert missing.value.clip_id == "c-2"


# -- any URL a result carries: download_url -------------------------------------------------


async def test_download_url_saves_a_wav_export_without_the_key(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    recorder = Recorder(sandbox.transport())
    async with AsyncMusicAPI(
        api_key="sandbox-key", base_url=sandbox.base_url, transport=recorder, clock=sandbox.clock
    ) as api:
        result = await api.sonic.generate(custom_mode=True, prompt="la la", title="Night Drive")
        clip = result.clips[0]
        wav = await api.sonic.wav(clip.clip_id)
        path = await api.download_url(
            wav.wav_url, tmp_path, name=_download.clip_stem(clip), kind="wav"
        )
    assert path == tmp_path / f"Night_Drive_-_{clip.clip_id}.wav"
    [file_request] = recorder.file_requests()
    assert not _carries_credentials(file_request)
    with wave.open(str(path)) as audio:
        assert audio.getnframes() > 0


async def test_download_url_saves_a_midi_file_and_stems(
    client: AsyncMusicAPI, tmp_path: Path
) -> None:
    result = await client.sonic.generate(custom_mode=True, prompt="la", title="Split Me")
    clip = result.clips[0]
    midi = await client.sonic.midi(clip.clip_id)
    path = await client.download_url(
        midi.midi_url, tmp_path, name=_download.clip_stem(clip), kind="midi"
    )
    assert path.name == f"Split_Me_-_{clip.clip_id}.mid"
    assert path.read_bytes()[:4] == b"MThd"
    stems = await client.sonic.wait(await client.sonic.stems_basic(clip.clip_id))
    for stem in stems.clips:
        assert stem.stem_type is not None
        saved = await client.download_url(
            stem.audio_url, tmp_path, name=_download.clip_stem(clip, stem.stem_type)
        )
        assert saved.name == f"Split_Me_-_{clip.clip_id}-{stem.stem_type}.wav"
        with wave.open(str(saved)) as audio:
            assert audio.getnframes() > 0


@pytest.mark.parametrize(
    ("kind", "url", "content_type", "suffix"),
    [
        ("wav", f"{CDN}/export", None, ".wav"),  # never an .mp3 for a WAV export
        ("wav", f"{CDN}/export.mp3", "audio/mpeg", ".wav"),
        ("wav", f"{CDN}/export", "audio/x-wav", ".wav"),
        ("audio", f"{CDN}/stem", None, ".mp3"),
        ("audio", f"{CDN}/stem.wav?sig=1", None, ".wav"),
        ("midi", f"{CDN}/notes", "application/octet-stream", ".mid"),
    ],
)
async def test_download_url_takes_the_extension_from_the_kind_type_and_url(
    mock_api: Callable[[Recorder], AsyncMusicAPI],
    tmp_path: Path,
    kind: Any,
    url: str,
    content_type: str | None,
    suffix: str,
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    recorder = _mock(lambda request: httpx.Response(200, headers=headers, content=b"x"))
    async with mock_api(recorder) as api:
        path = await api.download_url(url, tmp_path, name="Night Drive - 42", kind=kind)
    assert path == tmp_path / f"Night_Drive_-_42{suffix}"
    assert not any(_carries_credentials(r) for r in recorder.requests)


@pytest.mark.parametrize("name", HOSTILE)
async def test_download_url_sanitises_any_name(
    mock_api: Callable[[Recorder], AsyncMusicAPI], tmp_path: Path, name: str
) -> None:
    recorder = _mock(lambda request: httpx.Response(200, content=b"x"))
    async with mock_api(recorder) as api:
        path = await api.download_url(f"{CDN}/../../a.wav", tmp_path, name=name, kind="wav")
    assert path.parent == tmp_path
    _check_safe(path.name)
    assert _files(tmp_path) == [path.name]


async def test_download_url_keeps_same_bytes_and_never_overwrites_others(
    mock_api: Callable[[Recorder], AsyncMusicAPI], tmp_path: Path
) -> None:
    contents = {"/a.mid": b"MThd one", "/b.mid": b"MThd two"}
    recorder = _mock(lambda request: httpx.Response(200, content=contents[request.url.path]))
    async with mock_api(recorder) as api:
        first = await api.download_url(f"{CDN}/a.mid", tmp_path, name="song", kind="midi")
        again = await api.download_url(f"{CDN}/a.mid", tmp_path, name="song", kind="midi")
        other = await api.download_url(f"{CDN}/b.mid", tmp_path, name="song", kind="midi")
    assert first == again == tmp_path / "song.mid"
    assert other == tmp_path / "song-2.mid"
    assert (first.read_bytes(), other.read_bytes()) == (b"MThd one", b"MThd two")


async def test_download_url_errors_are_typed_and_name_the_file(
    mock_api: Callable[[Recorder], AsyncMusicAPI], tmp_path: Path
) -> None:
    statuses = {"/gone.wav": 410, "/big.wav": 200}
    not_a_kind: Any = "pdf"
    not_a_name: Any = b"Song"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(statuses[request.url.path], content=b"y" * 100)

    async with mock_api(_mock(handler)) as api:
        with pytest.raises(musicapi.FileGoneError, match="the wav file Song_-_c-1 failed") as gone:
            await api.download_url(f"{CDN}/gone.wav", tmp_path, name="Song - c-1", kind="wav")
        with pytest.raises(musicapi.FileTooLargeError, match="10-byte cap") as big:
            await api.download_url(f"{CDN}/big.wav", tmp_path, name="Song", max_bytes=10)
        with pytest.raises(musicapi.FileURLMissingError) as missing:
            await api.download_url(None, tmp_path, name="Song", kind="midi")
        with pytest.raises(RequestValidationError) as bad_kind:
            await api.download_url(f"{CDN}/big.wav", tmp_path, name="Song", kind=not_a_kind)
        with pytest.raises(RequestValidationError) as bad_name:
            await api.download_url(f"{CDN}/big.wav", tmp_path, name=not_a_name)
    assert (gone.value.kind, gone.value.status_code) == ("wav", 410)
    assert big.value.limit == 10
    assert (missing.value.field, missing.value.kind) == ("url", "midi")
    assert (bad_kind.value.field, bad_name.value.field) == ("what", "name")
    assert _files(tmp_path) == []


async def test_download_url_reports_progress(
    mock_api: Callable[[Recorder], AsyncMusicAPI], tmp_path: Path
) -> None:
    seen: list[tuple[int, int | None]] = []
    recorder = _mock(lambda request: httpx.Response(200, content=b"z" * 1000))
    async with mock_api(recorder) as api:
        await api.download_url(
            f"{CDN}/a.wav",
            tmp_path,
            name="s",
            progress=lambda done, total: seen.append((done, total)),
        )
    assert seen[0] == (0, 1000)
    assert seen[-1] == (1000, 1000)


def test_the_sync_client_saves_by_url_too(
    sync_client_factory: Callable[..., musicapi.MusicAPI], sandbox: Sandbox, tmp_path: Path
) -> None:
    api = sync_client_factory(sandbox)
    clip = api.sonic.generate(custom_mode=True, prompt="la", title="In Sync").clips[0]
    assert clip.image_url is not None
    path = api.download_url(clip.image_url, tmp_path, name="cover of In Sync", kind="image")
    assert path == tmp_path / "cover_of_In_Sync.jpg"
    assert path.read_bytes()[:2] == b"\xff\xd8"


# -- the names of a clip's other files ------------------------------------------------------


def test_a_clips_part_is_named_after_the_clip_and_kept_whole() -> None:
    clip = _clip(title="Night Drive", clip_id="3f2a-9c")
    assert _download.clip_stem(clip) == "Night_Drive_-_3f2a-9c"
    assert _download.clip_stem(clip, "vocals") == "Night_Drive_-_3f2a-9c-vocals"
    long_id = "0b7f6c1e-1111-2222-3333-444455556666"
    long = _download.clip_stem(_clip(title="x" * 5000, clip_id=long_id), "instrumental")
    assert long.endswith(f"_-_{long_id}-instrumental")
    assert len(long) <= _download.STEM_CHARS


@pytest.mark.parametrize("part", [*HOSTILE, *DEVICE_TITLES])
def test_a_hostile_part_gives_one_safe_component(part: str) -> None:
    for clip in (_clip(), _clip(title=part), _clip(clip_id=part), Clip(clip_id=part, title=part)):
        stem = _download.clip_stem(clip, part)
        _check_safe(stem + ".wav")
        assert stem != _download.clip_stem(clip)  # a part never names the song's own file
