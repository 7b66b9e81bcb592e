from __future__ import annotations

import pickle
from typing import Any

import pytest

import musicapi
from musicapi._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InsufficientCreditsError,
    MalformedResponseError,
    MusicAPIError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    SubmissionUnknownError,
    TaskFailedError,
    WaitTimeoutError,
    WebhookVerificationError,
    error_for_status,
)

ALL_ERRORS = [
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InsufficientCreditsError,
    MalformedResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    SubmissionUnknownError,
    TaskFailedError,
    WaitTimeoutError,
    WebhookVerificationError,
]


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_every_error_is_a_musicapi_error(cls: type[Exception]) -> None:
    assert issubclass(cls, MusicAPIError)
    assert getattr(musicapi, cls.__name__) is cls


def test_tree() -> None:
    for cls in (
        AuthenticationError,
        InsufficientCreditsError,
        PermissionDeniedError,
        NotFoundError,
        RateLimitError,
        BadRequestError,
        ServerError,
    ):
        assert issubclass(cls, APIStatusError)
    assert issubclass(APITimeoutError, APIConnectionError)
    for cls in (ConfigurationError, RequestValidationError, WebhookVerificationError):
        assert issubclass(cls, ValueError)
    assert issubclass(WaitTimeoutError, TimeoutError)


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, {"error": "Invalid API key"}, AuthenticationError),
        (402, {"message": "Insufficient credits"}, InsufficientCreditsError),
        (402, None, InsufficientCreditsError),
        (403, {"error": "Insufficient credits"}, InsufficientCreditsError),
        (403, {"message": "No active subscription"}, InsufficientCreditsError),
        (403, {"code": 403, "message": "Credit balance too low"}, InsufficientCreditsError),
        (403, "Not enough CREDITS", InsufficientCreditsError),
        (403, {"error": "forbidden"}, PermissionDeniedError),
        (403, {"message": "This key may not use /studio"}, PermissionDeniedError),
        (403, None, PermissionDeniedError),
        (404, {"error": "task not found"}, NotFoundError),
        (429, {"error": "Too many requests"}, RateLimitError),
        (400, {"error": "title too long"}, BadRequestError),
        (409, "conflict", BadRequestError),
        (410, {"message": "gone"}, musicapi.GoneError),
        (422, {"detail": "unprocessable"}, BadRequestError),
        (500, {"error": "internal"}, ServerError),
        (502, None, ServerError),
        (503, "<html>unavailable</html>", ServerError),
        (504, {"message": "timeout"}, ServerError),
    ],
)
def test_error_for_status_mapping(status: int, body: Any, cls: type[APIStatusError]) -> None:
    error = error_for_status(status, body, request_id="req-1")
    assert type(error) is cls
    assert error.status_code == status
    assert error.request_id == "req-1"
    assert error.body == body
    assert f"HTTP {status}" in str(error)
    assert "req-1" in str(error)


def test_not_found_is_also_a_bad_request() -> None:
    # "BadRequestError (other 4xx)": catching it also catches a 404.
    assert isinstance(error_for_status(404, None, request_id=None), BadRequestError)


@pytest.mark.parametrize("retry_after", [None, 0.0, 2.5])
def test_rate_limit_carries_retry_after(retry_after: float | None) -> None:
    error = error_for_status(429, {"error": "slow down"}, request_id=None, retry_after=retry_after)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == retry_after
    assert error.request_id is None


def test_message_comes_from_envelope() -> None:
    error = error_for_status(
        400, {"type": "bad_request", "error": "title too long"}, request_id=None
    )
    assert str(error) == "HTTP 400: bad_request: title too long"
    assert str(error_for_status(500, {}, request_id=None)) == "HTTP 500"
    assert str(error_for_status(500, [1, 2], request_id=None)) == "HTTP 500"


def test_long_text_body_is_truncated_in_message() -> None:
    error = error_for_status(500, "x" * 10_000, request_id=None)
    assert len(str(error)) < 300
    assert error.body == "x" * 10_000


def test_plain_error_attributes() -> None:
    error = MusicAPIError("boom")
    assert (error.status_code, error.request_id, error.body) == (None, None, None)
    assert str(error) == "boom"
    assert APIConnectionError("down").status_code is None


def test_request_validation_error_field() -> None:
    error = RequestValidationError("title too long", field="title")
    assert error.field == "title"
    assert isinstance(error, ValueError)
    assert RequestValidationError("x").field is None


def test_task_failed_error() -> None:
    error = TaskFailedError("task-1", "timeout: upstream", body={"type": "timeout"})
    assert error.task_id == "task-1"
    assert error.reason == "timeout: upstream"
    assert error.body == {"type": "timeout"}
    assert "task-1" in str(error)
    assert "timeout: upstream" in str(error)


def test_wait_timeout_error() -> None:
    error = WaitTimeoutError("task-2", 12.5)
    assert error.task_id == "task-2"
    assert error.timeout == 12.5
    assert isinstance(error, TimeoutError)
    assert "task-2" in str(error)
    assert "12.5" in str(error)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(
            TaskFailedError("task-1", "failed: boom"),
        ),
        pytest.param(
            WaitTimeoutError("task-2", 3.0),
        ),
        error_for_status(429, {"error": "x"}, request_id="r", retry_after=1.0),
        error_for_status(404, {"error": "x"}, request_id="r"),
        RequestValidationError("bad", field="title"),
    ],
    ids=["TaskFailedError", "WaitTimeoutError", "RateLimitError", "NotFoundError", "Validation"],
)
def test_errors_survive_pickling(error: MusicAPIError) -> None:
    # Errors cross process boundaries (ProcessPoolExecutor, multiprocessing).
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)
