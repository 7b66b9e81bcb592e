"""Saving a result's files to disk: streamed, capped, never with the API key.

One core, `download_file`, fetches any file a result carries: a clip's audio, cover
image and video (`download_clip`, `download_many`), and any other URL of a result, such
as the WAV, stems and MIDI of their operations (`AsyncMusicAPI.download_url`): each only
has to hand the core a URL, a name stem and a kind (`"audio"`, `"image"`, `"video"`,
`"wav"`, `"midi"`).

Files live on a CDN, not on the API host, so a download must not carry the
`Authorization` header: every request of a download (the first and each redirect) is
built here without credentials, and the client's own `auth` is switched off for it, so
a user's `http_client` with default credentials does not leak them either. Redirects are
followed one hop at a time for that reason, and only to http(s) URLs.

The body is streamed to disk in chunks of `CHUNK_SIZE`, so memory stays bounded
whatever the file's size, and counted against a size cap (`max_bytes`, 1 GiB by
default): a declared `Content-Length` over the cap is refused before a byte is read,
and a body that grows past it is cut off there (`FileTooLargeError`). A body shorter
than its declared length is an `APIConnectionError`, never a truncated file.

File names come from sanitised titles (or any stem) and ids, never from the URL, so a
hostile title or URL cannot write outside the chosen folder, name a Windows device
(`CON`, `NUL.txt`, `COM1`...) or carry control characters. Only the extension is taken
from the answer: its `Content-Type` if that names a type of the expected kind, else the
URL's suffix if it is one, else the kind's usual one (`.mp3`, `.jpg`, `.mp4`, `.wav`,
`.mid`).
The file is written under a temporary name and then linked into place without replacing
anything: a file of the same name with the same bytes is kept (downloading twice makes
one copy), and one with other bytes is never overwritten (the new file gets a counter
suffix), so two clips whose titles sanitise alike both survive.

Errors go through the transport's `connection_error` and `status_error`, the one place
where httpx exceptions and status codes become `MusicAPIError` classes. A file that is
not there to fetch (no URL, or a 403, 404 or 410 from the file host: signed links
expire) is also a `FileUnavailableError` naming the clip and the file, so that one
`except` covers it while `except NotFoundError` keeps working.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
import unicodedata
from collections.abc import AsyncGenerator, Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Literal, TypeAlias, cast, get_args
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import attrs
import httpx

from musicapi._errors import (
    APIConnectionError,
    FileForbiddenError,
    FileGoneError,
    FileNotFoundOnHostError,
    FileTooLargeError,
    FileUnavailableError,
    FileURLMissingError,
    MalformedResponseError,
    MusicAPIError,
    RequestValidationError,
)
from musicapi._models import Clip, GenerationResult
from musicapi._transport import connection_error, status_error

__all__ = [
    "DEFAULT_MAX_BYTES",
    "ClipFile",
    "FileKind",
    "Progress",
    "clip_stem",
    "download_clip",
    "download_file",
    "download_many",
    "file_name_for",
    "safe_stem",
]

FileKind = Literal["audio", "image", "video", "wav", "midi"]
"""What a file holds; it picks the extensions allowed and the default one.

`"wav"` is audio that must be a WAV (a lossless export), so that it is never named
`.mp3` when its host sends no usable type or suffix."""
ClipFile = Literal["audio", "image", "video"]
"""The files a clip carries itself (`audio_url`, `image_url`, `video_url`)."""
Progress: TypeAlias = Callable[[int, "int | None"], None]
"""`progress(done_bytes, total_bytes)`, with `total_bytes` `None` when not known."""

CHUNK_SIZE = 64 * 1024
DEFAULT_MAX_BYTES = 1024**3
"""1 GiB: far above a song's MP3, WAV or video, far below a full disk."""
DEFAULT_CONCURRENCY = 4
"""Files fetched at once by `download_many`: enough to hide latency, polite to a CDN."""
MAX_REDIRECTS = 10
MAX_ERROR_BODY = 64 * 1024
"""How much of an error answer is read for the exception's `.body`."""
MAX_SAME_NAME = 1000
"""How many `name-N` variants are tried before giving up on a crowded folder."""
TITLE_CHARS = 60
ID_CHARS = 36
PART_CHARS = 20
"""The longest part of a clip's file named after it (`vocals`, `instrumental`, ...)."""
STEM_CHARS = TITLE_CHARS + ID_CHARS + 4
"""The longest stem: a clip's title, ` - ` and its id fit, so a clip's stem is kept whole.

A part (`-vocals`) takes its room from the title, never from the id or the part."""

