"""The task kinds of the families beyond Sonic: how each one's answers read.

(Placeholder kinds; the family helper completes the parsers.)
"""

from __future__ import annotations

from musicapi._models import GenerationResult, Task
from musicapi._tasks import SONIC, TaskKind

SUNO: TaskKind[Task, GenerationResult] = TaskKind(
    name="suno",
    submit_path="/suno/create",
    poll_prefix="/suno/clip/",
    parse=SONIC.parse,
    read=SONIC.read,
)
