"""Saving a clip's audio to disk: streamed in chunks, never with the API key.

Files live on a CDN, not on the API host, so a download must not carry the
`Authorization` header: every request of a download (the first and each redirect) is
built here without credentials, and the client's own `auth` is switched off for it, so
a user's `http_client` with default credentials does not leak them either. Redirects are
followed one hop at a time for that reason, and only to http(s) URLs.

File names come from the clip's title and id after sanitising, never from the URL, so a
hostile title or URL cannot write outside the chosen folder, name a Windows device
(`CON`, `NUL.txt`, `COM1`...) or carry control characters. The file is written under a
temporary name and then linked into place without replacing anything: a file of the
same name with the same bytes is kept (downloading twice makes one copy), and one with
other bytes is never overwritten (the new file gets a counter suffix), so two clips
whose titles sanitise alike both survive.

Errors go through the transport's `connection_error` and `status_error`, the one place
where httpx exceptions and status codes become `MusicAPIError` classes.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import httpx

from musicapi._errors import (
    APIConnectionError,
    MalformedResponseError,
    MusicAPIError,
    RequestValidationError,
)
from musicapi._transport import connection_error, status_error

if TYPE_CHECKING:
    from musicapi._models import Clip

__all__ = ["download_clip", "file_name_for"]

CHUNK_SIZE = 64 * 1024
MAX_REDIRECTS = 10
MAX_ERROR_BODY = 64 * 1024
"""How much of an error answer is read for the exception's `.body`."""
MAX_SAME_NAME = 1000
"""How many `name-N` variants are tried before giving up on a crowded folder."""
AUDIO_SUFFIXES = frozenset(
    {".mp3", ".wav", ".m4a", ".ogg", ".flac", ".mp4", ".jpg", ".jpeg", ".png"}
)
TITLE_CHARS = 60
ID_CHARS = 36
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in range(10)}
)


def file_name_for(clip: Clip, url: str) -> str:
    """Return a safe file name: the sanitised title, the clip id and the URL's suffix.

    The name is one path component of at most about 110 ASCII characters (letters,
    digits, `.`, `_`, `-`), never hidden (no leading dot) and never a Windows device
    name, whatever the title and id hold.
    """
    suffix = PurePosixPath(_url_path(url)).suffix.lower()
    if suffix not in AUDIO_SUFFIXES:
        suffix = ".mp3"
    title = _sanitise(clip.title or "", TITLE_CHARS) or "clip"
    clip_id = _sanitise(clip.clip_id, ID_CHARS) or "unknown"
    stem = f"{title} - {clip_id}".replace(" ", "_")
    if _is_windows_device(stem):
        stem = f"_{stem}"
    return stem + suffix


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


async def download_clip(
    http_client: httpx.AsyncClient, clip: Clip, directory: str | os.PathLike[str]
) -> Path:
    """Stream a clip's audio into `directory` and return the file's path.

    The file is written under a temporary name and moved into place when complete, so
    an interrupted download never leaves a truncated file behind. An existing file with
    the same name and the same bytes is kept and its path returned; one with other
    bytes is never overwritten (the new file gets a `-2`, `-3`, ... suffix).

    Args:
        http_client: The client to send through; its credentials are never used.
        clip: The clip whose `audio_url` to fetch.
        directory: The folder to write into; created if missing.

    Raises:
        RequestValidationError: The clip has no audio URL, or it is not http(s).
        APIStatusError: The file host answered an error (`NotFoundError` for 404,
            `ServerError` for 5xx, ...).
        APIConnectionError: The network failed (`APITimeoutError` for a timeout).
        MalformedResponseError: The file's content encoding could not be decoded.
        OSError: The file could not be written.
    """
    url = _audio_url(clip)
    folder = Path(directory)
    await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
    name = file_name_for(clip, url)
    descriptor, partial_name = tempfile.mkstemp(
        dir=folder, prefix=".partial-", suffix=PurePosixPath(name).suffix
    )
    partial = Path(partial_name)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            await _fetch(http_client, clip, url, sink)
        os.chmod(partial, _file_mode())  # mkstemp makes it owner-only; a song is not a secret
        return await anyio.to_thread.run_sync(_place, partial, folder, name)
    finally:
        # Synchronous on purpose: an await here would not run under cancellation.
        _remove(partial)


def _remove(path: Path) -> None:
    """Delete a file if it is still there (the temporary file, after placing or failing)."""
    path.unlink(missing_ok=True)


def _audio_url(clip: Clip) -> str:
    """Return the clip's audio URL if it is an absolute http(s) URL with a host."""
    url = clip.audio_url
    try:
        # Both parsers must accept it: httpx's (what is sent) and the stdlib's (which,
        # unlike httpx, refuses a malformed host such as "[not-an-address").
        parsed = httpx.URL(url) if isinstance(url, str) and urlsplit(url).netloc else None
    except (httpx.InvalidURL, ValueError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise RequestValidationError(
            f"clip {clip.clip_id} has no http(s) audio_url to download", field="audio_url"
        )
    return str(url)


async def _fetch(http_client: httpx.AsyncClient, clip: Clip, url: str, sink: BinaryIO) -> None:
    """GET the file, following redirects without credentials, and stream it into `sink`."""
    what = f"downloading clip {clip.clip_id}"
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
                error = status_error(response, await _error_body(response))
                raise _naming(error, what)
            async for chunk in response.aiter_bytes(CHUNK_SIZE):
                sink.write(chunk)
            return
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


def _without_credentials(request: httpx.Request) -> httpx.Request:
    """Drop any `Authorization` header (a user's client may carry one by default)."""
    request.headers.pop("Authorization", None)
    return request


async def _error_body(response: httpx.Response) -> Any:
    """Read at most `MAX_ERROR_BODY` bytes of an error answer: its JSON, else its text."""
    data = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) >= MAX_ERROR_BODY:
                break
    except httpx.DecodingError:
        pass  # the status says enough; keep what was decoded
    try:
        return json.loads(bytes(data))
    except (ValueError, RecursionError):
        return bytes(data[:2000]).decode("utf-8", errors="replace")


def _naming(error: MusicAPIError, what: str) -> MusicAPIError:
    """Prefix the error's message with what was being done (the clip), for the reader."""
    error.message = f"{what} failed: {error.message}"
    error.args = (error.message,)
    return error


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
        f"{MAX_SAME_NAME} files named like {name} in {folder} already hold other audio"
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
