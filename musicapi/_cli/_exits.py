"""What a command's outcome means to the shell: exit statuses, error messages and hints.

Exit statuses: 0 success, 1 an API or network error (the message names the class and
HTTP status), 2 a usage error (bad arguments or input, no API key), 3 a job failed
upstream, 4 a wait timed out (the job may still finish), 130 interrupted (Ctrl-C).
An error is printed as `error: Class (HTTP n): message`, then what the user can do.
"""

from __future__ import annotations

from typing import Any

from musicapi._cli._parser import PROG
from musicapi._cli._text import shown
from musicapi._errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    FileTooLargeError,
    FileUnavailableError,
    InsufficientCreditsError,
    JournalInUseError,
    NotFoundError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    SubmissionUnknownError,
    TaskFailedError,
    WaitTimeoutError,
)

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_JOB_FAILED",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "UsageError",
    "error_json",
    "error_text",
    "exit_code",
    "hint",
    "worst",
]

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_JOB_FAILED = 3
EXIT_TIMEOUT = 4
EXIT_INTERRUPTED = 130
SEVERITY = (EXIT_USAGE, EXIT_API_ERROR, EXIT_JOB_FAILED, EXIT_TIMEOUT)
"""When several things went wrong, the status of the first kind in this order wins."""


class UsageError(Exception):
    """A problem with the command line, its input files or the setup (exit status 2)."""

    def __init__(self, message: str, *, bare: bool = False) -> None:
        super().__init__(message)
        self.bare = bare

    def text(self, command: str) -> str:
        """Return the message as printed, argparse-style unless it stands alone."""
        return str(self) if self.bare else f"{PROG} {command}: error: {self}"


def exit_code(error: BaseException) -> int:
    """Return the exit status for an error."""
    if isinstance(error, FileUnavailableError):
        return EXIT_API_ERROR  # a missing file URL is the result's fault, not the user's
    if isinstance(error, (RequestValidationError, ConfigurationError)):
        return EXIT_USAGE
    if isinstance(error, TaskFailedError):
        return EXIT_JOB_FAILED
    if isinstance(error, WaitTimeoutError):
        return EXIT_TIMEOUT
    return EXIT_API_ERROR


def worst(codes: list[int]) -> int:
    """Return the status that describes several outcomes: the most severe one."""
    return next((code for code in SEVERITY if code in codes), EXIT_OK)


def hint(error: BaseException, sandbox: bool) -> str | None:
    """Return what the user can do about an error, if there is something to say."""
    if isinstance(error, AuthenticationError):
        return "the API key was refused: check MUSICAPI_KEY"
    if isinstance(error, InsufficientCreditsError):
        return "top up or upgrade in the MusicAPI dashboard; `musicapi credits` shows the balance"
    if isinstance(error, WaitTimeoutError):
        return f"the task may still finish: musicapi wait {error.task_id}"
    if isinstance(error, FileUnavailableError):
        return "links expire: `musicapi download TASK_ID` fetches fresh ones"
    if isinstance(error, FileTooLargeError):
        return "raise the cap with --max-size (e.g. --max-size 4G, or none)"
    if isinstance(error, NotFoundError) and sandbox:
        return (
            "an in-process --sandbox starts empty on every run: serve one with "
            "`musicapi sandbox --port 8000` and set "
            "MUSICAPI_BASE_URL=http://127.0.0.1:8000/api/v1 instead"
        )
    if isinstance(error, SubmissionUnknownError):
        return "the job may or may not exist (and be charged): check `musicapi credits` first"
    if isinstance(error, JournalInUseError):
        return "another `musicapi batch` runs on this file; let it finish"
    if isinstance(error, (RateLimitError, ServerError)):
        return "the SDK already retried; try again later"
    if isinstance(error, APIConnectionError):
        return "a network problem: try again (a saved song is never saved twice)"
    return None


def error_json(error: BaseException, sandbox: bool) -> dict[str, Any]:
    """Return an error as the JSON the command prints: class, message, status and hint."""
    return {
        "type": type(error).__name__,
        "message": str(error),
        "status_code": getattr(error, "status_code", None),
        "task_id": getattr(error, "task_id", None),
        "exit_code": exit_code(error),
        "hint": hint(error, sandbox),
    }


def error_text(error: BaseException, sandbox: bool) -> str:
    """Return an error as printed on stderr: `error: Class (HTTP n): message`, then a hint."""
    status = getattr(error, "status_code", None)
    message = shown(error, 2000)
    name = type(error).__name__
    if status and f"HTTP {status}" not in message:
        name += f" (HTTP {status})"
    advice = hint(error, sandbox)
    text = f"error: {name}: {message}"
    return f"{text}\nhint: {advice}" if advice else text
