"""The JSON the sandbox answers about tasks, written from literals after api-reference.md.

These bodies are deliberately built here and not from the SDK's models (design.md,
"Layering rules"): had both sides shared one definition, a wrong field would be wrong
on both and no test would notice. They also carry the real API's quirks that clients
must survive: `duration` as a string on one clip and a number on the other (§2.4), an
upstream model name in `mv` (§2.4), and a field no client knows (`play_count`).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from musicapi.sandbox._state import ClipRecord, TaskRecord

__all__ = ["FAIL_REASONS", "clip_json", "failure_body", "success_body"]

FAIL_REASONS = {
    "failed": "generation failed upstream",
    "timeout": "upstream generation timed out",
    "forbidden": "the prompt was rejected by the content policy",
    "api_error": "upstream API error",
}


def _iso(unix: float) -> str:
    moment = datetime.datetime.fromtimestamp(unix, tz=datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clip_json(clip: ClipRecord, record: TaskRecord, files_url: str, variant: int) -> dict[str, Any]:
    """Return one `SonicSong` (api-reference §2.3) for `clip`.

    Args:
        clip: The clip.
        record: The task it belongs to.
        files_url: The absolute URL of the sandbox's file host, without a trailing slash.
        variant: The clip's index in the task: 0 sends `duration` as a string.
    """
    body = record.payload
    duration = clip.tune.duration
    return {
        "clip_id": clip.clip_id,
        "state": "succeeded",
        "title": clip.title,
        "tags": clip.tags,
        "lyrics": clip.lyrics,
        "image_url": f"{files_url}/{clip.clip_id}.jpg",
        "audio_url": f"{files_url}/{clip.clip_id}.wav",
        "video_url": f"{files_url}/{clip.clip_id}.mp4",
        "created_at": _iso(record.created_unix),
        "gpt_description_prompt": body.get("gpt_description_prompt"),
        "duration": f"{duration:.2f}" if variant == 0 else duration,
        "negative_tags": body.get("negative_tags"),
        "style_weight": body.get("style_weight"),
        "weirdness_constraint": body.get("weirdness_constraint"),
        "mv": clip.mv.replace("sonic-", "chirp-", 1),
        "play_count": 0,
    }


def success_body(record: TaskRecord, files_url: str) -> dict[str, Any]:
    """Return the terminal success body of `GET /sonic/task/{id}` (api-reference §2.3)."""
    clips = [
        clip_json(clip, record, files_url, variant) for variant, clip in enumerate(record.clips)
    ]
    return {"code": 200, "message": "success", "data": clips}


def failure_body(record: TaskRecord) -> dict[str, Any]:
    """Return the terminal failure body of `GET /sonic/task/{id}` (api-reference §2.2)."""
    return {"type": record.outcome, "error": FAIL_REASONS[record.outcome]}
