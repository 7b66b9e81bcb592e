"""Resident memory per job with 10,000 jobs in flight: the client's share, three ways.

Each measurement runs in a fresh child process, so one cannot inherit the other's
heap. The figure is VmRSS (from /proc/self/status) at the moment the sandbox has read
all N creates, minus the VmRSS of the same process when idle (after its imports, with
the client built but before the batch), divided by N; VmHWM (the peak) is reported too.
Tasks last 600 s (virtual or real), so none has finished at that moment: every job is
in flight, holding its task id and waiting for its poll.

  loopback  the client alone: `AsyncMusicAPI` (default client) running
            `generate_many(requests, concurrency=N)` against a `python -m
            musicapi.sandbox` child process on a loopback port, as against the real
            API; a watcher reads `/_sandbox/stats` (in a worker thread) until it
            counts N creates. The direct measure of the SDK's memory per job.
  full      an in-process `Sandbox(clock=FakeClock(), task_seconds=600, ...)` and an
            `AsyncMusicAPI` wired to it (`musicapi.testing.sandbox_client`, default
            `max_in_flight`) running the same batch; a watcher task measures once
            `sandbox.stats.creates == N`
  sandbox   the same in-process sandbox alone, sent N raw creates through
            `httpx.AsyncClient` on its transport: the sandbox's share of `full`

The SDK's share in-process is `full - sandbox`; the loopback figure measures it
without the subtraction. Target: the SDK's memory per job in flight at most 0.6 KB
(1 KB = 1,024 bytes) above idle. The requests are a lazy generator, so the caller's
own list is not counted. Each phase runs `--repeat` times; the median and the spread
(min-max) are shown.

    python benchmarks/bench_memory.py [--jobs 10000] [--repeat 3] [--quick]
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

TARGET_KB_PER_JOB = 0.6
PHASES = ("loopback", "full", "sandbox")


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


def phase_loopback(jobs: int, base_url: str) -> dict[str, Any]:
    import urllib.request

    import anyio
    import anyio.to_thread

    from musicapi import AsyncMusicAPI

    stats_url = base_url.rsplit("/api/", 1)[0] + "/_sandbox/stats"

    def creates() -> int:
        with urllib.request.urlopen(stats_url, timeout=10) as r:
            return int(json.loads(r.read())["creates"])

    out: dict[str, Any] = {}

    async def main() -> None:
        client = AsyncMusicAPI(api_key="bench-key", base_url=base_url)
        await anyio.to_thread.run_sync(creates)  # the worker thread exists before "idle"
        gc.collect()
        out["idle_rss_kb"], out["idle_hwm_kb"] = status_kb("VmRSS"), status_kb("VmHWM")
        out["max_in_flight"] = client.pacing.max_in_flight
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
                # Polled: the sandbox in its child process has no event for "N creates read".
                while (seen := await anyio.to_thread.run_sync(creates)) < jobs:  # noqa: ASYNC110
                    await anyio.sleep(0.05)
                out["seconds_to_submit"] = time.perf_counter() - w0
                out["cpu_to_submit"] = time.process_time() - c0
                out["creates"] = seen
                out["outcomes_before_measure"] = outcomes
                out["in_flight_rss_kb"] = status_kb("VmRSS")
                out["in_flight_hwm_kb"] = status_kb("VmHWM")
                out["pacing"] = repr(client.pacing)
                tg.cancel_scope.cancel()

            tg.start_soon(consume)
            tg.start_soon(watch)

    anyio.run(main)
    return out


def phase_full(jobs: int) -> dict[str, Any]:
    import anyio
    import httpx  # noqa: F401

    from musicapi.sandbox import Sandbox
    from musicapi.testing import FakeClock, sandbox_client

    out: dict[str, Any] = {}

    async def main() -> None:
        sandbox = Sandbox(clock=FakeClock(), task_seconds=600, credits=10**9)
        client = sandbox_client(sandbox)
        gc.collect()
        out["idle_rss_kb"], out["idle_hwm_kb"] = status_kb("VmRSS"), status_kb("VmHWM")
        out["max_in_flight"] = client.pacing.max_in_flight
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

    out: dict[str, Any] = {}

    async def main() -> None:
        sandbox = Sandbox(clock=FakeClock(), task_seconds=600, credits=10**9)
        gc.collect()
        out["idle_rss_kb"], out["idle_hwm_kb"] = status_kb("VmRSS"), status_kb("VmHWM")
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
        out["tasks_stored"] = len(sandbox.tasks)
        out["in_flight_rss_kb"] = status_kb("VmRSS")
        out["in_flight_hwm_kb"] = status_kb("VmHWM")

    anyio.run(main)
    return out


def child(phase: str, jobs: int) -> dict[str, Any]:
    import _common

    def run(*extra: str) -> dict[str, Any]:
        proc = subprocess.run(
            [sys.executable, __file__, "--phase", phase, "--jobs", str(jobs), *extra],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"phase {phase} failed:\n{proc.stderr}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    if phase != "loopback":
        out = run()
    else:
        with _common.Sandbox("--task-seconds", "600", "--credits", str(10**9)) as sb:
            out = run("--base-url", sb.base_url)
            out["sandbox_stats"] = sb.stats()
    out["added_kb"] = out["in_flight_rss_kb"] - out["idle_rss_kb"]
    out["peak_added_kb"] = out["in_flight_hwm_kb"] - out["idle_rss_kb"]
    out["kb_per_job"] = out["added_kb"] / jobs
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs in flight (default 10000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each phase (default 3)")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated phases to run (default {','.join(PHASES)})",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run (< 60 s)")
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--name", default="bench_memory", help="results file name")
    args = parser.parse_args(argv)
    if args.phase:
        if args.phase == "loopback":
            result = phase_loopback(args.jobs, args.base_url)
        elif args.phase == "full":
            result = phase_full(args.jobs)
        else:
            result = phase_sandbox(args.jobs)
        print(json.dumps(result))
        return 0

    import _common

    if args.quick:
        args.jobs = min(args.jobs, 2_000)
        args.repeat = 1
    phases = [p for p in args.phases.split(",") if p]
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}")
    print(
        f"bench_memory: {args.jobs} jobs in flight, phases {', '.join(phases)}, "
        f"{args.repeat} run(s) each, every run in a fresh process",
        flush=True,
    )
    t0 = time.perf_counter()
    runs: dict[str, list[dict[str, Any]]] = {p: [] for p in phases}
    for rep in range(args.repeat):
        for phase in phases:
            r = child(phase, args.jobs)
            runs[phase].append(r)
            print(
                f"  [{rep + 1}/{args.repeat}] {phase}: +{r['added_kb'] / 1024:.1f} MB above idle "
                f"({r['kb_per_job']:.3f} KB/job), peak +{r['peak_added_kb'] / 1024:.1f} MB, "
                f"{r['creates']} creates in {r['seconds_to_submit']:.1f} s",
                flush=True,
            )
    elapsed = time.perf_counter() - t0

    summary: dict[str, Any] = {}
    for phase, rs in runs.items():
        summary[phase] = {
            "kb_per_job": _common.spread([r["kb_per_job"] for r in rs]),
            "added_mb": _common.spread([r["added_kb"] / 1024 for r in rs]),
            "peak_added_mb": _common.spread([r["peak_added_kb"] / 1024 for r in rs]),
            "idle_mb": _common.spread([r["idle_rss_kb"] / 1024 for r in rs]),
            "seconds_to_submit": _common.spread([r["seconds_to_submit"] for r in rs]),
        }
    if "full" in runs and "sandbox" in runs:
        shares = [
            (f["added_kb"] - s["added_kb"]) / args.jobs
            for f, s in zip(runs["full"], runs["sandbox"], strict=True)
        ]
        summary["sdk_share_in_process"] = {"kb_per_job": _common.spread(shares)}

    data = {
        "args": vars(args),
        "target_kb_per_job": TARGET_KB_PER_JOB,
        "elapsed_seconds": elapsed,
        "summary": summary,
        "runs": runs,
    }
    print()
    print(render(data))
    if "full" in runs:
        f = runs["full"][0]
        print(
            f"\nfull: outcomes before the measurement {f['outcomes_before_measure']}, virtual "
            f"time {f['virtual_now']:.1f} s, max_in_flight {f['max_in_flight']}, "
            f"sandbox saw {f['sandbox_requests']}"
        )
    if "loopback" in runs:
        lb = runs["loopback"][0]
        print(
            f"loopback: outcomes before the measurement {lb['outcomes_before_measure']}, "
            f"sandbox saw {lb['sandbox_stats']['requests']}, {lb['pacing']}"
        )
    print(f"\nelapsed {elapsed:.0f} s")
    path = _common.write_results(args.name, data)
    print(f"results: {path}")
    return 0


LABELS = {
    "loopback": "client alone, sandbox in a child process (loopback)",
    "full": "client + in-process sandbox",
    "sandbox": "in-process sandbox alone (raw creates)",
    "sdk_share_in_process": "SDK's share in-process (full − sandbox)",
}
SDK_ROWS = ("loopback", "sdk_share_in_process")


def render(data: dict[str, Any]) -> str:
    """The markdown table of one run, from its results (as written to the JSON file)."""
    import _common

    args = data["args"]
    rows = []
    for key, s in data["summary"].items():
        per_job = s["kb_per_job"]
        rows.append(
            [
                LABELS[key],
                _common.fmt_spread(per_job, "{:.3f}") + " KB",
                _common.fmt_spread(s["added_mb"], "{:.1f}") + " MB" if "added_mb" in s else "",
                _common.fmt_spread(s["peak_added_mb"], "{:.1f}") + " MB"
                if "peak_added_mb" in s
                else "",
                _common.fmt_spread(s["idle_mb"], "{:.0f}") + " MB" if "idle_mb" in s else "",
                f"≤ {TARGET_KB_PER_JOB} KB {_common.verdict(per_job['median'], TARGET_KB_PER_JOB)}"
                if key in SDK_ROWS
                else "",
            ]
        )
    return (
        f"### memory with {args['jobs']:,} jobs in flight, {args['repeat']} run(s) each\n\n"
        + _common.markdown_table(
            ["measurement", "per job above idle", "RSS added", "peak added", "idle RSS", "target"],
            rows,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
