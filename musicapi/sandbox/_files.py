"""The sandbox's file host (`/files/...`): the files that results link to.

No key is needed and no 429 is injected, as on a CDN. Each clip has its audio
(`<clip>.wav`) and its cover art (`<clip>.jpg`), made on first request and kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from musicapi.sandbox._audio import render
from musicapi.sandbox._http import Answer, json_answer
from musicapi.sandbox._image import cover

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
        name = request.path.removeprefix("/files/")
        made = self._cache.get(name) or self._make(name)
        if made is None:
            return json_answer(404, {"error": "file not found"})
        self._cache[name] = made
        return Answer(200, made[0], content_type=made[1])

    def _make(self, name: str) -> tuple[bytes, str] | None:
        clip_id, _, extension = name.rpartition(".")
        clip = self._store.clips.get(clip_id)
        if clip is None:
            return None
        if extension == "jpg":
            return cover(f"{clip.tags} {clip.title} {clip.tune.seed}"), "image/jpeg"
        if extension == "wav":
            return render(clip.tune), "audio/wav"
        return None
