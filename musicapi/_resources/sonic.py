"""Sonic: song generation (create, get, wait, generate, generate_many) and every tool.

The resource validates create requests (`_body`) and hands everything else to
`CreatingFamily` and the client's task engine: `wait`, `generate` and every job of
`generate_many` go through the same scheduler, so they share one deadline rule, one
retry rule and one request budget. The other operations of api-reference §3.1 come
from two mixins: `sonic_audio.py` (wav, midi, stems, bpm, aligned lyrics, vox,
uploads) and `sonic_writing.py` (lyrics, tags, voices, personas, mashup,
replace-section, sample, batch); the jobs they start are waited on with the same `wait`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from musicapi._converter import unstructure_request
from musicapi._models import SonicCreateRequest
from musicapi._resources.sonic_audio import SonicAudioOps
from musicapi._resources.sonic_writing import SonicWritingOps
from musicapi._tasks import SONIC
from musicapi._validation import prepare_request

if TYPE_CHECKING:
    from collections.abc import Mapping

    from musicapi._engine import TaskEngine
    from musicapi._transport import Transport


class SonicResource(SonicAudioOps, SonicWritingOps):
    """Song generation with the Sonic models (`/sonic/*`), polled at `/sonic/task/{id}`."""

    __slots__ = ()

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine, SONIC)

    _request_types: ClassVar[tuple[type, ...]] = (SonicCreateRequest,)

    def _body(
        self, request: SonicCreateRequest | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Validate a create request (`musicapi._validation`) and return its JSON body."""
        return unstructure_request(prepare_request(request, dict(fields)))
