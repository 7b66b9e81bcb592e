"""Every error the SDK raises, in one tree.

```
MusicAPIError
├── ConfigurationError (also ValueError)   bad base URL, missing key
├── RequestValidationError (also ValueError)  bad input caught before anything is sent
├── APIStatusError                          the server answered with an error status
│   ├── AuthenticationError                 401
│   ├── InsufficientCreditsError            402, or 403 about credits / subscription
│   ├── RateLimitError                      429 (.retry_after)
│   ├── BadRequestError                     other 4xx
│   │   ├── PermissionDeniedError           any other 403
│   │   ├── NotFoundError                   404
│   │   └── GoneError                       410: the API withdrew the operation or task type
│   └── ServerError                         5xx
├── ClientClosedError (also RuntimeError)   the client was used after close()
├── APIConnectionError                      no usable answer from the network
│   └── APITimeoutError                     the request timed out
├── MalformedResponseError                  an answer we cannot parse
├── FileUnavailableError                    a file of a result cannot be fetched (.clip_id, .kind)
│   ├── FileURLMissingError (also RequestValidationError)  no usable URL
│   ├── FileForbiddenError (also PermissionDeniedError)     403, often an expired link
│   ├── FileNotFoundOnHostError (also NotFoundError)        404
│   └── FileGoneError (also BadRequestError)                410
├── FileTooLargeError                       a download went over its max_bytes
├── SubmissionUnknownError                  a create was sent, its answer was lost
├── JournalInUseError                       another process holds the batch journal
├── TaskFailedError                         the job failed upstream (.task_id, .reason)
├── WaitTimeoutError                        the wait's deadline passed (.task_id)
└── WebhookVerificationError                a webhook delivery failed verification
```

The transport is the only place that turns httpx exceptions and status codes into
these classes (see `_transport.py`); everything above it speaks only this tree.
Messages never contain the API key: the transport never formats headers into them.
"""

from __future__ import annotations

from typing import Any, cast

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "FileForbiddenError",
    "FileGoneError",
    "FileNotFoundOnHostError",
    "FileTooLargeError",
    "FileURLMissingError",
    "FileUnavailableError",
    "GoneError",
    "InsufficientCreditsError",
    "JournalInUseError",
    "MalformedResponseError",
    "MusicAPIError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestValidationError",
    "ServerError",
    "SubmissionUnknownError",
    "TaskFailedError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "error_for_status",
]


class MusicAPIError(Exception):
    """The base class of every error raised by musicapi.

    Attributes:
        status_code: The HTTP status, or `None` where no answer was received.
        request_id: The server's `x-request-id` (or a tracing fallback), if any.
        body: The parsed JSON body, else its text, else `None`.
    """

    status_code: int | None = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.request_id = request_id
        self.body = body

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id {self.request_id})"
        return self.message


class ConfigurationError(MusicAPIError, ValueError):
    """A constructor argument or an environment value is wrong, or no API key was given."""


class RequestValidationError(MusicAPIError, ValueError):
    """The request was rejected before anything was sent; `.field` names the culprit."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class APIStatusError(MusicAPIError):
    """The server answered with an error status."""


class BadRequestError(APIStatusError):
    """A 4xx the other classes do not cover: check `.body` for the field at fault."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or invalid."""


class InsufficientCreditsError(APIStatusError):
    """402 (or a 403 about credits or a subscription): top up or upgrade."""


class PermissionDeniedError(BadRequestError):
    """403 for a reason other than credits."""


class NotFoundError(BadRequestError):
    """404: the task or clip id is unknown."""


class GoneError(BadRequestError):
    """410: the API has withdrawn this operation (Nuro) or task type (some producer ones).

    Nothing was charged. The message says what to use instead when the server does.
    """


class RateLimitError(APIStatusError):
    """429: slow down; `.retry_after` is the server's hint in seconds, or `None`."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the server failed; safe requests were already retried."""


class ClientClosedError(MusicAPIError, RuntimeError):
    """The client was used after `close()` / `aclose()` (or while it was closing)."""


class APIConnectionError(MusicAPIError):
    """The network failed before a usable answer arrived."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class MalformedResponseError(MusicAPIError):
    """The server's answer did not have the documented shape."""


class SubmissionUnknownError(MusicAPIError):
    """A create request was sent but its answer was lost, so the job may or may not exist.

    It is never resent automatically, because a second POST could start (and charge
    for) a second job. Check your credits or task list, then resubmit deliberately.
    """


