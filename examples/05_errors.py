"""Handle errors cleanly: one exception tree, caught by what you want to do about it (step 8).

Every error the SDK raises is a `musicapi.MusicAPIError`; retries of what is safe to
retry (429 with its `Retry-After`, 5xx, network errors) already happened inside the
call, at most `max_retries` (3) resends, so what reaches you needs a decision:

| Exception                  | When                                     | What to do               |
|----------------------------|------------------------------------------|--------------------------|
| `RequestValidationError`   | bad input, caught before sending (free)  | fix the field `.field`   |
| `AuthenticationError`      | 401: key invalid or missing              | check `MUSICAPI_KEY`     |
| `InsufficientCreditsError` | 402 (or 403 about credits)               | top up or upgrade        |
| `RateLimitError`           | 429 after the retries; `.retry_after`    | slow down, retry later   |
| `BadRequestError`          | other 4xx (`NotFoundError`: 404)         | read `.body`             |
| `ServerError`              | 5xx after the retries                    | retry later              |
| `APIConnectionError`       | network failure (`APITimeoutError`)      | check network, retry     |
| `SubmissionUnknownError`   | a create was sent, its answer was lost   | check, then resubmit     |
| `TaskFailedError`          | the job failed upstream (`.reason`)      | refunded; retry          |
| `WaitTimeoutError`         | your wait's deadline passed (`.task_id`) | `wait(task_id)` again    |

HTTP errors carry `.status_code`, `.request_id` (quote it to support) and `.body`.

This script shows three of them for real:

1. a title of 200 characters, rejected by `RequestValidationError` before anything is sent;
2. a generation that fails upstream, `TaskFailedError`, with its credits refunded
   (only on the sandbox, which can be told to fail every task);
3. a wait with a deadline shorter than the task, `WaitTimeoutError`, then resuming
   with `wait(task_id)`: the task kept running, nothing is lost or paid twice.

Run it with `python examples/05_errors.py`. With `MUSICAPI_KEY` set, part 3 starts one
real (paid) generation.
"""

from __future__ import annotations

import sys

from _common import client, on_sandbox, sandbox

from musicapi import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    InsufficientCreditsError,
    MusicAPIError,
    RateLimitError,
    RequestValidationError,
    ServerError,
    SonicCreateRequest,
    SubmissionUnknownError,
    TaskFailedError,
    WaitTimeoutError,
)

SONG = SonicCreateRequest(
    custom_mode=False, mv="sonic-v5", gpt_description_prompt="dreamy lofi piano"
)
"""A request can also be built ahead of time, checked and reused, as a typed object."""


def advice(exc: MusicAPIError) -> str:
    """Say what to do about an error: the table of the docstring, as code."""
    if isinstance(exc, RequestValidationError):
        return f"fix the request (field {exc.field!r}); nothing was sent"
    if isinstance(exc, AuthenticationError):
        return "check MUSICAPI_KEY"
    if isinstance(exc, InsufficientCreditsError):
        return "top up or upgrade"
    if isinstance(exc, RateLimitError):
        return f"slow down (retry after {exc.retry_after} s)"
    if isinstance(exc, ServerError | APIConnectionError):
        return "try again later"
    if isinstance(exc, SubmissionUnknownError):
        return "check your tasks before resubmitting"
    if isinstance(exc, BadRequestError):
        return f"read the body: {exc.body!r}"
    if isinstance(exc, TaskFailedError):
        return "its credits were refunded; try again, perhaps with another prompt"
    if isinstance(exc, WaitTimeoutError):
        return f"task {exc.task_id} may still finish: wait on it again"
    return "unexpected"


def validation_error() -> None:
    print("1. a title of 200 characters")
    with client() as api:
        try:
            api.sonic.create(
                custom_mode=True, prompt="[Verse]\nLa la la", title="x" * 200, tags="pop"
            )
        except RequestValidationError as exc:
            print(f"   RequestValidationError: {exc}")
            print(f"   -> {advice(exc)}")
        box = sandbox()
        if box is not None:
            print(f"   create requests the server saw: {box.stats.creates}")


def task_failed() -> None:
    print("2. a generation that fails upstream")
    if not on_sandbox():
        print("   skipped: only the sandbox can be told to fail a task")
        return
    with client(task_seconds=1.0, fail_rate=1.0) as api:
        before = api.get_credits().total
        try:
            api.sonic.generate(SONG)
        except TaskFailedError as exc:
            print(f"   TaskFailedError: {exc}")
            print(f"   -> {advice(exc)}")
        after = api.get_credits().total
        print(f"   credits before: {before:g}, after: {after:g}")


def wait_timeout() -> None:
    print("3. a wait shorter than the task, then resuming it")
    with client() as api:
        try:
            result = api.sonic.generate(SONG, timeout=0.5)
        except WaitTimeoutError as exc:
            print(f"   WaitTimeoutError: {exc}")
            print(f"   -> {advice(exc)}")
            result = api.sonic.wait(exc.task_id)
        print(f"   resumed: task {result.task_id} finished with {len(result.clips)} songs")


def main() -> int:
    try:
        validation_error()
        task_failed()
        wait_timeout()
    except MusicAPIError as exc:  # anything else: one clear line, not a traceback
        print(f"error: {type(exc).__name__}: {exc} -> {advice(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
