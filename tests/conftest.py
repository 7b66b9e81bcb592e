"""Fixtures shared by the whole suite.

Every async test runs on both anyio backends: trio is a test dependency, and the
`anyio_backend` fixture names both explicitly rather than relying on anyio's default,
which silently skips a backend that is not installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock, sandbox_client, sandbox_sync_client

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from musicapi import AsyncMusicAPI, MusicAPI


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Sandbox:
    return Sandbox(clock=clock, task_seconds=3.0)


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[AsyncMusicAPI]:
    async with sandbox_client(sandbox) as api:
        yield api


@pytest.fixture
def sync_client_factory(anyio_backend_name: str) -> Iterator[Callable[..., MusicAPI]]:
    """Build sync clients whose loop thread runs on the test's backend; all closed at the end."""
    made: list[MusicAPI] = []

    def make(sandbox: Sandbox | None = None, **kwargs: Any) -> MusicAPI:
        kwargs.setdefault("backend", anyio_backend_name)
        api = sandbox_sync_client(sandbox, **kwargs)
        made.append(api)
        return api

    yield make
    for api in made:
        api.close()
