"""The model classes, for annotating your own code (`from musicapi.models import Clip`)."""

from __future__ import annotations

from musicapi._batch import Outcome as Outcome
from musicapi._models import Clip as Clip
from musicapi._models import ClipState as ClipState
from musicapi._models import Credits as Credits
from musicapi._models import GenerationResult as GenerationResult
from musicapi._models import SonicCreateRequest as SonicCreateRequest
from musicapi._models import SonicModel as SonicModel
from musicapi._models import Task as Task
from musicapi._models import TaskState as TaskState
from musicapi._models import TaskSubmission as TaskSubmission
from musicapi._models import TaskType as TaskType

__all__ = [
    "Clip",
    "ClipState",
    "Credits",
    "GenerationResult",
    "Outcome",
    "SonicCreateRequest",
    "SonicModel",
    "Task",
    "TaskState",
    "TaskSubmission",
    "TaskType",
]
