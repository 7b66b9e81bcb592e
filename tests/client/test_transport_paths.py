"""The two request paths: the lean one where the SDK owns its pool, the full one for a user's client.

Both must behave the same (status mapping, retries, logging); a user's own
`httpx.AsyncClient` must keep its event hooks, default headers and auth.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import httpx
import pytest

from musicapi import AsyncMusicAPI, NotFoundError, ServerError

if TYPE_CHECKING:
    from collections.abc import Generator

    from musicapi.sandbox import Sandbox
    from musicapi.testing import FakeClock


class Recording(httpx.AsyncBaseTransport):
    """Records each request, then forwards it to the sandbox."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return await self.inner.handle_async_request(request)


class HeaderAuth(httpx.Auth):
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Proxy-Token"] = "proxy-secret"
        yield request


async def test_owned_pool_sends_the_sdk_headers_and_nothing_else(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    recording = Recording(sandbox.transport())
    async with AsyncMusicAPI(
        api_key="k", base_url=sandbox.base_url, transport=recording, clock=clock
    ) as api:
        await api.get_credits()
        task = await api.sonic.create(gpt_description_prompt="x")
        await api.sonic.get(task.task_id)
    get, post, poll = recording.seen
    assert get.headers["authorization"] == "Bearer k"
    assert get.headers["user-agent"].startswith("musicapi-python/")
    assert "cookie" not in get.headers
    assert post.headers["content-type"] == "application/json"
    assert post.content.startswith(b"{")
    assert poll.url.path.endswith(f"/sonic/task/{task.task_id}")
    assert get.extensions["timeout"]["read"] == 60.0


async def test_user_client_keeps_its_hooks_headers_and_auth(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    recording = Recording(sandbox.transport())
    requests: list[str] = []
    responses: list[int] = []

    async def on_request(request: httpx.Request) -> None:
        requests.append(request.url.path)

    async def on_response(response: httpx.Response) -> None:
        responses.append(response.status_code)

    user_client = httpx.AsyncClient(
        transport=recording,
        headers={"X-Team": "music"},
        auth=HeaderAuth(),
        event_hooks={"request": [on_request], "response": [on_response]},
    )
    async with (
        user_client,
        AsyncMusicAPI(
            api_key="k", base_url=sandbox.base_url, http_client=user_client, clock=clock
        ) as api,
    ):
        await api.get_credits()
        with pytest.raises(NotFoundError):
            await api.sonic.get("no-such-task")
        assert not user_client.is_closed  # the SDK never closes a client it was given
    assert requests == ["/api/v1/get-credits", "/api/v1/sonic/task/no-such-task"]
    assert responses == [200, 404]
    for request in recording.seen:
        assert request.headers["x-team"] == "music"
        assert request.headers["x-proxy-token"] == "proxy-secret"
        assert request.headers["authorization"] == "Bearer k"


@pytest.mark.parametrize("own_pool", [True, False])
async def test_both_paths_map_errors_retry_and_log_alike(
    sandbox: Sandbox, clock: FakeClock, own_pool: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="musicapi")
    user_client = None if own_pool else httpx.AsyncClient(transport=sandbox.transport())
    async with AsyncMusicAPI(
        api_key="k",
        base_url=sandbox.base_url,
        transport=sandbox.transport() if own_pool else None,
        http_client=user_client,
        clock=clock,
        max_retries=1,
    ) as api:
        sandbox.faults.fail_next = {"credits": 1}
        await api.get_credits()  # one 500, retried
        sandbox.faults.fail_next = {"credits": 2}
        with pytest.raises(ServerError) as info:
            await api.get_credits()
        assert info.value.status_code == 500 and info.value.request_id
    if user_client is not None:
        await user_client.aclose()
    lines = [record.getMessage() for record in caplog.records]
    assert sum("GET /get-credits -> 500" in line for line in lines) == 3
    assert all("Bearer" not in line for line in lines)
