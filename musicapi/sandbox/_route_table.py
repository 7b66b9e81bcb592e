"""Every route of the sandbox's API: its name, method and path, and nothing else.

A leaf module (no imports from the sandbox), so that the fault knobs and the stats can
name routes without importing the handlers. The handlers live by family in
`_task_ops.py` (operations that create or poll tasks, and credits) and `_sync_ops.py`
(operations that answer at once); `_app.py` binds each name here to its handler.

Names: the three routes the sandbox served first keep their short names (`credits`,
`create`, `task`), which the fault knobs of existing tests use; every other route is
named by its path under `/api/v1` without the leading slash or parameter
(`sonic/lyrics`, `producer/task`). `file` is the sandbox's file host.
"""

from __future__ import annotations

import attrs

__all__ = ["ROUTE_NAMES", "ROUTE_SPECS", "RouteSpec", "match"]


@attrs.frozen
class RouteSpec:
    """One API route.

    Attributes:
        name: The route's name, for the fault knobs and the stats.
        method: Its HTTP method.
        template: Its path under `/api/v1`; a final `{id}` segment matches one
            non-empty path segment, which the handler receives.
    """

    name: str
    method: str
    template: str

    @property
    def prefix(self) -> str:
        """The template without its `{id}` parameter (the whole path if it has none)."""
        return self.template.removesuffix("{id}")

    @property
    def has_param(self) -> bool:
        """Whether the path ends in an `{id}` parameter."""
        return self.template.endswith("{id}")


def _post(name: str) -> RouteSpec:
    return RouteSpec(name, "POST", f"/{name}")


ROUTE_SPECS: tuple[RouteSpec, ...] = (
    RouteSpec("credits", "GET", "/get-credits"),
    RouteSpec("create", "POST", "/sonic/create"),
    RouteSpec("task", "GET", "/sonic/task/{id}"),
    *(
        _post(f"sonic/{name}")
        for name in (
            "lyrics",
            "aligned-lyrics",
            "bpm",
            "upsample-tags",
            "create-voice",
            "persona",
            "vox",
            "midi",
            "wav",
            "stems/basic",
            "stems/full",
            "mashup",
            "replace-section",
            "sample",
            "upload",
            "upload-cover",
            "upload-extend",
        )
    ),
    RouteSpec("sonic/batch", "POST", "/sonic/batch"),
    RouteSpec("sonic/batch-status", "GET", "/sonic/batch"),
    _post("suno/create"),
    RouteSpec("suno/clip", "GET", "/suno/clip/{id}"),
    _post("suno/make-lyrics"),
    RouteSpec("suno/get-lyrics", "GET", "/suno/get-lyrics/{id}"),
    _post("suno/get-song"),
    _post("producer/create"),
    RouteSpec("producer/task", "GET", "/producer/task/{id}"),
    _post("producer/upload"),
    _post("producer/download"),
    _post("studio/create"),
    RouteSpec("studio/task", "GET", "/studio/task/{id}"),
    _post("riffusion/create"),
    RouteSpec("riffusion/task", "GET", "/riffusion/task/{id}"),
    _post("riffusion/upload"),
    _post("nuro/create"),
    RouteSpec("nuro/task", "GET", "/nuro/task/{id}"),
)
"""Every operation of api-reference §3 (and the experimental `/sonic/batch` of §3.7b)."""

ROUTE_NAMES: tuple[str, ...] = (*(spec.name for spec in ROUTE_SPECS), "file")
"""Every route name the fault knobs and the stats accept."""


def match(path: str) -> tuple[list[RouteSpec], str | None]:
    """Return the routes whose path matches `path` (relative to `/api/v1`) and the `{id}`.

    Several routes share a path when they differ by method (`/sonic/batch`); an empty
    list means no route has this path, whatever the method.
    """
    found: list[RouteSpec] = []
    param: str | None = None
    for spec in ROUTE_SPECS:
        if spec.has_param:
            rest = path.removeprefix(spec.prefix)
            if rest != path and rest and "/" not in rest:
                found.append(spec)
                param = rest
        elif path == spec.template:
            found.append(spec)
    return found, param
