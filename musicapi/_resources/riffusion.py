"""Riffusion: (being written)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from musicapi._kinds import SUNO
from musicapi._models import GenerationResult, Task
from musicapi._resources._family import TaskFamily

if TYPE_CHECKING:
    from musicapi._engine import TaskEngine
    from musicapi._transport import Transport


class RiffusionResource(TaskFamily[Task, GenerationResult]):
    """Riffusion jobs."""

    __slots__ = ()

    def __init__(self, transport: Transport, engine: TaskEngine) -> None:
        super().__init__(transport, engine, SUNO)
