"""The sandbox's ASGI application: the real paths, status codes and envelopes.

A bare router with no framework (core dependencies only). A body over
`MAX_BODY_BYTES` is a 413 before anything else. Each request to a known API route
goes through the same steps, so faults compose predictably:

1. `delay`, then `drop_next` (read, never answered, nothing done);
2. injected server errors (`fail_next`, `error_rate`), then injected 429s
   (`rate_limit_next`);
3. authentication, the per-key rate limit, the method (405 with `Allow`), then the
   route itself;
4. `drop_after_commit_next` (done, never answered), then `malformed_next`
   (done, answered with a broken 200).

Any other path under `/api/v1` is checked for a key first, like a real API gateway
does, so that an unauthenticated caller learns nothing about which paths exist: 401
without a valid key, then 404.

Routes are listed in `_route_table.py` and handled by family in `_task_ops.py` and
`_sync_ops.py`. `/files/...` is the sandbox's "CDN" (`_files.py`): no key needed, and
no injected 429s.
`/_sandbox/...` is the control API (see `_control.py`); it is never faulty and never
counted.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import random
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING

from musicapi.sandbox import _sync_ops, _task_ops
from musicapi.sandbox._control import Control
from musicapi.sandbox._faults import Faults, lookup, take
from musicapi.sandbox._files import FileHost
from musicapi.sandbox._http import (
    MAX_BODY_BYTES,
    Answer,
    BodyTooLarge,
    DroppedConnection,
    Receive,
    Request,
    Scope,
    Send,
    format_seconds,
    json_answer,
    read_request,
    send_answer,
)
from musicapi.sandbox._limits import ConcurrencyLimit, RateLimit
from musicapi.sandbox._route_table import RouteSpec, match

if TYPE_CHECKING:
    from musicapi._clock import Clock
    from musicapi.sandbox._state import TaskStore
    from musicapi.sandbox._stats import Stats

__all__ = ["API_PREFIX", "Handler", "SandboxApp", "route_name"]

API_PREFIX = "/api/v1"

Handler = Callable[["SandboxApp", Request, str, "str | None"], Answer]
"""A route's handler: (app, request, the key's fingerprint, the path's `{id}`) -> answer."""

HANDLERS: dict[str, Handler] = {**_task_ops.HANDLERS, **_sync_ops.HANDLERS}

_UNAUTHORIZED = {"error": "Unauthorized", "message": "Invalid API key"}
_NOT_JSON = Answer(200, b"<html><body>oops</body></html>", content_type="text/html")
_WRONG_SHAPES: dict[str, object] = {
    "credits": {"credits": "lots"},
    "create": {"message": "success"},
    "task": {"code": 200, "data": "oops"},
}


def _under_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(f"{API_PREFIX}/")


def _routes_of(path: str) -> tuple[list[RouteSpec], str | None]:
    """Return the served routes whose path is `path`, and the path's `{id}`."""
    if not path.startswith(f"{API_PREFIX}/"):
        return [], None
    specs, param = match(path.removeprefix(API_PREFIX))
    return [spec for spec in specs if spec.name in HANDLERS], param


def route_name(path: str) -> str | None:
    """Return the route name (`credits`, `create`, `task`, `file`, ...) of `path`, or `None`.

    Where routes share a path and differ by method, the first one's name is returned.
    """
    if path.startswith("/files/"):
        return "file"
    specs, _ = _routes_of(path)
    return specs[0].name if specs else None


def _too_many(error: str, retry_after: str | None) -> Answer:
    """Return a 429 with `error`, and a `Retry-After` header unless it is `None`."""
    headers = (("retry-after", retry_after),) if retry_after is not None else ()
    return json_answer(429, {"error": error}, headers)