SUFFIXES: dict[str, tuple[str, ...]] = {
    "audio": (".mp3", ".wav", ".m4a", ".ogg", ".flac", ".aac", ".opus"),
    "image": (".jpg", ".jpeg", ".png", ".webp"),
    "video": (".mp4", ".webm", ".mov"),
    "wav": (".wav",),
    "midi": (".mid", ".midi"),
}
"""The extensions allowed per kind; the first is the default."""
CONTENT_TYPES = {
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/wav": ".wav",
    "audio/wave": ".wav",
    "audio/x-wav": ".wav",
    "audio/vnd.wave": ".wav",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/ogg": ".ogg",
    "audio/flac": ".flac",
    "audio/x-flac": ".flac",
    "audio/aac": ".aac",
    "audio/opus": ".opus",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
    "audio/midi": ".mid",
    "audio/mid": ".mid",
    "audio/x-midi": ".mid",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in range(10)}
)


_UNAVAILABLE: dict[int, type[FileUnavailableError]] = {
    403: FileForbiddenError,
    404: FileNotFoundOnHostError,
    410: FileGoneError,
}


@attrs.frozen
class _Target:
    """What is being downloaded, for messages and errors."""

    what: str
    """`downloading the audio of clip X`: the start of every error message."""
    kind: str
    clip_id: str | None = None


# -- names -------------------------------------------------------------------------------


def safe_stem(text: str, limit: int = STEM_CHARS) -> str:
    """Return `text` as a safe file name stem: one component, ASCII, never a device.

    Only letters, digits, `.`, `_` and `-` remain (spaces become `_`); the stem never
    starts with a dot, is at most `limit` characters (plus a leading `_` for a name
    Windows reserves) and is `file` if nothing is left. Applying it twice changes
    nothing.
    """
    stem = _sanitise(text, limit).replace(" ", "_") or "file"
    return f"_{stem}" if _is_windows_device(stem) else stem


def file_name_for(
    clip: Clip, url: str, kind: ClipFile = "audio", content_type: str | None = None
) -> str:
    """Return a safe file name: the sanitised title, the clip id and the file's suffix.

    The name is one path component of at most about 110 ASCII characters (letters,
    digits, `.`, `_`, `-`), never hidden (no leading dot) and never a Windows device
    name, whatever the title and id hold.
    """
    return clip_stem(clip) + suffix_for(kind, url, content_type)


def suffix_for(kind: str, url: str, content_type: str | None = None) -> str:
    """Return the file's extension: from its content type, else its URL, else the kind's."""
    allowed = SUFFIXES.get(kind, SUFFIXES["audio"])
    media = (content_type or "").split(";", 1)[0].strip().lower()
    by_type = CONTENT_TYPES.get(media)
    if by_type is not None and by_type in allowed:
        return by_type
    suffix = PurePosixPath(_url_path(url)).suffix.lower()
    return suffix if suffix in allowed else allowed[0]


def clip_stem(clip: Clip, part: str | None = None) -> str:
    """Return the stem of a clip's files: `Title_-_clip-id`, each piece sanitised alone.

    Operations that make more files of a clip name theirs from it, so a clip's files
    sort together: its WAV export and MIDI keep the stem (their extensions differ),
    and each of its stems adds its part, `Title_-_clip-id-vocals`. A part shortens
    the title, not the id, so the stem stays within `STEM_CHARS` and unique per clip.

    Args:
        clip: The clip the file belongs to.
        part: What part of the clip the file holds (a stem's type), if any; sanitised,
            at most `PART_CHARS` characters, `part` if nothing safe is left of it.
    """
    tail = (_sanitise(part, PART_CHARS) or "part") if part is not None else ""
    room = TITLE_CHARS - (len(tail) + 1 if tail else 0)
    title = _sanitise(clip.title or "", room) or "clip"
    clip_id = _sanitise(clip.clip_id, ID_CHARS) or "unknown"
    return safe_stem(f"{title} - {clip_id}" + (f"-{tail}" if tail else ""))


