"""The base of every API-area resource: access to the transport and the clock, nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from musicapi._clock import Clock
    from musicapi._transport import Transport


class Resource:
    """One API area (sonic, credits, ...) of a client."""

    __slots__ = ("_clock", "_transport")

    def __init__(self, transport: Transport, clock: Clock) -> None:
        self._transport = transport
        self._clock = clock