def _owner(key: str) -> str:
    """Return a fingerprint of an API key, so that the key itself is never stored."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class SandboxApp:
    """The ASGI 3 application of one sandbox.

    Args:
        store: Tasks, clips and credits.
        faults: The fault knobs (replaceable through `faults`).
        stats: The counters to update.
        api_key: The only key accepted, or `None` to accept any non-empty key.
        rate_limit: Requests per second per key, or `None`.
        max_concurrent_jobs: Running tasks per key, or `None`.
        seed: Seeds the rolls of `error_rate`.
    """

    def __init__(
        self,
        store: TaskStore,
        faults: Faults,
        stats: Stats,
        *,
        api_key: str | None,
        rate_limit: float | None,
        max_concurrent_jobs: int | None,
        seed: int,
    ) -> None:
        self.store = store
        self.faults = faults
        self.stats = stats
        self.files = FileHost(store)
        self._key_owner = _owner(api_key) if api_key is not None else None
        self._rate_limit = RateLimit(rate_limit) if rate_limit is not None else None
        self._concurrency = (
            ConcurrencyLimit(max_concurrent_jobs) if max_concurrent_jobs is not None else None
        )
        self._rng = random.Random(f"faults-{seed}")
        self._control = Control(self)

    @property
    def clock(self) -> Clock:
        """The clock the tasks run on."""
        return self.store.clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI `http` request.

        Raises:
            DroppedConnection: A drop fault says to leave this request unanswered.
        """
        if scope["type"] != "http":
            raise RuntimeError(f"the sandbox serves only http, not {scope['type']!r}")
        try:
            request = await read_request(scope, receive)
        except BodyTooLarge:
            answer = json_answer(413, {"error": f"body: larger than {MAX_BODY_BYTES} bytes"})
            self.stats.count_answer(answer.status)
            await send_answer(send, answer)
            return
        if request.path.startswith("/_sandbox/"):
            await send_answer(send, self._control.handle(request))
            return
        specs, param = _routes_of(request.path)
        route: str | None = "file" if request.path.startswith("/files/") else None
        if specs:
            route = next((s.name for s in specs if s.method == request.method), specs[0].name)
        if route is None:
            owner = self._authenticate(request) if _under_api(request.path) else None
            answer = (
                owner if isinstance(owner, Answer) else json_answer(404, {"error": "not found"})
            )
        else:
            self.stats.count_request(route)
            try:
                answer = await self._serve(route, specs, param, request)
            except DroppedConnection:
                self.stats.dropped += 1
                raise
        self.stats.count_answer(answer.status)
        await send_answer(send, answer)

    async def _serve(
        self, route: str, specs: list[RouteSpec], param: str | None, request: Request
    ) -> Answer:
        faults = self.faults
        delay = lookup(faults.delay, route)
        if delay:
            await self.clock.sleep(delay)
        if take(faults.drop_next, route):
            raise DroppedConnection
        error_rate = lookup(faults.error_rate, route)
        if take(faults.fail_next, route) or (error_rate and self._rng.random() < error_rate):
            status = faults.error_status
            return json_answer(status, {"error": HTTPStatus(status).phrase.lower()})
        if route != "file" and faults.rate_limit_next > 0:
            faults.rate_limit_next -= 1
            retry_after = faults.retry_after
            if isinstance(retry_after, (int, float)):
                retry_after = format_seconds(retry_after)
            return _too_many("rate limited", retry_after)
        self.store.settle()
        if route == "file":
            answer = await self.files.serve(request)
        else:
            answer = self._api(specs, param, request)
        if take(faults.drop_after_commit_next, route):
            raise DroppedConnection
        if take(faults.malformed_next, route):
            shape = _WRONG_SHAPES.get(route)
            return (
                json_answer(200, shape)
                if faults.malformed_kind == "wrong_shape" and shape
                else _NOT_JSON
            )
        return answer

    def _authenticate(self, request: Request) -> str | Answer:
        """Return the fingerprint of the request's valid API key, or a 401 answer."""
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return json_answer(401, _UNAUTHORIZED)
        owner = _owner(key)
        if self._key_owner is not None and not hmac.compare_digest(owner, self._key_owner):
            return json_answer(401, _UNAUTHORIZED)
        return owner

    def _api(self, specs: list[RouteSpec], param: str | None, request: Request) -> Answer:
        owner = self._authenticate(request)
        if isinstance(owner, Answer):
            return owner
        if self._rate_limit is not None:
            wait = self._rate_limit.acquire(owner, self.clock.now())
            if wait is not None:
                return _too_many("rate limited", f"{max(0.01, math.ceil(wait * 100) / 100):.2f}")
        spec = next((s for s in specs if s.method == request.method), None)
        if spec is None:
            allow = ", ".join(sorted({s.method for s in specs}))
            return json_answer(405, {"error": "method not allowed"}, (("allow", allow),))
        return HANDLERS[spec.name](self, request, owner, param)

    def concurrency_answer(self, owner: str) -> Answer | None:
        """Return the 429 a new task of `owner` gets under `max_concurrent_jobs`, or `None`."""
        if self._concurrency is None:
            return None
        wait = self._concurrency.check(owner, self.clock.now())
        if wait is None:
            return None
        return _too_many("too many concurrent jobs", format_seconds(wait))

    def task_started(self, owner: str, ends: float) -> None:
        """Count a new running task of `owner` (until clock time `ends`) against its limit."""
        if self._concurrency is not None:
            self._concurrency.started(owner, ends)

    @staticmethod
    def insufficient_credits() -> Answer:
        """Return the documented answer to a paid request the balance cannot cover (403)."""
        return json_answer(
            403,
            {
                "error": "Insufficient credits",
                "message": "insufficient credits or no active subscription",
            },
        )
