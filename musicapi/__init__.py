"""musicapi: the Python SDK for the MusicAPI music-generation API.

`AsyncMusicAPI` is the async client (asyncio or trio); `MusicAPI` is the same client,
synchronous. `musicapi.sandbox` is a local MusicAPI for demos and tests.
"""

from __future__ import annotations

from musicapi import webhooks as webhooks
from musicapi._batch import AsyncBatchRun as AsyncBatchRun
from musicapi._batch import Outcome as Outcome
from musicapi._budget import PacingSnapshot as PacingSnapshot
from musicapi._client import AsyncMusicAPI as AsyncMusicAPI
from musicapi._errors import APIConnectionError as APIConnectionError
from musicapi._errors import APIStatusError as APIStatusError
from musicapi._errors import APITimeoutError as APITimeoutError
from musicapi._errors import AuthenticationError as AuthenticationError
from musicapi._errors import BadRequestError as BadRequestError
from musicapi._errors import ClientClosedError as ClientClosedError
from musicapi._errors import ConfigurationError as ConfigurationError
from musicapi._errors import FileForbiddenError as FileForbiddenError
from musicapi._errors import FileGoneError as FileGoneError
from musicapi._errors import FileNotFoundOnHostError as FileNotFoundOnHostError
from musicapi._errors import FileTooLargeError as FileTooLargeError
from musicapi._errors import FileUnavailableError as FileUnavailableError
from musicapi._errors import FileURLMissingError as FileURLMissingError
from musicapi._errors import GoneError as GoneError
from musicapi._errors import InsufficientCreditsError as InsufficientCreditsError
from musicapi._errors import JournalInUseError as JournalInUseError
from musicapi._errors import MalformedResponseError as MalformedResponseError
from musicapi._errors import MusicAPIError as MusicAPIError
from musicapi._errors import NotFoundError as NotFoundError
from musicapi._errors import PermissionDeniedError as PermissionDeniedError
from musicapi._errors import RateLimitError as RateLimitError
from musicapi._errors import RequestValidationError as RequestValidationError
from musicapi._errors import ServerError as ServerError
from musicapi._errors import SubmissionUnknownError as SubmissionUnknownError
from musicapi._errors import TaskFailedError as TaskFailedError
from musicapi._errors import WaitTimeoutError as WaitTimeoutError
from musicapi._errors import WebhookVerificationError as WebhookVerificationError
from musicapi._forward import BatchRun as BatchRun
from musicapi._models import Clip as Clip
from musicapi._models import Credits as Credits
from musicapi._models import GenerationResult as GenerationResult
from musicapi._models import SonicCreateRequest as SonicCreateRequest
from musicapi._models import Task as Task
from musicapi._models import TaskSubmission as TaskSubmission
from musicapi._sync import MusicAPI as MusicAPI
from musicapi._version import __version__ as __version__
from musicapi._wait import PollPolicy as PollPolicy

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncBatchRun",
    "AsyncMusicAPI",
    "AuthenticationError",
    "BadRequestError",
    "BatchRun",
    "ClientClosedError",
    "Clip",
    "ConfigurationError",
    "Credits",
    "FileForbiddenError",
    "FileGoneError",
    "FileNotFoundOnHostError",
    "FileTooLargeError",
    "FileURLMissingError",
    "FileUnavailableError",
    "GenerationResult",
    "GoneError",
    "InsufficientCreditsError",
    "JournalInUseError",
    "MalformedResponseError",
    "MusicAPI",
    "MusicAPIError",
    "NotFoundError",
    "Outcome",
    "PacingSnapshot",
    "PermissionDeniedError",
    "PollPolicy",
    "RateLimitError",
    "RequestValidationError",
    "ServerError",
    "SonicCreateRequest",
    "SubmissionUnknownError",
    "Task",
    "TaskFailedError",
    "TaskSubmission",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "__version__",
    "webhooks",
]


def _claim_public_classes() -> None:
    """Set `__module__` so tracebacks and reprs say `musicapi.RateLimitError`."""
    for name in __all__:
        obj = globals()[name]
        if isinstance(obj, type):
            obj.__module__ = "musicapi"


_claim_public_classes()
del _claim_public_classes, annotations
