"""The sync facade's lifecycle: close, calls racing close, garbage collection, exit, fork.

Each test here is a regression test for a way the facade once failed: a call after
`close()` or racing it raised anyio's bare `RuntimeError` ("This portal is not running")
or hung, an unclosed client hung the interpreter at exit or kept its thread forever, and
a client used before `os.fork()` hung forever in the child. Every test runs the facade's
loop on asyncio and on trio.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest

from musicapi import ClientClosedError, MusicAPIError
from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock, sandbox_sync_client

if TYPE_CHECKING:
    from collections.abc import Callable

    from musicapi import MusicAPI

WAIT = 20.0
"""Seconds a test waits for another thread or process before calling it a hang."""


def _eventually(predicate: Callable[[], bool], what: str) -> None:
    """Wait (in real time: another thread is doing the work) until `predicate()` holds."""
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def _polls(sandbox: Sandbox) -> int:
    return sandbox.stats.requests.get("task", 0)


def _slow_sandbox(backend: str) -> tuple[Sandbox, MusicAPI]:
    """A client whose waits outlast any test: hour-long tasks on the real clock.

    The waits sleep between polls, so they are in flight without using the CPU; the
    tests end them by closing the client, never by waiting.
    """
    sandbox = Sandbox(task_seconds=3600)
    return sandbox, sandbox_sync_client(sandbox, backend=backend)


def _run_script(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `script` in a fresh interpreter; fail (not hang) if it does not end in time."""
    return subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        timeout=WAIT * 3,
        check=False,
    )


class TestClose:
    def test_every_call_after_close_raises_client_closed(self, anyio_backend_name: str) -> None:
        sandbox = Sandbox(clock=FakeClock(), task_seconds=3)
        api = sandbox_sync_client(sandbox, backend=anyio_backend_name)
        clip = api.sonic.generate(gpt_description_prompt="x").clips[0]
        run = api.sonic.generate_many([{"gpt_description_prompt": "y"}])
        api.close()
        calls: dict[str, Callable[[], Any]] = {
            "get_credits": api.get_credits,
            "download": lambda: api.download(clip, "."),
            "pacing": lambda: api.pacing,
            "sonic.create": lambda: api.sonic.create(gpt_description_prompt="x"),
            "sonic.get": lambda: api.sonic.get("id"),
            "sonic.wait": lambda: api.sonic.wait("id"),
            "sonic.generate": lambda: api.sonic.generate(gpt_description_prompt="x"),
            "sonic.generate_many": lambda: api.sonic.generate_many([{"prompt": "x"}]),
            "next(run)": lambda: next(run),
        }
        for name, call in calls.items():
            with pytest.raises(ClientClosedError, match="closed") as info:
                call()
            assert isinstance(info.value, MusicAPIError), name
            assert isinstance(info.value, RuntimeError), name
        run.close()  # the batch went with the loop: closing it is quiet
        assert api.base_url == sandbox.base_url  # read from the config, no loop needed

    def test_a_client_closed_before_first_use_never_starts(self, anyio_backend_name: str) -> None:
        before = threading.active_count()
        api = sandbox_sync_client(Sandbox(), backend=anyio_backend_name)
        api.close()
        with pytest.raises(ClientClosedError):
            api.get_credits()
        assert threading.active_count() == before

    def test_close_is_idempotent_and_thread_safe(self, anyio_backend_name: str) -> None:
        before = threading.active_count()
        api = sandbox_sync_client(Sandbox(), backend=anyio_backend_name)
        api.get_credits()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _: api.close(), range(16)))
        api.close()
        assert threading.active_count() == before

    def test_calls_in_flight_when_close_starts_raise_client_closed(
        self, anyio_backend_name: str
    ) -> None:
        before = threading.active_count()
        sandbox, api = _slow_sandbox(anyio_backend_name)
        task_ids = [api.sonic.create(gpt_description_prompt=f"{i}").task_id for i in range(4)]
        errors: list[BaseException] = []

        def wait(task_id: str) -> None:
            try:
                api.sonic.wait(task_id, timeout=None)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=wait, args=(task_id,)) for task_id in task_ids]
        for thread in threads:
            thread.start()
        _eventually(lambda: _polls(sandbox) >= len(threads), "every wait to poll once")
        api.close()  # the old facade waited for these forever
        for thread in threads:
            thread.join(WAIT)
            assert not thread.is_alive()
        assert len(errors) == len(threads)
        assert all(isinstance(error, ClientClosedError) for error in errors), errors
        assert threading.active_count() == before

    def test_calls_racing_close_get_client_closed_never_a_bare_runtime_error(
        self, anyio_backend_name: str
    ) -> None:
        for _ in range(3):
            sandbox = Sandbox()
            api = sandbox_sync_client(sandbox, backend=anyio_backend_name)
            api.get_credits()
            endings: list[object] = []

            def hammer(api: MusicAPI = api, endings: list[object] = endings) -> None:
                try:
                    while True:
                        api.get_credits()
                except ClientClosedError:
                    endings.append("closed")
                except BaseException as exc:
                    endings.append(exc)

            threads = [threading.Thread(target=hammer) for _ in range(4)]
            for thread in threads:
                thread.start()
            _eventually(
                lambda sandbox=sandbox: sandbox.stats.requests.get("credits", 0) >= 40,
                "the threads to be calling",
            )
            api.close()
            for thread in threads:
                thread.join(WAIT)
                assert not thread.is_alive()
            assert endings == ["closed"] * len(threads)

    def test_a_batch_in_progress_is_cancelled_by_close(self, anyio_backend_name: str) -> None:
        sandbox, api = _slow_sandbox(anyio_backend_name)
        run = api.sonic.generate_many([{"gpt_description_prompt": "x"}] * 3)
        ended: list[BaseException] = []

        def consume() -> None:
            try:
                list(run)
            except BaseException as exc:
                ended.append(exc)

        thread = threading.Thread(target=consume)
        thread.start()
        _eventually(lambda: _polls(sandbox) + sandbox.stats.creates >= 3, "the batch to run")
        api.close()
        thread.join(WAIT)
        assert not thread.is_alive()
        assert [type(error) for error in ended] == [ClientClosedError]
        run.close()


