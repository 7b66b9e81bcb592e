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

Each family has its own body (plan/wire.md): `success_body` for Sonic (stems add
`stem_type` and `source_clip_id`, a voice its `persona_id`), `producer_body`,
`riffusion_body` (Sonic's clips plus `sound`), `studio_body` (always 200, a status
string), `nuro_body` (always 200, a status and a progress) and `lyrics_body`.
`final_body` picks the finished one of a task's family, for webhooks.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, cast

from musicapi.sandbox._state import words

if TYPE_CHECKING:
    from musicapi.sandbox._state import ClipRecord, TaskRecord

__all__ = [
    "FAIL_REASONS",
    "PRODUCER_MODEL",
    "clip_json",
    "failure_body",
    "final_body",
    "lyrics_body",
    "lyrics_text",
    "nuro_body",
    "producer_body",
    "riffusion_body",
    "studio_body",
    "success_body",
]

PRODUCER_MODEL = "Lyria 3 Pro"
"""What Producer reports in `mv`, whatever legacy name was sent (api-reference §4.2)."""

_STUDIO_STATUS = {"running": "IN_PROGRESS", "succeeded": "SUCCESS", "failed": "FAILURE"}

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
        **_extras(clip, record),
    }


def _extras(clip: ClipRecord, record: TaskRecord) -> dict[str, Any]:
    """The fields only some Sonic results have: a stem's part, a voice's persona."""
    extras: dict[str, Any] = {}
    if clip.part is not None:
        extras["stem_type"] = clip.part
        extras["source_clip_id"] = clip.source_clip_id
    if record.persona_id is not None:
        extras["persona_id"] = record.persona_id
    return extras


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


def _share(record: TaskRecord, now: float) -> float:
    """How far through its time a task is, from 0 to 1."""
    total = record.ends - record.started
    if record.state != "running" or total <= 0:
        return 1.0
    return max(0.0, min(1.0, (now - record.started) / total))


def producer_body(record: TaskRecord, files_url: str) -> dict[str, Any]:
    """Return the success body of `GET /producer/task/{id}` (plan/wire.md, Producer).

    A download's one entry links the clip's WAV (the sandbox cannot encode MP3 with
    the standard library, so it says `"format": "wav"` whatever was asked).
    """
    body = record.payload
    entries: list[dict[str, Any]]
    if record.operation == "producer/download":
        entries = [
            {
                "clip_id": clip.clip_id,
                "state": "succeeded",
                "format": "wav",
                "audio_url": f"{files_url}/{clip.clip_id}.wav",
            }
            for clip in record.clips
        ]
    else:
        entries = [
            {
                "clip_id": clip.clip_id,
                "state": "succeeded",
                "title": clip.title,
                "sound": clip.tags,
                "lyrics": clip.lyrics,
                "audio_url": f"{files_url}/{clip.clip_id}.wav",
                "image_url": f"{files_url}/{clip.clip_id}.jpg",
                "duration": clip.tune.duration,
                "mv": PRODUCER_MODEL,
                "seed": body.get("seed", clip.tune.seed),
                **({"uploaded": True} if clip.uploaded else {}),
            }
            for clip in record.clips
        ]
    return {"code": 200, "message": "success", "data": entries}


def riffusion_body(record: TaskRecord, files_url: str) -> dict[str, Any]:
    """Return the success body of `GET /riffusion/task/{id}`: Sonic's clips plus `sound`."""
    clips = [{**clip_json(clip, record, files_url), "sound": clip.tags} for clip in record.clips]
    return {"code": 200, "message": "success", "data": clips}


