"""Shared by every example: a client for the real API, or for a local sandbox.

With `MUSICAPI_KEY` set, the examples talk to the real API (and spend real credits):
`MusicAPI()` and `AsyncMusicAPI()` read the key, and `MUSICAPI_BASE_URL` if set, from
the environment. Without a key they run against `musicapi.sandbox.Sandbox`, a local
MusicAPI started in-process, on the real clock, whose generations take a couple of
seconds: the same calls, the same answers, no account and no cost.
"""

from __future__ import annotations

import os

from musicapi import AsyncMusicAPI, MusicAPI
from musicapi.sandbox import Sandbox
from musicapi.testing import sandbox_client, sandbox_sync_client

TASK_SECONDS = 2.0
"""How long a generation takes on the sandbox (real seconds)."""

_sandbox: Sandbox | None = None


def on_sandbox() -> bool:
    """Return whether the examples run against the local sandbox (no `MUSICAPI_KEY` set)."""
    return not os.environ.get("MUSICAPI_KEY")


def _start_sandbox(task_seconds: float, fail_rate: float) -> Sandbox:
    global _sandbox
    if _sandbox is None:
        print("using the sandbox (no MUSICAPI_KEY set)")
    _sandbox = Sandbox(task_seconds=task_seconds, fail_rate=fail_rate)
    return _sandbox


def client(*, task_seconds: float = TASK_SECONDS, fail_rate: float = 0.0) -> MusicAPI:
    """Return a sync client: the real API if `MUSICAPI_KEY` is set, else a new sandbox.

    Args:
        task_seconds: How long a sandbox generation takes (ignored on the real API).
        fail_rate: The share of sandbox tasks that fail (ignored on the real API).
    """
    if not on_sandbox():
        return MusicAPI()
    return sandbox_sync_client(_start_sandbox(task_seconds, fail_rate))


def async_client(*, task_seconds: float = TASK_SECONDS, fail_rate: float = 0.0) -> AsyncMusicAPI:
    """Return an async client: the real API if `MUSICAPI_KEY` is set, else a new sandbox.

    Args:
        task_seconds: How long a sandbox generation takes (ignored on the real API).
        fail_rate: The share of sandbox tasks that fail (ignored on the real API).
    """
    if not on_sandbox():
        return AsyncMusicAPI()
    return sandbox_client(_start_sandbox(task_seconds, fail_rate))


def sandbox() -> Sandbox | None:
    """Return the sandbox the last client was wired to, or `None` on the real API."""
    return _sandbox
