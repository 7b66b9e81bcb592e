"""A faithful local MusicAPI, for demos, examples and tests.

`Sandbox` answers the real paths with the real status codes and bodies, charges and
refunds credits, synthesises playable audio, delivers signed webhooks (streaming,
succeeded, failed; retried with backoff; signed with the task's `webhook_secret` or
`Sandbox.default_webhook_secret`), and can be told to misbehave through `Faults`.
Use it in-process::

    sandbox = Sandbox(clock=FakeClock())
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as http:
        ...

or over loopback with `sandbox.serve()`, `sandbox.serve_in_thread()`, or
`python -m musicapi.sandbox --port 8000` (`ServerLimits` sets the loopback server's
body limit, idle timeout and accept backoff).
"""

from __future__ import annotations

from musicapi.sandbox._faults import Faults as Faults
from musicapi.sandbox._sandbox import Sandbox as Sandbox
from musicapi.sandbox._server import ServerLimits as ServerLimits
from musicapi.sandbox._state import TaskRecord as TaskRecord
from musicapi.sandbox._stats import Stats as Stats

__all__ = ["Faults", "Sandbox", "ServerLimits", "Stats", "TaskRecord"]

Faults.__module__ = Sandbox.__module__ = ServerLimits.__module__ = __name__
Stats.__module__ = TaskRecord.__module__ = __name__
