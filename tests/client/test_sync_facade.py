"""`MusicAPI`, the sync facade: the same calls, many threads, a running loop, close."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from musicapi import ClientClosedError, MusicAPI, RequestValidationError, TaskFailedError
from musicapi.sandbox import Sandbox

if TYPE_CHECKING:
    from collections.abc import Callable


def test_quickstart_steps_synchronously(sync_client_factory: Callable[..., MusicAPI]) -> None:
    sandbox = Sandbox(task_seconds=0.2)
    api = sync_client_factory(sandbox)
    assert api.get_credits().credits == sandbox.credits
    result = api.sonic.generate(
        custom_mode=False, mv="sonic-v5", gpt_description_prompt="synthwave"
    )
    assert len(result.clips) == 2
    task = api.sonic.get(result.task_id)
    assert task.state == "succeeded"
    with pytest.raises(RequestValidationError):
        api.sonic.create(title="x" * 81, custom_mode=True, prompt="la")


def test_failures_surface_as_the_same_exceptions(
    sync_client_factory: Callable[..., MusicAPI],
) -> None:
    sandbox = Sandbox(task_seconds=0.1)
    sandbox.faults.fail_next_tasks = 1
    api = sync_client_factory(sandbox)
    with pytest.raises(TaskFailedError):
        api.sonic.generate(gpt_description_prompt="x")


def test_sixteen_threads_share_one_client(sync_client_factory: Callable[..., MusicAPI]) -> None:
    sandbox = Sandbox(task_seconds=0.2)
    api = sync_client_factory(sandbox)
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(
            pool.map(lambda i: api.sonic.generate(gpt_description_prompt=f"song {i}"), range(32))
        )
    assert len({result.task_id for result in results}) == 32


def test_works_inside_a_running_event_loop(sync_client_factory: Callable[..., MusicAPI]) -> None:
    api = sync_client_factory(Sandbox(task_seconds=0.1))

    async def notebook_cell() -> float:
        return api.get_credits().credits  # a blocking call, as in Jupyter

    assert asyncio.run(notebook_cell()) > 0


def test_close_stops_the_thread_and_refuses_new_calls(anyio_backend_name: str) -> None:
    from musicapi.testing import sandbox_sync_client

    before = threading.active_count()
    api = sandbox_sync_client(Sandbox(), backend=anyio_backend_name)
    api.get_credits()
    assert threading.active_count() == before + 1
    api.close()
    assert threading.active_count() == before
    with pytest.raises(ClientClosedError, match="closed"):
        api.get_credits()
    api.close()  # idempotent
    assert threading.active_count() == before


def test_context_manager_and_lazy_start(anyio_backend_name: str) -> None:
    from musicapi.testing import sandbox_sync_client

    before = threading.active_count()
    with sandbox_sync_client(Sandbox(), backend=anyio_backend_name) as api:
        assert threading.active_count() == before  # nothing started yet
        api.get_credits()
    assert threading.active_count() == before


def test_sync_generate_many(sync_client_factory: Callable[..., MusicAPI]) -> None:
    sandbox = Sandbox(task_seconds=0.1)
    api = sync_client_factory(sandbox)
    requests = [{"gpt_description_prompt": f"song {i}"} for i in range(20)]
    with api.sonic.generate_many(requests, concurrency=8) as outcomes:
        seen = sorted(outcome.index for outcome in outcomes if outcome.ok)
    assert seen == list(range(20))


def test_keyboard_interrupt_cancels_the_call(sync_client_factory: Callable[..., MusicAPI]) -> None:
    import os
    import signal
    import time

    sandbox = Sandbox(task_seconds=60)
    api = sync_client_factory(sandbox)
    submission = api.sonic.create(gpt_description_prompt="x")
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        api.sonic.wait(submission.task_id, timeout=30)
    timer.join()
    assert time.monotonic() - started < 5
    assert api.get_credits().credits > 0  # the client still works afterwards
