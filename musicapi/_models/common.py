"""Shared value types: the open sets of states and model versions.

States and model names are plain strings, not enums, because the API adds values
(`streaming`, `sonic-v5-5`) without notice; the constants here are the known ones.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

EMPTY_RAW: Final[Mapping[str, Any]] = MappingProxyType({})


class TaskState:
    """Known task states, as reported by `Task.state`."""

    RUNNING: Final = "running"
    SUCCEEDED: Final = "succeeded"
    FAILED: Final = "failed"


class ClipState:
    """Known clip states; `streaming` means playable but not final."""

    PENDING: Final = "pending"
    RUNNING: Final = "running"
    STREAMING: Final = "streaming"
    SUCCEEDED: Final = "succeeded"
    FAILED: Final = "failed"

    TERMINAL: Final = frozenset({"succeeded", "complete", "failed"})


class SonicModel:
    """Known Sonic model versions (`mv`); any other string is passed through."""

    V3_5: Final = "sonic-v3-5"
    V4: Final = "sonic-v4"
    V4_5: Final = "sonic-v4-5"
    V4_5_PLUS: Final = "sonic-v4-5-plus"
    V5: Final = "sonic-v5"
    V5_5: Final = "sonic-v5-5"

    DEFAULT: Final = "sonic-v5"
