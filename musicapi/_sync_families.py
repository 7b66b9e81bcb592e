"""The sync twins of the API families (`MusicAPI.sonic`, `.producer`, ...).

Each twin is a list of one-line forwards (`_forward.Forward`) onto the async family of
the same name: the same methods, parameters and docstrings, without `await`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from musicapi._forward import Forward, HasBridge
from musicapi._resources.sonic import SonicResource

if TYPE_CHECKING:
    from musicapi._client import AsyncMusicAPI
    from musicapi._forward import Bridge

__all__ = ["SyncSonic"]


class _SyncFamily(HasBridge):
    """A family's sync twin: holds the bridge to the client's loop, nothing else."""

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge


def _sonic(client: AsyncMusicAPI) -> SonicResource:
    return client.sonic


class SyncSonic(_SyncFamily):
    """Song generation, synchronously: the methods of `AsyncMusicAPI.sonic` without `await`."""

    create = Forward(SonicResource.create, _sonic)
    get = Forward(SonicResource.get, _sonic)
    wait = Forward(SonicResource.wait, _sonic)
    generate = Forward(SonicResource.generate, _sonic)
    generate_many = Forward(SonicResource.generate_many, _sonic)
