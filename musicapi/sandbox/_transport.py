"""The in-process transport: `httpx.ASGITransport` plus the network faults it can fake.

An in-process request never touches a socket, so "the connection was refused" and
"the server hung up without answering" are made here, as the same httpx exceptions a
real network raises.
"""

from __future__ import annotations

import httpx

from musicapi.sandbox._app import SandboxApp, route_name
from musicapi.sandbox._faults import take
from musicapi.sandbox._http import DroppedConnection

__all__ = ["SandboxTransport"]


class SandboxTransport(httpx.ASGITransport):
    """Runs the sandbox app in-process and fakes refused and dropped connections.

    Args:
        app: The sandbox's app.
    """

    def __init__(self, app: SandboxApp) -> None:
        super().__init__(app=app)
        self._sandbox_app = app

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` to the app.

        Raises:
            httpx.ConnectError: `refuse_next` is set for the route; the app saw nothing.
            httpx.RemoteProtocolError: The app dropped the request without answering.
        """
        route = route_name(request.url.path)
        if route is not None and take(self._sandbox_app.faults.refuse_next, route):
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        try:
            return await super().handle_async_request(request)
        except DroppedConnection:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
