"""Plain attrs models: no I/O, no serialisation code (that lives in `_converter.py`)."""

from __future__ import annotations

from musicapi._models.common import ClipState, SonicModel, TaskState
from musicapi._models.credits import Credits
from musicapi._models.sonic import (
    Clip,
    GenerationResult,
    SonicCreateRequest,
    Task,
    TaskSubmission,
    TaskType,
)

__all__ = [
    "Clip",
    "ClipState",
    "Credits",
    "GenerationResult",
    "SonicCreateRequest",
    "SonicModel",
    "Task",
    "TaskState",
    "TaskSubmission",
    "TaskType",
]
