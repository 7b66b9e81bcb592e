"""The control API under `/_sandbox/`: faults, stats and the clock, for other processes.

A test that talks to the sandbox over loopback (or from another process) uses these
routes the way an in-process test uses `sandbox.faults`, `sandbox.stats` and a
`FakeClock`. They need no key, are never faulty and are not counted in the stats.

| Route | Does |
|---|---|
| `GET /_sandbox/faults` | the knobs as JSON |
| `POST /_sandbox/faults` | set the knobs named in a JSON object (all or none) |
| `DELETE /_sandbox/faults` | turn every fault off |
| `GET /_sandbox/stats` | the stats as JSON |
| `POST /_sandbox/clock` | `{"advance": seconds}` moves a fake clock forward |
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from musicapi.sandbox._faults import Faults
from musicapi.sandbox._http import Answer, Request, json_answer, json_object

if TYPE_CHECKING:
    from musicapi.sandbox._app import SandboxApp

__all__ = ["MAX_ADVANCE", "Control"]

MAX_ADVANCE = 1e9
"""The most one `POST /_sandbox/clock` may move the clock (about 31 years), so that
clock readings stay within what dates and floats can represent."""


@runtime_checkable
class _Advanceable(Protocol):
    def advance(self, seconds: float) -> None: ...


class Control:
    """Answers the control routes of one app.

    Args:
        app: The app whose faults, stats and clock are controlled.
    """

    def __init__(self, app: SandboxApp) -> None:
        self._app = app

    def handle(self, request: Request) -> Answer:
        """Answer one control request."""
        route = (request.method, request.path.removeprefix("/_sandbox/"))
        if route == ("GET", "stats"):
            return json_answer(200, self._app.stats.as_dict())
        if route == ("GET", "faults"):
            return json_answer(200, self._app.faults.as_dict())
        if route == ("DELETE", "faults"):
            self._app.faults = Faults()
            return json_answer(200, self._app.faults.as_dict())
        if route[1] not in ("faults", "clock"):
            return json_answer(404, {"error": "not found"})
        if request.method != "POST":
            return json_answer(405, {"error": "method not allowed"})
        body = json_object(request.body)
        if body is None:
            return json_answer(400, {"error": "body: must be a JSON object"})
        if route[1] == "faults":
            try:
                self._app.faults.update(body)
            except ValueError as exc:
                return json_answer(400, {"error": str(exc)})
            return json_answer(200, self._app.faults.as_dict())
        return self._advance(body)

    def _advance(self, body: dict[str, Any]) -> Answer:
        clock = self._app.clock
        seconds = body.get("advance")
        if not isinstance(clock, _Advanceable):
            return json_answer(
                400,
                {"error": "clock: the sandbox runs on the real clock, which cannot be advanced"},
            )
        if (
            not isinstance(seconds, (int, float))
            or isinstance(seconds, bool)
            or not 0 <= seconds <= MAX_ADVANCE
        ):
            return json_answer(
                400,
                {"error": f"advance: must be a number of seconds from 0 to {MAX_ADVANCE:g}"},
            )
        clock.advance(float(seconds))
        return json_answer(200, {"now": clock.now()})