def _url_path(url: str) -> str:
    """Return the path of `url` (empty if it cannot be parsed)."""
    try:
        return httpx.URL(url).path
    except httpx.InvalidURL:
        return ""


def _sanitise(text: str, limit: int) -> str:
    """Fold `text` to ASCII, keep only safe characters, trim separators, and cut it short."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    safe = _UNSAFE.sub("", folded).strip(" ._-")
    return safe[:limit].rstrip(" ._-")


def _is_windows_device(stem: str) -> bool:
    """Tell whether Windows would open a device for this name (`NUL`, `com1.x`, `Aux .y`).

    Windows ignores everything from the first dot, and trailing spaces, when it checks
    for a reserved device name, whatever the case.
    """
    return stem.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES


# -- public entry points -----------------------------------------------------------------


async def download_file(
    http_client: httpx.AsyncClient,
    url: str | None,
    directory: str | os.PathLike[str],
    *,
    name_stem: str,
    kind: FileKind = "audio",
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    progress: Progress | None = None,
    clip_id: str | None = None,
    label: str | None = None,
) -> Path:
    """Stream any file into `directory` as `<safe stem>.<ext>` and return its path.

    The core every download goes through; `download_clip` and
    `AsyncMusicAPI.download_url` (the URLs of WAV exports, stems, MIDI, ...) build on
    it, for example `download_file(http, answer.wav_url, out, name_stem=clip_stem(clip),
    kind="wav", clip_id=clip.clip_id, label="WAV")`.

    Args:
        http_client: The client to send through; its credentials are never used.
        url: The file's http(s) URL.
        directory: The folder to write into; created if missing.
        name_stem: The name without extension; it is sanitised (see `safe_stem`).
        kind: What the file holds; picks the extension.
        max_bytes: The most bytes to accept; `None` for no cap.
        progress: Called as `progress(done_bytes, total_bytes_or_None)` as bytes arrive.
        clip_id: The clip the file belongs to, named in errors (and kept on them);
            without it, errors name the file by its stem.
        label: What the file is, for errors (`"WAV"`, `"vocals stem"`); the kind if
            not given.

    Raises:
        FileURLMissingError: `url` is missing or not an absolute http(s) URL.
        FileUnavailableError: The host answered 403, 404 or 410.
        FileTooLargeError: The file is larger than `max_bytes`.
        APIStatusError: The host answered another error (`ServerError` for 5xx, ...).
        APIConnectionError: The network failed, or the body was cut short.
        MalformedResponseError: The file's content encoding could not be decoded.
        OSError: The file could not be written.
    """
    checked_kind = _check_kind(kind, FileKind)
    stem = safe_stem(_check_name(name_stem))
    owner = f" of clip {clip_id}" if clip_id is not None else f" file {stem}"
    target = _Target(f"downloading the {label or checked_kind}{owner}", checked_kind, clip_id)
    checked = _checked_url(url, target, field="url")
    limit = _check_max_bytes(max_bytes)
    return await _download(http_client, checked, directory, stem, target, limit, progress)


async def download_clip(
    http_client: httpx.AsyncClient,
    clip: Clip,
    directory: str | os.PathLike[str],
    *,
    what: ClipFile = "audio",
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    progress: Progress | None = None,
) -> Path:
    """Stream one of a clip's files (its audio by default) into `directory`.

    The file is written under a temporary name and moved into place when complete, so
    an interrupted download never leaves a truncated file behind. An existing file with
    the same name and the same bytes is kept and its path returned; one with other
    bytes is never overwritten (the new file gets a `-2`, `-3`, ... suffix).

    Args:
        http_client: The client to send through; its credentials are never used.
        clip: The clip whose file to fetch.
        directory: The folder to write into; created if missing.
        what: `"audio"` (`audio_url`), `"image"` (`image_url`) or `"video"` (`video_url`).
        max_bytes: The most bytes to accept; `None` for no cap.
        progress: Called as `progress(done_bytes, total_bytes_or_None)` as bytes arrive.

    Raises:
        FileURLMissingError: The clip has no http(s) URL for that file (nothing sent;
            also a `RequestValidationError` whose `.field` is e.g. `audio_url`).
        FileUnavailableError: The file host answered 403, 404 or 410 (the link expired).
        FileTooLargeError: The file is larger than `max_bytes`.
        APIStatusError: The file host answered another error (`ServerError` for 5xx).
        APIConnectionError: The network failed (`APITimeoutError` for a timeout), or
            the body was shorter than declared.
        MalformedResponseError: The file's content encoding could not be decoded.
        OSError: The file could not be written.
    """
    kind = _check_kind(what, ClipFile)
    target = _Target(f"downloading the {kind} of clip {clip.clip_id}", kind, clip.clip_id)
    url = _clip_url(clip, target)
    return await _download(
        http_client, url, directory, clip_stem(clip), target, _check_max_bytes(max_bytes), progress
    )


async def download_many(
    http_client: httpx.AsyncClient,
    items: Clip | GenerationResult | Iterable[Clip | GenerationResult],
    directory: str | os.PathLike[str],
    *,
    what: ClipFile | Iterable[ClipFile] = "audio",
    concurrency: int = DEFAULT_CONCURRENCY,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    progress: Progress | None = None,
) -> list[Path]:
    """Download the chosen files of many clips, at most `concurrency` at a time.

    Every URL is checked before anything is fetched, so a clip without the file asked
    for fails at once. The first failure stops the others (their partial files are
    removed; finished files stay) and is raised as itself, not in an exception group.

    Args:
        http_client: The client to send through; its credentials are never used.
        items: Clips, results (each contributes its clips), or an iterable of both.
        directory: The folder to write into; created if missing.
        what: One kind or several, e.g. `("audio", "image")`.
        concurrency: The most files in flight at once.
        max_bytes: The most bytes to accept per file; `None` for no cap.
        progress: Called as `progress(done_bytes, total_bytes_or_None)` summed over
            every file; the total is known once every file has declared its length.

    Returns:
        The paths, clip by clip and, within a clip, in the order of `what`.

    Raises:
        RequestValidationError: `items`, `what` or `concurrency` is not usable.
        FileUnavailableError, FileTooLargeError, APIStatusError, APIConnectionError,
            OSError: As for `download_clip`, for the first file that failed.
    """
    kinds = _check_kinds(what)
    _check_concurrency(concurrency)
    limit = _check_max_bytes(max_bytes)
    jobs: list[tuple[str, _Target, str]] = []
    for clip in _clips_of(items):
        for kind in kinds:
            target = _Target(f"downloading the {kind} of clip {clip.clip_id}", kind, clip.clip_id)
            jobs.append((_clip_url(clip, target), target, clip_stem(clip)))
    tally = _Tally(len(jobs), progress)
    paths: list[Path | None] = [None] * len(jobs)
    failures: list[Exception] = []
    limiter = anyio.CapacityLimiter(concurrency)

    async def fetch(index: int, url: str, target: _Target, stem: str) -> None:
        async with limiter:
            try:
                paths[index] = await _download(
                    http_client, url, directory, stem, target, limit, tally.callback(index)
                )
            except Exception as exc:
                failures.append(exc)
                group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for index, (url, target, stem) in enumerate(jobs):
            group.start_soon(fetch, index, url, target, stem)
    if failures:
        raise failures[0]
    return [path for path in paths if path is not None]


class _Tally:
    """Sums the progress of many files into one `(done, total)` callback."""

    def __init__(self, files: int, progress: Progress | None) -> None:
        self._done = [0] * files
        self._totals: list[int | None] = [None] * files
        self._declared = [False] * files
        self._progress = progress

    def callback(self, index: int) -> Progress | None:
        """Return the per-file callback for file `index` (`None` if nobody listens)."""
        if self._progress is None:
            return None
        progress = self._progress

        def update(done: int, total: int | None) -> None:
            self._done[index] = done
            self._totals[index], self._declared[index] = total, True
            known = all(self._declared) and None not in self._totals
            overall = sum(cast("list[int]", self._totals)) if known else None
            progress(sum(self._done), overall)

        return update


# -- checks ------------------------------------------------------------------------------


def _check_kind(kind: object, allowed: object) -> Any:
    """Return `kind` if it is one of the literal values of `allowed`."""
    values = get_args(allowed)
    if kind not in values:
        raise RequestValidationError(
            f"the file kind must be one of {', '.join(map(repr, values))}, not {kind!r}",
            field="what",
        )
    return kind


def _check_kinds(what: object) -> tuple[ClipFile, ...]:
    """Return the kinds asked for, in order and without repeats."""
    if isinstance(what, str):
        return (_check_kind(what, ClipFile),)
    if not isinstance(what, Iterable):
        raise RequestValidationError(
            f"what must be a file kind or several, not {type(what).__name__}", field="what"
        )
    given = cast("Iterable[object]", what)
    kinds = tuple(dict.fromkeys(_check_kind(kind, ClipFile) for kind in given))
    if not kinds:
        raise RequestValidationError("what must name at least one file kind", field="what")
    return kinds


def _check_name(name: object) -> str:
    """Return `name` if it is text (it is sanitised afterwards, whatever it holds)."""
    if not isinstance(name, str):
        raise RequestValidationError(
            f"the file name must be text, not {type(name).__name__}", field="name"
        )
    return name


def _check_max_bytes(max_bytes: object) -> int | None:
    if max_bytes is None:
        return None
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise RequestValidationError(
            f"max_bytes must be a whole number of bytes, 1 or more, or None; got {max_bytes!r}",
            field="max_bytes",
        )
    return max_bytes


def _check_concurrency(concurrency: object) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise RequestValidationError(
            f"concurrency must be a whole number of files, 1 or more, got {concurrency!r}",
            field="concurrency",
        )


def _clips_of(items: object) -> list[Clip]:
    """Flatten clips, results and iterables of them into a list of clips."""
    if isinstance(items, (Clip, GenerationResult)):
        items = [items]
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise RequestValidationError(
            f"items must be clips or results, not {type(items).__name__}", field="items"
        )
    clips: list[Clip] = []
    for item in cast("Iterable[object]", items):
        if isinstance(item, Clip):
            clips.append(item)
        elif isinstance(item, GenerationResult):
            clips.extend(item.clips)
        else:
            raise RequestValidationError(
                f"items must be clips or results, not {type(item).__name__}", field="items"
            )
    return clips


def _clip_url(clip: Clip, target: _Target) -> str:
    """Return the clip's URL for `target.kind`, checked."""
    field = f"{target.kind}_url"
    return _checked_url(getattr(clip, field, None), target, field=field)


