"""Fixtures for the sandbox's own tests: a fake clock that moves only when told, raw clients."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest

from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock

KEY = "sk-test-key"

ClientFactory = Callable[[Sandbox], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock that moves only when a test advances it."""
    return FakeClock(autojump=False)


@pytest.fixture
def sandbox(clock: FakeClock) -> Sandbox:
    """A default sandbox on the fake clock."""
    return Sandbox(clock=clock)


@pytest.fixture
def client_for() -> ClientFactory:
    """Return a factory of raw httpx clients wired in-process to a sandbox, with a key."""

    @asynccontextmanager
    async def make(sb: Sandbox) -> AsyncGenerator[httpx.AsyncClient, None]:
        headers = {"Authorization": f"Bearer {KEY}"}
        async with httpx.AsyncClient(
            transport=sb.transport(), base_url=sb.base_url, headers=headers
        ) as client:
            yield client

    return make


@pytest.fixture
async def client(sandbox: Sandbox, client_for: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A raw httpx client on the default sandbox."""
    async with client_for(sandbox) as http:
        yield http


@pytest.fixture
def fast_deliveries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make a serving sandbox look for due webhooks every millisecond instead of 0.2 s."""
    monkeypatch.setattr("musicapi.sandbox._sandbox.WEBHOOK_POLL_SECONDS", 0.001)


@pytest.fixture
def description_body() -> dict[str, object]:
    """A valid description-mode create body (the quickstart's)."""
    return {
        "custom_mode": False,
        "mv": "sonic-v5",
        "gpt_description_prompt": "uplifting synthwave with female vocals",
    }


@pytest.fixture
def custom_body() -> dict[str, object]:
    """A valid custom-mode create body (the quickstart's)."""
    return {
        "custom_mode": True,
        "mv": "sonic-v5",
        "prompt": "[Verse]\nCity lights, neon dreams\n[Chorus]\nDrive on, drive on",
        "title": "Night Drive",
        "tags": "synthwave, retro, energetic",
    }
