"""What the Sonic operation mixins share: validating a body, and one sync round trip.

`SonicResource` is assembled from mixins (`sonic_audio.py`, `sonic_writing.py`) so that
no module grows past a screenful per concern; each mixin is a `CreatingFamily` with no
state of its own (`__slots__ = ()`), so they combine without conflict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from musicapi._models import GenerationResult, SonicCreateRequest, Task
from musicapi._resources._family import CreatingFamily
from musicapi._resources._sonic_checks import OPERATIONS
from musicapi._retry import Idempotency
from musicapi._rules import body_of, prepare

if TYPE_CHECKING:
    from collections.abc import Mapping


def operation_name(operation: str) -> str:
    """Return the SDK's name of an API operation: `sonic/stems/basic` -> `sonic.stems_basic`."""
    family, _, rest = operation.partition("/")
    return f"{family}.{rest.replace('/', '_').replace('-', '_')}"


def body_for(operation: str, request: object | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a request of `operation` (an object or its JSON fields) and return its body.

    Raises:
        RequestValidationError: A rule of the operation is broken (nothing is sent).
    """
    spec = OPERATIONS[operation]
    prepared = prepare(
        spec.model, request, fields, operation=operation_name(operation), checks=spec.checks
    )
    return body_of(prepared)


class SonicBase(CreatingFamily[SonicCreateRequest, Task, GenerationResult]):
    """A Sonic family with the helpers its operations share."""

    __slots__ = ()

    async def _call(
        self,
        operation: str,
        fields: Mapping[str, Any],
        *,
        request: object | None = None,
        idempotency: Idempotency = Idempotency.SAFE,
    ) -> Any:
        """Validate, POST to `/<operation>` and return the answer's JSON body.

        Args:
            operation: The operation, as its API path without the slash (`sonic/bpm`).
            fields: The request's JSON fields (`None`: not sent).
            request: A prepared request object instead of `fields`.
            idempotency: `CREATE` for a charged operation, which is never blindly resent.
        """
        body = body_for(operation, request, fields)
        response = await self._transport.request(
            "POST", f"/{operation}", json_body=body, idempotency=idempotency
        )
        return response.body
