"""The JSON the sandbox answers about tasks, written from literals after api-reference.md.

These bodies are deliberately built here and not from the SDK's models (design.md,
"Layering rules"): had both sides shared one definition, a wrong field would be wrong
on both and no test would notice.

By default the shapes are the documented ones: `duration` is a number, as the
vendor's OpenAPI types it (§2.3). The odd shapes seen in the vendor's own examples
appear where those examples show them: `duration` as a string (`"104.88"`) in webhook
bodies (§2.4), and on `GET /sonic/task/{id}` only behind the `duration_as_string` fault
knob. The bodies also carry quirks that are documented for every answer and that
clients must survive: an upstream model name in `mv` (§2.4) and a field no client
knows (`play_count`).

`image_url` points at a real JPEG (§2.5). `video_url` is `null`: the docs allow it
(every `SonicSong` field but `clip_id` and `state` is nullable), and the sandbox would
rather send no link than a link to a file it cannot make with the standard library.
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
    try:
        moment = datetime.datetime.fromtimestamp(unix, tz=datetime.timezone.utc)
    except (OverflowError, OSError, ValueError):  # a fake clock moved past year 9999
        moment = datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def clip_json(
    clip: ClipRecord, record: TaskRecord, files_url: str, *, duration_as_string: bool = False
) -> dict[str, Any]:
    """Return one `SonicSong` (api-reference §2.3) for `clip`.

    Args:
        clip: The clip.
        record: The task it belongs to.
        files_url: The absolute URL of the sandbox's file host, without a trailing slash.
        duration_as_string: Send `duration` as a string (`"2.72"`), the way the
            vendor's webhook example does, instead of the documented number.
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
        "video_url": None,
        "created_at": _iso(record.created_unix),
        "gpt_description_prompt": body.get("gpt_description_prompt"),
        "duration": f"{duration:.2f}" if duration_as_string else duration,
        "negative_tags": body.get("negative_tags"),
        "style_weight": body.get("style_weight"),
        "weirdness_constraint": body.get("weirdness_constraint"),
        "mv": clip.mv.replace("sonic-", "chirp-", 1),
        "play_count": 0,
    }


def success_body(
    record: TaskRecord, files_url: str, *, duration_as_string: bool = False
) -> dict[str, Any]:
    """Return the terminal success body of `GET /sonic/task/{id}` (api-reference §2.3).

    Args:
        record: The succeeded task.
        files_url: The absolute URL of the sandbox's file host, without a trailing slash.
        duration_as_string: Send each clip's `duration` as a string (see `clip_json`).
    """
    clips = [
        clip_json(clip, record, files_url, duration_as_string=duration_as_string)
        for clip in record.clips
    ]
    return {"code": 200, "message": "success", "data": clips}


def failure_body(record: TaskRecord) -> dict[str, Any]:
    """Return the terminal failure body of `GET /sonic/task/{id}` (api-reference §2.2).

    The documented envelope, answered with HTTP 200: `{"type": <failure type>,
    "error": <reason>}`, the type being `failed`, `timeout`, `forbidden` or `api_error`.
    """
    return {"type": record.outcome, "error": FAIL_REASONS[record.outcome]}
