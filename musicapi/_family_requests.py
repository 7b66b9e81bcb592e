"""Validation of the requests of the Suno, Producer, Studio, Riffusion and Nuro families.

The field rules are declared on the request models (`_models/`) and read by
`musicapi._rules`; this module adds the rules that tie fields together (a source clip
for every task type but `create_music`, a replace window that ends after it starts,
Nuro's v2.0 shape) and turns a request, prepared or given as keywords or a mapping,
into the JSON body that is sent. The resources' `create`, `generate` and
`generate_many` all go through here, so a batch item is checked exactly as a single
call is.

Where the reference is thin we read it as the sandbox does (`sandbox/_ops_rules.py`,
written separately and pinned to the same vectors): producer `extend_*`, `replace_*`
and `cover_music` need `clip_id`; riffusion task types other than `create_music` need
`continue_clip_id`; `replace_*` need both window ends; every family takes
`webhook_url`/`webhook_secret` (§5 says any task), and an empty secret is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from musicapi._converter import unstructure_request
from musicapi._errors import RequestValidationError
from musicapi._models.nuro import NuroBgmRequest, NuroVocalRequest
from musicapi._models.producer import ProducerCreateRequest, ProducerTaskType
from musicapi._models.riffusion import RiffusionCreateRequest
from musicapi._models.studio import StudioCreateRequest
from musicapi._rules import Check, body_of, ordered, prepare, secret_not_empty
from musicapi._validation import prepare_request

if TYPE_CHECKING:
    from collections.abc import Mapping

    from musicapi._models.sonic import SonicCreateRequest

T = TypeVar("T")

Body = dict[str, Any]
NURO_V2 = "v2.0"
NURO_V1_MAX_SECONDS = 60


def _needs_source(field: str) -> Check:
    """Every task type but `create_music` works on an existing clip named by `field`."""

    def check(request: Any) -> None:
        task_type: str = request.effective_task_type
        if task_type != "create_music" and not getattr(request, field):
            raise RequestValidationError(
                f"{field} is required for task_type {task_type!r}", field=field
            )

    return check


def _replace_window(start: str, end: str) -> Check:
    """The `replace_*` task types need both ends of the window they replace."""

    def check(request: Any) -> None:
        task_type: str = request.effective_task_type
        if task_type.startswith("replace_"):
            for name in (start, end):
                if getattr(request, name) is None:
                    raise RequestValidationError(
                        f"{name} is required for task_type {task_type!r}", field=name
                    )

    return check


def _one_cover_strength(request: ProducerCreateRequest) -> None:
    strength, alias = request.strength, request.cover_strength
    if strength is not None and alias is not None and strength != alias:
        raise RequestValidationError(
            "give strength or cover_strength (its alias), not both", field="cover_strength"
        )


def _nuro_bgm_shape(request: NuroBgmRequest) -> None:
    v2 = request.version == NURO_V2
    if not v2 and request.duration is not None and request.duration > NURO_V1_MAX_SECONDS:
        raise RequestValidationError(
            f"duration is at most {NURO_V1_MAX_SECONDS} seconds (240 with version='v2.0'), "
            f"got {request.duration}",
            field="duration",
        )
    if request.segments is None:
        return
    if not v2:
        raise RequestValidationError("segments need version='v2.0'", field="segments")
    for index, segment in enumerate(request.segments):
        name, seconds = segment.get("name"), segment.get("duration")
        if not isinstance(name, str) or not name:
            raise RequestValidationError(
                f"segments[{index}] needs a name (a non-empty string)", field="segments"
            )
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            raise RequestValidationError(
                f"segments[{index}] needs a duration (a positive number of seconds)",
                field="segments",
            )


PRODUCER_CHECKS: tuple[Check, ...] = (
    _needs_source("clip_id"),
    _replace_window("starts_at", "ends_at"),
    ordered("starts_at", "ends_at"),
    _one_cover_strength,
    secret_not_empty,
)
STUDIO_CHECKS: tuple[Check, ...] = (
    ordered("song_section_start", "song_section_end"),
    ordered("lyrics_placement_start", "lyrics_placement_end"),
    secret_not_empty,
)
RIFFUSION_CHECKS: tuple[Check, ...] = (
    _needs_source("continue_clip_id"),
    _replace_window("replace_start_time", "replace_end_time"),
    ordered("replace_start_time", "replace_end_time"),
    secret_not_empty,
)
NURO_CHECKS: Mapping[type, tuple[Check, ...]] = {
    NuroVocalRequest: (secret_not_empty,),
    NuroBgmRequest: (_nuro_bgm_shape, secret_not_empty),
}
SIMPLE_CHECKS: tuple[Check, ...] = (secret_not_empty,)


def request_body(
    cls: type[T],
    request: T | None,
    fields: Mapping[str, Any],
    *,
    operation: str,
    checks: tuple[Check, ...] = SIMPLE_CHECKS,
) -> Body:
    """Validate a request given as an object or as keyword fields; return its JSON body.

    Raises:
        RequestValidationError: The request breaks a documented rule; `.field` names it.
    """
    return body_of(prepare(cls, request, fields, operation=operation, checks=checks))


def producer_body(request: ProducerCreateRequest | None, fields: Mapping[str, Any]) -> Body:
    """Validate a `producer.create` request and return its body.

    The task types the API withdrew are refused first, with what to use instead: the
    API would answer them with 410 Gone, which says less.
    """
    task_type = request.task_type if isinstance(request, ProducerCreateRequest) else None
    if request is None:
        task_type = fields.get("task_type")
    if isinstance(task_type, str) and task_type in ProducerTaskType.WITHDRAWN:
        instead = ProducerTaskType.WITHDRAWN[task_type]
        raise RequestValidationError(
            f"task_type {task_type!r} was withdrawn by the API (it answers 410 Gone): {instead}",
            field="task_type",
        )
    return request_body(
        ProducerCreateRequest,
        request,
        fields,
        operation="producer.create",
        checks=PRODUCER_CHECKS,
    )


def studio_body(request: StudioCreateRequest | None, fields: Mapping[str, Any]) -> Body:
    """Validate a `studio.create` request and return its body."""
    return request_body(
        StudioCreateRequest, request, fields, operation="studio.create", checks=STUDIO_CHECKS
    )


def riffusion_body(request: RiffusionCreateRequest | None, fields: Mapping[str, Any]) -> Body:
    """Validate a `riffusion.create` request and return its body."""
    return request_body(
        RiffusionCreateRequest,
        request,
        fields,
        operation="riffusion.create",
        checks=RIFFUSION_CHECKS,
    )


def nuro_body(request: NuroVocalRequest | NuroBgmRequest | None, fields: Mapping[str, Any]) -> Body:
    """Validate a `nuro.create` request, its shape chosen by `type`; return its body."""
    if request is None:
        kind = fields.get("type")
        cls: type[NuroVocalRequest | NuroBgmRequest]
        if kind == "vocal":
            cls = NuroVocalRequest
        elif kind == "bgm":
            cls = NuroBgmRequest
        else:
            problem = "is required" if kind is None else f"must be 'vocal' or 'bgm', not {kind!r}"
            raise RequestValidationError(
                f"type {problem} for nuro.create ('vocal' for a song, 'bgm' for background music)",
                field="type",
            )
        return request_body(cls, None, fields, operation="nuro.create", checks=NURO_CHECKS[cls])
    if isinstance(request, NuroVocalRequest):
        return request_body(
            NuroVocalRequest,
            request,
            fields,
            operation="nuro.create",
            checks=NURO_CHECKS[NuroVocalRequest],
        )
    if isinstance(request, NuroBgmRequest):  # pyright: ignore[reportUnnecessaryIsInstance]
        return request_body(
            NuroBgmRequest,
            request,
            fields,
            operation="nuro.create",
            checks=NURO_CHECKS[NuroBgmRequest],
        )
    raise RequestValidationError(
        f"request must be a NuroVocalRequest or NuroBgmRequest, not {type(request).__name__}",
        field="request",
    )


def suno_body(request: SonicCreateRequest | None, fields: Mapping[str, Any]) -> Body:
    """Validate a `suno.create` request (Sonic's create under its old name); return its body."""
    return unstructure_request(prepare_request(request, dict(fields)))
