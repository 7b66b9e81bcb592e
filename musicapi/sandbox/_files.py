"""The sandbox's file host (`/files/...`): the files that results link to.

No key is needed and no 429 is injected, as on a CDN. Each clip has, made on first
request and kept:

* `<clip>.wav`: its audio. A stem clip (`ClipRecord.part` set) sounds as that part
  of its tune, so the stems of a split add up, sample by sample, to the song.
* `<clip>.lossless.wav`: the WAV export of `/sonic/wav`, the same samples (the
  sandbox's audio is lossless already).
* `<clip>.jpg`: its cover art.
* `<clip>.mid`: a Standard MIDI File of its notes (`/sonic/midi`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from musicapi.sandbox._audio import render
from musicapi.sandbox._http import Answer, json_answer
from musicapi.sandbox._image import cover
from musicapi.sandbox._media import midi_file

if TYPE_CHECKING:
    from musicapi.sandbox._http import Request
    from musicapi.sandbox._state import TaskStore

__all__ = ["FileHost"]


class FileHost:
    """Serves, and caches, the files of the clips in a store."""

    def __init__(self, store: TaskStore) -> None:
        self._store = store
        self._cache: dict[str, tuple[bytes, str]] = {}

    def serve(self, request: Request) -> Answer:
        """Answer a `GET /files/<name>` request."""
        if request.method != "GET":
            return json_answer(405, {"error": "method not allowed"}, (("allow", "GET"),))
        made = self._file(request.path.removeprefix("/files/"))
        if made is None:
            return json_answer(404, {"error": "file not found"})
        return Answer(200, made[0], content_type=made[1])

    def _file(self, name: str) -> tuple[bytes, str] | None:
        """Return the bytes and content type of file `name`, made once; `None` if none."""
        made = self._cache.get(name) or self._make(name)
        if made is not None:
            self._cache[name] = made
        return made

    def _make(self, name: str) -> tuple[bytes, str] | None:
        clip_id, _, extension = name.partition(".")
        clip = self._store.clips.get(clip_id)
        if clip is None:
            return None
        if extension == "jpg":
            return cover(f"{clip.tags} {clip.title} {clip.tune.seed}"), "image/jpeg"
        if extension == "wav":
            return render(clip.tune, clip.part), "audio/wav"
        if extension == "lossless.wav":
            return self._file(f"{clip_id}.wav")
        if extension == "mid":
            return midi_file(clip.tune, clip.part), "audio/midi"
        return None
