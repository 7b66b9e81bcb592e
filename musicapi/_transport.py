"""The only module that talks to httpx: auth, pacing, retries and error mapping.

Every API request of a client goes through `Transport.request`. It adds the bearer
header (never to a URL, a log line or a message), waits for the client's shared
request budget, sends, and turns what happened into either an `APIResponse` or one of
the `MusicAPIError` classes. The retry decisions themselves are pure and live in
`_retry.py`; this module only carries them out.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import time
from typing import TYPE_CHECKING, Any, NoReturn, cast

import anyio
import attrs
import httpx

from musicapi._clock import DeadlineExceeded, cancel_at
from musicapi._converter import encode_body
from musicapi._errors import (
    APIConnectionError,
    APITimeoutError,
    ClientClosedError,
    MalformedResponseError,
    MusicAPIError,
    SubmissionUnknownError,
    error_for_status,
)
from musicapi._logging import logger, protect, redact_bytes
from musicapi._retry import Failure, Idempotency, decide, parse_retry_after
from musicapi._version import __version__

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Coroutine
    from types import TracebackType

    from musicapi._budget import RequestBudget
    from musicapi._clock import Clock
    from musicapi._config import ClientConfig

REQUEST_ID_HEADERS = ("x-request-id", "x-vercel-id", "cf-ray")
USER_AGENT = f"musicapi-python/{__version__}"

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TIMEOUTS = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.TimeoutException)


@attrs.frozen
class APIResponse:
    """A successful (2xx) answer: status, parsed JSON body and headers."""

    status_code: int
    body: Any
    headers: httpx.Headers
    request_id: str | None
    retry_after: float | None
    """The `Retry-After` hint of this answer, in seconds, if any."""


class Transport:
    """Sends requests for one client over one pooled `httpx.AsyncClient`.

    Args:
        config: The client's settings.
        clock: The clock backoff sleeps and deadlines use.
        budget: The client's shared pacing and in-flight cap.
        http_client: A client to use instead of creating one (not closed by us).
        transport: An httpx transport for the client we create (the sandbox's, say).
        rng: The source of retry jitter.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        clock: Clock,
        budget: RequestBudget,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._budget = budget
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not security)
        self._owns_client = http_client is None
        limits = httpx.Limits(
            max_connections=budget.max_in_flight,
            max_keepalive_connections=budget.max_in_flight,
        )
        # Where we own the client, API requests skip its layers (URL merging, cookies,
        # auth and redirect plumbing, event hooks: none of which the API uses) and go
        # straight to the pool. A user's own `http_client` keeps the full path, so its
        # hooks, auth and proxies still apply.
        self._pool: httpx.AsyncBaseTransport | None = (
            (transport or httpx.AsyncHTTPTransport(limits=limits)) if http_client is None else None
        )
        self._http = http_client or httpx.AsyncClient(
            transport=self._pool,
            timeout=httpx.Timeout(config.timeout),
            limits=limits,
            follow_redirects=False,
        )
        self._timeouts = {
            "connect": config.timeout,
            "read": config.timeout,
            "write": config.timeout,
            "pool": config.timeout,
        }
        self._secret = protect(config.api_key)
        self._headers: dict[str, str] | None = None
        self._closed = False

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The pooled httpx client (also used for downloads, without the key)."""
        self.ensure_open()
        return self._http

    @property
    def max_retries(self) -> int:
        """How many times a retryable request is resent."""
        return self._config.max_retries

    async def aclose(self) -> None:
        """Refuse new requests and close the pool (unless it was passed in by the caller)."""
        self._closed = True
        if self._owns_client:
            await self._http.aclose()

    def ensure_open(self) -> None:
        """Raise `ClientClosedError` if the client was closed."""
        if self._closed:
            raise ClientClosedError("this client is closed: create a new one to send requests")

    def _auth_headers(self) -> dict[str, str]:
        if self._headers is None:
            self._headers = {
                "Authorization": f"Bearer {self._config.require_key()}",
                "Accept": "application/json",
                "Accept-Encoding": "gzip, deflate",
                "User-Agent": USER_AGENT,
            }
        return self._headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        idempotency: Idempotency = Idempotency.SAFE,
        deadline: float | None = None,
        before_send: Callable[[], None] | None = None,
        retries: int | None = None,
    ) -> APIResponse:
        """Send one API request, retrying what the policy allows.

        Args:
            method: The HTTP method.
            path: The path below the base URL, starting with `/`.
            json_body: The JSON body, if any (encoded strictly: NaN is refused).
            content: The body already encoded as JSON bytes, instead of `json_body`.
            idempotency: Whether a resend can start a second paid job.
            deadline: A clock time by which the request, its retries and its waits for
                pacing and a free slot must end; past it, `DeadlineExceeded`.
            before_send: Called just before each attempt goes on the wire (after pacing).
            retries: Resends allowed for this call (`None`: the client's `max_retries`).

        Raises:
            MusicAPIError: The mapped failure, after any retries.
            ClientClosedError: The client was closed.
            DeadlineExceeded: The deadline passed first.
        """
        self.ensure_open()
        if content is None and json_body is not None:
            content = encode_body(json_body)
        max_retries = self._config.max_retries if retries is None else retries
        if deadline is None:
            return await self._attempts(
                method, path, content, idempotency, None, before_send, max_retries
            )
        with cancel_at(self._clock, deadline):
            return await self._attempts(
                method, path, content, idempotency, deadline, before_send, max_retries
            )
        raise DeadlineExceeded

    async def _attempts(
        self,
        method: str,
        path: str,
        content: bytes | None,
        idempotency: Idempotency,
        deadline: float | None,
        before_send: Callable[[], None] | None,
        max_retries: int,
    ) -> APIResponse:
        """Send, and resend while the retry policy says so."""
        headers = self._auth_headers()
        url = self._config.base_url + path
        retries_done = 0
        while True:
            started = self._clock.now()
            try:
                response = await self._send(
                    method, url, headers, content, idempotency, before_send, path=path
                )
            except httpx.TransportError as exc:
                failure = Failure.NOT_SENT if isinstance(exc, _NOT_SENT) else Failure.NO_ANSWER
                decision = decide(
                    idempotency,
                    retries_done=retries_done,
                    max_retries=max_retries,
                    failure=failure,
                    rng=self._rng,
                )
                self._log_failure(method, path, exc, retried=decision.retry)
                if decision.submission_unknown:
                    raise SubmissionUnknownError(
                        f"{method} {path} was sent but no answer came back "
                        f"({type(exc).__name__}); the job may or may not have been created, "
                        "so it was not resent (a second create could be charged twice)"
                    ) from exc
                if not decision.retry:
                    _raise_connection_error(method, path, exc)
                failed: MusicAPIError = connection_error(f"{method} {path}", exc)
                failed.__cause__ = exc
            else:
                retry_after = parse_retry_after(
                    response.headers.get("retry-after"), now=time.time()
                )
                if response.status_code == 429:
                    self._budget.on_rate_limited(retry_after)
                else:
                    self._budget.on_answer()
                self._log_answer(method, path, response, started)
                if response.status_code < 400:
                    return _success(response, retry_after)
                error = status_error(response, _body_of(response))
                decision = decide(
                    idempotency,
                    retries_done=retries_done,
                    max_retries=max_retries,
                    status_code=response.status_code,
                    retry_after=retry_after,
                    rng=self._rng,
                )
                if decision.submission_unknown:
                    raise SubmissionUnknownError(
                        f"{method} {path} got {error.message} from a gateway; the origin may "
                        "have created the job, so it was not resent (a second create could "
                        "be charged twice)",
                        status_code=error.status_code,
                        request_id=error.request_id,
                        body=error.body,
                    ) from error
                if not decision.retry:
                    raise error
                failed = error
            if self._past(deadline, decision.delay):
                # No retry fits before the deadline: the caller decides what the failure
                # means (a wait treats it as transient and ends at its deadline, not now).
                raise failed
            retries_done += 1
            await self._clock.sleep(decision.delay)

    def _past(self, deadline: float | None, delay: float) -> bool:
        return deadline is not None and self._clock.now() + delay >= deadline

    async def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        idempotency: Idempotency,
        before_send: Callable[[], None] | None,
        *,
        path: str,
    ) -> httpx.Response:
        """Pace, take an in-flight slot, and send once.

        A create is protected from cancellation once it is on the wire: cancelling it
        halfway would lose the task id of a job the server may already have charged.
        `path` (the API path) names, in the log, how to wait for a job created for a
        caller that is gone.
        """
        await self._budget.pace()
        async with self._budget.slot():
            if before_send is not None:
                before_send()
            if idempotency is Idempotency.CREATE:
                return await _protected(self._send_now(method, url, headers, content), path)
            return await self._send_now(method, url, headers, content)

    async def _send_now(
        self, method: str, url: str, headers: dict[str, str], content: bytes | None
    ) -> httpx.Response:
        if content is not None:
            headers = {**headers, "Content-Type": "application/json"}
        try:
            if self._pool is None:
                return await self._http.request(method, url, headers=headers, content=content)
            return await self._send_lean(self._pool, method, url, headers, content)
        except RuntimeError:
            if self._closed or self._http.is_closed:
                raise ClientClosedError(
                    "this client was closed while a request was being sent"
                ) from None
            raise

    async def _send_lean(
        self,
        pool: httpx.AsyncBaseTransport,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
    ) -> httpx.Response:
        """Send one request straight through the pool and read the whole answer."""
        request = httpx.Request(
            method, url, headers=headers, content=content, extensions={"timeout": self._timeouts}
        )
        response = await pool.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    def _log_answer(self, method: str, path: str, response: httpx.Response, started: float) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d in %.1f ms (request id %s)",
                method,
                path,
                response.status_code,
                (self._clock.now() - started) * 1000,
                _request_id(response.headers),
            )

    def _log_failure(self, method: str, path: str, exc: Exception, *, retried: bool) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s failed: %s%s",
                method,
                path,
                type(exc).__name__,
                " (retrying)" if retried else "",
            )


async def _protected(send: Coroutine[Any, Any, httpx.Response], path: str) -> httpx.Response:
    """Await a create's send so that no cancellation can cut it short.

    An anyio shield stops anyio and trio cancellation. A native asyncio cancellation
    (`task.cancel()`, `asyncio.wait_for`) is not stopped by a shield, so on asyncio the
    send runs as its own task: the caller may go, the send finishes, and if it created
    a job its task id is logged at WARNING, so a charged job is never invisible.
    """
    with _Shield():
        if not _on_asyncio():
            return await send
        import asyncio

        task = asyncio.ensure_future(send)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(functools.partial(_log_orphaned_create, path=path))
            raise


class _Shield:
    """An anyio shield, typed as never swallowing an exception (a shield is never cancelled).

    `anyio.CancelScope.__exit__` may swallow the cancellation of its own scope, so type
    checkers cannot see that a `return` inside it always returns.
    """

    def __init__(self) -> None:
        self._scope = anyio.CancelScope(shield=True)

    def __enter__(self) -> None:
        self._scope.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._scope.__exit__(exc_type, exc, traceback)


def _on_asyncio() -> bool:
    try:
        import asyncio

        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _log_orphaned_create(task: asyncio.Future[httpx.Response], *, path: str) -> None:
    """Log the task ids of a create that finished after its caller was cancelled."""
    if task.cancelled() or task.exception() is not None:
        return
    response = task.result()
    if response.status_code >= 300:
        return
    body = _body_of(response)
    ids = task_ids_in(body)
    if not ids:
        log_orphaned_task(None, waiter=waiter_for(path))
    for task_id in ids:
        log_orphaned_task(task_id, waiter=waiter_for(path))


def waiter_for(path: str) -> str:
    """Return the method that waits for a job created at the API path `path`.

    `/studio/create` -> `studio.wait`, `/sonic/stems/basic` -> `sonic.wait`; lyrics
    tasks have their own wait.
    """
    if path.startswith("/suno/make-lyrics"):
        return "suno.wait_lyrics"
    family = path.lstrip("/").split("/", 1)[0]
    return f"{family or 'sonic'}.wait"


def log_orphaned_task(task_id: str | None, *, waiter: str = "sonic.wait") -> None:
    """Warn that a job was created for a caller that is gone, naming its task id.

    Args:
        task_id: The job's task id, if the answer held one.
        waiter: The method that waits for it (`studio.wait`, `suno.wait_lyrics`, ...).
    """
    if task_id is None:
        logger.warning(
            "a create was answered after its caller was cancelled: a job may have been "
            "created and charged, but the answer held no task id"
        )
        return
    logger.warning(
        "a create was answered after its caller was cancelled: task %s was created and may "
        "be charged; wait for it with %s(%r) or let it finish",
        task_id,
        waiter,
        task_id,
    )


def task_ids_in(body: Any) -> tuple[str, ...]:
    """Find every task id in a create's answer: the family's own, or a batch's items."""
    found = task_id_in(body)
    ids = [found] if found is not None else []
    items: object = cast("dict[str, Any]", body).get("tasks") if isinstance(body, dict) else None
    if isinstance(items, list):
        for item in cast("list[object]", items):
            task_id: Any = (
                cast("dict[str, Any]", item).get("task_id") if isinstance(item, dict) else None
            )
            if isinstance(task_id, str) and task_id and task_id not in ids:
                ids.append(task_id)
    return tuple(ids)


def task_id_in(body: Any) -> str | None:
    """Find the task id in a create's answer, whatever the family's envelope."""
    if not isinstance(body, dict):
        return None
    mapping = cast("dict[str, Any]", body)
    data: Any = mapping.get("data")
    nested: Any = cast("dict[str, Any]", data).get("task_id") if isinstance(data, dict) else data
    for candidate in (mapping.get("task_id"), nested):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def _content(response: httpx.Response) -> bytes:
    """Return the answer's body with any API key it echoes masked (see `redact_bytes`)."""
    return redact_bytes(response.content)


def _success(response: httpx.Response, retry_after: float | None) -> APIResponse:
    content = _content(response)
    try:
        body = json.loads(content) if content else None
    except (ValueError, RecursionError):
        raise MalformedResponseError(
            f"the API answered {response.status_code} with a body that is not JSON",
            status_code=response.status_code,
            request_id=_request_id(response.headers),
            body=content[:500].decode(response.encoding or "utf-8", "replace"),
        ) from None
    return APIResponse(
        response.status_code, body, response.headers, _request_id(response.headers), retry_after
    )


def _body_of(response: httpx.Response) -> Any:
    content = _content(response)
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        return content[:2000].decode(response.encoding or "utf-8", "replace")


def _request_id(headers: httpx.Headers) -> str | None:
    for name in REQUEST_ID_HEADERS:
        value: str | None = headers.get(name)
        if value:
            return value
    return None


def connection_error(what: str, exc: httpx.TransportError) -> APIConnectionError:
    """Return the error for a network failure of `what` (e.g. `GET /sonic/task/...`).

    The one place where httpx's network exceptions become ours; `_download.py` uses it too.
    """
    message = f"{what} failed: {type(exc).__name__}"
    if isinstance(exc, _TIMEOUTS):
        return APITimeoutError(message)
    return APIConnectionError(message)


def status_error(response: httpx.Response, body: Any) -> MusicAPIError:
    """Return the error for an error answer (status >= 400) whose body was read as `body`.

    The one place where status codes become exception classes; `_download.py` uses it too.
    """
    retry_after = parse_retry_after(response.headers.get("retry-after"), now=time.time())
    return error_for_status(
        response.status_code,
        body,
        request_id=_request_id(response.headers),
        retry_after=retry_after,
    )


def _raise_connection_error(method: str, path: str, exc: httpx.TransportError) -> NoReturn:
    raise connection_error(f"{method} {path}", exc) from exc


__all__ = [
    "APIResponse",
    "DeadlineExceeded",
    "MusicAPIError",
    "Transport",
    "connection_error",
    "status_error",
]