class TestNeverClosed:
    def test_a_collected_client_stops_its_thread(self, anyio_backend_name: str) -> None:
        before = threading.active_count()
        api = sandbox_sync_client(Sandbox(), backend=anyio_backend_name)
        api.get_credits()
        assert threading.active_count() == before + 1
        del api
        gc.collect()
        assert threading.active_count() == before

    def test_a_bound_method_keeps_the_client_open(self, anyio_backend_name: str) -> None:
        before = threading.active_count()
        api = sandbox_sync_client(Sandbox(), backend=anyio_backend_name)
        get_credits, sonic = api.get_credits, api.sonic
        del api
        gc.collect()
        assert get_credits().credits > 0
        assert sonic.get(sonic.create(gpt_description_prompt="x").task_id).task_id
        del get_credits, sonic
        gc.collect()
        assert threading.active_count() == before

    def test_a_client_collected_while_its_loop_thread_runs_the_collector(
        self, anyio_backend_name: str
    ) -> None:
        # The finalizer may run on the loop thread itself; it must hand the stop over
        # to another thread instead of waiting for its own loop.
        before = threading.active_count()
        api = sandbox_sync_client(Sandbox(), backend=anyio_backend_name)
        api.get_credits()
        loop = api._bridge.loop
        holder: list[object] = [api._bridge]
        del api

        def drop_on_the_loop(_client: object) -> None:
            holder.clear()  # the last reference dies here, on the loop thread

        loop.run(drop_on_the_loop, lambda client: client, (), {})
        _eventually(lambda: threading.active_count() == before, "the loop thread to stop")
        assert loop.closed

    @pytest.mark.parametrize("in_flight", [False, True], ids=["idle", "call-in-flight"])
    def test_an_unclosed_client_lets_the_interpreter_exit(
        self, anyio_backend_name: str, in_flight: bool
    ) -> None:
        script = """
            import sys, threading
            from musicapi.sandbox import Sandbox
            from musicapi.testing import sandbox_sync_client

            sandbox = Sandbox(task_seconds=3600)
            client = sandbox_sync_client(sandbox, backend=sys.argv[1])
            print("credits", client.get_credits().credits, flush=True)
            if sys.argv[2] == "True":
                def wait_forever():
                    try:
                        task = client.sonic.create(gpt_description_prompt="x")
                        client.sonic.wait(task.task_id, timeout=None)
                    except Exception as exc:
                        print("wait ended:", type(exc).__name__, flush=True)
                threading.Thread(target=wait_forever, daemon=True).start()
                while sandbox.stats.requests.get("task", 0) < 1:
                    threading.Event().wait(0.01)
            print("end of script", flush=True)
        """
        proc = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
            [sys.executable, "-c", textwrap.dedent(script), anyio_backend_name, str(in_flight)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stderr is not None
        with proc:
            output = []
            for line in proc.stdout:  # the suite's timeout guards a hang before the end
                output.append(line)
                if line.startswith("end of script"):
                    break
            script_ended = time.monotonic()
            try:
                returncode = proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                pytest.fail("the interpreter did not exit after the end of the script")
            exit_seconds = time.monotonic() - script_ended
            stderr = proc.stderr.read()
        assert "end of script\n" in output, (output, stderr)
        assert returncode == 0, stderr
        assert "Traceback" not in stderr, stderr
        assert exit_seconds < 5.0
        # With a call in flight, its daemon thread may or may not get to report its
        # ClientClosedError before the interpreter stops it: only a prompt exit counts.


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
class TestFork:
    def test_the_child_of_a_fork_gets_a_fresh_loop_over_loopback(
        self, anyio_backend_name: str
    ) -> None:
        script = """
            import os, sys
            from musicapi import MusicAPI
            from musicapi.sandbox import Sandbox

            with Sandbox().serve_in_thread() as base_url:
                client = MusicAPI(api_key="k", base_url=base_url, backend=sys.argv[1])
                print("parent", client.get_credits().credits, flush=True)
                pid = os.fork()
                if pid == 0:
                    print("child", client.get_credits().credits, flush=True)
                    client.close()
                    os._exit(0)
                _, status = os.waitpid(pid, 0)
                print("child exit", os.waitstatus_to_exitcode(status), flush=True)
                print("parent again", client.get_credits().credits, flush=True)
                client.close()
        """
        result = _run_script(script, anyio_backend_name)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].startswith("parent ")
        assert any(line.startswith("child ") for line in lines), result.stdout
        assert "child exit 0" in lines
        assert lines[-1].startswith("parent again ")

    def test_the_child_of_a_fork_with_an_in_process_sandbox_exits_cleanly(
        self, anyio_backend_name: str
    ) -> None:
        script = """
            import os, sys
            from musicapi.sandbox import Sandbox
            from musicapi.testing import FakeClock, sandbox_sync_client

            client = sandbox_sync_client(
                Sandbox(clock=FakeClock(), task_seconds=3), backend=sys.argv[1]
            )
            print("parent", len(client.sonic.generate(gpt_description_prompt="x").clips), flush=True)
            pid = os.fork()
            if pid == 0:
                print("child", len(client.sonic.generate(gpt_description_prompt="y").clips), flush=True)
                sys.exit(0)  # the normal exit path: the child's loop is closed at exit
            _, status = os.waitpid(pid, 0)
            print("child exit", os.waitstatus_to_exitcode(status), flush=True)
        """
        result = _run_script(script, anyio_backend_name)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ["parent 2", "child 2", "child exit 0"]

    def test_a_callers_http_client_cannot_cross_a_fork(self, anyio_backend_name: str) -> None:
        script = """
            import os, sys
            import httpx
            from musicapi import ClientClosedError, MusicAPI
            from musicapi.sandbox import Sandbox

            sandbox = Sandbox()
            pool = httpx.AsyncClient(transport=sandbox.transport())
            client = MusicAPI(
                api_key="k", base_url=sandbox.base_url, http_client=pool, backend=sys.argv[1]
            )
            print("parent", client.get_credits().credits, flush=True)
            pid = os.fork()
            if pid == 0:
                try:
                    client.get_credits()
                except ClientClosedError as exc:
                    print("child refused:", exc, flush=True)
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            print("child exit", os.waitstatus_to_exitcode(status), flush=True)
            print("parent again", client.get_credits().credits, flush=True)
            client.close()
        """
        result = _run_script(script, anyio_backend_name)
        assert result.returncode == 0, result.stderr
        refusal = next(line for line in result.stdout.splitlines() if "refused" in line)
        assert "fork" in refusal
        assert "http_client" in refusal
        assert "child exit 0" in result.stdout
        assert "parent again" in result.stdout
