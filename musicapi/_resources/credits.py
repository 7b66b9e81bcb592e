"""`GET /get-credits`: the account's balance."""

from __future__ import annotations

from musicapi._converter import structure
from musicapi._models import Credits
from musicapi._resources._base import Resource


class CreditsResource(Resource):
    """The credit balance of the account."""

    __slots__ = ()

    async def get(self) -> Credits:
        """Return both credit pools; a one-call check that the key works."""
        response = await self._transport.request("GET", "/get-credits")
        return structure(response.body, Credits, what="credits")
