"""Nuro: withdrawn by the API, which answers 410 Gone on both of its endpoints.

Kept so that code written against the documented Nuro API fails clearly: every public
call warns `DeprecationWarning`, and the API's 410 surfaces as `musicapi.GoneError`,
whose message says to use `sonic.create` for songs and `producer.create` for
background music. A platform that still serves Nuro (the sandbox's `legacy_nuro`
mode) works through the same calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from musicapi._family_requests import nuro_body
from musicapi._kinds import NURO
from musicapi._models.nuro import NuroBgmRequest, NuroTask, NuroVocalRequest
from musicapi._resources._family import CreatingFamily

if TYPE_CHECKING:
    from collections.abc import Mapping

    from musicapi._engine import TaskEngine
    from musicapi._transport import Transport

DEPRECATED = (
    "the Nuro API was withdrawn by MusicAPI (it answers 410 Gone); use client.sonic for "
    "songs or client.producer for background music"
)


class NuroResource(CreatingFamily[NuroVocalRequest | NuroBgmRequest, NuroTask, NuroTask]):
    """Withdrawn Nuro songs and background music; every call warns and the API answers 410."""

    __slots__ = ()

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine, NURO)

    _deprecated: ClassVar[str | None] = DEPRECATED

    _request_types: ClassVar[tuple[type, ...]] = (NuroVocalRequest, NuroBgmRequest)

    def _body(
        self, request: NuroVocalRequest | NuroBgmRequest | None, fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Validate a create request (`_family_requests.nuro_body`) and return its JSON body."""
        return nuro_body(request, fields)
