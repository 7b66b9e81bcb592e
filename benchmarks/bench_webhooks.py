"""Time from a task finishing to the waiting caller returning: webhook wake-up vs polling.

A sandbox runs in a child process (`--task-seconds 3`) and delivers signed webhooks to
a `WebhookReceiver` that this process serves on loopback (the sandbox's own HTTP/1.1
server, `serve_http`). Each run creates one song with `sonic.generate` and measures how
long after the task's end the call returned, for three clients:

  polling    AsyncMusicAPI() with no receiver: adaptive polling (a third of the elapsed
             time between polls, so up to about a second late on a 3 s task)
  webhook    AsyncMusicAPI(webhooks=receiver): woken by the in-process bus
  redis      AsyncMusicAPI(webhooks=RedisBus(...)), the receiver publishing to the same
             RedisBus: the path a delivery takes from one worker process to another
             (needs `redis-server` on PATH; skipped otherwise)

The task's end is the create's answer plus `--task-seconds` (the sandbox runs every
task for exactly that long here). Reports the median and spread of 20 runs each.

    python benchmarks/bench_webhooks.py [--runs 20] [--task-seconds 3] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import time
from typing import Any

import _common

from musicapi import AsyncMusicAPI
from musicapi.sandbox._server import serve_http
from musicapi.webhooks import RedisBus, WebhookReceiver

SECRET = "bench-webhook-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def one_run(client: AsyncMusicAPI, hook: str | None, task_seconds: float) -> float:
    fields: dict[str, Any] = {"gpt_description_prompt": "uplifting synthwave"}
    if hook is not None:
        fields |= {"webhook_url": hook, "webhook_secret": SECRET}
    ends = time.perf_counter() + task_seconds  # the create's answer takes a millisecond or so
    await client.sonic.generate(**fields, timeout=60)
    return time.perf_counter() - ends


async def measure(
    variant: str, base_url: str, runs: int, task_seconds: float, redis_url: str | None
) -> list[float]:
    bus = RedisBus(redis_url) if variant == "redis" and redis_url else None
    receiver = WebhookReceiver(SECRET, bus=bus)
    port = free_port()
    hook = f"http://127.0.0.1:{port}/hooks"
    webhooks: Any = None if variant == "polling" else (bus if bus is not None else receiver)
    late: list[float] = []
    try:
        async with serve_http(receiver, "127.0.0.1", port):
            async with AsyncMusicAPI(
                api_key=_common.API_KEY, base_url=base_url, webhooks=webhooks
            ) as client:
                target = None if variant == "polling" else hook
                late = [await one_run(client, target, task_seconds) for _ in range(runs)]
    finally:
        if bus is not None:
            bus.close()
    return late


def start_redis() -> tuple[subprocess.Popen[bytes], str] | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    proc.kill()
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--task-seconds", type=float, default=3.0)
    parser.add_argument("--quick", action="store_true", help="3 runs of 1 s tasks")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.task_seconds = 3, 1.0
    redis = start_redis()
    rows: list[list[str]] = []
    results: dict[str, Any] = {"runs": args.runs, "task_seconds": args.task_seconds}
    try:
        with _common.Sandbox("--task-seconds", str(args.task_seconds)) as sandbox:
            for variant in ("polling", "webhook", "redis"):
                if variant == "redis" and redis is None:
                    rows.append([variant, "skipped: no redis-server", "", ""])
                    continue
                late = asyncio.run(
                    measure(
                        variant,
                        sandbox.base_url,
                        args.runs,
                        args.task_seconds,
                        redis[1] if redis else None,
                    )
                )
                results[variant] = late
                rows.append(
                    [
                        variant,
                        f"{statistics.median(late) * 1000:.0f} ms",
                        f"{min(late) * 1000:.0f}–{max(late) * 1000:.0f} ms",
                        str(len(late)),
                    ]
                )
    finally:
        if redis is not None:
            redis[0].kill()
    print(
        _common.markdown_table(
            ["waiter", "median wake-up after the task ends", "spread", "runs"], rows
        )
    )
    _common.write_results("bench_webhooks", results)


if __name__ == "__main__":
    main()
