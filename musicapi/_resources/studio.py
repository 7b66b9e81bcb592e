"""Studio: Udio-style generation (`/studio/create`, `/studio/task/{id}`).

Studio answers unlike the other families (its create returns the task id as a bare
string; its poll always answers 200 with a status), which its task kind (`STUDIO` in
`_kinds.py`) reads, so `wait` and `generate_many` work here exactly as for Sonic.
The docs mark Studio unavailable; the surface is kept for accounts that still have it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from musicapi._family_requests import studio_body
from musicapi._kinds import STUDIO
from musicapi._models.studio import StudioCreateRequest, StudioResult, StudioTask
from musicapi._resources._family import CreatingFamily

if TYPE_CHECKING:
    from collections.abc import Mapping

    from musicapi._engine import TaskEngine
    from musicapi._transport import Transport


class StudioResource(CreatingFamily[StudioCreateRequest, StudioTask, StudioResult]):
    """Udio-style songs: `create`, `get` (a `StudioTask`), `wait` (a `StudioResult`)."""

    __slots__ = ()

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine, STUDIO)

    _request_types: ClassVar[tuple[type, ...]] = (StudioCreateRequest,)

    def _body(
        self, request: StudioCreateRequest | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Validate a create request (`_family_requests.studio_body`) and return its JSON body."""
        return studio_body(request, fields)
