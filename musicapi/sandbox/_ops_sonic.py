"""Handlers of the Sonic operations that start a task besides create (plan/wire.md).

Each is polled on `GET /sonic/task/{id}` like a create: `create-voice`, the two stem
splits, `mashup`, `replace-section`, `sample`, `upload-cover` and `upload-extend`.
`create_problem` holds the checks of a create body that need the sandbox's state
(known clips and personas, the upload rule of api-reference §4.1), for `/sonic/create`,
`/suno/create` and each item of `/sonic/batch`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from musicapi.sandbox._http import Answer, json_answer
from musicapi.sandbox._ops_clips import (
    BASIC_PARTS,
    FULL_PARTS,
    mashup_clips,
    replace_clips,
    stem_maker,
    voice_clips,
)
from musicapi.sandbox._ops_common import (
    CLIP_NOT_FOUND,
    bad_request,
    read_body,
    start,
    submitted,
)
from musicapi.sandbox._validate import GENERATE_COST

if TYPE_CHECKING:
    from musicapi.sandbox._app import Handler, SandboxApp
    from musicapi.sandbox._http import Request
    from musicapi.sandbox._state import TaskRecord

__all__ = ["HANDLERS", "UPLOAD_RULE", "create_problem"]

STEMS_BASIC_COST = 15
STEMS_FULL_COST = 75
VOICE_WARNING = (
    "Voices are kept for 30 days and then deleted; create a persona from the voice "
    "again if you need it later."
)
UPLOAD_RULE = (
    "continue_clip_id: a clip from upload needs task_type extend_upload_music or cover_upload_music"
)
"""The 400 for `extend_music`/`cover_music` on an uploaded clip (api-reference §4.1)."""


def create_problem(app: SandboxApp, body: dict[str, Any]) -> tuple[int, str] | None:
    """Return (status, error) for a valid create body the sandbox's state rejects, or `None`.

    A `continue_clip_id` must name a known clip (404), and an uploaded one only with the
    `*_upload_music` task types (400); `persona_music` needs a known persona (404).
    """
    task_type = body.get("task_type") or "create_music"
    clip_id = body.get("continue_clip_id")
    if clip_id:
        clip = app.store.clips.get(clip_id)
        if clip is None:
            return 404, "clip not found"
        if clip.uploaded and task_type in ("extend_music", "cover_music"):
            return 400, UPLOAD_RULE
    if task_type == "persona_music" and body.get("persona_id") not in app.store.personas:
        return 404, "persona not found"
    return None


def create_voice(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /sonic/create-voice`: a voice clip and a persona, made by a task (§3.1)."""
    body = read_body(request, "sonic/create-voice")
    if isinstance(body, Answer):
        return body
    record = start(
        app,
        owner,
        body,
        operation="sonic/create-voice",
        cost=0,
        task_type="create-voice",
        make=voice_clips,
    )
    return submitted(record, warning=VOICE_WARNING)


def _stems(request: Request, app: SandboxApp, owner: str, full: bool) -> Answer:
    operation = "sonic/stems/full" if full else "sonic/stems/basic"
    body = read_body(request, operation)
    if isinstance(body, Answer):
        return body
    if body["clip_id"] not in app.store.clips:
        return CLIP_NOT_FOUND
    record = start(
        app,
        owner,
        body,
        operation=operation,
        cost=STEMS_FULL_COST if full else STEMS_BASIC_COST,
        task_type=operation.removeprefix("sonic/"),
        sources=(body["clip_id"],),
        make=stem_maker(FULL_PARTS if full else BASIC_PARTS),
    )
    return submitted(record)


def stems_basic(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /sonic/stems/basic`: vocals and instrumental, one stem clip each."""
    return _stems(request, app, owner, full=False)


def stems_full(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /sonic/stems/full`: vocals, drums, bass and other, one stem clip each."""
    return _stems(request, app, owner, full=True)


def mashup(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /sonic/mashup`: two songs mixing two known clips' styles."""
    body = read_body(request, "sonic/mashup")
    if isinstance(body, Answer):
        return body
    clip_ids: list[str] = body["mashup_clip_ids"]
    if any(clip_id not in app.store.clips for clip_id in clip_ids):
        return CLIP_NOT_FOUND
    record = start(
        app,
        owner,
        body,
        operation="sonic/mashup",
        cost=GENERATE_COST,
        task_type="mashup",
        sources=tuple(clip_ids),
        make=mashup_clips,
    )
    return submitted(record)


def replace_section(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /sonic/replace-section`: rewrite a window of a known clip (§3.1, infill)."""
    body = read_body(request, "sonic/replace-section")
    if isinstance(body, Answer):
        return body
    clip = app.store.clips.get(body["clip_id"])
    if clip is None:
        return CLIP_NOT_FOUND
    if body["infill_end_s"] > clip.tune.duration:
        return bad_request(
            f"infill_end_s: must not be after the end of the clip ({clip.tune.duration:g} s)"
        )
    record = start(
        app,
        owner,
        body,
        operation="sonic/replace-section",
        cost=GENERATE_COST,
        task_type="replace-section",
        sources=(clip.clip_id,),
        make=replace_clips,
    )
    return submitted(record)


def _with_steps(record: TaskRecord | Answer, steps: dict[str, str]) -> Answer:
    """The answer of the operations that upload first: `code`, `task_id` and `steps`."""
    if isinstance(record, Answer):
        return record
    body = {"code": 200, "message": "success", "task_id": record.task_id, "steps": steps}
    return json_answer(200, body)


def sample(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /sonic/sample`: two songs on a sample, from a URL or a known clip (§3.1)."""
    body = read_body(request, "sonic/sample")
    if isinstance(body, Answer):
        return body
    clip_id = body.get("sample_clip_id")
    if clip_id and clip_id not in app.store.clips:
        return CLIP_NOT_FOUND
    record = start(
        app,
        owner,
        body,
        operation="sonic/sample",
        cost=GENERATE_COST,
        task_type="sample",
        sources=(clip_id,) if clip_id else (),
        upload_url=None if clip_id else body["url"],
    )
    steps = {"sample": "submitted"} if clip_id else {"upload": "succeeded", "sample": "submitted"}
    return _with_steps(record, steps)


def _upload_then(request: Request, app: SandboxApp, owner: str, step: str) -> Answer:
    operation = f"sonic/upload-{step}"
    body = read_body(request, operation)
    if isinstance(body, Answer):
        return body
    record = start(
        app,
        owner,
        body,
        operation=operation,
        cost=GENERATE_COST,
        task_type=f"{step}_upload_music",
        upload_url=body["url"],
    )
    return _with_steps(record, {"upload": "succeeded", step: "submitted"})


def upload_cover(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /sonic/upload-cover`: upload the URL as a clip, then cover it."""
    return _upload_then(request, app, owner, "cover")


def upload_extend(app: SandboxApp, request: Request, owner: str, _param: str | None) -> Answer:
    """`POST /sonic/upload-extend`: upload the URL as a clip, then extend it."""
    return _upload_then(request, app, owner, "extend")


HANDLERS: dict[str, Handler] = {
    "sonic/create-voice": create_voice,
    "sonic/stems/basic": stems_basic,
    "sonic/stems/full": stems_full,
    "sonic/mashup": mashup,
    "sonic/replace-section": replace_section,
    "sonic/sample": sample,
    "sonic/upload-cover": upload_cover,
    "sonic/upload-extend": upload_extend,
}