def _checked_url(url: object, target: _Target, *, field: str) -> str:
    """Return `url` if it is an absolute http(s) URL with a host.

    Raises:
        FileURLMissingError: It is not (nothing is sent).
    """
    try:
        # Both parsers must accept it: httpx's (what is sent) and the stdlib's (which,
        # unlike httpx, refuses a malformed host such as "[not-an-address").
        parsed = httpx.URL(url) if isinstance(url, str) and urlsplit(url).netloc else None
    except (httpx.InvalidURL, ValueError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        owner = f"clip {target.clip_id}" if target.clip_id is not None else "the result"
        raise FileURLMissingError(
            f"{owner} has no http(s) {field} to download (the file may not be ready yet, "
            "or its link expired: poll the task again for fresh URLs)",
            clip_id=target.clip_id,
            kind=target.kind,
            field=field,
        )
    return cast("str", url)


# -- the download itself -----------------------------------------------------------------


async def _download(
    http_client: httpx.AsyncClient,
    url: str,
    directory: str | os.PathLike[str],
    stem: str,
    target: _Target,
    max_bytes: int | None,
    progress: Progress | None,
) -> Path:
    """Fetch `url` into a temporary file in `directory`, then give it its final name."""
    folder = Path(directory)
    await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
    descriptor, partial_name = tempfile.mkstemp(dir=folder, prefix=".partial-")
    partial = Path(partial_name)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            content_type = await _fetch(http_client, url, sink, target, max_bytes, progress)
        os.chmod(partial, _file_mode())  # mkstemp makes it owner-only; a song is not a secret
        name = stem + suffix_for(target.kind, url, content_type)
        return await anyio.to_thread.run_sync(_place, partial, folder, name)
    finally:
        # Synchronous on purpose: an await here would not run under cancellation.
        _remove(partial)


def _remove(path: Path) -> None:
    """Delete a file if it is still there (the temporary file, after placing or failing)."""
    path.unlink(missing_ok=True)


async def _fetch(
    http_client: httpx.AsyncClient,
    url: str,
    sink: BinaryIO,
    target: _Target,
    max_bytes: int | None,
    progress: Progress | None,
) -> str | None:
    """GET the file, following redirects without credentials, and stream it into `sink`.

    Returns:
        The answer's `Content-Type`, if any.
    """
    what = target.what
    request = _without_credentials(http_client.build_request("GET", url))
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response = await http_client.send(
                request, stream=True, auth=None, follow_redirects=False
            )
        except httpx.TransportError as exc:
            raise connection_error(what, exc) from exc
        try:
            if response.next_request is not None:  # a redirect with a Location
                await response.aclose()
                request = _without_credentials(response.next_request)
                if request.url.scheme not in ("http", "https"):
                    raise APIConnectionError(
                        f"{what} failed: the file host redirected to a non-http(s) URL"
                    )
                continue
            if not response.is_success:
                raise _status_failure(response, await _error_body(response), target)
            await _stream_body(response, sink, target, max_bytes, progress)
            content_type: str | None = response.headers.get("content-type")
            return content_type
        except httpx.TransportError as exc:
            raise connection_error(what, exc) from exc
        except httpx.DecodingError as exc:
            raise MalformedResponseError(
                f"{what} failed: the file's content encoding could not be decoded",
                status_code=response.status_code,
            ) from exc
        finally:
            await response.aclose()
    raise APIConnectionError(f"{what} failed: more than {MAX_REDIRECTS} redirects")


async def _stream_body(
    response: httpx.Response,
    sink: BinaryIO,
    target: _Target,
    max_bytes: int | None,
    progress: Progress | None,
) -> None:
    """Write the body to `sink` chunk by chunk, within the cap, reporting progress.

    Raises:
        FileTooLargeError: The declared length, or the bytes received, pass the cap.
        APIConnectionError: The connection failed mid-body, or fewer bytes arrived than
            the `Content-Length` declared: the body was cut short.
    """
    declared = _declared_length(response)
    if max_bytes is not None and declared is not None and declared > max_bytes:
        raise _too_large(target, max_bytes, declared)
    done = 0
    if progress is not None:
        progress(0, declared)
    try:
        # Closed explicitly: leaving the loop by an exception (the cap) must not leave
        # the generator for the garbage collector, which trio reports as an error.
        async with contextlib.aclosing(_chunks(response, CHUNK_SIZE)) as chunks:
            async for chunk in chunks:
                done += len(chunk)
                if max_bytes is not None and done > max_bytes:
                    raise _too_large(target, max_bytes, declared)
                sink.write(chunk)
                if progress is not None:
                    progress(done, declared)
    except httpx.TransportError as exc:
        raise connection_error(f"{target.what} ({_cut_short(done, declared)})", exc) from exc
    if declared is not None and done < declared:
        raise APIConnectionError(f"{target.what} failed: {_cut_short(done, declared)}")


def _cut_short(done: int, declared: int | None) -> str:
    of = f" of {declared}" if declared is not None else ""
    return f"the body was cut short after {done}{of} bytes"


def _chunks(response: httpx.Response, size: int | None) -> AsyncGenerator[bytes, None]:
    """Return the body's decoded chunks: an async generator, which httpx types loosely."""
    return cast("AsyncGenerator[bytes, None]", response.aiter_bytes(size))


def _declared_length(response: httpx.Response) -> int | None:
    """Return the body's length in bytes as written to disk, if the answer declares it.

    A compressed body's `Content-Length` counts compressed bytes, so it says nothing
    about what is written; only an uncompressed answer's length is used.
    """
    if response.headers.get("content-encoding", "identity").strip().lower() != "identity":
        return None
    value = response.headers.get("content-length", "").strip()
    return int(value) if value.isdigit() else None


def _too_large(target: _Target, limit: int, declared: int | None) -> FileTooLargeError:
    size = f" ({declared} bytes)" if declared is not None else ""
    return FileTooLargeError(
        f"{target.what} failed: the file is larger than the {limit}-byte cap{size}; "
        "raise max_bytes to accept it",
        limit=limit,
        size=declared,
        clip_id=target.clip_id,
        kind=target.kind,
    )


def _without_credentials(request: httpx.Request) -> httpx.Request:
    """Drop any `Authorization` header (a user's client may carry one by default)."""
    request.headers.pop("Authorization", None)
    return request


async def _error_body(response: httpx.Response) -> Any:
    """Read at most `MAX_ERROR_BODY` bytes of an error answer: its JSON, else its text."""
    data = bytearray()
    try:
        async with contextlib.aclosing(_chunks(response, None)) as chunks:
            async for chunk in chunks:
                data += chunk
                if len(data) >= MAX_ERROR_BODY:
                    break
    except httpx.DecodingError:
        pass  # the status says enough; keep what was decoded
    try:
        return json.loads(bytes(data))
    except (ValueError, RecursionError):
        return bytes(data[:2000]).decode("utf-8", errors="replace")


def _status_failure(response: httpx.Response, body: Any, target: _Target) -> MusicAPIError:
    """Return the error for an error answer from the file host, naming the file.

    403, 404 and 410 mean the file is not there to fetch (signed links expire): they
    become `FileUnavailableError` classes that are also the transport's class for the
    status. Other statuses keep the transport's class, with the file named.
    """
    error = status_error(response, body)
    message = f"{target.what} failed: {error.message}"
    unavailable = _UNAVAILABLE.get(response.status_code)
    if unavailable is None:
        error.message = message
        error.args = (message,)
        return error
    return unavailable(
        f"{message} (the file is gone or its link expired: poll the task again for fresh URLs)",
        clip_id=target.clip_id,
        kind=target.kind,
        status_code=error.status_code,
        request_id=error.request_id,
        body=error.body,
    )


# -- placing the finished file -----------------------------------------------------------


def _place(partial: Path, folder: Path, name: str) -> Path:
    """Give the finished file its name, never replacing a file; return where it is.

    The file is hard-linked under the name, which fails if the name is taken (a
    rename would silently replace it on POSIX): the file appears complete or not at
    all. If the name holds the same bytes already, that file is the answer; if other
    bytes, the next `name-N` is tried.
    """
    stem, suffix = os.path.splitext(name)
    for attempt in range(1, MAX_SAME_NAME + 1):
        target = folder / (name if attempt == 1 else f"{stem}-{attempt}{suffix}")
        if _link_new(partial, target):
            return target
        if _same_file_content(partial, target):
            return target
    raise FileExistsError(
        f"{MAX_SAME_NAME} files named like {name} in {folder} already hold other content"
    )


def _link_new(partial: Path, target: Path) -> bool:
    """Put `partial` at `target` unless `target` exists; return whether it was placed."""
    try:
        os.link(partial, target)
    except FileExistsError:
        return False
    except OSError:
        # No hard links here (some FAT, network or FUSE mounts): rename instead. On
        # Windows a rename refuses to replace; elsewhere the check comes just before.
        if os.path.lexists(target):
            return False
        try:
            os.rename(partial, target)
        except FileExistsError:
            return False
    return True


def _same_file_content(partial: Path, target: Path) -> bool:
    """Tell whether `target` is a regular file (not a link) with the same bytes as `partial`."""
    try:
        info = os.lstat(target)
        if not stat.S_ISREG(info.st_mode) or info.st_size != os.stat(partial).st_size:
            return False
        with open(partial, "rb") as ours, open(target, "rb") as theirs:
            while True:
                chunk = ours.read(CHUNK_SIZE)
                if chunk != theirs.read(CHUNK_SIZE):
                    return False
                if not chunk:
                    return True
    except OSError:
        return False


def _file_mode() -> int:
    """Return the mode a plain `open()` would give a new file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