class JournalInUseError(MusicAPIError):
    """Another process (or another batch) holds this journal: two batches on one file would pay twice."""


class TaskFailedError(MusicAPIError):
    """The job failed upstream (its credits are refunded by the API).

    Attributes:
        task_id: The failed task.
        reason: The failure type the API reported (`failed`, `timeout`, ...) and its text.
    """

    def __init__(self, task_id: str, reason: str, *, body: Any = None) -> None:
        super().__init__(f"task {task_id} did not succeed ({reason})", body=body)
        self.task_id = task_id
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.task_id, self.reason), self.__dict__)


class WaitTimeoutError(MusicAPIError, TimeoutError):
    """The wait's deadline passed; the job may still finish: wait on `.task_id` again."""

    def __init__(self, task_id: str, timeout: float) -> None:
        super().__init__(f"task {task_id} was not finished after {timeout:g} s")
        self.task_id = task_id
        self.timeout = timeout

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.task_id, self.timeout), self.__dict__)


class WebhookVerificationError(MusicAPIError, ValueError):
    """A webhook delivery failed verification (signature, timestamp or body)."""


class FileUnavailableError(MusicAPIError):
    """A result's file cannot be fetched: it has no URL, or the host no longer serves it.

    Signed file links expire; polling the task again returns fresh ones. The concrete
    class is also the usual one for the cause (`RequestValidationError` for a missing
    URL, `NotFoundError` for a 404, ...), so existing `except` clauses keep working.

    Attributes:
        clip_id: The clip the file belongs to, if it came from a clip.
        kind: Which file: `"audio"`, `"image"`, `"video"`, `"wav"`, `"midi"`.
    """

    def __init__(
        self, message: str, *, clip_id: str | None = None, kind: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.clip_id = clip_id
        self.kind = kind


class FileURLMissingError(FileUnavailableError, RequestValidationError):
    """The result carries no usable http(s) URL for the file (nothing was sent)."""


class FileNotFoundOnHostError(FileUnavailableError, NotFoundError):
    """The file host answered 404: the file is gone or its link expired."""


class FileForbiddenError(FileUnavailableError, PermissionDeniedError):
    """The file host answered 403: typically a signed link that has expired."""


class FileGoneError(FileUnavailableError, BadRequestError):
    """The file host answered 410: the file was removed."""


class FileTooLargeError(MusicAPIError):
    """The file is larger than the download's `max_bytes`; nothing was kept.

    Attributes:
        limit: The cap in bytes.
        size: The size the host declared, if it declared one over the cap.
        clip_id: The clip the file belongs to, if it came from a clip.
        kind: Which file.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: int = 0,
        size: int | None = None,
        clip_id: str | None = None,
        kind: str | None = None,
    ) -> None:
        super().__init__(message)
        self.limit = limit
        self.size = size
        self.clip_id = clip_id
        self.kind = kind


_CREDIT_WORDS = ("credit", "subscription", "balance", "quota")


def error_for_status(
    status_code: int,
    body: Any,
    *,
    request_id: str | None,
    retry_after: float | None = None,
) -> APIStatusError:
    """Return the exception for an error answer, with a message taken from its envelope."""
    detail = _envelope_message(body)
    message = f"HTTP {status_code}: {detail}" if detail else f"HTTP {status_code}"
    fields: dict[str, Any] = {"status_code": status_code, "request_id": request_id, "body": body}
    if status_code == 401:
        return AuthenticationError(message, **fields)
    if status_code == 402 or (
        status_code == 403 and any(word in detail.lower() for word in _CREDIT_WORDS)
    ):
        return InsufficientCreditsError(message, **fields)
    if status_code == 403:
        return PermissionDeniedError(message, **fields)
    if status_code == 404:
        return NotFoundError(message, **fields)
    if status_code == 410:
        return GoneError(f"withdrawn by the API ({message})", **fields)
    if status_code == 429:
        return RateLimitError(message, retry_after=retry_after, **fields)
    if status_code >= 500:
        return ServerError(message, **fields)
    return BadRequestError(message, **fields)


def _envelope_message(body: Any) -> str:
    """Join the human-readable parts of any of the API's error envelopes."""
    if isinstance(body, str):
        return body.strip()[:200]
    if not isinstance(body, dict):
        return ""
    envelope = cast("dict[str, Any]", body)
    parts = [
        str(envelope[key]) for key in ("type", "error", "message", "detail") if envelope.get(key)
    ]
    return ": ".join(dict.fromkeys(parts))
