"""Saving a clip's audio to disk: streamed in chunks, never with the API key.

Files live on a CDN, not on the API host, so a download must not carry the
`Authorization` header: it goes out with no credentials at all. File names come from
the clip's title and id after sanitising, never from the URL, so a hostile title or
URL cannot write outside the chosen folder.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import anyio
import httpx

from musicapi._errors import (
    APIConnectionError,
    APITimeoutError,
    RequestValidationError,
    error_for_status,
)

if TYPE_CHECKING:
    from musicapi._models import Clip

CHUNK_SIZE = 64 * 1024
AUDIO_SUFFIXES = frozenset(
    {".mp3", ".wav", ".m4a", ".ogg", ".flac", ".mp4", ".jpg", ".jpeg", ".png"}
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def file_name_for(clip: Clip, url: str) -> str:
    """Return a safe file name: the sanitised title, the clip id and the URL's suffix."""
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    if suffix not in AUDIO_SUFFIXES:
        suffix = ".mp3"
    title = _UNSAFE.sub("", (clip.title or "").strip()).strip(" .")[:60] or "clip"
    clip_id = _UNSAFE.sub("", clip.clip_id)[:36] or "unknown"
    return f"{title} - {clip_id}{suffix}".replace(" ", "_")


async def download_clip(
    http_client: httpx.AsyncClient, clip: Clip, directory: str | os.PathLike[str]
) -> Path:
    """Stream a clip's audio into `directory` and return the file's path.

    The file is written under a temporary name and renamed when complete, so an
    interrupted download never leaves a truncated file behind.

    Raises:
        RequestValidationError: The clip has no audio URL, or it is not http(s).
        MusicAPIError: The file host answered an error, or the network failed.
    """
    url = clip.audio_url
    if not url or urlsplit(url).scheme not in ("http", "https"):
        raise RequestValidationError(
            f"clip {clip.clip_id} has no http(s) audio_url", field="audio_url"
        )
    folder = Path(directory)
    await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
    target = folder / file_name_for(clip, url)
    descriptor, partial_name = tempfile.mkstemp(
        dir=folder, prefix=".partial-", suffix=target.suffix
    )
    partial = Path(partial_name)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            request = http_client.build_request("GET", url)
            request.headers.pop("Authorization", None)
            response = await http_client.send(request, stream=True, follow_redirects=True)
            try:
                if response.status_code >= 400:
                    await response.aread()
                    raise error_for_status(
                        response.status_code,
                        response.text[:500],
                        request_id=response.headers.get("x-request-id"),
                    )
                async for chunk in response.aiter_bytes(CHUNK_SIZE):
                    sink.write(chunk)
            finally:
                await response.aclose()
        os.chmod(partial, _file_mode())  # mkstemp makes it owner-only; a song is not a secret
        await anyio.Path(partial).replace(target)
    except httpx.TimeoutException as exc:
        raise APITimeoutError(f"downloading clip {clip.clip_id} timed out") from exc
    except httpx.TransportError as exc:
        raise APIConnectionError(
            f"downloading clip {clip.clip_id} failed: {type(exc).__name__}"
        ) from exc
    finally:
        await anyio.Path(partial).unlink(missing_ok=True)
    return target


def _file_mode() -> int:
    """Return the mode a plain `open()` would give a new file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
