"""The model classes, for annotating your own code (`from musicapi.models import Clip`)."""

from __future__ import annotations

from musicapi._batch import Outcome as Outcome
from musicapi._models import AlignedLine as AlignedLine
from musicapi._models import AlignedLyrics as AlignedLyrics
from musicapi._models import AlignedWord as AlignedWord
from musicapi._models import Bpm as Bpm
from musicapi._models import Clip as Clip
from musicapi._models import ClipState as ClipState
from musicapi._models import Credits as Credits
from musicapi._models import GenerationResult as GenerationResult
from musicapi._models import LyricsCandidate as LyricsCandidate
from musicapi._models import LyricsResult as LyricsResult
from musicapi._models import MashupRequest as MashupRequest
from musicapi._models import Midi as Midi
from musicapi._models import MidiInstrument as MidiInstrument
from musicapi._models import Persona as Persona
from musicapi._models import PersonaRequest as PersonaRequest
from musicapi._models import ReplaceSectionRequest as ReplaceSectionRequest
from musicapi._models import SampleRequest as SampleRequest
from musicapi._models import SonicBatch as SonicBatch
from musicapi._models import SonicBatchItem as SonicBatchItem
from musicapi._models import SonicBatchStatus as SonicBatchStatus
from musicapi._models import SonicCreateRequest as SonicCreateRequest
from musicapi._models import SonicModel as SonicModel
from musicapi._models import Task as Task
from musicapi._models import TaskState as TaskState
from musicapi._models import TaskSubmission as TaskSubmission
from musicapi._models import TaskType as TaskType
from musicapi._models import Upload as Upload
from musicapi._models import UploadCoverRequest as UploadCoverRequest
from musicapi._models import UploadExtendRequest as UploadExtendRequest
from musicapi._models import UpsampledTags as UpsampledTags
from musicapi._models import Vox as Vox
from musicapi._models import WavFile as WavFile
from musicapi._models.nuro import NuroBgmRequest as NuroBgmRequest
from musicapi._models.nuro import NuroStatus as NuroStatus
from musicapi._models.nuro import NuroTask as NuroTask
from musicapi._models.nuro import NuroTimbre as NuroTimbre
from musicapi._models.nuro import NuroVocalRequest as NuroVocalRequest
from musicapi._models.producer import ProducerCreateRequest as ProducerCreateRequest
from musicapi._models.producer import ProducerFormat as ProducerFormat
from musicapi._models.producer import ProducerTaskType as ProducerTaskType
from musicapi._models.riffusion import RiffusionCreateRequest as RiffusionCreateRequest
from musicapi._models.riffusion import RiffusionModel as RiffusionModel
from musicapi._models.riffusion import RiffusionTaskType as RiffusionTaskType
from musicapi._models.studio import StudioCreateRequest as StudioCreateRequest
from musicapi._models.studio import StudioResult as StudioResult
from musicapi._models.studio import StudioSong as StudioSong
from musicapi._models.studio import StudioStatus as StudioStatus
from musicapi._models.studio import StudioTask as StudioTask
from musicapi._models.suno import LyricsStatus as LyricsStatus
from musicapi._models.suno import LyricsTask as LyricsTask
from musicapi._models.suno import SongInfo as SongInfo

__all__ = [
    "AlignedLine",
    "AlignedLyrics",
    "AlignedWord",
    "Bpm",
    "Clip",
    "ClipState",
    "Credits",
    "GenerationResult",
    "LyricsCandidate",
    "LyricsResult",
    "LyricsStatus",
    "LyricsTask",
    "MashupRequest",
    "Midi",
    "MidiInstrument",
    "NuroBgmRequest",
    "NuroStatus",
    "NuroTask",
    "NuroTimbre",
    "NuroVocalRequest",
    "Outcome",
    "Persona",
    "PersonaRequest",
    "ProducerCreateRequest",
    "ProducerFormat",
    "ProducerTaskType",
    "ReplaceSectionRequest",
    "RiffusionCreateRequest",
    "RiffusionModel",
    "RiffusionTaskType",
    "SampleRequest",
    "SongInfo",
    "SonicBatch",
    "SonicBatchItem",
    "SonicBatchStatus",
    "SonicCreateRequest",
    "SonicModel",
    "StudioCreateRequest",
    "StudioResult",
    "StudioSong",
    "StudioStatus",
    "StudioTask",
    "Task",
    "TaskState",
    "TaskSubmission",
    "TaskType",
    "Upload",
    "UploadCoverRequest",
    "UploadExtendRequest",
    "UpsampledTags",
    "Vox",
    "WavFile",
]
