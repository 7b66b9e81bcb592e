"""Resident memory of a process with 10,000 jobs in flight (client + in-process sandbox).

Each measurement runs in a fresh child process, so one cannot inherit the other's
heap. The figure is VmRSS (from /proc/self/status) at the moment the sandbox has
read all N creates, minus the VmRSS of the same process after its imports; VmHWM
(the peak) is reported too.

  full      an in-process `Sandbox(clock=FakeClock(), task_seconds=600, ...)` and an
            `AsyncMusicAPI` wired to it (`musicapi.testing.sandbox_client`, default
            `max_in_flight`) running `generate_many(requests, concurrency=N)`; a
            watcher task measures once `sandbox.stats.creates == N` (tasks last 600
            virtual seconds, so none has finished), then the batch is cancelled
  sandbox   the same sandbox alone, sent N raw creates through `httpx.AsyncClient`
            on its transport: the sandbox's share of `full` (its task records)

The SDK's share is `full - sandbox`. Target: `full` < 100 MB.

    python benchmarks/bench_memory.py [--jobs 10000] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_MB = 100.0


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def payloads(n: int) -> Any:
    for i in range(n):
        yield {
            "custom_mode": False,
            "mv": "sonic-v5",
            "gpt_description_prompt": f"uplifting synthwave with female vocals, take {i}",
        }


def phase_full(jobs: int) -> dict[str, Any]:
    import anyio
    import httpx  # noqa: F401

    from musicapi.sandbox import Sandbox
    from musicapi.testing import FakeClock, sandbox_client

    gc.collect()
    idle_rss, idle_hwm = status_kb("VmRSS"), status_kb("VmHWM")
    out: dict[str, Any] = {"idle_rss_kb": idle_rss, "idle_hwm_kb": idle_hwm}

    async def main() -> None:
        sandbox = Sandbox(clock=FakeClock(), task_seconds=600, credits=10**9)
        client = sandbox_client(sandbox)
        out["max_in_flight"] = client.budget._max_in_flight
        outcomes = 0
        w0, c0 = time.perf_counter(), time.process_time()
        async with client, anyio.create_task_group() as tg:
            run = client.sonic.generate_many(payloads(jobs), concurrency=jobs)

            async def consume() -> None:
                nonlocal outcomes
                async with run:
                    async for _ in run:
                        outcomes += 1

            async def watch() -> None:
                # Polled: the sandbox has no event for "N creates read".
                while sandbox.stats.creates < jobs:  # noqa: ASYNC110
                    await anyio.sleep(0.01)  # real time: does not touch the fake clock
                out["seconds_to_submit"] = time.perf_counter() - w0
                out["cpu_to_submit"] = time.process_time() - c0
                out["creates"] = sandbox.stats.creates
                out["outcomes_before_measure"] = outcomes
                out["virtual_now"] = sandbox.clock.now()
                out["sandbox_requests"] = dict(sandbox.stats.requests)
                out["in_flight_rss_kb"] = status_kb("VmRSS")
                out["in_flight_hwm_kb"] = status_kb("VmHWM")
                tg.cancel_scope.cancel()

            tg.start_soon(consume)
            tg.start_soon(watch)

    anyio.run(main)
    return out


def phase_sandbox(jobs: int) -> dict[str, Any]:
    import anyio
    import httpx

    from musicapi.sandbox import Sandbox
    from musicapi.testing import FakeClock

    gc.collect()
    idle_rss, idle_hwm = status_kb("VmRSS"), status_kb("VmHWM")
    out: dict[str, Any] = {"idle_rss_kb": idle_rss, "idle_hwm_kb": idle_hwm}

    async def main() -> None:
        sandbox = Sandbox(clock=FakeClock(), task_seconds=600, credits=10**9)
        w0 = time.perf_counter()
        async with httpx.AsyncClient(
            transport=sandbox.transport(), base_url=sandbox.base_url
        ) as http:
            headers = {"Authorization": "Bearer bench-key"}
            for body in payloads(jobs):
                response = await http.post("/sonic/create", json=body, headers=headers)
                response.raise_for_status()
        out["seconds_to_submit"] = time.perf_counter() - w0
        out["creates"] = sandbox.stats.creates
        out["tasks_stored"] = len(sandbox._store.tasks)
        out["in_flight_rss_kb"] = status_kb("VmRSS")
        out["in_flight_hwm_kb"] = status_kb("VmHWM")

    anyio.run(main)
    return out


def child(phase: str, jobs: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--jobs", str(jobs)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"phase {phase} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs in flight (default 10000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run (< 60 s)")
    parser.add_argument("--phase", choices=("full", "sandbox"), help=argparse.SUPPRESS)
    parser.add_argument("--name", default="bench_memory", help="results file name")
    args = parser.parse_args(argv)
    if args.phase:
        fn = phase_full if args.phase == "full" else phase_sandbox
        print(json.dumps(fn(args.jobs)))
        return 0

    import _common

    if args.quick:
        args.jobs = min(args.jobs, 2_000)
    print(
        f"bench_memory: {args.jobs} jobs in flight, each measurement in a fresh process", flush=True
    )
    full = child("full", args.jobs)
    alone = child("sandbox", args.jobs)
    mb = 1024.0
    full_mb = (full["in_flight_rss_kb"] - full["idle_rss_kb"]) / mb
    alone_mb = (alone["in_flight_rss_kb"] - alone["idle_rss_kb"]) / mb
    full_peak = (full["in_flight_hwm_kb"] - full["idle_rss_kb"]) / mb
    alone_peak = (alone["in_flight_hwm_kb"] - alone["idle_rss_kb"]) / mb
    sdk_mb = full_mb - alone_mb
    rows = [
        [
            "client + sandbox (generate_many)",
            full["idle_rss_kb"] / mb,
            full_mb,
            full_peak,
            full_mb * mb * 1024 / args.jobs / 1024,
            full["creates"],
            full["seconds_to_submit"],
        ],
        [
            "sandbox alone (raw creates)",
            alone["idle_rss_kb"] / mb,
            alone_mb,
            alone_peak,
            alone_mb * mb * 1024 / args.jobs / 1024,
            alone["creates"],
            alone["seconds_to_submit"],
        ],
        ["SDK's share (difference)", "", sdk_mb, "", sdk_mb * mb * 1024 / args.jobs / 1024, "", ""],
    ]
    print()
    print(
        _common.table(
            [
                "process",
                "idle RSS MB",
                "RSS added MB",
                "peak added MB",
                "KB per job",
                "creates",
                "wall s to submit",
            ],
            rows,
        )
    )
    print(
        f"\nfull: {full_mb:.1f} MB added with {args.jobs} jobs in flight (target < {TARGET_MB:.0f} MB: "
        f"{_common.verdict(full_mb, TARGET_MB - 1e-9)}); outcomes before the measurement: "
        f"{full['outcomes_before_measure']}; virtual time {full['virtual_now']:.1f} s; "
        f"max_in_flight {full['max_in_flight']}; sandbox saw {full['sandbox_requests']}"
    )
    path = _common.write_results(
        args.name,
        {
            "args": vars(args),
            "target_mb": TARGET_MB,
            "summary": {
                "full_added_mb": full_mb,
                "sandbox_added_mb": alone_mb,
                "sdk_share_mb": sdk_mb,
                "full_peak_added_mb": full_peak,
            },
            "full": full,
            "sandbox_alone": alone,
        },
    )
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