def studio_body(record: TaskRecord, files_url: str, now: float) -> dict[str, Any]:
    """Return the body of `GET /studio/task/{id}`, always answered 200 (api-reference §4.4).

    `progress` is the share of the task's time gone (at most 99% while it runs);
    `songs` stay empty until `SUCCESS`.
    """
    running = record.state == "running"
    submitted = int(record.created_unix)
    songs = [
        {
            "id": clip.clip_id,
            "title": clip.title,
            "tags": [tag for tag in clip.tags.split(", ") if tag],
            "lyrics": clip.lyrics,
            "artist": "MusicAPI Studio",
            "audio_url": f"{files_url}/{clip.clip_id}.wav",
            "image_url": f"{files_url}/{clip.clip_id}.jpg",
            "duration": clip.tune.duration,
        }
        for clip in (record.clips if record.state == "succeeded" else [])
    ]
    return {
        "code": "success",
        "message": "",
        "data": {
            "task_id": record.task_id,
            "notify_hook": None,
            "action": "studio-generate",
            "status": _STUDIO_STATUS[record.state],
            "fail_reason": FAIL_REASONS[record.outcome] if record.state == "failed" else "",
            "submit_time": submitted,
            "start_time": submitted,
            "finish_time": None
            if running
            else int(record.created_unix + record.ends - record.started),
            "progress": f"{min(99, int(_share(record, now) * 100)) if running else 100}%",
            "data": {"songs": songs},
        },
    }


def nuro_body(record: TaskRecord, files_url: str, now: float) -> dict[str, Any]:
    """Return the body of `GET /nuro/task/{id}`, always answered 200 (api-reference §3.6).

    `pending` for the first third of the task's time, then `running` with a progress
    that grows with it; `succeeded` links the WAV; `failed` carries `error`.
    """
    body = record.payload
    share = _share(record, now)
    clip = record.clips[0] if record.state == "succeeded" and record.clips else None
    if record.state == "running":
        status = "pending" if share < 1 / 3 else "running"
        progress = 0 if status == "pending" else max(1, min(99, int(share * 100)))
    else:
        status, progress = record.state, 100
    genre = body.get("genre")
    answer: dict[str, Any] = {
        "task_id": record.task_id,
        "status": status,
        "progress": progress,
        "audio_url": f"{files_url}/{clip.clip_id}.wav" if clip else None,
        "lyrics": body.get("lyrics") if body.get("type") == "vocal" else None,
        "duration": clip.tune.duration if clip else None,
        "genre": ", ".join(cast("list[str]", genre)) if isinstance(genre, list) else genre,
    }
    if record.state == "failed":
        answer["error"] = FAIL_REASONS[record.outcome]
    return answer


def lyrics_text(prompt: str) -> tuple[str, str]:
    """Return the (title, lyrics) the sandbox writes for a lyrics prompt, the same every time."""
    found = words(prompt) or ["untitled"]
    title = " ".join(found[:4]).title()
    verse = " ".join(found)
    return title, f"[Verse]\n{verse}\n{verse}\n[Chorus]\n{title}, {title.lower()}\n{title}"


def lyrics_body(record: TaskRecord) -> dict[str, Any]:
    """Return the body of `GET /suno/get-lyrics/{id}` (plan/wire.md, Suno aliases)."""
    data: dict[str, Any] = {"task_id": record.task_id}
    if record.state == "running":
        data["status"] = "running"
    elif record.state == "failed":
        data.update(status="error", error=FAIL_REASONS[record.outcome])
    else:
        title, text = lyrics_text(str(record.payload.get("prompt") or ""))
        data.update(status="complete", title=title, text=text)
    return {"code": 200, "data": data, "message": "success"}


def final_body(record: TaskRecord, files_url: str) -> dict[str, Any]:
    """Return the finished poll body of any task's family (for webhooks); `task_id` included.

    Sonic, Producer and Riffusion bodies get `task_id` at the top, as Sonic's webhooks
    carry it; the others already hold it.
    """
    family = record.family
    if family == "studio":
        return studio_body(record, files_url, record.ends)
    if family == "nuro":
        return nuro_body(record, files_url, record.ends)
    if family == "lyrics":
        return lyrics_body(record)
    if record.state == "failed":
        body = failure_body(record)
    elif family == "producer":
        body = producer_body(record, files_url)
    elif family == "riffusion":
        body = riffusion_body(record, files_url)
    else:
        body = success_body(record, files_url)
    return {**body, "task_id": record.task_id}
