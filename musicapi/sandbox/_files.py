"""The sandbox's file host (`/files/...`): the files that results link to.

No key is needed and no 429 is injected, as on a CDN; `GET` and `HEAD` are served.
Each clip has, made on first request and kept (within `CACHE_BYTES`):

* `<clip>.wav`: its audio. A stem clip (`ClipRecord.part` set) sounds as that part
  of its source (`ClipRecord.sounding`), so the stems of a split add up, sample by
  sample, to the clip that was split, be it a song or a stem.
* `<clip>.lossless.wav`: the WAV export of `/sonic/wav`, the same samples (the
  sandbox's audio is lossless already).
* `<clip>.jpg`: its cover art.
* `<clip>.mid`: a Standard MIDI File of its notes (`/sonic/midi`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import anyio.to_thread

from musicapi.sandbox._audio import render
from musicapi.sandbox._http import Answer, json_answer
from musicapi.sandbox._image import cover
from musicapi.sandbox._media import midi_file

if TYPE_CHECKING:
    from musicapi.sandbox._http import Request
    from musicapi.sandbox._state import TaskStore

__all__ = ["CACHE_BYTES", "FileHost"]


CACHE_BYTES = 64 << 20
"""The most bytes of made files kept for the next request (64 MiB); the least recently
served go first. Files are made the same from the same clip every time, so a file
dropped from the cache is made again, byte for byte, when it is asked for again: the
cache saves time only, and a long-lived sandbox serving many clips stays bounded."""


class FileHost:
    """Serves, and caches (within `CACHE_BYTES`), the files of the clips in a store."""

    def __init__(self, store: TaskStore) -> None:
        self._store = store
        self._cache: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self.cached_bytes = 0
        """How many bytes the cache holds now."""
        self.offload = False
        """Make files on worker threads (a serving sandbox), not on the event loop.

        Synthesising a song's audio takes tens of milliseconds of pure Python; a server
        that did it on its loop would hold every API request behind a queue of
        downloads (a batch saving two thousand songs held creates past their timeout).
        In-process (`Sandbox.transport()`) files are made inline, so a test that
        drives a `FakeClock` sees no idle moment, and no time jump, while one is made.
        """

    async def serve(self, request: Request) -> Answer:
        """Answer a `GET /files/<name>` request (or a `HEAD`, which a CDN answers too).

        A `HEAD` gets the same answer; the server (or httpx, in-process) sends its
        headers only, with the length of the file.
        """
        if request.method not in ("GET", "HEAD"):
            return json_answer(405, {"error": "method not allowed"}, (("allow", "GET, HEAD"),))
        made = await self._file(request.path.removeprefix("/files/"))
        if made is None:
            return json_answer(404, {"error": "file not found"})
        return Answer(200, made[0], content_type=made[1])

    async def _file(self, name: str) -> tuple[bytes, str] | None:
        """Return the bytes and content type of file `name`; `None` if there is none."""
        made = self._cache.get(name)
        if made is not None:
            self._cache.move_to_end(name)
            return made
        if name.endswith(".lossless.wav"):  # the same samples as the clip's audio
            return await self._file(name.removesuffix(".lossless.wav") + ".wav")
        if self.offload:
            made = await anyio.to_thread.run_sync(self._make, name)
        else:
            made = self._make(name)
        if made is not None:
            self._keep(name, made)
        return made

    def _keep(self, name: str, made: tuple[bytes, str]) -> None:
        """Cache `made`, dropping the least recently served files beyond the budget."""
        size = len(made[0])
        if size > CACHE_BYTES:
            return
        self._cache[name] = made
        self.cached_bytes += size
        while self.cached_bytes > CACHE_BYTES:
            _, (dropped, _) = self._cache.popitem(last=False)
            self.cached_bytes -= len(dropped)

    def _make(self, name: str) -> tuple[bytes, str] | None:
        clip_id, _, extension = name.partition(".")
        clip = self._store.clips.get(clip_id)
        if clip is None:
            return None
        if extension == "jpg":
            return cover(f"{clip.tags} {clip.title} {clip.tune.seed}"), "image/jpeg"
        if extension == "wav":
            return render(clip.tune, voices=clip.sounding), "audio/wav"
        if extension == "mid":
            return midi_file(clip.tune, voices=clip.sounding), "audio/midi"
        return None
