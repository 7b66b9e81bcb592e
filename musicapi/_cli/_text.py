"""How the command writes things: terminal-safe text, durations, sizes and JSON.

Titles and URLs come from the API, so every one is made printable before it reaches a
terminal (no control or bidirectional characters) and cut to a readable width.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from musicapi._models import Clip

__all__ = [
    "TITLE_WIDTH",
    "bytes_text",
    "clip_json",
    "clip_line",
    "json_text",
    "minutes",
    "print_json",
    "shown",
    "title",
]

TITLE_WIDTH = 60


def shown(text: object, limit: int = TITLE_WIDTH) -> str:
    """Return text that is safe to print on a terminal: no control or format characters."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def title(clip: Clip) -> str:
    """Return a clip's title, safe to print."""
    return shown(clip.title) if clip.title else "(untitled)"


def minutes(seconds: float | None) -> str:
    """Return a duration as `m:ss` (`?:??` when unknown)."""
    if seconds is None:
        return "?:??"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def bytes_text(count: float) -> str:
    """Return a byte count as `512 B`, `1.5 MB`, ..."""
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"  # pragma: no cover


def clip_line(clip: Clip) -> str:
    """Return a clip as one line of text: title, duration and where its audio is."""
    return f"  {title(clip)}  {minutes(clip.duration)}  {shown(clip.audio_url, 1000)}"


def clip_json(clip: Clip) -> dict[str, Any]:
    """Return the fields of a clip that the command's JSON shows."""
    return {
        "clip_id": clip.clip_id,
        "title": clip.title,
        "tags": clip.tags,
        "duration": clip.duration,
        "state": clip.state,
        "audio_url": clip.audio_url,
        "image_url": clip.image_url,
        "video_url": clip.video_url,
    }


def json_text(value: object) -> str:
    """Return `value` as one line of JSON (non-ASCII kept as it is)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def print_json(value: object) -> None:
    """Print `value` as one line of JSON on stdout."""
    print(json_text(value), flush=True)
